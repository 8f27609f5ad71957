"""Reading Keras HDF5 weights files (`.h5`) into lamina models, layer by layer, by name.

Two layouts are understood:

- a Keras 2 full-model file (`model.save("m.h5")`): the weights are in the group
  `model_weights`, whose attribute `layer_names` lists the layers; each layer group has an
  attribute `weight_names` and the arrays at `model_weights/<layer>/<weight_name>`;
- a Keras 1/2 weights-only file (`model.save_weights("w.h5")`): the same, at the top level.

Only numeric arrays and the two name attributes are read: the model's JSON config, any
optimizer state and anything pickled are ignored, so a file can describe weights and nothing
else. Each layer's arrays go, in the file's order, to the lamina layer of the same name
through `set_weights`, which takes Keras' layout (a Conv2D kernel is (kh, kw, in, out)).

>>> import tempfile, h5py, numpy as np, lamina
>>> inputs = lamina.Input((3,))
>>> model = lamina.Model(inputs, lamina.layers.Dense(2, name="dense")(inputs))
>>> path = Path(tempfile.mkdtemp()) / "w.h5"
>>> with h5py.File(path, "w") as f:  # a Keras weights-only file, written by hand
...     f["dense/dense/kernel:0"] = np.ones((3, 2), "float32")
...     f["dense/dense/bias:0"] = np.zeros(2, "float32")
...     f.attrs["layer_names"] = [b"dense"]
...     f["dense"].attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
>>> load_keras_h5_weights(model, path)
>>> model.get_layer("dense").get_weights()[0].shape
(3, 2)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..saving.keras_format import HDF5_SIGNATURE, import_h5py

__all__ = ["load_keras_h5_weights", "read_keras_h5_weights"]


# The first 8 bytes of every HDF5 file (the format's signature at offset 0).
def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group: Any, attribute: str) -> list[str]:
    values = group.attrs.get(attribute)
    if values is None:
        return []
    return [_text(v) for v in np.asarray(values).reshape(-1) if not isinstance(v, float)]


def read_keras_h5_weights(path: str | os.PathLike[str]) -> dict[str, list[np.ndarray]]:
    """The weights of a Keras `.h5` file: {layer name: arrays in the file's order}.

    Layers without weights are left out. Arrays are NumPy, in Keras' layout, as stored.

    Raises:
        ImportError: h5py is not installed.
        ValueError: the file is not HDF5, or not a Keras weights file, or holds a
            non-numeric array (only plain weights are accepted).
    """
    h5py = import_h5py()
    path = Path(path)
    with path.open("rb") as handle:
        if handle.read(len(HDF5_SIGNATURE)) != HDF5_SIGNATURE:
            raise ValueError(
                f"{path} is not an HDF5 file (Keras .h5 weights were expected); "
                "for lamina's own files use model.load_weights"
            )
    weights: dict[str, list[np.ndarray]] = {}
    with h5py.File(path, "r") as file:
        root = file.get("model_weights", file)
        if "layer_names" not in root.attrs:
            raise ValueError(
                f"{path} is an HDF5 file but not a Keras weights file: it has no "
                "'layer_names' attribute (neither at the top level nor in 'model_weights')"
            )
        for layer_name in _names(root, "layer_names"):
            if layer_name not in root:
                raise ValueError(f"{path} lists layer {layer_name!r} but has no group for it")
            group = root[layer_name]
            arrays = []
            for weight_name in _names(group, "weight_names"):
                dataset = group.get(weight_name)
                if not isinstance(dataset, h5py.Dataset):
                    raise ValueError(
                        f"{path}: layer {layer_name!r} lists weight {weight_name!r}, "
                        "which is not an array in the file"
                    )
                if dataset.dtype.kind not in "fiub":
                    raise ValueError(
                        f"{path}: weight {layer_name}/{weight_name} has dtype "
                        f"{dataset.dtype}; only numeric arrays are read from weights files"
                    )
                arrays.append(np.asarray(dataset[()]))
            if arrays:
                weights[layer_name] = arrays
    return weights


def load_keras_h5_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Load a Keras `.h5` weights file into `model`, layer by layer, matching names.

    Every layer of `model` that has weights must appear in the file with the same number
    and shapes of arrays; layers of the file that the model lacks (a classifier head when
    `include_top=False`) are ignored.

    Raises:
        ValueError: a layer of the model is missing from the file, or its arrays have other
            counts or shapes (the message names the layer and both shapes).
    """
    stored = read_keras_h5_weights(path)
    for layer in model.layers:
        current = layer.get_weights()
        if not current:
            continue
        arrays = stored.get(layer.name)
        if arrays is None:
            raise ValueError(
                f"Layer '{layer.name}' ({type(layer).__name__}) of model '{model.name}' has "
                f"weights but {path} has no layer of that name; the file's layers with "
                f"weights are: {', '.join(stored) or 'none'}"
            )
        expected = [tuple(w.shape) for w in current]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise ValueError(
                f"Layer '{layer.name}' ({type(layer).__name__}) of model '{model.name}' has "
                f"weights of shapes {expected} (Keras layout), but {path} holds {got} for it; "
                "the file is for another architecture (alpha, classes, input channels?)"
            )
        pairs = zip(arrays, current, strict=True)
        layer.set_weights([a.astype(w.dtype, copy=False) for a, w in pairs])
