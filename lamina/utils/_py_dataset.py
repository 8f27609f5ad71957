"""`PyDataset` (alias `Sequence`): batches computed by Python code, indexed, as Keras.

A subclass says how many batches there are (`__len__`) and computes one (`__getitem__`).
fit / evaluate / predict read the batches in order (or, in fit with `shuffle=True`, in a new
random order every pass, as Keras), in the main thread or, with `workers > 1`, fetched ahead
by a pool of threads and still handed over in order.
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

__all__ = ["PyDataset", "Sequence", "read_batches", "standardize_batch"]

_DEFAULTS = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}


class PyDataset:
    """Base class for datasets computed batch by batch in Python, for fit/evaluate/predict.

    Subclasses implement `__len__` (the number of batches) and `__getitem__(index)`, which
    returns a whole batch: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`, each part an
    array, a tensor, or a list/dict of them for several inputs or outputs. `on_epoch_begin()`
    and `on_epoch_end()` are called around every epoch (to reshuffle files, say). Call
    `super().__init__(**kwargs)` from the subclass' constructor.

    Args:
        workers: threads that fetch batches ahead of training (1: in the main thread). The
            batches are still used in order.
        use_multiprocessing: processes instead of threads (Keras); lamina fetches with
            threads, and warns.
        max_queue_size: the most batches fetched ahead by the workers.

    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         x = np.arange(3 * index, 3 * index + 3, dtype="float32")[:, None]
    ...         return x, x**2
    >>> data = Squares(workers=2)
    >>> len(data), data.workers, data[1][1].ravel().tolist()
    (2, 2, [9.0, 16.0, 25.0])
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _setting(self, name: str) -> Any:
        if not hasattr(self, name):
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
                "ignored.",
                stacklevel=3,
            )
            for key, default in _DEFAULTS.items():
                if not hasattr(self, key):
                    setattr(self, key, default)
        return getattr(self, name)

    @property
    def workers(self) -> int:
        return self._setting("_workers")

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return self._setting("_use_multiprocessing")

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        return self._setting("_max_queue_size")

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """The batch at position `index`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index), returning one batch"
        )

    @property
    def num_batches(self) -> int | None:
        """The number of batches (`len(self)`); a subclass returns None for an endless one."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__ (or the num_batches property)"
        )

    def __iter__(self) -> Iterator[Any]:
        count = self.num_batches
        indices = itertools.count() if count is None else range(count)
        for index in indices:
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset


def standardize_batch(dataset: PyDataset, index: int, batch: Any) -> tuple[Any, ...] | dict:
    """A batch as Keras reads it: a dict (the inputs), or a tuple of 1 to 3 parts; an
    array or tensor alone is `(x,)`. Any other structure is an error naming the class."""
    if isinstance(batch, dict):
        return batch
    if isinstance(batch, (np.ndarray, torch.Tensor)):
        return (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            f"{type(dataset).__name__}.__getitem__({index}) (a PyDataset) must return a tuple "
            "or a dict. If a tuple, it must be ordered either (input,) or (inputs, targets) "
            f"or (inputs, targets, sample_weights). Received: {str(batch)[:100]}... of type "
            f"{type(batch)}"
        )
    return batch


def _fetch_ahead(
    dataset: PyDataset, indices: Iterable[int], workers: int, depth: int
) -> Iterator[tuple[int, Any]]:
    """(index, batch) in the order of `indices`, `depth` batches fetched ahead by threads."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix=type(dataset).__name__)
    pending: deque[tuple[int, Future]] = deque()
    remaining = iter(indices)

    def submit(count: int) -> None:
        for index in itertools.islice(remaining, count):
            pending.append((index, pool.submit(dataset.__getitem__, index)))

    try:
        submit(depth)
        while pending:
            index, future = pending.popleft()
            batch = future.result()
            submit(1)
            yield index, batch
    finally:  # an epoch cut short (steps, stop_training) leaves nothing running
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def read_batches(dataset: PyDataset, shuffle: bool = False) -> Iterator[Any]:
    """One pass over `dataset`: its standardized batches, in order or in a random order
    (Python's `random`, which `set_random_seed` seeds), fetched by `dataset.workers`."""
    count = dataset.num_batches
    indices: Iterable[int]
    if count is None:
        indices = itertools.count()
    else:
        indices = list(range(count))
        if shuffle:
            random.shuffle(indices)
    workers = dataset.workers
    if workers > 1 or (workers > 0 and dataset.use_multiprocessing):
        depth = max(workers, dataset.max_queue_size, 1)
        for index, batch in _fetch_ahead(dataset, indices, workers, depth):
            yield standardize_batch(dataset, index, batch)
        return
    for index in indices:
        yield standardize_batch(dataset, index, dataset[index])
