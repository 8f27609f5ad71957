"""Elementwise extras: cube roots, angles, complex parts, bitwise logic, gcd/lcm, closeness."""

from __future__ import annotations

import torch
from torch import Tensor

from .._dtypes import TensorLike, floatx, narrow_64, promote, tensor, to_float
from ._elementwise import _float_pair


def _int64_as_float64(x: TensorLike) -> Tensor:
    # Keras' cbrt, deg2rad and rad2deg give float64 for int64, floatx for other ints.
    x = tensor(x)
    return x.to(torch.float64) if x.dtype == torch.int64 else to_float(x)


def cbrt(x: TensorLike) -> Tensor:
    """The real cube root, elementwise (int64 becomes float64, other ints floatx)."""
    x = _int64_as_float64(x)
    return torch.sign(x) * torch.pow(torch.abs(x), 1.0 / 3.0)


def deg2rad(x: TensorLike) -> Tensor:
    """Degrees to radians, elementwise (int64 becomes float64, other ints floatx)."""
    return torch.deg2rad(_int64_as_float64(x))


def rad2deg(x: TensorLike) -> Tensor:
    """Radians to degrees, elementwise (int64 becomes float64, other ints floatx)."""
    return torch.rad2deg(_int64_as_float64(x))


def fabs(x: TensorLike) -> Tensor:
    """|x| as a float, elementwise."""
    return torch.abs(to_float(x))


def i0(x: TensorLike) -> Tensor:
    """The modified Bessel function of the first kind, order 0."""
    return torch.special.i0(to_float(x))


def sinc(x: TensorLike) -> Tensor:
    """sin(pi x) / (pi x), with sinc(0) = 1."""
    return torch.sinc(to_float(x))


def signbit(x: TensorLike) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0)."""
    x = tensor(x)
    return torch.signbit(x) if x.dtype != torch.bool else torch.zeros_like(x)


def isneginf(x: TensorLike) -> Tensor:
    """True where x is -inf."""
    return torch.isneginf(tensor(x))


def isposinf(x: TensorLike) -> Tensor:
    """True where x is +inf."""
    return torch.isposinf(tensor(x))


def isreal(x: TensorLike) -> Tensor:
    """True where x has no imaginary part."""
    return torch.isreal(tensor(x))


def real(x: TensorLike) -> Tensor:
    """The real part of x (x itself for real tensors)."""
    return torch.real(tensor(x))


def imag(x: TensorLike) -> Tensor:
    """The imaginary part of x (zeros for real tensors)."""
    x = tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def conj(x: TensorLike) -> Tensor:
    """The complex conjugate, elementwise."""
    return torch.conj(tensor(x)).resolve_conj()


def conjugate(x: TensorLike) -> Tensor:
    """The complex conjugate, elementwise (alias of `conj`)."""
    return conj(x)


def angle(x: TensorLike) -> Tensor:
    """The argument of each (complex) element, in radians."""
    return torch.angle(to_float(x))


def copy(x: TensorLike) -> Tensor:
    """A copy of x that shares no memory with it."""
    return tensor(x).clone()


def fmod(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The remainder of x1 / x2 with the sign of x1 (C's fmod)."""
    a, b = promote(x1, x2)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.fmod(a, b)


def fmax(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The larger of x1 and x2, elementwise, ignoring NaNs (64-bit dtypes narrowed, as Keras)."""
    return narrow_64(torch.fmax(*promote(x1, x2)))


def fmin(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The smaller of x1 and x2, elementwise, ignoring NaNs (64-bit dtypes narrowed, as Keras)."""
    return narrow_64(torch.fmin(*promote(x1, x2)))


def heaviside(x1: TensorLike, x2: TensorLike) -> Tensor:
    """0 where x1 < 0, 1 where x1 > 0, x2 where x1 == 0."""
    a, b = promote(x1, x2)
    if not a.dtype.is_floating_point:
        a, b = a.to(floatx()), b.to(floatx())
    return torch.heaviside(narrow_64(a), narrow_64(b))


def divide_no_nan(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 / x2, with 0 wherever x2 is 0."""
    a, b = _float_pair(x1, x2)
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, 1, b))


def logaddexp2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """log2(2**x1 + 2**x2), without overflow."""
    return torch.logaddexp2(*_float_pair(x1, x2))


def nextafter(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The next representable float after x1 towards x2."""
    return torch.nextafter(*_float_pair(x1, x2))


def ldexp(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 * 2**x2, elementwise (x2 holds integers; float64 x1 gives float32, as Keras)."""
    x1, x2 = narrow_64(to_float(x1)), tensor(x2)
    if x2.dtype.is_floating_point:
        raise TypeError(f"ldexp expects integer exponents x2; got dtype {x2.dtype}")
    return torch.ldexp(x1, x2.to(x1.device)).to(x1.dtype)


def isclose(
    x1: TensorLike,
    x2: TensorLike,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """True where |x1 - x2| <= atol + rtol * |x2|."""
    a, b = promote(x1, x2)
    return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(
    x1: TensorLike,
    x2: TensorLike,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """True if `isclose` holds everywhere (a 0-d bool tensor)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _int_pair(x1: TensorLike, x2: TensorLike, name: str) -> tuple[Tensor, Tensor]:
    a, b = promote(x1, x2)
    if a.dtype.is_floating_point or a.dtype.is_complex:
        raise TypeError(f"{name} expects integer or bool tensors; got dtype {a.dtype}")
    return a, b


def bitwise_and(x: TensorLike, y: TensorLike) -> Tensor:
    """x & y, bit by bit."""
    return torch.bitwise_and(*_int_pair(x, y, "bitwise_and"))


def bitwise_or(x: TensorLike, y: TensorLike) -> Tensor:
    """x | y, bit by bit."""
    return torch.bitwise_or(*_int_pair(x, y, "bitwise_or"))


def bitwise_xor(x: TensorLike, y: TensorLike) -> Tensor:
    """x ^ y, bit by bit."""
    return torch.bitwise_xor(*_int_pair(x, y, "bitwise_xor"))


def bitwise_invert(x: TensorLike) -> Tensor:
    """~x, bit by bit (logical not for bools)."""
    return torch.bitwise_not(_int_pair(x, 0, "bitwise_invert")[0])


def bitwise_not(x: TensorLike) -> Tensor:
    """~x, bit by bit (alias of `bitwise_invert`)."""
    return bitwise_invert(x)


def bitwise_left_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x << y, elementwise."""
    return torch.bitwise_left_shift(*_int_pair(x, y, "bitwise_left_shift"))


def bitwise_right_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x >> y (arithmetic shift), elementwise."""
    return torch.bitwise_right_shift(*_int_pair(x, y, "bitwise_right_shift"))


def left_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x << y, elementwise (alias of `bitwise_left_shift`)."""
    return bitwise_left_shift(x, y)


def right_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x >> y, elementwise (alias of `bitwise_right_shift`)."""
    return bitwise_right_shift(x, y)


def gcd(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The greatest common divisor of |x1| and |x2|, elementwise."""
    return torch.gcd(*_int_pair(x1, x2, "gcd"))


def lcm(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The least common multiple of |x1| and |x2|, elementwise."""
    return torch.lcm(*_int_pair(x1, x2, "lcm"))
