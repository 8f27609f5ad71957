"""The base every convolution layer stands on: argument checks, layouts, padding plans, shapes.

`convolution.py` (Conv*D, Conv*DTranspose) and `depthwise.py` (DepthwiseConv*D, SeparableConv*D)
build on `_BaseConv`; the arithmetic itself is in `_conv_utils.py`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
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
from .core import _ActivationMixin
from .layer import Layer, Shape

_CONV: tuple[Callable[..., torch.Tensor], ...] = (F.conv1d, F.conv2d, F.conv3d)


def kernel_keras_axes(rank: int) -> tuple[int, ...]:
    """The permutation from torch's (out, in, *kernel) to Keras' (*kernel, in, out)."""
    return (*range(2, rank + 2), 1, 0)


class _BaseConv(_ActivationMixin, Layer):
    """What every convolution shares: argument checks, layouts, padding plans and shapes.

    Subclasses set `rank`, create their weights in `build` and run torch in `_forward`.

    With 'valid' or explicit padding, a layer placed in a model (called on an `Input` or another
    layer's symbolic output) for an input size where (N - F + 2P) / S is not whole and real
    input is dropped (see `_conv_utils.untiled_axes`) gives a `TilingWarning` once per size,
    naming the axis, the sizes and how many rows/columns are lost. Eager calls on tensors do
    not warn: there the data, not the architecture, picks the size (a fully convolutional
    network meets many). 'same' and 'causal' padding and transposed convolutions never warn.
    """

    rank: int = 2
    #: Padding words this family accepts; 'explicit' means ints of symmetric zero padding.
    padding_modes: tuple[str, ...] = ("valid", "same", "explicit")

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        bias_initializer: Any = "zeros",
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = self._owner
        rank = self.rank
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        self.padding = normalize_padding(padding, rank, owner, self.padding_modes)
        self.data_format = normalize_data_format(data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_ndim = rank + 2
        self.input_description = spatial_description(rank, self._channels_last)
        self._plans: dict[tuple[int, ...], Any] = {}
        self._tiling_checked: set[tuple[Any, ...]] = set()

    # ---------------------------------------------------------------- small helpers

    @property
    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    @property
    def _channel_axis(self) -> int:
        return -1 if self._channels_last else 1

    def _input_channels(self, input_shape: Shape) -> int:
        """The channel count of `input_shape`, after checking its rank."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{self._owner} expects {self.rank + 2}-D input {self.input_description}; "
                f"got shape {input_shape}"
            )
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"{self._owner} needs a known channel count to build; got input shape "
                f"{input_shape} ({self.data_format})"
            )
        return int(channels)

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.add_weight(
                "bias",
                (size,),
                self.bias_initializer,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    # ---------------------------------------------------------------- padding and shapes

    def _axis_padding(self, axis: int, n: int) -> tuple[int, int]:
        """(before, after) zero padding of spatial axis `axis` for an input of length n."""
        k, s, d = self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis]
        if self.padding == "valid":
            return 0, 0
        if self.padding == "same":
            return same_padding(n, k, s, d)
        if self.padding == "causal":
            return d * (k - 1), 0
        p = self.padding[axis]
        return p, p

    def _axis_output(self, axis: int, n: int) -> int:
        before, after = self._axis_padding(axis, n)
        k, s, d = self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis]
        return conv_output_size(n + before + after, k, s, 0, d)

    def _output_spatial(self, spatial: Sequence[int | None], shape: Shape) -> tuple[Any, ...]:
        """The output's spatial sizes; a ValueError when one would be 0 or less."""
        out = tuple(None if n is None else self._axis_output(i, n) for i, n in enumerate(spatial))
        if any(size is not None and size <= 0 for size in out):
            raise ValueError(
                f"{self._owner}: input shape {tuple(shape)} is too small for kernel_size "
                f"{self.kernel_size}, strides {self.strides}, padding {self.padding!r} and "
                f"dilation_rate {self.dilation_rate}: the spatial output size would be "
                f"{tuple(out)}. Use padding='same', a smaller kernel or a larger input."
            )
        return out

    def _untiled(
        self, spatial: Sequence[int | None], zeros_after: Sequence[int] | None = None
    ) -> list[UntiledAxis]:
        """The axes along which this layer's windows drop input of these spatial sizes.

        `zeros_after`: zeros a ZeroPadding layer put after the input, per axis (not input).
        """
        if self.padding in ("same", "causal") or getattr(self, "_transpose", False):
            return []
        padding = (0,) * self.rank if self.padding == "valid" else self.padding
        return untiled_axes(
            spatial, self.kernel_size, self.strides, padding, self.dilation_rate, zeros_after
        )

    def _untiled_message(
        self, spatial: Sequence[int | None], zeros_after: Sequence[int] | None = None
    ) -> str | None:
        """What `TilingWarning` (and `summary()`'s note) says for these sizes; None if tiled."""
        untiled = self._untiled(spatial, zeros_after)
        if not untiled:
            return None
        settings = (
            f"kernel_size {self.kernel_size}, strides {self.strides}, padding {self.padding!r}"
        )
        if any(d > 1 for d in self.dilation_rate):
            settings += f", dilation_rate {self.dilation_rate}"
        return untiled_message(self._owner, untiled, self.rank, settings)

    def _warn_if_untiled(self, spatial: tuple[Any, ...]) -> None:
        """A `TilingWarning`, once per input size, when the windows drop input.

        Called from `compute_output_shape`, which runs when the layer joins a model's graph
        (`_symbolic_call` notes the zeros a ZeroPadding layer in front added).
        """
        zeros_after = self.__dict__.get("_zeros_after")
        if (spatial, zeros_after) in self._tiling_checked:
            return
        self._tiling_checked.add((spatial, zeros_after))
        message = self._untiled_message(spatial, zeros_after)
        if message is not None:
            warnings.warn(message, TilingWarning, stacklevel=4)

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        self._zeros_after = zeros_after_input(args[0]) if args else None
        try:
            return super()._symbolic_call(*args, **kwargs)
        finally:
            self._zeros_after = None

    def _plan(self, spatial: tuple[int, ...], shape: Shape) -> Any:
        """How to pad an input of these spatial sizes (cached: the arithmetic runs once)."""
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

    def _output_channels(self, input_shape: Shape) -> int:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape by the course's arithmetic (no tensors): `conv_output_size` per axis."""
        self._maybe_build(input_shape)
        input_shape = tuple(input_shape)
        channels = self._input_channels(input_shape)
        built_channels = self._input_axes.get(self._channel_axis)
        if built_channels is not None and channels != built_channels:
            raise ValueError(
                f"{self._owner} was built for inputs of shape {self._build_input_shape} "
                f"(size {built_channels} on axis {self._channel_axis}); got shape {input_shape}"
            )
        spatial = spatial_shape(input_shape, self.rank, self._channels_last)
        out = self._output_spatial(spatial, input_shape)
        self._warn_if_untiled(spatial)
        return with_spatial(
            input_shape, out, self._output_channels(input_shape), self._channels_last
        )

    # ---------------------------------------------------------------- calling

    def _forward(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        """The convolution on a (batch, channels, *spatial) tensor, bias included."""
        raise NotImplementedError

    def call_pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        """The layer's output before its activation (losses use it as logits)."""
        spatial = spatial_shape(inputs.shape, self.rank, self._channels_last)
        plan = self._plan(spatial, tuple(inputs.shape))
        if self._channels_last:
            return to_channels_last(self._forward(to_channels_first(inputs), plan))
        return self._forward(inputs, plan)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(self.call_pre_activation(inputs))

    # ---------------------------------------------------------------- config

    def _shared_config(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        }
