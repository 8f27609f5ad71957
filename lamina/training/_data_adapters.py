"""Input pipelines for fit / evaluate / predict: every accepted kind of `x` -> device batches.

Arrays and tensors (and a `TensorDataset`, which is arrays) take `ArrayBatches`: moved to the
device once and batched there. Everything else is read batch by batch by `IteratorBatches`:
a `lamina.data.Dataset` (in-memory ones still slice on the device), a `torch.utils.data.Dataset`
(batched here with `batch_size` by a DataLoader), a `torch.utils.data.DataLoader`, a
`lamina.utils.PyDataset` (`PyDatasetBatches`: its own batches, `batch_size` ignored as in
Keras), and Python generators or iterators that yield batches. Items are unpacked as Keras
does: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

Epochs, as Keras: without `steps`, an epoch is one pass over the source (a generator is read
until it is exhausted, and an epoch that gets nothing ends training with a warning). With
`steps`, the source is read on across epochs: a generator continues where the last epoch
stopped; a re-iterable source (Dataset, DataLoader) starts a new pass when it runs out, without
cutting the epoch short.
"""

from __future__ import annotations

import math
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
    inputs_to_device,
    num_samples,
    to_tensor_structure,
)

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
    """(x, y, sample_weight) device batches from a re-iterable source or a one-shot iterator.

    Args:
        source: a DataLoader, a re-iterable with or without `len`, or an iterator.
        device: where the batches go (copies are non-blocking: fast from pinned memory).
        steps: batches per pass; None for one pass of the source (see the module docstring).
        class_weight: {class: weight}, turned into per-sample weights batch by batch.
        for_predict: yield only x (as `(x, None, None)`).
    """

    def __init__(
        self,
        source: Any,
        device: torch.device,
        steps: int | None = None,
        class_weight: dict[int, float] | None = None,
        for_predict: bool = False,
    ) -> None:
        if steps is not None and (not isinstance(steps, int) or steps <= 0):
            raise ValueError(f"steps must be a positive int or None; got {steps!r}")
        self.source, self.device, self.limit = source, device, steps
        self.one_shot = hasattr(source, "__next__")
        size = None
        if not self.one_shot:
            try:
                size = len(source)
            except TypeError:
                size = None
        self.steps = steps if steps is not None else size
        self.class_weight, self.for_predict = class_weight, for_predict
        self._iterator: Iterator[Any] | None = source if self.one_shot else None
        self._peeked: list[tuple[Any, Any, Any]] = []
        self.empty_pass = False
        self.for_training = False  # fit's batches warn when a generator runs dry

    def _convert(self, item: Any) -> tuple[Any, Any, Any]:
        x, y, weight = unpack_data(item)
        x = to_tensor_structure(x, self.device, "x")
        if self.for_predict:
            return x, None, None
        y = to_tensor_structure(y, self.device, "y")
        weight = to_tensor_structure(weight, self.device, "sample_weight")
        if self.class_weight is not None and y is not None:
            weight = apply_class_weight(y, self.class_weight, weight)
        return x, y, weight

    def _next(self) -> tuple[Any, Any, Any]:
        if self._peeked:
            return self._peeked.pop(0)
        if self._iterator is None:
            self._iterator = iter(self.source)
        return self._convert(next(self._iterator))

    def peek(self) -> tuple[Any, Any, Any]:
        """The first batch, kept to be yielded first (used to build the model)."""
        if not self._peeked:
            try:
                self._peeked.append(self._next())
            except StopIteration:
                raise ValueError("The input data yielded no batches") from None
        return self._peeked[0]

    def release_peek(self) -> None:
        """Forget the peeked batch of a re-iterable source, so that the first epoch's pass
        starts (and draws its shuffling order) after the epoch's random state is captured."""
        if not self.one_shot:
            self._peeked, self._iterator = [], None

    def rewind(self) -> None:
        """Start the next pass from the beginning of the source, when it can (for validation)."""
        if not self.one_shot and not self._peeked:
            self._iterator = None

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        if self.limit is None:
            self.rewind()
        produced, restarted = 0, False
        while self.limit is None or produced < self.limit:
            try:
                batch = self._next()
            except StopIteration:
                if self.one_shot:
                    if self.limit is not None:
                        warnings.warn(
                            "Your input ran out of data: the generator yielded fewer than "
                            "`steps_per_epoch * epochs` batches (or `steps`). Make it yield "
                            "enough batches (an endless loop), or pass a lamina.data.Dataset.",
                            stacklevel=2,
                        )
                    break
                self._iterator = None
                if self.limit is None or restarted:
                    break
                restarted = True  # a new pass of the source fills the rest of the epoch
                continue
            restarted = False
            yield batch
            produced += 1
        self.empty_pass = produced == 0
        if self.empty_pass and self.for_training:
            warnings.warn(
                "Your input ran out of data; interrupting training. A generator is read once: "
                "pass steps_per_epoch and make it yield at least `steps_per_epoch * epochs` "
                "batches, or pass a re-iterable input (a lamina.data.Dataset, a DataLoader).",
                stacklevel=2,
            )

    def __len__(self) -> int:
        if self.steps is None:
            raise TypeError("the number of batches of this input is unknown")
        return self.steps


