"""Muon: momentum orthogonalized by Newton-Schulz, with AdamW for the weights it does not suit,
with Keras 3's arguments, defaults and update rules.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.eye(2))
>>> opt = Muon(learning_rate=0.1, weight_decay=None, rms_rate=None)
>>> opt.build([w])
>>> w.grad = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
>>> opt.step()
>>> [round(v, 3) for v in w.detach().flatten().tolist()]  # the step is ~orthogonal: ~lr
[0.93, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors

__all__ = ["Muon"]


def _path(p: torch.Tensor) -> str:
    """A weight's Keras path ('dense/kernel'); its name, or '' for a bare tensor."""
    return str(getattr(p, "path", None) or getattr(p, "name", None) or "")


class Muon(Optimizer):
    """Muon (Jordan et al., 2024; Liu et al., 2025), as Keras 3 computes it.

    A 2-D weight gets the Muon step: ``m = momentum m + g``; the direction (``g + momentum m``
    with ``nesterov``, else ``m``) is orthogonalized by ``ns_steps`` Newton-Schulz iterations
    with coefficients ``muon_a``, ``muon_b``, ``muon_c``, and
    ``w -= lr * direction * sqrt(max(rows, columns)) * rms_rate``. Every other weight (not
    2-D, an embedding when ``exclude_embeddings``, or a weight whose path matches one of the
    regular expressions ``exclude_layers``) gets Keras' AdamW step with learning rate
    ``lr * adam_lr_ratio``. Typically ``exclude_layers`` names the output layer.

    A 2-D weight in PyTorch's layout (a Dense kernel is (out, in)) gets the transpose of the
    step Keras gives its (in, out) kernel: the orthogonalization commutes with transposition.

    Args:
        learning_rate: a float or a schedule (callable of the iteration count). Default 0.001.
        adam_beta_1: AdamW's first-moment decay rate.
        adam_beta_2: AdamW's second-moment decay rate.
        adam_weight_decay: the decoupled weight decay of the AdamW weights (None: none).
        epsilon: AdamW's epsilon, added to ``sqrt(v)``. Default 1e-7.
        weight_decay: the decoupled weight decay of the Muon weights (None: none).
        exclude_layers: regular expressions; weights whose path matches one use AdamW.
        exclude_embeddings: embeddings (a path containing 'embedding') use AdamW.
        muon_a, muon_b, muon_c: the Newton-Schulz iteration's coefficients.
        adam_lr_ratio: the AdamW weights' learning rate over ``learning_rate``.
        momentum: the Muon momentum.
        ns_steps: the number of Newton-Schulz iterations.
        nesterov: use Nesterov momentum for the Muon direction.
        rms_rate: scale the Muon step by ``sqrt(max(rows, columns)) * rms_rate`` (Liu et al.),
            so that Muon takes Adam's learning rate and weight decay; None: no scaling.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
        loss_scale_factor, gradient_accumulation_steps, name:
            as in `lamina.optimizers.Optimizer`.

    >>> Muon().get_config()["momentum"]
    0.95
    """

    _slot_groups = (("momentum", "velocity"),)

    def __init__(
        self,
        learning_rate: float | Callable = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: Sequence[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
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
        if adam_weight_decay is not None and not isinstance(adam_weight_decay, (int, float)):
            raise TypeError(
                f"Muon: `adam_weight_decay` must be a float or None; got {adam_weight_decay!r}"
            )
        if not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"Muon: `ns_steps` must be an integer >= 0; got {ns_steps!r}")
        if isinstance(exclude_layers, str):
            exclude_layers = [exclude_layers]
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate

    def _uses_adamw(self, p: torch.Tensor) -> bool:
        """Keras' rule: AdamW for weights that are not 2-D, embeddings, excluded layers."""
        if p.ndim != 2:
            return True
        path = _path(p)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """As `Optimizer.build`; Muon weights get an empty ``velocity`` (AdamW's only)."""
        pending, self._pending_state = self._pending_state, None
        super().build(params)
        for i, p in enumerate(self._params):
            if not self._uses_adamw(p) and self._slots["velocity"][i].numel():
                self._slots["velocity"][i] = p.new_zeros(0, requires_grad=False)
        if pending is not None:
            self.load_state_dict(pending)

    @property
    def variables(self) -> Tensors:
        """Keras' order: iterations, learning rate, then per weight its momentum and, for an
        AdamW weight, its velocity."""
        return [v for v in super().variables if v.ndim == 0 or v.numel() > 0]

    def _use_weight_decay(self, p: torch.Tensor) -> bool:
        # The base class' single decay is off: `_update` applies each kind of weight its own.
        return False

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        adam, muon = [], []
        for k, p in enumerate(params):
            (adam if self._uses_adamw(p) else muon).append(k)
            decay = self.adam_weight_decay if self._uses_adamw(p) else self.weight_decay
            if decay and Optimizer._use_weight_decay(self, p):
                p.mul_(1.0 - decay * lr)
        if adam:
            self._adamw_step(
                [params[k] for k in adam],
                [grads[k] for k in adam],
                [slots["momentum"][k] for k in adam],
                [slots["velocity"][k] for k in adam],
                lr * self.adam_lr_ratio,
                step,
            )
        for k in muon:
            self._muon_step(params[k], grads[k], slots["momentum"][k], lr)

    def _adamw_step(
        self, params: Tensors, grads: Tensors, m: Tensors, v: Tensors, lr: float, step: int
    ) -> None:
        beta_1, beta_2 = self.adam_beta_1, self.adam_beta_2
        alpha = lr * math.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
        torch._foreach_lerp_(m, grads, 1.0 - beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1.0 - beta_2)
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(params, m, denominators, value=-alpha)

    def _muon_step(self, p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, lr: float) -> None:
        m.add_(g + m * (self.momentum - 1.0))  # Keras' order: m + (g + m (momentum - 1))
        direction = g + self.momentum * m if self.nesterov else m
        update = lr * self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        if self.rms_rate is not None:
            update = update * math.sqrt(max(p.shape[0], p.shape[1])) * self.rms_rate
        p.sub_(update)

    def zeropower_via_newtonschulz5(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """An approximate orthogonalization ``U V^T`` of ``x`` (its SVD ``U S V^T``) by
        ``steps`` quintic Newton-Schulz iterations, on the wide orientation of ``x``."""
        if x.ndim < 2:
            raise ValueError(
                f"Muon: Newton-Schulz needs a tensor of rank >= 2; got shape {tuple(x.shape)}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.transpose(-2, -1)
        x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
        for _ in range(steps):
            gram = x @ x.transpose(-2, -1)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return x.transpose(-2, -1) if tall else x

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
