"""Linear algebra ops (`keras.ops.linalg`): norm, inv, det, solve, cholesky, qr, svd.

>>> import lamina.ops as ops
>>> float(ops.norm(ops.convert_to_tensor([3.0, 4.0])))
5.0
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._dtypes import Axis, TensorLike, promote, to_float

__all__ = ["cholesky", "det", "inv", "norm", "qr", "solve", "solve_triangular", "svd"]


def norm(
    x: TensorLike, ord: float | str | None = None, axis: Axis = None, keepdims: bool = False
) -> Tensor:
    """A vector norm (one axis) or matrix norm (two axes) of `x`, as NumPy's `linalg.norm`."""
    x = to_float(x)
    dim = axis if axis is None or isinstance(axis, int) else tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=dim, keepdim=keepdims)


def inv(x: TensorLike) -> Tensor:
    """The inverse of each square matrix in the last two axes."""
    return torch.linalg.inv(to_float(x))


def det(x: TensorLike) -> Tensor:
    """The determinant of each square matrix in the last two axes."""
    return torch.linalg.det(to_float(x))


def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """The solution x of a @ x = b."""
    a, b = promote(to_float(a), to_float(b))
    return torch.linalg.solve(a, b)


def solve_triangular(a: TensorLike, b: TensorLike, lower: bool = False) -> Tensor:
    """The solution x of a @ x = b for a triangular `a`."""
    a, b = promote(to_float(a), to_float(b))
    return torch.linalg.solve_triangular(a, b, upper=not lower)


def cholesky(x: TensorLike, upper: bool = False) -> Tensor:
    """The Cholesky factor of a positive-definite matrix (lower unless `upper`)."""
    return torch.linalg.cholesky(to_float(x), upper=upper)


def qr(x: TensorLike, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR decomposition (q, r); `mode` is 'reduced' or 'complete'."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr mode must be 'reduced' or 'complete'; got {mode!r}")
    return tuple(torch.linalg.qr(to_float(x), mode=mode))


def svd(
    x: TensorLike, full_matrices: bool = True, compute_uv: bool = True
) -> Tensor | tuple[Tensor, Tensor, Tensor]:
    """The singular value decomposition (u, s, vh), or only s when not `compute_uv`."""
    x = to_float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))