class _PyDatasetPasses:
    """Passes over a PyDataset, each in a new random order when shuffling (as Keras)."""

    def __init__(self, dataset: PyDataset, shuffle: bool) -> None:
        self.dataset, self.shuffle = dataset, shuffle

    def __iter__(self) -> Iterator[Any]:
        return read_batches(self.dataset, self.shuffle)

    def __len__(self) -> int:
        count = self.dataset.num_batches
        if count is None:
            raise TypeError("an endless PyDataset (num_batches None) has no length")
        return count


class PyDatasetBatches(IteratorBatches):
    """Device batches of a `lamina.utils.PyDataset`, with its epoch hooks called as Keras.

    `dataset.on_epoch_begin()` runs before each epoch's batches and `on_epoch_end()` after
    them. As in Keras 3, fit and evaluate also call `on_epoch_end()` once before reading
    (Keras resets its input), and so does every validation run: fit(epochs=n) calls it n + 1
    times, evaluate twice, predict once. The batch read to build the model is read again by
    the first epoch, so that every epoch sees the batches its hooks prepared.

    Args:
        dataset: the PyDataset.
        mode: "train", "evaluate" (evaluate and fit's validation) or "predict".
        shuffle: a new random batch order every pass (fit's `shuffle`, as Keras).
        device, steps, class_weight: as for `IteratorBatches`.
    """

    def __init__(
        self,
        dataset: PyDataset,
        device: torch.device,
        steps: int | None,
        class_weight: dict[int, float] | None,
        mode: str,
        shuffle: bool,
    ) -> None:
        self.dataset, self.mode, self.name = dataset, mode, type(dataset).__name__
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
        passes = _PyDatasetPasses(dataset, shuffle)
        super().__init__(passes, device, steps, class_weight, for_predict=mode == "predict")
        self._runs = 0
        if mode != "predict":
            dataset.on_epoch_end()

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

    def peek(self) -> tuple[Any, Any, Any]:
        """The first batch, read in the main thread, to build the model from."""
        if not self._peeked:
            if self.dataset.num_batches == 0:
                raise ValueError(f"{self.name} (a PyDataset) has no batches: its len() is 0")
            first = standardize_batch(self.dataset, 0, self.dataset[0])
            self._peeked.append(self._convert(first))
        return self._peeked[0]

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        self._peeked = []  # it only built the model: the epoch reads it after its hooks
        if self.mode == "evaluate" and self._runs:
            self.dataset.on_epoch_end()
        self._runs += 1
        self.dataset.on_epoch_begin()
        yield from super().__iter__()
        self.dataset.on_epoch_end()


