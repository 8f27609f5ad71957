"""Whole-model files: `model.save('model.lamina')` and `lamina.models.load_model(path)`.

A model file is one zip archive of data, never code:

- `config.json`: the architecture (every layer's config and the graph), the input shape the
  model was built for, and the compile settings (optimizer, losses, metrics);
- `model.safetensors`: the weights, in PyTorch's layout under the `state_dict` keys;
- `optimizer.json` + `optimizer.safetensors`: the optimizer's step count, scalars and slots,
  so that training continues where it stopped;
- `metadata.json`: the format version, lamina and torch versions, the save time, and each
  member's size and SHA-256, checked on load.

>>> import tempfile, os, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> model.compile(optimizer="adam", loss="mse")
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.lamina")
>>> model.save(path)
>>> restored = lamina.models.load_model(path)
>>> restored.count_params(), type(restored.optimizer).__name__
(8, 'Adam')
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from ._archive import is_writer, read_archive, write_archive
from ._safetensors import from_bytes, to_bytes
from .registry import CustomObjectScope, SafeModeScope, UnknownObjectError, get_registered_object

__all__ = ["load_model", "save_model"]

FORMAT = "lamina.model"
FORMAT_VERSION = 1
SUFFIXES = (".lamina", ".keras")
MEMBERS = (
    "metadata.json",
    "config.json",
    "model.safetensors",
    "optimizer.json",
    "optimizer.safetensors",
)
REQUIRED = ("metadata.json", "config.json", "model.safetensors")
_CONFIG_KEYS = {
    "module",
    "class_name",
    "registered_name",
    "config",
    "build_config",
    "compile_config",
}
_METADATA_KEYS = {
    "format",
    "format_version",
    "lamina_version",
    "torch_version",
    "saved_at",
    "files",
}


def _check_suffix(path: Path, verb: str) -> None:
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"{verb} whole models as '.lamina' files (or '.keras', the same format, so Keras "
            f"code runs unchanged); got {str(path)!r}. For weights only, use save_weights "
            "with a '.safetensors' file."
        )


# ---------------------------------------------------------------------- compile settings


def _encode(value: Any, what: str) -> Any:
    """Compile arguments as JSON: names stay names, objects become {class_name, config}."""
    from .. import losses, metrics
    from .registry import get_registered_name

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, what) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, what) for k, v in value.items()}
    if isinstance(value, losses.Loss):
        return {"__loss__": losses.serialize(value)}
    if isinstance(value, metrics.Metric):
        return {"__metric__": metrics.serialize(value)}
    if callable(value) and hasattr(value, "__name__"):
        return {"__function__": get_registered_name(value)}
    raise TypeError(
        f"Cannot save the model's compile setting {what}={value!r}: use names, lamina's losses "
        "and metrics, or classes and functions registered with register_serializable"
    )


def _decode(value: Any) -> Any:
    from .. import losses, metrics

    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__loss__" in value:
        return losses.deserialize(value["__loss__"])
    if "__metric__" in value:
        return metrics.deserialize(value["__metric__"])
    if "__function__" in value:
        name = value["__function__"]
        function = get_registered_object(name)
        if function is None:
            function = losses._FUNCTIONS.get(name) or metrics._FUNCTIONS.get(name)
        if not callable(function):
            raise UnknownObjectError(
                f"The model was compiled with the function {name!r}, which is neither lamina's "
                "nor registered; pass it in custom_objects or register it"
            )
        return function
    return {k: _decode(v) for k, v in value.items()}


def _compile_config(model: Any) -> dict[str, Any] | None:
    from .. import optimizers

    state = getattr(model, "_compile_state", None)
    if state is None:
        return None
    optimizer = optimizers.serialize(state.optimizer)
    if type(state.optimizer).__name__.lower() not in optimizers._BY_NAME:
        from .registry import get_registered_name

        optimizer["registered_name"] = get_registered_name(state.optimizer)
    arguments = dict(state.compile_arguments)
    if not arguments.get("cuda_graphs"):  # 'auto' is eager: Keras writes False
        arguments["jit_compile"] = arguments["jit_compile"] is True
    return {"optimizer": optimizer, **{k: _encode(v, k) for k, v in arguments.items()}}


# ---------------------------------------------------------------------- optimizer state


def optimizer_state(optimizer: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The optimizer's state as JSON and tensors (`state.<parameter index>.<slot>`)."""
    state = optimizer.state_dict()
    tensors = {
        f"state.{index}.{slot}": value
        for index, slots in state["state"].items()
        for slot, value in slots.items()
    }
    info = {
        "iterations": int(state["iterations"]),
        "learning_rate": state["learning_rate"],
        "scalars": {k: float(v) for k, v in state["scalars"].items()},
        "parameters": len(state["state"]),
    }
    return info, tensors


