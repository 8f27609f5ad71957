"""Loading PyTorch checkpoints into zoo models: read a file safely, rename its keys to the
model's layer names, check every shape, and say exactly what did not match.

>>> import torch
>>> renamed = rename_keys({"module.a.weight": torch.zeros(1)}, lambda key: key.upper(), "module.")
>>> list(renamed)
['A.WEIGHT']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

__all__ = [
    "load_into",
    "load_state_dict_file",
    "preprocess_with_mean_std",
    "rename_keys",
    "validate_classifier",
]


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors of a PyTorch weights file, read with `weights_only=True` (no code runs).

    A checkpoint that wraps its weights (`{"state_dict": {...}, "best_prec1": ...}`) is unwrapped.
    """
    loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(loaded, Mapping) and isinstance(loaded.get(wrapper), Mapping):
            loaded = loaded[wrapper]
            break
    if not isinstance(loaded, Mapping):
        raise ValueError(
            f"The weights file {os.fspath(path)!r} holds a {type(loaded).__name__}, not a "
            "state_dict (a mapping of names to tensors)"
        )
    return {str(key): value for key, value in loaded.items() if isinstance(value, torch.Tensor)}


def rename_keys(
    state: Mapping[str, torch.Tensor],
    rename: Callable[[str], str | None],
    strip_prefix: str = "",
) -> dict[str, torch.Tensor]:
    """`state` with `strip_prefix` removed and each key passed through `rename` (None drops it)."""
    renamed: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if strip_prefix and key.startswith(strip_prefix):
            key = key[len(strip_prefix) :]
        new_key = rename(key)
        if new_key is not None:
            renamed[new_key] = value
    return renamed


def load_into(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str, allow_missing: bool
) -> None:
    """Copy `state` (already in the model's key names) into `model`, checking names and shapes.

    Args:
        model: the zoo model.
        state: tensors keyed by the model's `state_dict()` names.
        source: the file, for messages.
        allow_missing: accept model entries the file lacks (a new classifier head).
    """
    own = model.state_dict()
    # Checkpoints older than torch 0.4.1 have no BatchNorm step counters; inference ignores them.
    state = {**{k: v for k, v in own.items() if k.endswith("num_batches_tracked")}, **state}
    unexpected = sorted(set(state) - set(own))
    missing = sorted(set(own) - set(state))
    wrong = [
        f"{key}: file {tuple(value.shape)}, model {tuple(own[key].shape)}"
        for key, value in state.items()
        if key in own and tuple(value.shape) != tuple(own[key].shape)
    ]
    if unexpected or wrong or (missing and not allow_missing):
        problems = []
        if unexpected:
            problems.append(f"entries the model lacks: {unexpected[:8]}")
        if missing and not allow_missing:
            problems.append(f"model entries the file lacks: {missing[:8]}")
        if wrong:
            problems.append(f"shapes that differ: {wrong[:8]}")
        raise ValueError(
            f"The weights in {source} do not fit model '{getattr(model, 'name', '?')}': "
            + "; ".join(problems)
            + ". Build the model with the architecture arguments the file was trained with."
        )
    model.load_state_dict(dict(state), strict=not allow_missing)


def validate_classifier(
    family: str,
    weights: Any,
    tag: str,
    include_top: bool,
    classes: int,
    file_classes: int,
) -> None:
    """Keras' checks of `weights` against `include_top`/`classes`, with fixes in the message."""
    if weights is None or isinstance(weights, (str, os.PathLike)):
        if weights == tag and include_top and classes != file_classes:
            raise ValueError(
                f"{family}: weights={tag!r} with include_top=True has {file_classes} classes; "
                f"got classes={classes}. Use include_top=False and add your own head, or "
                "weights=None."
            )
        return
    raise TypeError(f"{family}: weights must be None, {tag!r} or a file path; got {weights!r}")


def preprocess_with_mean_std(
    x: Any, scale: float, mean: tuple[float, ...], std: tuple[float, ...]
) -> Any:
    """(x / scale - mean) / std on channels_last images; NumPy in, float32 NumPy out, torch in,
    torch out."""
    if isinstance(x, torch.Tensor):
        x = x.float()
        mean_t = torch.tensor(mean, dtype=x.dtype, device=x.device)
        std_t = torch.tensor(std, dtype=x.dtype, device=x.device)
        return (x / scale - mean_t) / std_t
    array = np.asarray(x, dtype=np.float32)
    return ((array / scale - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).astype(
        np.float32
    )
