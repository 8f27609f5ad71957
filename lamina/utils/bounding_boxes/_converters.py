"""Moving boxes with their image: clipping, cropping, padding, affine transforms, and the
anchor-relative deltas of detection heads. All compute on torch tensors, with Keras' numbers."""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina.config import epsilon

from ._formats import check_boxes, convert_format, to_tensor

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]

_ENCODINGS = ("center_xywh", "center_yxhw")


def _only_xyxy(bounding_box_format: str, function: str, allowed: tuple = ("xyxy",)) -> None:
    if bounding_box_format not in allowed:
        raise NotImplementedError(
            f"{function} supports bounding_box_format in {allowed} (as Keras); got "
            f"{bounding_box_format!r}. Convert the boxes first with convert_format."
        )


def _corners(boxes: Any, function: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    boxes = to_tensor(boxes)
    check_boxes(boxes, function)
    return boxes, list(boxes.unbind(-1))


def clip_to_image_size(
    bounding_boxes: Any,
    height: Any = None,
    width: Any = None,
    bounding_box_format: str = "xyxy",
) -> Any:
    """Clip boxes to the image, as Keras: boxes left with no area get the label -1.

    Args:
        bounding_boxes: a dict with 'boxes' (N, 4) or (batch, N, 4) and optionally 'labels'
            (N,) or (batch, N); a bare tensor of boxes also works (boxes are returned).
        height: image height (required for 'xyxy').
        width: image width (required for 'xyxy').
        bounding_box_format: 'xyxy' (clip to [0, width] x [0, height]) or 'rel_xyxy' (to
            [0, 1]).

    Returns:
        A new dict with the clipped 'boxes' and updated 'labels' (other keys kept).

    >>> out = clip_to_image_size({"boxes": [[-10, -20, 150, 160], [50, 40, 70, 80]],
    ...                           "labels": [0, 1]}, height=100, width=120)
    >>> out["boxes"].tolist(), out["labels"].tolist()
    ([[0, 0, 120, 100], [50, 40, 70, 80]], [0, 1])
    """
    _only_xyxy(bounding_box_format, "clip_to_image_size", ("xyxy", "rel_xyxy"))
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError(
            "clip_to_image_size needs `height` and `width` for bounding_box_format='xyxy'; got "
            f"height={height}, width={width}"
        )
    is_dict = isinstance(bounding_boxes, dict)
    if is_dict and "boxes" not in bounding_boxes:
        raise ValueError(
            "clip_to_image_size expects a dict with 'boxes' (and 'labels'); got keys "
            f"{sorted(bounding_boxes)}"
        )
    boxes, (x1, y1, x2, y2) = _corners(
        bounding_boxes["boxes"] if is_dict else bounding_boxes, "clip_to_image_size"
    )
    if bounding_box_format == "rel_xyxy":
        high_x = high_y = torch.tensor(1.0, dtype=boxes.dtype, device=boxes.device)
    else:
        high_x = to_tensor(width).to(boxes.dtype).to(boxes.device)
        high_y = to_tensor(height).to(boxes.dtype).to(boxes.device)
    low = torch.zeros((), dtype=boxes.dtype, device=boxes.device)
    x1, x2 = (torch.clamp(x, low, high_x) for x in (x1, x2))
    y1, y2 = (torch.clamp(y, low, high_y) for y in (y1, y2))
    clipped = torch.stack([x1, y1, x2, y2], dim=-1)
    if not is_dict:
        return clipped
    result = dict(bounding_boxes)
    result["boxes"] = clipped
    if bounding_boxes.get("labels") is not None:
        labels = to_tensor(bounding_boxes["labels"]).to(boxes.device)
        area = (x2 - x1) * (y2 - y1)
        result["labels"] = torch.where(area > 0, labels, torch.full_like(labels, -1))
    return result


def _per_batch(value: Any, batch: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    tensor = to_tensor(value).to(device=device, dtype=dtype).reshape(-1)
    if tensor.numel() not in (1, batch):
        raise ValueError(
            f"affine_transform expects a number or one value per image ({batch}) for each "
            f"transform parameter; got shape {tuple(tensor.shape)}"
        )
    return tensor.expand(batch)


def _affine_matrix(
    center: tuple[Any, Any],
    angle: torch.Tensor,
    translate: tuple[torch.Tensor, torch.Tensor],
    scale: torch.Tensor,
    shear: tuple[torch.Tensor, torch.Tensor],
    height: float,
    width: float,
) -> torch.Tensor:
    """(batch, 2, 3) matrices of Keras' box affine: rotation, shear and scale about the centre
    then translation, in pixel units (fractions times size - 1)."""
    degrees = math.pi / 180.0
    cx, cy = center[0] * (width - 1), center[1] * (height - 1)
    rotation = -angle * degrees
    tx, ty = -translate[0] * (width - 1), -translate[1] * (height - 1)
    shear_x, shear_y = -shear[0] * degrees, -shear[1] * degrees
    a = torch.cos(rotation - shear_y) / torch.cos(shear_y)
    b = a * torch.tan(shear_x) + torch.sin(rotation)
    c = -torch.sin(rotation - shear_y) / torch.cos(shear_y)
    d = torch.cos(rotation) - c * torch.tan(shear_x)
    m00, m01, m10, m11 = d * scale, -b * scale, -c * scale, a * scale
    m02 = cx - m00 * (cx + tx) - m01 * (cy + ty)
    m12 = cy - m10 * (cx + tx) - m11 * (cy + ty)
    return torch.stack([m00, m01, m02, m10, m11, m12], dim=-1).reshape(-1, 2, 3)


def affine_transform(
    boxes: Any,
    angle: Any,
    translate_x: Any,
    translate_y: Any,
    scale: Any,
    shear_x: Any,
    shear_y: Any,
    height: int,
    width: int,
    center_x: Any = None,
    center_y: Any = None,
    bounding_box_format: str = "xyxy",
) -> torch.Tensor:
    """Move 'xyxy' boxes with an affine transform of their image, as Keras: the four corners
    are transformed and the box becomes their enclosing box.

    Args:
        boxes: (batch, N, 4) boxes, or (N, 4) for one image.
        angle: rotation in degrees; a number or one per image (batch,).
        translate_x: horizontal shift as a fraction of the width.
        translate_y: vertical shift as a fraction of the height.
        scale: scale factor.
        shear_x: shear angle in degrees along x.
        shear_y: shear angle in degrees along y.
        height: image height in pixels.
        width: image width in pixels.
        center_x: centre of the transform as a fraction of the width (default 0.5).
        center_y: centre as a fraction of the height (default 0.5).
        bounding_box_format: must be 'xyxy' (as in Keras).

    Returns:
        The transformed boxes, with the shape of `boxes` (float32 unless `angle` is a float64
        tensor).

    >>> affine_transform([[[2.0, 2.0, 4.0, 4.0]]], angle=0.0, translate_x=0.5, translate_y=0.0,
    ...                  scale=1.0, shear_x=0.0, shear_y=0.0, height=11, width=11).tolist()
    [[[7.0, 2.0, 9.0, 4.0]]]
    """
    _only_xyxy(bounding_box_format, "affine_transform")
    boxes = to_tensor(boxes)
    check_boxes(boxes, "affine_transform")
    unbatched = boxes.ndim == 2
    if unbatched:
        boxes = boxes[None]
    if boxes.ndim != 3:
        raise ValueError(
            "affine_transform expects boxes of shape (batch, N, 4) or (N, 4); got "
            f"{tuple(boxes.shape)}"
        )
    angle_tensor = to_tensor(angle)
    dtype = angle_tensor.dtype if angle_tensor.is_floating_point() else torch.float32
    batch, device = boxes.shape[0], boxes.device
    values = [
        _per_batch(v, batch, dtype, device)
        for v in (angle, translate_x, translate_y, scale, shear_x, shear_y)
    ]
    center = (
        0.5 if center_x is None else _per_batch(center_x, batch, dtype, device),
        0.5 if center_y is None else _per_batch(center_y, batch, dtype, device),
    )
    matrix = _affine_matrix(
        center, values[0], (values[1], values[2]), values[3], (values[4], values[5]), height, width
    )
    x1, y1, x2, y2 = boxes.to(dtype).unbind(-1)
    # The corners (x1, y1), (x2, y1), (x2, y2), (x1, y2) as (batch, N, 4, 3) homogeneous points.
    xs = torch.stack([x1, x2, x2, x1], dim=-1)
    ys = torch.stack([y1, y1, y2, y2], dim=-1)
    points = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1)
    moved = torch.einsum("bnkc,brc->bnkr", points, matrix)
    result = torch.cat([moved.amin(dim=2), moved.amax(dim=2)], dim=-1)
    return result[0] if unbatched else result


def crop(
    boxes: Any, top: Any, left: Any, height: Any, width: Any, bounding_box_format: str = "xyxy"
) -> torch.Tensor:
    """Boxes in the frame of a crop of their image, as Keras: shifted by (`left`, `top`) and
    clipped to [0, width] x [0, height] (no clip where `height` or `width` is None).

    Args:
        boxes: 'xyxy' boxes, (N, 4) or (batch, N, 4).
        top: the crop's top row in the image.
        left: the crop's left column.
        height: the crop's height.
        width: the crop's width.
        bounding_box_format: must be 'xyxy' (as in Keras).

    >>> crop([[10, 20, 50, 60], [70, 80, 100, 120]], top=10, left=20, height=40, width=30).tolist()
    [[0, 10, 30, 40], [30, 40, 30, 40]]
    """
    _only_xyxy(bounding_box_format, "crop")
    boxes, (x1, y1, x2, y2) = _corners(boxes, "crop")
    x1, x2 = (torch.clamp(x - left, 0, width) for x in (x1, x2))
    y1, y2 = (torch.clamp(y - top, 0, height) for y in (y1, y2))
    return torch.stack([x1, y1, x2, y2], dim=-1)


def pad(
    boxes: Any,
    top: Any,
    left: Any,
    height: Any = None,
    width: Any = None,
    bounding_box_format: str = "xyxy",
) -> torch.Tensor:
    """Boxes in the frame of their padded image: shifted by (`left`, `top`), as Keras
    (`height` and `width` are accepted and unused, as in Keras).

    >>> pad([[10, 20, 50, 60]], top=5, left=3).tolist()
    [[13, 25, 53, 65]]
    """
    _only_xyxy(bounding_box_format, "pad")
    boxes, (x1, y1, x2, y2) = _corners(boxes, "pad")
    return torch.stack([x1 + left, y1 + top, x2 + left, y2 + top], dim=-1)


def _variance(variance: Any) -> torch.Tensor | None:
    if variance is None:
        return None
    variance = to_tensor(variance, "float32")
    if variance.ndim == 0 or variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance.tolist()}")
    return variance


