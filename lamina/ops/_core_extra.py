"""More core ops: `scan` and `associative_scan` loops over a leading axis, and einops'
`rearrange`.

>>> from lamina.ops import convert_to_tensor
>>> from lamina.ops._core_extra import scan
>>> carry, ys = scan(lambda c, x: (c + x, c), 0.0, convert_to_tensor([1.0, 2.0, 3.0]))
>>> float(carry), ys.tolist()
(6.0, [0.0, 1.0, 3.0])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._dtypes import TensorLike
from ._dtypes import tensor as as_tensor

__all__ = ["associative_scan", "rearrange", "scan"]


def _map(function: Callable[[Any], Any], tree: Any) -> Any:
    # Nested tuples, lists and dicts of tensors, as JAX's pytrees.
    if isinstance(tree, tuple | list):
        return type(tree)(_map(function, item) for item in tree)
    if isinstance(tree, dict):
        return {key: _map(function, value) for key, value in tree.items()}
    return function(tree)


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, tuple | list):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    return [tree]


def _stack(trees: list[Any], axis: int = 0) -> Any:
    first = trees[0]
    if isinstance(first, tuple | list):
        return type(first)(_stack([tree[i] for tree in trees], axis) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _stack([tree[key] for tree in trees], axis) for key in first}
    if first is None:
        return None
    return torch.stack([as_tensor(tree) for tree in trees], dim=axis)


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """Loop `carry, y = f(carry, x)` over the leading axis of `xs` (or `length` times with
    x = None) and return (final carry, the ys stacked), as `jax.lax.scan`."""
    xs_tensors = None if xs is None else _map(as_tensor, xs)
    if xs_tensors is None:
        if length is None:
            raise ValueError("scan needs `xs` or `length`; got neither")
        steps = int(length)
    else:
        steps = int(_leaves(xs_tensors)[0].shape[0])
        if length is not None and int(length) != steps:
            raise ValueError(f"scan: length={length} differs from the leading axis {steps} of xs")
    carry = _map(lambda v: as_tensor(v) if not isinstance(v, Tensor) else v, init)
    ys: list[Any] = [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for i in order:
        x = None if xs_tensors is None else _map(lambda leaf, i=i: leaf[i], xs_tensors)
        carry, ys[i] = f(carry, x)
    return carry, (_stack(ys) if steps else None)


def associative_scan(
    f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0
) -> Any:
    """The running reduction with the associative `f` along `axis`: out[i] = f(out[i - 1],
    elems[i]) (from the end when `reverse`), as `jax.lax.associative_scan`."""
    elems = _map(as_tensor, elems)
    size = int(_leaves(elems)[0].shape[axis])
    parts = [_map(lambda leaf, i=i: leaf.select(axis, i), elems) for i in range(size)]
    if reverse:
        parts = parts[::-1]
    outputs = [parts[0]]
    for part in parts[1:]:
        # Reversed, the later element stays on the left as in JAX.
        outputs.append(f(part, outputs[-1]) if reverse else f(outputs[-1], part))
    if reverse:
        outputs = outputs[::-1]
    return _stack(outputs, axis)


_TOKEN = re.compile(r"\([^)]*\)|\.\.\.|[^\s()]+")


def _parse(side: str) -> list[list[str]]:
    groups = []
    for token in _TOKEN.findall(side):
        groups.append(token[1:-1].split() if token.startswith("(") else [token])
    return groups


def rearrange(tensor: TensorLike, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder, merge and split axes by an einops pattern: 'b h w c -> b (h w) c',
    '(h w) c -> c h w' with h=2; '...' stands for the axes not named."""
    x = as_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange pattern must contain '->'; got {pattern!r}")
    left, right = (_parse(side) for side in pattern.split("->"))
    ellipsis = x.dim() - len(left) + 1 if ["..."] in left else 0
    if ["..."] not in left and len(left) != x.dim():
        raise ValueError(
            f"rearrange pattern {pattern!r} names {len(left)} axes; the tensor has {x.dim()}"
        )
    sizes: dict[str, int] = dict(axes_lengths)
    elementary: list[str] = []
    shape: list[int] = []
    dim = 0
    for group in left:
        if group == ["..."]:
            names = [f"...{i}" for i in range(ellipsis)]
            for name in names:
                sizes[name] = x.shape[dim]
                dim += 1
            elementary += names
            shape += [sizes[n] for n in names]
            continue
        total = x.shape[dim]
        unknown = [n for n in group if n not in sizes]
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the sizes of all but one of {group} (as name=size)")
        known = math.prod(sizes[n] for n in group if n in sizes)
        if unknown:
            sizes[unknown[0]] = total // known
        if math.prod(sizes[n] for n in group) != total:
            raise ValueError(f"rearrange: axes {group} do not multiply to the axis size {total}")
        elementary += group
        shape += [sizes[n] for n in group]
        dim += 1
    x = x.reshape(shape)
    expanded = [
        name
        for group in right
        for name in ([f"...{i}" for i in range(ellipsis)] if group == ["..."] else group)
    ]
    if sorted(expanded) != sorted(elementary):
        raise ValueError(f"rearrange: the two sides of {pattern!r} name different axes")
    x = x.permute([elementary.index(name) for name in expanded])
    final = []
    for group in right:
        names = [f"...{i}" for i in range(ellipsis)] if group == ["..."] else group
        if group == ["..."]:
            final += [sizes[n] for n in names]
        else:
            final.append(math.prod(sizes[n] for n in names))
    return x.reshape(final)
