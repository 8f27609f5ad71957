"""SwapEMAWeights: evaluate (and optionally checkpoint) with the optimizer's moving average of
the weights instead of the weights themselves.

>>> import numpy as np, lamina
>>> from lamina.callbacks.ema import SwapEMAWeights
>>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
>>> model.compile(optimizer=lamina.optimizers.SGD(use_ema=True), loss="mse")
>>> x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
>>> history = model.fit(x, y, validation_data=(x, y), verbose=0, callbacks=[SwapEMAWeights()])
>>> sorted(history.history)  # val_loss: computed with the EMA weights
['loss', 'val_loss']
"""

from __future__ import annotations

from typing import Any

import torch

from .callback import Callback

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Puts the optimizer's exponential moving average (EMA) of the weights into the model
    for evaluation and prediction, and the trained weights back afterwards.

    Needs an optimizer created with `use_ema=True`. The swap is in place (no copy of the model
    is kept): do not change the weights or the EMA in other callbacks meanwhile. With
    `swap_on_epoch=True` the EMA weights are also in the model from the end of each epoch to
    the start of the next, so callbacks placed after this one (ModelCheckpoint) see them. At
    the end of `fit` the model holds the EMA weights either way (the optimizer's
    `finalize_variable_values`).

    Args:
        swap_on_epoch: also swap at the end of each epoch and back at the start of the next.

    Unlike Keras 3.15.1, whose `on_predict_end` leaves the EMA weights in the model after
    `predict` (an inverted condition), the trained weights are put back after `predict` too.

    >>> callback = SwapEMAWeights(swap_on_epoch=True)
    >>> callback.swap_on_epoch
    True
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight, its moving average) for every parameter the optimizer was built on."""
        optimizer = getattr(self.model, "optimizer", None)
        if not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)} (optimizer "
                f"{type(optimizer).__name__}); compile with e.g. "
                "optimizer=lamina.optimizers.Adam(use_ema=True)."
            )
        if not optimizer.built:
            raise ValueError(
                f"SwapEMAWeights: the optimizer {type(optimizer).__name__} has no moving "
                "averages yet: it is built by the first fit(). Train before evaluating or "
                "predicting with this callback."
            )
        # lamina's Optimizer keeps the EMA as the "average" slot, one per built parameter.
        return list(zip(optimizer._params, optimizer._slots["average"], strict=True))

    @torch.no_grad()
    def _swap(self) -> None:
        for weight, average in self._pairs():
            kept = weight.detach().clone()
            weight.copy_(average)
            average.copy_(kept)

    @torch.no_grad()
    def _finalize_ema_values(self) -> None:
        """With the EMA in the model after the last epoch, put it back into the average, so
        that the optimizer's final `finalize_variable_values` leaves the EMA in the model."""
        for weight, average in self._pairs():
            average.copy_(weight)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == (self.params or {}).get("epochs", 0) - 1:
                self._finalize_ema_values()

    def _swap_in(self) -> None:
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def _swap_out(self) -> None:
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_in()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_out()

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_in()

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_out()
