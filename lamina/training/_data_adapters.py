"""Input pipelines for fit / evaluate / predict: every accepted kind of `x` -> device batches.

Arrays and tensors (and a `TensorDataset`, which is arrays) take `ArrayBatches`: moved to the
device once and batched there. Everything else is read batch by batch by `IteratorBatches`:
a `lamina.data.Dataset` (in-memory ones still slice on the device), a `torch.utils.data.Dataset`
(batched here with `batch_size` by a DataLoader), a `torch.utils.data.DataLoader`, a
`lamina.utils.PyDataset` (`PyDatasetBatches`: its own batches, `batch_size` ignored as in
Keras), and Python generators or iterators that yield batches. Items are unpacked as Keras
does: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

Each is a source for `EpochIterator` (epoch_iterator.py), which decides, as Keras 3, which
batches each epoch reads: steps above the batches end an epoch early with Keras' "Your input
ran out of data" warning, steps below them read on across epochs, and every pass over a
generator starts with the two batches Keras peeks. Arrays without `batch_size` take Keras'
size: enough for `steps` batches, else 32.
"""

from __future__ import annotations

import itertools
import math
import random
import types
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from ..data.dataset import Dataset
from ..utils._py_dataset import PyDataset, read_batches, standardize_batch
from .adapters import (
    ArrayBatches,
    _take,
    apply_class_weight,
    arrays_to_device,
    check_sample_weight_structure,
    inputs_to_device,
    num_samples,
    to_tensor_structure,
)
from .epoch_iterator import EpochIterator

__all__ = [
    "IteratorBatches",
    "PyDatasetBatches",
    "evaluation_batches",
    "input_kind",
    "prediction_batches",
    "training_batches",
    "validation_batches",
    "unpack_data",
]


def input_kind(x: Any) -> str | None:
    """A name for the pipeline kinds of input (None for arrays and tensors)."""
    if isinstance(x, PyDataset):
        return "PyDataset"
    if isinstance(x, Dataset):
        return "lamina.data.Dataset"
    if isinstance(x, torch.utils.data.DataLoader):
        return "torch DataLoader"
    if isinstance(x, torch.utils.data.Dataset):
        return "torch Dataset"
    if hasattr(x, "__next__"):
        return "generator"
    return None


def _describe_item(item: Any) -> str:
    """A yielded item for messages: arrays by shape, other values as they print."""
    shape = getattr(item, "shape", None)
    return f"{type(item).__name__} of shape {tuple(shape)}" if shape is not None else repr(item)


