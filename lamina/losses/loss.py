"""The Loss base class, the Keras reduction of weighted per-sample losses, and tensor helpers.

A loss function returns one loss per sample (the last axis reduced); a `Loss` weighs them by
`sample_weight` and reduces them as Keras does: by default the weighted sum divided by the number
of per-sample losses ('sum_over_batch_size'), not by the sum of the weights.

>>> import torch
>>> from lamina.losses import LossFunctionWrapper
>>> loss = LossFunctionWrapper(lambda y, p: (y - p).abs().mean(-1), name="l1")
>>> float(loss(torch.zeros(2, 2), torch.ones(2, 2), sample_weight=torch.tensor([1.0, 0.0])))
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config
from ..layers.layer import to_snake_case, unique_name

Tensor = torch.Tensor
LossFunction = Callable[..., Tensor]

__all__ = [
    "Loss",
    "LossFunctionWrapper",
    "reduce_weighted_values",
    "squeeze_or_expand_to_same_rank",
]

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _float_dtype(dtype: str | torch.dtype | None = None) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    return getattr(torch, dtype or config.floatx())


def _as_tensor(x: Any, dtype: torch.dtype | None = None, device: Any = None) -> Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(dtype=dtype or x.dtype, device=device or x.device)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def _prepare(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """y_pred as a float tensor; y_true as a tensor of the same dtype on the same device."""
    if not (isinstance(y_pred, torch.Tensor) and y_pred.is_floating_point()):
        # Lists, NumPy arrays (float64 included) and integer tensors compute in floatx.
        y_pred = _as_tensor(y_pred, _float_dtype())
    return _as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def squeeze_or_expand_to_same_rank(
    x1: Tensor, x2: Tensor, expand_rank_1: bool = True
) -> tuple[Tensor, Tensor]:
    """Make ranks equal when they differ by one trailing axis of size 1, as Keras does.

    A rank-1 tensor facing an (N, 1) one is expanded to (N, 1) (unless `expand_rank_1` is False,
    then the other one is squeezed); otherwise the size-1 axis is squeezed.
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            return x1, x2.unsqueeze(-1)
        return x1.squeeze(-1), x2
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            return x1.unsqueeze(-1), x2
        return x1, x2.squeeze(-1)
    return x1, x2


def _prepare_pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    return squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))


def _divide_no_nan(numerator: Tensor, denominator: Tensor) -> Tensor:
    safe = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    return torch.where(denominator == 0, torch.zeros_like(numerator), numerator / safe)


def _compute_log_bounds(dtype: torch.dtype, eps: float) -> tuple[float, float, float, float]:
    """The range Keras' clipping to [eps, 1 - eps] leaves log(p) and log(1 - p), as `dtype`
    rounds it: (min log p, max log p, min log(1 - p), max log(1 - p)).

    Clamping log-probabilities computed from logits to it gives Keras' values even where the
    probabilities saturate (torch's BCE takes log1p(-p), hence the last bound).
    """
    # Half types round 1 - eps to 1; their bounds are float32's (Keras' losses compute in float32).
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    low, high = np_dtype(eps), np_dtype(1.0) - np_dtype(eps)
    return (
        math.log(float(low)),
        math.log(float(high)),
        math.log1p(-float(high)),
        math.log1p(-float(low)),
    )


# Filled at import for the default epsilon, so that a compiled train step only reads a dict.
_LOG_BOUNDS = {
    (dtype, config.epsilon()): _compute_log_bounds(dtype, config.epsilon())
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64)
}


def _log_bounds(dtype: torch.dtype, eps: float) -> tuple[float, float, float, float]:
    bounds = _LOG_BOUNDS.get((dtype, eps))
    return bounds if bounds is not None else _compute_log_bounds(dtype, eps)


def _clipped_log(p: Tensor) -> Tensor:
    eps = config.epsilon()
    return torch.log(p.clamp(eps, 1.0 - eps))


def _clamped_log_softmax(logits: Tensor, axis: int = -1) -> Tensor:
    low, high, _, _ = _log_bounds(logits.dtype, config.epsilon())
    return torch.log_softmax(logits, dim=axis).clamp(low, high)


