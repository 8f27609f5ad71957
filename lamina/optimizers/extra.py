"""Lion, Lamb, Ftrl and Adafactor, with Keras 3's arguments, defaults and update rules.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.zeros(2))
>>> opt = lamina.optimizers.Lion(learning_rate=0.1)
>>> opt.build([w])
>>> w.grad = torch.tensor([2.0, -0.5])
>>> opt.step()
>>> w.detach()
tensor([-0.1000,  0.1000])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors

__all__ = ["Adafactor", "Ftrl", "Lamb", "Lion"]


class Lion(Optimizer):
    """Lion: evolved sign momentum (Chen et al., 2023), as Keras 3 computes it.

    ``w -= lr * sign(beta_1 m + (1 - beta_1) g)``, then ``m = beta_2 m + (1 - beta_2) g``.
    Its steps all have size ``lr``, so it usually wants a learning rate 3-10x smaller than
    Adam's (and a larger ``weight_decay``).

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_1: interpolation between momentum and gradient for the step's sign; in (0, 1].
        beta_2: decay rate of the momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> Lion().get_config()["beta_2"]
    0.99
    """

    _slot_groups = (("momentum",),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
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
                f"Lion: `beta_1` must be in (0, 1] (at 0 Lion degenerates to SignSGD); "
                f"got beta_1={beta_1!r}"
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

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        m = slots["momentum"]
        # Keras' order of operations: (m * beta_1) + (1 - beta_1) g, then m * beta_2 + ...
        directions = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(directions, grads, alpha=1.0 - self.beta_1)
        torch._foreach_sign_(directions)
        torch._foreach_add_(params, directions, alpha=-lr)
        torch._foreach_mul_(m, self.beta_2)
        torch._foreach_add_(m, grads, alpha=1.0 - self.beta_2)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Lamb(Optimizer):
    """LAMB: layer-wise adaptive moments (You et al., 2019), as Keras 3 computes it.

    Adam's direction ``u = m_hat / (sqrt(v_hat) + epsilon)`` (bias-corrected moments, epsilon
    outside the root) is rescaled per weight by the trust ratio ``||w|| / ||u||`` (1 when either
    norm is 0): ``w -= lr * ||w|| / ||u|| * u``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_1: decay rate of the first-moment estimate.
        beta_2: decay rate of the second-moment estimate.
        epsilon: added to the corrected ``sqrt(v)``. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> Lamb(learning_rate=0.01).get_config()["epsilon"]
    1e-07
    """

    _slot_groups = (("momentum", "velocity"),)

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

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1.0 - self.beta_2)
        denominators = torch._foreach_mul(v, 1.0 / (1.0 - self.beta_2**step))
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        updates = torch._foreach_div(m, denominators)
        torch._foreach_mul_(updates, 1.0 / (1.0 - self.beta_1**step))
        weight_norms = torch._foreach_norm(params)
        update_norms = torch._foreach_norm(updates)
        for p, update, w_norm, u_norm in zip(
            params, updates, weight_norms, update_norms, strict=True
        ):
            # The trust ratio stays a device scalar: no host synchronisation.
            ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, 1.0)
            p.sub_(update * (ratio * lr))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Ftrl(Optimizer):
    """FTRL-Proximal: follow the regularized leader (McMahan et al., 2013), as Keras 3.

    With ``n`` the accumulated squared gradients, ``p = -learning_rate_power`` and
    ``l2 = l2_regularization_strength + beta / (2 lr)``:
    ``z += g + 2 l2_shrinkage w - (n_new^p - n^p) / lr * w``, then
    ``w = (clip(z, -l1, l1) - z) / (n_new^p / lr + 2 l2)``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        learning_rate_power: how the per-coordinate rate falls with ``n``; <= 0 (-0.5: 1/sqrt).
        initial_accumulator_value: the accumulators' starting value; >= 0.
        l1_regularization_strength: L1 strength (sets coordinates to exactly 0); >= 0.
        l2_regularization_strength: L2 strength (stabilisation); >= 0.
        l2_shrinkage_regularization_strength: L2 shrinkage added to the gradient; >= 0.
        beta: the ``beta`` of the paper's per-coordinate rate, added to L2 as ``beta / (2 lr)``.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> Ftrl(l1_regularization_strength=0.01).get_config()["initial_accumulator_value"]
    0.1
    """

    _slot_groups = (("accumulator", "linear"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
        if learning_rate_power > 0.0:
            raise ValueError(
                f"Ftrl: `learning_rate_power` must be negative or zero; got {learning_rate_power!r}"
            )
        for arg, value in {
            "initial_accumulator_value": initial_accumulator_value,
            "l1_regularization_strength": l1_regularization_strength,
            "l2_regularization_strength": l2_regularization_strength,
            "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength,
        }.items():
            if value < 0.0:
                raise ValueError(f"Ftrl: `{arg}` must be positive or zero; got {value!r}")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_initial_value(self, name: str) -> float:
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        shrinkage = 2.0 * self.l2_shrinkage_regularization_strength
        for w, g, accumulator, linear in zip(
            params, grads, slots["accumulator"], slots["linear"], strict=True
        ):
            new_accumulator = accumulator + g * g
            new_rate = new_accumulator.pow(power)
            linear.add_(g + shrinkage * w - (new_rate - accumulator.pow(power)) / lr * w)
            quadratic = new_rate / lr + 2.0 * l2
            w.copy_((linear.clamp(-l1, l1) - linear) / quadratic)
            accumulator.copy_(new_accumulator)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x.square().mean().sqrt()


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018): factored second moments, as Keras 3 computes it.

    For a weight of rank >= 2 the second moment is kept as row and column averages ``r``, ``c``
    of ``g^2 + epsilon_1`` (memory ``rows + columns``, not ``rows * columns``) and rebuilt as
    ``v = r c / mean(r)``; lower ranks keep the full ``v``. The decay at step t is
    ``1 - t^beta_2_decay``. The step ``u = g / sqrt(v)`` is scaled down to an RMS of at most
    ``clip_threshold`` and multiplied by ``max(epsilon_2, rms(w)) * min(lr, 1 / sqrt(t))``.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        beta_2_decay: the exponent of the second-moment decay schedule.
        epsilon_1: added to the squared gradients.
        epsilon_2: the smallest weight RMS the step is scaled by.
        clip_threshold: the largest RMS of the normalised step.
        relative_step: cap a constant learning rate at ``1 / sqrt(t)``. (Keras 3 applies the
            cap to the relative step whatever this says, and so does lamina.)
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> Adafactor().get_config()["beta_2_decay"]
    -0.8
    """

    _slot_groups = (("r", "c", "v"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """As `Optimizer.build`, with the factored slots' shapes: ``r`` drops the last axis
        and ``c`` the second-to-last (both are scalars, unused, for weights of rank < 2)."""
        pending, self._pending_state = self._pending_state, None
        super().build(params)
        for i, p in enumerate(self._params):
            if self._slots["r"][i].shape != p.shape:
                continue  # a slot kept from an earlier build
            factored = p.ndim >= 2
            r_shape = p.shape[:-1] if factored else ()
            c_shape = (*p.shape[:-2], p.shape[-1]) if factored else ()
            self._slots["r"][i] = p.new_zeros(r_shape, requires_grad=False)
            self._slots["c"][i] = p.new_zeros(c_shape, requires_grad=False)
        if pending is not None:
            self.load_state_dict(pending)

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        relative_step = min(lr, 1.0 / math.sqrt(step))
        decay = 1.0 - step**self.beta_2_decay
        for w, g, r, c, v in zip(params, grads, slots["r"], slots["c"], slots["v"], strict=True):
            scale = _rms(w).clamp(min=self.epsilon_2) * relative_step
            squares = g.square() + self.epsilon_1
            if w.ndim >= 2:
                r.lerp_(squares.mean(-1), 1.0 - decay)
                c.lerp_(squares.mean(-2), 1.0 - decay)
                v.copy_((r / r.mean(-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.lerp_(squares, 1.0 - decay)
            u = g / v.sqrt()
            u = u / (_rms(u) / self.clip_threshold).clamp(min=1.0)
            w.sub_(scale * u)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
