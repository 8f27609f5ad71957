"""Keras' gradient clipping on lists of tensors, with multi-tensor kernels and no host sync.

Each function returns new tensors and leaves its input untouched. Also Keras' warning for
variables that got no gradient (`warn_missing_gradients`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch


def warn_missing_gradients(params: Sequence[Any], grads: Sequence[Any]) -> None:
    """Keras' warning when some trainable variables got no gradient (a model output without
    a loss, an unused layer); the variables are skipped. Keras refuses all None; not here."""
    missing = [
        getattr(p, "path", None) or getattr(p, "name", "?")
        for p, g in zip(params, grads, strict=True)
        if g is None and getattr(p, "requires_grad", True)
    ]
    if missing and any(g is not None for g in grads):
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the loss. If "
            "using `model.compile()`, did you forget to provide a `loss` argument?",
            stacklevel=2,
        )


def warn_missing_gradients_once(optimizer: Any) -> None:
    """`warn_missing_gradients` for the trainer's step, on the first step an optimizer takes
    only: which variables get a gradient is fixed by the compiled model, and the check would
    otherwise walk every parameter at every step."""
    if optimizer.__dict__.get("_gradients_checked"):
        return
    optimizer.__dict__["_gradients_checked"] = True
    warn_missing_gradients(optimizer._params, [p.grad for p in optimizer._params])


def clip_by_norm(grads: list[torch.Tensor], clipnorm: float) -> list[torch.Tensor]:
    """Rescale each gradient to an L2 norm of at most ``clipnorm``: ``g * c / max(|g|, c)``."""
    norms = torch._foreach_maximum(torch._foreach_norm(grads), clipnorm)
    return torch._foreach_div(torch._foreach_mul(grads, clipnorm), norms)


def clip_by_global_norm(grads: list[torch.Tensor], clipnorm: float) -> list[torch.Tensor]:
    """Rescale all gradients together to a joint L2 norm of at most ``clipnorm``.

    Unlike torch.nn.utils.clip_grad_norm_, no 1e-6 is added to the norm, and an inf or NaN
    norm makes every gradient NaN, as in Keras.
    """
    norms = torch._foreach_norm(grads)
    total = torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]))
    scale = clipnorm / torch.clamp_min(total, clipnorm) + (total - total)
    if len({g.device for g in grads}) > 1:  # model parallel: one copy of the scale per device
        return [g * scale.to(g.device) for g in grads]
    return torch._foreach_mul(grads, scale)


def clip_by_value(grads: list[torch.Tensor], clipvalue: float) -> list[torch.Tensor]:
    """Clip each gradient entry to ``[-clipvalue, clipvalue]``."""
    clipped = torch._foreach_clamp_min(grads, -clipvalue)
    torch._foreach_clamp_max_(clipped, clipvalue)
    return clipped
