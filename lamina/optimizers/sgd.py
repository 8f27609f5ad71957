"""SGD with Keras' momentum form.

Keras keeps a velocity ``v = momentum * v - lr * g`` and adds it to the weights; torch.optim
keeps ``b = momentum * b + g`` and subtracts ``lr * b``. The two agree only while the learning
rate is constant, so lamina follows Keras.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.ones(2))
>>> opt = lamina.optimizers.SGD(learning_rate=0.1, momentum=0.9)
>>> opt.build([w])
>>> w.grad = torch.ones(2)
>>> opt.step(); opt.step()
>>> w.detach()
tensor([0.7100, 0.7100])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum.

    Without momentum ``w -= lr * g``. With momentum ``v = momentum * v - lr * g`` then
    ``w += v``, or with Nesterov ``w += momentum * v - lr * g``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.01.
        momentum: in [0, 1]; accelerates descent along consistent directions. Default 0.
        nesterov: use Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    def __init__(
        self,
        learning_rate: float | Callable = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD: `momentum` must be a float in [0, 1]; got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _active_slot_groups(self) -> tuple[tuple[str, ...], ...]:
        return (("momentum",),) if self.momentum != 0 else ()

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        velocities = slots["momentum"]
        torch._foreach_mul_(velocities, self.momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, velocities, alpha=self.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, velocities)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
