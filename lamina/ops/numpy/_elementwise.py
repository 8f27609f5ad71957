"""Elementwise arithmetic, comparisons and logic, with Keras' dtype promotion."""

from __future__ import annotations

import torch
from torch import Tensor

from .._dtypes import TensorLike, floatx, narrow_64, promote, tensor, to_float


def _float_pair(x1: TensorLike, x2: TensorLike, narrow: bool = True) -> tuple[Tensor, Tensor]:
    # Keras: result_type(x1, x2, float), so float64 operands give float32 (not in divide).
    a, b = promote(x1, x2)
    if not a.dtype.is_floating_point:
        a, b = a.to(floatx()), b.to(floatx())
    return (narrow_64(a), narrow_64(b)) if narrow else (a, b)


def abs(x: TensorLike) -> Tensor:
    """|x|, elementwise (bools are returned as they are)."""
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


def absolute(x: TensorLike) -> Tensor:
    """|x|, elementwise (alias of `abs`)."""
    return abs(x)


def negative(x: TensorLike) -> Tensor:
    """-x, elementwise."""
    return torch.negative(tensor(x))


def square(x: TensorLike) -> Tensor:
    """x * x, elementwise (bools become int32)."""
    x = tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


def sign(x: TensorLike) -> Tensor:
    """-1, 0 or 1 with the sign of x, in x's dtype."""
    return torch.sign(tensor(x))


def sqrt(x: TensorLike) -> Tensor:
    """The square root, elementwise (ints become floatx)."""
    return torch.sqrt(to_float(x))


def exp(x: TensorLike) -> Tensor:
    """e ** x, elementwise."""
    return torch.exp(to_float(x))


def exp2(x: TensorLike) -> Tensor:
    """2 ** x, elementwise."""
    return torch.exp2(to_float(x))


def expm1(x: TensorLike) -> Tensor:
    """exp(x) - 1, accurate near zero."""
    return torch.expm1(to_float(x))


def log(x: TensorLike) -> Tensor:
    """The natural logarithm, elementwise."""
    return torch.log(to_float(x))


def log1p(x: TensorLike) -> Tensor:
    """log(1 + x), accurate near zero."""
    return torch.log1p(to_float(x))


def log2(x: TensorLike) -> Tensor:
    """The base-2 logarithm, elementwise."""
    return torch.log2(to_float(x))


def log10(x: TensorLike) -> Tensor:
    """The base-10 logarithm, elementwise."""
    return torch.log10(to_float(x))


def sin(x: TensorLike) -> Tensor:
    """The sine, elementwise."""
    return torch.sin(to_float(x))


def cos(x: TensorLike) -> Tensor:
    """The cosine, elementwise."""
    return torch.cos(to_float(x))


def tan(x: TensorLike) -> Tensor:
    """The tangent, elementwise."""
    return torch.tan(to_float(x))


def arcsin(x: TensorLike) -> Tensor:
    """The inverse sine, elementwise."""
    return torch.asin(to_float(x))


def arccos(x: TensorLike) -> Tensor:
    """The inverse cosine, elementwise."""
    return torch.acos(to_float(x))


def arctan(x: TensorLike) -> Tensor:
    """The inverse tangent, elementwise."""
    return torch.atan(to_float(x))


def sinh(x: TensorLike) -> Tensor:
    """The hyperbolic sine, elementwise."""
    return torch.sinh(to_float(x))


def cosh(x: TensorLike) -> Tensor:
    """The hyperbolic cosine, elementwise."""
    return torch.cosh(to_float(x))


def tanh(x: TensorLike) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    return torch.tanh(to_float(x))


def arcsinh(x: TensorLike) -> Tensor:
    """The inverse hyperbolic sine, elementwise."""
    return torch.asinh(to_float(x))


def arccosh(x: TensorLike) -> Tensor:
    """The inverse hyperbolic cosine, elementwise."""
    return torch.acosh(to_float(x))


def arctanh(x: TensorLike) -> Tensor:
    """The inverse hyperbolic tangent, elementwise."""
    return torch.atanh(to_float(x))


def reciprocal(x: TensorLike) -> Tensor:
    """1 / x, elementwise (ints become floatx)."""
    return torch.reciprocal(to_float(x))


def floor(x: TensorLike) -> Tensor:
    """The largest integer <= x, as a float (float64 gives float32, as Keras)."""
    return torch.floor(narrow_64(to_float(x)))


def ceil(x: TensorLike) -> Tensor:
    """The smallest integer >= x, as a float (float64 gives float32, as Keras)."""
    return torch.ceil(narrow_64(to_float(x)))


