"""More neural-network ops (`keras.ops.nn`): shrink and sparse activations, sparsemax,
layer/RMS normalization, adaptive pooling, transposed and separable convolution, pixel
shuffles, fold/unfold, PSNR, polar and CTC (in `_ctc`).

>>> from lamina.ops._nn_extra import sparse_plus
>>> sparse_plus([-2.0, 0.0, 2.0]).tolist()
[0.0, 0.25, 2.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from ._convolution import (
    IntOrTuple,
    _back,
    _to_channels_first,
    _tuple,
    check_input_channels,
    conv,
    depthwise_conv,
)
from ._ctc import ctc_decode, ctc_loss
from ._dtypes import Axis, TensorLike, axes, promote, tensor, to_float

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "conv_transpose",
    "ctc_decode",
    "ctc_loss",
    "depth_to_space",
    "fold",
    "hard_shrink",
    "hard_tanh",
    "layer_normalization",
    "polar",
    "psnr",
    "rms_normalization",
    "separable_conv",
    "soft_shrink",
    "space_to_depth",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
    "unfold",
]


def sparse_plus(x: TensorLike) -> Tensor:
    """0 for x <= -1, (x + 1)**2 / 4 for |x| < 1, x for x >= 1: a smooth-kneed ReLU."""
    x = to_float(x)
    return torch.where(x <= -1, 0.0, torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def sparse_sigmoid(x: TensorLike) -> Tensor:
    """0 for x <= -1, (x + 1) / 2 for |x| < 1, 1 for x >= 1."""
    return torch.clamp(0.5 * (to_float(x) + 1), 0.0, 1.0)


def squareplus(x: TensorLike, b: float = 4) -> Tensor:
    """(x + sqrt(x**2 + b)) / 2: a smooth ReLU."""
    x = to_float(x)
    return (x + torch.sqrt(x * x + b)) / 2


def hard_tanh(x: TensorLike) -> Tensor:
    """x clipped to [-1, 1]."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.clamp(x, -1, 1) if not x.dtype.is_floating_point else F.hardtanh(x)


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """x where |x| > threshold, else 0."""
    return F.hardshrink(to_float(x), lambd=threshold)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """x moved towards 0 by `threshold`, and 0 where |x| <= threshold."""
    return F.softshrink(to_float(x), lambd=threshold)


def tanh_shrink(x: TensorLike) -> Tensor:
    """x - tanh(x)."""
    return F.tanhshrink(to_float(x))


