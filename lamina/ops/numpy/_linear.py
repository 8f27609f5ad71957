"""Products: matmul, dot, tensordot, einsum, outer, inner, vdot."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import torch
from torch import Tensor

from .._dtypes import TensorLike, promote, tensor


def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The matrix product, batched over leading axes."""
    return torch.matmul(*promote(x1, x2))


def dot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """NumPy's dot: scalar product, inner product, matrix product, or a sum over the last
    axis of x1 and the second-to-last of x2."""
    a, b = promote(x1, x2)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    if b.dim() == 1:
        return torch.tensordot(a, b, dims=([a.dim() - 1], [0]))
    return torch.tensordot(a, b, dims=([a.dim() - 1], [b.dim() - 2]))


def tensordot(
    x1: TensorLike, x2: TensorLike, axes: int | Sequence[int] | Sequence[Sequence[int]] = 2
) -> Tensor:
    """The sum of products over the last `axes` axes of x1 and the first of x2 (or the given
    pairs of axes)."""
    a, b = promote(x1, x2)
    if not isinstance(axes, int):
        first, second = axes
        axes = (
            [first] if isinstance(first, int) else list(first),
            [second] if isinstance(second, int) else list(second),
        )
    return torch.tensordot(a, b, dims=axes)


def einsum(subscripts: str, *operands: TensorLike, **kwargs: object) -> Tensor:
    """Einstein summation over `operands` as described by `subscripts`."""
    tensors = [tensor(x) for x in operands]
    dtype = reduce(torch.promote_types, (t.dtype for t in tensors))
    return torch.einsum(subscripts, *[t.to(dtype) for t in tensors])


def outer(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The outer product of the flattened x1 and x2."""
    a, b = promote(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))


def inner(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The sum of products over the last axes of x1 and x2."""
    a, b = promote(x1, x2)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    return torch.inner(a, b)


def vdot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The dot product of the flattened x1 and x2."""
    a, b = promote(x1, x2)
    return torch.dot(a.reshape(-1), b.reshape(-1))
