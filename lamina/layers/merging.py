"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate (Dot: dot.py).

Each is called on a LIST of tensors and returns one tensor; the lower-case functions
(`add([a, b])`, `concatenate([a, b], axis=1)`, ...) build the layer and call it in one step, as
in Keras.

The elementwise merges broadcast like NumPy over the axes after the batch axis, aligned from the
right: per-sample shapes (3, 4), (4,) and (1,) merge to (3, 4); a lower-rank input gains size-1
axes right after its batch axis. Batch sizes must be equal.

>>> from lamina.layers import Input
>>> a, b = Input((4,)), Input((4,))
>>> add([a, b]).shape
(None, 4)
>>> concatenate([a, b]).shape
(None, 8)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch

from ._symbolic import KerasTensor, flatten_structure, is_shape
from .layer import Layer, Shape

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _distinct(sizes: Sequence[Any]) -> list[Any]:
    """The different values among `sizes`, in order, compared with `==` (not hashed, so
    that torch.export's symbolic sizes work too)."""
    distinct: list[Any] = []
    for size in sizes:
        if all(size != seen for seen in distinct):
            distinct.append(size)
    return distinct


def _format_shapes(shapes: Sequence[Shape]) -> str:
    """'(None, 4)', '(None, 4) and (None, 5)', '(2, 4), (2, 5) and (2, 6)'."""
    texts = [str(tuple(shape)) for shape in shapes]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"


