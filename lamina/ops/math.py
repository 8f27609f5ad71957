"""Math ops outside NumPy's namespace: erf, logsumexp, top_k, segment reductions.

>>> import lamina.ops as ops
>>> ops.top_k(ops.convert_to_tensor([1.0, 3.0, 2.0]), 2).indices.tolist()
[1, 2]
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._dtypes import Axis, TensorLike, axes, tensor, to_float

__all__ = [
    "erf",
    "erfinv",
    "in_top_k",
    "logsumexp",
    "rsqrt",
    "segment_max",
    "segment_sum",
    "top_k",
]


def erf(x: TensorLike) -> Tensor:
    """The Gauss error function, elementwise."""
    return torch.erf(to_float(x))


def erfinv(x: TensorLike) -> Tensor:
    """The inverse of the error function, elementwise."""
    return torch.erfinv(to_float(x))


def rsqrt(x: TensorLike) -> Tensor:
    """1 / sqrt(x), elementwise."""
    return torch.rsqrt(to_float(x))


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    x = to_float(x)
    dims = axes(axis, x.dim())
    return torch.logsumexp(
        x, dim=dims if dims is not None else tuple(range(x.dim())), keepdim=keepdims
    )


def top_k(x: TensorLike, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The `k` largest entries of the last axis and their indices, as (values, indices)."""
    return torch.topk(tensor(x), k, sorted=sorted)


def in_top_k(targets: TensorLike, predictions: TensorLike, k: int) -> Tensor:
    """For each row, whether the target class's prediction is among the `k` largest (ties count)."""
    predictions = tensor(predictions)
    targets = tensor(targets).to(predictions.device).long()[:, None]
    kth_largest = torch.topk(predictions, k).values[:, -1:]
    return (torch.take_along_dim(predictions, targets, dim=-1) >= kth_largest).any(dim=-1)


def _segment_reduce(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None, reduction: str
) -> Tensor:
    data = tensor(data)
    segment_ids = tensor(segment_ids).to(data.device).long()
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1
    # Ids outside [0, num_segments) go to one extra row, dropped at the end.
    segment_ids = torch.where(
        (segment_ids >= 0) & (segment_ids < num_segments), segment_ids, num_segments
    )
    index = segment_ids.view((-1,) + (1,) * (data.dim() - 1)).expand_as(data)
    fill = -float("inf") if reduction == "amax" else 0.0
    result = torch.full(
        (num_segments + 1,) + tuple(data.shape[1:]), fill, dtype=torch.float32, device=data.device
    )
    if data.dtype.is_floating_point:
        result = result.to(data.dtype)
    result = result.scatter_reduce(0, index, data.to(result.dtype), reduction)
    return result[:-1].to(data.dtype)


def segment_sum(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """Sum the rows of `data` that share a segment id (ids must be in [0, num_segments))."""
    return _segment_reduce(data, segment_ids, num_segments, "sum")


def segment_max(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """The maximum of the rows of `data` that share a segment id; empty segments give -inf."""
    return _segment_reduce(data, segment_ids, num_segments, "amax")
