"""Creation extras: window functions, log- and geometric spaces, Vandermonde matrices."""

from __future__ import annotations

import torch
from torch import Tensor

from .._dtypes import DTypeLike, TensorLike, floatx, sum_dtype, tensor, to_torch_dtype
from ._creation import linspace


def array(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """`x` as a tensor (as `convert_to_tensor`), cast to `dtype` when given."""
    return tensor(x, dtype)


def empty_like(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """An uninitialised tensor of x's shape, in `dtype` (default: x's)."""
    x = tensor(x)
    return torch.empty_like(x, dtype=x.dtype if dtype is None else to_torch_dtype(dtype))


def _window_length(x: TensorLike) -> int:
    return int(tensor(x))


def bartlett(x: TensorLike) -> Tensor:
    """The triangular Bartlett window of `x` points (symmetric, as NumPy's)."""
    return torch.signal.windows.bartlett(_window_length(x), dtype=floatx())


def blackman(x: TensorLike) -> Tensor:
    """The Blackman window of `x` points (symmetric, as NumPy's)."""
    return torch.signal.windows.blackman(_window_length(x), dtype=floatx())


def hamming(x: TensorLike) -> Tensor:
    """The Hamming window of `x` points (symmetric, as NumPy's)."""
    return torch.signal.windows.hamming(_window_length(x), dtype=floatx())


def hanning(x: TensorLike) -> Tensor:
    """The Hann window of `x` points (symmetric, as NumPy's)."""
    return torch.signal.windows.hann(_window_length(x), dtype=floatx())


def kaiser(x: TensorLike, beta: float) -> Tensor:
    """The Kaiser window of `x` points with shape parameter `beta`."""
    return torch.signal.windows.kaiser(_window_length(x), beta=float(beta), dtype=floatx())


def _space_dtype(start: TensorLike, stop: TensorLike, dtype: DTypeLike) -> torch.dtype:
    if dtype is not None:
        return to_torch_dtype(dtype)
    found = [tensor(v).dtype for v in (start, stop)]
    wide = [d for d in found if d.is_floating_point and d.itemsize > floatx().itemsize]
    return wide[0] if wide else floatx()


def _check_axis(axis: int, name: str) -> None:
    if axis != 0:
        raise ValueError(f"{name} supports axis=0 only; got axis={axis}")


def logspace(
    start: TensorLike,
    stop: TensorLike,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: DTypeLike = None,
    axis: int = 0,
) -> Tensor:
    """`num` numbers spaced evenly on a log scale, from base**start to base**stop."""
    _check_axis(axis, "logspace")
    target = _space_dtype(start, stop, dtype)
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype=torch.float64)
    return torch.pow(torch.tensor(float(base), dtype=torch.float64), exponents).to(target)


def geomspace(
    start: TensorLike,
    stop: TensorLike,
    num: int = 50,
    endpoint: bool = True,
    dtype: DTypeLike = None,
    axis: int = 0,
) -> Tensor:
    """`num` numbers spaced evenly on a log scale from `start` to `stop` (a geometric series)."""
    _check_axis(axis, "geomspace")
    target = _space_dtype(start, stop, dtype)
    first, last = tensor(start, torch.float64), tensor(stop, torch.float64)
    exponents = linspace(
        torch.log10(torch.abs(first)),
        torch.log10(torch.abs(last)),
        num,
        endpoint=endpoint,
        dtype=torch.float64,
    )
    result = torch.sign(first) * torch.pow(10.0, exponents)
    return result.to(target)


def vander(x: TensorLike, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-D `x`: columns are powers of x (decreasing by default)."""
    x = tensor(x)
    if x.dim() != 1:
        raise ValueError(f"vander expects a 1-D tensor; got shape {tuple(x.shape)}")
    return torch.vander(x, N=N, increasing=increasing).to(sum_dtype(x.dtype))
