"""Losses for imbalanced classes: the focal crossentropies, and Dice and Tversky for segmentation.

The focal losses scale each crossentropy term by (1 - p_t) ** gamma, so that well-classified
examples weigh less (Lin et al., 2017); Dice and Tversky compare the overlap of targets and
predictions, by default over the whole batch (`axis=None`), as Keras.

>>> import torch
>>> from lamina.losses import Dice
>>> round(float(Dice()(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]]))), 4)
0.3333
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from .loss import LossFunctionWrapper, Tensor, _as_tensor, _prepare

__all__ = [
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "Dice",
    "Tversky",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "dice",
    "tversky",
]

Axis = int | Sequence[int] | None


def _check_axis(owner: str, axis: Any) -> None:
    if isinstance(axis, bool):
        raise ValueError(f"{owner}: axis must be an int; got axis={axis!r}")


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary crossentropy times (1 - p_t) ** gamma, mean over `axis` (Lin et al., 2017).

    p_t is y * p + (1 - y) * (1 - p); the crossentropy clips p to [epsilon, 1 - epsilon].

    Args:
        y_true: targets in [0, 1], the shape of `y_pred`.
        y_pred: probabilities, or logits when `from_logits`.
        apply_class_balancing: weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: the positives' weight when `apply_class_balancing`.
        gamma: the focusing parameter; 0 gives the binary crossentropy.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; targets are squeezed towards 0.5: y * (1 - s) + s / 2.
        axis: the axis averaged over.

    >>> loss = binary_focal_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.4, 0.6]]))
    >>> [round(v, 4) for v in loss.tolist()]
    [0.0817]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    eps = config.epsilon()
    bce = F.binary_cross_entropy(y_pred.clamp(eps, 1.0 - eps), y_true, reduction="none")
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = (1.0 - p_t).pow(gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(dim=axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float | Sequence[float] = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """-sum(alpha * (1 - p) ** gamma * y_true * log(p)) over `axis`, for one-hot targets.

    Probabilities are divided by their sum and clipped to [epsilon, 1 - epsilon], as Keras.

    Args:
        y_true: one-hot targets, the shape of `y_pred`.
        y_pred: probabilities, or logits when `from_logits`.
        alpha: a weight for all classes, or one per class.
        gamma: the focusing parameter; 0 gives alpha times the categorical crossentropy.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in [0, 1]; targets become y * (1 - s) + s / num_classes.
        axis: the class axis.

    >>> y_true, y_pred = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]])
    >>> [round(v, 4) for v in categorical_focal_crossentropy(y_true, y_pred).tolist()]
    [0.0433]
    """
    _check_axis("categorical_focal_crossentropy", axis)
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_focal_crossentropy expects y_pred of shape (batch_size, num_classes) "
            f"with num_classes > 1; got {tuple(y_pred.shape)}. Use binary_focal_crossentropy "
            "for two classes.",
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    eps = config.epsilon()
    output = (y_pred / y_pred.sum(dim=axis, keepdim=True)).clamp(eps, 1.0 - eps)
    weight = (1.0 - output).pow(gamma) * _as_tensor(alpha, output.dtype, output.device)
    return (weight * -y_true * torch.log(output)).sum(dim=axis)


def _sum(x: Tensor, axis: Axis) -> Tensor:
    if axis is None:
        return x.sum()
    return x.sum(dim=tuple(axis) if isinstance(axis, Sequence) else axis)


def dice(y_true: Any, y_pred: Any, axis: Axis = None) -> Tensor:
    """1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon), summed over `axis`
    (all axes, giving one number, by default).

    >>> float(dice(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]])))  # doctest: +ELLIPSIS
    0.333...
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    total = _sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon()
    return 1.0 - 2.0 * intersection / total


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Axis = None
) -> Tensor:
    """1 - TP / (TP + alpha FP + beta FN + epsilon), the soft counts summed over `axis`.

    Following Keras, FP = sum((1 - y_pred) * y_true) and FN = sum(y_pred * (1 - y_true));
    alpha = beta = 0.5 gives the Dice loss.

    >>> float(tversky(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]])))  # doctest: +ELLIPSIS
    0.333...
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    false_positives = _sum((1.0 - y_pred) * y_true, axis)
    false_negatives = _sum(y_pred * (1.0 - y_true), axis)
    denominator = intersection + false_positives * alpha + false_negatives * beta
    return 1.0 - intersection / (denominator + config.epsilon())


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal crossentropy for targets in [0, 1]; see `binary_focal_crossentropy`.

    >>> loss = BinaryFocalCrossentropy(gamma=0.0)
    >>> round(float(loss(torch.tensor([[1.0]]), torch.tensor([[0.5]]))), 4)   # log 2
    0.6931
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            binary_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal crossentropy for one-hot targets; see `categorical_focal_crossentropy`.

    >>> loss = CategoricalFocalCrossentropy(alpha=1.0, gamma=0.0)
    >>> round(float(loss(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))), 4)  # log 2
    0.6931
    """

    def __init__(
        self,
        alpha: float | Sequence[float] = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: str | None = None,
    ) -> None:
        _check_axis("CategoricalFocalCrossentropy", axis)
        super().__init__(
            categorical_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class Dice(LossFunctionWrapper):
    """The Dice loss, 1 - the Dice coefficient; see `dice`.

    Args:
        reduction: as `Loss`.
        name: the loss' name.
        axis: the axes the overlap is summed over; None (default) sums over all of them.
        dtype: the float type of the computation.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice",
        axis: Axis = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """The Tversky loss, a Dice loss weighing false positives and negatives; see `tversky`.

    >>> loss = Tversky(alpha=0.7, beta=0.3)
    >>> round(float(loss(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))), 4)
    0.4118
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: Axis = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )
        self.alpha, self.beta, self.axis = alpha, beta, axis
