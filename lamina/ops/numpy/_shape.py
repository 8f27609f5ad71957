"""Shape, indexing and layout ops: reshape, transpose, concatenate, take, pad, ..."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import torch
import torch.nn.functional as F
from torch import Tensor

from .._dtypes import Axis, TensorLike, axes, promote, same_device, sum_dtype, tensor


def _common(xs: Sequence[TensorLike]) -> list[Tensor]:
    tensors = [tensor(x) for x in xs]
    if not tensors:
        raise ValueError("Expected at least one tensor; got an empty sequence")
    dtype = reduce(torch.promote_types, (t.dtype for t in tensors))
    device = next((t.device for t in tensors if t.device.type != "cpu"), tensors[0].device)
    return [t.to(device=device, dtype=dtype) for t in tensors]


def reshape(x: TensorLike, newshape: int | Sequence[int]) -> Tensor:
    """`x` with a new shape of the same size (one entry may be -1)."""
    shape = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    return torch.reshape(tensor(x), shape)


def ravel(x: TensorLike) -> Tensor:
    """`x` flattened to 1-D."""
    return torch.ravel(tensor(x))


def transpose(x: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """`x` with its axes permuted (reversed when `axes` is None)."""
    x = tensor(x)
    order = tuple(range(x.dim()))[::-1] if axes is None else tuple(axes)
    return x.permute(order)


def moveaxis(
    x: TensorLike, source: int | Sequence[int], destination: int | Sequence[int]
) -> Tensor:
    """`x` with axes `source` moved to positions `destination`."""
    return torch.movedim(tensor(x), source, destination)


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """`x` with two axes exchanged."""
    return torch.swapaxes(tensor(x), axis1, axis2)


def expand_dims(x: TensorLike, axis: int | Sequence[int]) -> Tensor:
    """`x` with size-1 axes inserted at the positions `axis` of the result."""
    x = tensor(x)
    positions = axes(axis, x.dim() + (1 if isinstance(axis, int) else len(axis)))
    for position in positions:
        x = x.unsqueeze(position)
    return x


def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """`x` without its size-1 axes (only those in `axis` when given)."""
    x = tensor(x)
    if axis is None:
        return torch.squeeze(x)
    dims = axes(axis, x.dim())
    for dim in dims:
        if x.shape[dim] != 1:
            raise ValueError(
                f"Cannot squeeze axis {dim} of shape {tuple(x.shape)}: its size is not 1"
            )
    return torch.squeeze(x, dim=dims)


def concatenate(xs: Sequence[TensorLike], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (flattened first when `axis` is None)."""
    tensors = _common(xs)
    if axis is None:
        return torch.cat([t.reshape(-1) for t in tensors])
    return torch.cat(tensors, dim=axis)


