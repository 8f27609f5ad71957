"""Adaptive pooling: average or maximum over windows chosen so the output has `output_size`.

Output position i of an axis of length n pools the inputs from floor(i * n / out) to
ceil((i + 1) * n / out): the binning of PyTorch's `F.adaptive_*_pool` and of every Keras
backend, so windows may overlap when `out` does not divide `n` (7 -> 3: [0, 3), [2, 5), [4, 7)).

>>> import torch
>>> AdaptiveAveragePooling1D(3)(torch.arange(7.0).reshape(1, 7, 1)).flatten().tolist()
[1.0, 3.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._conv_utils import (
    normalize_data_format,
    normalize_tuple,
    spatial_description,
    to_channels_first,
    to_channels_last,
    with_spatial,
)
from .layer import Layer, Shape

__all__ = [
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
]

_AVERAGE = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


class _AdaptivePooling(Layer):
    """Pools (batch, *spatial, channels) inputs to (batch, *output_size, channels).

    Args:
        output_size: the output's spatial size: an int for every spatial axis, or a tuple of
            one int per spatial axis.
        data_format: 'channels_last' (batch, ..., channels) or 'channels_first'
            (batch, channels, ...); default `lamina.config.image_data_format()`.

    Input shape:
        (batch, *spatial, channels) with channels_last; (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *output_size, channels) with channels_last; (batch, channels, *output_size)
        otherwise.
    """

    rank: int = 0
    functions: dict[int, Callable[..., torch.Tensor]] = _AVERAGE

    def __init__(
        self, output_size: int | Sequence[int], data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        self.output_size = normalize_tuple(output_size, self.rank, "output_size", owner)
        self.data_format = normalize_data_format(data_format, owner)
        self.input_ndim = self.rank + 2
        self.input_description = spatial_description(self.rank, self._channels_last)
        self.built = True

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = to_channels_first(inputs) if self._channels_last else inputs
        size = self.output_size[0] if self.rank == 1 else self.output_size
        outputs = self.functions[self.rank](x, size)
        return to_channels_last(outputs) if self._channels_last else outputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        return with_spatial(input_shape, self.output_size, channels, self._channels_last)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(output_size=self.output_size, data_format=self.data_format)
        return config


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Averages (batch, steps, channels) to (batch, output_size, channels).
    See `_AdaptivePooling` for the arguments.

    >>> import torch
    >>> AdaptiveAveragePooling1D(2)(torch.zeros(1, 9, 4)).shape
    torch.Size([1, 2, 4])
    """

    rank = 1


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Averages images to a fixed (height, width). See `_AdaptivePooling` for the arguments.

    >>> import torch
    >>> AdaptiveAveragePooling2D((2, 3))(torch.zeros(1, 7, 8, 4)).shape
    torch.Size([1, 2, 3, 4])
    """

    rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Averages volumes to a fixed (depth, height, width). See `_AdaptivePooling`.

    >>> import torch
    >>> AdaptiveAveragePooling3D(2)(torch.zeros(1, 5, 5, 5, 3)).shape
    torch.Size([1, 2, 2, 2, 3])
    """

    rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Maximum of (batch, steps, channels) to (batch, output_size, channels).
    See `_AdaptivePooling` for the arguments.

    >>> import torch
    >>> AdaptiveMaxPooling1D(3)(torch.arange(7.0).reshape(1, 7, 1)).flatten().tolist()
    [2.0, 4.0, 6.0]
    """

    rank = 1
    functions = _MAX


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Maximum of images to a fixed (height, width). See `_AdaptivePooling` for the arguments.

    >>> import torch
    >>> AdaptiveMaxPooling2D(3)(torch.zeros(1, 7, 7, 2)).shape
    torch.Size([1, 3, 3, 2])
    """

    rank = 2
    functions = _MAX


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Maximum of volumes to a fixed (depth, height, width). See `_AdaptivePooling`.

    >>> import torch
    >>> AdaptiveMaxPooling3D((1, 2, 3))(torch.zeros(1, 4, 5, 6, 3)).shape
    torch.Size([1, 1, 2, 3, 3])
    """

    rank = 3
    functions = _MAX
