"""Counting and searching: bincount, histogram, digitize, searchsorted, unique, isin,
argpartition."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .._dtypes import TensorLike, promote, tensor, to_float


def bincount(
    x: TensorLike, weights: TensorLike | None = None, minlength: int = 0, sparse: bool = False
) -> Tensor:
    """How often each non-negative int occurs in `x` (summing `weights` when given); a 2-D `x`
    counts each row, to a common length."""
    if sparse:
        raise ValueError("bincount: lamina tensors are dense; sparse=True is not supported")
    x = tensor(x)
    if x.dtype.is_floating_point or x.dim() not in (1, 2):
        raise ValueError(
            f"bincount expects a 1-D or 2-D tensor of ints; got {x.dtype} of shape {tuple(x.shape)}"
        )
    rows = x.reshape(-1, x.shape[-1]).long()
    length = max(int(rows.max()) + 1 if rows.numel() else 0, int(minlength))
    if weights is None:
        values, dtype = torch.ones_like(rows, dtype=torch.int32), torch.int32
    else:
        weights = tensor(weights).to(rows.device)
        dtype = torch.promote_types(x.dtype, weights.dtype)
        values = torch.broadcast_to(weights.reshape(-1, x.shape[-1]).to(dtype), rows.shape)
    counts = torch.zeros(rows.shape[0], length, dtype=dtype, device=rows.device)
    counts = counts.scatter_add(1, rows, values)
    return counts if x.dim() == 2 else counts[0]


def histogram(
    x: TensorLike, bins: int = 10, range: tuple[float, float] | None = None
) -> tuple[Tensor, Tensor]:
    """The counts of `x` in `bins` equal bins over `range` (default: x's min to max), and the
    bins' edges."""
    x = to_float(x).reshape(-1)
    if range is None:
        low, high = (float(x.min()), float(x.max())) if x.numel() else (0.0, 1.0)
    else:
        low, high = float(range[0]), float(range[1])
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts = torch.histc(x, bins=int(bins), min=low, max=high)
    edges = torch.linspace(low, high, int(bins) + 1, dtype=x.dtype, device=x.device)
    return counts, edges


def digitize(x: TensorLike, bins: TensorLike) -> Tensor:
    """For each x, the index i of its bin: bins[i-1] <= x < bins[i] (increasing bins), as int32."""
    x, bins = promote(x, bins)
    return torch.bucketize(x, bins, right=True).to(torch.int32)


def searchsorted(sorted_sequence: TensorLike, values: TensorLike, side: str = "left") -> Tensor:
    """Where to insert `values` into the 1-D `sorted_sequence` to keep it sorted, as int32."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted side must be 'left' or 'right'; got {side!r}")
    sequence, values = promote(sorted_sequence, values)
    if sequence.dim() != 1:
        raise ValueError(
            f"searchsorted expects a 1-D sorted_sequence; got shape {tuple(sequence.shape)}"
        )
    return torch.searchsorted(sequence, values, side=side).to(torch.int32)


def _resize(x: Tensor, dim: int, size: int, fill: float) -> Tensor:
    count = x.shape[dim]
    if count >= size:
        return x.narrow(dim, 0, size)
    pad = [0, 0] * (x.dim() - dim - 1) + [0, size - count]
    return F.pad(x, pad, value=fill)


def unique(
    x: TensorLike,
    sorted: bool = True,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    size: int | None = None,
    fill_value: float | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """The distinct values of `x` (rows along `axis`) in sorted order; with the flags, also the
    index of each one's first occurrence, the inverse indices and the counts (int64).

    `size` pads (with `fill_value`, default 0) or truncates the distinct values to a fixed count.
    """
    x = tensor(x)
    values, inverse, counts = torch.unique(
        x, sorted=sorted, return_inverse=True, return_counts=True, dim=axis
    )
    dim = 0 if axis is None else axis % x.dim()
    outputs = [values]
    if return_index:
        flat_inverse = inverse.reshape(-1)
        positions = torch.arange(flat_inverse.numel(), device=x.device)
        first = torch.full((values.shape[dim],), flat_inverse.numel(), device=x.device)
        first = first.scatter_reduce(0, flat_inverse, positions, reduce="amin")
        outputs.append(first)
    if return_inverse:
        outputs.append(inverse)
    if return_counts:
        outputs.append(counts)
    if size is not None:
        outputs[0] = _resize(values, dim, size, 0 if fill_value is None else fill_value)
        if return_index:
            outputs[1] = _resize(outputs[1], 0, size, 0)
        if return_counts:
            outputs[-1] = _resize(outputs[-1], 0, size, 0)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def isin(
    x1: TensorLike, x2: TensorLike, assume_unique: bool = False, invert: bool = False
) -> Tensor:
    """True where an element of `x1` occurs in `x2` (False there when `invert`)."""
    a, b = promote(x1, x2)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


def argpartition(x: TensorLike, kth: int, axis: int | None = -1) -> Tensor:
    """Indices that put the `kth` smallest element of each slice in its sorted place, smaller
    ones before and larger ones after, as int32 (a stable full sort is one such order)."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if not -x.shape[axis] <= kth < x.shape[axis]:
        raise ValueError(
            f"argpartition: kth={kth} is out of bounds for an axis of size {x.shape[axis]}"
        )
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)