class _Merge(Layer):
    """Checks and shape arithmetic shared by the merging layers (no weights).

    `call` receives a list or tuple of tensors. The same validation runs on the shapes of
    symbolic inputs (`compute_output_shape`) and on every eager call, so a wrong combination
    fails with the same message whether the model is being built or run.
    """

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """The outputs' dtype is the inputs' promoted type (int64 and float32 give float32),
        as the eager result's."""
        outputs = super()._symbolic_call(*args, **kwargs)
        dtypes = {str(t.dtype) for t in flatten_structure(args[0]) if hasattr(t, "dtype")}
        if len(dtypes) > 1 and isinstance(outputs, KerasTensor):
            promoted = functools.reduce(torch.promote_types, (getattr(torch, d) for d in dtypes))
            outputs.dtype = str(promoted).removeprefix("torch.")
        return outputs

    #: How many inputs the layer accepts: at least `min_inputs`, at most `max_inputs` (None: any).
    min_inputs: int = 1
    max_inputs: int | None = None
    #: The verb in messages: "Add 'add' cannot merge ...", "Concatenate 'c' cannot concatenate".
    verb: str = "merge"

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Keras' rule: the inputs' masks ORed, or None unless every input has one."""
        masks = mask if isinstance(mask, (list, tuple)) else [mask]
        if mask is None or any(m is None for m in masks):
            return None
        if any(isinstance(m, KerasTensor) for m in masks):  # `logical_or` nodes, as in Keras
            from .. import ops

            return functools.reduce(ops.logical_or, masks)
        return functools.reduce(torch.logical_or, masks)

    # ------------------------------------------------------------------ input checks

    def _count_phrase(self) -> str:
        if self.max_inputs == self.min_inputs:
            return f"a list of exactly {self.min_inputs} tensors"
        return "a list of tensors"

    def _usage(self) -> str:
        return f"{type(self).__name__}()([x, y])"

    def _input_shapes(self, inputs: Any, *, symbolic: bool) -> list[Shape]:
        """The inputs' shapes, after checking that they are a list of the right length.

        `symbolic`: `inputs` holds shapes (from `compute_output_shape`) rather than tensors.
        """
        got = None
        if symbolic and is_shape(inputs):
            got = f"a single input of shape {inputs}"
        elif isinstance(inputs, torch.Tensor):
            got = f"a single tensor of shape {tuple(inputs.shape)}"
        elif not isinstance(inputs, (list, tuple)):
            got = type(inputs).__name__
        else:
            count = len(inputs)
            if count == 0:
                got = "an empty list"
            elif count < self.min_inputs or (
                self.max_inputs is not None and count > self.max_inputs
            ):
                got = f"{count}: {_format_shapes(self._leaf_shapes(inputs, symbolic))}"
        if got is not None:
            raise ValueError(
                f"{self._describe()} must be called on {self._count_phrase()}, "
                f"e.g. {self._usage()}; got {got}"
            )
        return self._leaf_shapes(inputs, symbolic)

    def _leaf_shapes(self, inputs: Sequence[Any], symbolic: bool) -> list[Shape]:
        shapes = []
        for index, item in enumerate(inputs):
            if symbolic and is_shape(item):
                shapes.append(tuple(item))
            elif not symbolic and isinstance(item, torch.Tensor):
                shapes.append(tuple(item.shape))
            else:
                raise TypeError(
                    f"{self._describe()} expects a list of tensors; item {index} is "
                    f"{type(item).__name__}"
                )
        return shapes

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        """The output shape for these input shapes; raises ValueError when they do not fit."""
        raise NotImplementedError

    def _incompatible(self, shapes: Sequence[Shape], reason: str) -> ValueError:
        return ValueError(
            f"{self._describe()} cannot {self.verb} inputs of shapes {_format_shapes(shapes)}: "
            f"{reason}"
        )

    # ------------------------------------------------------------------ Layer API

    def compute_output_shape(self, input_shape: Any) -> Shape:
        return self._merged_shape(self._input_shapes(input_shape, symbolic=True))

    def call(self, inputs: Any) -> torch.Tensor:
        shapes = self._input_shapes(inputs, symbolic=False)
        self._merged_shape(shapes)
        return self._merge(list(inputs), shapes)

    def _merge(self, inputs: list[torch.Tensor], shapes: list[Shape]) -> torch.Tensor:
        raise NotImplementedError


class _ElementwiseMerge(_Merge):
    """Merges by an elementwise operation, with batch-aware broadcasting (see the module doc)."""

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        if all(shape == first for shape in shapes[1:]):
            return first
        batch_sizes = _distinct([shape[0] for shape in shapes if shape and shape[0] is not None])
        if any(len(shape) == 0 for shape in shapes):
            raise self._incompatible(shapes, "every input needs a batch axis")
        if len(batch_sizes) > 1:
            raise self._incompatible(shapes, "their batch sizes differ")
        rank = max(len(shape) - 1 for shape in shapes)
        merged: list[int | None] = []
        for axis in range(-rank, 0):
            sizes = [shape[axis] for shape in shapes if len(shape) - 1 >= -axis]
            known = _distinct([size for size in sizes if size is not None and size != 1])
            if len(known) > 1:
                listed = ", ".join(str(size) for size in sizes)
                raise self._incompatible(
                    shapes,
                    f"axis {axis} has sizes {listed}; each axis (counted from the last) must "
                    "have equal sizes or size 1",
                )
            # An unknown size makes the axis unknown, as in Keras (Add on (None, 3) and (4, 3)
            # gives (None, None, 3)); else a size other than 1 is the one the rest broadcast to.
            if None in sizes:
                merged.append(None)
            else:
                merged.append(known.pop() if known else 1)
        return (batch_sizes[0] if batch_sizes else None, *merged)

    def _merge(self, inputs: list[torch.Tensor], shapes: list[Shape]) -> torch.Tensor:
        rank = max(len(shape) for shape in shapes)
        if any(len(shape) != rank for shape in shapes):
            inputs = [x.reshape(x.shape[0], *([1] * (rank - x.ndim)), *x.shape[1:]) for x in inputs]
        return self._combine(inputs)

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class Add(_ElementwiseMerge):
    """Adds a list of tensors elementwise.

    Input shape:
        a list of tensors (at least one) with broadcast-compatible shapes (see the module doc).
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Add()([torch.ones(2, 3), torch.ones(2, 3)]).tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(_ElementwiseMerge):
    """Subtracts the second of exactly two tensors from the first: `inputs[0] - inputs[1]`.

    Input shape:
        a list of two tensors with broadcast-compatible shapes.
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Subtract()([torch.ones(1, 2), torch.tensor([[0.5, 2.0]])]).tolist()
    [[0.5, -1.0]]
    """

    min_inputs = 2
    max_inputs = 2

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]


class Multiply(_ElementwiseMerge):
    """Multiplies a list of tensors elementwise (e.g. gating: `multiply([x, gate])`).

    Input shape:
        a list of tensors (at least one) with broadcast-compatible shapes.
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Multiply()([torch.tensor([[2.0, 3.0]]), torch.tensor([[4.0, -1.0]])]).tolist()
    [[8.0, -3.0]]
    """

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output


