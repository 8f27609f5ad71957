"""Resampling image ops behind `lamina.ops.image`: map_coordinates, affine_transform,
perspective_transform and gaussian_blur, plus the layout helpers every image op shares.

>>> import lamina.ops as ops
>>> ops.image.map_coordinates(ops.convert_to_tensor([1.0, 3.0]), [[0.5]], order=1)
tensor([2.])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from ._dtypes import TensorLike, tensor

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


def data_format_of(data_format: str | None, owner: str) -> str:
    """'channels_last' or 'channels_first'; None gives `lamina.config.image_data_format()`."""
    if data_format is None:
        return config.image_data_format()
    if data_format in ("channels_last", "channels_first"):
        return data_format
    raise ValueError(
        f"{owner}: data_format must be 'channels_last' or 'channels_first'; got {data_format!r}"
    )


def as_batch(images: TensorLike, owner: str) -> tuple[Tensor, bool]:
    """`images` as a tensor with a batch axis, and whether one was added (3-D input)."""
    images = tensor(images)
    if images.dim() not in (3, 4):
        raise ValueError(
            f"{owner} expects a 3-D image or a 4-D batch of images; got shape {tuple(images.shape)}"
        )
    single = images.dim() == 3
    return (images.unsqueeze(0) if single else images), single


def check_choice(owner: str, name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {tuple(choices)}; got {value!r}")


def _fix_index(index: Tensor, size: int, fill_mode: str) -> Tensor:
    """Integer indices outside [0, size) mapped inside, as scipy's ndimage modes."""
    if fill_mode == "wrap":
        return index.remainder(size)
    if fill_mode == "reflect":  # c b a | a b c | c b a: edge pixels repeat
        folded = index.remainder(2 * size)
        return torch.where(folded < size, folded, 2 * size - 1 - folded)
    if fill_mode == "mirror":  # c b | a b c | b a: edge pixels once
        if size == 1:
            return torch.zeros_like(index)
        folded = index.remainder(2 * size - 2)
        return torch.where(folded < size, folded, 2 * size - 2 - folded)
    return index.clamp(0, size - 1)


