"""The Callback base class, CallbackList, History and ProgbarLogger.

>>> from lamina.callbacks import Callback
>>> class Stop(Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         self.model.stop_training = True
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from typing import Any

from ..utils._logging import print_msg
from ..utils.progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]


class Callback:
    """Base class: override the hooks you need. `self.model` and `self.params` are set by fit."""

    # True on lamina's callbacks whose batch hooks only read the logs or save files, so that
    # a compiled step need not check the layers' Python state between two batches (see
    # lamina.training.jit). Read from the class that defines each hook.
    _read_only_batch_hooks = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] | None = None  # Keras: None until fit sets them

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Any = None) -> None: ...
    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_test_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Any = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Any = None) -> None: ...
    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Any = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None: ...


class History(Callback):
    """Records the epoch logs: `history.history['loss']` is the list of epoch losses."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints Keras' progress bar (`lamina.utils.Progbar`) during fit / evaluate / predict.

    As in Keras, verbose=1 redraws the bar as batches end (a redraw every `interval`
    seconds at most; the batch logs are read from the device only then), and verbose=2
    prints one line per epoch. Validation inside fit is silent.
    """

    _read_only_batch_hooks = True

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose: int = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._called_in_fit = True  # validation inside fit is silent

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start()
        if self.verbose and self.epochs > 1:  # Keras prints no header for one epoch
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._finish(logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._called_in_fit:
            self._start()

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._start()

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self._update(batch, None)  # the bar shows no outputs

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        self._finish(None)

    def _start(self) -> None:
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose, stateless_metrics=set())

    def _update(self, batch: int, logs: Any) -> None:
        if self.progbar is None:
            self._start()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar._advance(self.seen, logs, finalize=False, lazy=True)

    def _finish(self, logs: Any) -> None:
        if self.progbar is None:
            self._start()
        if self.target is None:  # an unknown number of steps: known from now on, as Keras
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class CallbackList(Callback):
    """Calls a hook on every callback in order; adds History and ProgbarLogger as Keras does."""

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        if isinstance(callbacks, Callback):  # one callback, not in a list: Keras takes it
            callbacks = [callbacks]
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be lamina.callbacks.Callback instances; got {callback!r}"
                )
        self.history: History | None = None
        if add_history:
            existing = [c for c in self.callbacks if isinstance(c, History)]
            self.history = existing[0] if existing else History()
            if not existing:
                self.callbacks.append(self.history)
        # Last, as Keras: the bar prints what the other callbacks added to the logs.
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if model is not None:
            self.set_model(model)
        self.set_params(params)
        from ..saving._archive import is_writer

        # In a distributed run only process 0 prints: the others' callback output is dropped.
        self._quiet = not is_writer()
        # Hooks run after every callback's own: for callbacks that save or restore the others'
        # state (BackupAndRestore), which must see them after they reset or update it.
        self._after_train_begin = [
            c._on_train_begin_after_all
            for c in self.callbacks
            if hasattr(c, "_on_train_begin_after_all")
        ]
        self._after_epoch = [
            c._on_epoch_end_after_all
            for c in self.callbacks
            if hasattr(c, "_on_epoch_end_after_all")
        ]
        self._after_batch = [
            c._on_train_batch_end_after_all
            for c in self.callbacks
            if hasattr(c, "_on_train_batch_end_after_all")
        ]

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def batch_hooks_read_only(self, mode: str) -> bool:
        """Whether every callback's batch hooks for `mode` ('train', 'test', 'predict') are
        the base class's no-ops or lamina's read-only ones: then nothing but lamina runs
        between two steps. A hook set on the instance (LambdaCallback) or defined by any
        other class, a user's subclass of a lamina callback included, may change the model.
        """
        hooks = (f"on_{mode}_batch_begin", f"on_{mode}_batch_end")
        for callback in self.callbacks:
            for hook in hooks:
                if hook in vars(callback):
                    return False
                owner = next(k for k in type(callback).__mro__ if hook in vars(k))
                if owner is not Callback and not vars(owner).get("_read_only_batch_hooks"):
                    return False
        return True

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def _call(self, hook: str, *args: Any) -> None:
        if args[-1] is None:  # Keras hands every hook a dict, empty where it has no logs
            args = (*args[:-1], {})
        if self._quiet:
            with contextlib.redirect_stdout(io.StringIO()):
                for callback in self.callbacks:
                    getattr(callback, hook)(*args)
            return
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_train_begin", logs)
        for hook in self._after_train_begin:
            hook(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # The callbacks share a copy, as in Keras: what they add (ReduceLROnPlateau's
        # 'learning_rate') reaches History but not the caller's logs (on_train_end's).
        logs = None if logs is None else dict(logs)
        self._call("on_epoch_end", epoch, logs)
        for hook in self._after_epoch:
            hook(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._call("on_train_batch_end", batch, logs)
        for hook in self._after_batch:
            hook(batch, logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self._call("on_predict_batch_end", batch, logs)