def stack(x: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    return torch.stack(_common(x), dim=axis)


def vstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join tensors along the first axis (1-D ones become rows)."""
    return torch.vstack(_common(xs))


def hstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join tensors along the second axis (the first for 1-D ones)."""
    return torch.hstack(_common(xs))


def split(x: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int) or at the given indices along `axis`."""
    x = tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"split: axis {axis} of size {size} does not divide into "
                f"{indices_or_sections} equal sections"
            )
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0, *(int(i) for i in indices_or_sections), size]
    pairs = zip(bounds[:-1], bounds[1:], strict=True)
    sizes = [max(min(end, size) - min(start, size), 0) for start, end in pairs]
    return list(torch.split(x, sizes, dim=axis))


def tile(x: TensorLike, repeats: int | Sequence[int]) -> Tensor:
    """`x` repeated `repeats` times along each axis."""
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(tensor(x), reps)


def repeat(x: TensorLike, repeats: int | TensorLike, axis: int | None = None) -> Tensor:
    """Each element repeated `repeats` times along `axis` (of the flattened tensor if None)."""
    x = tensor(x)
    if not isinstance(repeats, int):
        repeats = tensor(repeats).to(x.device)
    return torch.repeat_interleave(x, repeats, dim=axis)


def take(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """Elements of `x` at `indices` along `axis` (of the flattened tensor if None);
    negative indices count from the end."""
    x = tensor(x)
    indices = tensor(indices).to(x.device).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.dim()
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    taken = torch.index_select(x, axis, indices.reshape(-1))
    shape = (*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :])
    return taken.reshape(shape)


def take_along_axis(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """Elements of `x` picked by `indices` (broadcast against x) along `axis`."""
    x = tensor(x)
    indices = tensor(indices).to(x.device).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
        indices = indices.reshape(-1)
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.take_along_dim(x, indices, dim=axis)


def flip(x: TensorLike, axis: Axis = None) -> Tensor:
    """`x` with the order of elements reversed along `axis` (every axis if None)."""
    x = tensor(x)
    dims = axes(axis, x.dim())
    return torch.flip(x, dims=tuple(range(x.dim())) if dims is None else dims)


def roll(x: TensorLike, shift: int | Sequence[int], axis: Axis = None) -> Tensor:
    """`x` shifted cyclically by `shift` along `axis` (of the flattened tensor if None)."""
    x = tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def _pad_indices(size: int, before: int, after: int, mode: str, device: torch.device) -> Tensor:
    index = torch.arange(-before, size + after, device=device)
    if mode == "edge":
        return index.clamp(0, size - 1)
    if mode == "wrap":
        return index % size
    if mode == "reflect":
        period = max(2 * size - 2, 1)
        index = index.abs() % period
        return torch.where(index >= size, period - index, index)
    period = 2 * size  # symmetric: the edge value is repeated
    index = index % period
    return torch.where(index >= size, period - 1 - index, index)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(
    x: TensorLike,
    pad_width: int | Sequence[int] | Sequence[Sequence[int]],
    mode: str = "constant",
    constant_values: float | None = None,
) -> Tensor:
    """Pad `x` by ((before, after), ...) per axis, with NumPy's 'constant', 'edge',
    'reflect', 'symmetric' or 'wrap' mode."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad mode must be one of {_PAD_MODES}; got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"constant_values is only used with mode='constant'; got mode={mode!r}")
    x = tensor(x)
    widths = torch.broadcast_to(torch.as_tensor(pad_width), (x.dim(), 2)).tolist()
    if mode == "constant":
        flat = [int(w) for pair in reversed(widths) for w in pair]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    for axis, (before, after) in enumerate(widths):
        if before or after:
            x = torch.index_select(
                x, axis, _pad_indices(x.shape[axis], before, after, mode, x.device)
            )
    return x


def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """`x` broadcast to `shape`."""
    return torch.broadcast_to(tensor(x), tuple(shape))


def size(x: TensorLike) -> Tensor:
    """The number of elements of `x`, as a 0-d int64 tensor (Keras' torch backend)."""
    return torch.tensor(tensor(x).numel())


def ndim(x: TensorLike) -> int:
    """The rank (number of axes) of `x`."""
    return tensor(x).dim()


def nonzero(x: TensorLike) -> Tensor:
    """The int32 indices of the nonzero elements, one row per axis: shape (x.ndim, count), as
    Keras' torch backend gives them (`rows, cols = nonzero(x)` unpacks them)."""
    return torch.nonzero(tensor(x)).T.to(torch.int32)


def where(
    condition: TensorLike, x1: TensorLike | None = None, x2: TensorLike | None = None
) -> Tensor:
    """`x1` where `condition` holds, else `x2`; with neither, the int64 indices of the nonzero
    entries of `condition`, one row per axis: shape (condition.ndim, count), as Keras' torch
    backend gives them."""
    if x1 is None and x2 is None:
        return torch.stack(torch.nonzero(tensor(condition).bool(), as_tuple=True))
    if x1 is None or x2 is None:
        raise ValueError("where takes both x1 and x2, or neither")
    a, b = promote(x1, x2)
    condition, a = same_device(tensor(condition).bool(), a)
    return torch.where(condition, a, b.to(a.device))


def meshgrid(*x: TensorLike, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D vectors ('xy': Cartesian, 'ij': matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"indexing must be 'xy' or 'ij'; got {indexing!r}")
    return list(torch.meshgrid(*[tensor(v) for v in x], indexing=indexing))


def diag(x: TensorLike, k: int = 0) -> Tensor:
    """The k-th diagonal of a matrix, or a matrix with a vector on its k-th diagonal."""
    return torch.diag(tensor(x), diagonal=k)


def diagonal(x: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal over `axis1` and `axis2`, as the last axis of the result."""
    return torch.diagonal(tensor(x), offset=offset, dim1=axis1, dim2=axis2)


def trace(x: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal over `axis1` and `axis2`."""
    x = tensor(x)
    result = torch.diagonal(x, offset=offset, dim1=axis1, dim2=axis2).sum(dim=-1)
    return result.to(sum_dtype(x.dtype))


def tril(x: TensorLike, k: int = 0) -> Tensor:
    """`x` with the entries above the k-th diagonal zeroed (last two axes)."""
    return torch.tril(tensor(x), diagonal=k)


def triu(x: TensorLike, k: int = 0) -> Tensor:
    """`x` with the entries below the k-th diagonal zeroed (last two axes)."""
    return torch.triu(tensor(x), diagonal=k)
