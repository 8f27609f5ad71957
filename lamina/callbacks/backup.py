"""BackupAndRestore: continue an interrupted `fit` exactly where it stopped.

>>> import tempfile
>>> from lamina.callbacks import BackupAndRestore
>>> backup = BackupAndRestore(backup_dir=tempfile.mkdtemp())
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from .callback import Callback, History, ProgbarLogger

__all__ = ["BackupAndRestore"]

STATE_FILE = "training_state.lamina"


class BackupAndRestore(Callback):
    """Back the training state up during `fit`; a new `fit` with the same callback resumes it.

    The state is weights, optimizer state (and so the schedule's position), the epoch and
    batch reached, the epoch's running loss and metrics, the other callbacks' counters
    (EarlyStopping's patience, ReduceLROnPlateau's wait, the best values seen) and every
    random generator (Python, NumPy, torch CPU and CUDA, seeded layers, the shuffling order),
    so that the resumed run computes exactly what the uninterrupted one would have: on CPU,
    bit-identical weights. Unlike Keras, a backup taken mid-epoch resumes at the next batch,
    not at the start of the epoch. The file is written atomically, so a crash during a
    backup leaves the previous one.

    Args:
        backup_dir: folder for the backup (used by this callback only).
        save_freq: 'epoch' (after each epoch) or an int: every that many batches.
        double_checkpoint: keep the previous backup too, and fall back to it when the latest
            cannot be read.
        delete_checkpoint: delete the backup when `fit` finishes (not when it is interrupted).
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = Path(self.backup_dir) / STATE_FILE
        self._previous = Path(f"{self._path}.bkp")
        self._current_epoch = 0
        self._batches_since_save = 0

    def _others(self) -> list[Callback]:
        trainer = getattr(self.model, "_trainer", None)
        callback_list = getattr(trainer, "callback_list", None)
        if callback_list is None:
            return []
        return [
            c
            for c in callback_list.callbacks
            if c is not self and not isinstance(c, (History, ProgbarLogger))
        ]

    def _on_train_begin_after_all(self, logs: dict[str, Any] | None = None) -> None:
        # After every callback's on_train_begin, which resets the counters restored here.
        from ..saving.training_state import load_training_state

        if self.model.optimizer is None:
            raise ValueError("BackupAndRestore needs a compiled model")
        self._batches_since_save = 0
        if not self._path.exists() and not self._previous.exists():
            return
        try:
            state = load_training_state(self._path, self.model, self._others())
        except (OSError, ValueError):
            if not (self.double_checkpoint and self._previous.exists()):
                raise
            state = load_training_state(self._previous, self.model, self._others())
        self._current_epoch = state["epoch"]
        self.model._initial_epoch = state["epoch"]
        if state["step"]:
            self.model._resume_position = state

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._current_epoch = epoch

    def _on_train_batch_end_after_all(self, batch: int, logs: Any = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            epoch_rng = getattr(self.model._trainer, "epoch_rng", None)
            self._save(self._current_epoch, batch + 1, epoch_rng)

    def _on_epoch_end_after_all(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # Called by CallbackList after every callback's on_epoch_end, so that their state
        # (EarlyStopping's wait, ...) is saved as of the end of this epoch.
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0, None)

    def _save(self, epoch: int, step: int, epoch_rng: Any) -> None:
        from ..saving._archive import is_writer
        from ..saving.training_state import save_training_state

        if not is_writer():  # in a torch.distributed job, rank 0 keeps the backup
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and self._path.exists():
            shutil.copy2(self._path, self._previous)
        save_training_state(self._path, self.model, epoch, step, epoch_rng, self._others())

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        from ..saving._archive import is_writer

        if not self.delete_checkpoint or not is_writer():
            return
        for path in (self._path, self._previous):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # keep the folder if anything else is in it
            os.rmdir(self.backup_dir)
