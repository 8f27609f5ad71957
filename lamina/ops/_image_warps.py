"""Warping and comparison ops behind `lamina.ops.image`: elastic_transform,
scale_and_translate, sobel_edges and ssim.

>>> import lamina.ops as ops
>>> ops.image.sobel_edges(ops.ones((1, 4, 4, 1))).shape
torch.Size([1, 4, 4, 1, 2])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ._dtypes import TensorLike, tensor
from ._image_extra import (
    FILL_MODES,
    INTERPOLATIONS,
    _sample_grid,
    as_batch,
    check_choice,
    data_format_of,
)

__all__ = ["elastic_transform", "scale_and_translate", "sobel_edges", "ssim"]


def elastic_kernel_size(sigma: float) -> int:
    """Width of the Gaussian that smooths an elastic displacement field: int(6 sigma) | 1 (odd,
    about three sigmas each side), computed in float32 as Keras does."""
    return int(torch.tensor(6.0, dtype=torch.float32) * float(sigma)) | 1


def elastic_displacements(
    noise: Tensor, alpha: Tensor, sigma: Tensor, kernel_size: int
) -> tuple[Tensor, Tensor]:
    """The (dx, dy) fields, each (N, H, W), of an elastic deformation.

    `noise` is (N, 2, H, W) unit normal noise (x field, y field); `alpha` and `sigma` are (N,),
    one per image: each field is noise * sigma, smoothed by a Gaussian of that sigma whose width
    is int(6 sigma) | 1 pixels (zero padded, as Keras), times alpha. `kernel_size` is the widest
    of those widths: narrower images' kernels are zero beyond their own half-width, so every image
    gets exactly its own filter, and no value is read back to the host.
    """
    n, _, height, width = noise.shape
    dtype = noise.dtype
    sigma = sigma.to(dtype).reshape(n, 1)
    widths = torch.floor(6.0 * sigma.float()).long() | 1  # (N, 1), int(6 sigma) | 1 per image
    offsets = torch.arange(kernel_size, device=noise.device, dtype=dtype) - (kernel_size - 1) // 2
    # sigma = 0 gives a unit impulse (exp(-inf) = 0 off the centre) instead of 0 / 0.
    scaled = offsets / sigma.clamp_min(torch.finfo(dtype).tiny)
    weights = torch.exp(-0.5 * scaled**2)
    weights = torch.where(offsets.abs() <= (widths - 1) // 2, weights, 0.0)
    weights = weights / weights.sum(-1, keepdim=True)  # (N, K)
    kernels = weights.repeat_interleave(2, 0)  # one per field: (2N, K)
    fields = (noise * sigma.view(n, 1, 1, 1)).reshape(1, 2 * n, height, width)
    half = kernel_size // 2
    fields = F.conv2d(fields, kernels.view(2 * n, 1, -1, 1), padding=(half, 0), groups=2 * n)
    fields = F.conv2d(fields, kernels.view(2 * n, 1, 1, -1), padding=(0, half), groups=2 * n)
    fields = fields.view(n, 2, height, width) * alpha.to(dtype).view(n, 1, 1, 1)
    return fields[:, 0], fields[:, 1]


def elastic_resample(
    images: Tensor,
    dx: Tensor,
    dy: Tensor,
    interpolation: str,
    fill_mode: str,
    fill_value: float,
) -> Tensor:
    """(N, H, W, C) images read at pixel (x + dx, y + dy) for every output pixel (x, y)."""
    _, height, width, _ = images.shape
    ys = torch.arange(height, device=images.device, dtype=dx.dtype).view(1, height, 1)
    xs = torch.arange(width, device=images.device, dtype=dx.dtype).view(1, 1, width)
    order = INTERPOLATIONS[interpolation]
    return _sample_grid(images, xs + dx, ys + dy, order, fill_mode, fill_value)


def elastic_transform(
    images: TensorLike,
    alpha: float = 20.0,
    sigma: float = 5.0,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    seed: int | None = None,
    data_format: str | None = None,
) -> Tensor:
    """Elastic deformation (Simard et al., 2003): each pixel reads the image at a random
    displacement, unit normal noise per pixel smoothed by a Gaussian of `sigma` and scaled by
    `alpha * sigma` (Keras' recipe), so nearby pixels move together.

    Args:
        images: a (H, W, C) image or a (N, H, W, C) batch (channels first if `data_format` says).
        alpha: the displacement's scale.
        sigma: the smoothing Gaussian's standard deviation in pixels (its width is
            int(6 sigma) | 1).
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'reflect', 'constant', 'nearest', 'wrap' or 'mirror', for reads outside.
        fill_value: the value read outside with fill_mode='constant'.
        seed: an int makes the noise reproducible (its own generator); None draws from torch's
            global generator, as Keras' torch backend always does.
        data_format: 'channels_last' or 'channels_first'; None reads the config.

    >>> import lamina.ops as ops
    >>> ops.image.elastic_transform(ops.ones((2, 8, 8, 3)), alpha=2.0, sigma=1.0, seed=0).shape
    torch.Size([2, 8, 8, 3])
    """
    owner = "elastic_transform"
    check_choice(owner, "interpolation", interpolation, tuple(INTERPOLATIONS))
    check_choice(owner, "fill_mode", fill_mode, FILL_MODES)
    if float(sigma) < 0:
        raise ValueError(f"{owner}: sigma must be >= 0; got sigma={sigma!r}")
    channels_last = data_format_of(data_format, owner) == "channels_last"
    batch, single = as_batch(images, owner)
    nhwc = batch if channels_last else batch.permute(0, 2, 3, 1)
    n, height, width, _ = nhwc.shape
    dtype = nhwc.dtype if nhwc.is_floating_point() else torch.float32
    generator = None
    if seed is not None and nhwc.device.type != "meta":
        generator = torch.Generator(device=nhwc.device)
        generator.manual_seed(int(seed))
    # Two draws, x field first, as Keras' torch backend: the same global seed, the same noise.
    noise = torch.stack(
        [
            torch.normal(
                0.0, 1.0, (n, height, width), generator=generator, dtype=dtype, device=nhwc.device
            )
            for _ in range(2)
        ],
        1,
    )
    sigmas = torch.full((n,), float(sigma), dtype=torch.float32, device=nhwc.device)
    alphas = torch.full((n,), float(alpha), dtype=torch.float32, device=nhwc.device)
    dx, dy = elastic_displacements(noise, alphas, sigmas, elastic_kernel_size(sigma))
    out = elastic_resample(nhwc, dx, dy, interpolation, fill_mode, fill_value)
    out = out if channels_last else out.permute(0, 3, 1, 2)
    return out.squeeze(0) if single else out


def _triangle(x: Tensor) -> Tensor:
    return (1.0 - x).clamp_min(0.0)


def _keys_cubic(x: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with a = -0.5, for distances x >= 0."""
    near = (1.5 * x - 2.5) * x * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x < 1.0, near, torch.where(x < 2.0, far, 0.0))


