"""Metrics that average a loss function: regression errors and crossentropies.

>>> import torch
>>> from lamina.metrics import RootMeanSquaredError
>>> m = RootMeanSquaredError()
>>> m.update_state(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [-3.0]]))
>>> float(m.result())
3.0
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .. import losses
from ..losses.loss import _as_tensor, _prepare, squeeze_or_expand_to_same_rank
from .metric import Mean, MeanMetricWrapper, Metric

Tensor = torch.Tensor

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "R2Score",
    "RootMeanSquaredError",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
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
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """With `ignore_class`, ignored positions count as loss 0; given sample weights, their
        weights are also zeroed (so they leave the mean), exactly as Keras does."""
        ignore_class = self._fn_kwargs["ignore_class"]
        if ignore_class is not None and sample_weight is not None:
            y_pred = _as_tensor(y_pred)
            labels = _as_tensor(y_true, device=y_pred.device)
            axis = self._fn_kwargs["axis"]
            if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
                labels = labels.squeeze(axis)
            valid = (labels != ignore_class).to(y_pred.dtype)
            weights = _as_tensor(sample_weight, device=y_pred.device).to(y_pred.dtype)
            weights, valid = squeeze_or_expand_to_same_rank(weights, valid)
            sample_weight = weights * valid
        super().update_state(y_true, y_pred, sample_weight)


def _cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)): 1 for equal directions."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity of targets and predictions along `axis` (1 is best).

    >>> m = CosineSimilarity()
    >>> y_true, y_pred = torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.eye(2)
    >>> m.update_state(y_true, y_pred)
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(
        self, name: str = "cosine_similarity", dtype: str | None = None, axis: int = -1
    ) -> None:
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean of `lamina.losses.kl_divergence` over all samples seen."""

    def __init__(self, name: str = "kl_divergence", dtype: str | None = None) -> None:
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean of `lamina.losses.poisson` over all samples seen."""

    def __init__(self, name: str = "poisson", dtype: str | None = None) -> None:
        super().__init__(losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean of `lamina.losses.hinge` over all samples seen."""

    def __init__(self, name: str = "hinge", dtype: str | None = None) -> None:
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean of `lamina.losses.squared_hinge` over all samples seen."""

    def __init__(self, name: str = "squared_hinge", dtype: str | None = None) -> None:
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean of `lamina.losses.categorical_hinge` over all samples seen."""

    def __init__(self, name: str = "categorical_hinge", dtype: str | None = None) -> None:
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of `lamina.losses.log_cosh` over all samples seen; named 'logcosh' as Keras."""

    def __init__(self, name: str = "logcosh", dtype: str | None = None) -> None:
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


R2_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Coefficient of determination, 1 - SS_res / SS_tot, per output column, accumulated.

    Args:
        class_aggregation: 'uniform_average' (mean over the outputs), 'variance_weighted_average'
            (weighted by each output's variance) or None (one score per output).
        num_regressors: the number of independent variables, for the adjusted R2 (0: plain R2).
        name: the metric's name.
        dtype: the state's float type.

    >>> m = R2Score()
    >>> m.update_state(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [2.0], [4.0]]))
    >>> float(m.result())
    0.5
    """

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in R2_AGGREGATIONS:
            raise ValueError(
                f"R2Score: class_aggregation must be one of {R2_AGGREGATIONS}; "
                f"got {class_aggregation!r}"
            )
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0; got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.add_state("num_samples")
        self._built = False

    def _build(self, y_true: Tensor, y_pred: Tensor) -> None:
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects 2-D inputs (batch_size, output_dim); got y_true of shape "
                f"{tuple(y_true.shape)} and y_pred of shape {tuple(y_pred.shape)}"
            )
        for state in ("squared_sum", "sum", "residual", "count"):
            self.add_state(state, (y_pred.shape[-1],), y_pred.device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = _as_tensor(y_pred, self.torch_dtype)
        y_true = _as_tensor(y_true, self.torch_dtype, y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true, y_pred)
        self._follow(y_pred)
        if sample_weight is None:
            weight = torch.ones_like(y_true)
        else:
            weight = _as_tensor(sample_weight, self.torch_dtype, y_true.device)
            if weight.ndim == 1:
                weight = weight.unsqueeze(1)
            weight = weight.expand_as(y_true)
        weighted = y_true * weight
        self.sum.add_(weighted.sum(0))
        self.squared_sum.add_((y_true * weighted).sum(0))
        self.residual.add_(((y_true - y_pred).square() * weight).sum(0))
        self.count.add_(weight.sum(0))
        # Keras counts elements, not rows, for the adjusted score.
        self.num_samples.add_(y_true.numel())

    def result(self) -> Tensor:
        if not self._built:
            return self.num_samples.new_zeros(())
        total = self.squared_sum - self.sum * (self.sum / self.count)
        raw = 1.0 - self.residual / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors == 0:
            return score
        samples = float(self.num_samples)  # result() is read on the host anyway
        if self.num_regressors >= samples - 1:
            warnings.warn(
                "R2Score: the adjusted R2 needs more data points than num_regressors + 1; "
                "falling back to the standard R2 score",
                stacklevel=2,
            )
            return score
        return 1.0 - (1.0 - score) * (samples - 1.0) / (samples - self.num_regressors - 1.0)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
