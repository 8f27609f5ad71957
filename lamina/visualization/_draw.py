"""Drawing on batches of images: bounding boxes with labels (Pillow) and segmentation masks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lamina.utils.bounding_boxes._formats import convert_format

from ._common import channels_last, check_data_format, check_images, import_pillow, to_numpy

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks"]

# Pillow's font size (pixels) per unit of `font_scale`: capital letters come out about as tall
# as OpenCV's Hershey font, which Keras draws with, at the same scale.
_FONT_PIXELS = 36


def _as_uint8(images: np.ndarray) -> np.ndarray:
    """Keras' rule: floats in [0, 1] are scaled to [0, 255], other floats clipped to it."""
    if images.dtype.kind == "f" and images.size > 0:
        high = 1 if images.max() <= 1.0 else 255
        images = np.clip(images, 0, high) * (255 // high)
    return images.astype("uint8")


def _outline(draw: Any, box: Sequence[int], thickness: int) -> None:
    """OpenCV's rectangle outline, pixel for pixel: a one-pixel line, or for a thickness t > 1
    bands of half-width (t + 1) // 2 around the edges with round corners."""
    x1, x2 = sorted(box[0::2])
    y1, y2 = sorted(box[1::2])
    if thickness <= 1:
        draw.line([(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)], fill=255, width=1)
        return
    r = (thickness + 1) // 2
    draw.rectangle([x1, y1 - r, x2, y1 + r], fill=255)
    draw.rectangle([x1, y2 - r, x2, y2 + r], fill=255)
    draw.rectangle([x1 - r, y1, x1 + r, y2], fill=255)
    draw.rectangle([x2 - r, y1, x2 + r, y2], fill=255)
    disc = [
        (dx, dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1) if dx * dx + dy * dy <= r * r
    ]
    for cx, cy in ((x1, y1), (x2, y1), (x2, y2), (x1, y2)):
        draw.point([(cx + dx, cy + dy) for dx, dy in disc], fill=255)


def _text_origin(x: int, y: int, font_scale: float, thickness: int) -> tuple[int, int]:
    """Keras' label position (left end of the baseline): above the box, or inside it near its
    top-left corner when there is no room above."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def _font(image_font: Any, font_scale: float) -> Any:
    try:
        return image_font.load_default(size=max(1, round(_FONT_PIXELS * font_scale)))
    except (TypeError, ValueError, OSError, ImportError):  # Pillow without FreeType
        return image_font.load_default()


def _paint(image: np.ndarray, mask: np.ndarray, color: Sequence[float]) -> None:
    """Set the masked pixels of an (H, W, C) image to `color` (cut or zero-padded to C, as
    OpenCV pads a colour)."""
    channels = image.shape[-1]
    values = np.zeros(channels, dtype=np.float64)
    given = np.asarray(color, dtype=np.float64).reshape(-1)[:channels]
    values[: given.size] = given
    image[mask] = values.astype(image.dtype)


def draw_bounding_boxes(
    images: Any,
    bounding_boxes: dict,
    bounding_box_format: str,
    class_mapping: dict | None = None,
    color: Sequence[int] = (128, 128, 128),
    line_thickness: int = 2,
    text_thickness: int = 1,
    font_scale: float = 1.0,
    data_format: str | None = None,
) -> np.ndarray:
    """Draw bounding boxes (and their class names) on a batch of images, as Keras.

    Keras draws with OpenCV; lamina draws with Pillow the same box outlines, pixel for pixel,
    and the labels at the same place in Pillow's font. Boxes labelled -1 are skipped. Float
    images in [0, 1] are scaled to [0, 255]; the result is uint8.

    Args:
        images: a batch of images, (batch, height, width, channels) (or channels first).
        bounding_boxes: a dict with 'boxes' (batch, num_boxes, 4), 'labels' (batch,
            num_boxes) and optionally 'confidences' (batch, num_boxes), shown after the name.
        bounding_box_format: the boxes' format (see `keras.utils.bounding_boxes`).
        class_mapping: class id -> name; boxes whose class is in it are labelled.
        color: RGB colour of the boxes and labels.
        line_thickness: thickness of the box outlines in pixels.
        text_thickness: thickness of the labels' strokes.
        font_scale: size of the labels (1.0 about OpenCV's size at scale 1).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Returns:
        A uint8 NumPy array with the shape of `images`.

    >>> import numpy as np
    >>> out = draw_bounding_boxes(np.zeros((1, 8, 8, 3)), {"boxes": [[[1, 1, 5, 5]]],
    ...                           "labels": [[0]]}, "xyxy", color=(255, 0, 0), line_thickness=1)
    >>> out[0, 1, 1].tolist(), out[0, 3, 3].tolist()
    ([255, 0, 0], [0, 0, 0])
    """
    image_module, image_draw, image_font = import_pillow("draw_bounding_boxes")
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = check_data_format(data_format, "draw_bounding_boxes")
    images = to_numpy(images)
    check_images(images, "draw_bounding_boxes")
    if not isinstance(bounding_boxes, dict):
        raise TypeError(
            "draw_bounding_boxes expects bounding_boxes as a dict with 'boxes' and 'labels'; got "
            f"{type(bounding_boxes).__name__}"
        )
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(
            "draw_bounding_boxes expects bounding_boxes with 'boxes' and 'labels' keys; got keys "
            f"{sorted(bounding_boxes)}"
        )
    images = channels_last(images, data_format)
    batch, height, width = images.shape[:3]
    boxes = to_numpy(
        convert_format(bounding_boxes["boxes"], bounding_box_format, "xyxy", height, width)
    )
    labels = to_numpy(bounding_boxes["labels"])
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else to_numpy(confidences)
    if boxes.ndim != 3 or boxes.shape[0] != batch or labels.shape != boxes.shape[:2]:
        raise ValueError(
            f"draw_bounding_boxes expects boxes (batch, num_boxes, 4) and labels (batch, "
            f"num_boxes) for {batch} images; got boxes {boxes.shape} and labels {labels.shape}"
        )
    font = _font(image_font, font_scale) if class_mapping else None
    result = np.ascontiguousarray(_as_uint8(images))
    for i in range(batch):
        mask = image_module.new("L", (width, height), 0)
        draw = image_draw.Draw(mask)
        draw.fontmode = "1"  # no anti-aliasing: pixels are the colour or untouched, as OpenCV's
        for j, box in enumerate(boxes[i].astype("int32")):
            label = int(labels[i, j])
            if label == -1:
                continue
            _outline(draw, [int(v) for v in box], line_thickness)
            if label in class_mapping:
                text = str(class_mapping[label])
                if confidences is not None:
                    text = f"{text} | {confidences[i][j]:.2f}"
                origin = _text_origin(int(box[0]), int(box[1]), font_scale, text_thickness)
                stroke = max(0, (text_thickness - 1) // 2)
                draw.text(origin, text, fill=255, font=font, anchor="ls", stroke_width=stroke)
        _paint(result[i], np.asarray(mask) > 0, color)
    return result.transpose(0, 3, 1, 2) if data_format == "channels_first" else result


def _palette(num_classes: int) -> list[list[int]]:
    """Keras' default colours: class i gets (i * (2**25 - 1, 2**15 - 1, 2**21 - 1)) % 255."""
    primes = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [((i * primes) % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(
    images: Any,
    segmentation_masks: Any,
    num_classes: int | None = None,
    color_mapping: dict | None = None,
    alpha: float = 0.8,
    blend: bool = True,
    ignore_index: int = -1,
    data_format: str | None = None,
) -> np.ndarray:
    """Colour the classes of segmentation masks over a batch of images, as Keras.

    Each pixel of class c in [0, num_classes) takes colour c; blended, the pixel becomes
    `image * (1 - alpha) + colour * alpha` cut to uint8. Pixels equal to `ignore_index` (and
    classes outside [0, num_classes)) keep the image's value.

    Args:
        images: a batch of images, (batch, height, width, channels) (or channels first).
        segmentation_masks: integer class ids, (batch, height, width) or (batch, height,
            width, 1) (or (batch, 1, height, width) channels first).
        num_classes: the number of classes; default the largest class id + 1 (Keras' torch
            backend fails without it).
        color_mapping: class id -> RGB colour, for every id in range(num_classes); default
            Keras' palette (class 0 is black).
        alpha: opacity of the colours, in [0, 1].
        blend: blend with `alpha` (uint8 result); False paints the colours opaque onto the
            float32 images.
        ignore_index: the class id left undrawn (default -1).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Returns:
        A NumPy array in the layout of `images`: uint8 when blended, float32 otherwise.

    >>> import numpy as np
    >>> out = draw_segmentation_masks(np.full((1, 1, 2, 3), 100.0), np.array([[[1, -1]]]),
    ...                               num_classes=2, color_mapping={0: (0, 0, 0), 1: (200, 0, 0)},
    ...                               alpha=0.5)
    >>> out[0, 0].tolist()
    [[150, 50, 50], [100, 100, 100]]
    """
    data_format = check_data_format(data_format, "draw_segmentation_masks")
    images = to_numpy(images)
    check_images(images, "draw_segmentation_masks")
    masks = to_numpy(segmentation_masks)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            "draw_segmentation_masks expects integer class ids in segmentation_masks; got dtype "
            f"{masks.dtype}"
        )
    images = channels_last(images, data_format).astype(np.float32)
    if masks.ndim == 4:
        masks = channels_last(masks, data_format)
        if masks.shape[-1] != 1:
            raise ValueError(
                "draw_segmentation_masks expects segmentation_masks (batch, height, width) or "
                f"(batch, height, width, 1); got shape {masks.shape} ({data_format})"
            )
        masks = masks[..., 0]
    if masks.shape != images.shape[:3]:
        raise ValueError(
            f"draw_segmentation_masks: segmentation_masks of shape {masks.shape} do not match "
            f"the images' (batch, height, width) {images.shape[:3]}"
        )
    if num_classes is None:
        num_classes = int(masks.max()) + 1 if masks.size else 0
    if color_mapping is None:
        colors = _palette(num_classes)
    else:
        missing = [c for c in range(num_classes) if c not in color_mapping]
        if missing:
            raise ValueError(
                f"draw_segmentation_masks: color_mapping has no colour for classes {missing}; "
                f"it needs one for every class in range(num_classes={num_classes})"
            )
        colors = [color_mapping[c] for c in range(num_classes)]
    painted = images.copy()
    for class_id, color in enumerate(colors):
        painted[masks == class_id] = np.asarray(color, dtype=np.float32)
    keep = (masks == ignore_index)[..., None]
    if blend:
        blended = images * (1 - alpha) + painted * alpha
        out = np.where(keep, images, blended).astype(np.uint8)
    else:
        out = np.where(keep, images, painted)
    return out.transpose(0, 3, 1, 2) if data_format == "channels_first" else out
