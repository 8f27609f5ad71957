"""Recurrent layers: SimpleRNN, LSTM and GRU, on PyTorch's fused RNN kernels.

Inputs are (batch, timesteps, features). With the default activations, no recurrent dropout and
no mask, a layer runs `torch._VF.rnn_tanh` / `rnn_relu` / `lstm` / `gru` (cuDNN on a GPU); any
other configuration (another activation, `recurrent_dropout`, a `mask`, `GRU(reset_after=False)`)
runs the same arithmetic as a Python loop over the timesteps.

Weights are stored as torch.nn.RNN / LSTM / GRU store them, so a `state_dict` loads into those
modules (and back) unchanged; `get_weights()` / `set_weights()` convert to Keras' layout:

    Keras weight       Keras shape           state_dict entry (PyTorch layout)
    kernel             (features, G*units)   weight_ih_l0 (G*units, features)
    recurrent_kernel   (units, G*units)      weight_hh_l0 (G*units, units)
    bias               (G*units,)            bias_ih_l0, beside a zero buffer bias_hh_l0
    GRU bias           (2, 3*units)          one parameter, saved as its two rows
      (reset_after)                          bias_ih_l0 and bias_hh_l0

with G = 1, 4 and 3 gates for SimpleRNN, LSTM and GRU. (GRU(reset_after=False) has no PyTorch
twin: its bias is bias_ih_l0 alone.)

Keras' LSTM and SimpleRNN have one bias where PyTorch adds two: loading a PyTorch state_dict folds
its `bias_hh_l0` into `bias_ih_l0` (the same sums) and keeps the buffer at zero, so parameter
counts equal Keras'. LSTM gates are (i, f, g, o) in both libraries; GRU gates are (z, r, h) in
Keras and (r, z, n) in PyTorch, swapped at the Keras boundary.

>>> import torch
>>> LSTM(8, return_sequences=True)(torch.zeros(2, 7, 5)).shape
torch.Size([2, 7, 8])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ._recurrent_base import _RNN, _is, _join_gru_bias, _split_gru_bias, constructor_arguments

__all__ = ["GRU", "LSTM", "SimpleRNN"]


class SimpleRNN(_RNN):
    """A fully connected recurrence: `h_t = activation(x_t W + h_{t-1} U + b)`.

    Args:
        units: size of the output and of the state.
        activation: 'tanh' (default) or 'relu' run fused; any other function runs as a loop.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as in Keras.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties on the weights.
        kernel_constraint, recurrent_constraint, bias_constraint: projections after updates.
        dropout: fraction of the input features dropped in training (one mask for all steps).
        recurrent_dropout: fraction of the state dropped before the recurrent product.
        seed: makes the dropout masks reproducible.
        return_sequences: return every step's output (batch, timesteps, units), not the last.
        return_state: also return the final state: (output, h).
        go_backwards: read the sequence backwards (the outputs stay in the order computed).
        stateful: keep the final states of each call (predict, fit, evaluate) as the initial
            states of the next; needs a fixed batch size (`Input(batch_shape=...)`). `states`
            holds them, `reset_state()` zeroes them.
        unroll: accepted and ignored (the fused kernel runs when it can).
        activity_regularizer: a penalty on the output, added to the loss.

    Call arguments:
        inputs: (batch, timesteps, features); initial_state: [h] or h; mask: (batch, timesteps)
        booleans, False steps keep the state and repeat the previous output; training.

    Input shape:
        (batch, timesteps, features).
    Output shape:
        (batch, units), or (batch, timesteps, units) with return_sequences.

    >>> import torch
    >>> SimpleRNN(4)(torch.zeros(2, 3, 5)).shape
    torch.Size([2, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "return_sequences return_state go_backwards stateful unroll zero_output_for_mask units "
        "activation use_bias kernel_initializer recurrent_initializer bias_initializer "
        "kernel_regularizer recurrent_regularizer bias_regularizer activity_regularizer "
        "kernel_constraint recurrent_constraint bias_constraint dropout recurrent_dropout"
    )

    _cell_scope = "simple_rnn_cell"

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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**constructor_arguments(locals()))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if config.get("seed") is None:
            config.pop("seed", None)  # Keras' SimpleRNN config has no seed entry (its cell's has)
        return config

    def _fused_function(self) -> Any:
        if _is(self.activation, "tanh"):
            return torch._VF.rnn_tanh
        return torch._VF.rnn_relu if _is(self.activation, "relu") else None

    def _step(
        self,
        projected: torch.Tensor,
        states: list[torch.Tensor],
        bias_hh: torch.Tensor | None,
        recurrent_mask: torch.Tensor | None,
    ) -> list[torch.Tensor]:
        h = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        return [self.activation(projected + F.linear(h, self.weight_hh_l0, bias_hh))]


