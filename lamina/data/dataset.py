"""`lamina.data.Dataset`: an in-memory or lazily loaded dataset with tf.data's everyday methods.

A dataset is a *source* (tensors in memory, or a function that loads the elements at given
indices, as image folders do) plus a pipeline: shuffle, batch, map, take, prefetch. Every
method returns a new dataset, as tf.data does. Tensor sources are moved to the device once and
batched there by indexing, like arrays passed to `fit`, so an epoch costs no host-to-device
copies; loaded sources are read in a background thread when prefetching and copied to the
device (from pinned memory on a GPU, without blocking).

Differences from tf.data, on purpose: `map` runs on what the dataset yields, so on whole batches
once `batch` is set, whatever the order of the calls (the fastest way on a GPU: write `fn` with
batch-aware tensor operations, as a Keras preprocessing layer is written); `shuffle` always
permutes whole elements before batching (a full shuffle, whatever `buffer_size`).

>>> import numpy as np
>>> from lamina.data import Dataset
>>> ds = Dataset.from_tensor_slices((np.arange(10.0), np.arange(10))).batch(4)
>>> len(ds), [tuple(x.shape) for x, y in ds]
(3, [(4,), (4,), (2,)])
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from ..layers._symbolic import map_structure

__all__ = ["Dataset"]


def _take(data: Any, index: Any) -> Any:
    def take(leaf: Any) -> Any:
        if isinstance(leaf, np.ndarray) and isinstance(index, torch.Tensor):
            return leaf[index.cpu().numpy()]  # strings stay NumPy arrays on the host
        return leaf[index]

    return map_structure(take, data)


def _on_device(leaf: Any, device: torch.device, pin: bool = False) -> Any:
    if not isinstance(leaf, torch.Tensor):
        return leaf  # a NumPy array of strings, for the layers that take them
    return (leaf.pin_memory() if pin else leaf).to(device, non_blocking=pin)


class _TensorSource:
    """Elements are slices of in-memory tensors; kept on each device they are used on."""

    def __init__(self, data: Any) -> None:
        from ..training.adapters import num_samples, to_tensor_structure

        if isinstance(data, list) and data and not isinstance(data[0], (int, float)):
            data = tuple(data)
        self.data = to_tensor_structure(data, torch.device("cpu"), "from_tensor_slices")
        self.size = num_samples(self.data, "from_tensor_slices") or 0
        self._on: dict[torch.device, Any] = {}

    def fetch(self, index: Any, device: torch.device) -> Any:
        data = self._on.get(device)
        if data is None:
            data = map_structure(lambda t: _on_device(t, device), self.data)
            self._on = {device: data}  # one copy: the device the dataset is used on now
        return _take(data, index)


class _LoaderSource:
    """Elements are loaded by `load(indices) -> batch structure of CPU tensors` on demand."""

    def __init__(self, size: int, load: Callable[[list[int]], Any]) -> None:
        self.size = size
        self.load = load

    def fetch(self, index: Any, device: torch.device) -> Any:
        single = isinstance(index, int)
        if isinstance(index, slice):
            indices = list(range(*index.indices(self.size)))
        elif single:
            indices = [index]
        else:
            indices = index.tolist()
        batch = self.load(indices)
        if single:
            batch = _take(batch, 0)
        return _to_device(batch, device)


def _to_device(batch: Any, device: torch.device) -> Any:
    if device.type == "cpu":
        return batch
    pin = device.type == "cuda"
    return map_structure(lambda t: _on_device(t, device, pin), batch)


def _prefetched(iterator: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run `iterator` in a background thread, `depth` items ahead of the consumer."""
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((done, None))
        except BaseException as error:  # handed to the consumer, raised there
            items.put((done, error))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()


