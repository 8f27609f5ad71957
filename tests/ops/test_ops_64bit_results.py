"""Ops whose result dtype Keras' torch backend takes from `result_type`, which narrows 64-bit
types: NumPy's default float64 and int64 inputs give float32 and int32. Also the index ops
(`where(condition)`, `nonzero`), which give one stacked tensor there.

Dtypes and values were printed by Keras 3.15.1 (torch backend) and are pasted as literals.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina import ops

F64 = np.array([[0.5, 2.0], [1.5, 3.0]])
I64 = np.array([[1, 2], [3, 4]])
F32 = F64.astype("float32")

# Keras 3.15.1: the dtype of op(F64), op(I64), op(F32).
UNARY = {
    "floor": (ops.floor, ("float32", "float32", "float32")),
    "ceil": (ops.ceil, ("float32", "float32", "float32")),
    "cumsum": (ops.cumsum, ("float32", "int32", "float32")),
    "cumprod": (lambda x: ops.cumprod(x, axis=0), ("float32", "int32", "float32")),
    "prod": (ops.prod, ("float32", "int32", "float32")),
    "var": (ops.var, ("float32", "float32", "float32")),
    "norm": (ops.norm, ("float32", "float32", "float32")),
    "median": (ops.median, ("float32", "float32", "float32")),
    "quantile": (lambda x: ops.quantile(x, 0.5), ("float32", "float32", "float32")),
    "nanmean": (ops.nanmean, ("float32", "float32", "float32")),
    "nanvar": (ops.nanvar, ("float32", "float32", "float32")),
    "average": (ops.average, ("float32", "float32", "float32")),
    "cbrt": (ops.cbrt, ("float64", "float64", "float32")),
    "deg2rad": (ops.deg2rad, ("float64", "float64", "float32")),
    # Keras keeps 64 bits here: mean, std, sqrt, exp, sum.
    "mean": (ops.mean, ("float64", "float32", "float32")),
    "std": (ops.std, ("float64", "float32", "float32")),
    "sum": (ops.sum, ("float64", "int64", "float32")),
}

# Keras 3.15.1: the dtype of op(a, b) for (F64, F64), (I64, I64), (F64, F32), (I64, F32),
# (F64, 2.0), (I64, 2).
BINARY = {
    "maximum": (ops.maximum, ("float32", "int32", "float32", "float32", "float32", "int32")),
    "minimum": (ops.minimum, ("float32", "int32", "float32", "float32", "float32", "int32")),
    "fmax": (ops.fmax, ("float32", "int32", "float32", "float32", "float32", "int32")),
    "floor_divide": (
        ops.floor_divide,
        ("float32", "int32", "float32", "float32", "float32", "int32"),
    ),
    "dot": (ops.dot, ("float32", "int32", "float32", "float32", "float32", "int32")),
    "inner": (ops.inner, ("float32", "int32", "float32", "float32", "float32", "int32")),
    "arctan2": (ops.arctan2, ("float32",) * 6),
    "logaddexp": (ops.logaddexp, ("float32",) * 6),
    "heaviside": (ops.heaviside, ("float32",) * 6),
    "divide_no_nan": (ops.divide_no_nan, ("float32",) * 6),
    # Keras keeps 64 bits in divide and add.
    "divide": (ops.divide, ("float64", "float32", "float64", "float32", "float64", "float32")),
    "add": (ops.add, ("float64", "int64", "float64", "float32", "float64", "int64")),
}
PAIRS = [(F64, F64), (I64, I64), (F64, F32), (I64, F32), (F64, 2.0), (I64, 2)]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_result_dtypes_are_keras(name: str) -> None:
    function, expected = UNARY[name]
    got = tuple(str(function(x).dtype).replace("torch.", "") for x in (F64, I64, F32))
    assert got == expected


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_result_dtypes_are_keras(name: str) -> None:
    function, expected = BINARY[name]
    got = tuple(str(function(a, b).dtype).replace("torch.", "") for a, b in PAIRS)
    assert got == expected


def test_products_of_float64_and_int64_give_32_bits_with_the_values() -> None:
    # Keras 3.15.1: ops.matmul / tensordot of NumPy float64 matrices.
    b = np.array([[1.0, 2.0], [0.5, 0.25]])
    a = np.array([[3.0, -4.5], [1.0, 2.0]])
    for result in (ops.matmul(a, b), ops.tensordot(a, b, 1), ops.dot(a, b)):
        assert result.dtype == torch.float32
        assert result.tolist() == [[0.75, 4.875], [2.0, 2.5]]
    product = ops.matmul(np.array([[1, 2]]), np.array([[3], [4]]))
    assert product.dtype == torch.int32 and product.tolist() == [[11]]
    assert ops.matmul(ops.ones((2, 2), "float64"), ops.ones((2, 2), "float64")).dtype == (
        torch.float32
    )


def test_where_condition_only_and_nonzero_give_one_stacked_tensor() -> None:
    # Keras 3.15.1 (torch): where(x > 0) is int64 of shape (ndim, count); nonzero int32.
    x = np.array([[0, 1], [2, 0], [3, 3]])
    where = ops.where(x > 0)
    assert where.dtype == torch.int64 and where.tolist() == [[0, 1, 2, 2], [1, 0, 0, 1]]
    nonzero = ops.nonzero(x)
    assert nonzero.dtype == torch.int32 and tuple(nonzero.shape) == (2, 4)
    rows, cols = nonzero
    assert rows.tolist() == [0, 1, 2, 2] and cols.tolist() == [1, 0, 0, 1]
    assert ops.where(np.array([0.0, 2.0, 0.5])).tolist() == [[1, 2]]
