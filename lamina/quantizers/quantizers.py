"""Quantizers and quantization arithmetic, as Keras 3's `keras.quantizers` functions.

Every function takes torch tensors or NumPy arrays (and Python numbers) and returns torch
tensors. Rounding is half-to-even (`torch.round`, `np.round`), as in Keras.

>>> import torch
>>> values, scale = abs_max_quantize(torch.tensor([[0.5, -1.0, 0.25]]), axis=-1)
>>> values.tolist(), values.dtype
([[63, -127, 32]], torch.int8)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..ops._dtypes import DTypeLike, TensorLike, to_torch_dtype
from ..ops._dtypes import tensor as to_tensor

__all__ = [
    "AbsMaxQuantizer",
    "Quantizer",
    "abs_max_quantize",
    "abs_max_quantize_grouped_with_zero_point",
    "compute_quantization_parameters",
    "dequantize_with_sz_map",
]

EPSILON = 1e-7  # Keras' backend.epsilon(), its default when these functions were defined


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _numpy_dtype(dtype: DTypeLike) -> np.dtype:
    return np.dtype(_dtype_name(to_torch_dtype(dtype)))


def _dims(axis: int | tuple[int, ...] | list[int], ndim: int) -> tuple[int, ...]:
    items = (axis,) if isinstance(axis, int) else tuple(axis)
    for item in items:
        if not -ndim <= item < ndim:
            raise ValueError(f"axis {item} is out of bounds for a tensor of rank {ndim}")
    return tuple(item % ndim for item in items)


class Quantizer:
    """Base class of quantizers: `quantizer(x)` returns the quantized tensor (and, for the
    subclasses, its scale).

    Args:
        output_dtype: the dtype of the quantized values.

    >>> Quantizer()(1.5)
    1.5
    """

    def __init__(self, output_dtype: str = "int8") -> None:
        self.output_dtype = output_dtype

    def __call__(self, x: Any) -> Any:
        return x

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Quantizer:
        """A quantizer from `get_config()`'s dict."""
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments; subclasses define it."""
        raise NotImplementedError(f"{self} does not implement get_config()")


def abs_max_quantize(
    inputs: TensorLike,
    axis: int | tuple[int, ...],
    value_range: tuple[int, int] = (-127, 127),
    dtype: str = "int8",
    epsilon: float = EPSILON,
    to_numpy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric quantization by the largest magnitude along `axis`:
    `scale = value_range[1] / (max|x| + epsilon)`, `q = clip(round(x * scale), *value_range)`.

    Args:
        inputs: the tensor to quantize.
        axis: the axis (or axes) reduced to compute each scale.
        value_range: (min, max) of the quantized values.
        dtype: the dtype of the quantized values.
        epsilon: added to the maximum, so all-zero slices do not divide by zero.
        to_numpy: compute on the host in NumPy (saves device memory for large weights).

    Returns:
        (quantized values, scale), the scale with the reduced axes kept as size 1, in the
        inputs' dtype.

    >>> q, scale = abs_max_quantize(torch.tensor([[1.0, 2.0], [-4.0, 0.5]]), axis=0)
    >>> q.tolist()
    [[32, 127], [-127, 32]]
    """
    if to_numpy:
        source = to_tensor(inputs)
        array = source.detach().cpu().float().numpy() if source.dtype == torch.bfloat16 else None
        array = source.detach().cpu().numpy() if array is None else array
        dims = _dims(axis, array.ndim)
        scale = np.divide(
            value_range[1], np.add(np.max(np.abs(array), axis=dims, keepdims=True), epsilon)
        )
        values = np.clip(np.round(np.multiply(array, scale)), value_range[0], value_range[1])
        values = torch.from_numpy(np.ascontiguousarray(values.astype(_numpy_dtype(dtype))))
        return values, torch.from_numpy(np.asarray(scale)).to(source.dtype)
    x = to_tensor(inputs)
    dims = _dims(axis, x.ndim)
    largest = torch.amax(torch.abs(x), dim=dims, keepdim=True) + epsilon
    # torch.div, not `number / tensor` (torch computes that as number * (1 / tensor)).
    scale = torch.div(torch.full_like(largest, value_range[1]), largest).to(x.dtype)
    values = torch.clip(torch.round(x * scale), value_range[0], value_range[1])
    return values.to(to_torch_dtype(dtype)), scale


