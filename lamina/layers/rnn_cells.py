"""Recurrent cells: one step of SimpleRNN, LSTM or GRU, for `RNN(cell)`, and StackedRNNCells.

A cell maps `(inputs, states)` of one timestep to `(output, new_states)`; `RNN` (rnn.py) runs it
over a sequence. The cells share the weights, layouts and arithmetic of the layers in
recurrent.py: the same state_dict entries (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0` beside a
zero `bias_hh_l0` buffer; GRU(reset_after) one `bias` saved as `bias_ih_l0` and `bias_hh_l0`), the
same Keras layout from `get_weights()`, and for `RNN(LSTMCell(n))` without mask or recurrent
dropout the same fused kernel as `LSTM(n)`.

>>> import torch
>>> cell = LSTMCell(4)
>>> output, (h, c) = cell(torch.zeros(2, 3), [torch.zeros(2, 4), torch.zeros(2, 4)])
>>> output.shape, cell.state_size, [w.shape for w in cell.get_weights()]
(torch.Size([2, 4]), [4, 4], [(3, 16), (4, 16), (16,)])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._recurrent_base import _RNN, _join_gru_bias, _split_gru_bias, constructor_arguments
from .layer import Layer, Shape
from .recurrent import GRU, LSTM, SimpleRNN

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]

# Arguments of the sequence layers that a cell does not take.
_SEQUENCE_ARGUMENTS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
    "use_cudnn",
)


class DropoutCellMixin:
    """Dropout masks kept for a whole sequence, as Keras' DropoutRNNCell: made on the first
    step that needs them, reused by the next steps, cleared by `RNN` after its loop.

    A class using it has `dropout`, `recurrent_dropout`, `dropout_mask_count` (1, or one mask
    per gate) and `_dropout_mask(like, rate)`.
    """

    dropout: float
    recurrent_dropout: float
    dropout_mask_count: int = 1
    _dropout_mask: Any

    def _cached_mask(self, attribute: str, like: torch.Tensor, rate: float) -> Any:
        masks = self.__dict__.get(attribute)
        if masks is None and rate > 0:
            masks = [self._dropout_mask(like, rate) for _ in range(self.dropout_mask_count)]
            masks = masks[0] if self.dropout_mask_count == 1 else masks
            self.__dict__[attribute] = masks
        return masks

    def get_dropout_mask(self, step_input: torch.Tensor) -> Any:
        """The input dropout mask(s) of the current sequence (None without dropout)."""
        return self._cached_mask("_input_dropout_mask", step_input, self.dropout)

    def get_recurrent_dropout_mask(self, state: torch.Tensor) -> Any:
        """The recurrent dropout mask(s) of the current sequence (None without it)."""
        return self._cached_mask("_state_dropout_mask", state, self.recurrent_dropout)

    def reset_dropout_mask(self) -> None:
        self.__dict__["_input_dropout_mask"] = None

    def reset_recurrent_dropout_mask(self) -> None:
        self.__dict__["_state_dropout_mask"] = None


class _Cell(DropoutCellMixin, _RNN):
    """A recurrent layer's weights and step, without the loop over timesteps.

    Subclasses borrow the step arithmetic (`_step`), the fused kernel choice and the bias
    layout from the matching layer class, so that cell and layer cannot drift apart.
    """

    input_ndim = 2
    input_description = "(batch, features)"
    supports_masking = False

    def __init__(self, units: int, **kwargs: Any) -> None:
        given = sorted(set(kwargs) & set(_SEQUENCE_ARGUMENTS))
        if given:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {key: kwargs[key] for key in given} }; a cell computes one step: pass them "
                "to RNN(cell, ...)"
            )
        kwargs.pop("implementation", None)  # Keras' choice of matmul grouping: one here
        super().__init__(units, **kwargs)
        self.output_size = units

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        """Zero states, one (batch_size, units) tensor per state."""
        return [torch.zeros(batch_size or 1, self.units) for _ in range(self.num_states)]

    def _project_inputs(self, inputs: torch.Tensor, training: bool | None) -> torch.Tensor:
        """`x W + b` of one step (batch, features) or of all steps (batch, steps, features)."""
        if training and self.dropout > 0:
            step = inputs if inputs.ndim == 2 else inputs[:, 0]
            mask = self.get_dropout_mask(step)
            inputs = inputs * (mask if inputs.ndim == 2 else mask.unsqueeze(1))
        return F.linear(inputs, self.weight_ih_l0, self._biases()[0])

    def _recur(
        self, projected: torch.Tensor, states: list[torch.Tensor], training: bool | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step from the projected input: (output, new states)."""
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self.get_recurrent_dropout_mask(states[0])
        new_states = self._step(projected, states, self._biases()[1], recurrent_mask)
        return new_states[0], new_states

    def call(self, inputs: torch.Tensor, states: Any, training: bool | None = None) -> Any:
        single = isinstance(states, torch.Tensor)
        states = [states] if single else list(states)
        expected = (inputs.shape[0], self.units)
        if len(states) != self.num_states or any(tuple(s.shape) != expected for s in states):
            raise ValueError(
                f"{self._describe()} expects states: {self.num_states} tensor(s) of shape "
                f"(batch, units) = {expected}; got shapes {[tuple(s.shape) for s in states]}"
            )
        output, new_states = self._recur(self._project_inputs(inputs, training), states, training)
        return output, (new_states[0] if single else new_states)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._maybe_build(input_shape)
        shape = (input_shape[0], self.units)
        return shape, [shape] * self.num_states

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in _SEQUENCE_ARGUMENTS:
            config.pop(key, None)
        if config.get("activity_regularizer") is None:  # not a cell argument in Keras
            config.pop("activity_regularizer", None)
        return config


