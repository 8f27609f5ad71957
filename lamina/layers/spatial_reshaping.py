"""Spatial reshaping of images and sequences: ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
UpSampling1D/2D/3D.

Images are channels_last unless `data_format` (or `lamina.config.image_data_format()`) says
otherwise; unknown (None) sizes stay unknown in the inferred output shape.

>>> from lamina.layers import Input
>>> ZeroPadding2D(1)(Input((28, 28, 1))).shape
(None, 30, 30, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._conv_utils import (
    normalize_data_format,
    normalize_tuple,
    spatial_description,
    to_channels_first,
    to_channels_last,
    torch_pad_argument,
)
from .layer import Layer, Shape

__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _normalize_pairs(value: Any, rank: int, name: str, owner: str) -> tuple[tuple[int, int], ...]:
    """Keras' forms of padding/cropping as one (before, after) pair per spatial axis.

    An int (the same on every side); for rank 1, a pair (before, after); for higher ranks, one
    int per axis (symmetric) or one pair per axis: ((top, bottom), (left, right)).
    """
    pairs: list[Any] = []
    if _is_int(value):
        pairs = [(value, value)] * rank
    elif isinstance(value, Sequence) and rank == 1 and len(value) == 2 and all(map(_is_int, value)):
        pairs = [tuple(value)]
    elif isinstance(value, Sequence) and len(value) == rank:
        for item in value:
            if _is_int(item):
                pairs.append((item, item))
            elif isinstance(item, Sequence) and len(item) == 2:
                pairs.append(tuple(item))
            else:
                pairs = []
                break
    if not pairs or not all(_is_int(v) and v >= 0 for pair in pairs for v in pair):
        forms = (
            "an int or a tuple of 2 ints (before, after)"
            if rank == 1
            else f"an int, a tuple of {rank} ints (symmetric per axis), or a tuple of {rank} "
            "(before, after) pairs"
        )
        raise ValueError(f"{owner}: {name} must be {forms}, all >= 0; got {name}={value!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


class _Spatial(Layer):
    """Shared by the spatial families: rank, data_format, the input check and shape mapping."""

    rank: int = 0

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(
            data_format, f"{type(self).__name__} '{self.name}'"
        )
        self._channels_last = self.data_format == "channels_last"
        self.input_ndim = self.rank + 2
        self.input_description = spatial_description(self.rank, self._channels_last)

    def _spatial_axes(self) -> range:
        return range(1, self.rank + 1) if self._channels_last else range(2, self.rank + 2)

    def _output_size(self, index: int, size: int, input_shape: Sequence[int | None]) -> int:
        """The output size of spatial axis `index` from its known input size."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(input_shape)
        for index, axis in enumerate(self._spatial_axes()):
            if shape[axis] is not None:
                shape[axis] = self._output_size(index, shape[axis], input_shape)
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class _ZeroPadding(_Spatial):
    """Adds rows/columns/planes of zeros around the spatial axes (`F.pad`)."""

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.padding = _normalize_pairs(
            padding, self.rank, "padding", f"{type(self).__name__} '{self.name}'"
        )
        pads = [*self.padding, (0, 0)] if self._channels_last else list(self.padding)
        self._torch_pad = torch_pad_argument(pads)

    def _output_size(self, index: int, size: int, input_shape: Sequence[int | None]) -> int:
        return size + sum(self.padding[index])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.pad(inputs, self._torch_pad)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["padding"] = (  # tuples, as Keras keeps them
            tuple(self.padding[0]) if self.rank == 1 else tuple(tuple(p) for p in self.padding)
        )
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads the steps axis of (batch, steps, channels) inputs with zeros.

    Args:
        padding: an int (both ends) or a tuple (before, after).
        data_format: 'channels_last' (batch, steps, channels) or 'channels_first'.

    >>> import torch
    >>> ZeroPadding1D((1, 2))(torch.ones(1, 3, 2)).shape
    torch.Size([1, 6, 2])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "padding data_format"

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Pads the height and width of images with zeros.

    Args:
        padding: an int (all sides), a tuple of 2 ints (symmetric height, width padding), or
            ((top, bottom), (left, right)).
        data_format: 'channels_last' (batch, height, width, channels) or 'channels_first';
            default `lamina.config.image_data_format()`.

    Input shape:
        (batch, height, width, channels) with channels_last.
    Output shape:
        (batch, top + height + bottom, left + width + right, channels).

    >>> import torch
    >>> ZeroPadding2D(((1, 0), (2, 3)))(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 5, 9, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "padding data_format"

    rank = 2

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(padding=padding, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the depth, height and width of volumes with zeros.

    Args:
        padding: an int, a tuple of 3 ints (symmetric per axis) or 3 (before, after) pairs.
        data_format: 'channels_last' (batch, depth, height, width, channels) or
            'channels_first'.

    >>> import torch
    >>> ZeroPadding3D(1)(torch.ones(1, 2, 2, 2, 1)).shape
    torch.Size([1, 4, 4, 4, 1])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "padding data_format"

    rank = 3

    def __init__(
        self, padding: Any = (1, 1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(padding=padding, data_format=data_format, **kwargs)


class _Cropping(_Spatial):
    """Removes rows/columns/planes at the edges of the spatial axes (a slicing view, no copy)."""

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.cropping = _normalize_pairs(
            cropping, self.rank, "cropping", f"{type(self).__name__} '{self.name}'"
        )

    def _output_size(self, index: int, size: int, input_shape: Sequence[int | None]) -> int:
        before, after = self.cropping[index]
        if before + after >= size:
            axis = self._spatial_axes()[index]
            raise ValueError(
                f"{type(self).__name__} '{self.name}': cropping {(before, after)} removes all of "
                f"axis {axis} (size {size}) of input shape {tuple(input_shape)}; crop less than "
                "the size of each axis"
            )
        return size - before - after

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        index: list[slice] = [slice(None)] * inputs.ndim
        for i, axis in enumerate(self._spatial_axes()):
            size = inputs.shape[axis]
            self._output_size(i, size, (None, *inputs.shape[1:]))
            before, after = self.cropping[i]
            index[axis] = slice(before, size - after)
        return inputs[tuple(index)]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cropping"] = (  # tuples, as Keras keeps them
            tuple(self.cropping[0]) if self.rank == 1 else tuple(tuple(p) for p in self.cropping)
        )
        return config


class Cropping1D(_Cropping):
    """Crops the steps axis of (batch, steps, channels) inputs.

    Args:
        cropping: an int (both ends) or a tuple (before, after).

    >>> import torch
    >>> Cropping1D((1, 2))(torch.ones(1, 6, 2)).shape
    torch.Size([1, 3, 2])
    """

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping=cropping, data_format="channels_last", **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Crops the height and width of images.

    Args:
        cropping: an int (all sides), a tuple of 2 ints (symmetric height, width cropping), or
            ((top, bottom), (left, right)). Keras' default crops nothing.
        data_format: 'channels_last' (batch, height, width, channels) or 'channels_first';
            default `lamina.config.image_data_format()`.

    Input shape:
        (batch, height, width, channels) with channels_last.
    Output shape:
        (batch, height - top - bottom, width - left - right, channels).

    >>> import torch
    >>> Cropping2D(((2, 2), (4, 4)))(torch.ones(2, 28, 28, 3)).shape
    torch.Size([2, 24, 20, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "cropping data_format"

    rank = 2

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the depth, height and width of volumes.

    Args:
        cropping: an int, a tuple of 3 ints (symmetric per axis) or 3 (before, after) pairs.
        data_format: 'channels_last' (batch, depth, height, width, channels) or
            'channels_first'.

    >>> import torch
    >>> Cropping3D(1)(torch.ones(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "cropping data_format"

    rank = 3

    def __init__(
        self,
        cropping: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


class _UpSampling(_Spatial):
    """Repeats (nearest) or interpolates the spatial axes by integer factors."""

    def __init__(
        self,
        size: Any,
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        self.size = normalize_tuple(size, self.rank, "size", owner)
        allowed = _INTERPOLATIONS if self.rank == 2 else ("nearest",)
        if not isinstance(interpolation, str) or interpolation.lower() not in allowed:
            raise ValueError(
                f"{owner}: interpolation must be one of {', '.join(map(repr, allowed))}; "
                f"got {interpolation!r}"
            )
        self.interpolation = interpolation.lower()

    def _output_size(self, index: int, size: int, input_shape: Sequence[int | None]) -> int:
        return size * self.size[index]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.interpolation == "nearest":
            # Keras repeats each element; a broadcast view reshaped does it in one copy, exactly
            # (F.interpolate's float source indices can round the wrong way for some sizes).
            axes = list(self._spatial_axes())
            expanded_shape: list[int] = []
            output_shape: list[int] = []
            view_shape: list[int] = []
            for axis, length in enumerate(inputs.shape):
                view_shape.append(length)
                expanded_shape.append(length)
                if axis in axes:
                    factor = self.size[axes.index(axis)]
                    view_shape.append(1)
                    expanded_shape.append(factor)
                    output_shape.append(length * factor)
                else:
                    output_shape.append(length)
            return inputs.reshape(view_shape).expand(expanded_shape).reshape(output_shape)
        x = to_channels_first(inputs) if self._channels_last else inputs
        spatial = [length * factor for length, factor in zip(x.shape[2:], self.size, strict=True)]
        # align_corners=False is Keras' (half-pixel) sampling grid.
        outputs = F.interpolate(x, size=spatial, mode=self.interpolation, align_corners=False)
        return to_channels_last(outputs) if self._channels_last else outputs


class UpSampling1D(_UpSampling):
    """Repeats each step of (batch, steps, features) inputs `size` times.

    Args:
        size: the repetition factor.

    >>> import torch
    >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        if not _is_int(size):
            raise ValueError(f"UpSampling1D: size must be a positive int; got size={size!r}")
        super().__init__(size=size, data_format="channels_last", **kwargs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return list(super().compute_output_shape(input_shape))  # a list, as Keras'

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["data_format"]
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples images by integer factors: repeats rows and columns, or interpolates.

    Args:
        size: an int or (height_factor, width_factor).
        data_format: 'channels_last' (batch, height, width, channels) or 'channels_first';
            default `lamina.config.image_data_format()`.
        interpolation: 'nearest' (repeat), 'bilinear' or 'bicubic'; the interpolations sample
            at pixel centres (`align_corners=False`), as Keras does.

    Input shape:
        (batch, height, width, channels) with channels_last.
    Output shape:
        (batch, height * height_factor, width * width_factor, channels).

    >>> import torch
    >>> UpSampling2D((2, 3))(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 8, 12, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "size data_format interpolation"

    rank = 2

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(size=size, data_format=data_format, interpolation=interpolation, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(size=tuple(self.size), interpolation=self.interpolation)
        return config


class UpSampling3D(_UpSampling):
    """Repeats the depth, height and width of volumes by integer factors.

    Args:
        size: an int or (depth_factor, height_factor, width_factor).
        data_format: 'channels_last' (batch, depth, height, width, channels) or
            'channels_first'.

    >>> import torch
    >>> UpSampling3D(2)(torch.ones(1, 2, 2, 2, 3)).shape
    torch.Size([1, 4, 4, 4, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "size data_format"

    rank = 3

    def __init__(
        self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(size=size, data_format=data_format, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["size"] = tuple(self.size)
        return config
