"""Reading what Keras 3 writes: `.weights.h5` weights files and `.keras` model archives.

Keras 3 stores a model's weights in HDF5 by the path of each layer in the model's object
tree, not by layer name: `layers/<slot>/vars/<i>`, where `<slot>` is the layer's class name
in snake case, numbered in the order of `model.layers` when the class repeats (`dense`,
`dense_1`, ...: the names a user gave the layers play no part), and a layer's sub-layers
are groups of their own (`lstm/cell/vars`, `multi_head_attention/query_dense/vars`,
`sequential/layers/dense/vars` for a nested model). A subclassed model or layer is stored
by its attributes' names (`enc/d1/vars`, `blocks/dense_1/vars`, its own weights in `vars`):
`_keras_walk` follows Keras' walk, the same for writing and reading. lamina lists a
functional model's layers in Keras' order, so the slots line up; each built-in layer's
arrays, in Keras' layout, go to its `set_weights`, which converts them to PyTorch's layout.
Every array's shape is checked before anything is assigned.

A `.keras` archive holds `config.json` (the architecture, Keras' JSON), `metadata.json` and
`model.weights.h5`. Only numeric arrays are read from the HDF5 file and only JSON from the
rest: nothing is unpickled or imported by a name found in a file. The optimizer's state in
the archive is not read (`fit` after loading starts with fresh optimizer moments).

>>> import tempfile, h5py, numpy as np, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="out")])
>>> path = tempfile.mkdtemp() + "/model.weights.h5"
>>> with h5py.File(path, "w") as f:  # Keras 3's layout, written by hand
...     f["layers/dense/vars/0"] = np.ones((3, 2), "float32")  # the kernel, (in, out)
...     f["layers/dense/vars/1"] = np.full(2, 0.5, "float32")
>>> load_keras_weights(model, path)
>>> model.predict(np.ones((1, 3), "float32"), verbose=0).tolist()
[[3.5, 3.5]]
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._keras_walk import keras_entries, own_arrays, own_weights, slot_names

__all__ = [
    "import_h5py",
    "is_keras_v3_weights",
    "keras_weights_bytes",
    "load_keras_weights",
    "slot_names",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Sub-layer groups in the order of the layer's Keras weights (get_weights()); other layers'
# groups are taken in name order.
_CHILD_ORDER = {
    "MultiHeadAttention": ("query_dense", "key_dense", "value_dense", "output_dense"),
    "Bidirectional": ("forward_layer", "backward_layer"),
}


def import_h5py() -> Any:
    """h5py, or an ImportError that says how to install it (an optional dependency)."""
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            "Reading Keras .h5 files needs h5py: `pip install h5py` (or `pip install lamina[h5]`)"
        ) from error
    return h5py


def _arrays(group: Any, h5py: Any, where: str) -> list[np.ndarray]:
    """A group's numeric arrays `<i>`, in index order."""
    arrays = []
    for index in range(len(group)):
        dataset = group.get(str(index))
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError(f"{where}: expected arrays named 0..{len(group) - 1}")
        if dataset.dtype.kind not in "fiub":
            raise ValueError(
                f"{where}/{index} has dtype {dataset.dtype}; only numeric arrays are read"
            )
        arrays.append(np.asarray(dataset[()]))
    return arrays


def _collect(group: Any, class_name: str, h5py: Any, where: str) -> list[np.ndarray]:
    """A layer group's arrays in Keras' weights order: its own, then its sub-layers'."""
    arrays = _arrays(group["vars"], h5py, f"{where}/vars") if "vars" in group else []
    children = [name for name in group if name != "vars" and isinstance(group[name], h5py.Group)]
    order = _CHILD_ORDER.get(class_name, ())
    children.sort(key=lambda name: (order.index(name) if name in order else len(order), name))
    for name in children:
        arrays += _collect(group[name], "", h5py, f"{where}/{name}")
    return arrays


def _cast(arrays: list[np.ndarray], current: list[np.ndarray]) -> list[np.ndarray]:
    return [a.astype(w.dtype, copy=False) for a, w in zip(arrays, current, strict=True)]