class Average(_ElementwiseMerge):
    """The elementwise mean of a list of tensors (e.g. averaging an ensemble's outputs).

    Input shape:
        a list of tensors (at least one) with broadcast-compatible shapes.
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Average()([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 6.0]])]).tolist()
    [[2.0, 4.0]]
    """

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(_ElementwiseMerge):
    """The elementwise maximum of a list of tensors.

    Input shape:
        a list of tensors (at least one) with broadcast-compatible shapes.
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Maximum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])]).tolist()
    [[3.0, 5.0]]
    """

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.maximum(output, x)
        return output


class Minimum(_ElementwiseMerge):
    """The elementwise minimum of a list of tensors.

    Input shape:
        a list of tensors (at least one) with broadcast-compatible shapes.
    Output shape:
        the broadcast shape.

    >>> import torch
    >>> Minimum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])]).tolist()
    [[1.0, 2.0]]
    """

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.minimum(output, x)
        return output


class Concatenate(_Merge):
    """Joins a list of tensors along `axis`.

    No broadcasting: the inputs must have the same rank and the same sizes on every other axis
    (an unknown size, None, matches any).

    Args:
        axis: the axis to join along; negative counts from the last (default -1, the features).

    Input shape:
        a list of tensors (at least one) of equal rank.
    Output shape:
        the common shape, with the sum of the sizes on `axis`.

    >>> import torch
    >>> Concatenate(axis=1)([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape
    torch.Size([2, 8, 4])
    """

    verb = "concatenate"

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not _is_int(axis):
            raise TypeError(f"{self._describe()}: axis must be an int; got {axis!r}")
        self.axis = axis

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Keras' rule: each input's mask (all True where it has none, widened to its shape),
        concatenated on `axis`, then any() over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        if any(isinstance(t, KerasTensor) for t in inputs):
            return self._symbolic_mask(inputs, mask)
        full = []
        for tensor, one in zip(inputs, mask, strict=True):
            if one is None:
                one = torch.ones(tensor.shape, dtype=torch.bool, device=tensor.device)
            elif one.ndim < tensor.ndim:
                one = one.unsqueeze(-1).expand(tensor.shape)
            full.append(one.bool())
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def _symbolic_mask(self, inputs: Any, mask: Any) -> Any:
        """`compute_mask` on symbolic tensors: Keras' ops, recorded in the graph."""
        from .. import ops

        full = []
        for tensor, one in zip(inputs, mask, strict=True):
            if one is None:
                one = ops.ones_like(tensor, dtype="bool")
            elif one.ndim < tensor.ndim:
                zeros = ops.zeros_like(tensor, dtype="bool")
                one = ops.logical_or(ops.expand_dims(one, axis=-1), zeros)
            full.append(one)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1, keepdims=False)

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        rank = len(first)
        if all(shape == first for shape in shapes[1:]) and -rank <= self.axis < rank:
            size = first[self.axis]
            return tuple(
                (None if size is None else size * len(shapes)) if index == self.axis % rank else d
                for index, d in enumerate(first)
            )
        if any(len(shape) != rank for shape in shapes[1:]):
            raise self._incompatible(
                shapes, f"their ranks differ; all must have the same rank to join on axis "
                f"{self.axis}"
            )  # fmt: skip
        if not -rank <= self.axis < rank:
            raise self._incompatible(
                shapes, f"axis {self.axis} is out of range for rank-{rank} inputs"
            )
        axis = self.axis % rank
        merged: list[int | None] = []
        for index in range(rank):
            sizes = [shape[index] for shape in shapes]
            if index == axis:
                merged.append(None if None in sizes else sum(sizes))
                continue
            known = _distinct([size for size in sizes if size is not None])
            if len(known) > 1:
                listed = ", ".join(str(size) for size in sizes)
                raise self._incompatible(
                    shapes,
                    f"axis {index} has sizes {listed}; every axis other than the "
                    f"concatenation axis ({self.axis}) must match",
                )
            merged.append(known.pop() if known else None)
        return tuple(merged)

    def _merge(self, inputs: list[torch.Tensor], shapes: list[Shape]) -> torch.Tensor:
        return torch.cat(inputs, dim=self.axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Add(**kwargs)(inputs)`: the elementwise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Subtract(**kwargs)(inputs)`: `inputs[0] - inputs[1]`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Multiply(**kwargs)(inputs)`: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Average(**kwargs)(inputs)`: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Maximum(**kwargs)(inputs)`: the elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """`Minimum(**kwargs)(inputs)`: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """`Concatenate(axis, **kwargs)(inputs)`: a list of tensors joined along `axis`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