def _lanczos(radius: float) -> Callable[[Tensor], Tensor]:
    def kernel(x: Tensor) -> Tensor:
        # sinc(x) sinc(x / r); within 1e-3 of 0 it is 1 to float precision.
        numerator = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
        value = numerator / torch.where(x > 1e-3, math.pi**2 * x * x, 1.0)
        return torch.where(x > radius, 0.0, torch.where(x > 1e-3, value, 1.0))

    return kernel


_KERNELS = {
    "linear": _triangle,
    "bilinear": _triangle,
    "trilinear": _triangle,
    "triangle": _triangle,
    "cubic": _keys_cubic,
    "bicubic": _keys_cubic,
    "tricubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def _resampling_weights(
    input_size: int,
    output_size: int,
    scale: Tensor,
    translation: Tensor,
    kernel: Callable[[Tensor], Tensor],
    antialias: bool,
) -> Tensor:
    """(input_size, output_size) weights: output sample j (centre j + 0.5) reads input position
    (j + 0.5 - translation) / scale - 0.5, through `kernel` stretched by 1 / scale when
    antialiasing a downscale; columns normalised, and zero where the position is outside."""
    inverse = 1.0 / scale
    stretch = inverse.clamp_min(1.0) if antialias else torch.ones_like(inverse)
    positions = torch.arange(output_size, dtype=scale.dtype, device=scale.device)
    positions = (positions + 0.5) * inverse - translation * inverse - 0.5
    pixels = torch.arange(input_size, dtype=scale.dtype, device=scale.device)
    weights = kernel((positions[None, :] - pixels[:, None]).abs() / stretch)
    total = weights.sum(0, keepdim=True)
    # Keras' threshold: columns whose weights nearly cancel give 0, not a huge ratio.
    usable = total.abs() > 1000.0 * torch.finfo(torch.float32).eps
    weights = torch.where(usable, weights / torch.where(total != 0, total, 1.0), 0.0)
    inside = (positions >= -0.5) & (positions <= input_size - 0.5)
    return torch.where(inside[None, :], weights, 0.0)