def abs_max_quantize_grouped_with_zero_point(
    inputs: TensorLike,
    block_size: int,
    value_range: tuple[int, int] = (-8, 7),
    dtype: str = "int8",
    epsilon: float = EPSILON,
    to_numpy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Asymmetric quantization of a 2-D (input_dim, output_dim) tensor in groups of
    `block_size` rows: each group and column gets a scale and a zero point.

    Returns:
        (quantized (input_dim, output_dim) of `dtype`, scale (n_groups, output_dim) in the
        inputs' dtype, zero point (n_groups, output_dim) int8), n_groups =
        ceil(input_dim / block_size); rows past input_dim count as zeros.

    >>> q, scale, zero = abs_max_quantize_grouped_with_zero_point(torch.ones(4, 2), 2)
    >>> tuple(q.shape), tuple(scale.shape), zero.dtype
    ((4, 2), (2, 2), torch.int8)
    """
    x = to_tensor(inputs)
    if x.ndim != 2:
        raise ValueError(
            "abs_max_quantize_grouped_with_zero_point expects a 2-D (input_dim, output_dim) "
            f"tensor; got shape {tuple(x.shape)}"
        )
    if not isinstance(block_size, int) or block_size <= 0:
        raise ValueError(f"block_size must be a positive int; got {block_size!r}")
    input_dim, output_dim = x.shape
    groups = math.ceil(input_dim / block_size)
    qmin, qmax = value_range
    if to_numpy:
        array = x.detach().cpu().float().numpy()
        padded = np.zeros((groups * block_size, output_dim), array.dtype)
        padded[:input_dim] = array
        blocks = padded.reshape(groups, block_size, output_dim)
        low = blocks.min(axis=1, keepdims=True)
        high = blocks.max(axis=1, keepdims=True)
        scale = np.divide(np.subtract(high, low) + np.float32(epsilon), qmax - qmin)
        zero = np.clip(np.round(np.divide(-low, scale)) + qmin, qmin, qmax)
        values = np.clip(np.round(np.divide(blocks, scale)) + zero, qmin, qmax)
        values = values.astype(_numpy_dtype(dtype)).reshape(-1, output_dim)[:input_dim]
        return (
            torch.from_numpy(np.ascontiguousarray(values)),
            torch.from_numpy(scale[:, 0]).to(x.dtype),
            torch.from_numpy(zero[:, 0].astype(np.int8)),
        )
    bits = int(math.log2(qmax - qmin + 1))
    scale_t, zero_t, _ = compute_quantization_parameters(
        x.T,
        bits=bits,
        per_channel=True,
        group_size=block_size,
        compute_dtype=_dtype_name(x.dtype),
        epsilon=epsilon,
        signed=True,
    )
    scale, zero = scale_t.T, zero_t.T
    padded = torch.cat([x, x.new_zeros(groups * block_size - input_dim, output_dim)])
    blocks = padded.reshape(groups, block_size, output_dim)
    values = torch.round(blocks / scale[:, None]) + zero[:, None].to(scale.dtype)
    values = torch.clip(values, qmin, qmax).to(to_torch_dtype(dtype))
    return values.reshape(-1, output_dim)[:input_dim], scale, zero


def compute_quantization_parameters(
    x: TensorLike,
    *,
    bits: int,
    symmetric: bool = False,
    per_channel: bool = False,
    group_size: int = -1,
    compute_dtype: str = "float32",
    epsilon: float = 0.0,
    signed: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scale and zero point of an (out_features, in_features) weight, per tensor, per row or
    per group of `group_size` columns. Returns (scale, zero, maxq): scale and zero are
    (out_features, n_groups) ((out_features, 1) without groups), zero int8 when `signed`
    else uint8, maxq = 2**bits - 1."""
    x = to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"The weight must have rank >= 2; got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError("The weight tensor cannot be empty.")
    out_features, in_features = x.shape[0], x.shape[1]
    groups = (in_features + group_size - 1) // group_size if per_channel and group_size > 0 else 1
    if groups > 1:
        pad = groups * group_size - in_features
        x = torch.nn.functional.pad(x, (0, pad)) if pad else x
        grouped = x.reshape(out_features, groups, group_size)
        low, high = grouped.amin(dim=2), grouped.amax(dim=2)
    else:
        flat = x.reshape(out_features if per_channel else 1, -1)
        low, high = flat.amin(dim=1), flat.amax(dim=1)
    if symmetric:
        largest = torch.maximum(low.abs(), high)
        low, high = torch.where(low < 0, -largest, low), largest
    same = low == high
    low, high = torch.where(same, low - 1, low), torch.where(same, high + 1, high)
    maxq = torch.tensor(2.0**bits - 1, dtype=to_torch_dtype(compute_dtype))
    spread = high - low
    if epsilon > 0:
        spread = spread + epsilon
    scale = spread / maxq
    scale = torch.where(scale <= 0, torch.full_like(scale, 1e-8), scale)
    if symmetric:
        zero = torch.full_like(scale, (maxq.item() + 1) / 2 + (-(2 ** (bits - 1)) if signed else 0))
    else:
        zero = torch.round(-low / scale) + (-(2 ** (bits - 1)) if signed else 0)
    if signed:
        zero = torch.clip(zero, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if groups == 1:
        scale, zero = scale.reshape(-1, 1), zero.reshape(-1, 1)
        if not per_channel:
            scale, zero = scale.expand(out_features, 1), zero.expand(out_features, 1)
    return scale, zero.to(torch.int8 if signed else torch.uint8), maxq


def dequantize_with_sz_map(
    weights_matrix: TensorLike,
    scale: TensorLike,
    zero: TensorLike,
    g_idx: TensorLike,
    group_axis: int = -1,
) -> torch.Tensor:
    """`(weights - zero[g]) * scale[g]`, the group `g` of each position along the weights'
    axis read from `g_idx`, the groups lying along `group_axis` of `scale` and `zero`."""
    groups = to_tensor(g_idx).to(torch.int64)
    scale = to_tensor(scale)
    scales = torch.index_select(scale, group_axis, groups)
    zeros = torch.index_select(to_tensor(zero), group_axis, groups).to(scales.dtype)
    return (to_tensor(weights_matrix) - zeros) * scales


class AbsMaxQuantizer(Quantizer):
    """`abs_max_quantize` as an object: `quantizer(x, axis=None, to_numpy=False)` returns
    (quantized values, scale).

    Args:
        axis: the reduced axis (deprecated in Keras: give it to the call); the call's
            default is then -1.
        value_range: (min, max) of the quantized values.
        epsilon: added to the maximum before dividing.
        output_dtype: the dtype of the quantized values.

    >>> q, scale = AbsMaxQuantizer()(torch.tensor([[2.0, -1.0]]))
    >>> q.tolist(), round(scale.item(), 2)
    ([[127, -64]], 63.5)
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] | None = None,
        value_range: tuple[int, int] = (-127, 127),
        epsilon: float = EPSILON,
        output_dtype: str = "int8",
    ) -> None:
        super().__init__(output_dtype=output_dtype)
        self.axis = None if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
        self.value_range = value_range
        self.epsilon = epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "AbsMaxQuantizer with output_dtype='int8' needs value_range within "
                f"[-128, 127]; got value_range={value_range}"
            )

    def __call__(  # type: ignore[override]
        self, x: TensorLike, axis: int | tuple[int, ...] | None = None, to_numpy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if axis is None:
            axis = self.axis if self.axis is not None else -1
        return abs_max_quantize(
            x, axis, self.value_range, self.output_dtype, self.epsilon, to_numpy
        )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "value_range": self.value_range,
            "epsilon": self.epsilon,
            "output_dtype": self.output_dtype,
        }
        if self.axis is not None:
            config["axis"] = self.axis
        return config