def trunc(x: TensorLike) -> Tensor:
    """x rounded towards zero, in x's dtype."""
    x = tensor(x)
    return x if not x.dtype.is_floating_point else torch.trunc(x)


def round(x: TensorLike, decimals: int = 0) -> Tensor:
    """Round half to even, to `decimals` decimal places."""
    x = tensor(x)
    if not x.dtype.is_floating_point:
        return x if decimals >= 0 else torch.round(x.to(floatx()), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


def isnan(x: TensorLike) -> Tensor:
    """True where x is NaN."""
    return torch.isnan(tensor(x))


def isinf(x: TensorLike) -> Tensor:
    """True where x is +-inf."""
    return torch.isinf(tensor(x))


def isfinite(x: TensorLike) -> Tensor:
    """True where x is neither NaN nor +-inf."""
    return torch.isfinite(tensor(x))


def nan_to_num(
    x: TensorLike, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """Replace NaN with `nan` and +-inf with `posinf`/`neginf` (default: the dtype's extremes)."""
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def clip(x: TensorLike, x_min: TensorLike, x_max: TensorLike) -> Tensor:
    """Limit x to [x_min, x_max] (bools become int32)."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    x, low = promote(x, x_min)
    x, high = promote(x, x_max)
    return torch.clamp(x, low.to(x.dtype), high)


def add(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 + x2, elementwise with broadcasting."""
    a, b = promote(x1, x2)
    return torch.logical_or(a, b) if a.dtype == torch.bool else torch.add(a, b)


def subtract(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 - x2, elementwise with broadcasting."""
    a, b = promote(x1, x2)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.subtract(a, b)


def multiply(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 * x2, elementwise with broadcasting."""
    a, b = promote(x1, x2)
    return torch.multiply(a, b)


def divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 / x2, elementwise (ints become floatx)."""
    a, b = _float_pair(x1, x2, narrow=False)
    return torch.divide(a, b)


def true_divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 / x2, elementwise (alias of `divide`)."""
    return divide(x1, x2)


def floor_divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    """floor(x1 / x2), elementwise, in the promoted dtype (64-bit ones narrowed, as Keras)."""
    a, b = promote(x1, x2)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return narrow_64(torch.floor_divide(a, b))


def mod(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The remainder of x1 / x2 with the sign of x2 (Python's %)."""
    a, b = promote(x1, x2)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.remainder(a, b)


def power(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 ** x2, elementwise."""
    a, b = promote(x1, x2)
    return torch.pow(a, b)


def maximum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The larger of x1 and x2, elementwise (64-bit dtypes narrowed, as Keras)."""
    a, b = promote(x1, x2)
    return torch.maximum(narrow_64(a), narrow_64(b))


def minimum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The smaller of x1 and x2, elementwise (64-bit dtypes narrowed, as Keras)."""
    a, b = promote(x1, x2)
    return torch.minimum(narrow_64(a), narrow_64(b))


def arctan2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The angle of the point (x2, x1), in radians."""
    a, b = _float_pair(x1, x2)
    return torch.atan2(a, b)


def hypot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """sqrt(x1**2 + x2**2), elementwise."""
    a, b = _float_pair(x1, x2)
    return torch.hypot(a, b)


def logaddexp(x1: TensorLike, x2: TensorLike) -> Tensor:
    """log(exp(x1) + exp(x2)), without overflow."""
    a, b = _float_pair(x1, x2)
    return torch.logaddexp(a, b)


def equal(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 == x2, elementwise."""
    return torch.eq(*promote(x1, x2))


def not_equal(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 != x2, elementwise."""
    return torch.ne(*promote(x1, x2))


def greater(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 > x2, elementwise."""
    return torch.gt(*promote(x1, x2))


def greater_equal(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 >= x2, elementwise."""
    return torch.ge(*promote(x1, x2))


def less(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 < x2, elementwise."""
    return torch.lt(*promote(x1, x2))


def less_equal(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 <= x2, elementwise."""
    return torch.le(*promote(x1, x2))


def logical_and(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 and x2 (nonzero is true), elementwise."""
    return torch.logical_and(*promote(x1, x2))


def logical_or(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 or x2 (nonzero is true), elementwise."""
    return torch.logical_or(*promote(x1, x2))


def logical_xor(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 xor x2 (nonzero is true), elementwise."""
    return torch.logical_xor(*promote(x1, x2))


def logical_not(x: TensorLike) -> Tensor:
    """not x (nonzero is true), elementwise."""
    return torch.logical_not(tensor(x))