def _nodes(coordinate: Tensor, order: int) -> list[tuple[Tensor, Tensor | None]]:
    """(integer index, weight) pairs interpolating along one axis; weight None means 1."""
    if not coordinate.is_floating_point():
        return [(coordinate.long(), None)]
    if order == 0:
        return [(torch.round(coordinate).long(), None)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.long()
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def interpolate(
    inputs: Tensor,
    coordinates: Sequence[Tensor],
    order: int,
    fill_mode: str,
    fill_value: float,
) -> Tensor:
    """Read `inputs` at one broadcastable coordinate tensor per axis (integer tensors are exact
    indices), summing corner contributions in Keras' order so float results match it."""
    per_axis = []
    for coordinate, size in zip(coordinates, inputs.shape, strict=True):
        nodes = []
        for index, weight in _nodes(coordinate, order):
            valid = None
            if fill_mode == "constant" and coordinate.is_floating_point():
                valid = (index >= 0) & (index < size)
            nodes.append((_fix_index(index, size, fill_mode), valid, weight))
        per_axis.append(nodes)
    integer = not inputs.is_floating_point() and not inputs.is_complex()
    result = None
    for corner in itertools.product(*per_axis):
        indices, valids, weights = zip(*corner, strict=True)
        value = inputs[indices]
        masks = [v for v in valids if v is not None]
        if masks:
            valid = masks[0]
            for mask in masks[1:]:
                valid = valid & mask
            value = torch.where(valid, value, torch.as_tensor(fill_value, dtype=value.dtype))
        present = [w for w in weights if w is not None]
        if present:
            weight = present[0]
            for w in present[1:]:
                weight = weight * w
            value = weight * value
        result = value if result is None else result + value
    if integer and result.is_floating_point():
        result = torch.round(result)
    return result.to(inputs.dtype)


def map_coordinates(
    inputs: TensorLike,
    coordinates: TensorLike | Sequence[TensorLike],
    order: int,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
) -> Tensor:
    """Sample `inputs` at `coordinates` (one array of positions per input axis, stacked on the
    first axis) with nearest (`order=0`) or linear (`order=1`) interpolation. Outside points follow
    `fill_mode`: 'constant' (`fill_value`), 'nearest', 'wrap', 'mirror' or 'reflect'.

    >>> import lamina.ops as ops
    >>> ops.image.map_coordinates(ops.convert_to_tensor([[0.0, 1.0], [2.0, 3.0]]),
    ...                           [[0.5], [0.5]], order=1)
    tensor([1.5000])
    """
    inputs = tensor(inputs)
    coords = [tensor(c) for c in coordinates]
    if len(coords) != inputs.dim():
        raise ValueError(
            f"map_coordinates: coordinates must have one entry per input axis "
            f"({inputs.dim()} for input shape {tuple(inputs.shape)}); got {len(coords)}"
        )
    if coords and coords[0].dim() < 1:
        raise ValueError(
            "map_coordinates: coordinates must be at least 2-D (axes, points...); got 1-D"
        )
    check_choice("map_coordinates", "fill_mode", fill_mode, FILL_MODES)
    if order not in (0, 1):
        raise NotImplementedError(
            f"map_coordinates supports order 0 (nearest) and 1 (linear); got order={order}"
        )
    coords = [c.to(inputs.device) for c in coords]
    return interpolate(inputs, coords, order, fill_mode, fill_value)


def _sample_grid(
    images: Tensor, x: Tensor, y: Tensor, order: int, fill_mode: str, fill_value: float
) -> Tensor:
    """(N, H, W, C) images read at per-image input positions `x`, `y` of shape (N, H', W')."""
    n, _, _, channels = images.shape
    batch = torch.arange(n, device=images.device).view(n, 1, 1, 1)
    channel = torch.arange(channels, device=images.device).view(1, 1, 1, channels)
    coords = [batch, y.unsqueeze(-1), x.unsqueeze(-1), channel]
    return interpolate(images, coords, order, fill_mode, fill_value)


def _resample(
    owner: str,
    images: TensorLike,
    data_format: str | None,
    positions: Any,
    order: int,
    fill_mode: str,
    fill_value: float,
) -> Tensor:
    """Shared frame of the geometric ops: batch and layout handling around `positions`, a
    function (n, height, width, dtype, device) -> input x, y of every output pixel."""
    data_format = data_format_of(data_format, owner)
    batch, single = as_batch(images, owner)
    if data_format == "channels_first":
        batch = batch.permute(0, 2, 3, 1)
    n, height, width, _ = batch.shape
    x, y = positions(n, height, width)
    out = _sample_grid(batch, x, y, order, fill_mode, fill_value)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out.squeeze(0) if single else out


def _pixel_grid(height: int, width: int, dtype: torch.dtype, device: Any) -> tuple[Tensor, Tensor]:
    ys = torch.arange(height, dtype=dtype, device=device)
    xs = torch.arange(width, dtype=dtype, device=device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return grid_x, grid_y


def affine_transform(
    images: TensorLike,
    transform: TensorLike,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0,
    data_format: str | None = None,
) -> Tensor:
    """Resample images with a projective transform [a0, a1, a2, b0, b1, b2, c0, c1] (8 numbers,
    or (N, 8) for one per image): output pixel (x, y) reads input point
    ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with k = c0 x + c1 y + 1.

    >>> import lamina.ops as ops
    >>> shift = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # read one pixel to the right
    >>> ops.image.affine_transform(ops.arange(3.0).reshape(1, 3, 1), shift)[..., 0]
    tensor([[1., 2., 0.]])
    """
    owner = "affine_transform"
    check_choice(owner, "interpolation", interpolation, tuple(INTERPOLATIONS))
    check_choice(owner, "fill_mode", fill_mode, FILL_MODES)
    matrix = tensor(transform)
    if matrix.dim() not in (1, 2) or matrix.shape[-1] != 8:
        raise ValueError(
            f"{owner}: transform must have shape (8,) or (batch, 8); got {tuple(matrix.shape)}"
        )
    if not matrix.is_floating_point():
        matrix = matrix.to(torch.float32)

    def positions(n: int, height: int, width: int) -> tuple[Tensor, Tensor]:
        rows = matrix.reshape(-1, 8).expand(n, 8).to(images_device)
        grid_x, grid_y = _pixel_grid(height, width, rows.dtype, images_device)
        a0, a1, a2, b0, b1, b2, c0, c1 = (r.view(n, 1, 1) for r in rows.unbind(1))
        k = c0 * grid_x + c1 * grid_y + 1.0
        x = (a0 * grid_x + a1 * grid_y + a2) / k
        y = (b0 * grid_x + b1 * grid_y + b2) / k
        return x, y

    images = tensor(images)
    images_device = images.device
    order = INTERPOLATIONS[interpolation]
    return _resample(owner, images, data_format, positions, order, fill_mode, fill_value)


def homography(start_points: Tensor, end_points: Tensor) -> Tensor:
    """(N, 8) projective transforms taking each of the four `end_points` to its `start_point`."""
    ex, ey = end_points[..., 0], end_points[..., 1]
    sx, sy = start_points[..., 0], start_points[..., 1]
    zeros, ones = torch.zeros_like(ex), torch.ones_like(ex)
    rows_x = torch.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], -1)
    rows_y = torch.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], -1)
    system = torch.cat([rows_x, rows_y], 1)  # (N, 8, 8)
    target = torch.cat([sx, sy], 1).unsqueeze(-1)
    return torch.linalg.solve(system, target).squeeze(-1)


