"""Convolution layers: one rank-generic `_Conv` with thin Conv1D/2D/3D and Conv1D/2D/3DTranspose.

Depthwise and separable convolutions live in `depthwise.py`; both files stand on
`_conv_base._BaseConv`.

>>> import torch
>>> from lamina.layers.convolution import Conv2D
>>> layer = Conv2D(6, 5)
>>> layer(torch.zeros(1, 32, 32, 3)).shape        # the lecture's first convolution layer
torch.Size([1, 28, 28, 6])
>>> layer.count_params()                          # 6 * (5 * 5 * 3) weights + 6 biases
456
>>> [w.shape for w in layer.get_weights()]        # Keras layout: (kh, kw, in, out)
[(5, 5, 3, 6), (6,)]
>>> layer.weight.shape                            # PyTorch layout, as torch.nn.Conv2d
torch.Size([6, 3, 5, 5])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from ._conv_base import _CONV, _BaseConv, kernel_keras_axes
from ._conv_utils import normalize_tuple, zero_pad
from .layer import Shape

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Convolution1D",
    "Convolution1DTranspose",
    "Convolution2D",
    "Convolution2DTranspose",
    "Convolution3D",
    "Convolution3DTranspose",
]

_CONV_TRANSPOSE: tuple[Callable[..., torch.Tensor], ...] = (
    F.conv_transpose1d,
    F.conv_transpose2d,
    F.conv_transpose3d,
)


class _Conv(_BaseConv):
    """A convolution over `rank` spatial axes: `activation(conv(inputs, kernel) + bias)`.

    Each of the `filters` kernels slides over the input's spatial axes and takes a dot product
    with every window of `kernel_size` across all (or, with `groups`, a slice of the) input
    channels. Along each axis the output has `conv_output_size(n, k, s, p, d)` positions.

    The kernel is stored as PyTorch stores it, (filters, in_channels // groups, *kernel_size), and
    registered as `weight` and `bias`, so `state_dict()` is interchangeable with
    `torch.nn.Conv1d/2d/3d`; `get_weights()` gives Keras' (*kernel_size, in // groups, filters).

    Args:
        filters: number of output channels.
        kernel_size: the window's size: an int or one int per spatial axis.
        strides: the step between windows (default 1).
        padding: 'valid' (no padding), 'same' (output size ceil(n / strides); when the padding
            is odd the extra zero goes after the input, bottom/right, as in Keras), an int or one
            int per axis of symmetric zero padding (as `torch.nn.Conv2d`), or, for Conv1D only,
            'causal' (all padding before, so output t never sees inputs after t).
            Case-insensitive.
        data_format: 'channels_last' (batch, ..., channels) or 'channels_first'
            (batch, channels, ...); default `lamina.config.image_data_format()`.
        dilation_rate: spacing between the kernel's taps (default 1: a dense window).
        groups: split the input channels into this many groups, each convolved with
            filters // groups kernels; both in_channels and filters must be divisible by it.
        activation: activation name or function applied to the output (None: linear).
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer: Keras initializer names or objects; fans are
            computed in Keras' layout, as Keras does.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update, in
            Keras' layout: `UnitNorm(axis=[0, 1, 2])` normalizes each Conv2D filter.

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *new_spatial, filters) or (batch, filters, *new_spatial).
    """

    weight_names = ("kernel", "bias")
    _transpose = False

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
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
        for name, value in (("filters", filters), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{self._owner}: {name} must be a positive int; got {value!r}")
        if filters % groups:
            raise ValueError(
                f"{self._owner}: filters ({filters}) must be divisible by groups ({groups})"
            )
        self.filters = filters
        self.groups = groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{self._owner}: the input's {channels} channels must be divisible by groups "
                f"({self.groups}); got input shape {tuple(input_shape)}"
            )
        if self._transpose:
            shape = (channels, self.filters // self.groups, *self.kernel_size)
        else:
            shape = (self.filters, channels // self.groups, *self.kernel_size)
        self.add_weight(
            "kernel",
            shape,
            self.kernel_initializer,
            self.kernel_regularizer,
            keras_axes=kernel_keras_axes(self.rank),
            torch_name="weight",
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)
        self._input_axes = {self._channel_axis: channels}

    def _output_channels(self, input_shape: Shape) -> int:
        return self.filters

    def _forward(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        padding, pre_pad = plan
        if pre_pad is not None:
            x = zero_pad(x, pre_pad)
        conv = _CONV[self.rank - 1]
        return conv(
            x, self.weight, self.bias, self.strides, padding, self.dilation_rate, self.groups
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._shared_config())
        config.update(
            filters=self.filters,
            groups=self.groups,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
        )
        return config


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels), e.g. for sequences and signals.

    Accepts padding='causal' as well (all padding before, for autoregressive models).
    See `_Conv` for the arguments.

    >>> import torch
    >>> Conv1D(4, 3, padding="causal", dilation_rate=2)(torch.zeros(2, 10, 8)).shape
    torch.Size([2, 10, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding data_format dilation_rate groups activation use_bias "
        "kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 1
    padding_modes = ("valid", "same", "causal", "explicit")


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) images. See `_Conv` for the arguments.

    >>> import torch
    >>> Conv2D(8, 3, strides=2, padding="same")(torch.zeros(1, 7, 7, 3)).shape
    torch.Size([1, 4, 4, 8])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding data_format dilation_rate groups activation use_bias "
        "kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 2


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, height, width, channels) volumes or clips.

    See `_Conv` for the arguments.

    >>> import torch
    >>> Conv3D(2, 3)(torch.zeros(1, 5, 6, 7, 1)).shape
    torch.Size([1, 3, 4, 5, 2])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding data_format dilation_rate groups activation use_bias "
        "kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 3


class _ConvTranspose(_Conv):
    """A transposed convolution (a "deconvolution"): the gradient of a convolution w.r.t. its input.

    Each input position scatters a `kernel_size` window of each filter into the output, windows
    `strides` apart, so it upsamples: along each axis the full output has
    `(n - 1) * strides + dilation * (kernel - 1) + 1` positions, which `padding` then trims.

    The kernel is stored as `torch.nn.ConvTranspose2d` stores it, (in_channels, filters,
    *kernel_size), as `weight` and `bias`; `get_weights()` gives Keras' (*kernel_size, filters,
    in_channels).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate, data_format, activation, use_bias, initializers,
            regularizers, constraints: as for `Conv2D`.
        padding: 'valid': output (n - 1) * s + max(k, s) per axis; 'same': output n * s, with
            the odd trimmed pixel taken from the bottom/right as in Keras; or an int / one int
            per axis, trimmed from both sides as `torch.nn.ConvTranspose2d(padding=...)`.
        output_padding: extra size added after the input along each axis, an int or one per
            axis, each smaller than its stride; with 'same' the output is then
            (n - 1) * s + k % 2 + output_padding, as in Keras. None: the defaults above.

    Input shape:
        (batch, *spatial, channels) with channels_last, (batch, channels, *spatial) otherwise.
    Output shape:
        (batch, *new_spatial, filters) or (batch, filters, *new_spatial).
    """

    _transpose = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        if output_padding is not None:
            output_padding = normalize_tuple(
                output_padding, self.rank, "output_padding", self._owner, allow_zero=True
            )
            if any(op >= s for op, s in zip(output_padding, self.strides, strict=True)):
                raise ValueError(
                    f"{self._owner}: each output_padding must be smaller than its stride; got "
                    f"output_padding={output_padding} with strides={self.strides}"
                )
        self.output_padding = output_padding
        self._crops = [self._axis_crops(axis) for axis in range(self.rank)]

    def _axis_crops(self, axis: int) -> tuple[int, int]:
        """How much of the full transposed output to trim (before, after) along `axis`."""
        k, s = self.kernel_size[axis], self.strides[axis]
        span = self.dilation_rate[axis] * (k - 1) + 1
        extra = None if self.output_padding is None else self.output_padding[axis]
        if self.padding == "valid":
            # Keras: (n - 1) * s + max(span, s), the missing s - span positions added after.
            extra = max(span, s) - span if extra is None else extra
            return 0, -extra
        if self.padding == "same":
            # Keras keeps a window of n * s (or (n-1)*s + span % 2 + output_padding) positions,
            # padding the dilated input by at most span - 1 before and the rest after.
            total = s + span - 2 if extra is None else span + span % 2 - 2 + extra
            before = min(total // 2 + total % 2, span - 1)
            return span - 1 - before, span - 1 - (total - before)
        p = self.padding[axis]
        return p, p - (extra or 0)

    def _axis_output(self, axis: int, n: int) -> int:
        before, after = self._crops[axis]
        span = self.dilation_rate[axis] * (self.kernel_size[axis] - 1) + 1
        return (n - 1) * self.strides[axis] + span - before - after

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """As Keras' (`[None, 12, 4]`: a list, where Conv2D gives a tuple)."""
        return list(super().compute_output_shape(input_shape))

    def _plan(self, spatial: tuple[int, ...], shape: Shape) -> Any:
        """torch's (padding, output_padding) and what to slice off after, per axis."""
        plan = self._plans.get(spatial)
        if plan is None:
            self._output_spatial(spatial, shape)
            # torch trims `padding` from both sides, then gives `output_padding` back after (it
            # must stay below the stride, which the checks on output_padding guarantee). When
            # more is trimmed after than before, the rest is sliced off the result (a view).
            padding = tuple(before for before, _ in self._crops)
            output_padding = tuple(max(before - after, 0) for before, after in self._crops)
            trims = tuple(max(after - before, 0) for before, after in self._crops)
            plan = (padding, output_padding, trims)
            self._plans[spatial] = plan
        return plan

    def _forward(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        padding, output_padding, trims = plan
        conv = _CONV_TRANSPOSE[self.rank - 1]
        y = conv(
            x,
            self.weight,
            self.bias,
            self.strides,
            padding,
            output_padding,
            self.groups,
            self.dilation_rate,
        )
        if any(trims):
            ends = (slice(0, size - trim) for size, trim in zip(y.shape[2:], trims, strict=True))
            y = y[(slice(None), slice(None), *ends)]
        return y

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over (batch, steps, channels). See `_ConvTranspose`.

    >>> import torch
    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(torch.zeros(2, 5, 8)).shape
    torch.Size([2, 10, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding output_padding data_format dilation_rate activation "
        "use_bias kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution over (batch, height, width, channels). See `_ConvTranspose`.

    >>> import torch
    >>> Conv2DTranspose(4, 3, strides=2)(torch.zeros(1, 7, 7, 8)).shape
    torch.Size([1, 15, 15, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding output_padding data_format dilation_rate activation "
        "use_bias kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """3-D transposed convolution over (batch, depth, height, width, channels).

    See `_ConvTranspose`.

    >>> import torch
    >>> Conv3DTranspose(2, 2, strides=2)(torch.zeros(1, 3, 3, 3, 4)).shape
    torch.Size([1, 6, 6, 6, 2])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "filters kernel_size strides padding output_padding data_format dilation_rate activation "
        "use_bias kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint"
    )

    rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = "valid",
        data_format: str | None = None,
        output_padding: int | Sequence[int] | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        # Keras' 3-D class takes data_format before output_padding (the 1-D/2-D ones after).
        arguments = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        super().__init__(**arguments, **kwargs)


# Keras' long names.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
