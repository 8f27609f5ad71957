"""`split_dataset`: one in-memory dataset -> (left, right) `lamina.data.Dataset`s, e.g. train/test.

Sizes are checked and rounded exactly as Keras does. With `shuffle`, the samples are drawn with
`torch.randperm` seeded by `seed`, which is what Keras' torch backend does, so the same seed
puts the same samples on each side; without it, the left split is the first samples and the
right split the last ones, in order (Keras' documented behaviour; its torch backend shuffles
even then, a bug not reproduced here).

A `lamina.data.Dataset` is read once, whole, as Keras reads a tf.data one: this is meant for
small datasets that fit in memory.

>>> import numpy as np
>>> left, right = split_dataset(np.arange(10.0), left_size=0.8)
>>> len(left), [float(x) for x in right]
(8, [8.0, 9.0])
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ..data.dataset import Dataset
from ..layers._symbolic import flatten_structure, map_structure
from ._text_dataset import _HostTextSource

__all__ = ["split_dataset"]

_NAME = "split_dataset"


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not _is_int(value) and not isinstance(value, bool)


def _split_sizes(left: Any, right: Any, total: int) -> tuple[int, int]:
    """Keras' rules: a float is a fraction (rounded), an int a count, None the complement."""
    for name, size in (("left_size", left), ("right_size", right)):
        if size is not None and not (_is_int(size) or _is_float(size)):
            raise TypeError(
                f"{_NAME}: {name} must be an int (a number of samples), a float (a fraction) "
                f"or None; got {type(size).__name__}"
            )
    if left == 0 and right == 0:
        raise ValueError(f"{_NAME}: left_size and right_size are both 0; one must be positive")
    for name, size in (("left_size", left), ("right_size", right)):
        if (_is_int(size) and not 0 < size < total) or (_is_float(size) and not 0 < size < 1):
            raise ValueError(
                f"{_NAME}: {name} must be an int between 1 and {total - 1} (the dataset has "
                f"{total} samples) or a float strictly between 0 and 1; got {name}={size}"
            )
    if _is_float(left) and _is_float(right) and left + right > 1:
        raise ValueError(f"{_NAME}: left_size + right_size is {left + right}; it must be <= 1")
    left = round(left * total) if _is_float(left) else left
    right = round(right * total) if _is_float(right) else right
    left = total - right if left is None else int(left)
    right = total - left if right is None else int(right)
    if left + right > total:
        raise ValueError(
            f"{_NAME}: left_size + right_size is {left + right}, more than the {total} samples"
        )
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(
                f"{_NAME}: with {total} samples, left_size={left} and right_size={right} leave "
                f"the {side} split empty; give larger sizes"
            )
    return left, right


def _host_leaf(value: Any, name: str) -> Any:
    """A tensor, or a NumPy array when it holds strings (texts stay on the host)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "OUS" else torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"{_NAME}: {name} must be a NumPy array or torch tensor; got {type(value)}")


def _join(items: list[Any], batched: bool) -> Any:
    """Samples (or batches) with one structure -> that structure of arrays of all of them."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(_join([item[i] for item in items], batched) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _join([item[key] for item in items], batched) for key in first}
    if isinstance(first, torch.Tensor):
        return torch.cat(items) if batched else torch.stack(items)
    if isinstance(first, np.ndarray):
        return np.concatenate(items) if batched else np.stack(items)
    if isinstance(first, str):
        texts = np.empty(len(items), dtype=object)
        texts[:] = items
        return texts
    return torch.as_tensor(items)


def _from_arrays(dataset: Any) -> Any:
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return _host_leaf(dataset, "dataset")
    if not dataset:
        raise ValueError(f"{_NAME}: received an empty {type(dataset).__name__}; expected arrays")
    leaves = tuple(_host_leaf(item, f"item {i} of the dataset") for i, item in enumerate(dataset))
    lengths = [len(leaf) for leaf in leaves]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"{_NAME}: the arrays of the dataset must have the same length (first axis); got "
            f"lengths {lengths}"
        )
    return leaves


def _from_dataset(dataset: Dataset) -> Any:
    items = list(dataset.iterate(torch.device("cpu")))
    if not items:
        raise ValueError(f"{_NAME}: received an empty dataset")
    return _join(items, dataset.is_batched)


def _as_dataset(data: Any, index: torch.Tensor, like: Dataset | None) -> Dataset:
    part = map_structure(
        lambda leaf: leaf[index.numpy() if isinstance(leaf, np.ndarray) else index], data
    )
    if any(isinstance(leaf, np.ndarray) for leaf in flatten_structure(part)):
        source = _HostTextSource(
            len(index), lambda indices: map_structure(lambda leaf: leaf[indices], part)
        )
        result = Dataset(source)
    else:
        result = Dataset.from_tensor_slices(part)
    if like is not None:
        result.class_names = like.class_names
        if like.is_batched:
            result = result.batch(like._batch_size)
    return result


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[Dataset, Dataset]:
    """Split a dataset in two: a left part (e.g. training) and a right part (e.g. test).

    Args:
        dataset: a NumPy array or torch tensor, a tuple/list of them with a common first
            axis (e.g. `(x, y)`), or a `lamina.data.Dataset` (read whole).
        left_size: a float in (0, 1): the fraction of samples on the left (rounded); an int:
            their number; None: all the samples not on the right.
        right_size: the same for the right split; None: all the samples not on the left.
        shuffle: draw the samples at random before splitting.
        seed: the shuffling seed (without it, torch's global generator draws).

    Returns:
        Two `lamina.data.Dataset`s of the samples' structure (an array, or a tuple). A
        batched dataset gives splits batched the same way, and `class_names` are kept.

    >>> x, y = np.zeros((10, 3)), np.arange(10)
    >>> left, right = split_dataset((x, y), right_size=3, shuffle=True, seed=5)
    >>> len(left), sorted(int(label) for _, label in right)
    (7, [2, 7, 8])
    """
    if isinstance(dataset, Dataset):
        like = dataset
    elif isinstance(dataset, (np.ndarray, torch.Tensor, list, tuple)):
        like = None
    else:
        raise TypeError(
            f"{_NAME}: dataset must be a NumPy array, a torch tensor, a tuple/list of them or "
            f"a lamina.data.Dataset; got {type(dataset).__name__}"
        )
    if left_size is None and right_size is None:
        raise ValueError(f"{_NAME}: give left_size, right_size or both; got neither")
    data = _from_dataset(dataset) if like is not None else _from_arrays(dataset)
    total = len(flatten_structure(data)[0])
    left, right = _split_sizes(left_size, right_size, total)
    if shuffle:
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        order = torch.randperm(total, generator=generator)
    else:
        order = torch.arange(total)
    return _as_dataset(data, order[:left], like), _as_dataset(data, order[total - right :], like)
