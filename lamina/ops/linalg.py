"""Linear algebra ops (`keras.ops.linalg`): norm, inv, det, solve, factorizations
(cholesky, qr, svd, lu, eig), least squares, pseudo-inverse, rank, forward-mode derivatives.

>>> import lamina.ops as ops
>>> float(ops.norm(ops.convert_to_tensor([3.0, 4.0])))
5.0
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ._dtypes import Axis, TensorLike, narrow_64, promote, tensor, to_float

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]


def _matrices(x: Tensor, square: bool = True) -> Tensor:
    """`x` checked as Keras does before factorizing: rank >= 2 and, if `square`, square."""
    if x.dim() < 2:
        raise ValueError(
            f"Expected input to have rank >= 2. Received input with shape {tuple(x.shape)}."
        )
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"Expected a square matrix. Received non-square input with shape {tuple(x.shape)}"
        )
    return x


def _system(a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """(a, b) of a @ x = b as floats of one dtype, their shapes checked as Keras does."""
    a, b = promote(to_float(a), to_float(b))
    _matrices(a)
    if b.dim() < 1:
        raise ValueError(f"Expected input to have rank >= 1. Received scalar input {b}.")
    side = -2 if a.dim() == b.dim() else -1
    if b.dim() - a.dim() in (0, 1) and a.shape[side] != b.shape[side]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`. Expected "
            f"`a.shape[{side}] == b.shape[{side}]`. Received: a.shape={tuple(a.shape)}, "
            f"b.shape={tuple(b.shape)}"
        )
    return a, b


def norm(
    x: TensorLike, ord: float | str | None = None, axis: Axis = None, keepdims: bool = False
) -> Tensor:
    """A vector norm (one axis) or matrix norm (two axes) of `x`, as NumPy's `linalg.norm`
    (float64 gives float32, as Keras)."""
    x = narrow_64(to_float(x))
    dim = axis if axis is None or isinstance(axis, int) else tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=dim, keepdim=keepdims)


def inv(x: TensorLike) -> Tensor:
    """The inverse of each square matrix in the last two axes."""
    return torch.linalg.inv(_matrices(to_float(x)))


def det(x: TensorLike) -> Tensor:
    """The determinant of each square matrix in the last two axes."""
    return torch.linalg.det(_matrices(to_float(x)))


def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """The solution x of a @ x = b."""
    a, b = _system(a, b)
    return torch.linalg.solve(a, b)


def solve_triangular(a: TensorLike, b: TensorLike, lower: bool = False) -> Tensor:
    """The solution x of a @ x = b for a triangular `a`; `b` may be a vector (one fewer
    axis than `a`)."""
    a, b = _system(a, b)
    if b.dim() == a.dim() - 1:
        return torch.linalg.solve_triangular(a, b[..., None], upper=not lower)[..., 0]
    return torch.linalg.solve_triangular(a, b, upper=not lower)


def cholesky(x: TensorLike, upper: bool = False) -> Tensor:
    """The Cholesky factor of a positive-definite matrix (lower unless `upper`); a ValueError
    (as Keras) when the factorization fails."""
    x = _matrices(to_float(x))
    try:
        return torch.linalg.cholesky(x, upper=upper)
    except RuntimeError as error:
        raise ValueError(f"Cholesky decomposition failed: {error}") from error


def qr(x: TensorLike, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR decomposition (q, r); `mode` is 'reduced' or 'complete'."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr mode must be 'reduced' or 'complete'; got {mode!r}")
    return tuple(torch.linalg.qr(to_float(x), mode=mode))


def svd(
    x: TensorLike, full_matrices: bool = True, compute_uv: bool = True
) -> Tensor | tuple[Tensor, Tensor, Tensor]:
    """The singular value decomposition (u, s, vh), or only s when not `compute_uv`."""
    x = _matrices(to_float(x), square=False)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


def cholesky_inverse(x: TensorLike, upper: bool = False) -> Tensor:
    """The inverse of the matrix whose Cholesky factor is `x` (lower unless `upper`)."""
    return torch.cholesky_inverse(_matrices(to_float(x)), upper=upper)


def eig(x: TensorLike) -> tuple[Tensor, Tensor]:
    """The eigenvalues and right eigenvectors of a square matrix, as complex tensors."""
    return tuple(torch.linalg.eig(_matrices(to_float(x))))


def eigh(x: TensorLike) -> tuple[Tensor, Tensor]:
    """The eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix."""
    return tuple(torch.linalg.eigh(_matrices(to_float(x))))


def lu_factor(x: TensorLike) -> tuple[Tensor, Tensor]:
    """The packed LU factorization with partial pivoting, as (lu, pivots); pivots are
    0-based row swaps (int32), as SciPy's."""
    lu, pivots = torch.linalg.lu_factor(_matrices(to_float(x), square=False))
    return lu, (pivots - 1).to(torch.int32)


def lstsq(a: TensorLike, b: TensorLike, rcond: float | None = None) -> Tensor:
    """The x minimizing ||a @ x - b||; singular values below rcond * the largest are ignored."""
    a, b = promote(to_float(a), to_float(b))
    vector = b.dim() == 1
    b = b[:, None] if vector else b
    if rcond is None:
        solution = torch.linalg.lstsq(a, b).solution
    elif a.device.type == "cpu":
        # 'gelsd' (SVD) reads rcond as NumPy does; torch's CPU default 'gelsy' does not.
        solution = torch.linalg.lstsq(a, b, rcond=rcond, driver="gelsd").solution
    else:
        solution = torch.linalg.pinv(a, rtol=rcond) @ b
    return solution[:, 0] if vector else solution


def matrix_rank(x: TensorLike, tol: float | None = None) -> Tensor:
    """The number of singular values above `tol` (default: a size- and dtype-based bound),
    as int32."""
    return torch.linalg.matrix_rank(to_float(x), atol=tol).to(torch.int32)


def pinv(x: TensorLike, rcond: float | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse; singular values below rcond * the largest count as 0."""
    return torch.linalg.pinv(to_float(x), rtol=rcond)


def jvp(
    fun: Callable[..., Any],
    primals: Sequence[TensorLike],
    tangents: Sequence[TensorLike],
    has_aux: bool = False,
) -> tuple[Any, ...]:
    """`fun(*primals)` and its Jacobian-vector product with `tangents`, in one forward pass:
    (outputs, tangent_outputs), plus `aux` when `has_aux` (fun then returns (output, aux))."""
    primals = tuple(tensor(p) for p in primals)
    tangents = tuple(tensor(t) for t in tangents)
    with warnings.catch_warnings():
        # torch.func.jvp's first call imports decompositions built with the deprecated
        # torch.jit.script; the warning is torch's own business, not the caller's.
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
