"""Per-coordinate adaptive step sizes: RMSprop, Adagrad, Adadelta, with Keras' update rules.

Keras adds epsilon inside the square root (``sqrt(v + epsilon)``) where torch.optim's RMSprop
and Adagrad add it outside, and Keras starts Adagrad's accumulator at 0.1, not 0.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.zeros(2))
>>> opt = lamina.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
>>> opt.build([w])
>>> w.grad = torch.tensor([2.0, -0.5])
>>> opt.step()
>>> w.detach()
tensor([-0.1000,  0.1000])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as Keras 3 computes it.

    ``v = rho v + (1 - rho) g^2``; the step is ``lr g / sqrt(v + epsilon)``, or with
    ``centered`` ``lr g / sqrt(v - a^2 + epsilon)`` where ``a = rho a + (1 - rho) g``. With
    ``momentum > 0`` the step feeds ``s = momentum s + step`` and ``w -= s``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        rho: decay rate of the squared-gradient average.
        momentum: momentum of the steps (used when > 0).
        epsilon: added to the average inside the square root. Default 1e-7.
        centered: normalize by the estimated variance instead of the second moment.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
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
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = bool(centered)

    def _active_slot_groups(self) -> tuple[tuple[str, ...], ...]:
        groups: tuple[tuple[str, ...], ...] = (("velocity",),)
        if self.momentum > 0:
            groups += (("momentum",),)
        if self.centered:
            groups += (("average_gradient",),)
        return groups

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        velocities = slots["velocity"]
        torch._foreach_mul_(velocities, self.rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1.0 - self.rho)
        denominators = torch._foreach_add(velocities, self.epsilon)
        if self.centered:
            averages = slots["average_gradient"]
            torch._foreach_lerp_(averages, grads, 1.0 - self.rho)
            torch._foreach_addcmul_(denominators, averages, averages, value=-1.0)
        torch._foreach_sqrt_(denominators)
        if self.momentum > 0:
            momentums = slots["momentum"]
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_addcdiv_(momentums, grads, denominators, value=lr)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_addcdiv_(params, grads, denominators, value=-lr)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as Keras 3 computes it.

    ``a += g^2`` (``a`` starts at ``initial_accumulator_value``), ``w -= lr g / sqrt(a + eps)``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        initial_accumulator_value: starting value of the squared-gradient sums. Default 0.1.
        epsilon: added to the sums inside the square root. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    _slot_groups = (("accumulator",),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_initial_value(self, name: str) -> float:
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        accumulators = slots["accumulator"]
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominators = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominators)
        torch._foreach_addcdiv_(params, grads, denominators, value=-lr)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as Keras 3 computes it (the same rule as torch.optim.Adadelta).

    ``a = rho a + (1 - rho) g^2``, ``d = sqrt(s + eps) / sqrt(a + eps) * g``,
    ``s = rho s + (1 - rho) d^2``, ``w -= lr d``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001;
            the paper's method is learning_rate=1.0.
        rho: decay rate of both running averages.
        epsilon: added inside both square roots. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    _slot_groups = (("accumulated_grad", "accumulated_delta_var"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
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
        self.rho = rho
        self.epsilon = epsilon

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        grad_averages = slots["accumulated_grad"]
        delta_averages = slots["accumulated_delta_var"]
        torch._foreach_mul_(grad_averages, self.rho)
        torch._foreach_addcmul_(grad_averages, grads, grads, value=1.0 - self.rho)
        grad_rms = torch._foreach_add(grad_averages, self.epsilon)
        torch._foreach_sqrt_(grad_rms)
        deltas = torch._foreach_add(delta_averages, self.epsilon)
        torch._foreach_sqrt_(deltas)
        torch._foreach_mul_(deltas, grads)
        torch._foreach_div_(deltas, grad_rms)
        torch._foreach_mul_(delta_averages, self.rho)
        torch._foreach_addcmul_(delta_averages, deltas, deltas, value=1.0 - self.rho)
        torch._foreach_add_(params, deltas, alpha=-lr)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
