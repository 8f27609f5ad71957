"""`timeseries_dataset_from_array`: sliding windows over a series, as a `lamina.data.Dataset`.

The windows are the ones Keras makes, in the same order: window `i` starts at
`start_index + i * sequence_stride` and takes every `sampling_rate`-th step, `sequence_length`
of them, ending before `end_index`; its target is `targets[start_index + i * sequence_stride]`.
They are not copied out: the series is kept once (on the device it is used on) and each batch
is gathered from it by indexing, so a long series with long windows costs no extra memory.

Shuffling draws a new order of all the windows at every pass (with `seed`, the same orders
each time the dataset is built). Each pass holds exactly Keras' set of windows, but the order
cannot be Keras': tf.data's shuffle buffer draws from TensorFlow's own random generator.

>>> import numpy as np
>>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
>>> [batch.tolist() for batch in ds]
[[[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [[4, 5, 6], [5, 6, 7], [6, 7, 8], [7, 8, 9]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.dataset import Dataset
from ..training.adapters import to_tensor_structure

__all__ = ["timeseries_dataset_from_array"]

_NAME = "timeseries_dataset_from_array"


class _WindowSource:
    """Element `i` is `series[starts[i] + offsets]` (and `targets[starts[i]]`)."""

    def __init__(
        self, series: torch.Tensor, targets: torch.Tensor | None, starts: torch.Tensor, offsets
    ) -> None:
        self.size = len(starts)
        self._host = (series, targets, starts, offsets)
        self._on: dict[torch.device, tuple[Any, ...]] = {}

    def _tensors(self, device: torch.device) -> tuple[Any, ...]:
        tensors = self._on.get(device)
        if tensors is None:
            tensors = tuple(None if t is None else t.to(device) for t in self._host)
            self._on = {device: tensors}  # one copy: the device the dataset is used on now
        return tensors

    def fetch(self, index: Any, device: torch.device) -> Any:
        series, targets, starts, offsets = self._tensors(device)
        if isinstance(index, slice):
            index = torch.arange(*index.indices(self.size), device=device)
        first_steps = starts[index]
        windows = series[first_steps.unsqueeze(-1) + offsets]
        if targets is None:
            return windows
        return windows, targets[first_steps]


def _check_positions(length: int, start_index: int | None, end_index: int | None) -> None:
    # Keras skips these checks for 0 and None alike (an end_index of 0 gives no window).
    if start_index:
        if start_index < 0:
            raise ValueError(f"{_NAME}: start_index must be 0 or more; got {start_index}")
        if start_index >= length:
            raise ValueError(
                f"{_NAME}: start_index must be lower than the length of the data ({length}); "
                f"got start_index={start_index}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                f"{_NAME}: end_index must be higher than start_index; got "
                f"start_index={start_index}, end_index={end_index}"
            )
        if end_index >= length:
            raise ValueError(
                f"{_NAME}: end_index must be lower than the length of the data ({length}); "
                f"got end_index={end_index}"
            )
        if end_index <= 0:
            raise ValueError(f"{_NAME}: end_index must be higher than 0; got {end_index}")


def _check_period(name: str, value: int, length: int) -> None:
    if value <= 0:
        raise ValueError(f"{_NAME}: {name} must be higher than 0; got {name}={value}")
    if value >= length:
        raise ValueError(
            f"{_NAME}: {name} must be lower than the length of the data ({length}); "
            f"got {name}={value}"
        )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> Dataset:
    """A dataset of sliding windows over `data` (axis 0 is time), with their targets.

    Args:
        data: the series: a NumPy array, torch tensor or anything `np.asarray` takes, of
            shape (steps, ...). Floats become `floatx()`, as everywhere in lamina.
        targets: `targets[i]` is the target of the window that starts at step `i`, or None
            for windows only.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of two consecutive windows.
        sampling_rate: steps between two steps of one window.
        batch_size: windows per batch; None yields single windows.
        shuffle: draw the windows in a new random order at every pass.
        seed: the shuffling seed.
        start_index: the first step that windows may use (default 0).
        end_index: windows end before this step (default: the end of the data).
        format: Keras' choice of a tf.data or a grain dataset ("tf", "grain"); both give a
            lamina Dataset here.

    Returns:
        A `lamina.data.Dataset` yielding `(windows, targets)` (or windows) as torch tensors:
        windows of shape (batch, sequence_length, ...).

    >>> x = np.arange(20.0)
    >>> ds = timeseries_dataset_from_array(x[:-3], x[3:], sequence_length=3, batch_size=2)
    >>> windows, targets = next(iter(ds))
    >>> windows.tolist(), targets.tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [3.0, 4.0])
    """
    if format not in ("tf", "grain"):  # Keras' dataset kinds; both give a lamina Dataset
        raise ValueError(
            f'timeseries_dataset_from_array: format must be "tf" or "grain"; got {format!r}'
        )
    length = len(data)
    _check_positions(length, start_index, end_index)
    _check_period("sampling_rate", sampling_rate, length)
    _check_period("sequence_stride", sequence_stride, length)
    if not isinstance(sequence_length, (int, np.integer)) or sequence_length <= 0:
        raise ValueError(
            f"{_NAME}: sequence_length must be a positive int; got {sequence_length!r}"
        )
    first = start_index or 0
    last = length if end_index is None else end_index
    count = last - first - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    starts = torch.arange(0, max(count, 0), sequence_stride, dtype=torch.int64) + first
    if targets is not None and len(starts) and int(starts[-1]) >= len(targets):
        raise ValueError(
            f"{_NAME}: the window starting at step {int(starts[-1])} has no target: targets "
            f"has {len(targets)} entries. targets[i] is the target of the window starting at i."
        )
    cpu = torch.device("cpu")
    series = to_tensor_structure(data, cpu, f"{_NAME} data")
    target_tensor = (
        None if targets is None else to_tensor_structure(targets, cpu, f"{_NAME} targets")
    )
    offsets = torch.arange(sequence_length, dtype=torch.int64) * sampling_rate
    dataset = Dataset(_WindowSource(series, target_tensor, starts, offsets))
    if shuffle:
        dataset = dataset.shuffle(seed=seed)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset
