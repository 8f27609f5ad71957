"""Fake quantization, float8 scaling and int4 packing, as Keras 3's `keras.quantizers`.

>>> import numpy as np
>>> packed, shape, length = pack_int4(np.array([[-3, 7], [2, -8], [1, 0]], dtype=np.int8))
>>> packed.tolist(), shape, length
([[45, -121], [1, 0]], (2, 2), 3)
>>> unpack_int4(packed, length).tolist()
[[-3, 7], [2, -8], [1, 0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..ops._dtypes import TensorLike, to_torch_dtype
from ..ops._dtypes import tensor as to_tensor

__all__ = [
    "compute_float8_amax_history",
    "compute_float8_scale",
    "fake_quant_with_min_max_vars",
    "pack_int4",
    "quantize_and_dequantize",
    "unpack_int4",
]


def _nudged_range(
    low: torch.Tensor, high: torch.Tensor, num_bits: int, narrow_range: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(nudged min, nudged max, scale, 1/scale): the range moved so that 0.0 is a level."""
    dtype = torch.promote_types(low.dtype, torch.float32)
    low, high = low.to(dtype), high.to(dtype)
    quant_max = (1 << num_bits) - 1
    quant_min = 1 if narrow_range else 0
    scale = (high - low) / (quant_max - quant_min)
    inverse_scale = torch.div(torch.full_like(high, quant_max - quant_min), high - low)
    zero_point = torch.round(torch.clip(quant_min - low / scale, quant_min, quant_max))
    return (quant_min - zero_point) * scale, (quant_max - zero_point) * scale, scale, inverse_scale