def restore_optimizer(
    optimizer: Any, info: dict[str, Any], tensors: dict[str, torch.Tensor], source: str
) -> None:
    """Inverse of `optimizer_state` (before `build`, the state waits for it)."""
    count = info.get("parameters")
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"{source}: optimizer.json has no valid parameter count")
    state: dict[int, dict[str, torch.Tensor]] = {i: {} for i in range(count)}
    for key, value in tensors.items():
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
            raise ValueError(f"{source}: unexpected optimizer tensor {key!r}")
        index = int(parts[1])
        if index >= count:
            raise ValueError(f"{source}: optimizer tensor {key!r} names a missing parameter")
        state[index][parts[2]] = value
    optimizer.load_state_dict(
        {
            "iterations": int(info.get("iterations", 0)),
            "learning_rate": info.get("learning_rate"),
            "scalars": dict(info.get("scalars", {})),
            "state": state,
        }
    )


# ---------------------------------------------------------------------- save


def _json(value: Any) -> bytes:
    # Insertion order, not sorted keys: a loss dict's order is evaluate()'s order (Keras).
    return json.dumps(value, indent=1, allow_nan=True).encode()


def model_config(model: Any) -> dict[str, Any]:
    """The JSON that `config.json` holds (architecture, build shape, compile settings)."""
    from ..models.sequential import _serialize_layer

    entry = _serialize_layer(model)
    build_config = model.get_build_config() or {}  # Keras': {'input_shape': None} if functional
    entry["build_config"] = {"input_shape": _shape_to_json(build_config.get("input_shape"))}
    entry["compile_config"] = _compile_config(model) or {}  # as Keras writes an uncompiled one
    return entry


def save_model(
    model: Any,
    filepath: str | os.PathLike[str],
    overwrite: bool = True,
    include_optimizer: bool = True,
) -> None:
    """Write `model` (architecture, weights, compile settings, optimizer state) to one file.

    The file is written to a temporary name and renamed into place, so an interrupted save
    leaves the previous file intact; in a torch.distributed job only rank 0 writes.
    """
    import lamina

    path = Path(filepath)
    _check_suffix(path, "save_model writes")
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' is not built, so it has no weights to save. Call it on data "
            "or give it an input shape (lamina.Input) first."
        )
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    members = {
        "config.json": _json(model_config(model)),
        "model.safetensors": to_bytes(model.state_dict(), {"format": "pt"}),
    }
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and optimizer.built:
        info, tensors = optimizer_state(optimizer)
        members["optimizer.json"] = _json(info)
        members["optimizer.safetensors"] = to_bytes(tensors, {"format": "pt"})
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lamina_version": lamina.__version__,
        "torch_version": torch.__version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in members.items()
        },
    }
    members = {"metadata.json": _json(metadata), **members}
    if is_writer():
        write_archive(path, members, compress=("metadata.json", "config.json", "optimizer.json"))


# ---------------------------------------------------------------------- load


