"""Shape extras: appending, uneven and directional splits, rotations, Kronecker and cross
products, differences, index unravelling, selection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .._dtypes import DTypeLike, TensorLike, promote, sum_dtype, tensor, to_torch_dtype
from ._shape import _common, split


def append(x1: TensorLike, x2: TensorLike, axis: int | None = None) -> Tensor:
    """`x2` appended to `x1` along `axis` (both flattened when None)."""
    a, b = _common([x1, x2])
    if axis is None:
        return torch.cat([a.reshape(-1), b.reshape(-1)])
    return torch.cat([a, b], dim=axis)


def array_split(
    x: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0
) -> list[Tensor]:
    """Split along `axis` into sections that may differ in size by one, or at the indices."""
    sections = indices_or_sections
    if not isinstance(sections, int):
        sections = [int(i) for i in sections]
    return list(torch.tensor_split(tensor(x), sections, dim=axis))


def hsplit(x: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """`split` along the second axis (the first for 1-D tensors)."""
    x = tensor(x)
    return split(x, indices_or_sections, axis=1 if x.dim() > 1 else 0)


def vsplit(x: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """`split` along the first axis of a tensor of rank 2 or more."""
    x = tensor(x)
    if x.dim() < 2:
        raise ValueError(f"vsplit expects a tensor of rank >= 2; got shape {tuple(x.shape)}")
    return split(x, indices_or_sections, axis=0)


def dsplit(x: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """`split` along the third axis of a tensor of rank 3 or more."""
    x = tensor(x)
    if x.dim() < 3:
        raise ValueError(f"dsplit expects a tensor of rank >= 3; got shape {tuple(x.shape)}")
    return split(x, indices_or_sections, axis=2)


def dstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join tensors along the third axis (1-D and 2-D ones get unit axes first)."""
    return torch.dstack(_common(xs))


def fliplr(x: TensorLike) -> Tensor:
    """`x` reversed along its second axis."""
    return torch.fliplr(tensor(x))


def flipud(x: TensorLike) -> Tensor:
    """`x` reversed along its first axis."""
    return torch.flipud(tensor(x))


def rot90(array: TensorLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    """`array` rotated by 90 degrees `k` times in the plane of `axes` (first towards second)."""
    return torch.rot90(tensor(array), k, dims=tuple(axes))


def diagflat(x: TensorLike, k: int = 0) -> Tensor:
    """A 2-D tensor with the flattened `x` on its `k`-th diagonal."""
    return torch.diagflat(tensor(x), offset=k)


def kron(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The Kronecker product: blocks of x2 scaled by each element of x1."""
    return torch.kron(*promote(x1, x2))


def cross(
    x1: TensorLike,
    x2: TensorLike,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: int | None = None,
) -> Tensor:
    """The cross product of 3-vectors (or 2-vectors, taken with z = 0) along the given axes;
    `axis`, when given, sets all three."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = promote(x1, x2)
    a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
    sizes = (a.shape[-1], b.shape[-1])
    if any(size not in (2, 3) for size in sizes):
        raise ValueError(f"cross expects vectors of 2 or 3 components; got sizes {sizes}")
    if sizes == (2, 2):
        # NumPy returns the z component only when both vectors are 2-D.
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    a, b = (torch.nn.functional.pad(v, (0, 3 - v.shape[-1])) for v in (a, b))
    a, b = torch.broadcast_tensors(a, b)
    return torch.movedim(torch.linalg.cross(a, b, dim=-1), -1, axisc)


def diff(a: TensorLike, n: int = 1, axis: int = -1) -> Tensor:
    """The `n`-th discrete difference along `axis`."""
    a = tensor(a)
    if a.dtype == torch.bool:
        a = a.to(torch.int32)
    return torch.diff(a, n=n, dim=axis)


def unravel_index(indices: TensorLike, shape: Sequence[int]) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of `shape` of each flat index, as int32 tensors."""
    indices = tensor(indices)
    coordinates = torch.unravel_index(indices.long(), tuple(int(d) for d in shape))
    return tuple(c.to(sum_dtype(indices.dtype)) for c in coordinates)


def get_item(x: TensorLike, key: Any) -> Tensor:
    """`x[key]`, with NumPy-style keys (ints, slices, tuples, index tensors); a list holding
    slices, None or Ellipsis is read as a tuple, as Keras writes `x[..., 0]` in a saved graph.

    >>> get_item(tensor([[1, 2], [3, 4]]), [Ellipsis, 0]).tolist()
    [1, 3]
    """
    if isinstance(key, list) and any(
        k is None or k is Ellipsis or isinstance(k, slice | list) for k in key
    ):
        key = tuple(key)
    return tensor(x)[key]


def view(x: TensorLike, dtype: DTypeLike = None) -> Tensor:
    """The same memory reinterpreted as `dtype` (no copy)."""
    return tensor(x).view(to_torch_dtype(dtype))


def select(
    condlist: Sequence[TensorLike], choicelist: Sequence[TensorLike], default: TensorLike = 0
) -> Tensor:
    """Elementwise, the choice of the first true condition (`default` where none is)."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select expects as many conditions as choices; got {len(condlist)} conditions "
            f"and {len(choicelist)} choices"
        )
    if not condlist:
        raise ValueError("select expects at least one condition; got an empty condlist")
    choices = _common(choicelist)
    result = promote(choices[0], default)[1].to(choices[0].dtype)
    result = result.to(choices[0].device)
    for condition, choice in zip(reversed(condlist), reversed(choices), strict=True):
        result = torch.where(tensor(condition).to(choice.device).bool(), choice, result)
    return result
