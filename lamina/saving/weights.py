"""Weights files: the model's state_dict as safetensors, written atomically.

A weights file holds tensors only (no code, no pickle). `.pt` / `.pth` state dicts load through
`torch.load(weights_only=True)`.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ._archive import atomic_write, is_writer
from ._safetensors import check_safetensors_file, to_bytes
from .keras_format import HDF5_SIGNATURE

__all__ = ["layer_names", "load_weights", "save_weights"]


def _check_built(model: Any, what: str) -> None:
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' is not built, so it has no weights to {what}. Call it on data "
            "or give it an input shape first."
        )


def layer_names(model: Any) -> dict[str, str]:
    """state_dict key -> "layer_name/tensor_name", to match weights by layer name."""
    from ..layers.layer import Layer

    names = {}
    for path, module in model.named_modules():
        if not isinstance(module, Layer):
            continue
        # The layer's own state_dict entries (its hooks may rename them: a GRU's bias is
        # saved as torch.nn.GRU's bias_ih_l0 and bias_hh_l0); sub-layers' keys have a dot.
        own = [name for name in module.state_dict(keep_vars=True) if "." not in name]
        for name in own:
            names[f"{path}.{name}" if path else name] = f"{module.name}/{name}"
    return names


def save_weights(model: Any, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
    """Write `model.state_dict()` to `filepath` (.safetensors), or to a `.weights.h5` file
    in Keras 3's HDF5 layout (which Keras' `load_weights` reads; needs h5py): a temp file
    renamed into place.

    Only rank 0 writes in a torch.distributed job. A .safetensors file's metadata maps each
    tensor to its layer's name, for `load_weights(..., by_name=True)`. Without h5py, or for a
    model whose layers Keras' layout cannot describe, a `.weights.h5` file holds the
    safetensors data instead (with a warning); `load_weights` reads both.
    """
    _check_built(model, "save")
    path = Path(filepath)
    if not is_weights_path(path):
        raise ValueError(
            f"save_weights writes .safetensors files or Keras' '.weights.h5' files; got "
            f"{str(path)!r}"
        )
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    if not is_writer():
        return
    if path.name.endswith(".weights.h5"):
        data = _keras_h5_or_none(model)
        if data is not None:
            atomic_write(path, lambda handle: handle.write(data))
            return
    metadata = {
        "format": "pt",
        "lamina_model": model.name,
        "lamina_layer_names": json.dumps(layer_names(model)),
    }
    data = to_bytes(model.state_dict(), metadata)
    atomic_write(path, lambda handle: handle.write(data))


def _keras_h5_or_none(model: Any) -> bytes | None:
    from .keras_format import keras_weights_bytes

    try:
        return keras_weights_bytes(model)
    except (ImportError, ValueError) as error:
        warnings.warn(
            f"{error}. Writing lamina's safetensors data under the '.weights.h5' name instead: "
            "lamina reads it, Keras does not.",
            stacklevel=3,
        )
        return None


def is_weights_path(path: str | os.PathLike[str]) -> bool:
    """Whether `save_weights` writes to `path`: `.safetensors`, or `.weights.h5`, the name
    Keras 3 requires, accepted so that Keras code runs unchanged (the file is in Keras 3's
    HDF5 layout; see `save_weights`).

    >>> is_weights_path("model.weights.h5"), is_weights_path("model.h5")
    (True, False)
    """
    name = os.fspath(path)
    return name.endswith(".safetensors") or name.endswith(".weights.h5")


def _is_hdf5(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE


def _read_state(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    if is_weights_path(path):
        from safetensors import safe_open
        from safetensors.torch import load_file

        check_safetensors_file(path)
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        names = json.loads(metadata.get("lamina_layer_names", "{}"))
        return load_file(str(path)), names
    if path.suffix in (".pt", ".pth"):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError...
            raise ValueError(
                f"Could not read {str(path)!r} as a PyTorch state dict with "
                f"torch.load(weights_only=True), which refuses code and unknown objects: {error}"
            ) from None
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise ValueError(f"{str(path)!r} does not hold a state dict (name -> tensor)")
        return state, {}
    raise ValueError(
        f"load_weights reads .safetensors (or lamina's .weights.h5), Keras .h5, .pt or .pth "
        "files; "
        f"got {str(path)!r}"
    )


def load_weights(
    model: Any,
    filepath: str | os.PathLike[str],
    skip_mismatch: bool = False,
    by_name: bool = False,
) -> None:
    """Load a `.safetensors` file, a `.pt` state dict or a Keras `.h5` weights file into
    `model` (Keras' files by the layers' positions, as Keras 3 does; see `keras_format`).

    Args:
        skip_mismatch: load what fits (same key and shape) and skip the rest.
        by_name: match tensors by layer name (`dense_1/weight`) instead of position, so
            weights move between models that share layer names but not structure (needs a
            file written by lamina's `save_weights`).
    """
    path = Path(filepath)
    if not (is_weights_path(path) or path.suffix in (".h5", ".pt", ".pth")):  # Keras: first
        raise ValueError(
            f"File format not supported: filepath={filepath}. load_weights reads .safetensors "
            "(or lamina's .weights.h5), Keras .h5, .pt or .pth files"
        )
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {str(path)!r}")
    if path.suffix == ".h5" and _is_hdf5(path):  # written by Keras (3, or 2 by layer name)
        _check_built(model, "load into")
        from .keras_format import load_keras_weights

        load_keras_weights(model, path, skip_mismatch=skip_mismatch)
        return
    state, file_names = _read_state(path)
    _check_built(model, "load into")
    if by_name:
        if not file_names:
            raise ValueError(
                f"{str(path)!r} has no layer names (it was not written by lamina's "
                "save_weights), so by_name=True cannot match it; load it by position."
            )
        by_layer = {file_names[k]: v for k, v in state.items() if k in file_names}
        own_names = layer_names(model)
        absent = sorted(set(own_names.values()) - set(by_layer))
        if absent and not skip_mismatch:
            raise ValueError(
                f"Weights file {str(path)!r} has no tensors for {', '.join(absent)} in model "
                f"'{model.name}'. Pass skip_mismatch=True to load only what matches."
            )
        # Tensors of layers the model does not have are ignored: that is what by_name is for.
        state = {key: by_layer[name] for key, name in own_names.items() if name in by_layer}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [
        f"{key}: file {tuple(state[key].shape)} vs model {tuple(own[key].shape)}"
        for key in sorted(set(own) & set(state))
        if tuple(state[key].shape) != tuple(own[key].shape)
    ]
    if skip_mismatch:
        state = {
            k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)
        }
        model.load_state_dict(state, strict=False)
        return
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f"missing in the file: {', '.join(missing)}")
        if unexpected:
            problems.append(f"not in the model: {', '.join(unexpected)}")
        if mismatched:
            problems.append(f"shape mismatch: {'; '.join(mismatched)}")
        raise ValueError(
            f"Weights file {str(path)!r} does not fit model '{model.name}': "
            + " | ".join(problems)
            + ". Pass skip_mismatch=True to load only what fits."
        )
    model.load_state_dict(state)