def unpack_data(item: Any) -> tuple[Any, Any, Any]:
    """(x, y, sample_weight) from a yielded item: `x`, `(x,)`, `(x, y)` or `(x, y, w)`."""
    if isinstance(item, list):
        item = tuple(item)
    if not isinstance(item, tuple):
        return item, None, None
    if len(item) in (1, 2, 3):
        return (*item, None, None)[:3]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`; "
        f"got a tuple of {len(item)} items"
    )


def _check_arguments(kind: str, y: Any, sample_weight: Any, validation_split: float) -> None:
    for name, value, what in (
        ("y", y, "the targets"),
        ("sample_weight", sample_weight, "the sample weights"),
    ):
        if value is not None:
            raise ValueError(
                f"When providing `x` as a {kind}, `{name}` should not be passed. Instead, "
                f"{what} should be included as part of the {kind}."
            )
    if validation_split:
        raise ValueError(
            "Argument `validation_split` is only supported for tensors or NumPy arrays; got "
            f"`x` as a {kind}. Split the data yourself and pass `validation_data`."
        )


class _DatasetPasses:
    """A lamina Dataset read on a given device (and batched by `batch_size` if it is not)."""

    def __init__(self, dataset: Dataset, device: torch.device, batch_size: int) -> None:
        self.dataset, self.device, self.batch_size = dataset, device, batch_size

    def __iter__(self) -> Iterator[Any]:
        return iter(self.dataset.iterate(self.device, self.batch_size))

    def __len__(self) -> int:
        if self.dataset.is_batched:
            return len(self.dataset)
        return math.ceil(len(self.dataset) / self.batch_size)


class IteratorBatches:
    """(x, y, sample_weight) device batches of a re-iterable source or a one-shot iterator: a
    source for `EpochIterator` (`new_pass`, `num_batches`, epoch hooks).

    A one-shot iterator (a generator) has its first two items read when it is given, as Keras
    peeks them (`start`); every pass starts with those two and goes on with what the iterator
    still yields.

    Args:
        source: a DataLoader, a re-iterable with or without `len`, or an iterator.
        device: where the batches go (copies are non-blocking: fast from pinned memory).
        class_weight: {class: weight}, turned into per-sample weights batch by batch.
        for_predict: batches for predict: x on the device, y and sample_weight as the source
            gives them (only a model's own `predict_step` reads them: `step_data`).
    """

    collates_lists = True  # Keras' torch backend hands a pipeline's batches on as lists

    def __init__(
        self,
        source: Any,
        device: torch.device,
        class_weight: dict[int, float] | None = None,
        for_predict: bool = False,
    ) -> None:
        self.source, self.device = source, device
        self.one_shot = hasattr(source, "__next__")
        self.num_batches: int | None = None
        if not self.one_shot:
            try:
                self.num_batches = len(source)
            except TypeError:
                self.num_batches = None
        self.class_weight, self.for_predict = class_weight, for_predict
        self._head: list[Any] | None = None

    def start(self) -> IteratorBatches:
        """Read a one-shot iterator's first two items (Keras' peek); an error if it has none."""
        if self.one_shot and self._head is None:
            self._head = list(itertools.islice(self.source, 2))
            if not self._head:
                raise ValueError(
                    "When passing a Python generator to a model, the generator must yield at "
                    "least one batch. Received an empty generator (a generator is read once: "
                    "pass a new one to each fit, evaluate or predict)."
                )
            if isinstance(self.source, types.GeneratorType) and not isinstance(
                self._head[0], tuple
            ):
                raise ValueError(
                    "When passing a Python generator to a model, the generator must return a "
                    "tuple, either (input,) or (inputs, targets) or (inputs, targets, "
                    f"sample_weights). Received: {_describe_item(self._head[0])}"
                )
        return self

    def _convert(self, item: Any) -> tuple[Any, Any, Any]:
        x, y, weight = unpack_data(item)
        x = to_tensor_structure(x, self.device, "x")
        if self.for_predict:  # predict reads x only; no copies of y and weights to the device
            return x, y, weight
        y = to_tensor_structure(y, self.device, "y")
        weight = to_tensor_structure(weight, self.device, "sample_weight")
        if self.class_weight is not None and y is not None:
            weight = apply_class_weight(y, self.class_weight, weight)
        return x, y, weight

    def new_pass(self) -> Iterator[tuple[Any, Any, Any]]:
        """A pass over the source's batches, converted and on the device."""
        if self.one_shot:
            self.start()
            return map(self._convert, itertools.chain(self._head or [], self.source))
        return map(self._convert, iter(self.source))

    def first_batch(self) -> tuple[Any, Any, Any]:
        """The first batch of a new pass (read to build the model)."""
        return next(self.new_pass())

    def on_epoch_begin(self) -> None:
        """No epoch hooks but a PyDataset's."""

    def on_epoch_end(self) -> None:
        """No epoch hooks but a PyDataset's."""


class _PyDatasetPasses:
    """Passes over a PyDataset, each in a new random order when shuffling (as Keras)."""

    def __init__(self, dataset: PyDataset, shuffle: bool) -> None:
        self.dataset, self.shuffle = dataset, shuffle

    def __iter__(self) -> Iterator[Any]:
        return read_batches(self.dataset, self.shuffle)


class PyDatasetBatches(IteratorBatches):
    """Device batches of a `lamina.utils.PyDataset`, whose `on_epoch_begin` / `on_epoch_end`
    `EpochIterator` calls where Keras 3 calls them: around each epoch and each validation
    run, `on_epoch_end` also at every reset (before fit and evaluate read, and before each
    validation run), and both around the batch read to build an unbuilt model.

    Args:
        dataset: the PyDataset.
        mode: "train", "evaluate" (evaluate and fit's validation) or "predict".
        shuffle: a new random batch order every pass (fit's `shuffle`, as Keras).
        device, class_weight: as for `IteratorBatches`.
    """

    def __init__(
        self,
        dataset: PyDataset,
        device: torch.device,
        class_weight: dict[int, float] | None,
        mode: str,
        shuffle: bool,
    ) -> None:
        self.dataset, self.name = dataset, type(dataset).__name__
        if dataset.use_multiprocessing and dataset.workers > 0:
            warnings.warn(
                f"{self.name}: lamina fetches PyDataset batches with threads; "
                f"use_multiprocessing=True uses {dataset.workers} thread(s), not processes.",
                stacklevel=4,
            )
        if shuffle and dataset.num_batches is None:
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was "
                "provided as an infinite PyDataset. The PyDataset is expected to already be "
                "shuffled.",
                stacklevel=4,
            )
            shuffle = False
        self.shuffle = shuffle
        passes = _PyDatasetPasses(dataset, shuffle)
        super().__init__(passes, device, class_weight, for_predict=mode == "predict")
        self.num_batches = dataset.num_batches

    def _convert(self, item: Any) -> tuple[Any, Any, Any]:
        if self.class_weight is not None and isinstance(item, tuple) and len(item) == 3:
            raise ValueError(
                f"{self.name} (a PyDataset) returned (x, y, sample_weight) and fit got "
                "class_weight: you cannot specify `class_weight` and `sample_weight` at the "
                "same time."
            )
        try:
            return super()._convert(item)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"{self.name} (a PyDataset) returned a batch that cannot be used: {error}"
            ) from error

    def first_batch(self) -> tuple[Any, Any, Any]:
        """The first batch of a new pass, read in the main thread (no workers started)."""
        count = self.dataset.num_batches
        if count == 0:
            raise ValueError(f"{self.name} (a PyDataset) has no batches: its len() is 0")
        index = 0
        if self.shuffle and count:  # the order a pass draws (read_batches), first index
            order = list(range(count))
            random.shuffle(order)
            index = order[0]
        return self._convert(standardize_batch(self.dataset, index, self.dataset[index]))

    def on_epoch_begin(self) -> None:
        """The PyDataset's own hook."""
        self.dataset.on_epoch_begin()

    def on_epoch_end(self) -> None:
        """The PyDataset's own hook."""
        self.dataset.on_epoch_end()


# Keras' warning when fit's shuffle=True cannot shuffle the input.
_ALREADY_SHUFFLED = {
    "generator": "a generator. The generator is expected to yield already-shuffled data.",
    "torch DataLoader": "a torch DataLoader. The DataLoader is expected to already be shuffled.",
}


def _pipeline_batches(
    device: torch.device,
    x: Any,
    kind: str,
    batch_size: int | None,
    shuffle: bool,
    class_weight: dict[int, float] | None = None,
    for_predict: bool = False,
    training: bool = False,
) -> IteratorBatches:
    if kind == "PyDataset":
        mode = "predict" if for_predict else "train" if training else "evaluate"
        return PyDatasetBatches(x, device, class_weight, mode, shuffle and training)
    if training and shuffle and kind in _ALREADY_SHUFFLED:
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
            f"as {_ALREADY_SHUFFLED[kind]}",
            stacklevel=4,
        )
    source = x
    batch_size = batch_size or 32
    if kind == "lamina.data.Dataset":
        source = _DatasetPasses(x, device, batch_size)
    elif kind == "torch Dataset":
        iterable = isinstance(x, torch.utils.data.IterableDataset)
        source = torch.utils.data.DataLoader(
            x,
            batch_size=batch_size,
            shuffle=shuffle and not iterable and not for_predict,
            pin_memory=device.type == "cuda",
        )
    return IteratorBatches(source, device, class_weight, for_predict)


def _tensor_dataset_arrays(x: Any) -> tuple[Any, Any, Any] | None:
    if isinstance(x, torch.utils.data.TensorDataset):
        return unpack_data(tuple(x.tensors))
    return None


def _array_batch_size(batch_size: int | None, x: Any, steps: int | None) -> int:
    """Keras' batch size for arrays: as given, else enough for `steps` batches, else 32."""
    if batch_size:
        return batch_size
    if not steps:
        return 32
    return max(math.ceil((num_samples(x, "x") or 0) / steps), 1)


def training_batches(
    device: torch.device,
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int | None,
    shuffle: bool,
    steps: int | None,
    class_weight: dict[int, float] | None,
    validation_split: float,
    validation_data: Any,
    shard: tuple[int, int] | None = None,
) -> tuple[EpochIterator, tuple[Any, Any] | None, Any]:
    """fit's epochs, a sample (x, y) to build the model from (None for a pipeline: read one
    with `first_batch()` when needed) and validation_data (split off the arrays when
    `validation_split` is set). `shard`: (rank, world size) in a distributed run; arrays are
    then sharded by `ArrayBatches`, other inputs are each process's own."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split}")
    kind = input_kind(x)
    if kind is not None:
        _check_arguments(kind, y, sample_weight, validation_split)
        arrays = _tensor_dataset_arrays(x)
        if arrays is None:
            source = _pipeline_batches(
                device, x, kind, batch_size, shuffle, class_weight, training=True
            )
            return EpochIterator(source.start(), steps), None, validation_data
        x, y, sample_weight = arrays
    else:
        check_sample_weight_structure(y, sample_weight)
    x, y, sample_weight = arrays_to_device(device, x, y, sample_weight, "fit")
    if validation_split and validation_data is None:
        size = num_samples(x, "x") or 0
        split = int(math.floor(size * (1.0 - validation_split)))  # Keras' split point
        if split <= 0 or split >= size:
            raise ValueError(
                f"validation_split={validation_split} of {size} samples leaves "
                f"{split} for training and {size - split} for validation; both must be > 0"
            )
        head, tail = slice(0, split), slice(split, None)
        validation_data = (_take(x, tail), _take(y, tail), _take(sample_weight, tail))
        x, y, sample_weight = _take(x, head), _take(y, head), _take(sample_weight, head)
    if class_weight is not None:
        sample_weight = apply_class_weight(y, class_weight, sample_weight)
    batch_size = _array_batch_size(batch_size, x, steps)
    source = ArrayBatches(x, y, sample_weight, batch_size, shuffle, shard)
    first = slice(0, batch_size)  # Keras builds from one batch: its shapes keep the batch size
    return EpochIterator(source, steps), (_take(x, first), _take(y, first)), validation_data


def evaluation_batches(
    device: torch.device,
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int | None,
    steps: int | None,
    where: str = "evaluate",
    shard: tuple[int, int] | None = None,
) -> tuple[EpochIterator, Any]:
    """evaluate's (or fit's validation's) epoch and a sample x to build the model from (None
    for a pipeline; `shard` as for `training_batches`). A generator given as validation_data
    is peeked at its first validation run, as Keras."""
    kind = input_kind(x)
    if kind is not None:
        _check_arguments(kind, y, sample_weight, 0.0)
        arrays = _tensor_dataset_arrays(x)
        if arrays is None:
            source = _pipeline_batches(device, x, kind, batch_size, False)
            if where == "evaluate":
                source.start()
            return EpochIterator(source, steps), None
        x, y, sample_weight = arrays
    elif where != "evaluate":
        if not isinstance(x, (tuple, list)) or len(x) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                "val_sample_weight), a lamina.data.Dataset, a torch Dataset or DataLoader, or "
                f"a generator; got {type(x).__name__} of length "
                f"{len(x) if hasattr(x, '__len__') else '?'}"
            )
        x, y, sample_weight = (*x, None)[:3]
    if kind is None:
        check_sample_weight_structure(y, sample_weight)
    x, y, sample_weight = arrays_to_device(device, x, y, sample_weight, where)
    batch_size = _array_batch_size(batch_size, x, steps)
    source = ArrayBatches(x, y, sample_weight, batch_size, shuffle=False, shard=shard)
    return EpochIterator(source, steps), _take(x, slice(0, batch_size))


def validation_batches(
    device: torch.device,
    data: Any,
    batch_size: int | None,
    steps: int | None,
    shard: tuple[int, int] | None = None,
) -> EpochIterator | None:
    """fit's validation epochs (None without validation_data)."""
    if data is None:
        return None
    epochs, _ = evaluation_batches(
        device, data, None, None, batch_size, steps, where="fit (validation_data)", shard=shard
    )
    return epochs


def prediction_batches(
    device: torch.device, x: Any, batch_size: int | None, steps: int | None
) -> tuple[EpochIterator, Any]:
    """predict's epoch and a sample x to build the model from (None for a pipeline)."""
    kind = input_kind(x)
    arrays = _tensor_dataset_arrays(x)
    if arrays is not None:
        x = arrays[0]
    elif kind is not None:
        source = _pipeline_batches(device, x, kind, batch_size, False, for_predict=True)
        return EpochIterator(source.start(), steps), None
    x = inputs_to_device(device, x, "predict")
    batch_size = _array_batch_size(batch_size, x, steps)
    source = ArrayBatches(x, None, None, batch_size, shuffle=False)
    return EpochIterator(source, steps), _take(x, slice(0, batch_size))
