"""Schedule-Free AdamW, with Keras 3's arguments, defaults and update rule.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.zeros(2))
>>> opt = ScheduleFreeAdamW(learning_rate=0.1)
>>> opt.build([w])
>>> w.grad = torch.tensor([1.0, -1.0])
>>> opt.step()
>>> w.detach()
tensor([-0.1000,  0.1000])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors

__all__ = ["ScheduleFreeAdamW"]


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al., 2024), as Keras 3 computes it: no learning-rate
    schedule is needed, the averaging of iterates takes its place.

    The ``momentum`` slot holds the sequence ``z`` the Adam steps move (it starts at the
    weights); the weights ``y`` are an interpolation ``(1 - beta_1) z + beta_1 x`` with ``x``
    the running average of ``z``. At step t, with ``v`` Adam's second moment:
    ``z -= lr g / (sqrt(v / (1 - beta_2^t)) + epsilon)``, ``x = (1 - 1/t) x + z / t``. With
    ``warmup_steps`` the learning rate grows linearly over the first steps. As in Keras, the
    weights are the interpolation ``y`` also for evaluation.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.0025.
        beta_1: the interpolation between ``z`` and ``x`` (and momentum).
        beta_2: the second-moment decay rate.
        epsilon: added to the corrected ``sqrt(v)``. Default 1e-8.
        warmup_steps: the number of steps of linear learning-rate warmup (0: none).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> ScheduleFreeAdamW().get_config()["learning_rate"]  # Keras' float32 value of 0.0025
    0.0024999999441206455
    """

    _slot_groups = (("momentum", "velocity"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
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
        if not 0 < beta_1 <= 1:
            raise ValueError(
                f"ScheduleFreeAdamW: `beta_1` must be in (0, 1] (the weights are recovered by "
                f"dividing by it); got beta_1={beta_1!r}"
            )
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(
                f"ScheduleFreeAdamW: `warmup_steps` must be an integer >= 0; got {warmup_steps!r}"
            )
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """As `Optimizer.build`, with each new ``momentum`` slot starting at its weight."""
        pending, self._pending_state = self._pending_state, None
        known = set(self._index) if self.built else set()
        super().build(params)
        for i, p in enumerate(self._params):
            if id(p) not in known:
                self._slots["momentum"][i].copy_(p.detach())
        if pending is not None:
            self.load_state_dict(pending)

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        z, v = slots["momentum"], slots["velocity"]
        beta_1 = self.beta_1
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1.0 - self.beta_2)
        denominators = torch._foreach_mul(v, 1.0 / (1.0 - self.beta_2**step))
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        # x (the average) from the weights and the z before this step: y = (1 - b1) z + b1 x.
        x = torch._foreach_sub(params, torch._foreach_mul(z, 1.0 - beta_1))
        torch._foreach_div_(x, beta_1)
        torch._foreach_addcdiv_(z, grads, denominators, value=-lr)
        torch._foreach_lerp_(x, z, 1.0 / step)
        # y = (1 - b1) z + b1 x
        torch._foreach_mul_(x, beta_1)
        torch._foreach_add_(x, z, alpha=1.0 - beta_1)
        torch._foreach_copy_(params, x)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
