"""Convolutional LSTMs (Shi et al., 2015): ConvLSTM1D, ConvLSTM2D and ConvLSTM3D.

An LSTM whose input and recurrent transformations are convolutions, so its states are feature
maps: inputs (batch, time, *spatial, channels) give states (batch, *out_spatial, filters). The
input convolution uses the layer's strides, padding and dilation, the recurrent one stride 1 and
'same' padding, as in Keras. The layers are `RNN`s over a private cell (named 'conv_lstm_cell'
as Keras'), so masks, `initial_state`, `go_backwards` and `stateful` work as for `RNN`.

Weights are stored in PyTorch's convolution layout; `get_weights()` gives Keras' layout:

    Keras weight       Keras shape                 state_dict entry (PyTorch layout)
    kernel             (*kernel, channels, 4*f)    cell.weight_ih (4*f, channels, *kernel)
    recurrent_kernel   (*kernel, f, 4*f)           cell.weight_hh (4*f, f, *kernel)
    bias               (4*f,)                      cell.bias_ih

with the gates (i, f, c, o) in both. The input convolution of every timestep runs as one call;
a dropout's four masks (one per gate, as Keras) run as one grouped convolution.

>>> import torch
>>> ConvLSTM2D(4, 3, padding="same")(torch.zeros(2, 5, 8, 8, 3)).shape
torch.Size([2, 8, 8, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ._conv_base import kernel_keras_axes
from ._conv_utils import (
    conv_output_size,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    same_padding,
    spatial_description,
    to_channels_first,
    to_channels_last,
    torch_pad_argument,
)
from ._recurrent_base import _RNN, _check_rate
from .layer import Layer, Shape
from .recurrent import LSTM
from .rnn import RNN
from .rnn_cells import DropoutCellMixin

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_CONV = (F.conv1d, F.conv2d, F.conv3d)
_SERIALIZED = ("activation", "recurrent_activation")
_INITIALIZERS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")
_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
_CONSTRAINTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")
_CELL_ARGUMENTS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    *_SERIALIZED,
    "use_bias",
    *_INITIALIZERS,
    "unit_forget_bias",
    *_REGULARIZERS,
    *_CONSTRAINTS,
    "dropout",
    "recurrent_dropout",
    "seed",
)


class _ConvLSTMCell(DropoutCellMixin, Layer):
    """One step of a convolutional LSTM; states [h, c] in the layer's data format."""

    dropout_mask_count = 4  # one mask per gate, as Keras
    _generator = _RNN._generator
    _dropout_mask = _RNN._dropout_mask
    _bias_initializer = LSTM._bias_initializer  # reads units, bias_initializer, unit_forget_bias

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = self._describe()
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive int; got {filters!r}")
        self.rank = rank
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: strides > 1 cannot be combined with dilation_rate > 1; got "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.padding = normalize_padding(padding, rank, owner)
        self.data_format = normalize_data_format(data_format, owner)
        for name in _SERIALIZED:
            setattr(self, name, activations.get(locals()[name]))
        for names, module in (
            (_INITIALIZERS, initializers),
            (_REGULARIZERS, regularizers),
            (_CONSTRAINTS, constraints),
        ):
            for name in names:
                setattr(self, name, module.get(locals()[name]))
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.dropout = _check_rate(self, "dropout", dropout)
        self.recurrent_dropout = _check_rate(self, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}
        self.state_size = [filters, filters]
        self.output_size = filters

    @property
    def units(self) -> int:
        return self.filters

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    # ------------------------------------------------------------------ weights and shapes

    def _spatial(self, step_shape: Shape) -> tuple[Any, ...]:
        return tuple(step_shape[1:-1] if self._channels_last else step_shape[2:])

    def build(self, step_shape: Shape) -> None:
        channels = step_shape[-1 if self._channels_last else 1]
        spatial = self._spatial(step_shape)
        if channels is None or None in spatial:
            raise ValueError(
                f"{self._describe()} needs known channels and spatial sizes to build; got step "
                f"shape {tuple(step_shape)} ({self.data_format})"
            )
        axes = kernel_keras_axes(self.rank)
        size = 4 * self.filters
        for name, torch_name, inputs, kind in (
            ("kernel", "weight_ih", channels, "kernel"),
            ("recurrent_kernel", "weight_hh", self.filters, "recurrent"),
        ):
            self.add_weight(
                name,
                (size, inputs, *self.kernel_size),
                getattr(self, f"{kind}_initializer"),
                getattr(self, f"{kind}_regularizer"),
                keras_axes=axes,
                torch_name=torch_name,
                constraint=getattr(self, f"{kind}_constraint"),
            )
        if self.use_bias:
            self.add_weight(
                "bias",
                (size,),
                self._bias_initializer(),
                self.bias_regularizer,
                torch_name="bias_ih",
                constraint=self.bias_constraint,
            )
        else:
            self.bias_ih = None
        self._input_axes = {(-1 if self._channels_last else 1): channels}
        self._state_spatial = self.output_spatial(spatial)

    def _input_pads(self, spatial: Sequence[int]) -> list[tuple[int, int]]:
        if self.padding == "valid":
            return [(0, 0)] * self.rank
        return [
            same_padding(n, k, s, d)
            for n, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        ]

    def output_spatial(self, spatial: Sequence[Any]) -> tuple[Any, ...]:
        """The states' spatial sizes for inputs of spatial sizes `spatial`."""
        if None in spatial:
            return tuple(None for _ in spatial)
        pads = self._input_pads(spatial)
        sizes = tuple(
            conv_output_size(n + before + after, k, s, 0, d)
            for n, (before, after), k, s, d in zip(
                spatial, pads, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )
        if min(sizes) <= 0:
            raise ValueError(
                f"{self._describe()}: kernel_size {self.kernel_size} (dilation "
                f"{self.dilation_rate}) does not fit in spatial size {tuple(spatial)} with "
                f"padding='{self.padding}'"
            )
        return sizes

    def state_shape(self, batch: Any) -> tuple[Any, ...]:
        if self._channels_last:
            return (batch, *self._state_spatial, self.filters)
        return (batch, self.filters, *self._state_spatial)

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        """Zero states [h, c], each (batch, *out_spatial, filters) in the data format."""
        shape = self.state_shape(batch_size or 1)
        return [torch.zeros(shape), torch.zeros(shape)]

    # ------------------------------------------------------------------ computation

    def _convolve(
        self,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        pads: list[tuple[int, int]],
        masks: Any,
        **conv: Any,
    ) -> torch.Tensor:
        """A channels-first convolution; with per-gate masks, each gate's kernel reads its own
        masked copy of `x` (one grouped convolution)."""
        groups = 1
        if masks is not None:
            x = torch.cat([x * m for m in masks], 1)
            groups = 4
        if all(before == after for before, after in pads):
            padding = [before for before, _ in pads]
            return _CONV[self.rank - 1](x, weight, bias, padding=padding, groups=groups, **conv)
        x = F.pad(x, torch_pad_argument(pads))
        return _CONV[self.rank - 1](x, weight, bias, groups=groups, **conv)

    def _project_inputs(self, inputs: torch.Tensor, training: bool | None) -> torch.Tensor:
        """The input convolution of one step, or of all steps (batch, steps, ...) at once, as
        (..., 4 * filters, *out_spatial) channels first."""
        lead = inputs.shape[: inputs.ndim - self.rank - 1]
        flat = inputs.reshape(-1, *inputs.shape[len(lead) :])
        if self._channels_last:
            flat = to_channels_first(flat)
        masks = None
        if training and self.dropout > 0:
            step = inputs if len(lead) == 1 else inputs[:, 0]
            masks = self.get_dropout_mask(step)
            steps = flat.shape[0] // step.shape[0]
            masks = [
                (to_channels_first(m) if self._channels_last else m).repeat_interleave(steps, 0)
                for m in masks
            ]
        projected = self._convolve(
            flat,
            self.weight_ih,
            self.bias_ih,
            self._input_pads(flat.shape[2:]),
            masks,
            stride=self.strides,
            dilation=self.dilation_rate,
        )
        return projected.reshape(*lead, *projected.shape[1:])

    def _recur(
        self, projected: torch.Tensor, states: list[torch.Tensor], training: bool | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, c = states
        if self._channels_last:
            h, c = to_channels_first(h), to_channels_first(c)
        masks = None
        if training and self.recurrent_dropout > 0:
            masks = self.get_recurrent_dropout_mask(states[0])
            masks = [to_channels_first(m) if self._channels_last else m for m in masks]
        pads = [same_padding(n, k) for n, k in zip(h.shape[2:], self.kernel_size, strict=True)]
        gates = projected + self._convolve(h, self.weight_hh, None, pads, masks)
        i, f, g, o = gates.chunk(4, 1)
        gate, activation = self.recurrent_activation, self.activation
        c = gate(f) * c + gate(i) * activation(g)
        h = gate(o) * activation(c)
        if self._channels_last:
            h, c = to_channels_last(h), to_channels_last(c)
        return h, [h, c]

    def call(self, inputs: torch.Tensor, states: Any, training: bool | None = None) -> Any:
        return self._recur(self._project_inputs(inputs, training), list(states), training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for name in _CELL_ARGUMENTS:
            value = getattr(self, name)
            if name in _SERIALIZED:
                value = activations.serialize(value)
            elif name in _INITIALIZERS:
                value = initializers.serialize(value)
            elif name in _REGULARIZERS:
                value = regularizers.serialize(value)
            elif name in _CONSTRAINTS:
                value = constraints.serialize(value)
            config[name] = value
        return {"rank": self.rank, **config}


class _ConvLSTM(RNN):
    """The rank-generic layer: an `RNN` over a `_ConvLSTMCell` with Keras' arguments.

    Args:
        filters: number of output feature maps (the states' channels).
        kernel_size, strides, padding ('valid' or 'same'), data_format, dilation_rate: of the
            input convolution, as `Conv2D`; the recurrent convolution has the same kernel
            size, stride 1 and 'same' padding. strides > 1 with dilation_rate > 1 is refused.
        activation, recurrent_activation, use_bias, unit_forget_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, *_regularizer, *_constraint: as `LSTM`.
        dropout, recurrent_dropout: fractions of the input / state dropped in training, with
            one mask per gate kept for the whole sequence; seed makes them reproducible.
        return_sequences, return_state, go_backwards, stateful: as `RNN`.

    Input shape:
        (batch, time, *spatial, channels), or (batch, time, channels, *spatial) with
        data_format='channels_first'.
    Output shape:
        (batch, *out_spatial, filters), with return_sequences (batch, time, *out_spatial,
        filters); with return_state followed by the states h and c of that shape too.
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "return_sequences return_state go_backwards stateful unroll zero_output_for_mask filters "
        "kernel_size strides padding data_format dilation_rate activation recurrent_activation "
        "use_bias kernel_initializer recurrent_initializer bias_initializer unit_forget_bias "
        "kernel_regularizer recurrent_regularizer bias_regularizer activity_regularizer "
        "kernel_constraint recurrent_constraint bias_constraint dropout recurrent_dropout seed"
    )

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        arguments = {name: value for name, value in locals().items() if name in _CELL_ARGUMENTS}
        cell = _ConvLSTMCell(
            self.rank, name="conv_lstm_cell", dtype=kwargs.get("dtype"), **arguments
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_ndim = self.rank + 3
        channels_last = cell.data_format == "channels_last"
        self.input_description = spatial_description(self.rank, channels_last).replace(
            "(batch, ", "(batch, time, "
        )

    def __getattr__(self, name: str) -> Any:
        if name in _CELL_ARGUMENTS:  # Keras' layer attributes: the cell's
            return getattr(self._modules["cell"], name)
        return super().__getattr__(name)

    def _output_step_shape(self, sequences_shape: Shape) -> tuple[Any, ...]:
        return self.cell.state_shape(None)[1:]

    def _state_shapes(self, sequences_shape: Shape) -> list[Any]:
        shape = self.cell.state_shape(sequences_shape[0])
        return [shape, shape]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({name: cell_config[name] for name in _CELL_ARGUMENTS})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _ConvLSTM:
        """Rebuild from `get_config()`'s output."""
        return cls(**config)


class ConvLSTM1D(_ConvLSTM):
    """1-D convolutional LSTM: inputs (batch, time, steps, channels). See `_ConvLSTM` for the
    arguments.

    >>> import torch
    >>> ConvLSTM1D(4, 3, return_sequences=True)(torch.zeros(2, 5, 10, 3)).shape
    torch.Size([2, 5, 8, 4])
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2-D convolutional LSTM: inputs (batch, time, height, width, channels). See `_ConvLSTM`
    for the arguments.

    >>> import torch
    >>> output, h, c = ConvLSTM2D(2, 3, return_state=True)(torch.zeros(1, 4, 6, 6, 1))
    >>> output.shape, c.shape
    (torch.Size([1, 4, 4, 2]), torch.Size([1, 4, 4, 2]))
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3-D convolutional LSTM: inputs (batch, time, depth, height, width, channels). See
    `_ConvLSTM` for the arguments.

    >>> import torch
    >>> ConvLSTM3D(2, 2, padding="same")(torch.zeros(1, 3, 4, 4, 4, 1)).shape
    torch.Size([1, 4, 4, 4, 2])
    """

    rank = 3