def _pipeline_batches(
    device: torch.device,
    x: Any,
    kind: str,
    batch_size: int,
    shuffle: bool,
    steps: int | None,
    class_weight: dict[int, float] | None = None,
    for_predict: bool = False,
    training: bool = False,
) -> IteratorBatches:
    if kind == "PyDataset":
        mode = "predict" if for_predict else "train" if training else "evaluate"
        return PyDatasetBatches(x, device, steps, class_weight, mode, shuffle and training)
    source = x
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
    return IteratorBatches(source, device, steps, class_weight, for_predict)


def _tensor_dataset_arrays(x: Any) -> tuple[Any, Any, Any] | None:
    if isinstance(x, torch.utils.data.TensorDataset):
        return unpack_data(tuple(x.tensors))
    return None


def training_batches(
    device: torch.device,
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    shuffle: bool,
    steps: int | None,
    class_weight: dict[int, float] | None,
    validation_split: float,
    validation_data: Any,
    shard: tuple[int, int] | None = None,
) -> tuple[ArrayBatches | IteratorBatches, tuple[Any, Any], Any]:
    """fit's training batches, a sample (x, y) to build the model from, and validation_data
    (split off the arrays when `validation_split` is set). `shard`: (rank, world size) in a
    distributed run; arrays are then sharded by `ArrayBatches`, other inputs are each
    process's own."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split}")
    kind = input_kind(x)
    if kind is not None:
        _check_arguments(kind, y, sample_weight, validation_split)
        arrays = _tensor_dataset_arrays(x)
        if arrays is None:
            batches = _pipeline_batches(
                device, x, kind, batch_size, shuffle, steps, class_weight, training=True
            )
            batches.for_training = True
            first_x, first_y, _ = batches.peek()
            return batches, (first_x, first_y), validation_data
        x, y, sample_weight = arrays
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
    batches = ArrayBatches(x, y, sample_weight, batch_size, shuffle, steps, shard)
    return batches, (x, y), validation_data


def evaluation_batches(
    device: torch.device,
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    steps: int | None,
    where: str = "evaluate",
    shard: tuple[int, int] | None = None,
) -> tuple[ArrayBatches | IteratorBatches, Any]:
    """Batches for evaluate (or fit's validation) and a sample x to build the model from
    (`shard` as for `training_batches`)."""
    kind = input_kind(x)
    if kind is not None:
        _check_arguments(kind, y, sample_weight, 0.0)
        arrays = _tensor_dataset_arrays(x)
        if arrays is None:
            batches = _pipeline_batches(device, x, kind, batch_size, False, steps)
            return batches, batches.peek()[0]
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
    x, y, sample_weight = arrays_to_device(device, x, y, sample_weight, where)
    batches = ArrayBatches(x, y, sample_weight, batch_size, shuffle=False, steps=steps, shard=shard)
    return batches, x


def validation_batches(
    device: torch.device,
    data: Any,
    batch_size: int,
    steps: int | None,
    runs: int,
    shard: tuple[int, int] | None = None,
) -> ArrayBatches | IteratorBatches | None:
    """fit's validation batches (None without validation_data), checked to last `runs` runs."""
    if data is None:
        return None
    batches, _ = evaluation_batches(
        device, data, None, None, batch_size, steps, where="fit (validation_data)", shard=shard
    )
    if getattr(batches, "one_shot", False) and steps is None and runs > 1:
        raise ValueError(
            "validation_data is a generator, which is exhausted by the first validation; "
            f"fit would validate {runs} times. Pass validation_steps with a generator that "
            "yields enough batches, or a re-iterable input (a lamina.data.Dataset, a torch "
            "DataLoader)."
        )
    return batches


def prediction_batches(
    device: torch.device, x: Any, batch_size: int, steps: int | None
) -> tuple[ArrayBatches | IteratorBatches, Any]:
    """Batches of inputs for predict and a sample x to build the model from."""
    kind = input_kind(x)
    arrays = _tensor_dataset_arrays(x)
    if arrays is not None:
        x = arrays[0]
    elif kind is not None:
        batches = _pipeline_batches(device, x, kind, batch_size, False, steps, for_predict=True)
        return batches, batches.peek()[0]
    x = inputs_to_device(device, x, "predict")
    return ArrayBatches(x, None, None, batch_size, shuffle=False, steps=steps), x