def _fits(
    layer: Any,
    expected: list[tuple[int, ...]],
    arrays: list[np.ndarray],
    where: str,
    skip: bool,
    what: str,
) -> bool:
    """Whether the file's arrays have the layer's shapes; if not, False under skip_mismatch,
    else an error naming the layer, both shapes and the file's path."""
    got = [tuple(a.shape) for a in arrays]
    if expected == got:
        return True
    if skip:
        return False
    found = f"the file holds {got} at '{where}'" if got else f"the file has nothing at '{where}'"
    raise ValueError(
        f"Layer '{layer.name}' ({type(layer).__name__}) has {what} of shapes {expected} "
        f"(Keras layout), but {found}: the file is for another architecture, or its layers "
        "come in another order or under other attribute names (Keras 3 stores a subclassed "
        "model's layers under the names of the attributes that hold them). Pass "
        "skip_mismatch=True to load only what fits."
    )


def _plan(model: Any, file: Any, h5py: Any, skip: bool) -> list[tuple[Any, list[np.ndarray], bool]]:
    """(layer, arrays, own only) for every object of Keras' walk of `model` whose arrays fit;
    checks everything before anything is assigned."""
    plan = []
    for entry in keras_entries(model):
        layer, where = entry.layer, "/" + entry.path
        group = file.get(entry.path) if entry.path else file
        if not isinstance(group, h5py.Group):
            group = None
        if entry.kind == "leaf":
            current = layer.get_weights()
            arrays = [] if group is None else _collect(group, type(layer).__name__, h5py, where)
            expected = [tuple(w.shape) for w in current]
            if _fits(layer, expected, arrays, where, skip, "weights"):
                plan.append((layer, _cast(arrays, current), False))
            continue
        weights = own_weights(layer)
        vars_where = f"{where.rstrip('/')}/vars"
        arrays = (
            _arrays(group["vars"], h5py, vars_where)
            if group is not None and "vars" in group
            else []
        )
        expected = [info.keras_shape(tuple(t.shape)) for t, info in weights]
        if _fits(layer, expected, arrays, vars_where, skip, "own weights"):
            plan.append((layer, arrays, True))
    return plan


def _assign(plan: list[tuple[Any, list[np.ndarray], bool]]) -> None:
    for layer, arrays, own in plan:
        if not arrays:
            continue
        if not own:
            layer.set_weights(arrays)
            continue
        with torch.no_grad():
            for (tensor, info), array in zip(own_weights(layer), arrays, strict=True):
                value = info.from_keras(torch.as_tensor(np.asarray(array)))
                tensor.copy_(value.to(dtype=tensor.dtype, device=tensor.device))


def _assign_slots(model: Any, group: Any, h5py: Any, where: str, skip: bool) -> None:
    """Files lamina wrote before it followed Keras' walk: every model's layers under
    `layers/<slot>`, subclassed models' too."""
    from ..models.model import Model

    layers_group = group.get("layers")
    for layer, slot in zip(model.layers, slot_names(model.layers), strict=True):
        sub = None if layers_group is None else layers_group.get(slot)
        path = f"{where}/layers/{slot}"
        if isinstance(layer, Model):
            if sub is None and layer.get_weights() and not skip:
                raise ValueError(f"{where}: no group '{path}' for nested model '{layer.name}'")
            if sub is not None:
                _assign_slots(layer, sub, h5py, path, skip)
            continue
        current = layer.get_weights()
        arrays = [] if sub is None else _collect(sub, type(layer).__name__, h5py, path)
        if (
            _fits(layer, [tuple(w.shape) for w in current], arrays, path, skip, "weights")
            and current
        ):
            layer.set_weights(_cast(arrays, current))


def _assign_model(model: Any, file: Any, h5py: Any, skip: bool) -> None:
    """Assign a Keras 3 file's arrays to `model` by Keras' walk (`_keras_walk`)."""
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    try:
        plan = _plan(model, file, h5py, skip)
    except ValueError as error:
        # A subclassed model's file from an earlier lamina: layers under `layers/<slot>`.
        if isinstance(model, (Sequential, Functional)) or not set(file) <= {"layers", "vars"}:
            raise
        try:
            _assign_slots(model, file, h5py, "", skip)
        except ValueError:
            raise error from None
        return
    _assign(plan)


def is_keras_v3_weights(file: Any) -> bool:
    """Whether an open h5py File is in Keras 3's layout (groups `layers` / `vars`)."""
    return "layers" in file or "vars" in file


