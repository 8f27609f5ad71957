"""Reductions, scans and sorting, with Keras' result dtypes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .._dtypes import (
    Axis,
    DTypeLike,
    TensorLike,
    axes,
    narrow_64,
    narrow_64_dtype,
    sum_dtype,
    tensor,
    to_float,
    to_torch_dtype,
)


def _dims(x: Tensor, axis: Axis) -> tuple[int, ...]:
    dims = axes(axis, x.dim())
    return tuple(range(x.dim())) if dims is None else dims


def _keep_scalar_rank(x: Tensor, result: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    # torch reduces a 0-d tensor to 0-d; with keepdims and axis=None every axis stays as size 1.
    if keepdims and axis is None:
        return result.reshape((1,) * x.dim())
    return result


def _is_empty_axis(axis: Axis) -> bool:
    return isinstance(axis, tuple | list) and len(axis) == 0


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The arithmetic mean over `axis` (ints become floatx)."""
    x = to_float(x)
    if _is_empty_axis(axis):
        return x
    return torch.mean(x, dim=_dims(x, axis), keepdim=keepdims)


def sum(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The sum over `axis` (bool and small ints accumulate in int32)."""
    x = tensor(x)
    if _is_empty_axis(axis):
        return x
    result = torch.sum(x, dim=_dims(x, axis), keepdim=keepdims)
    return result.to(sum_dtype(x.dtype))


def prod(
    x: TensorLike, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike = None
) -> Tensor:
    """The product over `axis`."""
    x = tensor(x)
    # Keras: int64 and float64 give int32 and float32, unless `dtype` says otherwise.
    target = sum_dtype(narrow_64_dtype(x.dtype)) if dtype is None else to_torch_dtype(dtype)
    x = x.to(target)
    for dim in sorted(_dims(x, axis), reverse=True):
        x = torch.prod(x, dim=dim, keepdim=keepdims)
    # torch accumulates integers in int64.
    return x.to(target)


def _extreme(x: TensorLike, axis: Axis, keepdims: bool, largest: bool) -> Tensor:
    x = tensor(x)
    reduce = torch.amax if largest else torch.amin
    return reduce(x, dim=_dims(x, axis), keepdim=keepdims) if x.dim() else x


def max(
    x: TensorLike, axis: Axis = None, keepdims: bool = False, initial: float | None = None
) -> Tensor:
    """The maximum over `axis`, at least `initial` when given."""
    result = _extreme(x, axis, keepdims, largest=True)
    return result if initial is None else torch.clamp(result, min=initial)


def min(
    x: TensorLike, axis: Axis = None, keepdims: bool = False, initial: float | None = None
) -> Tensor:
    """The minimum over `axis`, at most `initial` when given."""
    result = _extreme(x, axis, keepdims, largest=False)
    return result if initial is None else torch.clamp(result, max=initial)


def amax(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The maximum over `axis`."""
    return _extreme(x, axis, keepdims, largest=True)


def amin(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The minimum over `axis`."""
    return _extreme(x, axis, keepdims, largest=False)


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population variance (ddof=0) over `axis` (float64 gives float32, as Keras)."""
    x = narrow_64(to_float(x))
    return torch.var(x, dim=_dims(x, axis), correction=0, keepdim=keepdims)


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation (ddof=0) over `axis`."""
    x = to_float(x)
    return torch.std(x, dim=_dims(x, axis), correction=0, keepdim=keepdims)


def all(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """True where every element over `axis` is nonzero."""
    x = tensor(x)
    return torch.all(x, dim=_dims(x, axis), keepdim=keepdims) if x.dim() else x.bool()


def any(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """True where some element over `axis` is nonzero."""
    x = tensor(x)
    return torch.any(x, dim=_dims(x, axis), keepdim=keepdims) if x.dim() else x.bool()


def count_nonzero(x: TensorLike, axis: Axis = None) -> Tensor:
    """The number of nonzero elements over `axis`, as int32."""
    x = tensor(x)
    return torch.count_nonzero(x, dim=_dims(x, axis)).to(torch.int32)


def _arg_extreme(x: TensorLike, axis: int | None, keepdims: bool, largest: bool) -> Tensor:
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    function = torch.argmax if largest else torch.argmin
    return function(x, dim=axis, keepdim=keepdims).to(torch.int32)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the maximum along `axis` (of the flattened tensor if None), as int32."""
    return _arg_extreme(x, axis, keepdims, largest=True)


def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the minimum along `axis` (of the flattened tensor if None), as int32."""
    return _arg_extreme(x, axis, keepdims, largest=False)


def argsort(x: TensorLike, axis: int | None = -1) -> Tensor:
    """The indices that sort `x` along `axis` (stable), as int32."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def sort(x: TensorLike, axis: int | None = -1) -> Tensor:
    """`x` sorted in ascending order along `axis`."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


def _scan(
    x: TensorLike, axis: int | None, dtype: DTypeLike, function: Callable[..., Tensor]
) -> Tensor:
    x = tensor(x)
    # Keras keeps the input dtype for scans (small ints too); only bool widens to int32, and
    # 64-bit dtypes (also a 64-bit `dtype`) narrow to 32 bits.
    target = x.dtype if dtype is None else to_torch_dtype(dtype)
    target = torch.int32 if target == torch.bool else narrow_64_dtype(target)
    if axis is None:
        x, axis = x.reshape(-1), 0
    compute = torch.float32 if target == torch.float16 and x.device.type == "cpu" else target
    return function(x.to(compute), dim=axis).to(target)


def cumsum(x: TensorLike, axis: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """The running sum along `axis` (of the flattened tensor if None)."""
    return _scan(x, axis, dtype, torch.cumsum)


def cumprod(x: TensorLike, axis: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """The running product along `axis` (of the flattened tensor if None)."""
    return _scan(x, axis, dtype, torch.cumprod)


def average(x: TensorLike, axis: int | None = None, weights: TensorLike | None = None) -> Tensor:
    """The mean over `axis`, weighted by `weights` (1-D along `axis`, or x's shape) when given
    (float64 gives float32, as Keras)."""
    x = narrow_64(to_float(x))
    if weights is None:
        return mean(x, axis=axis)
    weights = tensor(weights).to(x.dtype).to(x.device)
    if axis is not None and weights.dim() == 1 and x.dim() > 1:
        shape = [1] * x.dim()
        shape[axis] = -1
        weights = weights.reshape(shape)
    weights = torch.broadcast_to(weights, x.shape)
    dims = _dims(x, axis)
    return torch.sum(x * weights, dim=dims) / torch.sum(weights, dim=dims)


def quantile_input(x: TensorLike) -> tuple[Tensor, torch.dtype]:
    """`x` as float32/float64 for torch's quantiles, and the dtype Keras returns: float16 and
    bfloat16 are computed in float32 and cast back, ints give floatx, float64 float32."""
    x = narrow_64(to_float(x))
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float(), x.dtype
    return x, x.dtype


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(
    x: TensorLike,
    q: TensorLike,
    axis: Axis = None,
    method: str = "linear",
    keepdims: bool = False,
) -> Tensor:
    """The `q`-th quantiles (q in [0, 1]) over `axis`; a vector q adds a leading axis."""
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile method must be one of {_QUANTILE_METHODS}; got {method!r}")
    x, result_dtype = quantile_input(x)
    q = tensor(q).to(x.dtype).to(x.device)
    dims = _dims(x, axis)
    kept = [d for d in range(x.dim()) if d not in dims]
    # Move the reduced axes to the end and flatten them, since torch.quantile takes one dim.
    moved = x.permute(*kept, *dims).reshape([x.shape[d] for d in kept] + [-1])
    result = torch.quantile(moved, q, dim=-1, interpolation=method)
    if keepdims:
        shape = [1 if d in dims else x.shape[d] for d in range(x.dim())]
        result = result.reshape(tuple(q.shape) + tuple(shape))
    return result.to(result_dtype)


def median(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The median over `axis` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)
