"""The Adam family: Adam, AdamW, Adamax, Nadam, with Keras' update rules.

Keras folds the bias corrections into the step size and adds epsilon to the uncorrected
``sqrt(v)``: ``w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.
torch.optim.Adam adds epsilon to the corrected ``sqrt(v / (1 - beta_2^t))``, so its steps differ.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.zeros(2))
>>> opt = lamina.optimizers.Adam(learning_rate=0.1)
>>> opt.build([w])
>>> w.grad = torch.tensor([1.0, -3.0])
>>> opt.step()
>>> w.detach()
tensor([-0.1000,  0.1000])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors


class _Moments(Optimizer):
    """Shared constructor of the optimizers with two moment estimates."""

    def __init__(
        self,
        learning_rate: float | Callable,
        beta_1: float,
        beta_2: float,
        epsilon: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adam(_Moments):
    """Adam: adaptive moment estimation (Kingma and Ba, 2014), as Keras 3 computes it.

    ``m = beta_1 m + (1 - beta_1) g``, ``v = beta_2 v + (1 - beta_2) g^2`` (with ``amsgrad``,
    ``v_hat = max(v_hat, v)`` replaces ``v``), then
    ``w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_1: decay rate of the first-moment estimate.
        beta_2: decay rate of the second-moment estimate.
        epsilon: added to ``sqrt(v)`` (Keras' "epsilon hat"). Default 1e-7.
        amsgrad: use the AMSGrad variant (Reddi et al., 2018).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
            beta_1,
            beta_2,
            epsilon,
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
        self.amsgrad = bool(amsgrad)

    def _active_slot_groups(self) -> tuple[tuple[str, ...], ...]:
        groups: tuple[tuple[str, ...], ...] = (("momentum", "velocity"),)
        return groups + ((("velocity_hat",),) if self.amsgrad else ())

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        alpha = lr * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(params, m, denominators, value=-alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019): Keras' Adam with a
    default ``weight_decay`` of 0.004, applied as ``w -= w * weight_decay * lr`` before each
    update. Arguments as `Adam`; ``weight_decay`` must be a float.
    """

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float; got None")
        super().__init__(
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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


class Adamax(_Moments):
    """Adamax: Adam with the infinity norm (Kingma and Ba, 2014, section 7), as Keras 3.

    ``m = beta_1 m + (1 - beta_1) g``, ``u = max(beta_2 u, |g|)``, then
    ``w -= lr m / ((1 - beta_1^t) (u + epsilon))``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_1: decay rate of the first-moment estimate.
        beta_2: decay rate of the exponentially weighted infinity norm.
        epsilon: added to ``u``. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    _slot_groups = (("m", "u"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
            beta_1,
            beta_2,
            epsilon,
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

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        m, u = slots["m"], slots["u"]
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_add(u, self.epsilon)
        torch._foreach_addcdiv_(params, m, denominators, value=-lr / (1.0 - self.beta_1**step))


class Nadam(_Moments):
    """Nadam: Adam with Nesterov momentum (Dozat, 2015), with Keras 3's momentum schedule.

    The momentum at step t is ``u_t = beta_1 (1 - 0.5 * 0.96^t)``; with ``P_t`` the product of
    ``u_1..u_t``, ``m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)`` and
    ``w -= lr m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)``. (torch.optim.NAdam uses
    ``0.96^(0.004 t)`` by default.)

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_1: decay rate of the first-moment estimate.
        beta_2: decay rate of the second-moment estimate.
        epsilon: added to the corrected ``sqrt(v)``. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.
    """

    _slot_groups = (("momentum", "velocity"),)
    _scalar_state = ("u_product",)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
            beta_1,
            beta_2,
            epsilon,
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
        self._u_product = 1.0

    def _momentum_at(self, step: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**step)

    def _before_update(self, step: int) -> None:
        self._u_product *= self._momentum_at(step)

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        m, v = slots["momentum"], slots["velocity"]
        u_t, u_next = self._momentum_at(step), self._momentum_at(step + 1)
        product, product_next = self._u_product, self._u_product * u_next
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.beta_2)
        denominators = torch._foreach_mul(v, 1.0 / (1.0 - self.beta_2**step))
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        momentum_rate = lr * u_next / (1.0 - product_next)
        gradient_rate = lr * (1.0 - u_t) / (1.0 - product)
        torch._foreach_addcdiv_(params, m, denominators, value=-momentum_rate)
        torch._foreach_addcdiv_(params, grads, denominators, value=-gradient_rate)
