"""Turn user data (NumPy arrays, torch tensors, nested lists/dicts of them) into device batches.

In-memory data is converted once: floats to the float type, moved to the training device once,
and batched there by indexing, so an epoch costs no host-to-device copies on a GPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .. import config
from ..layers._symbolic import flatten_structure, map_structure

__all__ = ["ArrayBatches", "to_tensor_structure", "num_samples"]


def _to_tensor(value: Any, device: torch.device, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"{name} is a NumPy array of Python objects; expected numbers")
        tensor = torch.from_numpy(np.ascontiguousarray(value))
    elif isinstance(value, (int, float)):
        tensor = torch.tensor(value)
    else:
        try:
            array = np.asarray(value)
        except Exception as error:
            raise TypeError(
                f"{name} must be a NumPy array or torch tensor; got {type(value).__name__}"
            ) from error
        if array.dtype == object:
            raise TypeError(
                f"{name} must be a NumPy array or torch tensor; got {type(value).__name__}"
            )
        tensor = torch.from_numpy(array)
    floatx = config.torch_dtype(None)
    if (tensor.is_floating_point() and tensor.dtype != floatx) or tensor.dtype == torch.bool:
        tensor = tensor.to(floatx)
    return tensor.to(device, non_blocking=True)


def to_tensor_structure(data: Any, device: torch.device, name: str) -> Any:
    """Convert every array in a nested structure to a tensor on `device`."""
    if (
        isinstance(data, (list, tuple))
        and data
        and all(isinstance(item, (int, float)) for item in data)
    ):
        return _to_tensor(np.asarray(data), device, name)
    return map_structure(lambda leaf: _to_tensor(leaf, device, name), data)


def num_samples(data: Any, name: str) -> int | None:
    """The common first dimension of every array in `data`; a clear error if they differ."""
    sizes = {int(leaf.shape[0]) for leaf in flatten_structure(data) if leaf is not None}
    if not sizes:
        return None
    if len(sizes) > 1:
        raise ValueError(f"All arrays in {name} must have the same number of samples; got {sizes}")
    return sizes.pop()


def _take(data: Any, index: torch.Tensor | slice) -> Any:
    return map_structure(lambda leaf: None if leaf is None else leaf[index], data)


class ArrayBatches:
    """Batches of in-memory (x, y, sample_weight) tensors, already on the device.

    Args:
        x, y, sample_weight: tensors or nested structures of tensors with a common first axis.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: reshuffle the order at every pass.
        steps: batches per pass, when it differs from the data (the order then cycles).
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        steps: int | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.size = num_samples(x, "x") or 0
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.batches_per_pass = math.ceil(self.size / batch_size)
        self.steps = steps if steps is not None else self.batches_per_pass
        self._pending: list[Any] = []

    def _pass(self) -> Iterator[tuple[Any, Any, Any]]:
        device = flatten_structure(self.x)[0].device
        if self.shuffle:
            order = torch.randperm(self.size, device="cpu").to(device, non_blocking=True)
            for start in range(0, self.size, self.batch_size):
                index = order[start : start + self.batch_size]
                yield _take(self.x, index), _take(self.y, index), _take(self.sample_weight, index)
        else:
            for start in range(0, self.size, self.batch_size):
                index = slice(start, start + self.batch_size)
                yield _take(self.x, index), _take(self.y, index), _take(self.sample_weight, index)

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        produced = 0
        while produced < self.steps:
            if not self._pending:
                self._pending = [self._pass()]
            for batch in self._pending[0]:
                yield batch
                produced += 1
                if produced >= self.steps:
                    return
            self._pending = []

    def __len__(self) -> int:
        return self.steps
