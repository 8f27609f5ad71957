"""Turn user data (NumPy arrays, torch tensors, nested lists/dicts of them) into device batches.

In-memory data is converted once: floats to the float type, moved to the training device once,
and batched there by indexing, so an epoch costs no host-to-device copies on a GPU. Text (NumPy
arrays of str, bytes or string objects, and lists of str) stays a NumPy array on the host,
batched with NumPy indices, for the string layers (TextVectorization, StringLookup) that start
a model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .. import config
from ..layers._string_arrays import holds_strings
from ..layers._symbolic import flatten_structure, map_structure
from ..tree import assert_same_structure, is_nested
from .distributed import broadcast_from_rank0, shard_bounds

__all__ = [
    "ArrayBatches",
    "apply_class_weight",
    "arrays_to_device",
    "check_sample_weight_structure",
    "concatenate_outputs",
    "inputs_to_device",
    "num_samples",
    "to_tensor_structure",
]


def _to_tensor(value: Any, device: torch.device, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        if holds_strings(value):
            return value  # text stays on the host, for the string layers
        if value.dtype == object:
            raise TypeError(
                f"{name} is a NumPy array of Python objects; expected numbers or strings"
            )
        if not value.flags.writeable:  # a read-only array (a memmap): torch wants a copy
            value = value.copy()
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
        if holds_strings(array):
            return array
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
    """Convert every array in a nested structure to a tensor on `device` (text stays a NumPy
    array: see `holds_strings`); a flat list of numbers or of strings is one array."""
    if isinstance(data, (list, tuple)) and data:
        if all(isinstance(item, (str, bytes)) for item in data):
            return np.asarray(data)
        if all(isinstance(item, (int, float)) for item in data):
            return _to_tensor(np.asarray(data), device, name)
    if isinstance(data, dict):  # a column given as a list ({"text": ["a", "b"]}) is one array
        return {key: to_tensor_structure(value, device, name) for key, value in data.items()}
    return map_structure(lambda leaf: _to_tensor(leaf, device, name), data)


def _scalar(leaf: Any) -> Any:
    """A 0-d array's value, for messages."""
    return leaf.item() if hasattr(leaf, "item") else leaf


def num_samples(data: Any, name: str) -> int | None:
    """The common first dimension of every array in `data`; a clear error if they differ."""
    leaves = [leaf for leaf in flatten_structure(data) if leaf is not None]
    for leaf in leaves:
        if not getattr(leaf, "ndim", 0):  # a Python number or string: no sample axis
            raise ValueError(
                f"Unrecognized data type: {name} holds {_scalar(leaf)!r}, which has no "
                "sample axis; pass NumPy arrays or tensors whose first axis is the samples "
                "(a list of them for several inputs)"
            )
    sizes = {int(leaf.shape[0]) for leaf in leaves}
    if not sizes:
        return None
    if len(sizes) > 1:
        raise ValueError(
            "Data cardinality is ambiguous: all arrays in "
            f"{name} must have the same number of samples; got {sorted(sizes)}"
        )
    return sizes.pop()


def _take(data: Any, index: torch.Tensor | slice, host_index: Any = None) -> Any:
    """The samples at `index` of every array in `data`; NumPy (text) arrays take
    `host_index` instead when given (the same positions, as a NumPy array)."""
    if host_index is None:
        return map_structure(lambda leaf: None if leaf is None else leaf[index], data)

    def take(leaf: Any) -> Any:
        if leaf is None:
            return None
        return leaf[host_index] if isinstance(leaf, np.ndarray) else leaf[index]

    return map_structure(take, data)


def _device_of(data: Any) -> torch.device:
    """The device of the first tensor in `data` (the CPU when it holds only text arrays)."""
    for leaf in flatten_structure(data):
        if isinstance(leaf, torch.Tensor):
            return leaf.device
    return torch.device("cpu")


class ArrayBatches:
    """Batches of in-memory (x, y, sample_weight) tensors, already on the device: a source for
    `EpochIterator` (`new_pass`, `num_batches`), or one pass by iterating it.

    Args:
        x, y, sample_weight: tensors or nested structures of tensors with a common first axis.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: reshuffle the order at every pass.
        shard: (rank, world size) in a distributed run: `batch_size` is the global batch and
            this process yields its contiguous part of each (`distributed.shard_bounds`), in
            the order process 0 drew. `share` is then (its samples, the global batch's) of the
            last batch; a process whose part is empty gets the batch's first sample as
            padding, with a share of 0, so that every process runs every step.
    """

    collates_lists = False  # Keras hands in-memory arrays' batches on as tuples

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        shard: tuple[int, int] | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.size = num_samples(x, "x") or 0
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = math.ceil(self.size / batch_size)
        self.shard = shard
        self.share: tuple[int, int] | None = None
        # Text arrays are indexed on the host: a shuffled order is then also kept there.
        self._host = any(
            isinstance(leaf, np.ndarray) for leaf in flatten_structure((x, y, sample_weight))
        )
        self._device = _device_of((x, y, sample_weight))

    def on_epoch_begin(self) -> None:
        """No epoch hooks for arrays."""

    def on_epoch_end(self) -> None:
        """No epoch hooks for arrays."""

    def new_pass(self) -> Iterator[tuple[Any, Any, Any]]:
        """One pass over the samples, in a new random order when shuffling."""
        order = host_order = None
        if self.shuffle:
            order = torch.randperm(self.size, device="cpu").to(self._device, non_blocking=True)
            if self.shard is not None:  # every process takes its part of process 0's order
                order = broadcast_from_rank0(order)
            if self._host:
                host_order = order.cpu().numpy()
        for start in range(0, self.size, self.batch_size):
            stop = min(start + self.batch_size, self.size)
            if self.shard is not None:
                low, high = shard_bounds(stop - start, *self.shard)
                self.share = (high - low, stop - start)
                start, stop = (start + low, start + high) if high > low else (start, start + 1)
            index = slice(start, stop) if order is None else order[start:stop]
            host = None if host_order is None else host_order[start:stop]
            yield (
                _take(self.x, index, host),
                _take(self.y, index, host),
                _take(self.sample_weight, index, host),
            )

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        return self.new_pass()

    def __len__(self) -> int:
        return self.num_batches


