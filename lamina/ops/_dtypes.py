"""Conversion and Keras' dtype rules, shared by every op module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .. import config

TensorLike = Tensor | np.ndarray | float | int | bool | Sequence[Any]
DTypeLike = str | torch.dtype | np.dtype | type | None
Axis = int | Sequence[int] | None

_SMALL_INTS = (torch.bool, torch.uint8, torch.int8, torch.int16)


def to_torch_dtype(dtype: DTypeLike) -> torch.dtype:
    """Translate a Keras dtype name, NumPy dtype, Python type or torch dtype to a torch dtype."""
    if dtype is None:
        return config.torch_dtype(config.floatx())
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is float:
        return config.torch_dtype(config.floatx())
    if dtype is int:
        return torch.int32
    if dtype is bool:
        return torch.bool
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    return config.torch_dtype(name)


def dtype_name(dtype: torch.dtype) -> str:
    """Keras' name for a torch dtype: 'float32', 'int64', 'bool', ..."""
    return str(dtype).removeprefix("torch.")


def floatx() -> torch.dtype:
    """The default float dtype as a torch dtype."""
    return config.torch_dtype(config.floatx())


def _from_python(x: Any) -> Tensor:
    # Python numbers and lists follow Keras (and JAX): ints become int32, floats floatx.
    array = np.asarray(x)
    if array.dtype == np.float64:
        return torch.as_tensor(array, dtype=floatx())
    if array.dtype == np.int64:
        return torch.as_tensor(array, dtype=torch.int32)
    if array.dtype == object:
        raise TypeError(f"Cannot convert {type(x).__name__} {x!r} to a tensor")
    return torch.as_tensor(array)


def tensor(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """Any array-like as a torch tensor, cast to `dtype` when given (every op converts so)."""
    if isinstance(x, Tensor):
        result = x
    elif isinstance(x, np.ndarray | np.generic):
        array = np.asarray(x)
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array).copy()
        result = torch.as_tensor(array)
    elif isinstance(x, list | tuple) and any(isinstance(item, Tensor) for item in x):
        result = torch.stack([tensor(item) for item in x])
    elif hasattr(x, "__array__") and not isinstance(x, list | tuple):
        result = tensor(np.asarray(x))
    else:
        result = _from_python(x)
    if dtype is not None:
        result = result.to(to_torch_dtype(dtype))
    return result


def is_python_scalar(x: Any) -> bool:
    """True for Python bool/int/float, which Keras treats as 'weak' in promotion."""
    return isinstance(x, bool | int | float) and not isinstance(x, np.generic)


def _weak_dtype(scalar: bool | int | float, other: torch.dtype) -> torch.dtype:
    # A Python scalar adopts the tensor's dtype unless it needs a wider category.
    if isinstance(scalar, bool):
        return other
    if isinstance(scalar, int):
        return torch.int32 if other == torch.bool else other
    return other if other.is_floating_point or other.is_complex else floatx()


def promote(x1: TensorLike, x2: TensorLike) -> tuple[Tensor, Tensor]:
    """Convert two operands to tensors of one dtype, with Keras' promotion rules."""
    if is_python_scalar(x1) and not is_python_scalar(x2):
        b = tensor(x2)
        dtype = _weak_dtype(x1, b.dtype)
        return torch.tensor(x1, dtype=dtype, device=b.device), b.to(dtype)
    if is_python_scalar(x2) and not is_python_scalar(x1):
        a = tensor(x1)
        dtype = _weak_dtype(x2, a.dtype)
        return a.to(dtype), torch.tensor(x2, dtype=dtype, device=a.device)
    a, b = tensor(x1), tensor(x2)
    if a.dtype != b.dtype:
        dtype = torch.promote_types(a.dtype, b.dtype)
        a, b = a.to(dtype), b.to(dtype)
    if a.device != b.device:
        a, b = same_device(a, b)
    return a, b


def same_device(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Move the operand that came from NumPy/Python (on the CPU) to the other one's device."""
    if a.device == b.device:
        return a, b
    if a.device.type == "cpu":
        return a.to(b.device), b
    return a, b.to(a.device)


def to_float(x: TensorLike) -> Tensor:
    """`x` as a tensor, with ints and bools cast to floatx (what Keras' float ops return)."""
    x = tensor(x)
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(floatx())


_NARROWED = {
    torch.float64: torch.float32,
    torch.int64: torch.int32,
    torch.uint64: torch.uint32,
    torch.complex128: torch.complex64,
}


def narrow_64_dtype(dtype: torch.dtype) -> torch.dtype:
    """`dtype` with 64 bits narrowed to 32 (float64 to float32, int64 to int32), as Keras'
    `result_type` gives it on the torch backend."""
    return _NARROWED.get(dtype, dtype)


def narrow_64(x: Tensor) -> Tensor:
    """`x` with a 64-bit dtype narrowed to 32 bits (float64 to float32, int64 to int32), as the
    ops whose dtype Keras' torch backend takes from `result_type` return it (NumPy's default
    float64 and int64 inputs give float32 and int32 there)."""
    dtype = _NARROWED.get(x.dtype)
    return x if dtype is None else x.to(dtype)


def sum_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulating ops keep ints, widening bool/uint8/int8/int16 to int32 (Keras' rule)."""
    return torch.int32 if dtype in _SMALL_INTS else dtype


def axes(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """An axis argument as a tuple of non-negative ints, or None for all axes."""
    if axis is None:
        return None
    items = (axis,) if isinstance(axis, int) else tuple(axis)
    for item in items:
        if not -max(ndim, 1) <= item < max(ndim, 1):
            raise ValueError(f"axis {item} is out of bounds for a tensor of rank {ndim}")
    return tuple(sorted(item % max(ndim, 1) for item in items))
