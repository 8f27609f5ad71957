"""Core ops: conversion, dtypes, shapes, slicing and scattering, control flow.

>>> import lamina.ops as ops
>>> ops.shape(ops.convert_to_tensor([[1, 2, 3]]))
(1, 3)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._core_extra import associative_scan, rearrange, scan
from ._dtypes import DTypeLike, TensorLike, dtype_name, tensor, to_torch_dtype

__all__ = [
    "associative_scan",
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "is_tensor",
    "map",
    "rearrange",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "stop_gradient",
    "switch",
    "unstack",
    "vectorized_map",
    "while_loop",
]


def convert_to_tensor(
    x: TensorLike, dtype: DTypeLike = None, sparse: bool | None = None, ragged: bool | None = None
) -> Tensor:
    """Convert an array-like (tensor, NumPy array, Python number or list) to a torch tensor."""
    if sparse or ragged:
        raise ValueError("lamina tensors are dense: sparse=True and ragged=True are not supported")
    return tensor(x, dtype)


def convert_to_numpy(x: TensorLike) -> np.ndarray:
    """Convert a tensor to a NumPy array (detached, on the CPU; bfloat16 becomes float32)."""
    if not isinstance(x, Tensor):
        return np.asarray(x)
    x = x.detach().cpu()
    if x.dtype == torch.bfloat16:
        x = x.float()
    return x.numpy()


def cast(x: TensorLike, dtype: DTypeLike) -> Tensor:
    """Cast a tensor to `dtype` ('float32', 'int32', ...); floats cast to ints truncate."""
    return tensor(x).to(to_torch_dtype(dtype))


def saturate_cast(x: TensorLike, dtype: DTypeLike) -> Tensor:
    """Cast to `dtype`, clipping values to its range first so they cannot wrap around."""
    x = tensor(x)
    target = to_torch_dtype(dtype)
    if not target.is_floating_point and target != torch.bool:
        info = torch.iinfo(target)
        x = x.clamp(info.min, info.max)
    elif target.is_floating_point and x.dtype.is_floating_point:
        info = torch.finfo(target)
        x = x.clamp(info.min, info.max)
    return x.to(target)


def shape(x: TensorLike) -> tuple[int, ...]:
    """The shape of `x` as a tuple of Python ints."""
    return tuple(tensor(x).shape) if not hasattr(x, "shape") else tuple(int(d) for d in x.shape)


def dtype(x: TensorLike) -> str:
    """The Keras name of `x`'s dtype ('float32', 'int32', ...)."""
    return dtype_name(tensor(x).dtype)


def is_tensor(x: Any) -> bool:
    """True if `x` is a torch tensor (NumPy arrays are not)."""
    return isinstance(x, Tensor)


def stop_gradient(variable: TensorLike) -> Tensor:
    """The same values with no gradient flowing back through them."""
    return tensor(variable).detach()


def _slices(start_indices: Sequence[int] | Tensor, sizes: Sequence[int]) -> tuple:
    # `slice` is this module's op, so Python's own comes through `builtins`.
    if isinstance(start_indices, Tensor):
        start_indices = start_indices.tolist()
    starts = [int(s) for s in start_indices]
    return tuple(builtins.slice(s, s + int(n)) for s, n in zip(starts, sizes, strict=True))


def slice(inputs: TensorLike, start_indices: Sequence[int], shape: Sequence[int]) -> Tensor:
    """The block of `inputs` starting at `start_indices` with size `shape`."""
    return tensor(inputs)[_slices(start_indices, shape)]


def slice_update(inputs: TensorLike, start_indices: Sequence[int], updates: TensorLike) -> Tensor:
    """A copy of `inputs` with the block at `start_indices` replaced by `updates`."""
    inputs = tensor(inputs)
    updates = tensor(updates, inputs.dtype).to(inputs.device)
    outputs = inputs.clone()
    outputs[_slices(start_indices, updates.shape)] = updates
    return outputs


def _index_tuple(indices: Tensor) -> tuple[Tensor, ...]:
    # Keras indices are (..., k): the last axis holds one coordinate per leading axis of the target.
    indices = indices.long()
    return tuple(indices[..., i] for i in range(indices.shape[-1]))


