"""Probabilistic losses: the crossentropies, Kullback-Leibler divergence and Poisson.

The crossentropy classes also compute from logits (`call_on_logits`) when the model ends in a
softmax or sigmoid: log_softmax / logsigmoid clamped to the logs of Keras' clipping bounds give
Keras' values, with gradients that stay finite for any logits.

>>> import torch
>>> from lamina.losses import SparseCategoricalCrossentropy
>>> loss = SparseCategoricalCrossentropy()
>>> logits = torch.tensor([[1000.0, -1000.0]])
>>> float(loss(torch.tensor([1]), torch.softmax(logits, -1)))   # -log(1e-7), as Keras
16.11809539794922
>>> float(loss.compute_on_logits(torch.tensor([1]), logits, "softmax"))
16.11809539794922
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from .loss import (
    LossFunctionWrapper,
    Tensor,
    _clamped_log_sigmoid,
    _clamped_log_softmax,
    _clipped_log,
    _float_dtype,
    _log_bounds,
    _prepare,
    _prepare_pair,
    squeeze_or_expand_to_same_rank,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "kl_divergence",
    "poisson",
    "sparse_categorical_crossentropy",
]


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """sum(y_true * log(y_true / y_pred)), both clipped to [epsilon, 1]."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    eps = config.epsilon()
    y_true, y_pred = y_true.clamp(eps, 1.0), y_pred.clamp(eps, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + epsilon))."""
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + config.epsilon())).mean(dim=-1)


def _categorical_from_log_probs(
    y_true: Tensor, log_probs: Tensor, label_smoothing: float, axis: int
) -> Tensor:
    if label_smoothing:
        # Keras spreads the smoothing over the last axis' size, whatever `axis` is.
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return -(y_true * log_probs).sum(dim=axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """-sum(y_true * log(p)) for one-hot (or soft) targets.

    Probabilities are first divided by their sum and clipped to [epsilon, 1 - epsilon], as
    Keras; logits go through log_softmax.

    Args:
        y_true: one-hot targets, the shape of `y_pred`.
        y_pred: probabilities, or logits when `from_logits`.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; targets become y * (1 - s) + s / num_classes.
        axis: the class axis.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_crossentropy expects y_pred of shape (batch_size, num_classes) with "
            f"num_classes > 1; got {tuple(y_pred.shape)}, for which the loss is always 0. "
            "Use binary_crossentropy for two classes.",
            stacklevel=2,
        )
    if from_logits:
        log_probs = torch.log_softmax(y_pred, dim=axis)
    else:
        log_probs = _clipped_log(y_pred / y_pred.sum(dim=axis, keepdim=True))
    return _categorical_from_log_probs(y_true, log_probs, label_smoothing, axis)


def _sparse_labels(y_true: Tensor, y_pred: Tensor, axis: int) -> Tensor:
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(y_true.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy expects integer labels of shape "
            f"{tuple(expected)} for predictions of shape {tuple(y_pred.shape)}; got labels of "
            f"shape {tuple(y_true.shape)}. For one-hot labels use categorical_crossentropy."
        )
    return y_true.long()


