"""Correlation metrics: PearsonCorrelation and ConcordanceCorrelation, as Keras 3.

Each computes a coefficient per sample (over `axis`, the features by default) and averages it
over all samples seen, as Keras' `MeanMetricWrapper` does.

>>> import torch
>>> from lamina.metrics import PearsonCorrelation
>>> m = PearsonCorrelation()
>>> y_true = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]])
>>> m.update_state(y_true, torch.tensor([[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]]))
>>> round(float(m.result()), 4)   # the mean of 1.0 and 0.9934, one per sample
0.9967
"""

from __future__ import annotations

from typing import Any

import torch

from .. import config
from ..losses.loss import _prepare_pair
from .metric import MeanMetricWrapper

Tensor = torch.Tensor
Axis = int | tuple[int, ...]

__all__ = [
    "ConcordanceCorrelation",
    "PearsonCorrelation",
    "concordance_correlation",
    "pearson_correlation",
]


def _axis(axis: Axis | list[int]) -> Axis:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def pearson_correlation(y_true: Any, y_pred: Any, axis: Axis = -1) -> Tensor:
    """The Pearson correlation coefficient of `y_true` and `y_pred` along `axis`.

    Both are centred and divided by their (population) standard deviation, and the mean of the
    product is taken along `axis`. As in Keras, constant inputs give NaN.
    """
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    axis = _axis(axis)
    y_true = y_true - y_true.mean(dim=axis, keepdim=True)
    y_pred = y_pred - y_pred.mean(dim=axis, keepdim=True)
    y_true = y_true / y_true.std(dim=axis, correction=0, keepdim=True)
    y_pred = y_pred / y_pred.std(dim=axis, correction=0, keepdim=True)
    return (y_true * y_pred).mean(dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: Axis = -1) -> Tensor:
    """Lin's concordance correlation coefficient of `y_true` and `y_pred` along `axis`.

    ``mean(2 cov / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))^2 + epsilon))``
    with Keras 3.15.1's covariance term ``(y_true - mean(y_pred)) (y_pred - mean(y_pred))``
    (not ``y_true - mean(y_true)``), kept so that the values are Keras'.
    """
    y_true, y_pred = _prepare_pair(y_true, y_pred)
    axis = _axis(axis)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = y_true.var(dim=axis, correction=0, keepdim=True)
    pred_var = y_pred.var(dim=axis, correction=0, keepdim=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2.0 * covariance / (norm + config.epsilon())).mean(dim=axis)


class _Correlation(MeanMetricWrapper):
    """Shared constructor and config: Keras' keys are name, dtype and axis."""

    _function = staticmethod(pearson_correlation)

    def __init__(self, name: str, dtype: str | None = None, axis: Axis = -1) -> None:
        super().__init__(type(self)._function, name=name, dtype=dtype, axis=_axis(axis))
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class PearsonCorrelation(_Correlation):
    """The mean Pearson correlation coefficient between targets and predictions.

    Args:
        name: the metric's name ('pearson_correlation' by default, as Keras: not numbered).
        dtype: the state's float type.
        axis: the axis (or axes) along which each coefficient is computed; -1 by default.

    >>> m = PearsonCorrelation()
    >>> m.update_state(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[2.0, 4.0, 6.0]]))
    >>> round(float(m.result()), 4)
    1.0
    """

    _function = staticmethod(pearson_correlation)

    def __init__(
        self, name: str = "pearson_correlation", dtype: str | None = None, axis: Axis = -1
    ) -> None:
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(_Correlation):
    """The mean concordance correlation coefficient between targets and predictions.

    Args:
        name: the metric's name ('concordance_correlation' by default, not numbered).
        dtype: the state's float type.
        axis: the axis (or axes) along which each coefficient is computed; -1 by default.

    >>> m = ConcordanceCorrelation()
    >>> m.update_state(torch.tensor([[0.0, 1.0, 0.5]]), torch.tensor([[0.1, 0.9, 0.5]]))
    >>> round(float(m.result()), 4)
    0.9756
    """

    _function = staticmethod(concordance_correlation)

    def __init__(
        self, name: str = "concordance_correlation", dtype: str | None = None, axis: Axis = -1
    ) -> None:
        super().__init__(name=name, dtype=dtype, axis=axis)
