"""Pooling layers: one rank-generic base for max / average pooling, and global pooling.

>>> import torch
>>> from lamina.layers.pooling import MaxPooling2D, GlobalAveragePooling2D
>>> MaxPooling2D()(torch.zeros(1, 28, 28, 6)).shape
torch.Size([1, 14, 14, 6])
>>> GlobalAveragePooling2D()(torch.zeros(1, 7, 7, 32)).shape
torch.Size([1, 32])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._conv_utils import (
    TilingWarning,
    UntiledAxis,
    conv_output_size,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    same_padding,
    spatial_description,
    spatial_shape,
    to_channels_first,
    to_channels_last,
    torch_pad_argument,
    untiled_axes,
    untiled_message,
    with_spatial,
    zeros_after_input,
)
from .layer import Layer, Shape

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]

_MAX_POOL: tuple[Callable[..., torch.Tensor], ...] = (F.max_pool1d, F.max_pool2d, F.max_pool3d)
_AVG_POOL: tuple[Callable[..., torch.Tensor], ...] = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)


class _Pooling(Layer):
    """Max or average pooling over `rank` spatial axes: one value per `pool_size` window.

    Pooling has no weights; it shrinks each spatial axis to `conv_output_size(n, pool, stride)`
    ('valid') or ceil(n / stride) ('same'), keeping the channels.

    Args:
        pool_size: the window's size: an int or one int per spatial axis (default 2).
        strides: the step between windows; None (default) means `pool_size` (no overlap).
        padding: 'valid' (windows inside the input) or 'same' (case-insensitive). With 'same'
            the odd extra position goes after the input (bottom/right), as in Keras; max
            pooling ignores the padding (it pads with -inf). Average pooling divides by the
            number of real values in each window where the padding is the same on both
            sides; where it is not, it repeats the edge values and they count, as Keras 3
            does on its torch backend (its TensorFlow and JAX backends exclude the padding).
        data_format: 'channels_last' (batch, ..., channels) or 'channels_first'
            (batch, channels, ...); default `lamina.config.image_data_format()`.

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *pooled_spatial, channels), or channels first.

    With 'valid' padding and strides equal to pool_size (the default), an odd last row is
    dropped without a warning: that floor is ordinary pooling (MaxPooling2D(2) on 11x11 gives
    5x5), and `summary()` notes it. With other strides, a layer placed in a model for an input
    size that leaves input in no window gives a `TilingWarning` once per size, as convolutions
    do (eager calls on tensors do not warn).
    """

    rank: int = 2
    pool_mode: str = "max"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = (
            self.pool_size
            if strides is None
            else normalize_tuple(strides, self.rank, "strides", owner)
        )
        self.padding = normalize_padding(padding, self.rank, owner)
        self.data_format = normalize_data_format(data_format, owner)
        self.input_ndim = self.rank + 2
        self.input_description = spatial_description(self.rank, self._channels_last)
        self._plans: dict[tuple[int, ...], Any] = {}
        self._tiling_checked: set[tuple[Any, ...]] = set()
        self.built = True

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _untiled(
        self, spatial: Sequence[int | None], zeros_after: Sequence[int] | None = None
    ) -> list[UntiledAxis]:
        """The axes along which the windows drop input of these spatial sizes.

        `zeros_after`: zeros a ZeroPadding layer put after the input, per axis (not input).
        """
        if self.padding == "same":
            return []
        zeros = (0,) * self.rank
        return untiled_axes(spatial, self.pool_size, self.strides, zeros, None, zeros_after)

    def _untiled_message(
        self, spatial: Sequence[int | None], zeros_after: Sequence[int] | None = None
    ) -> str | None:
        """What `TilingWarning` (and `summary()`'s note) says for these sizes; None if tiled."""
        untiled = self._untiled(spatial, zeros_after)
        if not untiled:
            return None
        owner = f"{type(self).__name__} '{self.name}'"
        settings = f"pool_size {self.pool_size}, strides {self.strides}, padding 'valid'"
        return untiled_message(owner, untiled, self.rank, settings)

    def _warn_if_untiled(self, spatial: tuple[Any, ...]) -> None:
        """A `TilingWarning`, once per input size, unless strides == pool_size (see above)."""
        zeros_after = self.__dict__.get("_zeros_after")
        if (spatial, zeros_after) in self._tiling_checked:
            return
        self._tiling_checked.add((spatial, zeros_after))
        if self.strides == self.pool_size:
            return
        message = self._untiled_message(spatial, zeros_after)
        if message is not None:
            warnings.warn(message, TilingWarning, stacklevel=4)

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        self._zeros_after = zeros_after_input(args[0]) if args else None
        try:
            return super()._symbolic_call(*args, **kwargs)
        finally:
            self._zeros_after = None

    def _axis_padding(self, axis: int, n: int) -> tuple[int, int]:
        if self.padding == "same":
            return same_padding(n, self.pool_size[axis], self.strides[axis])
        return 0, 0

    def _output_spatial(self, spatial: Sequence[int | None], shape: Shape) -> tuple[Any, ...]:
        out = []
        for axis, n in enumerate(spatial):
            if n is None:
                out.append(None)
                continue
            before, after = self._axis_padding(axis, n)
            out.append(
                conv_output_size(n + before + after, self.pool_size[axis], self.strides[axis])
            )
        if any(size is not None and size <= 0 for size in out):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': input shape {tuple(shape)} is smaller "
                f"than pool_size {self.pool_size} (strides {self.strides}, padding "
                f"{self.padding!r}): the spatial output size would be {tuple(out)}. Use "
                "padding='same' or a smaller pool_size."
            )
        return tuple(out)

    def _plan(self, spatial: tuple[int, ...], shape: Shape) -> Any:
        """(torch padding, F.pad argument or None) for inputs of these spatial sizes, cached."""
        plan = self._plans.get(spatial)
        if plan is None:
            self._output_spatial(spatial, shape)
            pads = [self._axis_padding(i, n) for i, n in enumerate(spatial)]
            if all(before == after for before, after in pads):
                plan = (tuple(before for before, _ in pads), None)
            else:
                plan = ((0,) * self.rank, torch_pad_argument(pads))
            self._plans[spatial] = plan
        return plan

    def _pool(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        """Pool a (batch, channels, *spatial) tensor."""
        padding, pre_pad = plan
        index = self.rank - 1
        if self.pool_mode == "max":
            if pre_pad is not None:
                x = F.pad(x, pre_pad, value=float("-inf"))
            return _MAX_POOL[index](x, self.pool_size, self.strides, padding)
        if pre_pad is None:
            return _AVG_POOL[index](
                x, self.pool_size, self.strides, padding, count_include_pad=False
            )
        # Asymmetric padding, which torch cannot express: Keras 3's torch backend pads by
        # repeating the edge values, which then count in the mean (see `average_pool`).
        padded = F.pad(x, pre_pad, mode="replicate")
        return _AVG_POOL[index](padded, self.pool_size, self.strides)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        spatial = spatial_shape(inputs.shape, self.rank, self._channels_last)
        plan = self._plan(spatial, tuple(inputs.shape))
        if self._channels_last:
            return to_channels_last(self._pool(to_channels_first(inputs), plan))
        return self._pool(inputs, plan)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self.rank + 2}-D input "
                f"{self.input_description}; got shape {input_shape}"
            )
        spatial = spatial_shape(input_shape, self.rank, self._channels_last)
        out = self._output_spatial(spatial, input_shape)
        self._warn_if_untiled(spatial)
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        return with_spatial(input_shape, out, channels, self._channels_last)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            pool_size=self.pool_size,
            padding=self.padding,
            strides=self.strides,
            data_format=self.data_format,
        )
        return config