def inputs_to_device(device: torch.device, x: Any, where: str) -> Any:
    """`x` as tensors on `device`, with clear errors for None and empty inputs."""
    if x is None:
        raise ValueError(f"{where}() needs input data x; got None")
    x = to_tensor_structure(x, device, "x")
    if not num_samples(x, "x"):
        raise ValueError(f"{where}() received empty input: x has 0 samples")
    return x


def arrays_to_device(
    device: torch.device, x: Any, y: Any, sample_weight: Any, where: str
) -> tuple[Any, Any, Any]:
    """x, y and sample_weight as tensors on `device`, checked to hold the same samples."""
    if isinstance(x, (torch.utils.data.DataLoader, torch.utils.data.Dataset)) or hasattr(
        x, "__next__"
    ):
        raise TypeError(
            f"{where}() takes NumPy arrays and torch tensors (one batch); pass datasets, "
            f"DataLoaders and generators to fit(), evaluate() or predict(); got {type(x).__name__}"
        )
    x = inputs_to_device(device, x, where)
    size = num_samples(x, "x")
    if y is not None:
        y = to_tensor_structure(y, device, "y")
        y_size = num_samples(y, "y")
        if y_size != size:
            raise ValueError(
                "Data cardinality is ambiguous: x and y must hold the same number of "
                f"samples; got x with {size} and y with {y_size}"
            )
    if sample_weight is not None:
        sample_weight = to_tensor_structure(sample_weight, device, "sample_weight")
        weights = num_samples(sample_weight, "sample_weight")
        if weights != size:
            raise ValueError(
                "Data cardinality is ambiguous: sample_weight must hold one weight per "
                f"sample ({size}); got {weights}"
            )
    return x, y, sample_weight


def check_sample_weight_structure(y: Any, sample_weight: Any) -> None:
    """Keras' check of in-memory sample weights for a multi-output `y`: a list, tuple or dict of
    weights nests as `y` does (same container types, lengths and keys); a single array holds one
    weight per sample."""
    if sample_weight is None or not is_nested(y):
        return
    if isinstance(sample_weight, (list, tuple, dict)):
        try:
            assert_same_structure(y, sample_weight)
        except ValueError:
            raise ValueError(
                "You should provide one `sample_weight` array per output in `y`. The two "
                f"structures did not match:\n- y: {y}\n- sample_weight: {sample_weight}\n"
            ) from None
        return
    shape = tuple(getattr(sample_weight, "shape", np.shape(sample_weight)))
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise ValueError(
            "For a model with multiple outputs, when providing a single `sample_weight` array, "
            "it should only have one scalar score per sample (i.e. shape `(num_samples,)`). If "
            "you want to use non-scalar sample weights, pass a `sample_weight` argument with one "
            "array per model output."
        )


def apply_class_weight(
    y: torch.Tensor, class_weight: dict[int, float], sample_weight: Any
) -> torch.Tensor:
    """Per-sample weights from a {class: weight} dict (sparse or one-hot labels). Like Keras,
    refuses `sample_weight` given as well."""
    if sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if not isinstance(y, torch.Tensor):
        raise ValueError("class_weight needs a single target array y")
    if y.ndim > 1 and y.shape[-1] > 1:
        classes = y.argmax(dim=-1)
    else:
        classes = y.reshape(y.shape[0]).round().long()
    size = int(max(max(class_weight) + 1, int(classes.max()) + 1))
    table = torch.ones(size, device=y.device)
    for label, weight in class_weight.items():
        table[int(label)] = float(weight)
    return table[classes]


def concatenate_outputs(outputs: list[Any]) -> Any:
    """Batches of predictions joined into NumPy arrays, keeping the outputs' structure."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        joined = torch.cat(outputs).cpu()
        # NumPy has no bfloat16: float32, as lamina.ops.convert_to_numpy (Keras: ml_dtypes')
        return (joined.float() if joined.dtype == torch.bfloat16 else joined).numpy()
    if isinstance(first, np.ndarray):  # tokens from StringLookup(invert=True)
        return np.concatenate(outputs)
    if isinstance(first, (list, tuple)):
        joined = [concatenate_outputs([o[i] for o in outputs]) for i in range(len(first))]
        if not isinstance(first, tuple):
            return joined
        # a tuple stays a tuple (a namedtuple its own type), as Keras' predict keeps it
        return type(first)(*joined) if hasattr(first, "_fields") else tuple(joined)
    if isinstance(first, dict):  # keys sorted, as Keras' predict returns them
        return {k: concatenate_outputs([o[k] for o in outputs]) for k in sorted(first)}
    return np.asarray(outputs)
