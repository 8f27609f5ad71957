"""CSVLogger, LambdaCallback and LearningRateScheduler.

>>> from lamina.callbacks import LearningRateScheduler
>>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from typing import Any

from ..utils._logging import print_msg
from .callback import Callback

__all__ = ["CSVLogger", "LambdaCallback", "LearningRateScheduler"]


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (in a distributed run, process 0 writes).

    The header is 'epoch' then the sorted log keys of the first epoch; when those contain
    no 'val_' key, 'val_<key>' columns are added too (filled with 'NA'), as Keras does.

    Args:
        filename: the CSV file.
        separator: the column separator.
        append: append to an existing file (the header is written only if it is empty).
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: Any = None
        self.writer: csv.DictWriter | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from ..saving._archive import is_writer

        self.writer = None
        self.keys = None
        if not is_writer():
            return
        mode = "w"
        self.append_header = True
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not f.readline()
            mode = "a"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115 - closed at train end

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.csv_file is None or self.csv_file.closed:
            return  # not the writing process
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.csv_file,
                fieldnames=["epoch", *self.keys],
                delimiter=self.sep,
                lineterminator="\r\n",
            )
            if self.append_header:
                self.writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and getattr(value, "ndim", 1) != 0:
        return f'"[{", ".join(map(str, value))}]"'
    return value


class LambdaCallback(Callback):
    """A callback built from plain functions.

    `on_epoch_begin` / `on_epoch_end` take (epoch, logs); `on_train_begin` / `on_train_end`
    take (logs); `on_train_batch_begin` / `on_train_batch_end` take (batch, logs). Extra
    keyword arguments become attributes of the callback.
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to `schedule(epoch, lr)`.

    `epoch` is 0-based and `lr` the current rate; a one-argument `schedule(epoch)` works too.
    The rate in use is added to each epoch's logs as 'learning_rate'.

    Args:
        schedule: the function returning the new learning rate (a float).
        verbose: 1 prints the rate set at each epoch.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # a schedule taking only the epoch
            lr = self.schedule(epoch)
        if not _is_float(lr):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _is_float(value: Any) -> bool:
    """Python floats and numpy floating scalars, as Keras accepts (ints are rejected)."""
    import numpy as np

    return isinstance(value, (float, np.floating))