def load_keras_weights(
    model: Any, source: str | os.PathLike[str] | bytes, skip_mismatch: bool = False
) -> None:
    """Load a Keras `.weights.h5` file (or its bytes, from a `.keras` archive) into `model`.

    Keras 3 files are matched by the layers' positions, as Keras does; Keras 2 files
    (`layer_names` attributes) by layer name.

    Args:
        skip_mismatch: leave the layers whose arrays do not fit as they are.

    Raises:
        ValueError: the file is not a Keras weights file, or a layer's arrays have other
            counts or shapes (the message names the layer, both shapes and the file's path).
    """
    h5py = import_h5py()
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    name = "the archive's model.weights.h5" if isinstance(source, bytes) else str(source)
    if not data.startswith(HDF5_SIGNATURE):
        raise ValueError(f"{name} is not an HDF5 file")
    try:
        file = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise ValueError(f"{name} is not a readable HDF5 file ({error})") from None
    with file:
        if is_keras_v3_weights(file):
            _assign_model(model, file, h5py, skip_mismatch)
            return
    if isinstance(source, bytes):
        raise ValueError(f"{name} is not in Keras 3's layout (no 'layers' group)")
    from ..applications._keras_h5 import load_keras_h5_weights

    load_keras_h5_weights(model, source)


# ---------------------------------------------------------------------- writing

_RECURRENT = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN")
# The names Keras gives the sub-layers lamina has no object for (its `vars` groups' `name`).
_CHILD_NAMES = {
    "SimpleRNN": "simple_rnn_cell",
    "LSTM": "lstm_cell",
    "GRU": "gru_cell",
    "ConvLSTM1D": "conv_lstm_cell",
    "ConvLSTM2D": "conv_lstm_cell",
    "ConvLSTM3D": "conv_lstm_cell",
    "query_dense": "query",
    "key_dense": "key",
    "value_dense": "value",
    "output_dense": "attention_output",
}


def _holds_torch_state(layer: Any) -> bool:
    """Whether `layer` has parameters or buffers of plain torch modules (a wrapped
    torch.nn.BatchNorm's running statistics are no Keras weights)."""
    from ..layers._weights import WeightsMixin

    plain = [child for child in layer.children() if not isinstance(child, WeightsMixin)]
    return bool(layer._plain_parameters()) or any(
        next(iter(child.state_dict()), None) is not None for child in plain
    )


def _children(layer: Any) -> list[tuple[str, Any, int]] | None:
    """How Keras splits a layer's weights into sub-layer groups: (group, sub-layer or None,
    number of arrays), or None when they are all the layer's own."""
    name = type(layer).__name__
    count = len(layer.get_weights())
    if name in _RECURRENT:
        return [("cell", None, count)]
    if name == "Bidirectional":
        forward, backward = layer.forward_layer, layer.backward_layer
        return [
            ("forward_layer", forward, len(forward.get_weights())),
            ("backward_layer", backward, len(backward.get_weights())),
        ]
    if name == "TimeDistributed":
        return [("layer", layer.layer, count)]
    if name == "MultiHeadAttention":
        per_dense = 2 if layer.use_bias else 1
        return [(child, None, per_dense) for child in _CHILD_ORDER[name]]
    if layer._sublayers() or _holds_torch_state(layer):
        raise ValueError(
            f"Layer '{layer.name}' ({name}) holds other layers or torch modules in a way lamina "
            "cannot write in Keras' weights format; save it as a '.lamina' file or with "
            "save_weights to '.safetensors'"
        )
    return None


def _write_layer(layer: Any, arrays: list[np.ndarray], group: Any) -> None:
    children = _children(layer)
    own = group.create_group("vars")
    if children is None:
        for index, array in enumerate(arrays):
            own.create_dataset(str(index), data=array)
        return
    start = 0
    for child_name, child, count in children:
        sub = group.create_group(child_name)
        part = arrays[start : start + count]
        start += count
        if child is not None:
            _write_layer(child, part, sub)
            sub["vars"].attrs["name"] = child.name
        else:
            child_vars = sub.create_group("vars")
            name = _CHILD_NAMES.get(child_name, _CHILD_NAMES.get(type(layer).__name__))
            if name is not None:
                child_vars.attrs["name"] = name
            for index, array in enumerate(part):
                child_vars.create_dataset(str(index), data=array)