def threshold(x: TensorLike, threshold: float, default_value: float) -> Tensor:
    """x where x > threshold, else `default_value`."""
    return F.threshold(to_float(x), threshold, default_value)


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The Euclidean projection of x onto the probability simplex along `axis`: a softmax
    whose outputs can be exactly 0."""
    x = to_float(x)
    ordered = torch.sort(x, dim=axis, descending=True).values
    cumulative = torch.cumsum(ordered, dim=axis)
    shape = [1] * x.dim()
    shape[axis] = -1
    ranks = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = ordered - (cumulative - 1) / ranks > 0
    size = support.sum(dim=axis, keepdim=True)
    # The support is a prefix of the sorted values: its sum is the running sum at its end.
    tau = (torch.gather(cumulative, axis, size - 1) - 1) / size
    return torch.clamp(x - tau, min=0.0)


def _norm_axes(x: Tensor, axis: Axis) -> tuple[int, ...]:
    dims = axes(axis, x.dim())
    return tuple(range(x.dim())) if dims is None else dims


def _param(value: TensorLike | None, x: Tensor, dims: tuple[int, ...]) -> Tensor | None:
    # A 1-D gamma/beta/scale for several or non-last axes is laid out over those axes.
    if value is None:
        return None
    value = tensor(value).to(dtype=x.dtype, device=x.device)
    if value.dim() != x.dim() and dims != (x.dim() - 1,):
        shape = [x.shape[d] if d in dims else 1 for d in range(x.dim())]
        value = value.reshape(shape)
    return value


def layer_normalization(
    x: TensorLike,
    gamma: TensorLike | None = None,
    beta: TensorLike | None = None,
    axis: Axis = -1,
    epsilon: float | None = None,
    **kwargs: object,
) -> Tensor:
    """(x - mean) / sqrt(var + epsilon) over `axis`, times `gamma` plus `beta` when given."""
    if kwargs and set(kwargs) != {"rms_scaling"}:
        raise TypeError(f"layer_normalization got unexpected arguments {sorted(kwargs)}")
    x = to_float(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    dims = _norm_axes(x, axis)
    if kwargs.get("rms_scaling"):
        # Keras' legacy flag: divide by the standard deviation, no centering, no beta.
        outputs = x * torch.rsqrt(torch.var(x, dim=dims, correction=0, keepdim=True) + epsilon)
        gamma_t = _param(gamma, x, dims)
        return outputs if gamma_t is None else outputs * gamma_t
    variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
    outputs = (x - mean) * torch.rsqrt(variance + epsilon)
    gamma_t, beta_t = _param(gamma, x, dims), _param(beta, x, dims)
    if gamma_t is not None:
        outputs = outputs * gamma_t
    return outputs if beta_t is None else outputs + beta_t


def rms_normalization(
    x: TensorLike, scale: TensorLike | None = None, axis: Axis = -1, epsilon: float | None = None
) -> Tensor:
    """x / sqrt(mean(x**2) + epsilon) over `axis`, times `scale` when given."""
    x = to_float(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    dims = _norm_axes(x, axis)
    outputs = x * torch.rsqrt(torch.mean(x * x, dim=dims, keepdim=True) + epsilon)
    scale_t = _param(scale, x, dims)
    return outputs if scale_t is None else outputs * scale_t


_ADAPTIVE = {
    (1, False): F.adaptive_avg_pool1d,
    (2, False): F.adaptive_avg_pool2d,
    (3, False): F.adaptive_avg_pool3d,
    (1, True): F.adaptive_max_pool1d,
    (2, True): F.adaptive_max_pool2d,
    (3, True): F.adaptive_max_pool3d,
}


def _adaptive_pool(
    inputs: TensorLike, output_size: IntOrTuple, data_format: str | None, largest: bool
) -> Tensor:
    x, channels_last = _to_channels_first(to_float(inputs), data_format)
    rank = x.dim() - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"adaptive pooling expects 3-D to 5-D inputs; got {x.dim()}-D")
    size = _tuple(output_size, rank, "output_size")
    return _back(_ADAPTIVE[(rank, largest)](x, size), channels_last)


def adaptive_average_pool(
    inputs: TensorLike, output_size: IntOrTuple, data_format: str | None = None
) -> Tensor:
    """Average pooling to a fixed `output_size`, whatever the input's spatial size."""
    return _adaptive_pool(inputs, output_size, data_format, largest=False)


def adaptive_max_pool(
    inputs: TensorLike, output_size: IntOrTuple, data_format: str | None = None
) -> Tensor:
    """Max pooling to a fixed `output_size`, whatever the input's spatial size."""
    return _adaptive_pool(inputs, output_size, data_format, largest=True)


_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _transpose_pads(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int]:
    # Keras' padding of the stride-dilated input, as (left, right), for one spatial axis.
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return effective - 1, effective - 1 + extra
    if output_padding is None:
        total = stride + effective - 2
    else:
        total = effective + effective % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, effective - 1)
    return left, total - left


