"""Reductions that skip NaNs, percentiles and the peak-to-peak range, with Keras' dtypes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .._dtypes import Axis, DTypeLike, TensorLike, narrow_64, sum_dtype, tensor, to_float
from ._reductions import _QUANTILE_METHODS, _dims, _scan, amax, amin, quantile, quantile_input


def _filled(x: TensorLike, value: float) -> Tensor:
    # NaN only exists in floats: other dtypes pass through unchanged.
    x = tensor(x)
    if not x.dtype.is_floating_point:
        return x
    return torch.where(torch.isnan(x), torch.full_like(x, value), x)


def nansum(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The sum over `axis`, treating NaNs as zero."""
    x = tensor(x)
    return torch.nansum(x, dim=_dims(x, axis), keepdim=keepdims).to(sum_dtype(x.dtype))


def nanmean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The mean over `axis` of the values that are not NaN (float64 gives float32, as Keras)."""
    x = narrow_64(to_float(x))
    return torch.nanmean(x, dim=_dims(x, axis), keepdim=keepdims)


def nanprod(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The product over `axis`, treating NaNs as one."""
    x = _filled(x, 1.0)
    target = sum_dtype(x.dtype)
    x = x.to(target)
    for dim in sorted(_dims(x, axis), reverse=True):
        x = torch.prod(x, dim=dim, keepdim=keepdims)
    return x.to(target)


def _nan_extreme(x: TensorLike, axis: Axis, keepdims: bool, largest: bool) -> Tensor:
    x = tensor(x)
    if not x.dtype.is_floating_point:
        return (amax if largest else amin)(x, axis=axis, keepdims=keepdims)
    fill = -float("inf") if largest else float("inf")
    result = (amax if largest else amin)(_filled(x, fill), axis=axis, keepdims=keepdims)
    # A slice of NaNs only has no extreme: NaN, as NumPy.
    all_nan = torch.isnan(x)
    all_nan = torch.all(all_nan, dim=_dims(x, axis), keepdim=keepdims) if x.dim() else all_nan
    return torch.where(all_nan, torch.full_like(result, float("nan")), result)


def nanmax(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The maximum over `axis`, ignoring NaNs."""
    return _nan_extreme(x, axis, keepdims, largest=True)


def nanmin(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The minimum over `axis`, ignoring NaNs."""
    return _nan_extreme(x, axis, keepdims, largest=False)


def nanvar(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population variance over `axis` of the values that are not NaN (float64 gives
    float32, as Keras)."""
    x = narrow_64(to_float(x))
    dims = _dims(x, axis)
    centered = x - torch.nanmean(x, dim=dims, keepdim=True)
    return torch.nanmean(centered * centered, dim=dims, keepdim=keepdims)


def nanstd(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation over `axis` of the values that are not NaN."""
    return torch.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_arg_extreme(x: TensorLike, axis: int | None, keepdims: bool, largest: bool) -> Tensor:
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    x = _filled(x, -float("inf") if largest else float("inf"))
    function = torch.argmax if largest else torch.argmin
    return function(x, dim=axis, keepdim=keepdims).to(torch.int32)


def nanargmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the maximum along `axis`, ignoring NaNs, as int32."""
    return _nan_arg_extreme(x, axis, keepdims, largest=True)


def nanargmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the minimum along `axis`, ignoring NaNs, as int32."""
    return _nan_arg_extreme(x, axis, keepdims, largest=False)


def nancumsum(x: TensorLike, axis: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """The running sum along `axis`, treating NaNs as zero."""
    return _scan(_filled(x, 0.0), axis, dtype, torch.cumsum)


def nancumprod(x: TensorLike, axis: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """The running product along `axis`, treating NaNs as one."""
    return _scan(_filled(x, 1.0), axis, dtype, torch.cumprod)


def _flat_quantile(
    x: Tensor,
    q: TensorLike,
    axis: Axis,
    method: str,
    keepdims: bool,
    function: Callable[..., Tensor],
) -> Tensor:
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile method must be one of {_QUANTILE_METHODS}; got {method!r}")
    q = tensor(q).to(x.dtype).to(x.device)
    dims = _dims(x, axis)
    kept = [d for d in range(x.dim()) if d not in dims]
    # torch's quantiles take one dim: the reduced axes move to the end, flattened.
    moved = x.permute(*kept, *dims).reshape([x.shape[d] for d in kept] + [-1])
    result = function(moved, q, dim=-1, interpolation=method)
    if keepdims:
        shape = [1 if d in dims else x.shape[d] for d in range(x.dim())]
        result = result.reshape(tuple(q.shape) + tuple(shape))
    return result


def nanquantile(
    x: TensorLike, q: TensorLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The `q`-th quantiles (q in [0, 1]) over `axis`, ignoring NaNs."""
    x, result_dtype = quantile_input(x)
    return _flat_quantile(x, q, axis, method, keepdims, torch.nanquantile).to(result_dtype)


def nanmedian(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The median over `axis`, ignoring NaNs."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def _fraction(q: TensorLike) -> Tensor:
    return to_float(q) / 100.0


def percentile(
    x: TensorLike, q: TensorLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The `q`-th percentiles (q in [0, 100]) over `axis`; a vector q adds a leading axis."""
    return quantile(x, _fraction(q), axis=axis, method=method, keepdims=keepdims)


def nanpercentile(
    x: TensorLike, q: TensorLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The `q`-th percentiles (q in [0, 100]) over `axis`, ignoring NaNs."""
    return nanquantile(x, _fraction(q), axis=axis, method=method, keepdims=keepdims)


def ptp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The range (maximum - minimum) over `axis`."""
    return amax(x, axis=axis, keepdims=keepdims) - amin(x, axis=axis, keepdims=keepdims)
