"""Overlap of boxes: the pairwise IoU table and the complete IoU (CIoU) of box pairs."""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina.config import epsilon

from ._converters import _image_size
from ._formats import convert_format, to_tensor

__all__ = ["compute_ciou", "compute_iou"]


def _check_rank(boxes: torch.Tensor, name: str) -> None:
    if boxes.ndim not in (2, 3):
        raise ValueError(
            f"compute_iou expects {name} of shape (N, 4) or (batch, N, 4); got shape "
            f"{tuple(boxes.shape)}"
        )


def _relative_needs_shape(bounding_box_format: str, image_shape: Any, function: str) -> None:
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            f"{function} needs `image_shape` (height, width, channels) for the relative format "
            f"{bounding_box_format!r}; got image_shape=None"
        )


def compute_iou(
    boxes1: Any,
    boxes2: Any,
    bounding_box_format: str,
    use_masking: bool = False,
    mask_val: int = -1,
    image_shape: Any = None,
) -> torch.Tensor:
    """The table of intersection over union of every box of `boxes1` with every box of
    `boxes2`, as Keras.

    (M, 4) and (N, 4) give (M, N); when either is batched, (batch, M, N).

    Args:
        boxes1: boxes, (M, 4) or (batch, M, 4).
        boxes2: boxes, (N, 4) or (batch, N, 4).
        bounding_box_format: the boxes' format (see `convert_format`).
        use_masking: give `mask_val` to pairs where either box has all coordinates < 0
            (padding boxes).
        mask_val: the value of masked pairs (default -1).
        image_shape: (height, width, channels), needed for relative formats.

    >>> compute_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]], "xyxy").tolist()
    [[0.1428571492433548, 1.0]]
    """
    boxes1, boxes2 = to_tensor(boxes1), to_tensor(boxes2)
    _check_rank(boxes1, "boxes1")
    _check_rank(boxes2, "boxes2")
    _relative_needs_shape(bounding_box_format, image_shape, "compute_iou")
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width).to(boxes1.device)
    # Each coordinate of boxes1 as a column (..., M, 1), of boxes2 as a row (..., 1, N).
    top1, left1, bottom1, right1 = (c.unsqueeze(-1) for c in boxes1.unbind(-1))
    top2, left2, bottom2, right2 = (c.unsqueeze(-2) for c in boxes2.unbind(-1))
    zero = torch.zeros((), dtype=boxes1.dtype, device=boxes1.device)
    overlap_h = torch.maximum(zero, torch.minimum(bottom1, bottom2) - torch.maximum(top1, top2))
    overlap_w = torch.maximum(zero, torch.minimum(right1, right2) - torch.maximum(left1, left2))
    intersection = overlap_h * overlap_w
    area1 = (bottom1 - top1) * (right1 - left1)
    area2 = (bottom2 - top2) * (right2 - left2)
    iou = intersection / (area1 + area2 - intersection + epsilon())
    if not use_masking:
        return iou
    padding1 = (boxes1.amax(dim=-1) < 0).unsqueeze(-1)
    padding2 = (boxes2.amax(dim=-1) < 0).unsqueeze(-2)
    return torch.where(padding1 | padding2, torch.full_like(iou, mask_val), iou)


def compute_ciou(
    boxes1: Any, boxes2: Any, bounding_box_format: str, image_shape: Any = None
) -> torch.Tensor:
    """Complete IoU of box pairs (elementwise, shapes broadcast), as Keras: the IoU less the
    squared centre distance over the enclosing box's squared diagonal and an aspect-ratio
    term.

    Args:
        boxes1: boxes of shape (..., 4).
        boxes2: boxes of shape (..., 4).
        bounding_box_format: the boxes' format (see `convert_format`).
        image_shape: (height, width, channels), needed for relative formats (Keras refuses
            relative formats altogether).

    Returns:
        The CIoU of each pair, shape (...).

    >>> round(compute_ciou([0, 0, 2, 2], [0, 0, 2, 2], "xyxy").item(), 6)
    1.0
    """
    _relative_needs_shape(bounding_box_format, image_shape, "compute_ciou")
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width).to(boxes1.device)
    eps = epsilon()
    left1, top1, right1, bottom1 = boxes1.unbind(-1)
    left2, top2, right2, bottom2 = boxes2.unbind(-1)
    width1, height1 = right1 - left1, bottom1 - top1 + eps
    width2, height2 = right2 - left2, bottom2 - top2 + eps
    intersection = torch.clamp(
        torch.minimum(right1, right2) - torch.maximum(left1, left2), min=0
    ) * torch.clamp(torch.minimum(bottom1, bottom2) - torch.maximum(top1, top2), min=0)
    union = width1 * height1 + width2 * height2 - intersection + eps
    iou = intersection / (union + eps)
    enclosing_w = torch.maximum(right1, right2) - torch.minimum(left1, left2)
    enclosing_h = torch.maximum(bottom1, bottom2) - torch.minimum(top1, top2)
    diagonal_squared = enclosing_w**2 + enclosing_h**2 + eps
    centre_distance_squared = ((left1 + right1) / 2 - (left2 + right2) / 2) ** 2 + (
        (top1 + bottom1) / 2 - (top2 + bottom2) / 2
    ) ** 2
    aspect = (4 / math.pi**2) * (torch.atan(width2 / height2) - torch.atan(width1 / height1)) ** 2
    alpha = aspect / (aspect - iou + (1 + eps))
    return iou - (centre_distance_squared / diagonal_squared + aspect * alpha)
