"""Dict inputs of the image layers, as Keras' `BaseImagePreprocessingLayer.call`:
`{"images", "labels", "segmentation_masks", "bounding_boxes": {"boxes", "labels"}}`.

Labels pass through (MixUp and CutMix mix them); segmentation masks get the images' geometric
transform with 'nearest' interpolation (colour layers return them unchanged); bounding boxes,
given in the layer's `bounding_box_format`, follow the geometric layers that implement
`augment_boxes` / `inference_boxes`. Other keys pass through unchanged.

A random layer draws inside `augment(images, generator)`; the masks and boxes replay the same
draws: the generator's state (the layer's own, or the global one) is saved before the images'
draws, restored for each replay, and set to its state after the images' draws at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

__all__ = [
    "affine_boxes",
    "augment_targets",
    "call_on_dict",
    "center_crop_boxes",
    "crop_resize_boxes",
    "flip_boxes",
    "nearest",
    "replay",
    "resizing_boxes",
]

_KNOWN_KEYS = ("images", "labels", "segmentation_masks", "bounding_boxes")


def _rng_state(generator: torch.Generator | None, device: torch.device) -> Any:
    if generator is not None:
        return generator.get_state()
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def _set_rng_state(generator: torch.Generator | None, device: torch.device, state: Any) -> None:
    if generator is not None:
        generator.set_state(state)
        return
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def replay(
    generator: torch.Generator | None,
    device: torch.device,
    first: Callable[[], Any],
    *others: Callable[[], Any] | None,
) -> list[Any]:
    """[first(), *others()], each of `others` (None: skipped) drawing the same random numbers
    as `first`; the generator ends as `first` left it."""
    if not any(other is not None for other in others):
        return [first(), *[None] * len(others)]
    before = _rng_state(generator, device)
    results = [first()]
    after = _rng_state(generator, device)
    for other in others:
        if other is None:
            results.append(None)
            continue
        _set_rng_state(generator, device, before)
        results.append(other())
    _set_rng_state(generator, device, after)
    return results


@contextlib.contextmanager
def nearest(layer: Any) -> Iterator[None]:
    """The layer (and the operations of RandAugment / AugMix) interpolating with 'nearest'."""
    layers = [layer, *getattr(layer, "_operations", {}).values()]
    saved = [(item, item.__dict__.get("interpolation")) for item in layers]
    try:
        for item, value in saved:
            if value is not None:
                item.__dict__["interpolation"] = "nearest"
        yield
    finally:
        for item, value in saved:
            if value is not None:
                item.__dict__["interpolation"] = value


def augment_targets(
    layer: Any,
    images: torch.Tensor,
    masks: torch.Tensor | None,
    boxes: tuple[torch.Tensor, torch.Tensor] | None,
    generator: torch.Generator | None,
) -> tuple[Any, Any, Any]:
    """An ImageLayer's `augment_targets`: its `augment` on the images, replayed on the masks
    (with 'nearest' interpolation) and by its `augment_boxes` on the boxes."""
    if not layer.geometric:
        return layer.augment(images, generator), masks, boxes

    def on_masks() -> torch.Tensor:
        with nearest(layer):
            return layer.augment(masks, generator)

    def on_boxes() -> tuple[torch.Tensor, torch.Tensor]:
        return layer.augment_boxes(boxes[0], images, generator), boxes[1]

    return tuple(
        replay(
            generator,
            images.device,
            lambda: layer.augment(images, generator),
            None if masks is None else on_masks,
            None if boxes is None else on_boxes,
        )
    )


def flip_boxes(
    boxes: torch.Tensor,
    horizontal: torch.Tensor | None,
    vertical: torch.Tensor | None,
    height: int,
    width: int,
) -> torch.Tensor:
    """(N, B, 4) xyxy pixel boxes flipped left-right where `horizontal[n]`, upside down where
    `vertical[n]` (None: never)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    if horizontal is not None:
        flip = horizontal.view(-1, 1)
        x1, x2 = torch.where(flip, width - x2, x1), torch.where(flip, width - x1, x2)
    if vertical is not None:
        flip = vertical.view(-1, 1)
        y1, y2 = torch.where(flip, height - y2, y1), torch.where(flip, height - y1, y2)
    return torch.stack([x1, y1, x2, y2], dim=-1)


def affine_boxes(boxes: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """(N, B, 4) xyxy pixel boxes moved as `affine_transform` with the output-to-input
    (N, 2, 3) `matrix` moves the pixels: the box around the four mapped corners."""
    n = matrix.shape[0]
    last = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64, device=matrix.device)
    full = torch.cat([matrix.double(), last.expand(n, 1, 3)], dim=1)
    inverse = torch.linalg.inv(full)[:, :2]  # input to output, pixel centres
    x1, y1, x2, y2 = boxes.double().unbind(-1)
    corners = torch.stack(
        [torch.stack(pair, dim=-1) for pair in ((x1, y1), (x2, y1), (x1, y2), (x2, y2))], dim=-2
    )  # (N, B, 4, 2), pixel edges: centres sit at edges + 0.5
    mapped = torch.einsum("nij,nbkj->nbki", inverse[:, :, :2], corners - 0.5)
    mapped = mapped + inverse[:, None, None, :, 2] + 0.5
    return torch.cat([mapped.amin(dim=-2), mapped.amax(dim=-2)], dim=-1).to(boxes.dtype)


