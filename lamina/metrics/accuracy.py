"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k.

Each function returns one 0/1 match per sample (or per element); each class is the mean of its
function over all samples seen (a `MeanMetricWrapper`).

>>> import torch
>>> from lamina.metrics import SparseCategoricalAccuracy
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

from typing import Any

import torch

from .. import config
from ..losses.loss import _as_tensor, _prepare, squeeze_or_expand_to_same_rank
from .metric import MeanMetricWrapper

Tensor = torch.Tensor

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


def _matches(condition: Tensor) -> Tensor:
    return condition.to(getattr(torch, config.floatx()))


def accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1 where y_pred equals y_true exactly, else 0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    return _matches(y_true == y_pred)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Tensor:
    """1 where (y_pred > threshold) equals y_true, else 0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    return _matches(y_true == (y_pred > threshold).to(y_true.dtype))


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot targets), per sample."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return _matches(y_true.argmax(dim=-1) == y_pred.argmax(dim=-1))


def _sparse_labels(y_true: Any, y_pred: Tensor) -> Tensor:
    labels = _as_tensor(y_true, device=y_pred.device)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    return labels.long()


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1 where argmax(y_pred) equals the integer label, per sample."""
    y_pred = _as_tensor(y_pred)
    return _matches(_sparse_labels(y_true, y_pred) == y_pred.argmax(dim=-1))


def _in_top_k(labels: Tensor, y_pred: Tensor, k: int) -> Tensor:
    # A tie with the k-th largest score counts as a hit, as in Keras; k beyond the number of
    # classes means every label is a hit.
    kth_largest = y_pred.topk(min(k, y_pred.shape[-1]), dim=-1).values[..., -1]
    target = y_pred.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return _matches(target >= kth_largest)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    """1 where the one-hot target's class is among the k highest scores, per sample."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> Tensor:
    """1 where the integer label is among the k highest scores, per sample.

    With `from_sorted_ids`, `y_pred` holds (batch, N) class ids sorted from the highest score
    down (N >= k, e.g. a retrieval's result), and the label is looked up in the first k.

    >>> sparse_top_k_categorical_accuracy([2, 0], [[2, 1, 0], [1, 2, 0]], k=2, from_sorted_ids=True)
    tensor([1., 0.])
    """
    y_pred = _as_tensor(y_pred)
    if not from_sorted_ids:
        return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)
    labels = _as_tensor(y_true, device=y_pred.device)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    ids = y_pred[..., :k]
    return _matches((ids == labels.to(ids.dtype).unsqueeze(-1)).any(dim=-1))


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the labels exactly."""

    def __init__(self, name: str = "accuracy", dtype: str | None = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the binary labels."""

    def __init__(
        self, name: str = "binary_accuracy", dtype: str | None = None, threshold: float = 0.5
    ) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches the one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy", dtype: str | None = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches the integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: str | None = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        # fit's usual case, every step: label tensors (N,) or (N, 1) for scores (N, C) and no
        # weights; the count of matches added at once (the same sums as the general path).
        if (
            sample_weight is None
            and isinstance(y_pred, Tensor)
            and isinstance(y_true, Tensor)
            and y_pred.ndim == 2
            and y_pred.is_floating_point()
            and y_true.shape in ((y_pred.shape[0],), (y_pred.shape[0], 1))
        ):
            self._follow(y_pred)
            labels = y_true.reshape(-1).to(device=y_pred.device, dtype=torch.long)
            self.total.add_((labels == y_pred.argmax(dim=-1)).sum())
            self.count.add_(y_pred.shape[0])
            return
        super().update_state(y_true, y_pred, sample_weight)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the `k` highest predictions."""

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: str | None = None
    ) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest predictions."""

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: str | None = None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self.from_sorted_ids = bool(from_sorted_ids)
        if self.from_sorted_ids:  # Keras' config has the entry only when it is True
            self._fn_kwargs["from_sorted_ids"] = True