def _write_model(model: Any, file: Any) -> None:
    """Write every object of Keras' walk of `model` (`_keras_walk`) to its group, with the
    object's name as the `vars` group's `name` attribute, as Keras does."""
    for entry in keras_entries(model):
        group = file.require_group(entry.path) if entry.path else file
        if entry.kind == "leaf":
            _write_layer(entry.layer, entry.layer.get_weights(), group)
        else:
            own = group.create_group("vars")
            for index, array in enumerate(own_arrays(entry.layer)):
                own.create_dataset(str(index), data=array)
        group["vars"].attrs["name"] = entry.layer.name


def keras_weights_bytes(model: Any) -> bytes:
    """`model`'s weights as a Keras 3 `.weights.h5` file (bytes): Keras' group of each
    layer, arrays in Keras' layout, so `keras_model.load_weights` reads them."""
    h5py = import_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        _write_model(model, file)
    return buffer.getvalue()


# ---------------------------------------------------------------------- .keras archives

KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
_KERAS_METADATA_KEYS = {"keras_version", "date_saved"}
_COMPILE_KEYS = ("loss", "loss_weights", "metrics", "weighted_metrics", "jit_compile")


def _compile_setting(value: Any, kind: str) -> Any:
    """A loss or metric setting of Keras' compile_config: names stay names; serialized
    objects become lamina's (`{"class_name": "function", "config": name}` is a name)."""
    from .. import losses, metrics

    if isinstance(value, list):
        return [_compile_setting(v, kind) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value and "config" in value:
        if value["class_name"] == "function":
            return value["config"]
        module = losses if kind == "loss" else metrics
        return module.deserialize({"class_name": value["class_name"], "config": value["config"]})
    return {key: _compile_setting(item, kind) for key, item in value.items()}


def _compile_from_keras(model: Any, config: dict[str, Any]) -> None:
    from .. import optimizers
    from ..models.model import Model

    if type(model).compile is not Model.compile:
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom (as in Keras).",
            stacklevel=3,
        )
        return

    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        optimizer = optimizers.deserialize(
            {"class_name": optimizer["class_name"], "config": optimizer.get("config", {})}
        )
    arguments = {key: config[key] for key in _COMPILE_KEYS if config.get(key) is not None}
    for key in ("loss", "metrics", "weighted_metrics"):
        if key in arguments:
            arguments[key] = _compile_setting(arguments[key], "loss" if key == "loss" else "metric")
    jit = arguments.get("jit_compile")
    if jit not in (True, False, "auto"):
        arguments.pop("jit_compile", None)
    model.compile(optimizer=optimizer or "rmsprop", **arguments)


def load_keras_archive(members: dict[str, bytes], source: str, compile: bool = True) -> Any:
    """The model of a `.keras` archive written by Keras 3 (its members, already read and
    checked by name): the architecture from config.json, the weights from
    model.weights.h5, and with `compile=True` the compile settings (not the optimizer's
    state). Call it under the caller's custom-object and safe-mode scopes."""
    from ..models.sequential import _deserialize_layer
    from .model_file import _load_json, _refuse_safe_mode_keys, _shape_from_json

    missing = [name for name in KERAS_MEMBERS if name not in members]
    if missing:
        raise ValueError(f"{source} is a Keras archive without {', '.join(missing)}")
    metadata = _load_json(members["metadata.json"], "metadata.json", source)
    if not isinstance(metadata, dict) or not set(metadata) <= _KERAS_METADATA_KEYS:
        raise ValueError(f"{source}: metadata.json is not a Keras archive's")
    config = _load_json(members["config.json"], "config.json", source)
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{source}: config.json does not describe a model")
    _refuse_safe_mode_keys(config, source)
    model = _deserialize_layer(config)
    if not model.built:
        shape = _shape_from_json((config.get("build_config") or {}).get("input_shape"))
        if shape is None:
            raise ValueError(f"{source}: the model has no input shape to build it with")
        model.build(shape)
    load_keras_weights(model, members["model.weights.h5"])
    if compile and config.get("compile_config"):  # Keras writes {} for an uncompiled model
        _compile_from_keras(model, config["compile_config"])
    return model
