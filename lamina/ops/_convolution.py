"""Convolution, pooling and attention ops on Keras layouts: channels_last inputs and
(*kernel_size, in_channels, out_channels) kernels."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from ._dtypes import TensorLike, promote, tensor

IntOrTuple = int | Sequence[int]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _tuple(value: IntOrTuple, rank: int, name: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != rank:
        raise ValueError(f"{name} must be an int or {rank} ints; got {value!r}")
    return values


def _to_channels_first(x: Tensor, data_format: str | None) -> tuple[Tensor, bool]:
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first'; got {data_format!r}"
        )
    last = data_format == "channels_last"
    return (torch.movedim(x, -1, 1) if last else x), last


def check_input_channels(
    inputs: Tensor, kernel_channels: int, data_format: str | None, groups: bool = False
) -> int:
    """The input's channel count, checked against the kernel's as Keras does (a ValueError
    before torch's own error); `groups` allows any multiple (grouped convolution)."""
    data_format = data_format or config.image_data_format()
    channels = inputs.shape[-1 if data_format == "channels_last" else 1]
    if groups and (kernel_channels < 1 or channels % kernel_channels):
        raise ValueError(
            f"Input channels ({channels}) must be divisible by kernel input channels "
            f"({kernel_channels})"
        )
    if not groups and channels != kernel_channels:
        raise ValueError(
            "The number of input channels must match the kernel's input channels. Received: "
            f"input channels={channels}, kernel input channels={kernel_channels}, "
            f"data_format='{data_format}'."
        )
    return channels


def _back(x: Tensor, channels_last: bool) -> Tensor:
    return torch.movedim(x, 1, -1) if channels_last else x


def _same_padding(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> list[int]:
    # TensorFlow's 'same': out = ceil(in / stride), the extra pixel goes after (F.pad order).
    pads: list[int] = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation, strict=True):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads = [total // 2, total - total // 2, *pads]
    return pads


def _check_padding(padding: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}")
    return padding


def _convolve(
    inputs: TensorLike,
    weight: Tensor,
    groups: int,
    strides: IntOrTuple,
    padding: str,
    data_format: str | None,
    dilation_rate: IntOrTuple,
) -> Tensor:
    x, channels_last = _to_channels_first(tensor(inputs), data_format)
    x, weight = promote(x, weight)
    rank = x.dim() - 2
    if rank not in _CONV:
        raise ValueError(
            f"conv expects 3-D to 5-D inputs (batch, *spatial, channels); got {x.dim()}-D"
        )
    strides = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    if _check_padding(padding) == "same":
        x = F.pad(x, _same_padding(x.shape[2:], weight.shape[2:], strides, dilation))
    output = _CONV[rank](x, weight, stride=strides, dilation=dilation, groups=groups)
    return _back(output, channels_last)


def conv(
    inputs: TensorLike,
    kernel: TensorLike,
    strides: IntOrTuple = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: IntOrTuple = 1,
) -> Tensor:
    """An N-D convolution with a Keras kernel (*kernel_size, in_channels / groups, filters)."""
    kernel = tensor(kernel)
    channels = check_input_channels(tensor(inputs), kernel.shape[-2], data_format, groups=True)
    groups = channels // kernel.shape[-2]
    weight = torch.movedim(kernel, (-1, -2), (0, 1))
    return _convolve(inputs, weight, groups, strides, padding, data_format, dilation_rate)


def depthwise_conv(
    inputs: TensorLike,
    kernel: TensorLike,
    strides: IntOrTuple = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: IntOrTuple = 1,
) -> Tensor:
    """A depthwise convolution with a Keras kernel (*kernel_size, in_channels, multiplier)."""
    kernel = tensor(kernel)
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    check_input_channels(tensor(inputs), channels, data_format)
    # (*k, in, mult) -> (in * mult, 1, *k): output channel c * mult + m, as in Keras.
    weight = torch.movedim(
        kernel.reshape(*kernel.shape[:-2], channels * multiplier, 1), (-2, -1), (0, 1)
    )
    return _convolve(inputs, weight, channels, strides, padding, data_format, dilation_rate)


def _pool(
    inputs: TensorLike,
    pool_size: IntOrTuple,
    strides: IntOrTuple | None,
    padding: str,
    data_format: str | None,
    average: bool,
) -> Tensor:
    x, channels_last = _to_channels_first(tensor(inputs), data_format)
    rank = x.dim() - 2
    if rank not in _MAX_POOL:
        raise ValueError(f"pooling expects 3-D to 5-D inputs; got {x.dim()}-D")
    window = _tuple(pool_size, rank, "pool_size")
    strides = window if strides is None else _tuple(strides, rank, "strides")
    if _check_padding(padding) == "valid":
        pool = _AVG_POOL[rank] if average else _MAX_POOL[rank]
        return _back(pool(x, window, strides), channels_last)
    pads = _same_padding(x.shape[2:], window, strides, (1,) * rank)
    if not average:
        padded = F.pad(x, pads, value=-math.inf)
        return _back(_MAX_POOL[rank](padded, window, strides), channels_last)
    if pads[0::2] != pads[1::2]:
        # Uneven padding: Keras 3's torch backend repeats the edge values, which then count.
        padded = F.pad(x, pads, mode="replicate")
        return _back(_AVG_POOL[rank](padded, window, strides), channels_last)
    # Even padding: Keras' 'same' average ignores it, dividing by the real inputs per window.
    sums = _AVG_POOL[rank](F.pad(x, pads), window, strides)
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    counts = _AVG_POOL[rank](F.pad(ones, pads), window, strides)
    return _back(sums / counts, channels_last)


def max_pool(
    inputs: TensorLike,
    pool_size: IntOrTuple,
    strides: IntOrTuple | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """The maximum over windows of `pool_size`, every `strides` (default: the window)."""
    return _pool(inputs, pool_size, strides, padding, data_format, average=False)


def average_pool(
    inputs: TensorLike,
    pool_size: IntOrTuple,
    strides: IntOrTuple | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """The mean over windows of `pool_size`, every `strides`. 'same' padding is excluded
    from the mean where it is even; uneven padding repeats the edge values, which count, as
    Keras 3's torch backend does."""
    return _pool(inputs, pool_size, strides, padding, data_format, average=True)


def dot_product_attention(
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    bias: TensorLike | None = None,
    mask: TensorLike | None = None,
    scale: float | None = None,
    is_causal: bool = False,
    flash_attention: bool | None = None,
    attn_logits_soft_cap: float | None = None,
) -> Tensor:
    """Scaled dot-product attention on (batch, length, heads, head_dim) tensors; `mask` is
    True where attention is allowed, `bias` is added to the logits (give one of the two).
    With fewer key/value heads than query heads, each serves a group of query heads."""
    query, key, value = tensor(query), tensor(key), tensor(value)
    dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
    query, key, value = query.to(dtype), key.to(dtype), value.to(dtype)
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    squeeze = query.dim() == 3
    if squeeze:
        query, key, value = query.unsqueeze(2), key.unsqueeze(2), value.unsqueeze(2)
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))  # (B, N, T, H)
    if q.shape[1] > k.shape[1] > 1:  # grouped-query attention: each key head serves a group
        groups = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + tensor(bias).to(device=logits.device, dtype=logits.dtype)
    allowed = None
    if mask is not None:
        allowed = tensor(mask).to(logits.device).bool()
    if is_causal:
        length_q, length_k = logits.shape[-2:]
        causal = torch.ones(length_q, length_k, dtype=torch.bool, device=logits.device).tril()
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        logits = logits.masked_fill(~allowed, torch.finfo(logits.dtype).min)
    weights = torch.softmax(logits.float(), dim=-1).to(v.dtype)
    output = torch.matmul(weights, v).transpose(1, 2)
    return output.squeeze(2) if squeeze else output
