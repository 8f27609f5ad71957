"""Weights files: the model's state_dict as safetensors, written atomically.

A weights file holds tensors only (no code, no pickle). `.pt` / `.pth` state dicts load through
`torch.load(weights_only=True)`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["load_weights", "save_weights"]


def _check_built(model: Any, what: str) -> None:
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' is not built, so it has no weights to {what}. Call it on data "
            "or give it an input shape first."
        )


def save_weights(model: Any, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
    """Write `model.state_dict()` to `filepath` (.safetensors): a temp file renamed into place."""
    from safetensors.torch import save_file

    _check_built(model, "save")
    path = Path(filepath)
    if path.suffix != ".safetensors":
        raise ValueError(f"save_weights writes .safetensors files; got {str(path)!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    descriptor, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    os.close(descriptor)
    try:
        save_file(state, temporary, metadata={"format": "pt", "lamina_model": model.name})
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp creates the file private (0600); give it the permissions of a normal file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_weights(model: Any, filepath: str | os.PathLike[str], skip_mismatch: bool = False) -> None:
    """Load a `.safetensors` file or a `.pt` state dict into `model` (same keys and shapes)."""
    path = Path(filepath)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {str(path)!r}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: dict[str, Any] = load_file(str(path))
    elif path.suffix in (".pt", ".pth"):
        state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        raise ValueError(f"load_weights reads .safetensors, .pt or .pth files; got {str(path)!r}")
    _check_built(model, "load into")
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