def conv_transpose(
    inputs: TensorLike,
    kernel: TensorLike,
    strides: IntOrTuple = 1,
    padding: str = "valid",
    output_padding: IntOrTuple | None = None,
    data_format: str | None = None,
    dilation_rate: IntOrTuple = 1,
) -> Tensor:
    """A transposed N-D convolution with a Keras kernel (*kernel_size, filters, in_channels)."""
    inputs, kernel = tensor(inputs), tensor(kernel)
    check_input_channels(inputs, kernel.shape[-1], data_format)
    x, channels_last = _to_channels_first(inputs, data_format)
    x, kernel = promote(to_float(x), to_float(kernel))
    rank = x.dim() - 2
    if rank not in _CONV_TRANSPOSE:
        raise ValueError(f"conv_transpose expects 3-D to 5-D inputs; got {x.dim()}-D")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}")
    stride = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    extras = (
        (None,) * rank if output_padding is None else _tuple(output_padding, rank, "output_padding")
    )
    # (*k, out, in) -> (in, out, *k), torch's layout for transposed convolutions.
    weight = torch.movedim(kernel, (-1, -2), (0, 1))
    # torch pads symmetrically only: take its widest output, then crop (or zero-pad) each side.
    output = _CONV_TRANSPOSE[rank](x, weight, stride=stride, dilation=dilation)
    crops: list[int] = []
    for i in range(rank):
        effective = (kernel.shape[i] - 1) * dilation[i] + 1
        left, right = _transpose_pads(kernel.shape[i], stride[i], dilation[i], padding, extras[i])
        crops = [left - (effective - 1), right - (effective - 1), *crops]
    return _back(F.pad(output, crops), channels_last)


def separable_conv(
    inputs: TensorLike,
    depthwise_kernel: TensorLike,
    pointwise_kernel: TensorLike,
    strides: IntOrTuple = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: IntOrTuple = 1,
) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    depthwise = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def _check_rank4(x: Tensor, name: str) -> None:
    if x.dim() != 4:
        raise ValueError(f"{name} expects a 4-D tensor; got shape {tuple(x.shape)}")


def depth_to_space(x: TensorLike, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move channels into block_size x block_size spatial blocks (TensorFlow's order):
    (n, h, w, c) -> (n, h * b, w * b, c / b**2)."""
    x = tensor(x)
    _check_rank4(x, "depth_to_space")
    x, channels_last = _to_channels_first(x, data_format)
    if channels_last:
        # TF's channel order (block row, block col, channel) differs from pixel_shuffle's.
        n, c, h, w = x.shape
        b = block_size
        x = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
        return _back(x.reshape(n, c // (b * b), h * b, w * b), channels_last)
    return F.pixel_shuffle(x, block_size)


def space_to_depth(x: TensorLike, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move block_size x block_size spatial blocks into channels (TensorFlow's order):
    (n, h, w, c) -> (n, h / b, w / b, c * b**2)."""
    x = tensor(x)
    _check_rank4(x, "space_to_depth")
    x, channels_last = _to_channels_first(x, data_format)
    if channels_last:
        n, c, h, w = x.shape
        b = block_size
        x = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
        return _back(x.reshape(n, c * b * b, h // b, w // b), channels_last)
    return F.pixel_unshuffle(x, block_size)


def unfold(
    x: TensorLike,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Tensor:
    """Sliding blocks of an (N, C, H, W) image as columns: (N, C * kh * kw, blocks)."""
    return F.unfold(tensor(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(
    x: TensorLike,
    output_size: IntOrTuple,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Tensor:
    """The inverse of `unfold`: columns (N, C * kh * kw, blocks) summed back into an
    (N, C, H, W) image of `output_size`."""
    return F.fold(
        tensor(x), output_size, kernel_size, dilation=dilation, padding=padding, stride=stride
    )


def psnr(x1: TensorLike, x2: TensorLike, max_val: float) -> Tensor:
    """The peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mse(x1, x2))."""
    a, b = promote(to_float(x1), to_float(x2))
    if a.shape != b.shape:
        raise ValueError(
            f"psnr expects two tensors of one shape; got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    peak = torch.as_tensor(max_val, dtype=a.dtype, device=a.device)
    return 20 * torch.log10(peak) - 10 * torch.log10(torch.mean((a - b) ** 2))


def polar(abs_: TensorLike, angle: TensorLike) -> Tensor:
    """The complex numbers abs_ * (cos(angle) + i sin(angle))."""
    return torch.polar(*promote(to_float(abs_), to_float(angle)))
