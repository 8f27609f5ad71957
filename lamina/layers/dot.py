"""Dot: the sample-wise dot product of two tensors (cosine similarity with normalize=True).

>>> from lamina.layers import Input
>>> a, b = Input((4,)), Input((4,))
>>> Dot(axes=1, normalize=True)([a, b]).shape   # cosine similarity
(None, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .layer import Shape
from .merging import _is_int, _Merge

__all__ = ["Dot", "dot"]

# Keras' `backend.epsilon()`: the smallest norm `Dot(normalize=True)` divides by, so that an
# all-zero sample gives 0 rather than NaN.
_NORMALIZE_EPSILON = 1e-7


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

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """No mask: the product mixes the timesteps (Keras returns None too)."""
        return None

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


def dot(
    inputs: Sequence[Any], axes: int | Sequence[int] = -1, normalize: bool = False, **kwargs: Any
) -> Any:
    """`Dot(axes, normalize, **kwargs)(inputs)`: the sample-wise dot product of two tensors."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