def scale_and_translate(
    images: TensorLike,
    output_shape: Sequence[int],
    scale: TensorLike,
    translation: TensorLike,
    spatial_dims: Sequence[int],
    method: str,
    antialias: bool = True,
) -> Tensor:
    """Resample `images` to `output_shape`: along each axis of `spatial_dims` the input point
    x (pixel centres at i + 0.5) lands at x * scale + translation of the output, as
    `jax.image.scale_and_translate`; outputs reading outside the input are 0.

    Args:
        images: any array.
        output_shape: the full output shape (one size per axis of `images`).
        scale: one scale per axis of `spatial_dims`.
        translation: one translation (in output pixels) per axis of `spatial_dims`.
        spatial_dims: the axes to resample.
        method: 'linear' ('bilinear', 'trilinear', 'triangle'), 'cubic' ('bicubic',
            'tricubic': Keys' cubic), 'lanczos3' or 'lanczos5'.
        antialias: widen the kernel by 1 / scale when downscaling, so no input is skipped.

    >>> import lamina.ops as ops
    >>> x = ops.arange(9.0).reshape(3, 3)
    >>> ops.image.scale_and_translate(x, (5, 5), [2.0, 2.0], [-0.5, -0.5], (0, 1), "linear")[0]
    tensor([0.0000, 0.5000, 1.0000, 1.5000, 2.0000])
    """
    owner = "scale_and_translate"
    check_choice(owner, "method", method, tuple(_KERNELS))
    x = tensor(images)
    scale, translation = tensor(scale), tensor(translation)
    dtype = torch.promote_types(scale.dtype, translation.dtype)
    dtype = dtype if dtype.is_floating_point else torch.float32
    scale = scale.to(dtype=dtype, device=x.device).reshape(-1)
    translation = translation.to(dtype=dtype, device=x.device).reshape(-1)
    dims = [int(d) for d in spatial_dims]
    output_shape = [int(s) for s in output_shape]
    if len(output_shape) != x.dim():
        raise ValueError(
            f"{owner}: output_shape must have one size per axis of images (shape "
            f"{tuple(x.shape)}); got output_shape={tuple(output_shape)}"
        )
    if not len(dims) == scale.numel() == translation.numel():
        raise ValueError(
            f"{owner}: scale and translation need one value per axis of spatial_dims={dims}; "
            f"got {scale.numel()} and {translation.numel()}"
        )
    integer = not x.is_floating_point()
    out = x.float() if integer else x
    for i, dim in enumerate(dims):
        dim = dim % x.dim()
        weights = _resampling_weights(
            x.shape[dim], output_shape[dim], scale[i], translation[i], _KERNELS[method], antialias
        )
        out = torch.tensordot(out, weights.to(out.dtype), dims=([dim], [0])).movedim(-1, dim)
    if integer:
        low, high = (x.min(), x.max()) if x.numel() else (0, 0)
        out = out.round().clamp(low, high).to(x.dtype)
    return out