class _FakeQuant(torch.autograd.Function):
    """Fake quantization with Keras' gradient: the inputs' gradient passes inside the nudged
    range; outside it, it goes to `min_vals` (below) or `max_vals` (above), summed over every
    axis but `axis`."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        low: torch.Tensor,
        high: torch.Tensor,
        num_bits: int,
        narrow_range: bool,
        axis: int | None,
    ) -> torch.Tensor:
        nudged_min, nudged_max, scale, inverse_scale = _nudged_range(
            low, high, num_bits, narrow_range
        )
        quant_zero = torch.floor(-nudged_min * inverse_scale + 0.5)
        shifted = torch.clip(x.to(nudged_min.dtype), nudged_min, nudged_max) - nudged_min
        result = torch.floor(shifted * inverse_scale - quant_zero + 0.5) * scale
        ctx.save_for_backward(x, nudged_min, nudged_max)
        ctx.axis, ctx.shapes = axis, (low.shape, high.shape)
        return result.to(x.dtype)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        x, nudged_min, nudged_max = ctx.saved_tensors
        zero = torch.zeros((), dtype=upstream.dtype, device=upstream.device)
        inside = (x >= nudged_min) & (x <= nudged_max)
        grad_x = torch.where(inside, upstream, zero)
        axes = [i for i in range(grad_x.ndim) if i != ctx.axis]
        grads = []
        for mask, shape in ((x <= nudged_min, ctx.shapes[0]), (x >= nudged_max, ctx.shapes[1])):
            grad = torch.where(mask, upstream, zero)
            grad = grad.sum(dim=axes) if ctx.axis is not None else grad.sum()
            grads.append(grad.reshape(shape))
        return grad_x, grads[0], grads[1], None, None, None


def fake_quant_with_min_max_vars(
    inputs: TensorLike,
    min_vals: TensorLike,
    max_vals: TensorLike,
    num_bits: int = 8,
    narrow_range: bool = False,
    axis: int | None = None,
) -> torch.Tensor:
    """Quantize `inputs` to `num_bits` levels in [min_vals, max_vals] (nudged so that zero
    is a level) and dequantize back, per tensor (`axis=None`) or per channel along `axis`.

    The levels are [0, 2**num_bits - 1] ([1, ...] with `narrow_range`). Differentiable as
    Keras defines it: inputs inside the range pass their gradient; clipped ones send it to
    `min_vals` or `max_vals`, so the range can be trained.

    >>> fake_quant_with_min_max_vars(torch.tensor([0.1, 0.52, 2.0]), 0.0, 1.0, 2).tolist()
    [0.0, 0.6666666865348816, 1.0]
    """
    x = to_tensor(inputs)
    low, high = to_tensor(min_vals), to_tensor(max_vals)
    if axis is not None:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis {axis} is out of bounds for inputs of rank {x.ndim}")
        axis %= x.ndim
    return _FakeQuant.apply(x, low, high, int(num_bits), bool(narrow_range), axis)


def compute_float8_scale(
    amax: TensorLike, scale: TensorLike, dtype_max: TensorLike, margin: int = 0
) -> torch.Tensor:
    """The next float8 scale from the running maximum `amax`: `1 / (dtype_max / amax /
    2**margin)`, keeping `scale` where amax is 0 or not finite.

    >>> compute_float8_scale(torch.tensor(2.0), torch.tensor(1.0), 448.0).item()
    0.004464285913854837
    """
    amax, scale = to_tensor(amax), to_tensor(scale)
    previous = torch.reciprocal(scale)
    factor = to_tensor(dtype_max) / amax / 2**margin
    factor = torch.where(amax > 0.0, factor, previous)
    factor = torch.where(torch.isfinite(amax), factor, previous)
    return torch.reciprocal(factor)


def compute_float8_amax_history(x: TensorLike, amax_history: TensorLike) -> torch.Tensor:
    """The history rolled one step left with max|x| written first.

    >>> compute_float8_amax_history(torch.tensor([-3.0, 1.0]), torch.tensor([1.0, 2.0, 0.0]))
    tensor([3., 0., 1.])
    """
    x, history = to_tensor(x), to_tensor(amax_history)
    new = torch.roll(history, shifts=-1, dims=0).clone()
    new[0] = torch.amax(torch.abs(x)).to(history.dtype)
    return new


def quantize_and_dequantize(
    inputs: TensorLike, scale: TensorLike, quantized_dtype: Any, compute_dtype: Any
) -> torch.Tensor:
    """`inputs / scale`, clipped to `quantized_dtype`'s range and rounded to it (a float8
    type: 'float8_e4m3fn', 'float8_e5m2'), then times `scale` in `compute_dtype`.

    >>> quantize_and_dequantize(torch.tensor([0.3, 1000.0]), 1.0, "float8_e4m3fn", "float32")
    tensor([3.1250e-01, 4.4800e+02])
    """
    quantized = to_torch_dtype(quantized_dtype)
    compute = to_torch_dtype(compute_dtype)
    largest = float(torch.finfo(quantized).max)
    scale = to_tensor(scale).to(compute)
    x = to_tensor(inputs) / scale
    x = torch.clip(x, -largest, largest).to(quantized)
    return x.to(compute) * scale


def _check_nibble_dtype(dtype: str) -> None:
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")


def pack_int4(
    arr: TensorLike, axis: int = 0, dtype: str = "int8"
) -> tuple[torch.Tensor, tuple[int, ...], int]:
    """Pack int4 values (an int8/uint8 tensor of values in [-8, 7]) two per byte along
    `axis`: the first of each pair in the low nibble, the second in the high one (an odd
    length gets a zero appended).

    Returns:
        (packed tensor of `dtype`, its shape, the original length of `axis`).
    """
    _check_nibble_dtype(dtype)
    source = arr if isinstance(arr, np.ndarray) else to_tensor(arr)
    given = str(source.dtype).removeprefix("torch.")
    if given != dtype:
        raise TypeError(f"Expected {dtype} tensor for packing, got {given}.")
    array = source if isinstance(source, np.ndarray) else source.detach().cpu().numpy()
    axis = axis + array.ndim if axis < 0 else axis
    array = np.moveaxis(array, axis, 0)
    length = array.shape[0]
    if length % 2:
        array = np.concatenate([array, np.zeros((1, *array.shape[1:]), array.dtype)])
    kind = np.dtype(dtype)
    mask = np.array(0x0F, kind)
    low = np.bitwise_and(array[::2].astype(kind), mask)
    high = np.bitwise_and(array[1::2].astype(kind), mask)
    packed = np.bitwise_or(low, np.left_shift(high, np.array(4, kind))).astype(kind)
    packed = np.ascontiguousarray(np.moveaxis(packed, 0, axis))
    return torch.from_numpy(packed), tuple(packed.shape), length


def unpack_int4(
    packed: TensorLike, orig_len: int, axis: int = 0, dtype: str = "int8"
) -> torch.Tensor:
    """Undo `pack_int4`: two values per byte along `axis`, trimmed to `orig_len`; signed
    values in [-8, 7] for dtype 'int8', [0, 15] for 'uint8'."""
    _check_nibble_dtype(dtype)
    packed = to_tensor(packed)
    if packed.dtype not in (torch.int8, torch.uint8):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {packed.dtype}")
    axis = axis + packed.ndim if axis < 0 else axis
    moved = packed.movedim(axis, 0)
    low = torch.bitwise_and(moved, 0x0F)
    high = torch.bitwise_and(torch.bitwise_right_shift(moved, 4), 0x0F)
    if dtype == "int8":  # nibbles 8..15 are -8..-1
        low, high = torch.bitwise_xor(low, 8) - 8, torch.bitwise_xor(high, 8) - 8
    target = to_torch_dtype(dtype)
    stacked = torch.stack([low.to(target), high.to(target)], dim=1)
    unpacked = stacked.reshape(-1, *moved.shape[1:])[:orig_len]
    return unpacked.movedim(0, axis)
