"""One rate at the best threshold where another reaches a target, as Keras 3: PrecisionAtRecall,
RecallAtPrecision, SensitivityAtSpecificity and SpecificityAtSensitivity.

The state is the confusion counts at `num_thresholds` evenly spaced thresholds in [0, 1] (kept
on the device, counted by buckets as `AUC` counts them); `result()` is the largest value of the
reported rate among the thresholds where the constrained rate is >= the target (0 if none).

>>> import torch
>>> from lamina.metrics import PrecisionAtRecall
>>> m = PrecisionAtRecall(recall=0.5)
>>> m.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.6, 0.4, 0.8]))
>>> float(m.result())   # at a threshold in (0.6, 0.8): recall 0.5, precision 1
1.0
"""

from __future__ import annotations

from typing import Any

import torch

from ..losses.loss import _divide_no_nan
from .confusion import _STATES, _confusion_counts, _confusion_inputs
from .metric import Metric

Tensor = torch.Tensor

__all__ = [
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
]


class _RateAtRate(Metric):
    """Shared state, update and search of the four metrics.

    Subclasses name their target argument (`_target`) and pick the constrained and the
    reported rate in `_rates`.
    """

    _target = "value"

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        owner = type(self).__name__
        if not 0 <= value <= 1:
            raise ValueError(
                f"{owner}: `{self._target}` must be in the range [0, 1]; got {value!r}"
            )
        if not isinstance(num_thresholds, int) or num_thresholds <= 0:
            raise ValueError(
                f"{owner}: `num_thresholds` must be an integer > 0; got {num_thresholds!r}"
            )
        super().__init__(name=name, dtype=dtype)
        self.value = value
        setattr(self, self._target, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        self.register_buffer(
            "threshold_values", torch.tensor(self.thresholds, dtype=self.torch_dtype), False
        )
        for state in _STATES:
            self.add_state(state, (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels, y_pred, weight = _confusion_inputs(
            type(self).__name__,
            y_true,
            y_pred,
            sample_weight,
            self.torch_dtype,
            class_id=self.class_id,
        )
        self._follow(y_pred)
        labels, y_pred, weight = labels.reshape(-1, 1), y_pred.reshape(-1, 1), weight.reshape(-1, 1)
        if self.num_thresholds == 1:
            counts = _confusion_counts(labels, y_pred, weight, self.threshold_values)
        else:
            # Evenly spaced thresholds are counted by buckets, as Keras does. Unlike AUC's, the
            # lowest threshold is 0 itself, so predictions <= 0 exceed no threshold: take them
            # back out of the lowest bucket (the only count they entered).
            tp, fp, tn, fn = _confusion_counts(labels, y_pred, weight, self.num_thresholds)
            at_most_zero = (y_pred <= 0).to(weight.dtype) * weight
            positives = (at_most_zero * labels).sum()
            negatives = at_most_zero.sum() - positives
            tp[0] -= positives
            fn[0] += positives
            fp[0] -= negatives
            tn[0] += negatives
            counts = (tp, fp, tn, fn)
        for state, count in zip(_STATES, counts, strict=True):
            getattr(self, state).add_(count[:, 0])

    def _rates(self) -> tuple[Tensor, Tensor]:
        """(the constrained rate, the reported rate) at each threshold."""
        raise NotImplementedError

    def result(self) -> Tensor:
        constrained, reported = self._rates()
        feasible = torch.where(constrained >= self.value, reported, torch.zeros_like(reported))
        return feasible.max().clamp(min=0.0)

    def _recall(self) -> Tensor:
        return _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)

    def _precision(self) -> Tensor:
        return _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)

    def _specificity(self) -> Tensor:
        return _divide_no_nan(self.true_negatives, self.true_negatives + self.false_positives)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._target: self.value,
        }


class PrecisionAtRecall(_RateAtRate):
    """The best precision among the thresholds where recall >= `recall`.

    Args:
        recall: the target recall, in [0, 1].
        num_thresholds: the number of thresholds, evenly spaced over [0, 1] (one, at 0.5, if
            1). Default 200.
        class_id: compute the metric for this class (a column of y_pred) only.
        name: the metric's name ('precision_at_recall', numbered, by default).
        dtype: the state's float type.

    >>> m = PrecisionAtRecall(recall=0.5)
    >>> m.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.6, 0.4, 0.8]))
    >>> float(m.result())
    1.0
    """

    _target = "recall"

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._recall(), self._precision()


class RecallAtPrecision(_RateAtRate):
    """The best recall among the thresholds where precision >= `precision`.

    Args:
        precision: the target precision, in [0, 1].
        num_thresholds: the number of thresholds, evenly spaced over [0, 1] (one, at 0.5, if
            1). Default 200.
        class_id: compute the metric for this class (a column of y_pred) only.
        name: the metric's name ('recall_at_precision', numbered, by default).
        dtype: the state's float type.

    >>> m = RecallAtPrecision(precision=0.5)
    >>> m.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.6, 0.4, 0.8]))
    >>> float(m.result())
    1.0
    """

    _target = "precision"

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._precision(), self._recall()


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall) among the thresholds where specificity >= `specificity`.

    Args:
        specificity: the target specificity, in [0, 1].
        num_thresholds: the number of thresholds, evenly spaced over [0, 1] (one, at 0.5, if
            1). Default 200.
        class_id: compute the metric for this class (a column of y_pred) only.
        name: the metric's name ('sensitivity_at_specificity', numbered, by default).
        dtype: the state's float type.

    >>> m = SensitivityAtSpecificity(specificity=0.5)
    >>> m.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.6, 0.4, 0.8]))
    >>> float(m.result())
    1.0
    """

    _target = "specificity"

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._specificity(), self._recall()


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity among the thresholds where sensitivity (recall) >= `sensitivity`.

    Args:
        sensitivity: the target sensitivity, in [0, 1].
        num_thresholds: the number of thresholds, evenly spaced over [0, 1] (one, at 0.5, if
            1). Default 200.
        class_id: compute the metric for this class (a column of y_pred) only.
        name: the metric's name ('specificity_at_sensitivity', numbered, by default).
        dtype: the state's float type.

    >>> m = SpecificityAtSensitivity(sensitivity=0.5)
    >>> m.update_state(torch.tensor([0.0, 0.0, 1.0, 1.0]), torch.tensor([0.1, 0.6, 0.4, 0.8]))
    >>> float(m.result())
    1.0
    """

    _target = "sensitivity"

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._recall(), self._specificity()
