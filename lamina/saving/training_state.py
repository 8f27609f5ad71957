"""Everything an interrupted `fit` needs to continue bit for bit, in one checked archive.

The state holds the weights (buffers included), the optimizer's state (its step count drives
the learning-rate schedule), the epoch and the batches done in it, the running loss and
metric sums of that epoch, the callbacks' counters (EarlyStopping's patience, the best values
seen), and every random generator: Python's, NumPy's, torch's CPU and CUDA generators, the
generators of seeded layers, and the torch state at the start of the epoch, from which the
epoch's shuffling order is drawn again.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import numpy as np
import torch

from ._archive import is_writer, read_archive, write_archive
from ._safetensors import from_bytes, to_bytes
from .model_file import optimizer_state, restore_optimizer

__all__ = ["capture_rng", "load_training_state", "restore_rng", "save_training_state"]

MEMBERS = ("state.json", "tensors.safetensors")


def capture_rng(model: Any = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The state of every random generator training uses, as JSON and tensors."""
    version, internal, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state()
    info: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)],
        "cuda_devices": 0,
    }
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states = torch.cuda.get_rng_state_all()
        info["cuda_devices"] = len(states)
        tensors.update({f"rng.cuda.{i}": s for i, s in enumerate(states)})
    if model is not None:
        for path, module in model.named_modules():
            for device, generator in getattr(module, "_generators", {}).items():
                tensors[f"rng.layer.{path or '_'}.{device}"] = generator.get_state()
    return info, tensors


def restore_rng(info: dict[str, Any], tensors: dict[str, torch.Tensor], model: Any = None) -> None:
    """Put every generator back in the state `capture_rng` recorded."""
    version, internal, gauss = info["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = info["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(tensors["rng.torch"])
    count = int(info.get("cuda_devices", 0))
    if count and torch.cuda.is_available():
        states = [tensors[f"rng.cuda.{i}"] for i in range(count)]
        torch.cuda.set_rng_state_all(states[: torch.cuda.device_count()])
    if model is not None:
        modules = dict(model.named_modules())
        for key, state in tensors.items():
            if not key.startswith("rng.layer."):
                continue
            path, device = key[len("rng.layer.") :].rsplit(".", 1)
            module = modules.get("" if path == "_" else path)
            make = getattr(module, "_generator", None)
            if callable(make):
                generator = make(torch.device(device))
                if generator is not None:
                    generator.set_state(state)


def _callback_state(callback: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    info: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    for attribute in getattr(callback, "_state_attributes", ()):
        value = getattr(callback, attribute, None)
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            info[attribute] = {"arrays": len(value)}
            tensors.update({f"{attribute}.{j}": torch.from_numpy(a) for j, a in enumerate(value)})
        else:
            info[attribute] = value
    return info, tensors


def _restore_callback(callback: Any, info: dict[str, Any], tensors: dict[str, Any]) -> None:
    for attribute, value in info.items():
        if attribute not in getattr(callback, "_state_attributes", ()):
            continue
        if isinstance(value, dict) and "arrays" in value:
            value = [tensors[f"{attribute}.{j}"].numpy() for j in range(value["arrays"])]
        setattr(callback, attribute, value)


def save_training_state(
    path: str | os.PathLike[str],
    model: Any,
    epoch: int,
    step: int,
    epoch_rng: tuple[dict[str, Any], dict[str, torch.Tensor]] | None,
    callbacks: list[Any],
) -> None:
    """Write the state after `step` batches of `epoch` (step 0: the epoch has not begun)."""
    trainer = model._trainer
    rng_info, rng_tensors = capture_rng(model)
    optimizer_info, optimizer_tensors = optimizer_state(model.optimizer)
    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"optimizer.{k}": v for k, v in optimizer_tensors.items()})
    tensors.update(rng_tensors)
    info: dict[str, Any] = {
        "epoch": epoch,
        "step": step,
        "optimizer": optimizer_info,
        "rng": rng_info,
        "callbacks": [],
    }
    if step:
        tensors.update({f"accumulator.{k}": v for k, v in trainer.accumulator_state().items()})
        if epoch_rng is not None:
            info["epoch_rng"] = epoch_rng[0]
            tensors.update({f"epoch_{k}": v for k, v in epoch_rng[1].items()})
    for index, callback in enumerate(callbacks):
        callback_info, callback_tensors = _callback_state(callback)
        info["callbacks"].append({"class_name": type(callback).__name__, "state": callback_info})
        tensors.update({f"callback.{index}.{k}": v for k, v in callback_tensors.items()})
    members = {
        "state.json": json.dumps(info).encode(),
        "tensors.safetensors": to_bytes(tensors),
    }
    if is_writer():
        write_archive(path, members, compress=("state.json",))


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_training_state(
    path: str | os.PathLike[str], model: Any, callbacks: list[Any]
) -> dict[str, Any]:
    """Restore a state written by `save_training_state` into `model` (weights, optimizer,
    random generators, callbacks); returns what the training loop needs to go on: `epoch`,
    `step`, and for a mid-epoch state `epoch_rng`, `rng` and `accumulators`."""
    source = f"training state {str(path)!r}"
    members = read_archive(path, MEMBERS, MEMBERS, "lamina training state")
    try:
        info = json.loads(members["state.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source}: state.json is not valid JSON ({error})") from None
    tensors = from_bytes(members["tensors.safetensors"], source)
    weights = _prefixed(tensors, "model.")
    own = model.state_dict()
    if set(weights) != set(own) or any(tuple(weights[k].shape) != tuple(own[k].shape) for k in own):
        raise ValueError(
            f"{source} was written for a different model than '{model.name}'; delete the "
            "backup folder to start over"
        )
    model.load_state_dict(weights)
    restore_optimizer(model.optimizer, info["optimizer"], _prefixed(tensors, "optimizer."), source)
    saved = info.get("callbacks", [])
    if len(saved) == len(callbacks):
        for index, (callback, entry) in enumerate(zip(callbacks, saved, strict=True)):
            if entry.get("class_name") == type(callback).__name__:
                _restore_callback(
                    callback, entry.get("state", {}), _prefixed(tensors, f"callback.{index}.")
                )
    result: dict[str, Any] = {"epoch": int(info["epoch"]), "step": int(info["step"])}
    rng = (info["rng"], {k: v for k, v in tensors.items() if k.startswith("rng.")})
    if result["step"]:
        result["accumulators"] = _prefixed(tensors, "accumulator.")
        result["rng"] = rng
        if "epoch_rng" in info:
            result["epoch_rng"] = (info["epoch_rng"], _prefixed(tensors, "epoch_"))
    else:
        restore_rng(*rng, model=model)
    return result