class LSTM(_RNN):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), with Keras' gates (i, f, c, o).

    Args:
        units: size of the output and of the two states.
        activation: applied to the candidate and the cell state ('tanh').
        recurrent_activation: applied to the gates ('sigmoid').
        unit_forget_bias: start the forget gate's bias at 1 (Jozefowicz et al., 2015).
        Others: as `SimpleRNN`; `return_state` returns (output, h, c) and `initial_state` is
        [h, c].

    >>> import torch
    >>> layer = LSTM(8)
    >>> output, h, c = LSTM(8, return_state=True)(torch.zeros(2, 7, 5))
    >>> layer(torch.zeros(2, 7, 5)).shape, layer.count_params()
    (torch.Size([2, 8]), 448)
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "return_sequences return_state go_backwards stateful unroll zero_output_for_mask units "
        "activation recurrent_activation use_bias kernel_initializer recurrent_initializer "
        "bias_initializer unit_forget_bias kernel_regularizer recurrent_regularizer "
        "bias_regularizer activity_regularizer kernel_constraint recurrent_constraint "
        "bias_constraint dropout recurrent_dropout seed"
    )

    _cell_scope = "lstm_cell"

    gates = 4
    num_states = 2

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
        unroll: bool = False,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**constructor_arguments(locals(), "unit_forget_bias"))
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initialize(shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
            first, rest = torch.as_tensor(base((units,), dtype)), base((2 * units,), dtype)
            return torch.cat([first, torch.ones_like(first), torch.as_tensor(rest)])

        return initialize

    def _fused_function(self) -> Any:
        default = _is(self.activation, "tanh") and _is(self.recurrent_activation, "sigmoid")
        return torch._VF.lstm if default else None

    def _step(
        self,
        projected: torch.Tensor,
        states: list[torch.Tensor],
        bias_hh: torch.Tensor | None,
        recurrent_mask: torch.Tensor | None,
    ) -> list[torch.Tensor]:
        h = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        gates = projected + F.linear(h, self.weight_hh_l0, bias_hh)
        i, f, g, o = gates.chunk(4, -1)
        gate = self.recurrent_activation
        c = gate(f) * states[1] + gate(i) * self.activation(g)
        return [gate(o) * self.activation(c), c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gated recurrent unit (Cho et al., 2014), with Keras' gates (z, r, h).

    Args:
        units: size of the output and of the state.
        activation: applied to the candidate ('tanh'); recurrent_activation: to the gates.
        reset_after: apply the reset gate after the recurrent product (True, the cuDNN and
            torch.nn.GRU form, with a (2, 3 * units) bias) or before it (False: one bias, and
            a loop over the steps).
        Others: as `SimpleRNN`.

    >>> import torch
    >>> GRU(4, return_sequences=True)(torch.zeros(2, 3, 5)).shape
    torch.Size([2, 3, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "return_sequences return_state go_backwards stateful unroll zero_output_for_mask units "
        "activation recurrent_activation use_bias kernel_initializer recurrent_initializer "
        "bias_initializer kernel_regularizer recurrent_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint recurrent_constraint bias_constraint dropout "
        "recurrent_dropout reset_after seed"
    )

    _cell_scope = "gru_cell"

    gates = 3

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
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**constructor_arguments(locals(), "reset_after"))
        self.reset_after = bool(reset_after)
        if self.reset_after and self.use_bias:
            # One parameter (2, 3 * units) for Keras; torch.nn.GRU's two rows in a state_dict.
            self.register_state_dict_post_hook(_split_gru_bias)
            self.register_load_state_dict_pre_hook(_join_gru_bias)

    def _two_biases(self) -> bool:
        return self.reset_after

    def _fused_function(self) -> Any:
        default = _is(self.activation, "tanh") and _is(self.recurrent_activation, "sigmoid")
        return torch._VF.gru if default and self.reset_after else None

    def _step(
        self,
        projected: torch.Tensor,
        states: list[torch.Tensor],
        bias_hh: torch.Tensor | None,
        recurrent_mask: torch.Tensor | None,
    ) -> list[torch.Tensor]:
        h = states[0]
        dropped = h if recurrent_mask is None else h * recurrent_mask
        x_r, x_z, x_n = projected.chunk(3, -1)  # PyTorch's order (r, z, n)
        gate, units = self.recurrent_activation, self.units
        if self.reset_after:
            h_r, h_z, h_n = F.linear(dropped, self.weight_hh_l0, bias_hh).chunk(3, -1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            h_r, h_z = F.linear(dropped, self.weight_hh_l0[: 2 * units]).chunk(2, -1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            n = self.activation(x_n + F.linear(r * dropped, self.weight_hh_l0[2 * units :]))
        return [z * h + (1 - z) * n]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}
