"""Regression and hinge losses: squared, absolute, percentage and logarithmic errors, Huber,
log-cosh, cosine similarity, and the hinge family.

>>> import torch
>>> from lamina.losses import Huber
>>> float(Huber(delta=1.0)(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]])))
1.3125
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from .loss import LossFunctionWrapper, Tensor, _prepare_pair

__all__ = [
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "LogCosh",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "SquaredHinge",
    "categorical_hinge",
    "cosine_similarity",
    "hinge",
    "huber",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "squared_hinge",
]


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((y_true - y_pred) ** 2) over the last axis."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    diff = ((y_true - y_pred) / y_true.abs().clamp(min=config.epsilon())).abs()
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((log(1 + y_pred) - log(1 + y_true)) ** 2), values below epsilon raised to epsilon."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    eps = config.epsilon()
    diff = torch.log1p(y_pred.clamp(min=eps)) - torch.log1p(y_true.clamp(min=eps))
    return diff.square().mean(dim=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Quadratic for |error| <= delta, linear beyond; mean over the last axis."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    error = (y_pred - y_true).abs()
    loss = torch.where(error <= delta, 0.5 * error.square(), delta * error - 0.5 * delta**2)
    return loss.mean(dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """mean(log(cosh(y_pred - y_true))), computed without overflow."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)): -1 for equal directions."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)

    def normalize(x: Tensor) -> Tensor:
        # Keras' l2 normalisation: x * rsqrt(sum(x**2)), the factor capped at 1 / epsilon.
        inverse_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
        return x * inverse_norm.clamp(max=1.0 / config.epsilon())

    return -(normalize(y_true) * normalize(y_pred)).sum(dim=axis)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """{0, 1} labels become {-1, 1}; any other labels are kept (decided on the device)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)); labels in {-1, 1} (or {0, 1}, converted)."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0).mean(dim=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0) ** 2); labels in {-1, 1} (or {0, 1}, converted)."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0).square().mean(dim=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) for one-hot y_true."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    positive = (y_true * y_pred).sum(dim=-1)
    negative = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (negative - positive + 1.0).clamp(min=0.0)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|error| / |y_true|) over the last axis."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean of squared differences of log(1 + x) over the last axis."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class Huber(LossFunctionWrapper):
    """Huber loss with threshold `delta` (Keras names it 'huber_loss')."""

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Mean of log(cosh(error)) over the last axis."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: str | None = None,
    ) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis`."""

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: str | None = None,
    ) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Hinge(LossFunctionWrapper):
    """Hinge loss for labels in {-1, 1} or {0, 1}."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for labels in {-1, 1} or {0, 1}."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)
