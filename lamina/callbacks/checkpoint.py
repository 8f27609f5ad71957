"""ModelCheckpoint: save the model or its weights during training, every epoch, every N
batches, or the best.

>>> from lamina.callbacks import ModelCheckpoint
>>> ckpt = ModelCheckpoint(
...     "ckpt-{epoch:02d}-{val_loss:.2f}.weights.safetensors",
...     save_weights_only=True,
...     save_best_only=True,
... )
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

from ..utils._logging import print_msg
from .monitoring import _Monitor

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) to `filepath` during `fit`.

    Args:
        filepath: path of the file to write, a format string that may use `{epoch}` (1-based),
            `{batch}` (1-based, when `save_freq` is an int) and any log key, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.2f}.lamina"``. It must end in ``.lamina`` (or
            ``.keras``), or ``.safetensors`` with `save_weights_only=True` (Keras'
            ``.weights.h5`` is accepted there and holds the same safetensors data).
        monitor: the log key compared when `save_best_only=True`.
        verbose: 1 prints a message at each save decision.
        save_best_only: only save when `monitor` improves on the best value seen.
        save_weights_only: True saves the weights (`model.save_weights`, a `.safetensors`
            file); False the whole model (`model.save`, a `.lamina` file).
        mode: 'min', 'max' or 'auto'.
        save_freq: 'epoch' (at each epoch end) or an int: every that many training batches.
        initial_value_threshold: a starting "best" value that must be beaten before saving
            (with `save_best_only=True`).
    """

    _read_only_batch_hooks = True  # its batch hook saves files; the layers stay as they are

    _state_attributes = ("best", "_batches_since_save", "_last_batch_seen")

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode)
        self.best = initial_value_threshold
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_since_save = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
                "integer values"
            )
        if not save_weights_only:
            if not self.filepath.endswith((".lamina", ".keras")):
                raise ValueError(
                    "The filepath provided must end in `.lamina` (lamina's model format; "
                    "`.keras` is accepted for Keras code and holds the same format). "
                    f"Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".safetensors", ".weights.h5")):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                "provided must end in `.safetensors` (lamina's weights format; Keras' "
                f"`.weights.h5` is accepted and holds the same). Received: filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self._should_save_on_batch(batch):
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_best_only:
            self._ensure_direction()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            seen = batch + 1  # a new epoch started: batch indices restart at 0
        else:
            seen = batch - self._last_batch_seen
        self._batches_since_save += seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            return True
        return False

    def _file_path(self, epoch: int, batch: int | None, logs: Any) -> str:
        values = dict(logs or {})
        if batch is not None and "batch" not in values:
            values["batch"] = batch + 1
        values["epoch"] = epoch + 1
        try:
            return self.filepath.format(**values)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from None

    def _should_save(self, epoch: int, logs: Any, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        current = float(current)
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: Any) -> None:
        filepath = self._file_path(epoch, batch, logs)
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            # A diverged model would overwrite the last good checkpoint (Keras saves it).
            warnings.warn(
                f"ModelCheckpoint: not saving {filepath} at epoch {epoch + 1}: the loss is "
                f"{float(loss)}; the last checkpoint written is kept.",
                stacklevel=2,
            )
            return
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
