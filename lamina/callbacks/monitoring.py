"""Callbacks that watch a logged quantity: EarlyStopping, ReduceLROnPlateau, TerminateOnNaN.

>>> from lamina.callbacks import EarlyStopping
>>> stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..utils._logging import print_msg
from .callback import Callback

__all__ = ["EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN"]


def _metric_direction(metric: Any) -> str | None:
    """'up' for metrics to maximise, 'down' for those to minimise, None if unknown."""
    direction = getattr(metric, "_direction", None)
    if direction in ("up", "down"):
        return direction
    from .. import metrics as m

    up = tuple(
        getattr(m, name)
        for name in (
            "Accuracy",
            "BinaryAccuracy",
            "CategoricalAccuracy",
            "SparseCategoricalAccuracy",
            "TopKCategoricalAccuracy",
            "SparseTopKCategoricalAccuracy",
            "Precision",
            "Recall",
            "AUC",
        )
        if hasattr(m, name)
    )
    down = tuple(
        getattr(m, name)
        for name in (
            "MeanSquaredError",
            "MeanAbsoluteError",
            "MeanAbsolutePercentageError",
            "MeanSquaredLogarithmicError",
            "RootMeanSquaredError",
            "BinaryCrossentropy",
            "CategoricalCrossentropy",
            "SparseCategoricalCrossentropy",
        )
        if hasattr(m, name)
    )
    if up and isinstance(metric, up):
        return "up"
    if down and isinstance(metric, down):
        return "down"
    return None


class _Monitor(Callback):
    """Shared monitor / mode logic: which direction is better, and what counts as better.

    `mode='auto'` decides as Keras does: 'loss' (and 'val_loss') are minimised; a compiled
    metric's log name is looked up and its direction used (accuracies, precision, recall, AUC
    are maximised; errors and crossentropies minimised); anything else raises ValueError.
    """

    def __init__(
        self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.best: float | None = None
        self._greater: bool | None = None  # None until the direction is decided

    def _direction_is_max(self) -> bool:
        if self.mode in ("min", "max"):
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return False
        model = self.model
        trainer = getattr(model, "_trainer", None) if model is not None else None
        if trainer is not None and trainer.state is not None:
            for key, metric, _ in trainer.state.all_metrics():  # by their log names
                if key == name:
                    direction = _metric_direction(metric)
                    if direction is not None:
                        return direction == "up"
        raise ValueError(
            f"{type(self).__name__} callback received monitor={self.monitor}, but lamina "
            "isn't able to automatically determine whether that metric should be maximized "
            "or minimized. Pass `mode='max'` in order to monitor based on the highest metric "
            "value, or pass `mode='min'` in order to use the lowest value."
        )

    def _ensure_direction(self) -> None:
        if self._greater is None:
            self._greater = self._direction_is_max()

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if reference is None:
            return True
        self._ensure_direction()
        if self._greater:
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def _monitor_value(self, logs: Any, what: str) -> float | None:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{what} conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=3,
            )
            return None
        return float(value)


class EarlyStopping(_Monitor):
    """Stop training when a monitored quantity has stopped improving.

    Args:
        monitor: the log key to watch, e.g. 'val_loss' or 'val_accuracy'.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints the epoch training stopped at (and weights restoration).
        mode: 'min', 'max' or 'auto' (inferred from the monitored name).
        baseline: training stops if the quantity does not improve on this within `patience`.
        restore_best_weights: at the end, put back the weights of the best epoch (only
            when some epoch was monitored).
        start_from_epoch: epochs to wait before monitoring starts.

    After training, `stopped_epoch` (0-based; 0 if training was not stopped), `best`,
    `best_epoch` and `wait` are available.
    """

    # What BackupAndRestore saves and restores.
    _state_attributes = ("wait", "stopped_epoch", "best", "best_epoch", "best_weights")

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list[Any] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._ensure_direction()
        current = self._monitor_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when the monitored quantity plateaus.

    Each epoch end also adds the current (pre-reduction) learning rate to the logs as
    'learning_rate', so it appears in `History`.

    Args:
        monitor: the log key to watch.
        factor: new_lr = lr * factor; must be < 1.
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a message at each reduction.
        mode: 'min', 'max' or 'auto'.
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.
        kwargs: accepted as Keras accepts them, and ignored (with a warning).
    """

    _state_attributes = ("wait", "cooldown_counter", "best")

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        if kwargs:  # Keras takes and ignores them (tf.keras' `epsilon`, ...); say so
            warnings.warn(
                f"ReduceLROnPlateau ignores the argument(s) {sorted(kwargs)}", stacklevel=2
            )
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._ensure_direction()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitor_value(logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = float(optimizer.learning_rate)
        if old_lr > float(np.float32(self.min_lr)):  # as Keras: min_lr as a float32
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}."
                )
            self.cooldown_counter = self.cooldown
            self.wait = 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite.

    Args:
        raise_error: raise RuntimeError instead of stopping quietly.
    """

    _read_only_batch_hooks = True  # its batch hook reads the loss and may stop training

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
