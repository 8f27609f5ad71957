"""Keras' dtype names and promotion rules: `standardize_dtype`, `is_float_dtype`,
`is_int_dtype`, `result_type` (as `keras.backend`).

`result_type` follows Keras 3, which adopted JAX's promotion lattice: Python `int` and `float`
are "weak" (they take the other operand's type where they can), and the result is narrowed to
32 bits (int64 -> int32, float64 -> float32), as Keras does on every backend but TensorFlow.

>>> result_type("int32", "float16"), result_type("int8", "uint8"), result_type("bfloat16", int)
('float16', 'int16', 'bfloat16')
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from .. import config
from ..ops._dtypes import dtype_name

__all__ = ["is_float_dtype", "is_int_dtype", "result_type", "standardize_dtype"]

ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
# Python types (and the name "int") as Keras reads them on the torch backend.
_PYTHON_TYPES = {bool: "bool", int: "int32", float: "float32", str: "string", complex: "complex64"}

# Each type and the types directly above it; "int" and "float" are the weak Python types.
# The graph is JAX's (and Keras'): bool < int < {uint8, int8, complex64}, ..., float64 <
# complex128. No implicit promotion exists out of float8 or string.
_LATTICE = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex64": ("complex128",),
    "complex128": (),
}
_TO_32_BITS = {
    "int64": "int32",
    "uint64": "uint32",
    "float64": "float32",
    "complex128": "complex64",
}


def standardize_dtype(dtype: Any) -> str:
    """Keras' name of a dtype given as a name, a torch or NumPy dtype, or a Python type; None
    is `floatx()`.

    >>> standardize_dtype(torch.bfloat16), standardize_dtype(int), standardize_dtype(None)
    ('bfloat16', 'int32', 'float32')
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        name = dtype_name(dtype)
    elif isinstance(dtype, str) and dtype == "int":
        name = _PYTHON_TYPES[int]
    elif isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        name = _PYTHON_TYPES[dtype]
    elif hasattr(dtype, "name"):  # a NumPy dtype
        name = dtype.name
    elif hasattr(dtype, "__name__"):  # a NumPy scalar type (np.float16)
        name = dtype.__name__
    else:
        name = str(dtype).split(".")[-1] if "torch" in str(dtype) else dtype
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {', '.join(ALLOWED_DTYPES)}")
    return name


def is_float_dtype(dtype: Any) -> bool:
    """True for the float types (float8 to float64 and bfloat16).

    >>> is_float_dtype("bfloat16"), is_float_dtype("int8")
    (True, False)
    """
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype: Any) -> bool:
    """True for the signed and unsigned integer types (not bool).

    >>> is_int_dtype("uint8"), is_int_dtype(bool)
    (True, False)
    """
    return standardize_dtype(dtype).startswith(("int", "uint"))


@functools.cache
def _upper_bounds() -> dict[str, frozenset[str]]:
    """Every type with all the types it promotes to (itself included)."""

    def above(node: str) -> frozenset[str]:
        result = {node}
        for parent in _LATTICE[node]:
            result |= above(parent)
        return frozenset(result)

    return {node: above(node) for node in _LATTICE}


def _least_upper_bound(nodes: set[str]) -> str:
    bounds = _upper_bounds()
    for node in nodes:
        if node not in bounds:
            raise ValueError(f"dtype={node!r} is not a valid dtype for Keras type promotion.")
    common = frozenset.intersection(*(bounds[node] for node in nodes))
    least = [candidate for candidate in common if common <= bounds[candidate]]
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no implicit dtype promotion path; cast "
            "the inputs to the type you want explicitly."
        )
    return least[0]


def _weak(name: str) -> str:
    """The weak type a Python scalar of dtype `name` stands for ('int' or 'float')."""
    if name == "bool":
        return name
    for kind in ("complex", "float", "int"):
        if kind in name:
            return kind
    raise ValueError(f"Invalid dtype for a Python scalar: {name!r}")


def _resolve_weak(name: str) -> str:
    """A weak result as a concrete type, at floatx()'s precision ('int' -> 'int32')."""
    bits = config.floatx()[-2:]
    if name == "bool":
        return name
    if name.startswith("u"):
        return f"uint{bits}"
    if name.startswith("i"):
        return f"int{bits}"
    return f"float{bits}"


def result_type(*dtypes: Any) -> str:
    """The dtype Keras' type promotion gives for operands of these dtypes (`int` and `float`
    stand for Python scalars); no dtypes gives `floatx()`.

    >>> result_type("int32", "float32"), result_type("complex64", int), result_type()
    ('float32', 'complex64', 'float32')
    """
    if not dtypes:
        return config.floatx()
    names = [standardize_dtype(dtype) for dtype in dtypes]
    if any(name in _FLOAT8 for name in names):
        raise ValueError(
            "There is no implicit conversion from float8 dtypes to others; cast explicitly. "
            f"Received: {dtypes}"
        )
    weak = [dtype is int or dtype is float for dtype in dtypes]
    if len(names) == 1:
        result, result_is_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        result, result_is_weak = names[0], False
    elif all(weak):
        result, result_is_weak = _least_upper_bound(set(names)), True
    else:
        nodes = {
            _weak(name) if is_weak else name for name, is_weak in zip(names, weak, strict=True)
        }
        result = _least_upper_bound(nodes)
        result_is_weak = result in ("int", "float")
    if result_is_weak and result != "bool":
        result = _resolve_weak(result)
    return _TO_32_BITS.get(result, result)