def scatter(indices: TensorLike, values: TensorLike, shape: Sequence[int]) -> Tensor:
    """A zero tensor of `shape` with `values` added at `indices` (shape (..., len(index)))."""
    values = tensor(values)
    indices = tensor(indices).to(values.device)
    outputs = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    return outputs.index_put(_index_tuple(indices), values, accumulate=True)


_REDUCTIONS = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


def scatter_update(
    inputs: TensorLike, indices: TensorLike, updates: TensorLike, reduction: str | None = None
) -> Tensor:
    """A copy of `inputs` with `updates` written (or reduced with 'add', 'mul', 'max', 'min')
    at `indices`."""
    inputs = tensor(inputs)
    updates = tensor(updates, inputs.dtype).to(inputs.device)
    index = _index_tuple(tensor(indices).to(inputs.device))
    if reduction is None:
        return inputs.index_put(index, updates)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be None, 'add', 'mul', 'max' or 'min'; got {reduction!r}")
    if reduction == "add":
        return inputs.index_put(index, updates, accumulate=True)
    # Flatten the indexed leading axes so scatter_reduce can run along one axis.
    depth = len(index)
    lead = inputs.shape[:depth]
    flat_index = torch.zeros_like(index[0])
    for axis, position in enumerate(index):
        flat_index = flat_index * lead[axis] + position
    flat = inputs.reshape((-1,) + tuple(inputs.shape[depth:]))
    flat_index = flat_index.reshape(-1)
    source = updates.reshape((-1,) + tuple(inputs.shape[depth:]))
    expanded = flat_index.view((-1,) + (1,) * (flat.dim() - 1)).expand_as(source)
    out = flat.scatter_reduce(0, expanded, source, _REDUCTIONS[reduction], include_self=True)
    return out.reshape(inputs.shape)


def cond(pred: TensorLike, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """Call `true_fn()` if `pred` is true, else `false_fn()` (a Python branch)."""
    return true_fn() if bool(pred) else false_fn()


def switch(index: TensorLike, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Call `branches[index](*operands)`, with `index` clamped to the valid range."""
    position = min(max(int(index), 0), len(branches) - 1)
    return branches[position](*operands)


def fori_loop(lower: int, upper: int, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    """Run `val = body_fun(i, val)` for i in range(lower, upper) and return `val`."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    """Run `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (and under
    `maximum_iterations`), keeping `loop_vars`' structure."""
    is_sequence = isinstance(loop_vars, list | tuple)
    values = tuple(loop_vars) if is_sequence else (loop_vars,)
    iteration = 0
    while (maximum_iterations is None or iteration < maximum_iterations) and bool(cond(*values)):
        values = body(*values)
        values = tuple(values) if isinstance(values, list | tuple) else (values,)
        iteration += 1
    return values if is_sequence else values[0]


def map(f: Callable[[Tensor], Any], xs: TensorLike) -> Any:
    """Apply `f` to each slice of `xs` along its first axis and stack the results."""
    outputs = [f(x) for x in tensor(xs)]
    if outputs and isinstance(outputs[0], tuple | list):
        return type(outputs[0])(torch.stack(list(parts)) for parts in zip(*outputs, strict=True))
    return torch.stack(outputs)


def vectorized_map(function: Callable[[Tensor], Any], elements: TensorLike) -> Any:
    """Apply `function` to each element along the first axis (via torch.vmap)."""
    return torch.vmap(function)(tensor(elements))


def unstack(x: TensorLike, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """Split `x` along `axis` into a list of tensors of one rank less."""
    return list(torch.unbind(tensor(x), dim=axis))


def custom_gradient(f: Callable[..., tuple[Any, Callable[..., Any]]]) -> Callable[..., Tensor]:
    """Decorate `f(*args) -> (output, grad_fn)` so backward uses `grad_fn(*args, upstream=g)`
    (or `grad_fn(g)`) instead of autograd's gradient of `f`."""

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *args: Any) -> Tensor:
            with torch.enable_grad():
                output, grad_fn = f(*args)
            ctx.grad_fn = grad_fn
            ctx.args = args
            return output.detach()

        @staticmethod
        def backward(ctx: Any, upstream: Tensor) -> Any:
            try:
                grads = ctx.grad_fn(*ctx.args, upstream=upstream)
            except TypeError:
                grads = ctx.grad_fn(upstream)
            return grads if isinstance(grads, tuple | list) else (grads,)

    def wrapper(*args: Any) -> Tensor:
        return _Function.apply(*args)

    return wrapper
