"""Bounding-box formats: conversion between Keras' nine formats, and the shared input helpers.

A box is four numbers on the last axis. The formats name their order ('xyxy': left, top,
right, bottom; 'yxyx'; 'xywh': left, top, width, height; 'center_xywh'; 'center_yxhw') and a
`rel_` prefix means the coordinates are fractions of the image's width and height. Every
conversion goes through 'xyxy' with the same arithmetic as Keras, so the numbers are Keras'.

This module is the one place lamina converts box formats: augmentation layers that move boxes
should import `convert_format` and `to_tensor` from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.config import floatx, torch_dtype

__all__ = ["SUPPORTED_FORMATS", "convert_format", "to_tensor"]

SUPPORTED_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)


def to_tensor(value: Any, dtype: str | torch.dtype | None = None) -> torch.Tensor:
    """A torch tensor of `value` (tensor, NumPy array, list or number; Python floats become
    floatx), cast to `dtype` if given; a tensor keeps its device."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(value))
    else:
        array = np.asarray(value)
        # Python numbers and lists follow Keras: floats become floatx, not float64.
        if array.dtype == np.float64:
            array = array.astype(floatx())
        tensor = torch.as_tensor(array)
    return tensor if dtype is None else tensor.to(torch_dtype(dtype))


def check_format(name: str, value: Any, function: str) -> str:
    """The lower-cased format name, or a ValueError naming the function and the formats."""
    if not isinstance(value, str) or value.lower() not in SUPPORTED_FORMATS:
        raise ValueError(
            f"{function}: unknown {name} {value!r}; supported formats are {SUPPORTED_FORMATS}"
        )
    return value.lower()


def check_boxes(boxes: torch.Tensor, function: str, name: str = "boxes") -> None:
    """Boxes have four numbers on their last axis."""
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(
            f"{function} expects {name} with 4 coordinates on the last axis, such as (num_boxes, "
            f"4) or (batch, num_boxes, 4); got shape {tuple(boxes.shape)}"
        )


def _size(value: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor | None:
    if value is None:
        return None
    return to_tensor(value).to(device=device, dtype=dtype)


def _to_xyxy(boxes: torch.Tensor, fmt: str, height: Any, width: Any) -> list[torch.Tensor]:
    relative = fmt.startswith("rel_")
    base = fmt.removeprefix("rel_")
    a, b, c, d = boxes.unbind(-1)
    if base == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif base == "yxyx":
        y1, x1, y2, x2 = a, b, c, d
    elif base == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    else:
        cx, cy, w, h = (a, b, c, d) if base == "center_xywh" else (b, a, d, c)
        x1, y1, x2, y2 = cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0
    if relative:
        x1, y1, x2, y2 = x1 * width, y1 * height, x2 * width, y2 * height
    return [x1, y1, x2, y2]


def _from_xyxy(corners: list[torch.Tensor], fmt: str, height: Any, width: Any) -> torch.Tensor:
    relative = fmt.startswith("rel_")
    base = fmt.removeprefix("rel_")
    x1, y1, x2, y2 = corners
    # Each output coordinate with whether it is horizontal (scaled by the width when relative).
    if base == "xyxy":
        parts = [(x1, True), (y1, False), (x2, True), (y2, False)]
    elif base == "yxyx":
        parts = [(y1, False), (x1, True), (y2, False), (x2, True)]
    elif base == "xywh":
        parts = [(x1, True), (y1, False), (x2 - x1, True), (y2 - y1, False)]
    else:
        cx, cy = x1 + ((x2 - x1) / 2.0), y1 + ((y2 - y1) / 2.0)
        w, h = x2 - x1, y2 - y1
        parts = [(cx, True), (cy, False), (w, True), (h, False)]
        if base == "center_yxhw":
            parts = [parts[1], parts[0], parts[3], parts[2]]
    if relative:
        parts = [
            (value / (width if horizontal else height), horizontal) for value, horizontal in parts
        ]
    return torch.stack([value for value, _ in parts], dim=-1)


def convert_format(
    boxes: Any,
    source: str,
    target: str,
    height: Any = None,
    width: Any = None,
    dtype: str = "float32",
) -> Any:
    """Convert bounding boxes from one format to another, as Keras.

    Formats (case-insensitive): 'xyxy' [left, top, right, bottom], 'yxyx', 'xywh' [left, top,
    width, height], 'center_xywh', 'center_yxhw', and the relative 'rel_xyxy', 'rel_yxyx',
    'rel_xywh', 'rel_center_xywh' (fractions of the image's `height` and `width`).

    Args:
        boxes: a tensor or array of shape (..., 4), or a dict {'boxes', 'labels'}, whose
            'boxes' are converted (the dict is updated and returned, as in Keras).
        source: the format of `boxes`.
        target: the format to return.
        height: image height, required when either format is relative.
        width: image width, required when either format is relative.
        dtype: the dtype of the result (default 'float32').

    Returns:
        A torch tensor of the boxes in `target` format (or the dict holding it).

    >>> convert_format([[10, 20, 30, 40]], source="xyxy", target="xywh").tolist()
    [[10.0, 20.0, 20.0, 20.0]]
    >>> convert_format([[30, 20, 60, 40]], "xyxy", "rel_xyxy", height=200, width=300).tolist()
    [[0.10000000149011612, 0.10000000149011612, 0.20000000298023224, 0.20000000298023224]]
    """
    if isinstance(boxes, dict):
        if "boxes" not in boxes:
            raise ValueError(
                f"convert_format expects a dict with a 'boxes' key; got keys {sorted(boxes)}"
            )
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    boxes = to_tensor(boxes)
    check_boxes(boxes, "convert_format")
    source = check_format("source", source, "convert_format")
    target = check_format("target", target, "convert_format")
    if (source.startswith("rel_") or target.startswith("rel_")) and (
        height is None or width is None
    ):
        raise ValueError(
            "convert_format needs `height` and `width` to convert between relative and absolute "
            f"formats; got source={source!r}, target={target!r}, height={height}, width={width}"
        )
    boxes = boxes.to(torch_dtype(dtype))
    if source == target:
        return boxes
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source.removeprefix("rel_"), target.removeprefix("rel_")
    height = _size(height, boxes.dtype, boxes.device)
    width = _size(width, boxes.dtype, boxes.device)
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)
