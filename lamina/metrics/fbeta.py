"""F-scores: FBetaScore and F1Score, from true/false positive and false negative totals.

>>> import torch
>>> from lamina.metrics import F1Score
>>> m = F1Score(average="micro", threshold=0.5)
>>> m.update_state(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[0.9, 0.6], [0.2, 0.8]]))
>>> round(float(m.result()), 4)   # 2 true positives, 1 false positive, 1 false negative
0.6667
"""

from __future__ import annotations

from typing import Any

import torch

from .. import config
from ..losses.loss import _as_tensor
from .metric import Metric

Tensor = torch.Tensor

__all__ = ["F1Score", "FBetaScore"]

AVERAGES = (None, "micro", "macro", "weighted")
_STATES = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


class FBetaScore(Metric):
    """(1 + beta^2) precision recall / (beta^2 precision + recall), for multi-class or
    multi-label predictions of shape (batch_size, num_classes).

    Args:
        average: None (one score per class), 'micro' (from the totals over all classes),
            'macro' (the mean of the per-class scores) or 'weighted' (their mean weighted by
            each class' support).
        beta: the weight of recall against precision; a float > 0.
        threshold: predictions above it count as positive; None (default) takes each row's
            largest prediction as its one positive.
        name: the metric's name.
        dtype: the state's float type.
    """

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if average not in AVERAGES:
            raise ValueError(f"{owner}: average must be one of {AVERAGES}; got {average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{owner}: beta must be a Python float > 0; got {beta!r}")
        if threshold is not None and (
            not isinstance(threshold, float) or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(
                f"{owner}: threshold must be a Python float in (0, 1] or None; got {threshold!r}"
            )
        self.average, self.beta, self.threshold = average, beta, threshold
        self._built = False

    def _build(self, y_true: Tensor, y_pred: Tensor) -> None:
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D inputs (batch_size, num_classes); got y_true "
                f"of shape {tuple(y_true.shape)} and y_pred of shape {tuple(y_pred.shape)}"
            )
        shape = () if self.average == "micro" else (y_pred.shape[-1],)
        for state in _STATES:
            self.add_state(state, shape, y_pred.device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = _as_tensor(y_pred, self.torch_dtype)
        y_true = _as_tensor(y_true, self.torch_dtype, y_pred.device)
        if not self._built:
            self._build(y_true, y_pred)
        self._follow(y_pred)
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            predicted = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.to(self.torch_dtype)
        weight = None
        if sample_weight is not None:
            weight = _as_tensor(sample_weight, self.torch_dtype, y_pred.device).unsqueeze(1)

        def weighted_sum(values: Tensor) -> Tensor:
            if weight is not None:
                values = values * weight
            return values.sum() if self.average == "micro" else values.sum(0)

        self.true_positives.add_(weighted_sum(predicted * y_true))
        self.false_positives.add_(weighted_sum(predicted * (1.0 - y_true)))
        self.false_negatives.add_(weighted_sum((1.0 - predicted) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self) -> Tensor:
        if not self._built:
            return torch.zeros((), dtype=self.torch_dtype)
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta_squared = self.beta**2
        score = precision * recall / (beta_squared * precision + recall + eps) * (1 + beta_squared)
        if self.average == "weighted":
            support = self.intermediate_weights
            return (score * support / (support.sum() + eps)).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta": self.beta,
            "average": self.average,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall: `FBetaScore` with beta = 1.

    Args: as `FBetaScore`, without beta.
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: str | None = None,
    ) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