def _clamped_log_sigmoid(logits: Tensor) -> tuple[Tensor, Tensor]:
    """log(p) and log(1 - p) for p = sigmoid(logits), bounded as Keras' clipped probabilities."""
    low, high, low_complement, high_complement = _log_bounds(logits.dtype, config.epsilon())
    log_p = F.logsigmoid(logits).clamp(low, high)
    return log_p, F.logsigmoid(-logits).clamp(low_complement, high_complement)


def _align_weights(values: Tensor, sample_weight: Tensor) -> tuple[Tensor, Tensor]:
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    # Beyond Keras' one-axis rule: (N,) weights broadcast over (N, T, ...) losses.
    while sample_weight.ndim < values.ndim:
        sample_weight = sample_weight.unsqueeze(-1)
    return values, sample_weight


def reduce_weighted_values(
    values: Tensor,
    sample_weight: Any = None,
    mask: Tensor | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> Tensor:
    """Weigh per-sample losses and reduce them as Keras' `Loss.__call__`.

    'sum_over_batch_size' and 'mean' divide the weighted sum by the number of values (so zero
    weights still count in the denominator); 'mean_with_sample_weight' divides by the sum of
    the weights; 'sum' sums; 'none' / None return the weighted values. A mask (from
    `ignore_class`) removes values from the numerator and the denominator.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")
    weight = None
    if sample_weight is not None:
        weight = _as_tensor(sample_weight, values.dtype, values.device)
    if mask is not None:
        mask_weight = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Masked values weigh total/valid, so dividing by the total divides by the valid.
            valid = mask_weight.sum()
            scale = _divide_no_nan(torch.full_like(valid, float(mask.numel())), valid)
            mask_weight = mask_weight * scale
        if weight is None:
            weight = mask_weight
        else:
            mask_weight, weight = squeeze_or_expand_to_same_rank(mask_weight, weight)
            weight = weight * mask_weight
    if weight is not None:
        values, weight = _align_weights(values, weight)
        values = values * weight
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        return _divide_no_nan(total, weight.expand_as(values).sum())
    # The count is a Python number: dividing by it needs no host-to-device copy.
    return total / values.numel() if values.numel() else total * 0.0


class Loss:
    """Base class: `call(y_true, y_pred)` returns per-sample losses, `__call__` reduces them.

    Args:
        name: the loss' name; by default the class name in snake case.
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight',
            'none' or None.
        dtype: the float type of the computation (floatx by default); predictions are cast to it.
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: str | None = None,
    ) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {REDUCTIONS}; got {reduction!r}"
            )
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = reduction
        self.dtype = dtype or config.floatx()

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Per-sample losses; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def call_on_logits(self, y_true: Tensor, logits: Tensor, activation: str) -> Tensor:
        """Per-sample losses of `activation(logits)`; crossentropies compute them stably."""
        if activation == "softmax":
            return self.call(y_true, torch.softmax(logits, dim=-1))
        if activation == "sigmoid":
            return self.call(y_true, torch.sigmoid(logits))
        raise ValueError(
            f"Loss '{self.name}': call_on_logits supports the activations 'softmax' and "
            f"'sigmoid'; got {activation!r}"
        )

    def _mask(self, y_true: Tensor, y_pred: Tensor) -> Tensor | None:
        """Which per-sample losses count; None when all do."""
        return None

    def _convert(self, y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
        y_pred = _as_tensor(y_pred, _float_dtype(self.dtype))
        return _as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        y_true, y_pred = self._convert(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        mask = self._mask(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def compute_on_logits(
        self, y_true: Any, logits: Any, activation: str, sample_weight: Any = None
    ) -> Tensor:
        """As `__call__` for predictions `activation(logits)`, computed from the logits."""
        y_true, logits = self._convert(y_true, logits)
        losses = self.call_on_logits(y_true, logits, activation)
        mask = self._mask(y_true, logits)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A `Loss` from a function `fn(y_true, y_pred, **kwargs)` returning per-sample losses."""

    def __init__(
        self,
        fn: LossFunction,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is LossFunctionWrapper:
            from ..saving.registry import get_registered_name

            config["fn"] = get_registered_name(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        if cls is LossFunctionWrapper:
            from . import _resolve_function  # the package's table of loss functions

            config = dict(config)
            config["fn"] = _resolve_function(config["fn"])
        return cls(**config)
