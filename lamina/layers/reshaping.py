"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector.

The batch axis is never touched, and unknown (None) sizes stay unknown in the inferred shape.
Padding, cropping and upsampling of images live in `spatial_reshaping.py`.

>>> from lamina.layers import Input
>>> Flatten()(Input((28, 28, 1))).shape
(None, 784)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ._conv_utils import normalize_data_format
from .layer import Layer, Shape

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Flatten(Layer):
    """Flattens each sample to one axis: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    With channels_last the order is a plain reshape's (C order), as Keras. With
    `data_format='channels_first'` the channels are moved last first, so that a model gives the
    same features in either layout.

    Args:
        data_format: 'channels_last' or 'channels_first'; default
            `lamina.config.image_data_format()`.

    Input shape:
        (batch, ...), any rank from 1 on.
    Output shape:
        (batch, product of the other sizes); (batch, 1) for a 1-D input.

    >>> import torch
    >>> Flatten()(torch.zeros(2, 3, 4)).shape
    torch.Size([2, 12])
    """

    min_ndim = 1
    input_description = "(batch, ...)"

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, f"Flatten '{self.name}'")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sizes = input_shape[1:]
        return (input_shape[0], None if None in sizes else math.prod(sizes))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch axis is kept).

    Args:
        target_shape: the new shape of one sample; one entry may be -1, inferred from the rest.

    Input shape:
        (batch, ...) with as many values per sample as `target_shape` holds.
    Output shape:
        (batch, *target_shape).

    >>> import torch
    >>> Reshape((-1, 2))(torch.zeros(5, 3, 4)).shape
    torch.Size([5, 6, 2])
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_shape, Sequence):  # Keras iterates it: a TypeError
            raise TypeError(
                f"Reshape '{self.name}': target_shape must be a tuple of ints (one sample's "
                f"shape, e.g. (12,)); got {target_shape!r}, which is not iterable"
            )
        if (
            not all(_is_int(d) and (d > 0 or d == -1) for d in target_shape)
            or list(target_shape).count(-1) > 1
        ):
            raise ValueError(
                f"Reshape '{self.name}': target_shape must be a tuple of positive ints with at "
                f"most one -1 (the batch axis excluded); got {target_shape!r}"
            )
        self.target_shape = tuple(target_shape)
        self.built = True

    def _resolve(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """target_shape with its -1 filled in from one sample's `input_shape` (None if unknown)."""
        known = math.prod(d for d in self.target_shape if d != -1)
        if None in input_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(input_shape)
        if -1 in self.target_shape:
            fits = total % known == 0
            resolved = tuple(total // known if d == -1 else d for d in self.target_shape)
        else:
            fits = total == known
            resolved = self.target_shape
        if not fits:
            raise ValueError(
                f"Reshape '{self.name}' cannot reshape inputs of shape (batch, "
                f"{', '.join(map(str, input_shape))}) ({total} values per sample) to "
                f"target_shape {self.target_shape} ({known} values"
                f"{' times the -1 axis' if -1 in self.target_shape else ''}); give a "
                "target_shape with the same number of values"
            )
        return resolved

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self._resolve(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self._resolve(input_shape[1:]))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_shape"] = tuple(self.target_shape)
        return config


class Permute(Layer):
    """Permutes the axes of each sample; `dims` counts from 1 (the batch axis is 0 and stays).

    Args:
        dims: the new order of the sample axes, a permutation of 1..n; `(2, 1)` swaps the two
            axes of a (batch, steps, features) input.

    Input shape:
        (batch, d1, ..., dn) with n = len(dims).
    Output shape:
        (batch, d[dims[0]], ..., d[dims[n-1]]).

    >>> import torch
    >>> Permute((2, 1))(torch.zeros(4, 10, 64)).shape
    torch.Size([4, 64, 10])
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (
            not isinstance(dims, Sequence)
            or not all(_is_int(d) for d in dims)
            or sorted(dims) != list(range(1, len(dims) + 1))
        ):
            raise ValueError(
                f"Permute '{self.name}': dims must be a permutation of 1..n (the batch axis 0 is "
                f"not included); got {dims!r}"
            )
        self.dims = tuple(dims)
        self.input_ndim = len(self.dims) + 1

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dims"] = tuple(self.dims)
        return config


class RepeatVector(Layer):
    """Repeats each input vector `n` times: (batch, features) -> (batch, n, features).

    Args:
        n: the number of repetitions.

    >>> import torch
    >>> RepeatVector(3)(torch.zeros(2, 5)).shape
    torch.Size([2, 3, 5])
    """

    input_ndim = 2
    input_description = "(batch, features)"

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not _is_int(n) or n <= 0:
            raise ValueError(f"RepeatVector '{self.name}': n must be a positive int; got {n!r}")
        self.n = n

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["n"] = self.n
        return config


# ---------------------------------------------------------------- spatial families
