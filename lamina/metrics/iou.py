"""Intersection-over-union metrics for segmentation: IoU, MeanIoU, BinaryIoU, OneHotIoU and
OneHotMeanIoU, from a confusion matrix accumulated on the device.

As in Keras 3 the confusion matrix is int32 unless `dtype` says otherwise, so float sample
weights are truncated to integers (with a warning); pass `dtype='float32'` for fractional ones.

>>> import torch
>>> from lamina.metrics import MeanIoU
>>> m = MeanIoU(num_classes=2)
>>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]))
>>> round(float(m.result()), 4)   # each class: 1 / (2 + 2 - 1)
0.3333
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch

from .. import config
from ..losses.loss import _as_tensor
from .metric import Metric

Tensor = torch.Tensor

__all__ = ["BinaryIoU", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]


class IoU(Metric):
    """Mean intersection-over-union of the classes in `target_class_ids`.

    IoU = true_positives / (true_positives + false_positives + false_negatives), per class, from
    the confusion matrix of all batches seen; classes that never occur are left out of the mean.

    Args:
        num_classes: the number of classes (the confusion matrix is num_classes x num_classes).
        target_class_ids: the classes whose IoUs are averaged.
        name: the metric's name ('io_u', numbered, by default, as Keras).
        dtype: the confusion matrix' type; int32 by default, as Keras.
        ignore_class: a label whose positions are left out (e.g. a 'void' class).
        sparse_y_true: whether labels are integers; if False, the argmax over `axis` is taken.
        sparse_y_pred: whether predictions are integers; if False, the argmax over `axis`.
        axis: the class axis of dense labels or predictions.
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: str | None = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(name=name, dtype=dtype or "int32")
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"{type(self).__name__}: target class id {max(target_class_ids)} is out of "
                f"range [0, {num_classes})"
            )
        self.num_classes, self.target_class_ids = num_classes, target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        # Keras names the variable "total_confusion_matrix" and the attribute `total_cm`.
        self.add_state("total_confusion_matrix", (num_classes, num_classes))

    @property
    def total_cm(self) -> Tensor:
        """The confusion matrix accumulated so far, rows true classes, columns predicted."""
        return self.total_confusion_matrix

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = _as_tensor(y_pred)
        y_true = _as_tensor(y_true, device=y_pred.device)
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        self._follow(y_pred)
        dtype = self.torch_dtype
        # Through the state's type first, as Keras: float predictions truncate.
        y_true = y_true.to(dtype).reshape(-1).long()
        y_pred = y_pred.to(dtype).reshape(-1).long()
        if sample_weight is None:
            weight = torch.ones_like(y_true, dtype=dtype)
        else:
            weight = _as_tensor(sample_weight, device=y_pred.device)
            if weight.is_floating_point() and not dtype.is_floating_point:
                warnings.warn(
                    f"{type(self).__name__} '{self.name}': float sample weights are truncated "
                    f"to integers by its {self.dtype} confusion matrix (as Keras); pass "
                    "integer weights, or dtype='float32'",
                    stacklevel=2,
                )
            weight = weight.to(dtype).reshape(-1).expand_as(y_true)
        valid = (y_true >= 0) & (y_true < self.num_classes)
        valid &= (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cell = torch.where(valid, y_true * self.num_classes + y_pred, torch.zeros_like(y_true))
        weight = torch.where(valid, weight, torch.zeros_like(weight))
        self.total_cm.view(-1).index_add_(0, cell, weight)

    def result(self) -> Tensor:
        cm = self.total_cm.to(torch.float32)
        true_positives = cm.diagonal()
        denominator = cm.sum(0) + cm.sum(1) - true_positives
        ids = torch.tensor(self.target_class_ids, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = true_positives / (denominator + config.epsilon())
        iou = torch.where(valid, iou, torch.zeros_like(iou))
        return iou.sum(dim=-1) / (valid.to(torch.float32).sum() + config.epsilon())

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary predictions: a prediction >= `threshold` is class 1, else class 0.

    Args:
        target_class_ids: (0,), (1,) or (0, 1) (the mean of both IoUs, the default).
        threshold: the decision threshold on the predictions.
        name: the metric's name ('binary_io_u', numbered, by default).
        dtype: the confusion matrix' type; int32 by default, as Keras.

    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state(torch.tensor([0, 1, 0, 1]), torch.tensor([0.1, 0.2, 0.4, 0.7]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self,
        target_class_ids: Sequence[int] = (0, 1),
        threshold: float = 0.5,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = _as_tensor(y_pred, torch.float32)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.int32), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes; arguments as `IoU`."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: str | None = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and, by default, dense predictions): argmax over `axis` first."""

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: str | None = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and, by default, dense predictions)."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: str | None = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
