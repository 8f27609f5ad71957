"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

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
>>> Dot(axes=1, normalize=True)([a, b]).shape   # cosine similarity
(None, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._symbolic import is_shape
from .layer import Layer, Shape

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]

# Keras' `backend.epsilon()`: the smallest norm `Dot(normalize=True)` divides by, so that an
# all-zero sample gives 0 rather than NaN.
_NORMALIZE_EPSILON = 1e-7


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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

    #: How many inputs the layer accepts: at least `min_inputs`, at most `max_inputs` (None: any).
    min_inputs: int = 1
    max_inputs: int | None = None
    #: The verb in messages: "Add 'add' cannot merge ...", "Concatenate 'c' cannot concatenate".
    verb: str = "merge"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.built = True

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
        batch_sizes = {shape[0] for shape in shapes if shape and shape[0] is not None}
        if any(len(shape) == 0 for shape in shapes):
            raise self._incompatible(shapes, "every input needs a batch axis")
        if len(batch_sizes) > 1:
            raise self._incompatible(shapes, "their batch sizes differ")
        rank = max(len(shape) - 1 for shape in shapes)
        merged: list[int | None] = []
        for axis in range(-rank, 0):
            sizes = [shape[axis] for shape in shapes if len(shape) - 1 >= -axis]
            known = {size for size in sizes if size is not None and size != 1}
            if len(known) > 1:
                listed = ", ".join(str(size) for size in sizes)
                raise self._incompatible(
                    shapes,
                    f"axis {axis} has sizes {listed}; each axis (counted from the last) must "
                    "have equal sizes or size 1",
                )
            # A known size other than 1 is the only one that can broadcast with the rest.
            if known:
                merged.append(known.pop())
            else:
                merged.append(None if None in sizes else 1)
        return (next(iter(batch_sizes)) if batch_sizes else None, *merged)

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
            known = {size for size in sizes if size is not None}
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


class Dot(_Merge):
    """The dot product of two tensors along an axis of each, sample by sample.

    For `x` of shape (batch, *xs) and `y` of shape (batch, *ys), the sizes on the two `axes`
    are multiplied together and summed; the output holds the remaining axes of `x`, then those
    of `y` (Keras' `batch_dot`). Two vectors give (batch, 1).

    Args:
        axes: one axis for both inputs, or a pair (axis of x, axis of y); negative counts from
            each input's last axis. The batch axis (0) cannot be an axis of the product.
        normalize: L2-normalize each input along its axis first, so that the product of two
            vectors is their cosine similarity.

    Input shape:
        a list of two tensors of rank 2 or more whose sizes on `axes` match.
    Output shape:
        (batch, *xs without its axis, *ys without its axis), or (batch, 1) when nothing is left.

    >>> import torch
    >>> Dot(axes=1)([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])]).tolist()
    [[11.0]]
    >>> Dot(axes=(1, 2))([torch.zeros(8, 5, 3), torch.zeros(8, 4, 5)]).shape
    torch.Size([8, 3, 4])
    """

    min_inputs = 2
    max_inputs = 2
    verb = "take the dot product of"

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if _is_int(axes):
            self.axes: int | list[int] = axes
        elif (
            isinstance(axes, Sequence)
            and not isinstance(axes, str)
            and len(axes) == 2
            and all(_is_int(axis) for axis in axes)
        ):
            self.axes = [int(axis) for axis in axes]
        else:
            error = (
                ValueError
                if isinstance(axes, Sequence) and not isinstance(axes, str)
                else TypeError
            )
            raise error(
                f"{self._describe()}: axes must be an int or a pair of ints (axis of the first "
                f"input, axis of the second); got {axes!r}"
            )
        if 0 in ([self.axes] if _is_int(self.axes) else self.axes):
            raise ValueError(
                f"{self._describe()}: axes={axes!r} names the batch axis (0); a Dot layer "
                "multiplies along axes of each sample, numbered from 1 (or negative)"
            )
        self.normalize = bool(normalize)

    def _usage(self) -> str:
        return "Dot(axes=1)([x, y])"

    def _resolved_axes(self, shapes: list[Shape]) -> tuple[int, int]:
        axes = [self.axes, self.axes] if _is_int(self.axes) else self.axes
        resolved = []
        for axis, shape in zip(axes, shapes, strict=True):
            rank = len(shape)
            if rank < 2:
                raise self._incompatible(
                    shapes, "each input needs a batch axis and at least one more axis"
                )
            if not -rank < axis < rank:
                raise self._incompatible(
                    shapes, f"axes={self.axes} is out of range for a rank-{rank} input"
                )
            resolved.append(axis % rank)
        return resolved[0], resolved[1]

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        x_axis, y_axis = self._resolved_axes(shapes)
        x_shape, y_shape = shapes
        if None not in (x_shape[0], y_shape[0]) and x_shape[0] != y_shape[0]:
            raise self._incompatible(shapes, "their batch sizes differ")
        x_size, y_size = x_shape[x_axis], y_shape[y_axis]
        if None not in (x_size, y_size) and x_size != y_size:
            raise self._incompatible(
                shapes,
                f"the first has size {x_size} on axis {x_axis} and the second size {y_size} on "
                f"axis {y_axis}; the sizes along `axes` must be equal",
            )
        rest = [
            *(size for index, size in enumerate(x_shape) if index not in (0, x_axis)),
            *(size for index, size in enumerate(y_shape) if index not in (0, y_axis)),
        ]
        batch = x_shape[0] if x_shape[0] is not None else y_shape[0]
        return (batch, *rest) if rest else (batch, 1)

    def _merge(self, inputs: list[torch.Tensor], shapes: list[Shape]) -> torch.Tensor:
        x, y = inputs
        x_axis, y_axis = self._resolved_axes(shapes)
        if self.normalize:
            x = F.normalize(x, dim=x_axis, eps=_NORMALIZE_EPSILON)
            y = F.normalize(y, dim=y_axis, eps=_NORMALIZE_EPSILON)
        # (batch, rest of x, k) @ (batch, k, rest of y) as one batched matrix product.
        x = x.movedim(x_axis, -1)
        y = y.movedim(y_axis, 1)
        x_rest, y_rest = x.shape[1:-1], y.shape[2:]
        batch, size = x.shape[0], x.shape[-1]
        product = torch.bmm(
            x.reshape(batch, math.prod(x_rest), size), y.reshape(batch, size, math.prod(y_rest))
        )
        if not x_rest and not y_rest:
            return product.reshape(batch, 1)
        return product.reshape(batch, *x_rest, *y_rest)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


# ---------------------------------------------------------------------- functional forms


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


def dot(
    inputs: Sequence[Any], axes: int | Sequence[int] = -1, normalize: bool = False, **kwargs: Any
) -> Any:
    """`Dot(axes, normalize, **kwargs)(inputs)`: the sample-wise dot product of two tensors."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