class SimpleRNNCell(_Cell):
    """One step of `SimpleRNN`: `h = activation(x W + h U + b)`.

    Args:
        units: size of the output and of the state.
        activation, use_bias, initializers, regularizers, constraints, dropout,
            recurrent_dropout, seed: as `SimpleRNN`.

    Call arguments:
        inputs: (batch, features); states: [h] or h, (batch, units); training.
    Returns:
        (output, new_states): output (batch, units), new_states [h] (or h when h came alone).

    >>> import torch
    >>> output, state = SimpleRNNCell(3)(torch.zeros(2, 5), torch.zeros(2, 3))
    >>> output.shape, state.shape
    (torch.Size([2, 3]), torch.Size([2, 3]))
    """

    _fused_function = SimpleRNN._fused_function
    _step = SimpleRNN._step

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
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
        super().__init__(**constructor_arguments(locals()))
        self.state_size = units


class LSTMCell(_Cell):
    """One step of `LSTM`, with Keras' gates (i, f, c, o); the states are [h, c].

    Args:
        units: size of the output and of each state.
        activation, recurrent_activation, use_bias, unit_forget_bias, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed: as `LSTM`.

    Call arguments:
        inputs: (batch, features); states: [h, c], each (batch, units); training.
    Returns:
        (h, [h, c]).

    >>> import torch
    >>> from lamina.layers.rnn import RNN
    >>> RNN(LSTMCell(4), return_sequences=True)(torch.zeros(2, 7, 3)).shape
    torch.Size([2, 7, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "units activation recurrent_activation use_bias unit_forget_bias kernel_initializer "
        "recurrent_initializer bias_initializer kernel_regularizer recurrent_regularizer "
        "bias_regularizer kernel_constraint recurrent_constraint bias_constraint dropout "
        "recurrent_dropout seed"
    )

    gates = 4
    num_states = 2
    _bias_initializer = LSTM._bias_initializer
    _fused_function = LSTM._fused_function
    _step = LSTM._step

    def __init__(
        self,
        units: int,
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
        super().__init__(**constructor_arguments(locals(), "unit_forget_bias"))
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One step of `GRU`, with Keras' gates (z, r, h).

    Args:
        units: size of the output and of the state.
        activation, recurrent_activation, use_bias, reset_after, initializers, regularizers,
            constraints, dropout, recurrent_dropout, seed: as `GRU`.

    Call arguments:
        inputs: (batch, features); states: [h] or h, (batch, units); training.
    Returns:
        (h, [h]) (or (h, h) when h came alone).

    >>> import torch
    >>> cell = GRUCell(3)
    >>> output, [h] = cell(torch.zeros(2, 5), [torch.zeros(2, 3)])
    >>> [w.shape for w in cell.get_weights()]
    [(5, 9), (3, 9), (2, 9)]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "units activation recurrent_activation use_bias kernel_initializer recurrent_initializer "
        "bias_initializer kernel_regularizer recurrent_regularizer bias_regularizer "
        "kernel_constraint recurrent_constraint bias_constraint dropout recurrent_dropout "
        "reset_after seed"
    )

    gates = 3
    _two_biases = GRU._two_biases
    _fused_function = GRU._fused_function
    _step = GRU._step

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**constructor_arguments(locals(), "reset_after"))
        self.reset_after = bool(reset_after)
        self.state_size = units
        if self.reset_after and self.use_bias:
            self.register_state_dict_post_hook(_split_gru_bias)
            self.register_load_state_dict_pre_hook(_join_gru_bias)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}


def check_cell(cell: Any, owner: str) -> None:
    """A cell has a `call` method and a `state_size` (an int or a list of them)."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{owner}: a cell needs a `call(inputs, states)` method; got {cell!r}")
    state_size = getattr(cell, "state_size", None)
    if not isinstance(state_size, (int, list, tuple)) or isinstance(state_size, bool):
        raise ValueError(
            f"{owner}: a cell needs a `state_size` attribute, an int or a list of ints (one per "
            f"state); got {state_size!r} from {type(cell).__name__}"
        )


