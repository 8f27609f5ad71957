"""Depthwise and separable convolutions, on the convolution base of `convolution.py`.

A depthwise convolution filters each input channel on its own (`depth_multiplier` kernels per
channel, torch's `groups=in_channels`); a separable convolution follows it with a 1x1
("pointwise") convolution that mixes the channels, as in MobileNet and Xception.

>>> import torch
>>> from lamina.layers.depthwise import DepthwiseConv2D, SeparableConv2D
>>> layer = DepthwiseConv2D(3, depth_multiplier=2)
>>> layer(torch.zeros(1, 8, 8, 4)).shape
torch.Size([1, 6, 6, 8])
>>> [w.shape for w in layer.get_weights()]     # Keras layout: (kh, kw, in, depth_multiplier)
[(3, 3, 4, 2), (8,)]
>>> layer.weight.shape                         # torch.nn.Conv2d(4, 8, 3, groups=4).weight
torch.Size([8, 1, 3, 3])
>>> layer.weight.numpy().shape                 # Keras' views: numpy, assign, regularizers
(3, 3, 4, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .. import constraints, initializers, regularizers
from ._conv_base import _CONV, _BaseConv, kernel_keras_axes
from ._conv_utils import zero_pad
from .layer import Layer, Shape, _WeightInfo

__all__ = [
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]


@dataclass
class _DepthwiseLayout(_WeightInfo):
    """Torch's grouped kernel (in * dm, 1, *k) seen as Keras' depthwise kernel (*k, in, dm).

    Output channel c * dm + m of torch's grouped convolution is kernel m of input channel c,
    which is Keras' kernel[..., c, m]: a reshape, not only a permutation.
    """

    depth_multiplier: int = 1

    def to_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        rank = tensor.ndim - 2
        grouped = tensor.reshape(-1, self.depth_multiplier, *tensor.shape[2:])
        return grouped.permute(*range(2, rank + 2), 0, 1)

    def from_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        rank = tensor.ndim - 2
        kernel_size = tensor.shape[:rank]
        return tensor.permute(rank, rank + 1, *range(rank)).reshape(-1, 1, *kernel_size)

    def keras_shape(self, torch_shape: Sequence[int]) -> tuple[int, ...]:
        channels = torch_shape[0] // self.depth_multiplier
        return (*torch_shape[2:], channels, self.depth_multiplier)


def _add_depthwise_weight(
    layer: Layer,
    name: str,
    torch_name: str,
    channels: int,
    depth_multiplier: int,
    kernel_size: tuple[int, ...],
    initializer: Any,
    regularizer: Any,
    constraint: Any,
) -> torch.Tensor:
    """Register a depthwise kernel in torch's layout, initialised, exchanged and constrained in
    Keras'."""
    layout = _DepthwiseLayout(
        keras_name=name,
        keras_axes=None,
        regularizer=regularizers.get(regularizer),
        trainable=True,
        constraint=constraints.get(constraint),
        depth_multiplier=depth_multiplier,
    )

    def initialize(shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        # Drawn in Keras' shape so the fans are Keras' (in * k, dm * k), then reshaped.
        keras_value = torch.as_tensor(initializer(layout.keras_shape(shape), dtype))
        return layout.from_keras(keras_value)

    weight = layer.add_weight(
        name,
        (channels * depth_multiplier, 1, *kernel_size),
        initialize,
        regularizer,
        torch_name=torch_name,
    )
    layer._weight_info[torch_name] = layout
    layout.attach(weight)
    return weight


class _DepthwiseBase(_BaseConv):
    """Arguments and the depthwise stage shared by depthwise and separable convolutions."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            bias_initializer=bias_initializer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        value = depth_multiplier
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(
                f"{self._owner}: depth_multiplier must be a positive int; got {value!r}"
            )
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _depthwise(
        self, x: torch.Tensor, plan: Any, weight: torch.Tensor, bias: Any
    ) -> torch.Tensor:
        padding, pre_pad = plan
        if pre_pad is not None:
            x = zero_pad(x, pre_pad)
        conv = _CONV[self.rank - 1]
        return conv(x, weight, bias, self.strides, padding, self.dilation_rate, x.shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._shared_config())
        config.update(
            depth_multiplier=self.depth_multiplier,
            depthwise_initializer=initializers.serialize(self.depthwise_initializer),
            depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
            depthwise_constraint=constraints.serialize(self.depthwise_constraint),
        )
        return config


class _DepthwiseConv(_DepthwiseBase):
    """A depthwise convolution: each input channel convolved with its own `depth_multiplier`
    kernels, no mixing across channels.

    The kernel is stored as `torch.nn.Conv2d(in, in * depth_multiplier, k, groups=in)` stores
    it, (in * depth_multiplier, 1, *kernel_size), registered as `weight` and `bias`;
    `get_weights()` gives Keras' kernel (*kernel_size, in, depth_multiplier) and bias
    (in * depth_multiplier,).

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            bias_initializer, bias_regularizer, activity_regularizer: as for `Conv2D`
            (no 'causal' padding).
        depth_multiplier: output channels per input channel.
        depthwise_initializer, depthwise_regularizer: for the kernel.
        depthwise_constraint, bias_constraint: projections applied after each optimizer update,
            in Keras' layout (the kernel as (*kernel_size, in, depth_multiplier)).

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *new_spatial, channels * depth_multiplier), or channels first.
    """

    weight_names = ("kernel", "bias")

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

    def build(self, input_shape: Shape) -> None:
        channels = self._input_channels(input_shape)
        _add_depthwise_weight(
            self,
            "kernel",
            "weight",
            channels,
            self.depth_multiplier,
            self.kernel_size,
            self.depthwise_initializer,
            self.depthwise_regularizer,
            self.depthwise_constraint,
        )
        self._add_bias(channels * self.depth_multiplier)
        self._input_axes = {self._channel_axis: channels}

    def _output_channels(self, input_shape: Shape) -> int:
        return int(input_shape[self._channel_axis]) * self.depth_multiplier

    def _forward(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        return self._depthwise(x, plan, self.weight, self.bias)


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels). See `_DepthwiseConv`.

    >>> import torch
    >>> DepthwiseConv1D(3, depth_multiplier=2)(torch.zeros(2, 10, 4)).shape
    torch.Size([2, 8, 8])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "depth_multiplier kernel_size strides padding data_format dilation_rate activation "
        "use_bias depthwise_initializer bias_initializer depthwise_regularizer bias_regularizer "
        "activity_regularizer depthwise_constraint bias_constraint"
    )

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution over (batch, height, width, channels). See `_DepthwiseConv`.

    >>> import torch
    >>> DepthwiseConv2D(3, padding="same")(torch.zeros(1, 8, 8, 4)).shape
    torch.Size([1, 8, 8, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "depth_multiplier kernel_size strides padding data_format dilation_rate activation "
        "use_bias depthwise_initializer bias_initializer depthwise_regularizer bias_regularizer "
        "activity_regularizer depthwise_constraint bias_constraint"
    )

    rank = 2


class _SeparableConv(_DepthwiseBase):
    """A depthwise convolution followed by a pointwise (1x1) convolution to `filters` channels.

    Far fewer weights than a full convolution: k*k*in*dm + in*dm*filters instead of
    k*k*in*filters. Strides, padding and dilation apply to the depthwise stage; the bias is
    added after the pointwise stage.

    Weights, in torch's layout: `depthwise_weight` (in * dm, 1, *kernel_size),
    `pointwise_weight` (filters, in * dm, 1, ...), `bias` (filters,); `get_weights()` gives
    Keras' depthwise_kernel (*kernel_size, in, dm), pointwise_kernel (1, ..., in * dm, filters)
    and bias.

    Args:
        filters: output channels of the pointwise stage.
        kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
            activation, use_bias: as for `DepthwiseConv2D`.
        depthwise_initializer, pointwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer:
            penalties added to the loss.
        depthwise_constraint, pointwise_constraint, bias_constraint: projections applied after
            each optimizer update, in Keras' layout.

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *new_spatial, filters), or channels first.
    """

    weight_names = ("depthwise_kernel", "pointwise_kernel", "bias")

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{self._owner}: filters must be a positive int; got {filters!r}")
        self.filters = filters
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = self._input_channels(input_shape)
        _add_depthwise_weight(
            self,
            "depthwise_kernel",
            "depthwise_weight",
            channels,
            self.depth_multiplier,
            self.kernel_size,
            self.depthwise_initializer,
            self.depthwise_regularizer,
            self.depthwise_constraint,
        )
        self.add_weight(
            "pointwise_kernel",
            (self.filters, channels * self.depth_multiplier, *(1,) * self.rank),
            self.pointwise_initializer,
            self.pointwise_regularizer,
            keras_axes=kernel_keras_axes(self.rank),
            torch_name="pointwise_weight",
            constraint=self.pointwise_constraint,
        )
        self._add_bias(self.filters)
        self._input_axes = {self._channel_axis: channels}

    def _output_channels(self, input_shape: Shape) -> int:
        return self.filters

    def _forward(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        depthwise = self._depthwise(x, plan, self.depthwise_weight, None)
        return _CONV[self.rank - 1](depthwise, self.pointwise_weight, self.bias)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            filters=self.filters,
            pointwise_initializer=initializers.serialize(self.pointwise_initializer),
            pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
            pointwise_constraint=constraints.serialize(self.pointwise_constraint),
        )
        return config


class SeparableConv1D(_SeparableConv):
    """Separable 1-D convolution over (batch, steps, channels). See `_SeparableConv`.

    >>> import torch
    >>> SeparableConv1D(6, 3, padding="same")(torch.zeros(2, 10, 4)).shape
    torch.Size([2, 10, 6])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "depth_multiplier filters kernel_size strides padding data_format dilation_rate "
        "activation use_bias depthwise_initializer pointwise_initializer bias_initializer "
        "depthwise_regularizer pointwise_regularizer bias_regularizer activity_regularizer "
        "depthwise_constraint pointwise_constraint bias_constraint"
    )

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Separable 2-D convolution over (batch, height, width, channels). See `_SeparableConv`.

    >>> import torch
    >>> layer = SeparableConv2D(16, 3)
    >>> layer(torch.zeros(1, 8, 8, 4)).shape
    torch.Size([1, 6, 6, 16])
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 4, 1), (1, 1, 4, 16), (16,)]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "depth_multiplier filters kernel_size strides padding data_format dilation_rate "
        "activation use_bias depthwise_initializer pointwise_initializer bias_initializer "
        "depthwise_regularizer pointwise_regularizer bias_regularizer activity_regularizer "
        "depthwise_constraint pointwise_constraint bias_constraint"
    )

    rank = 2


# Keras' long names.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
