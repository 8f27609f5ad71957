"""Clear errors for labels that do not fit a crossentropy loss or the model's output.

The checks read the labels back to the host, so the trainer runs them once per fit, never inside
the training step.

>>> import numpy as np
>>> from lamina.losses import validate_targets
>>> validate_targets("sparse_categorical_crossentropy", np.array([0, 9]), (2, 10))   # fine
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)

__all__ = ["LabelRangeError", "validate_targets"]


class LabelRangeError(ValueError, IndexError):
    """A class label outside [0, classes): Keras (torch) raises an IndexError ('Target 6 is out
    of bounds'), lamina a ValueError before; this is both (as NumPy's AxisError)."""


def _host_array(y: Any) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        return y.detach().cpu().numpy()
    return np.asarray(y)


def validate_targets(
    loss: Any,
    y_true: Any,
    y_pred_shape: tuple[int | None, ...],
    num_classes: int | None = None,
) -> None:
    """Check labels against a crossentropy loss and the model's output shape; raise a clear
    ValueError for integer labels given to categorical_crossentropy, one-hot widths that differ
    from the output width, and sparse labels outside [0, num_classes).

    It reads `y_true` back to the host: call it once per fit (on the labels or a first batch),
    never inside the training step. Other losses are not checked.

    Args:
        loss: a `Loss` or anything `to_loss` accepts.
        y_true: the labels (NumPy array or tensor).
        y_pred_shape: the model's output shape, e.g. (batch, num_classes).
        num_classes: the number of classes; the last entry of `y_pred_shape` by default.
    """
    from . import to_loss  # the package's lookup, which imports this module

    loss = to_loss(loss)
    if not isinstance(
        loss, (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy)
    ):
        return
    y = _host_array(y_true)
    width = int(num_classes if num_classes is not None else y_pred_shape[-1])
    pred_rank = len(y_pred_shape)
    what = f"Loss '{loss.name}' ({type(loss).__name__})"
    if y.size == 0:
        return
    if isinstance(loss, CategoricalCrossentropy):
        _validate_categorical(what, y, width, pred_rank)
    elif isinstance(loss, SparseCategoricalCrossentropy):
        _validate_sparse(what, y, width, pred_rank, loss.ignore_class)
    else:
        _validate_binary(what, y, width, pred_rank)


def _validate_categorical(what: str, y: np.ndarray, width: int, pred_rank: int) -> None:
    if y.ndim == pred_rank - 1 or (y.ndim == pred_rank and y.shape[-1] == 1 and width > 1):
        raise ValueError(
            f"{what} expects one-hot targets with {width} columns (the model's output width); "
            f"got integer class labels of shape {y.shape}. Use "
            "loss='sparse_categorical_crossentropy' for integer labels, or one-hot encode them "
            f"with lamina.utils.to_categorical(y, num_classes={width})."
        )
    if y.shape[-1] != width:
        raise ValueError(
            f"{what}: the one-hot targets have {y.shape[-1]} columns but the model outputs "
            f"{width} classes. Make the last layer's width {y.shape[-1]}, or encode the labels "
            f"with lamina.utils.to_categorical(y, num_classes={width})."
        )


def _validate_sparse(
    what: str, y: np.ndarray, width: int, pred_rank: int, ignore_class: int | None
) -> None:
    if y.ndim == pred_rank and y.shape[-1] != 1:
        raise ValueError(
            f"{what} expects integer class labels (shape (batch,) or (batch, 1)); got targets of "
            f"shape {y.shape}, which look one-hot. Use loss='categorical_crossentropy' for "
            "one-hot targets, or pass y.argmax(-1)."
        )
    labels = y.reshape(-1)
    if ignore_class is not None:
        labels = labels[labels != ignore_class]
    if labels.size == 0:
        return
    if not np.issubdtype(labels.dtype, np.integer):
        fractional = labels[labels != np.round(labels)]
        if fractional.size:
            raise ValueError(
                f"{what} expects integer class labels; got the value {fractional[0].item()!r}."
            )
    low, high = labels.min(), labels.max()
    if low < 0 or high >= width:
        bad = low if low < 0 else high
        raise LabelRangeError(
            f"{what} got the label {bad.item()!r}, but the model outputs {width} classes, so "
            f"labels must lie in [0, {width}). Check the labels, or give the last layer as many "
            "units as there are classes."
        )


def _validate_binary(what: str, y: np.ndarray, width: int, pred_rank: int) -> None:
    if y.ndim == pred_rank - 1 and width != 1:
        raise ValueError(
            f"{what} expects targets of the output's shape (width {width}); got labels of shape "
            f"{y.shape}. For integer class labels use loss='sparse_categorical_crossentropy' "
            "with a softmax output."
        )
    if y.ndim == pred_rank and y.shape[-1] != width:
        raise ValueError(
            f"{what}: the targets have {y.shape[-1]} columns but the model outputs {width}. "
            "They must match."
        )
    low, high = y.min(), y.max()
    if low < 0 or high > 1:
        raise ValueError(
            f"{what} expects targets in [0, 1]; got values from {low.item()!r} to "
            f"{high.item()!r}. For integer class labels use "
            "loss='sparse_categorical_crossentropy' with a softmax output."
        )