def cell_output_size(cell: Any) -> Any:
    """A cell's output size: `output_size`, else the size of its first state (Keras' rule)."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state_size = cell.state_size
    return state_size[0] if isinstance(state_size, (list, tuple)) else state_size


def call_cell(cell: Any, inputs: torch.Tensor, states: list[Any], training: bool | None) -> Any:
    """`cell(inputs, states)` with `training` where the cell takes it; new states as a list."""
    if isinstance(cell, Layer):
        output, new_states = cell(inputs, states, training=training)
    else:
        output, new_states = cell.call(inputs, states)
    if not isinstance(new_states, (list, tuple)):
        new_states = [new_states]
    return output, list(new_states)


class StackedRNNCells(Layer):
    """Several cells as one: each step runs them in order, each reading the previous output.

    Args:
        cells: the cells, first to last (lamina layers with `call(inputs, states)` and
            `state_size`, such as `LSTMCell(8)`).

    The states are one entry per cell, in order; `RNN(StackedRNNCells(cells))` returns the
    last cell's output, and with `return_state` one list of states per cell.

    >>> import torch
    >>> from lamina.layers.rnn import RNN
    >>> stack = StackedRNNCells([LSTMCell(4), GRUCell(3)])
    >>> output, lstm_states, gru_states = RNN(stack, return_state=True)(torch.zeros(2, 5, 6))
    >>> stack.state_size, output.shape, len(lstm_states), len(gru_states)
    ([[4, 4], 3], torch.Size([2, 3]), 2, 1)
    """

    def __init__(self, cells: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(cells, Layer) or not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"{self._describe()} expects a non-empty list of cells; got {cells!r}")
        for cell in cells:
            check_cell(cell, self._describe())
            if not isinstance(cell, torch.nn.Module):
                raise TypeError(
                    f"{self._describe()}: every cell must be a lamina layer (so its weights "
                    f"are tracked); got {type(cell).__name__}"
                )
        self.cells = torch.nn.ModuleList(cells)

    @property
    def state_size(self) -> list[Any]:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> Any:
        return cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        """Each cell's initial states: its own `get_initial_state`, else zeros."""
        states: list[Any] = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if make is not None:
                states.append(make(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(torch.zeros(batch_size or 1, cell.state_size))
            else:
                states.append([torch.zeros(batch_size or 1, size) for size in cell.state_size])
        return states

    def build(self, input_shape: Shape) -> None:
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build(input_shape)
            input_shape = (input_shape[0], cell_output_size(cell))

    def call(self, inputs: torch.Tensor, states: Any, training: bool | None = None) -> Any:
        if len(states) != len(self.cells):
            raise ValueError(
                f"{self._describe()} expects one state entry per cell ({len(self.cells)}); got "
                f"{len(states)}"
            )
        new_states = []
        for cell, cell_states in zip(self.cells, states, strict=True):
            nested = isinstance(cell_states, (list, tuple))
            inputs, updated = call_cell(
                cell, inputs, list(cell_states) if nested else [cell_states], training
            )
            new_states.append(updated if nested or len(updated) != 1 else updated[0])
        return inputs, new_states

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._maybe_build(input_shape)
        batch = input_shape[0]

        def shapes(cell: Any) -> Any:
            # As the states at run time: a list where the cell makes them as a list.
            size = cell.state_size
            if isinstance(size, int):
                listed = hasattr(cell, "get_initial_state")
                return [(batch, size)] if listed else (batch, size)
            return [(batch, s) for s in size]

        return (batch, self.output_size), [shapes(cell) for cell in self.cells]

    def get_config(self) -> dict[str, Any]:
        from .recurrent_wrappers import _serialize

        return {**super().get_config(), "cells": [_serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StackedRNNCells:
        """Rebuild from `get_config()`'s output (each cell from its entry)."""
        from .recurrent_wrappers import _deserialize

        config = dict(config)
        cells = [_deserialize(entry) for entry in config.pop("cells")]
        return cls(cells, **config)