class MaxPooling1D(_Pooling):
    """Max pooling over (batch, steps, channels). See `_Pooling` for the arguments.

    >>> import torch
    >>> MaxPooling1D()(torch.arange(4.0).reshape(1, 4, 1)).flatten().tolist()
    [1.0, 3.0]
    """

    rank = 1


class MaxPooling2D(_Pooling):
    """Max pooling over (batch, height, width, channels). See `_Pooling` for the arguments.

    >>> import torch
    >>> MaxPooling2D(3, strides=2, padding="same")(torch.zeros(1, 7, 7, 2)).shape
    torch.Size([1, 4, 4, 2])
    """

    rank = 2


class MaxPooling3D(_Pooling):
    """Max pooling over (batch, depth, height, width, channels). See `_Pooling`.

    >>> import torch
    >>> MaxPooling3D()(torch.zeros(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3


class _AveragePooling(_Pooling):
    """Average pooling: as in Keras, `pool_size` has no default (max pooling's is 2)."""

    pool_mode = "average"

    def __init__(
        self,
        pool_size: int | Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling1D(_AveragePooling):
    """Average pooling over (batch, steps, channels). See `_Pooling` for the arguments.

    >>> import torch
    >>> AveragePooling1D(2)(torch.arange(4.0).reshape(1, 4, 1)).flatten().tolist()
    [0.5, 2.5]
    """

    rank = 1


class AveragePooling2D(_AveragePooling):
    """Average pooling over (batch, height, width, channels). See `_Pooling` for the arguments.

    >>> import torch
    >>> AveragePooling2D(2)(torch.zeros(1, 6, 6, 3)).shape
    torch.Size([1, 3, 3, 3])
    """

    rank = 2


class AveragePooling3D(_AveragePooling):
    """Average pooling over (batch, depth, height, width, channels). See `_Pooling`.

    >>> import torch
    >>> AveragePooling3D(2)(torch.zeros(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3


class _GlobalPooling(Layer):
    """Max or average over all spatial positions: one value per channel.

    Args:
        data_format: 'channels_last' or 'channels_first'; default
            `lamina.config.image_data_format()`.
        keepdims: keep the spatial axes with size 1 (default False drops them).

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, channels); with keepdims, (batch, 1, ..., 1, channels) or channels first.
    """

    rank: int = 2
    pool_mode: str = "max"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(
            data_format, f"{type(self).__name__} '{self.name}'"
        )
        self.keepdims = keepdims
        self.input_ndim = self.rank + 2
        self.input_description = spatial_description(self.rank, self.data_format == "channels_last")
        start = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(start, start + self.rank))
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.pool_mode == "max":
            return torch.amax(inputs, dim=self._axes, keepdim=self.keepdims)
        if not inputs.is_floating_point():  # the mean of integers is a float, as in Keras
            inputs = inputs.to(self._compute_dtype)
        return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self.rank + 2}-D input "
                f"{self.input_description}; got shape {input_shape}"
            )
        if self.keepdims:
            return tuple(1 if i in self._axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in self._axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over the steps of (batch, steps, channels). See `_GlobalPooling`.

    >>> import torch
    >>> GlobalMaxPooling1D()(torch.arange(6.0).reshape(1, 3, 2)).tolist()
    [[4.0, 5.0]]
    """

    rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over height and width of (batch, height, width, channels). See `_GlobalPooling`.

    >>> import torch
    >>> GlobalMaxPooling2D(keepdims=True)(torch.zeros(2, 5, 5, 3)).shape
    torch.Size([2, 1, 1, 3])
    """

    rank = 2


class GlobalMaxPooling3D(_GlobalPooling):
    """Maximum over the spatial axes of (batch, depth, height, width, channels).

    >>> import torch
    >>> GlobalMaxPooling3D()(torch.zeros(2, 3, 3, 3, 4)).shape
    torch.Size([2, 4])
    """

    rank = 3


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps of (batch, steps, channels). See `_GlobalPooling`.

    >>> import torch
    >>> GlobalAveragePooling1D()(torch.arange(6.0).reshape(1, 3, 2)).tolist()
    [[2.0, 3.0]]
    """

    rank = 1
    pool_mode = "average"
    supports_masking = True  # takes a timesteps mask; the output has none

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        """The mean over the steps, or over the unmasked steps with a (batch, steps) mask."""
        if mask is None:
            return super().call(inputs)
        keep = torch.as_tensor(mask, device=inputs.device).to(torch.bool)
        keep = keep.unsqueeze(-1 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, inputs, 0).sum(self._axes, keepdim=self.keepdims)
        return total / keep.to(inputs.dtype).sum(self._axes, keepdim=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width of (batch, height, width, channels). See `_GlobalPooling`.

    >>> import torch
    >>> GlobalAveragePooling2D()(torch.ones(2, 7, 7, 8)).shape
    torch.Size([2, 8])
    """

    rank = 2
    pool_mode = "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the spatial axes of (batch, depth, height, width, channels).

    >>> import torch
    >>> GlobalAveragePooling3D(data_format="channels_first")(torch.ones(2, 4, 3, 3, 3)).shape
    torch.Size([2, 4])
    """

    rank = 3
    pool_mode = "average"


# Keras' short names.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