class Dataset:
    """A dataset of tensors: iterate it, or pass it to `fit`, `evaluate` and `predict`.

    Build one with `Dataset.from_tensor_slices`, or get one from
    `lamina.utils.image_dataset_from_directory`. Iterating yields torch tensors with the
    elements' structure (an array, a tuple such as `(x, y)` or `(x, y, sample_weight)`, a dict),
    on the device set by `to` (the CPU by default); `fit` uses its own training device.
    An unbatched dataset passed to `fit` is batched with fit's `batch_size`.

    >>> import numpy as np
    >>> ds = Dataset.from_tensor_slices({"a": np.zeros((5, 2))}).shuffle(True, seed=1).batch(2)
    >>> [tuple(batch["a"].shape) for batch in ds.take(2)]
    [(2, 2), (2, 2)]
    """

    def __init__(self, source: Any, **pipeline: Any) -> None:
        self._source = source
        self._batch_size: int | None = pipeline.get("batch_size")
        self._drop_remainder: bool = pipeline.get("drop_remainder", False)
        self._shuffle: bool = pipeline.get("shuffle", False)
        self._seed: int | None = pipeline.get("seed")
        self._maps: tuple[Callable[..., Any], ...] = pipeline.get("maps", ())
        self._element_limit: int | None = pipeline.get("element_limit")
        self._batch_limit: int | None = pipeline.get("batch_limit")
        self._prefetch: int = pipeline.get("prefetch", 0)
        self._device: torch.device = torch.device(pipeline.get("device") or "cpu")
        self._generator: torch.Generator | None = None
        self.class_names: list[str] | None = pipeline.get("class_names")
        self.file_paths: list[str] | None = pipeline.get("file_paths")

    def _with(self, **changes: Any) -> Dataset:
        pipeline = {
            "batch_size": self._batch_size,
            "drop_remainder": self._drop_remainder,
            "shuffle": self._shuffle,
            "seed": self._seed,
            "maps": self._maps,
            "element_limit": self._element_limit,
            "batch_limit": self._batch_limit,
            "prefetch": self._prefetch,
            "device": self._device,
            "class_names": self.class_names,
            "file_paths": self.file_paths,
        }
        pipeline.update(changes)
        return Dataset(self._source, **pipeline)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_tensor_slices(cls, data: Any) -> Dataset:
        """A dataset whose elements are the slices of `data` along its first axis.

        Args:
            data: a NumPy array or tensor, or a tuple / dict (nested) of them with a common
                first axis, e.g. `(x, y)` or `(x, y, sample_weight)`.

        >>> import numpy as np
        >>> [int(v) for v in Dataset.from_tensor_slices(np.arange(3))]
        [0, 1, 2]
        """
        source = _TensorSource(data)
        if source.size == 0:
            raise ValueError("Dataset.from_tensor_slices received no samples (first axis 0)")
        return cls(source)

    @classmethod
    def _from_loader(cls, size: int, load: Callable[[list[int]], Any], **pipeline: Any) -> Dataset:
        return cls(_LoaderSource(size, load), **pipeline)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Group `batch_size` consecutive elements into one (the last may be smaller, unless
        `drop_remainder`)."""
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"Dataset.batch: batch_size must be a positive int; got {batch_size!r}"
            )
        if self._batch_size is not None:
            raise ValueError("Dataset.batch: this dataset is already batched")
        return self._with(batch_size=batch_size, drop_remainder=bool(drop_remainder))

    def shuffle(self, buffer_size: int | bool = True, seed: int | None = None) -> Dataset:
        """Reshuffle the elements at every pass (a full permutation, whatever `buffer_size`).

        With `seed`, the sequence of orders is the same each time the dataset is built; without,
        it follows torch's global generator (`lamina.utils.set_random_seed`)."""
        if buffer_size is False:
            return self._with(shuffle=False)
        return self._with(shuffle=True, seed=seed)

    def map(self, fn: Callable[..., Any]) -> Dataset:
        """Apply `fn` to every yielded item: `fn(*item)` for tuples, else `fn(item)`.

        Runs on whole batches once the dataset is batched (see the module docstring)."""
        if not callable(fn):
            raise TypeError(f"Dataset.map expects a callable; got {type(fn).__name__}")
        return self._with(maps=(*self._maps, fn))

    def take(self, count: int) -> Dataset:
        """At most `count` items: batches if the dataset is batched, else elements."""
        if self._batch_size is None:
            limit = count if self._element_limit is None else min(count, self._element_limit)
            return self._with(element_limit=limit)
        limit = count if self._batch_limit is None else min(count, self._batch_limit)
        return self._with(batch_limit=limit)

    def prefetch(self, buffer_size: int = 1) -> Dataset:
        """Prepare up to `buffer_size` items ahead in a background thread (loaded sources)."""
        return self._with(prefetch=max(int(buffer_size), 0))

    def to(self, device: str | torch.device) -> Dataset:
        """Yield tensors on `device` (in-memory data is moved there once)."""
        return self._with(device=torch.device(device))

    # ------------------------------------------------------------------ iterating

    @property
    def is_batched(self) -> bool:
        """Whether `batch` was called."""
        return self._batch_size is not None

    def _elements(self) -> int:
        size = self._source.size
        return size if self._element_limit is None else min(size, self._element_limit)

    def __len__(self) -> int:
        elements = self._elements()
        if self._batch_size is None:
            return elements
        rounding = math.floor if self._drop_remainder else math.ceil
        batches = int(rounding(elements / self._batch_size))
        return batches if self._batch_limit is None else min(batches, self._batch_limit)

    def _order(self, device: torch.device) -> torch.Tensor | None:
        if not self._shuffle:
            return None
        if self._seed is not None:
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(self._seed)
            order = torch.randperm(self._source.size, generator=self._generator)
        else:
            order = torch.randperm(self._source.size)
        return order[: self._elements()].to(device, non_blocking=True)

    def _apply_maps(self, item: Any) -> Any:
        for fn in self._maps:
            item = fn(*item) if isinstance(item, tuple) else fn(item)
        return item

    def iterate(self, device: torch.device | None = None, batch_size: int | None = None) -> Any:
        """The items of one pass on `device`; an unbatched dataset is batched by `batch_size`
        when given (that is how `fit` reads it)."""
        device = self._device if device is None else torch.device(device)
        step = self._batch_size or batch_size
        items = self._pass(device, step)
        if self._prefetch and isinstance(self._source, _LoaderSource):
            items = _prefetched(items, self._prefetch)
        return items

    def _pass(self, device: torch.device, step: int | None) -> Iterator[Any]:
        order = self._order(device)
        elements = self._elements()
        source = self._source
        if step is None:
            for i in range(elements):
                index = i if order is None else int(order[i])
                yield self._apply_maps(source.fetch(index, device))
            return
        stop = elements - elements % step if self._drop_remainder else elements
        limit = self._batch_limit if self._batch_size is not None else None
        for count, start in enumerate(range(0, stop, step)):
            if limit is not None and count >= limit:
                return
            end = min(start + step, stop)
            index = slice(start, end) if order is None else order[start:end]
            yield self._apply_maps(source.fetch(index, device))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterate())

    def __repr__(self) -> str:
        batched = f"batch_size={self._batch_size}" if self._batch_size else "unbatched"
        return f"<Dataset: {self._source.size} elements, {batched}, {len(self)} items>"