def sobel_edges(images: TensorLike, data_format: str | None = None) -> Tensor:
    """Sobel gradients of each channel, zero padded to keep the size, stacked as (dy, dx) on a
    new last axis: (N, H, W, C, 2) channels last, (N, C, H, W, 2) channels first.

    dy is the change downwards ([-1, -2, -1] above, [1, 2, 1] below), dx rightwards. Integer
    images give float32 gradients.

    >>> import lamina.ops as ops
    >>> step = ops.concatenate([ops.zeros((1, 3, 2, 1)), ops.ones((1, 3, 2, 1))], axis=2)
    >>> ops.image.sobel_edges(step)[0, 1, :, 0, 1]  # the step, then the zero padding's drop
    tensor([ 0.,  4.,  4., -4.])
    """
    owner = "sobel_edges"
    channels_last = data_format_of(data_format, owner) == "channels_last"
    x = tensor(images)
    if x.dim() != 4:
        raise ValueError(
            f"{owner} expects a 4-D batch of images; got shape {tuple(x.shape)}. Add a batch "
            "axis to a single image."
        )
    x = x if x.is_floating_point() else x.float()
    x = x.permute(0, 3, 1, 2) if channels_last else x
    n, channels, height, width = x.shape
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    change = torch.tensor([-1.0, 0.0, 1.0], dtype=x.dtype, device=x.device)
    kernels = torch.stack([torch.outer(change, smooth), torch.outer(smooth, change)])  # dy, dx
    weight = kernels.repeat(channels, 1, 1).unsqueeze(1)  # (2C, 1, 3, 3)
    edges = F.conv2d(x, weight, padding=1, groups=channels).view(n, channels, 2, height, width)
    return edges.permute(0, 3, 4, 1, 2) if channels_last else edges.permute(0, 1, 3, 4, 2)


def ssim(
    image1: TensorLike,
    image2: TensorLike,
    max_val: float = 1.0,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_format: str | None = None,
) -> Tensor:
    """Structural similarity (Wang et al., 2004) of two images or batches: local means,
    variances and covariance under a Gaussian window (no padding), the SSIM map averaged over
    the pixels and the channels. 1 for identical images.

    Args:
        image1, image2: (H, W, C) images or (N, H, W, C) batches of the same shape.
        max_val: the pixel values' range (1.0 for [0, 1], 255.0 for [0, 255]).
        filter_size: the window's width (<= the images' sides).
        filter_sigma: the window's standard deviation.
        k1, k2: the stabilising constants, c1 = (k1 max_val)^2 and c2 = (k2 max_val)^2.
        data_format: 'channels_last' or 'channels_first'; None reads the config.

    Returns:
        One value per image pair, (N,), or a scalar for single images, in image1's dtype.

    >>> import lamina.ops as ops
    >>> x = ops.linspace(0.0, 1.0, 12 * 12).reshape(12, 12, 1)
    >>> float(ops.image.ssim(x, x))
    1.0
    """
    owner = "ssim"
    channels_last = data_format_of(data_format, owner) == "channels_last"
    first, single = as_batch(image1, owner)
    second, _ = as_batch(image2, owner)
    if first.shape != second.shape:
        raise ValueError(
            f"{owner}: image1 and image2 must have the same shape; got {tuple(first.shape)} "
            f"and {tuple(second.shape)}"
        )
    dtype = first.dtype
    work = torch.promote_types(dtype, torch.float32) if not dtype.is_floating_point else dtype
    pair = torch.stack([first, second.to(first.device)]).to(work)
    pair = pair.permute(0, 1, 4, 2, 3) if channels_last else pair
    _, n, channels, height, width = pair.shape
    if not 1 <= filter_size <= min(height, width):
        raise ValueError(
            f"{owner}: filter_size must be between 1 and the images' smaller side "
            f"{min(height, width)}; got filter_size={filter_size}"
        )
    offsets = torch.arange(filter_size, dtype=work, device=pair.device) - (filter_size - 1) / 2.0
    bell = torch.exp(-(offsets**2) / (2.0 * filter_sigma**2))
    bell = bell / bell.sum()
    window = torch.outer(bell, bell).view(1, 1, filter_size, filter_size)
    # Every channel of every image, and the products, filtered by one (B, 1, H, W) convolution.
    planes = pair.reshape(2, n * channels, 1, height, width)
    x, y = planes[0], planes[1]
    stats = F.conv2d(torch.cat([x, y, x * x, y * y, x * y]), window)
    mean_x, mean_y, square_x, square_y, product = stats.chunk(5)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mean_xy = mean_x * mean_y
    var_x, var_y = square_x - mean_x * mean_x, square_y - mean_y * mean_y
    covariance = product - mean_xy
    similarity = ((2.0 * mean_xy + c1) * (2.0 * covariance + c2)) / (
        (mean_x * mean_x + mean_y * mean_y + c1) * (var_x + var_y + c2)
    )
    result = similarity.mean(dim=(1, 2, 3)).view(n, channels).mean(-1).to(dtype)
    return result.squeeze(0) if single else result
