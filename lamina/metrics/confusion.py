"""Metrics from confusion counts at thresholds: Precision, Recall and AUC.

The state is the number (or weight) of true/false positives/negatives at each threshold, kept
on the device; a prediction counts as positive at threshold t when it is > t, a label when it
is non-zero.

>>> import torch
>>> from lamina.metrics import Precision
>>> m = Precision()
>>> m.update_state(torch.tensor([0.0, 1.0, 1.0, 1.0]), torch.tensor([1.0, 0.0, 1.0, 1.0]))
>>> round(float(m.result()), 4)   # 2 true positives among 3 predicted positives
0.6667
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import config
from ..losses.loss import _as_tensor, _divide_no_nan, _prepare, squeeze_or_expand_to_same_rank
from .metric import Metric

Tensor = torch.Tensor

__all__ = [
    "AUC",
    "FalseNegatives",
    "FalsePositives",
    "Precision",
    "Recall",
    "TrueNegatives",
    "TruePositives",
]

# Keras' stand-in for minus infinity: what top_k filtering gives the predictions it drops.
NEG_INF = -1e10
CURVES = ("ROC", "PR")
SUMMATION_METHODS = ("interpolation", "minoring", "majoring")
_STATES = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def _parse_thresholds(
    owner: str, thresholds: float | Sequence[float] | None, default: float
) -> list[float]:
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    for value in values:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{owner}: thresholds must lie in [0, 1]; got {thresholds!r}")
    return [float(value) for value in values]


def _filter_top_k(y_pred: Tensor, k: int) -> Tensor:
    """Keep the k largest scores on the last axis; the others become NEG_INF."""
    indices = y_pred.topk(min(k, y_pred.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(y_pred, dtype=torch.bool).scatter_(-1, indices, True)
    return torch.where(keep, y_pred, torch.full_like(y_pred, NEG_INF))


def _confusion_inputs(
    owner: str,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    dtype: torch.dtype,
    top_k: int | None = None,
    class_id: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Labels as 0/1, predictions, and weights, all of the predictions' (sliced) shape."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true, y_pred = y_true.to(dtype), y_pred.to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is None:
        weight = torch.ones_like(y_pred)
    else:
        weight = _as_tensor(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, weight = squeeze_or_expand_to_same_rank(y_true, weight, expand_rank_1=False)
        weight = weight.expand_as(y_pred)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                f"{owner}: class_id needs predictions of shape (batch, num_classes); got shape "
                f"{tuple(y_pred.shape)}"
            )
        index = slice(class_id, class_id + 1)
        y_true, y_pred, weight = y_true[..., index], y_pred[..., index], weight[..., index]
    return (y_true != 0).to(dtype), y_pred, weight


def _confusion_counts(
    labels: Tensor, y_pred: Tensor, weight: Tensor, thresholds: Tensor | int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """True/false positives/negatives at each threshold, shape (T, L) for inputs (M, L).

    `thresholds` is a tensor of thresholds, or the number T of Keras' evenly spaced default
    ones (-epsilon, 1/(T-1), ..., (T-2)/(T-1), 1 + epsilon): then each prediction falls in one
    bucket and a reverse cumulative sum gives the counts, in O(M + T) memory instead of O(M T).
    """
    positives, negatives = labels * weight, (1.0 - labels) * weight
    if isinstance(thresholds, int):
        num, width = thresholds, y_pred.shape[-1]
        # The highest threshold index a prediction exceeds: ceil(p (T - 1)) - 1, as Keras.
        bucket = (torch.ceil(y_pred * (num - 1)) - 1).clamp(0, num - 1).long()
        index = (bucket * width + torch.arange(width, device=y_pred.device)).reshape(-1)

        def above(values: Tensor) -> Tensor:
            hist = values.new_zeros(num * width).index_add_(0, index, values.reshape(-1))
            return hist.reshape(num, width).flip(0).cumsum(0).flip(0)

    else:
        exceeds = (y_pred.unsqueeze(0) > thresholds.reshape(-1, 1, 1)).to(y_pred.dtype)

        def above(values: Tensor) -> Tensor:
            return (exceeds * values.unsqueeze(0)).sum(1)

    tp, fp = above(positives), above(negatives)
    return tp, fp, negatives.sum(0) - fp, positives.sum(0) - tp


class _PrecisionRecall(Metric):
    """Shared state and update of Precision and Recall."""

    _second = "false_positives"

    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(
            type(self).__name__, thresholds, 0.5 if top_k is None else NEG_INF
        )
        self.top_k, self.class_id = top_k, class_id
        self.register_buffer(
            "threshold_values", torch.tensor(self.thresholds, dtype=self.torch_dtype), False
        )
        self.add_state("true_positives", (len(self.thresholds),))
        self.add_state(self._second, (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, y_pred, weight = _confusion_inputs(
            type(self).__name__,
            y_true,
            y_pred,
            sample_weight,
            self.torch_dtype,
            self.top_k,
            self.class_id,
        )
        self._follow(y_pred)
        tp, fp, _, fn = _confusion_counts(
            labels.reshape(-1, 1),
            y_pred.reshape(-1, 1),
            weight.reshape(-1, 1),
            self.threshold_values,
        )
        self.true_positives.add_(tp[:, 0])
        getattr(self, self._second).add_((fp if self._second == "false_positives" else fn)[:, 0])

    def result(self) -> Tensor:
        tp = self.true_positives
        value = _divide_no_nan(tp, tp + getattr(self, self._second))
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """true_positives / (true_positives + false_positives), accumulated over batches.

    Args:
        thresholds: a threshold or a list of them in [0, 1] (one result each); 0.5 by default.
        top_k: count only the k highest predictions of each sample as positive.
        class_id: compute the metric for this class (a column of y_pred) only.
        name: the metric's name ('precision', numbered, by default).
        dtype: the state's float type.
    """

    _second = "false_positives"


class Recall(_PrecisionRecall):
    """true_positives / (true_positives + false_negatives), accumulated over batches.

    Args: as `Precision`.
    """

    _second = "false_negatives"


def _riemann_auc(x: Tensor, y: Tensor, summation_method: str) -> Tensor:
    if summation_method == "interpolation":
        heights = (y[:-1] + y[1:]) / 2.0
    elif summation_method == "minoring":
        heights = torch.minimum(y[:-1], y[1:])
    else:
        heights = torch.maximum(y[:-1], y[1:])
    return ((x[:-1] - x[1:]) * heights).sum(0)


def _interpolated_pr_auc(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
    """PR AUC with precision interpolated between thresholds (Davis & Goadrich, 2006).

    Between two thresholds the counts change linearly, so precision is
    tp / p with tp = slope * p + intercept, whose integral over recall has a closed form.
    """
    predicted = tp + fp
    d_tp = tp[:-1] - tp[1:]
    d_predicted = predicted[:-1] - predicted[1:]
    slope = _divide_no_nan(d_tp, d_predicted.clamp(min=0))
    intercept = tp[1:] - slope * predicted[1:]
    both_positive = (predicted[:-1] > 0) & (predicted[1:] > 0)
    ratio = torch.where(
        both_positive,
        _divide_no_nan(predicted[:-1], predicted[1:].clamp(min=0)),
        torch.ones_like(predicted[1:]),
    )
    area = slope * (d_tp + intercept * torch.log(ratio))
    return _divide_no_nan(area, (tp[1:] + fn[1:]).clamp(min=0)).sum(0)


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at fixed thresholds.

    Args:
        num_thresholds: the number of thresholds; Keras' defaults place them at
            -epsilon, 1/(n-1), ..., (n-2)/(n-1), 1 + epsilon so that predictions of exactly 0
            and 1 are classified correctly.
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation' (trapezoids; Davis & Goadrich for PR), 'minoring'
            or 'majoring' (lower or upper Riemann sums).
        name: the metric's name ('auc', numbered, by default).
        dtype: the state's float type.
        thresholds: explicit thresholds in [0, 1] (then -epsilon and 1 + epsilon are added and
            `num_thresholds` is their count).
        multi_label: one curve per label (last axis), the AUCs averaged; otherwise every
            element is one prediction of a single curve.
        num_labels: the number of labels when `multi_label` (found on the first batch if None).
        label_weights: a weight per label, for the average (multi_label) or for the counts.
        from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: str | None = None,
        thresholds: Sequence[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Sequence[float] | None = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if str(curve).upper() not in CURVES:
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR'; got {curve!r}")
        if str(summation_method).lower() not in SUMMATION_METHODS:
            raise ValueError(
                f"AUC: summation_method must be one of {SUMMATION_METHODS}; "
                f"got {summation_method!r}"
            )
        self.curve, self.summation_method = str(curve).upper(), str(summation_method).lower()
        eps = config.epsilon()
        self._init_thresholds = None if thresholds is None else list(thresholds)
        if thresholds is None:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1; got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(_parse_thresholds("AUC", thresholds, 0.5))
            num_thresholds = len(inner) + 2
        self.num_thresholds = num_thresholds
        self.thresholds = [0.0 - eps, *inner, 1.0 + eps]
        self.register_buffer(
            "threshold_values", torch.tensor(self.thresholds, dtype=self.torch_dtype), False
        )
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else list(label_weights)
        weights = None if label_weights is None else torch.tensor(self.label_weights)
        self.register_buffer("label_weight_values", weights, False)
        self._built = False
        if not multi_label or num_labels is not None:
            self._build(num_labels if multi_label else 1)

    def _build(self, width: int) -> None:
        # Keras' shapes: (num_thresholds,) for one label, (num_thresholds, num_labels) otherwise.
        shape = (self.num_thresholds, width) if self.multi_label else (self.num_thresholds,)
        for state in _STATES:
            self.add_state(state, shape, self.threshold_values.device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, y_pred, weight = _confusion_inputs(
            "AUC", y_true, y_pred, sample_weight, self.torch_dtype
        )
        self._follow(y_pred)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        if self.label_weight_values is not None and not self.multi_label:
            weight = weight * self.label_weight_values.to(weight)
        width = y_pred.shape[-1] if self.multi_label and y_pred.ndim > 1 else 1
        if not self._built:
            self._build(width)
        # The default thresholds are evenly spaced: count them by buckets, as Keras does.
        thresholds = self.num_thresholds if self._init_thresholds is None else self.threshold_values
        counts = _confusion_counts(
            labels.reshape(-1, width),
            y_pred.reshape(-1, width),
            weight.reshape(-1, width),
            thresholds,
        )
        for state, count in zip(_STATES, counts, strict=True):
            total = getattr(self, state)
            total.add_(count.reshape(total.shape))

    def result(self) -> Tensor:
        if not self._built:
            return self.threshold_values.new_zeros(())
        tp, fp, tn, fn = (
            state.reshape(self.num_thresholds, -1)
            for state in (
                self.true_positives,
                self.false_positives,
                self.true_negatives,
                self.false_negatives,
            )
        )
        if self.curve == "PR" and self.summation_method == "interpolation":
            per_label = _interpolated_pr_auc(tp, fp, fn)
        elif self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), _divide_no_nan(tp, tp + fn)
            per_label = _riemann_auc(x, y, self.summation_method)
        else:
            x, y = _divide_no_nan(tp, tp + fn), _divide_no_nan(tp, tp + fp)
            per_label = _riemann_auc(x, y, self.summation_method)
        if not self.multi_label:
            return per_label[0]
        if self.label_weight_values is None:
            return per_label.mean()
        weights = self.label_weight_values.to(per_label)
        return _divide_no_nan((per_label * weights).sum(), weights.sum())

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self.from_logits,
        }
        if self._init_thresholds is not None:
            config["thresholds"] = self._init_thresholds
        return config


class _ConfusionCount(Metric):
    """The weighted count of one confusion-matrix cell at one or more thresholds."""

    _state = "true_positives"

    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(type(self).__name__, thresholds, 0.5)
        self.register_buffer(
            "threshold_values", torch.tensor(self.thresholds, dtype=self.torch_dtype), False
        )
        self.add_state("accumulator", (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, y_pred, weight = _confusion_inputs(
            type(self).__name__, y_true, y_pred, sample_weight, self.torch_dtype
        )
        self._follow(y_pred)
        counts = _confusion_counts(
            labels.reshape(-1, 1),
            y_pred.reshape(-1, 1),
            weight.reshape(-1, 1),
            self.threshold_values,
        )
        self.accumulator.add_(counts[_STATES.index(self._state)][:, 0])

    def result(self) -> Tensor:
        value = self.accumulator.clone()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The (weighted) number of positive labels predicted above the threshold.

    Args:
        thresholds: a threshold or a list of them in [0, 1] (one count each); 0.5 by default.
        name: the metric's name ('true_positives', numbered, by default).
        dtype: the state's float type.

    >>> m = TruePositives()
    >>> m.update_state(torch.tensor([0.0, 1.0, 1.0, 1.0]), torch.tensor([1.0, 0.0, 1.0, 1.0]))
    >>> float(m.result())
    2.0
    """

    _state = "true_positives"


class FalsePositives(_ConfusionCount):
    """The (weighted) number of negative labels predicted above the threshold; as
    `TruePositives`."""

    _state = "false_positives"


class TrueNegatives(_ConfusionCount):
    """The (weighted) number of negative labels predicted at or below the threshold; as
    `TruePositives`."""

    _state = "true_negatives"


class FalseNegatives(_ConfusionCount):
    """The (weighted) number of positive labels predicted at or below the threshold; as
    `TruePositives`."""

    _state = "false_negatives"