def perspective_transform(
    images: TensorLike,
    start_points: TensorLike,
    end_points: TensorLike,
    interpolation: str = "bilinear",
    fill_value: float = 0,
    data_format: str | None = None,
) -> Tensor:
    """Warp images so the four (x, y) `start_points` move to `end_points` ((4, 2) or (N, 4, 2));
    pixels read from outside the image get `fill_value`.

    >>> import lamina.ops as ops
    >>> corners = [[0, 0], [3, 0], [0, 3], [3, 3]]
    >>> ops.image.perspective_transform(ops.ones((4, 4, 1)), corners, corners).sum()
    tensor(16.)
    """
    owner = "perspective_transform"
    check_choice(owner, "interpolation", interpolation, tuple(INTERPOLATIONS))
    images = tensor(images)
    dtype = images.dtype if images.is_floating_point() else torch.float32
    start = tensor(start_points, dtype).to(images.device)
    end = tensor(end_points, dtype).to(images.device)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.dim() not in (2, 3) or tuple(points.shape[-2:]) != (4, 2):
            raise ValueError(
                f"{owner}: {name} must have shape (4, 2) or (batch, 4, 2); "
                f"got {tuple(points.shape)}"
            )
    if start.shape != end.shape:
        raise ValueError(
            f"{owner}: start_points and end_points must have the same shape; "
            f"got {tuple(start.shape)} and {tuple(end.shape)}"
        )
    solve_dtype = torch.promote_types(dtype, torch.float32)
    matrix = homography(
        start.reshape(-1, 4, 2).to(solve_dtype), end.reshape(-1, 4, 2).to(solve_dtype)
    )
    matrix = matrix.to(dtype)

    def positions(n: int, height: int, width: int) -> tuple[Tensor, Tensor]:
        rows = matrix.expand(n, 8)
        grid_x, grid_y = _pixel_grid(height, width, dtype, images.device)
        a0, a1, a2, a3, a4, a5, a6, a7 = (r.view(n, 1, 1) for r in rows.unbind(1))
        k = a6 * grid_x + a7 * grid_y + 1.0
        return (a0 * grid_x + a1 * grid_y + a2) / k, (a3 * grid_x + a4 * grid_y + a5) / k

    order = INTERPOLATIONS[interpolation]
    return _resample(owner, images, data_format, positions, order, "constant", fill_value)


def _gaussian_kernel(size: int, sigma: float, dtype: torch.dtype, device: Any) -> Tensor:
    offsets = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(
    images: TensorLike,
    kernel_size: Sequence[int] = (3, 3),
    sigma: Sequence[float] = (1.0, 1.0),
    data_format: str | None = None,
) -> Tensor:
    """Blur each channel with a Gaussian kernel, zero-padded to keep the size. As Keras,
    `kernel_size[0]` and `sigma[0]` act along the width and `[1]` along the height.

    >>> import lamina.ops as ops
    >>> ops.image.gaussian_blur(ops.ones((5, 5, 1)))[2, 2, 0]
    tensor(1.)
    """
    owner = "gaussian_blur"
    data_format = data_format_of(data_format, owner)
    batch, single = as_batch(images, owner)
    if not batch.is_floating_point():
        raise ValueError(f"{owner} expects float images; got dtype {batch.dtype}")
    sizes = [int(k) for k in kernel_size]
    sigmas = [float(s) for s in sigma]
    if len(sizes) != 2 or len(sigmas) != 2 or min(sizes) < 1 or min(sigmas) <= 0:
        raise ValueError(
            f"{owner}: kernel_size must be 2 positive ints and sigma 2 positive numbers; "
            f"got kernel_size={kernel_size!r}, sigma={sigma!r}"
        )
    x = batch.permute(0, 3, 1, 2) if data_format == "channels_last" else batch
    channels = x.shape[1]
    across = _gaussian_kernel(sizes[0], sigmas[0], x.dtype, x.device)
    down = _gaussian_kernel(sizes[1], sigmas[1], x.dtype, x.device)
    kernel = torch.outer(down, across).expand(channels, 1, sizes[1], sizes[0])
    # 'same' padding: any odd extra row or column goes after, as TensorFlow-style convolutions.
    pad_h, pad_w = sizes[1] - 1, sizes[0] - 1
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    out = F.conv2d(x, kernel, groups=channels)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    return out.squeeze(0) if single else out
