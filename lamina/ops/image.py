"""Image ops (`keras.ops.image`): resize, patches, padding and cropping, colour conversions,
resampling (in `_image_extra`), elastic warps, scale-and-translate, Sobel edges and SSIM (in
`_image_warps`).

>>> import lamina.ops as ops
>>> ops.image.resize(ops.ones((4, 4, 3)), (2, 2)).shape
torch.Size([2, 2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from ._dtypes import TensorLike, tensor
from ._image_extra import (
    affine_transform,
    as_batch,
    data_format_of,
    gaussian_blur,
    map_coordinates,
    perspective_transform,
)
from ._image_warps import elastic_transform, scale_and_translate, sobel_edges, ssim

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def resize(
    images: TensorLike,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Resize a 3-D image or 4-D batch to `size` (height, width) with 'bilinear', 'nearest'
    or 'bicubic' interpolation (half-pixel centres, as Keras); `crop_to_aspect_ratio` or
    `pad_to_aspect_ratio` first crop or pad (with `fill_value`) to the target's aspect ratio."""
    if interpolation not in _MODES:
        raise ValueError(f"interpolation must be one of {tuple(_MODES)}; got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant'; got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: set only one of crop_to_aspect_ratio, pad_to_aspect_ratio")
    images = tensor(images)
    if images.dim() not in (3, 4):
        raise ValueError(
            f"resize expects a 3-D image or 4-D batch; got shape {tuple(images.shape)}"
        )
    single = images.dim() == 3
    x = images.unsqueeze(0) if single else images
    channels_last = (data_format or config.image_data_format()) == "channels_last"
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    out_dtype = x.dtype
    if not x.dtype.is_floating_point:
        x = x.float()
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        x = _to_aspect_ratio(x, size, crop_to_aspect_ratio, fill_value)
    smooth = interpolation in ("bilinear", "bicubic")
    x = F.interpolate(
        x,
        size=tuple(int(s) for s in size),
        mode=_MODES[interpolation],
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    if out_dtype != x.dtype:
        x = torch.round(x).to(out_dtype) if not out_dtype.is_floating_point else x.to(out_dtype)
    if channels_last:
        x = x.permute(0, 2, 3, 1)
    return x.squeeze(0) if single else x


def _to_aspect_ratio(x: Tensor, size: Sequence[int], crop: bool, fill_value: float) -> Tensor:
    """Crop the centred window of `size`'s aspect ratio, or pad evenly with `fill_value` to it,
    with the Resizing layer's helpers (Keras' integer arithmetic)."""
    from ..layers._image_utils import aspect_crop_box, aspect_pad

    height, width = x.shape[-2:]
    if crop:
        top, left, crop_height, crop_width = aspect_crop_box(height, width, *size)
        return x[..., top : top + crop_height, left : left + crop_width]
    top, left = aspect_pad(height, width, *size)
    return F.pad(x, (left, left, top, top), value=fill_value) if top or left else x


def _channels_first_batch(images: TensorLike, data_format: str | None, owner: str):
    """(N, C, H, W) view of `images`, and a function that puts a result back in their layout."""
    channels_last = data_format_of(data_format, owner) == "channels_last"
    batch, single = as_batch(images, owner)
    x = batch.permute(0, 3, 1, 2) if channels_last else batch

    def restore(out: Tensor) -> Tensor:
        out = out.permute(0, 2, 3, 1) if channels_last else out
        return out.squeeze(0) if single else out

    return x, restore


def _check_rgb(owner: str, x: Tensor, allowed: tuple[int, ...] = (3,)) -> None:
    if x.shape[1] not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise ValueError(f"{owner} expects images with {expected} channels; got {x.shape[1]}")


def _check_float(owner: str, x: Tensor) -> None:
    if not x.is_floating_point():
        raise ValueError(f"{owner} expects float images; got dtype {x.dtype}")


def rgb_to_grayscale(images: TensorLike, data_format: str | None = None) -> Tensor:
    """Luma (0.2989 R + 0.587 G + 0.114 B) of RGB images as one channel, in the input's dtype;
    1-channel images come back unchanged.

    >>> import lamina.ops as ops
    >>> ops.image.rgb_to_grayscale(ops.ones((2, 2, 3))).shape
    torch.Size([2, 2, 1])
    """
    from ..layers.augmentation_color import rgb_to_grayscale as luma

    x, restore = _channels_first_batch(images, data_format, "rgb_to_grayscale")
    _check_rgb("rgb_to_grayscale", x, (1, 3))
    return restore(luma(x).to(x.dtype) if x.shape[1] == 3 else x.clone())


def rgb_to_hsv(images: TensorLike, data_format: str | None = None) -> Tensor:
    """RGB floats in [0, 1] to hue, saturation and value, each in [0, 1].

    >>> import lamina.ops as ops
    >>> ops.image.rgb_to_hsv(ops.convert_to_tensor([[[1.0, 0.0, 0.0]]]))
    tensor([[[0., 1., 1.]]])
    """
    from ..layers.augmentation_color import rgb_to_hsv as to_hsv

    x, restore = _channels_first_batch(images, data_format, "rgb_to_hsv")
    _check_float("rgb_to_hsv", x)
    _check_rgb("rgb_to_hsv", x)
    # Keras first zeroes values within one machine epsilon of 0.
    x = torch.where(x.abs() < torch.finfo(x.dtype).eps, 0.0, x)
    return restore(to_hsv(x))


def hsv_to_rgb(images: TensorLike, data_format: str | None = None) -> Tensor:
    """Hue (taken modulo 1), saturation and value floats back to RGB.

    >>> import lamina.ops as ops
    >>> ops.image.hsv_to_rgb(ops.convert_to_tensor([[[0.0, 1.0, 1.0]]]))
    tensor([[[1., 0., 0.]]])
    """
    from ..layers.augmentation_color import hsv_to_rgb as to_rgb

    x, restore = _channels_first_batch(images, data_format, "hsv_to_rgb")
    _check_float("hsv_to_rgb", x)
    _check_rgb("hsv_to_rgb", x)
    return restore(to_rgb(x))


def _resolve_sides(owner: str, kind: str, names: tuple[str, str, str], values: tuple) -> tuple:
    """Two of (before, after, target) given: the third from the image size; checked >= 0."""
    if sum(v is None for v in values) != 1:
        raise ValueError(
            f"{owner}: give exactly two of {', '.join(names)}; got "
            + ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True))
        )
    for name, value in zip(names, values, strict=True):
        if value is not None and value < 0:
            raise ValueError(f"{owner}: {name} must be >= 0; got {value}")
    return values


