"""Products: matmul, dot, tensordot, einsum, outer, inner, vdot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce

import torch
from torch import Tensor

from .._dtypes import TensorLike, floatx, narrow_64, promote, tensor


def _int8_or_bool_product(tensors: list[Tensor], function: Callable[..., Tensor]) -> Tensor:
    # Keras: all-int8 products accumulate and return int32 (as JAX does); bool products are
    # computed in floatx and return bool. torch has no bool matmul, nor int matmul on CUDA.
    dtype = tensors[0].dtype
    result_dtype = torch.int32 if dtype == torch.int8 else torch.bool
    if tensors[0].device.type == "cpu" and dtype == torch.int8:
        compute = torch.int32
    else:
        compute = torch.float64 if dtype == torch.int8 else floatx()
    result = function(*[t.to(compute) for t in tensors])
    return result.to(result_dtype)


def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The matrix product, batched over leading axes (int8 x int8 gives int32; 64-bit dtypes
    give 32-bit ones, as Keras)."""
    a, b = promote(x1, x2)
    if a.dtype in (torch.int8, torch.bool) and tensor(x1).dtype == tensor(x2).dtype:
        return _int8_or_bool_product([a, b], torch.matmul)
    return torch.matmul(narrow_64(a), narrow_64(b))


def dot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """NumPy's dot: scalar product, inner product, matrix product, or a sum over the last
    axis of x1 and the second-to-last of x2 (64-bit dtypes give 32-bit ones, as Keras)."""
    a, b = promote(x1, x2)
    a, b = narrow_64(a), narrow_64(b)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    if b.dim() == 1:
        return torch.tensordot(a, b, dims=([a.dim() - 1], [0]))
    return torch.tensordot(a, b, dims=([a.dim() - 1], [b.dim() - 2]))


def tensordot(
    x1: TensorLike, x2: TensorLike, axes: int | Sequence[int] | Sequence[Sequence[int]] = 2
) -> Tensor:
    """The sum of products over the last `axes` axes of x1 and the first of x2 (or the given
    pairs of axes; 64-bit dtypes give 32-bit ones, as Keras)."""
    a, b = promote(x1, x2)
    a, b = narrow_64(a), narrow_64(b)
    if not isinstance(axes, int):
        first, second = axes
        axes = (
            [first] if isinstance(first, int) else list(first),
            [second] if isinstance(second, int) else list(second),
        )
    return torch.tensordot(a, b, dims=axes)


def einsum(subscripts: str, *operands: TensorLike, **kwargs: object) -> Tensor:
    """Einstein summation over `operands` as described by `subscripts` (all int8 gives int32)."""
    tensors = [tensor(x) for x in operands]
    dtype = reduce(torch.promote_types, (t.dtype for t in tensors))
    if all(t.dtype == torch.int8 for t in tensors):
        return _int8_or_bool_product(tensors, lambda *ts: torch.einsum(subscripts, *ts))
    return torch.einsum(subscripts, *[t.to(dtype) for t in tensors])


def outer(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The outer product of the flattened x1 and x2."""
    a, b = promote(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))


def inner(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The sum of products over the last axes of x1 and x2 (64-bit dtypes give 32-bit ones)."""
    a, b = promote(x1, x2)
    a, b = narrow_64(a), narrow_64(b)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    return torch.inner(a, b)


def vdot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The dot product of the flattened x1 and x2."""
    a, b = promote(x1, x2)
    return torch.dot(a.reshape(-1), b.reshape(-1))