def crop_resize_boxes(
    boxes: torch.Tensor, top: Any, left: Any, scale_y: float = 1.0, scale_x: float = 1.0
) -> torch.Tensor:
    """(N, B, 4) xyxy pixel boxes of a window at (top, left) (numbers or (N,) tensors) of the
    image, resized by (scale_y, scale_x)."""
    top = torch.as_tensor(top, dtype=boxes.dtype, device=boxes.device).reshape(-1, 1)
    left = torch.as_tensor(left, dtype=boxes.dtype, device=boxes.device).reshape(-1, 1)
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(
        [(x1 - left) * scale_x, (y1 - top) * scale_y, (x2 - left) * scale_x, (y2 - top) * scale_y],
        dim=-1,
    )


def resizing_boxes(layer: Any, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, B, 4) xyxy pixel boxes through Keras' Resizing (its formulas, including the
    offsets of pad_to_aspect_ratio / crop_to_aspect_ratio); all -1 or all 0 boxes become 0."""
    target_h, target_w = layer.height, layer.width
    offset_x = offset_y = 0.0
    if layer.pad_to_aspect_ratio:
        scale_x = scale_y = min(target_h / height, target_w / width)
        offset_y = (target_h - height * scale_y) // 2
        offset_x = (target_w - width * scale_x) // 2
    elif layer.crop_to_aspect_ratio:
        source, target = width / height, target_w / target_h
        new_w, new_h = (
            (target_h * source, target_h) if source > target else (target_w, target_w / source)
        )
        scale_x, scale_y = new_w / width, new_h / height
        offset_x, offset_y = -((new_w - target_w) // 2), -((new_h - target_h) // 2)
    else:
        scale_x, scale_y = target_w / width, target_h / height
    x1, y1, x2, y2 = boxes.unbind(-1)
    out = torch.stack(
        [
            x1 * scale_x + offset_x,
            y1 * scale_y + offset_y,
            x2 * scale_x + offset_x,
            y2 * scale_y + offset_y,
        ],
        dim=-1,
    )
    padding = ((boxes == -1).all(-1) | (boxes == 0).all(-1)).unsqueeze(-1)
    return torch.where(padding, torch.zeros_like(out), out)


def center_crop_boxes(layer: Any, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, B, 4) xyxy pixel boxes through CenterCrop: the centre window, or (an image smaller
    than it) the centred window of its aspect ratio resized to it, as Keras."""
    if height >= layer.height and width >= layer.width:
        top, left = (height - layer.height) // 2, (width - layer.width) // 2
        return crop_resize_boxes(boxes, top, left)
    from ._image_utils import aspect_crop_box

    top, left, crop_h, crop_w = aspect_crop_box(height, width, layer.height, layer.width)
    x1, y1, x2, y2 = boxes.unbind(-1)
    x1, x2 = x1.clamp(left, left + crop_w), x2.clamp(left, left + crop_w)
    y1, y2 = y1.clamp(top, top + crop_h), y2.clamp(top, top + crop_h)
    clipped = torch.stack([x1, y1, x2, y2], dim=-1)
    return crop_resize_boxes(clipped, top, left, layer.height / crop_h, layer.width / crop_w)


def _masks_in(layer: Any, masks: Any, unbatched: bool, dtype: torch.dtype) -> torch.Tensor:
    masks = torch.as_tensor(masks)
    if masks.ndim != (3 if unbatched else 4):
        raise ValueError(
            f"{layer._describe()}: segmentation_masks must have the images' rank "
            f"({3 if unbatched else 4}); got shape {tuple(masks.shape)}"
        )
    work = masks.unsqueeze(0) if unbatched else masks
    work = work.to(dtype)
    return work.permute(0, 3, 1, 2) if layer.data_format == "channels_last" else work


def _masks_out(layer: Any, work: torch.Tensor, unbatched: bool, dtype: torch.dtype) -> torch.Tensor:
    if layer.data_format == "channels_last":
        work = work.permute(0, 2, 3, 1)
    work = work.squeeze(0) if unbatched else work
    if layer.masks_to_compute_dtype:
        return work.to(layer._compute_dtype)
    if not dtype.is_floating_point and work.is_floating_point():
        work = work.round()
    return work.to(dtype)