def pad_images(
    images: TensorLike,
    top_padding: int | None = None,
    left_padding: int | None = None,
    bottom_padding: int | None = None,
    right_padding: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> Tensor:
    """Pad images with zeros; on each axis give two of (before, after, target size).

    >>> import lamina.ops as ops
    >>> ops.image.pad_images(ops.ones((15, 25, 3)), 2, 3, target_height=20, target_width=30).shape
    torch.Size([20, 30, 3])
    """
    owner = "pad_images"
    x, restore = _channels_first_batch(images, data_format, owner)
    height, width = x.shape[-2:]
    top, bottom, th = _resolve_sides(
        owner,
        "pad",
        ("top_padding", "bottom_padding", "target_height"),
        (top_padding, bottom_padding, target_height),
    )
    left, right, tw = _resolve_sides(
        owner,
        "pad",
        ("left_padding", "right_padding", "target_width"),
        (left_padding, right_padding, target_width),
    )
    top = th - bottom - height if top is None else top
    bottom = th - top - height if bottom is None else bottom
    left = tw - right - width if left is None else left
    right = tw - left - width if right is None else right
    for name, value in (("top", top), ("bottom", bottom), ("left", left), ("right", right)):
        if value < 0:
            raise ValueError(
                f"{owner}: the target size is smaller than the image; {name} padding would be "
                f"{value} for image size {(height, width)}"
            )
    return restore(F.pad(x, (int(left), int(right), int(top), int(bottom))))


def crop_images(
    images: TensorLike,
    top_cropping: int | None = None,
    left_cropping: int | None = None,
    bottom_cropping: int | None = None,
    right_cropping: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> Tensor:
    """Crop images; on each axis give two of (before, after, target size).

    >>> import lamina.ops as ops
    >>> ops.image.crop_images(ops.ones((15, 25, 3)), 2, 3, target_height=10, target_width=20).shape
    torch.Size([10, 20, 3])
    """
    owner = "crop_images"
    x, restore = _channels_first_batch(images, data_format, owner)
    height, width = x.shape[-2:]
    top, bottom, th = _resolve_sides(
        owner,
        "crop",
        ("top_cropping", "bottom_cropping", "target_height"),
        (top_cropping, bottom_cropping, target_height),
    )
    left, right, tw = _resolve_sides(
        owner,
        "crop",
        ("left_cropping", "right_cropping", "target_width"),
        (left_cropping, right_cropping, target_width),
    )
    top = height - th - bottom if top is None else top
    th = height - bottom - top if th is None else th
    left = width - tw - right if left is None else left
    tw = width - right - left if tw is None else tw
    for name, value in (
        ("top_cropping", top),
        ("target_height", th),
        ("left_cropping", left),
        ("target_width", tw),
    ):
        if value < 0:
            raise ValueError(
                f"{owner}: {name} would be {value} for image size {(height, width)}; "
                "the crop must fit inside the image"
            )
    if top + th > height or left + tw > width:
        raise ValueError(
            f"{owner}: crop of size {(th, tw)} at {(top, left)} does not fit in image size "
            f"{(height, width)}"
        )
    return restore(x[:, :, top : top + th, left : left + tw])


def extract_patches(
    images: TensorLike,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Patches of `size` (2 numbers for images, 3 for volumes) taken every `strides` (default:
    `size`, no overlap), flattened (patch rows, patch columns, channels) onto the channel axis.

    >>> import lamina.ops as ops
    >>> ops.image.extract_patches(ops.ones((2, 20, 20, 3)), (5, 5)).shape
    torch.Size([2, 4, 4, 75])
    """
    owner = "extract_patches"
    if isinstance(size, int):
        size = (size, size)
    if not isinstance(size, list | tuple) or len(size) not in (2, 3):
        raise ValueError(f"{owner}: size must be an int or a tuple of 2 or 3 ints; got {size!r}")
    rank = len(size)
    strides = strides if strides else size
    spans = {}
    for name, value in (("strides", strides), ("dilation_rate", dilation_rate)):
        value = (value,) * rank if isinstance(value, int) else tuple(value)
        if len(value) != rank or min(value) < 1:
            raise ValueError(f"{owner}: {name} must be {rank} positive ints; got {value!r}")
        spans[name] = value
    if padding not in ("valid", "same"):
        raise ValueError(f"{owner}: padding must be 'valid' or 'same'; got {padding!r}")
    channels_last = data_format_of(data_format, owner) == "channels_last"
    x = tensor(images)
    if x.dim() not in (rank + 1, rank + 2):
        raise ValueError(
            f"{owner} with a {rank}-D size expects {rank + 1}-D or {rank + 2}-D input; "
            f"got shape {tuple(x.shape)}"
        )
    single = x.dim() == rank + 1
    x = x.unsqueeze(0) if single else x
    if channels_last:
        x = x.movedim(-1, 1)
    axes = list(zip(size, spans["strides"], spans["dilation_rate"], strict=True))
    pads = []
    for axis, (k, s, d) in enumerate(axes):
        extent = (k - 1) * d + 1
        length = x.shape[2 + axis]
        total = max((-(-length // s) - 1) * s + extent - length, 0) if padding == "same" else 0
        pads.append((total // 2, total - total // 2))
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]) if any(map(any, pads)) else x
    for axis, (k, s, d) in enumerate(axes):
        extent = (k - 1) * d + 1
        if x.shape[2 + axis] < extent:
            raise ValueError(
                f"{owner}: patch extent {extent} is larger than input axis of size "
                f"{x.shape[2 + axis]} (input shape {tuple(x.shape)})"
            )
        x = x.unfold(2 + axis, extent, s)[..., ::d]
    # x is (N, C, out..., patch...): channels last within each patch, as Keras' identity conv.
    n, c = x.shape[:2]
    outs = x.shape[2 : 2 + rank]
    order = [0, *range(2, 2 + rank), *range(2 + rank, 2 + 2 * rank), 1]
    x = x.permute(order).reshape(n, *outs, -1)
    if not channels_last:
        x = x.movedim(-1, 1)
    return x.squeeze(0) if single else x


def extract_patches_3d(
    volumes: TensorLike,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Patches of `size` (an int or (depth, height, width)) from a (D, H, W, C) volume or a
    (N, D, H, W, C) batch, as `extract_patches` with a 3-D size: each patch flattened in
    (depth, rows, columns, channels) order onto the channel axis.

    >>> import lamina.ops as ops
    >>> ops.image.extract_patches_3d(ops.ones((2, 6, 6, 6, 3)), 3).shape
    torch.Size([2, 2, 2, 2, 81])
    """
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size, size)
    if not isinstance(size, list | tuple) or len(size) != 3:
        raise ValueError(
            f"extract_patches_3d: size must be an int or a tuple of 3 ints; got {size!r}"
        )
    return extract_patches(volumes, tuple(size), strides, dilation_rate, padding, data_format)
