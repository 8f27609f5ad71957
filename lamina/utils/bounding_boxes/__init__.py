"""Bounding-box utilities, as `keras.utils.bounding_boxes`: format conversion, clipping,
cropping, padding and affine moves of boxes, IoU and CIoU, and anchor deltas.

Boxes are tensors or arrays with four coordinates on the last axis, or Keras' dicts
`{"boxes": ..., "labels": ...}` where Keras takes them; results are torch tensors.

>>> from lamina.utils import bounding_boxes
>>> bounding_boxes.convert_format([[0, 0, 4, 2]], "xyxy", "center_xywh").tolist()
[[2.0, 1.0, 4.0, 2.0]]
"""

from ._converters import (
    affine_transform,
    clip_to_image_size,
    crop,
    decode_deltas_to_boxes,
    encode_box_to_deltas,
    pad,
)
from ._formats import convert_format
from ._iou import compute_ciou, compute_iou

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