def _boxes_in(layer: Any, data: Any, unbatched: bool, height: int, width: int) -> tuple:
    from lamina.utils.bounding_boxes import convert_format

    if not isinstance(data, dict) or "boxes" not in data or "labels" not in data:
        raise ValueError(
            f"{layer._describe()}: bounding_boxes must be a dict with keys 'boxes' and "
            f"'labels'; got {data!r}"
        )
    boxes = torch.as_tensor(data["boxes"]).to(torch.float32)
    labels = torch.as_tensor(data["labels"])
    if unbatched:
        boxes, labels = boxes.unsqueeze(0), labels.unsqueeze(0)
    if boxes.ndim != 3 or boxes.shape[-1] != 4:
        raise ValueError(
            f"{layer._describe()} expects boxes of shape (batch, num_boxes, 4) (or (num_boxes, "
            f"4) for one image); got {tuple(torch.as_tensor(data['boxes']).shape)}"
        )
    fmt = layer.bounding_box_format
    return convert_format(boxes, fmt, "xyxy", height=height, width=width), labels


def _boxes_out(
    layer: Any, data: dict, boxes: torch.Tensor, labels: torch.Tensor, size: tuple, unbatched: bool
) -> dict:
    from lamina.utils.bounding_boxes import clip_to_image_size, convert_format

    clipped = clip_to_image_size({"boxes": boxes, "labels": labels}, height=size[0], width=size[1])
    boxes = convert_format(
        clipped["boxes"], "xyxy", layer.bounding_box_format, height=size[0], width=size[1]
    )
    labels = clipped["labels"]
    if unbatched:
        boxes, labels = boxes.squeeze(0), labels.squeeze(0)
    return {**data, "boxes": boxes, "labels": labels}


def _check(layer: Any, data: dict) -> None:
    if "images" not in data:
        raise KeyError(
            f"{layer._describe()} expects a dict with an 'images' key (and optionally "
            f"'labels', 'segmentation_masks', 'bounding_boxes'); got keys {sorted(data)}"
        )
    if "bounding_boxes" not in data:
        return
    if not layer.bounding_box_format:
        raise ValueError(
            "You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding "
            f"box format. Pass a `bounding_box_format` argument to your {type(layer).__name__} "
            f"layer ({layer._describe()}), e.g. `bounding_box_format='xyxy'`."
        )
    if layer.geometric and not layer.transforms_boxes:
        raise NotImplementedError(
            f"{layer._describe()} does not transform bounding boxes in lamina yet; drop the "
            "'bounding_boxes' key or use a layer that does (RandomFlip, RandomTranslation, "
            "RandomZoom, RandomCrop, CenterCrop, Resizing, or a colour layer)"
        )


def call_on_dict(layer: Any, data: dict, training: bool | None) -> dict:
    """`layer` (an ImageLayer) called on a dict of images and their targets, as Keras."""
    _check(layer, data)
    images = torch.as_tensor(data["images"])
    if images.ndim not in (3, 4):
        layer._to_nchw(images)  # raises the rank error
    unbatched = images.ndim == 3
    masks, boxes = data.get("segmentation_masks"), data.get("bounding_boxes")
    out = dict(data)
    height_axis = -3 if layer.data_format == "channels_last" else -2
    height, width = images.shape[height_axis], images.shape[height_axis + 1]
    float_dtype = images.dtype if images.is_floating_point() else layer._compute_dtype
    mask_work = None if masks is None else _masks_in(layer, masks, unbatched, float_dtype)
    moves_boxes = layer.geometric and (bool(training) or not layer.identity_in_inference)
    box_work = None
    if boxes is not None:
        box_work = _boxes_in(layer, boxes, unbatched, height, width)
        if not moves_boxes:
            out["bounding_boxes"] = {**boxes, "boxes": torch.as_tensor(boxes["boxes"])}
            out["bounding_boxes"]["labels"] = torch.as_tensor(boxes["labels"])
            box_work = None
    if training and layer._augments_in_call:
        nchw, _ = layer._to_nchw(images)
        targets = layer.augment_targets(nchw, mask_work, box_work, layer._generator(nchw.device))
        out["images"] = layer._from_nchw(targets[0], unbatched)
        mask_work, box_work = targets[1], targets[2]
    else:
        out["images"] = layer.call(images, training=training)
        if mask_work is not None and not layer.identity_in_inference:
            with nearest(layer):
                mask_work = layer.inference(mask_work)
        if box_work is not None:
            box_work = layer.inference_boxes(box_work[0], height, width), box_work[1]
    if masks is not None:
        mask_dtype = torch.as_tensor(masks).dtype
        out["segmentation_masks"] = _masks_out(layer, mask_work, unbatched, mask_dtype)
    if box_work is not None:
        size = out["images"].shape[height_axis], out["images"].shape[height_axis + 1]
        out["bounding_boxes"] = _boxes_out(layer, boxes, *box_work, size, unbatched)
    return out
