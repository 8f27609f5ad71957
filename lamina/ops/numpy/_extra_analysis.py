"""Statistics and analysis: correlation coefficients, 1-D correlation, trapezoid integration,
signed log-determinants, and `vectorize`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .._dtypes import TensorLike, promote, tensor, to_float
from ._elementwise import _float_pair


def corrcoef(x: TensorLike) -> Tensor:
    """The Pearson correlation coefficients of the rows of `x` (variables) over its columns."""
    return torch.corrcoef(to_float(x))


_CORRELATE_MODES = ("valid", "same", "full")


def correlate(x1: TensorLike, x2: TensorLike, mode: str = "valid") -> Tensor:
    """The cross-correlation of two 1-D sequences: c[k] = sum_n x1[n + k] * x2[n]."""
    if mode not in _CORRELATE_MODES:
        raise ValueError(f"correlate mode must be one of {_CORRELATE_MODES}; got {mode!r}")
    a, v = _float_pair(x1, x2)
    if a.dim() != 1 or v.dim() != 1:
        raise ValueError(
            f"correlate expects two 1-D tensors; got shapes {tuple(a.shape)} and {tuple(v.shape)}"
        )
    n, m = a.shape[0], v.shape[0]
    full = F.conv1d(a[None, None], v[None, None], padding=m - 1)[0, 0]
    if mode == "full":
        return full
    if mode == "valid":
        return full[min(n, m) - 1 : max(n, m)]
    start = (min(n, m) - 1) // 2
    return full[start : start + max(n, m)]


def trapezoid(
    y: TensorLike, x: TensorLike | None = None, dx: float = 1.0, axis: int = -1
) -> Tensor:
    """The integral of `y` along `axis` by the trapezoid rule, at points `x` or spacing `dx`."""
    y = to_float(y)
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    y, x = promote(y, to_float(x))
    return torch.trapezoid(y, x, dim=axis)


def slogdet(x: TensorLike) -> tuple[Tensor, Tensor]:
    """The sign and the log of the absolute value of the determinant, as (sign, logabsdet)."""
    return tuple(torch.linalg.slogdet(to_float(x)))


def _core_ranks(signature: str | None, count: int) -> tuple[list[int], int]:
    if signature is None:
        return [0] * count, 0
    match = re.fullmatch(r"\s*(.*?)\s*->\s*(.*?)\s*", signature)
    if match is None:
        raise ValueError(f"vectorize signature must look like '(n),(n)->()'; got {signature!r}")
    groups = [re.findall(r"\(([^)]*)\)", side) for side in match.groups()]
    ranks = [len([d for d in group.split(",") if d.strip()]) for group in groups[0]]
    outputs = [len([d for d in group.split(",") if d.strip()]) for group in groups[1]]
    return ranks, outputs[0] if outputs else 0


def vectorize(
    pyfunc: Callable[..., Any],
    *,
    excluded: set[int | str] | None = None,
    signature: str | None = None,
) -> Callable[..., Any]:
    """`pyfunc` turned into a function that maps over the leading (batch) axes of its tensor
    arguments with `torch.vmap`; `signature` ('(n),(n)->()') names each argument's core axes,
    `excluded` the positions or names of arguments passed through unchanged."""
    excluded = set(excluded or ())

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        mapped = [i for i in range(len(args)) if i not in excluded]
        tensors = [tensor(args[i]) for i in mapped]
        ranks, _ = _core_ranks(signature, len(tensors))
        if len(ranks) != len(tensors):
            raise ValueError(
                f"vectorize signature {signature!r} names {len(ranks)} inputs; got {len(tensors)}"
            )
        batch = torch.broadcast_shapes(
            *(t.shape[: t.dim() - r] for t, r in zip(tensors, ranks, strict=True))
        )
        tensors = [
            torch.broadcast_to(t, tuple(batch) + tuple(t.shape[t.dim() - r :]))
            for t, r in zip(tensors, ranks, strict=True)
        ]
        static = {i: a for i, a in enumerate(args) if i in excluded}

        def call(*values: Tensor) -> Any:
            full: list[Any] = []
            iterator = iter(values)
            for i in range(len(args)):
                full.append(static[i] if i in static else next(iterator))
            return pyfunc(*full, **kwargs)

        function = call
        for _ in range(len(batch)):
            function = torch.vmap(function)
        return function(*tensors)

    return wrapped
