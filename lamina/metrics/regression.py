"""Metrics that average a loss function: regression errors and crossentropies.

>>> import torch
>>> from lamina.metrics import RootMeanSquaredError
>>> m = RootMeanSquaredError()
>>> m.update_state(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [-3.0]]))
>>> float(m.result())
3.0
"""

from __future__ import annotations

from typing import Any

import torch

from .. import losses
from ..losses.loss import _prepare, squeeze_or_expand_to_same_rank
from .metric import Mean, MeanMetricWrapper

Tensor = torch.Tensor

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "SparseCategoricalCrossentropy",
]


class MeanSquaredError(MeanMetricWrapper):
    """Mean of `lamina.losses.mean_squared_error` over all samples seen."""

    def __init__(self, name: str = "mean_squared_error", dtype: str | None = None) -> None:
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of `lamina.losses.mean_absolute_error` over all samples seen."""

    def __init__(self, name: str = "mean_absolute_error", dtype: str | None = None) -> None:
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of `lamina.losses.mean_absolute_percentage_error` over all samples seen."""

    def __init__(
        self, name: str = "mean_absolute_percentage_error", dtype: str | None = None
    ) -> None:
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of `lamina.losses.mean_squared_logarithmic_error` over all samples seen."""

    def __init__(
        self, name: str = "mean_squared_logarithmic_error", dtype: str | None = None
    ) -> None:
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean squared error over all samples seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
        super().update_state((y_pred - y_true).square(), sample_weight)

    def result(self) -> Tensor:
        return super().result().sqrt()


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean of `lamina.losses.binary_crossentropy` over all samples seen."""

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: str | None = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            losses.binary_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean of `lamina.losses.categorical_crossentropy` over all samples seen."""

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: str | None = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        super().__init__(
            losses.categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean of `lamina.losses.sparse_categorical_crossentropy` over all samples seen."""

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: str | None = None,
        from_logits: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            axis=axis,
        )
