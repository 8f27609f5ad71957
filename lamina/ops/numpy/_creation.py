"""Tensor creation: zeros, ones, full, eye, arange, linspace and the *_like forms."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._dtypes import DTypeLike, TensorLike, floatx, is_python_scalar, tensor, to_torch_dtype

Shape = int | Sequence[int]


def _shape(shape: Shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def zeros(shape: Shape, dtype: DTypeLike = None) -> Tensor:
    """A tensor of zeros (floatx unless `dtype` is given)."""
    return torch.zeros(_shape(shape), dtype=to_torch_dtype(dtype))


def ones(shape: Shape, dtype: DTypeLike = None) -> Tensor:
    """A tensor of ones (floatx unless `dtype` is given)."""
    return torch.ones(_shape(shape), dtype=to_torch_dtype(dtype))


def empty(shape: Shape, dtype: DTypeLike = None) -> Tensor:
    """An uninitialised tensor (floatx unless `dtype` is given)."""
    return torch.empty(_shape(shape), dtype=to_torch_dtype(dtype))


def full(shape: Shape, fill_value: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """A tensor filled with `fill_value` (floatx unless `dtype` is given)."""
    fill = tensor(fill_value, to_torch_dtype(dtype))
    return torch.broadcast_to(fill, _shape(shape)).clone()


def _like_dtype(x: Tensor, dtype: DTypeLike) -> torch.dtype:
    return x.dtype if dtype is None else to_torch_dtype(dtype)


def zeros_like(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """Zeros with x's shape, dtype (unless `dtype` is given) and device."""
    x = tensor(x)
    return torch.zeros_like(x, dtype=_like_dtype(x, dtype))


def ones_like(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """Ones with x's shape, dtype (unless `dtype` is given) and device."""
    x = tensor(x)
    return torch.ones_like(x, dtype=_like_dtype(x, dtype))


def full_like(x: TensorLike, fill_value: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """`fill_value` with x's shape, dtype (unless `dtype` is given) and device."""
    x = tensor(x)
    fill = tensor(fill_value).to(device=x.device, dtype=_like_dtype(x, dtype))
    return torch.broadcast_to(fill, x.shape).clone()


def eye(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> Tensor:
    """An N x M matrix with ones on the k-th diagonal."""
    M = N if M is None else M
    return torch.ones(N, M, dtype=to_torch_dtype(dtype)).tril(k).triu(k)


def identity(n: int, dtype: DTypeLike = None) -> Tensor:
    """The n x n identity matrix."""
    return torch.eye(n, dtype=to_torch_dtype(dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> Tensor:
    """An N x M matrix with ones at and below the k-th diagonal."""
    M = N if M is None else M
    return torch.ones(N, M, dtype=to_torch_dtype(dtype)).tril(k)


def _number_dtype(*values: float | int | None) -> torch.dtype:
    # Python floats make floatx, Python ints int32, as in Keras.
    present = [v for v in values if v is not None]
    if any(isinstance(v, float) for v in present):
        return floatx()
    tensors = [tensor(v).dtype for v in present if not is_python_scalar(v)]
    if any(d.is_floating_point for d in tensors):
        return next(d for d in tensors if d.is_floating_point)
    return torch.int32


def arange(
    start: float | int,
    stop: float | int | None = None,
    step: float | int | None = None,
    dtype: DTypeLike = None,
) -> Tensor:
    """Evenly spaced values in [start, stop) (in [0, start) when `stop` is None)."""
    target = _number_dtype(start, stop, step) if dtype is None else to_torch_dtype(dtype)
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    start, stop, step = (float(v) if not isinstance(v, int) else v for v in (start, stop, step))
    return torch.arange(start, stop, step).to(target)


def linspace(
    start: TensorLike,
    stop: TensorLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: DTypeLike = None,
    axis: int = 0,
) -> Tensor | tuple[Tensor, Tensor]:
    """`num` evenly spaced values from `start` to `stop` (included when `endpoint`)."""
    target = to_torch_dtype(dtype)
    begin = tensor(start).to(torch.float64)
    end = tensor(stop).to(device=begin.device, dtype=torch.float64)
    divisions = (num - 1 if endpoint else num) or 1
    step = (end - begin) / divisions
    positions = torch.arange(num, dtype=torch.float64, device=begin.device)
    positions = positions.reshape((-1,) + (1,) * begin.dim())
    values = begin + positions * step
    if endpoint and num > 1:
        values[-1] = end
    values = torch.movedim(values, 0, axis).to(target)
    return (values, step.to(target)) if retstep else values