def _sparse_from_log_probs(
    labels: Tensor, log_probs: Tensor, axis: int, ignore_class: int | None
) -> Tensor:
    valid = None if ignore_class is None else labels != ignore_class
    if valid is not None:
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    picked = log_probs.movedim(axis, -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    loss = -picked
    if valid is not None:
        loss = torch.where(valid, loss, torch.zeros_like(loss))
    return loss


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Crossentropy for integer labels: -log(p[label]), clipped as `categorical_crossentropy`.

    Args:
        y_true: integer labels, the shape of `y_pred` without the class axis (or with it of size 1).
        y_pred: probabilities, or logits when `from_logits`.
        from_logits: whether `y_pred` holds logits.
        ignore_class: a label whose positions get loss 0 (and, in the class, no weight).
        axis: the class axis.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    labels = _sparse_labels(y_true, y_pred, axis)
    if from_logits:
        log_probs = torch.log_softmax(y_pred, dim=axis)
    else:
        log_probs = _clipped_log(y_pred / y_pred.sum(dim=axis, keepdim=True))
    return _sparse_from_log_probs(labels, log_probs, axis, ignore_class)


def _binary_from_log_probs(
    y_true: Tensor, log_p: Tensor, log_not_p: Tensor, label_smoothing: float, axis: int
) -> Tensor:
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return -(y_true * log_p + (1.0 - y_true) * log_not_p).mean(dim=axis)


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), mean over `axis`; p clipped to [epsilon, 1 - epsilon].

    Args:
        y_true: targets in [0, 1], the shape of `y_pred`.
        y_pred: probabilities, or logits when `from_logits`.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; targets are squeezed towards 0.5: y * (1 - s) + s / 2.
        axis: the axis averaged over.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "binary_crossentropy expects targets and predictions of the same shape; got "
            f"targets {tuple(y_true.shape)} and predictions {tuple(y_pred.shape)}"
        )
    if from_logits:
        log_p, log_not_p = F.logsigmoid(y_pred), F.logsigmoid(-y_pred)
    else:
        p = y_pred.clamp(config.epsilon(), 1.0 - config.epsilon())
        log_p, log_not_p = torch.log(p), torch.log1p(-p)
    return _binary_from_log_probs(y_true, log_p, log_not_p, label_smoothing, axis)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence of y_pred from y_true."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: str | None = None,
    ) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson negative log-likelihood (without the constant term)."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: str | None = None,
    ) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot targets; see `categorical_crossentropy`.

    `call_on_logits(y_true, logits, 'softmax')` gives the loss of softmax(logits) from
    log_softmax, clamped to Keras' clipping bounds: equal values, finite gradients.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call_on_logits(self, y_true: Tensor, logits: Tensor, activation: str) -> Tensor:
        if activation != "softmax" or self.from_logits or self.axis not in (-1, logits.ndim - 1):
            return super().call_on_logits(y_true, logits, activation)
        y_true, logits = squeeze_or_expand_to_same_rank(y_true, logits)
        log_probs = _clamped_log_softmax(logits)
        return _categorical_from_log_probs(y_true, log_probs, self.label_smoothing, -1)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer labels; see `sparse_categorical_crossentropy`.

    With `ignore_class`, positions holding that label are left out of the mean altogether.
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # Labels (N, 1) against predictions (N, C) must not be squeezed to (N,) and back.
        return sparse_categorical_crossentropy(y_true, y_pred, **self._fn_kwargs)

    def _mask(self, y_true: Tensor, y_pred: Tensor) -> Tensor | None:
        if self.ignore_class is None:
            return None
        return _sparse_labels(y_true, y_pred, self.axis) != self.ignore_class

    def call_on_logits(self, y_true: Tensor, logits: Tensor, activation: str) -> Tensor:
        if activation != "softmax" or self.from_logits or self.axis not in (-1, logits.ndim - 1):
            return super().call_on_logits(y_true, logits, activation)
        labels = _sparse_labels(y_true, logits, -1)
        return _sparse_from_log_probs(labels, _clamped_log_softmax(logits), -1, self.ignore_class)

    def _fused(self, y_true: Any, logits: Any, clamp: bool) -> Tensor | None:
        """fit's usual case in one fused kernel, or None when it does not apply: integer label
        tensors (N,) or (N, 1) for logits (N, C) in the loss' dtype, no ignored class, the
        default reduction. The same numbers as the general path (with `clamp`, Keras' bounds
        on a softmax output: -clamp(log_softmax[label]) == clamp(-log_softmax[label]))."""
        if not (
            self.ignore_class is None
            and self.reduction == "sum_over_batch_size"
            and isinstance(logits, Tensor)
            and isinstance(y_true, Tensor)
            and logits.ndim == 2
            and logits.dtype == _float_dtype(self.dtype)
            and not y_true.is_floating_point()
            and y_true.shape in ((logits.shape[0],), (logits.shape[0], 1))
            and self.axis in (-1, 1)
        ):
            return None
        labels = y_true.reshape(-1).to(device=logits.device, dtype=torch.long)
        losses = F.cross_entropy(logits, labels, reduction="none")
        if clamp:
            low, high, _, _ = _log_bounds(logits.dtype, config.epsilon())
            losses = losses.clamp(-high, -low)
        return losses.sum() / losses.numel() if losses.numel() else losses.sum() * 0.0

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if self.from_logits and sample_weight is None:
            fused = self._fused(y_true, y_pred, clamp=False)
            if fused is not None:
                return fused
        return super().__call__(y_true, y_pred, sample_weight)

    def compute_on_logits(
        self, y_true: Any, logits: Any, activation: str, sample_weight: Any = None
    ) -> Tensor:
        if activation == "softmax" and not self.from_logits and sample_weight is None:
            fused = self._fused(y_true, logits, clamp=True)
            if fused is not None:
                return fused
        return super().compute_on_logits(y_true, logits, activation, sample_weight)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for targets in [0, 1]; see `binary_crossentropy`.

    `call_on_logits(y_true, logits, 'sigmoid')` computes it from log-sigmoids, clamped to
    Keras' clipping bounds.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call_on_logits(self, y_true: Tensor, logits: Tensor, activation: str) -> Tensor:
        if activation != "sigmoid" or self.from_logits:
            return super().call_on_logits(y_true, logits, activation)
        y_true, logits = squeeze_or_expand_to_same_rank(y_true, logits)
        log_p, log_not_p = _clamped_log_sigmoid(logits)
        return _binary_from_log_probs(y_true, log_p, log_not_p, self.label_smoothing, self.axis)