def _check_encoding(name: str, value: str, function: str) -> None:
    if value not in _ENCODINGS:
        raise ValueError(f"{function}: `{name}` should be one of {_ENCODINGS}; got {value!r}")


def _image_size(image_shape: Any) -> tuple[Any, Any]:
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def encode_box_to_deltas(
    anchors: Any,
    boxes: Any,
    anchor_format: str,
    box_format: str,
    encoding_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> torch.Tensor:
    """Deltas that move `anchors` onto `boxes`, as Keras: centre offsets over the anchor's size
    and log size ratios, in `encoding_format` order, divided by `variance` if given.

    Args:
        anchors: (N, 4) anchor boxes.
        boxes: (N, 4) or (batch, N, 4) boxes to encode.
        anchor_format: the format of `anchors`.
        box_format: the format of `boxes`.
        encoding_format: 'center_yxhw' (default) or 'center_xywh'.
        variance: four numbers the deltas are divided by.
        image_shape: (height, width, channels), needed for relative formats.

    >>> encode_box_to_deltas([[0, 0, 10, 10]], [[0, 0, 10, 20]], "xyxy", "xyxy").tolist()
    [[0.5, 0.0, 0.6931471824645996, 0.0]]
    """
    variance = _variance(variance)
    _check_encoding("encoding_format", encoding_format, "encode_box_to_deltas")
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_size = torch.clamp(anchors[..., 2:], min=epsilon())
    box_size = torch.clamp(boxes[..., 2:], min=epsilon())
    deltas = torch.cat(
        [(boxes[..., :2] - anchors[..., :2]) / anchor_size, torch.log(box_size / anchor_size)],
        dim=-1,
    )
    return deltas if variance is None else deltas / variance.to(deltas.device)


def decode_deltas_to_boxes(
    anchors: Any,
    boxes_delta: Any,
    anchor_format: str,
    box_format: str,
    encoded_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> Any:
    """Boxes from deltas relative to anchors (the inverse of `encode_box_to_deltas`), as Keras.

    Args:
        anchors: (N, 4) anchors, or a dict of them by feature level.
        boxes_delta: (N, 4) or (batch, N, 4) deltas, or a dict with the keys of `anchors`.
        anchor_format: the format of `anchors`.
        box_format: the format of the returned boxes.
        encoded_format: the deltas' order, 'center_yxhw' (default) or 'center_xywh'.
        variance: four numbers the deltas are multiplied by first.
        image_shape: (height, width, channels), needed for relative formats.

    Returns:
        The boxes in `box_format` (a dict by level when the inputs are dicts).

    >>> decode_deltas_to_boxes([[0, 0, 10, 10]], [[0.5, 0.0, 0.6931472, 0.0]], "xyxy",
    ...                        "xyxy").round().tolist()
    [[0.0, 0.0, 10.0, 20.0]]
    """
    variance = _variance(variance)
    _check_encoding("encoded_format", encoded_format, "decode_deltas_to_boxes")
    height, width = _image_size(image_shape)

    def decode(anchor: Any, delta: Any) -> torch.Tensor:
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = to_tensor(delta)
        if variance is not None:
            delta = delta * variance.to(delta.device)
        box = torch.cat(
            [
                delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                torch.exp(delta[..., 2:]) * anchor[..., 2:],
            ],
            dim=-1,
        )
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        missing = set(anchors) - set(boxes_delta)
        if missing:
            raise ValueError(
                f"decode_deltas_to_boxes: boxes_delta has no deltas for anchor levels "
                f"{sorted(missing, key=str)}"
            )
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