def _shape_to_json(shape: Any) -> Any:
    if isinstance(shape, torch.Size):
        return list(shape)
    if isinstance(shape, (list, tuple)):
        return [_shape_to_json(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _shape_to_json(v) for k, v in shape.items()}
    return shape


def _shape_from_json(shape: Any) -> Any:
    if isinstance(shape, list) and all(s is None or isinstance(s, int) for s in shape):
        return tuple(shape)
    if isinstance(shape, list):
        return [_shape_from_json(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _shape_from_json(v) for k, v in shape.items()}
    return shape


def _load_json(data: bytes, name: str, source: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source}: {name} is not valid JSON ({error})") from None


def _refuse_safe_mode_keys(value: Any, source: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("safe_mode", "unsafe_deserialization"):
                raise ValueError(
                    f"{source}: its config sets {key!r}; a file cannot change safe mode (only "
                    "the caller of load_model can). Refusing it."
                )
            _refuse_safe_mode_keys(item, source)
    elif isinstance(value, list):
        for item in value:
            _refuse_safe_mode_keys(item, source)


def _check_metadata(metadata: Any, members: dict[str, bytes], source: str) -> None:
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{source} is not a lamina model file (metadata format is not {FORMAT})")
    unknown = sorted(set(metadata) - _METADATA_KEYS)
    if unknown:
        raise ValueError(f"{source}: metadata.json has unexpected keys {unknown}")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{source} has format version {metadata.get('format_version')!r}; this lamina reads "
            f"version {FORMAT_VERSION}"
        )
    files = metadata.get("files")
    if not isinstance(files, dict) or set(files) != set(members) - {"metadata.json"}:
        raise ValueError(f"{source}: metadata.json does not list exactly the archive's members")
    for name, expected in files.items():
        data = members[name]
        if not isinstance(expected, dict) or expected.get("size") != len(data):
            raise ValueError(f"{source}: {name} has {len(data)} bytes, metadata says otherwise")
        if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
            raise ValueError(
                f"{source}: {name} does not match its SHA-256 in metadata.json; the file is "
                "corrupted or was modified"
            )


def load_model(
    filepath: str | os.PathLike[str],
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Rebuild a model saved by `model.save(path)`: architecture, weights, and (with
    `compile=True`) the compile settings and optimizer state, so `fit` continues. A `.keras`
    file written by Keras 3 loads too: architecture, weights and compile settings (the
    optimizer starts afresh; see `lamina.saving.keras_format`).

    Args:
        custom_objects: name -> class or function, for custom layers, losses, metrics and
            `Lambda` functions that are not registered with `register_serializable`.
        compile: also restore the compile settings and optimizer state.
        safe_mode: refuse `Lambda` layers (code). Only the caller can turn it off.
    """
    if not isinstance(safe_mode, bool):
        raise TypeError(f"safe_mode must be True or False; got {safe_mode!r}")
    path = Path(filepath)
    _check_suffix(path, "load_model reads")
    source = f"lamina model file {str(path)!r}"
    members = read_archive(path, (*MEMBERS, "model.weights.h5"), REQUIRED[:2], "lamina model file")
    if "model.weights.h5" in members:  # written by Keras 3
        from .keras_format import load_keras_archive

        with CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
            return load_keras_archive(members, f"Keras model file {str(path)!r}", compile)
    if "model.safetensors" not in members:
        raise ValueError(f"{source} has no model.safetensors")
    metadata = _load_json(members["metadata.json"], "metadata.json", source)
    _check_metadata(metadata, members, source)
    config = _load_json(members["config.json"], "config.json", source)
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{source}: config.json does not describe a model")
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise ValueError(f"{source}: config.json has unexpected keys {unknown}; refusing it")
    _refuse_safe_mode_keys(config, source)
    if ("optimizer.json" in members) != ("optimizer.safetensors" in members):
        raise ValueError(f"{source}: optimizer.json and optimizer.safetensors come in pairs")
    weights = from_bytes(members["model.safetensors"], f"{source}, model.safetensors")

    from ..models.sequential import _deserialize_layer

    with CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
        model = _deserialize_layer(config)
        if not model.built:
            shape = _shape_from_json((config.get("build_config") or {}).get("input_shape"))
            if shape is None:
                raise ValueError(f"{source}: the model has no input shape to build it with")
            model.build(shape)
        _load_state(model, weights, source)
        compile_config = config.get("compile_config")
        if compile and compile_config:
            _compile(model, compile_config)
            if "optimizer.json" in members:
                info = _load_json(members["optimizer.json"], "optimizer.json", source)
                tensors = from_bytes(
                    members["optimizer.safetensors"], f"{source}, optimizer.safetensors"
                )
                restore_optimizer(model.optimizer, info, tensors, source)
                # Built at load, as Keras: optimizer.variables is complete at once (the
                # parameter list the trainer builds it with).
                model.optimizer.build([p for p in model.parameters() if p.requires_grad])
    return model


def _load_state(model: Any, weights: dict[str, torch.Tensor], source: str) -> None:
    own = model.state_dict()
    if set(own) != set(weights):
        missing = sorted(set(own) - set(weights))
        extra = sorted(set(weights) - set(own))
        raise ValueError(
            f"{source}: the weights do not match the architecture (missing: {missing[:5]}, "
            f"unexpected: {extra[:5]})"
        )
    for key, value in weights.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(
                f"{source}: weight {key!r} has shape {tuple(value.shape)}, the model expects "
                f"{tuple(own[key].shape)}"
            )
    model.load_state_dict(weights)


def _compile(model: Any, compile_config: dict[str, Any]) -> None:
    from .. import optimizers

    arguments = {k: _decode(v) for k, v in compile_config.items() if k != "optimizer"}
    model.compile(optimizer=optimizers.deserialize(compile_config["optimizer"]), **arguments)
