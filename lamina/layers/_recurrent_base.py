"""The machinery of the recurrent layers (recurrent.py): arguments, weights in PyTorch's layout
seen from Keras, and the two computations, PyTorch's fused kernels and a loop over the steps.

>>> from lamina.layers.recurrent import GRU
>>> layer = GRU(2); layer.build((None, 3, 4))
>>> sorted(layer.state_dict())   # torch.nn.GRU's keys
['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ._symbolic import flatten_structure, map_structure
from ._variables import _DISCARDING
from ._weights import _WeightInfo
from .layer import Layer, Shape

_CUDNN_COPY_WARNING = "RNN module weights are not part of single contiguous chunk"


def constructor_arguments(local: dict[str, Any], *own: str) -> dict[str, Any]:
    """The arguments an `__init__` received (from its `locals()`) to pass on to `_RNN`, less
    the ones the subclass keeps itself (`own`): lets each layer spell out Keras' signature."""
    skip = {"self", "kwargs", "__class__", *own}
    return {**{k: v for k, v in local.items() if k not in skip}, **local.get("kwargs", {})}


def _swap_first_gates(tensor: torch.Tensor, axis: int, units: int) -> torch.Tensor:
    """Exchange the first two gate blocks along `axis`: Keras' (z, r, h) <-> PyTorch's (r, z, n)."""
    rest = tensor.shape[axis] - 2 * units
    blocks = (tensor.narrow(axis, units, units), tensor.narrow(axis, 0, units))
    return torch.cat([*blocks, tensor.narrow(axis, 2 * units, rest)], axis)


@dataclass
class _GateLayout(_WeightInfo):
    """A recurrent weight seen from Keras: transposed, and for the GRU its gates reordered."""

    swap_units: int = 0  # GRU: the block size of the two swapped gates; 0: no reordering
    gate_axis: int = 0  # the axis holding the gates, in PyTorch's layout

    def _swap(self, tensor: torch.Tensor) -> torch.Tensor:
        if not self.swap_units:
            return tensor
        return _swap_first_gates(tensor, self.gate_axis, self.swap_units)

    def to_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        return super().to_keras(self._swap(tensor))

    def from_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        return self._swap(super().from_keras(tensor))


def _check_rate(layer: Layer, name: str, rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"{layer._describe()}: {name} must be a number in [0, 1); got {rate!r}")
    return float(rate)


def _kept(state: torch.Tensor) -> torch.Tensor:
    """A final state kept for the next call: detached; copied under compile or in predict."""
    state = state.detach()
    if torch.compiler.is_compiling():  # no view of a graph output
        return state.clone()
    if torch.is_inference_mode_enabled():
        with torch.inference_mode(False):
            return state.clone()
    return state


class _Stateful:
    """Keras' `stateful=True`, shared by SimpleRNN / LSTM / GRU and RNN: `build` makes zero
    states for the fixed batch size, each call starts from `states` (unless given an
    `initial_state`) and keeps its final states, detached, in `states` for the next call
    (predict, fit and evaluate alike; fit does not reset them between epochs, as Keras 3);
    `reset_state()` zeroes them. `states` stays None for a layer that is not stateful."""

    stateful: bool = False
    states: list[Any] | None = None

    def _create_states(self, input_shape: Shape) -> None:
        """From `build`: zero states for the batch of `input_shape`; an unknown batch (Keras
        raises) is fixed by the first call."""
        batch = input_shape[0]
        self.states = None if batch is None else list(self.get_initial_state(batch))

    def reset_state(self, states: Any = None) -> None:
        """Stateful layers: set the kept states to zeros, or to `states` (arrays or tensors
        of the same shapes); layers that are not stateful have none, and nothing happens."""
        if self.states is None:
            return
        if states is None:
            self.states = map_structure(torch.zeros_like, self.states)
            return
        given = [states] if not isinstance(states, (list, tuple)) else list(states)
        self.states = map_structure(
            lambda old: torch.as_tensor(given.pop(0), dtype=old.dtype, device=old.device),
            self.states,
        )

    reset_states = reset_state

    def call(
        self,
        inputs: torch.Tensor,
        initial_state: Any = None,
        mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        """The output (and final states with return_state); stateful layers keep theirs."""
        if self.stateful:
            return self._stateful_call(inputs, initial_state, mask, training)
        output, states = self._compute(inputs, initial_state, mask, training)
        return (output, *states) if self.return_state else output  # a tuple, as Keras

    def _stateful_call(
        self, inputs: torch.Tensor, initial_state: Any, mask: Any, training: bool | None
    ) -> Any:
        real = inputs.device.type != "meta" and not _DISCARDING[0]  # not a shape probe
        if real and self.states is None:
            self.states = list(self.get_initial_state(inputs.shape[0]))
        if real:
            kept = flatten_structure(self.states)[0].shape[0]
            if inputs.shape[0] != kept:
                raise ValueError(
                    f"{self._describe()} is stateful with states for batches of {kept}; got "
                    f"inputs of shape {tuple(inputs.shape)}. Every batch must have the size "
                    "the layer was built for (keras.Input(batch_shape=...)): pass that "
                    "batch_size to fit / predict / evaluate, with a number of samples it divides."
                )
            if initial_state is None:
                initial_state = self.states
        output, states = self._compute(inputs, initial_state, mask, training)
        if real:
            self.states = map_structure(_kept, states)
        return (output, *states) if self.return_state else output  # a tuple, as Keras


class _RNN(_Stateful, Layer):
    """The arguments, weights and both computations (fused and looped) of the three layers."""

    input_ndim = 3
    input_description = "(batch, timesteps, features)"
    weight_names = ("kernel", "recurrent_kernel", "bias")
    #: Gate blocks in the kernels, and the states carried between steps; Keras' cell name.
    _cell_scope: str | None = None
    gates: int = 1
    num_states: int = 1

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
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{self._describe()}: units must be a positive int; got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate(self, "dropout", dropout)
        self.recurrent_dropout = _check_rate(self, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states: list[torch.Tensor] | None = None
        # unroll and use_cudnn are accepted for Keras code; the fused kernel is used when it can.
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._generators: dict[torch.device, torch.Generator] = {}
        self.register_load_state_dict_post_hook(_fold_recurrent_bias)

    # ------------------------------------------------------------------ weights

    def _add_layout_weight(
        self, name: str, torch_name: str, shape: tuple[int, ...], initializer: Any, kind: str
    ) -> None:
        """Register a weight in PyTorch's layout, initialised and exchanged in Keras' layout."""
        keras_axes = (1, 0) if len(shape) == 2 and kind != "bias" else None
        swap = self.units if self.gates == 3 else 0
        layout = _GateLayout(
            keras_name=name,
            keras_axes=keras_axes,
            regularizer=getattr(self, f"{kind}_regularizer"),
            trainable=True,
            constraint=getattr(self, f"{kind}_constraint"),
            swap_units=swap,
            gate_axis=0 if keras_axes else -1,
        )

        def initialize(torch_shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
            value = torch.as_tensor(initializer(layout.keras_shape(torch_shape), dtype))
            return layout.from_keras(value)

        weight = self.add_weight(name, shape, initialize, torch_name=torch_name)
        self._weight_info[torch_name] = layout
        layout.attach(weight)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Shape) -> None:
        features = input_shape[-1]
        if features is None:
            raise ValueError(
                f"{self._describe()} needs a known features axis to build; got input shape "
                f"{input_shape}"
            )
        size = self.gates * self.units
        self._add_layout_weight(
            "kernel", "weight_ih_l0", (size, features), self.kernel_initializer, "kernel"
        )
        self._add_layout_weight(
            "recurrent_kernel",
            "weight_hh_l0",
            (size, self.units),
            self.recurrent_initializer,
            "recurrent",
        )
        if not self.use_bias:
            self.bias = None
        elif self._two_biases():
            self._add_layout_weight("bias", "bias", (2, size), self._bias_initializer(), "bias")
        else:
            self._add_layout_weight("bias", "bias_ih_l0", (size,), self._bias_initializer(), "bias")
            if self.gates != 3:
                # PyTorch's second bias, always zero here: a state_dict matches torch.nn's.
                self.register_buffer("bias_hh_l0", torch.zeros_like(self.bias_ih_l0))
        self._input_axes = {-1: features}
        for weight in [w for w in self._parameters.values() if w is not None and self._cell_scope]:
            head, _, tail = weight._keras_path.rpartition("/")  # 'lstm/lstm_cell/kernel'
            weight._keras_path = f"{head}/{self._cell_scope}/{tail}"
        if self.stateful:
            self._create_states(input_shape)

    def _two_biases(self) -> bool:
        return False

    def _biases(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """PyTorch's (bias_ih, bias_hh) for the computation."""
        if not self.use_bias:
            return None, None
        if self._two_biases():
            return self.bias[0], self.bias[1]
        return self.bias_ih_l0, self.__dict__["_buffers"].get("bias_hh_l0")

    # ------------------------------------------------------------------ computation

    def _fused_function(self) -> Any:
        """The fused `torch._VF` function computing this layer, or None where there is none."""
        return None

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None or device.type == "meta":
            return None
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def _dropout_mask(self, like: torch.Tensor, rate: float) -> torch.Tensor:
        """A (batch, size) mask of 0 and 1 / (1 - rate), the same at every step as in Keras."""
        draws = torch.rand(like.shape, generator=self._generator(like.device), device=like.device)
        return (draws >= rate).to(like.dtype) / (1.0 - rate)

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zero states, one (batch_size, units) tensor per state."""
        return [torch.zeros(batch_size, self.units) for _ in range(self.num_states)]

    def _initial_states(self, inputs: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        batch = inputs.shape[0]
        if initial_state is None:
            zeros = inputs.new_zeros(batch, self.units)
            return [zeros] * self.num_states
        states = [initial_state] if isinstance(initial_state, torch.Tensor) else initial_state
        states = [torch.as_tensor(s, device=inputs.device, dtype=inputs.dtype) for s in states]
        if len(states) != self.num_states or any(
            tuple(s.shape) != (batch, self.units) for s in states
        ):
            raise ValueError(
                f"{self._describe()} expects initial_state to be {self.num_states} tensor(s) of "
                f"shape (batch, units) = {(batch, self.units)}; got shapes "
                f"{[tuple(s.shape) for s in states]}"
            )
        return states

    def _check_mask(self, mask: Any, inputs: torch.Tensor) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=inputs.device)
        if tuple(mask.shape) != tuple(inputs.shape[:2]):
            raise ValueError(
                f"{self._describe()} expects a mask of shape (batch, timesteps) = "
                f"{tuple(inputs.shape[:2])}; got shape {tuple(mask.shape)}"
            )
        return mask if mask.dtype == torch.bool else mask != 0

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The timesteps' mask stays with a returned sequence (Keras' rule)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    def _compute(
        self, inputs: torch.Tensor, initial_state: Any, mask: Any, training: bool | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The output (the sequence or the last step) and the final states."""
        states = self._initial_states(inputs, initial_state)
        if mask is not None:
            mask = self._check_mask(mask, inputs)
        if training and self.dropout > 0:
            inputs = inputs * self._dropout_mask(inputs[:, 0], self.dropout).unsqueeze(1)
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self._dropout_mask(states[0], self.recurrent_dropout)
        if self.go_backwards:  # Keras keeps the outputs in the reversed order too
            inputs = inputs.flip(1)
            mask = None if mask is None else mask.flip(1)
        fused = self._fused_function()
        on_cpu = inputs.device.type == "cpu"
        if fused is torch._VF.lstm and on_cpu and torch.compiler.is_compiling():
            # torch 2.13's inductor fails on the CPU LSTM backward (pytorch#158007): loop.
            fused = None
        if fused is not None and mask is None and recurrent_mask is None:
            sequence, states = self._run_fused(fused, inputs, states)
            last = states[0]
        else:
            last, sequence, states = self._run_loop(inputs, states, mask, recurrent_mask)
        return (sequence if self.return_sequences else last), states

    def _run_fused(
        self, function: Any, inputs: torch.Tensor, states: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        params = [self.weight_ih_l0, self.weight_hh_l0]
        bias_ih, bias_hh = self._biases()
        if bias_ih is not None:
            params += [bias_ih, bias_hh]
        hidden = [s.unsqueeze(0) for s in states]
        hx = tuple(hidden) if self.num_states > 1 else hidden[0]
        # (params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        arguments = (inputs, hx, params, bias_ih is not None, 1, 0.0, False, False, True)
        if inputs.is_cuda and not torch.compiler.is_compiling():
            # cuDNN copies the separate parameters into one buffer at each call (as after
            # flatten_parameters) and warns each time.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_CUDNN_COPY_WARNING)
                sequence, *final = function(*arguments)
        else:
            sequence, *final = function(*arguments)
        return sequence, [s[0] for s in final]

    def _run_loop(
        self,
        inputs: torch.Tensor,
        states: list[torch.Tensor],
        mask: torch.Tensor | None,
        recurrent_mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
        bias_ih, bias_hh = self._biases()
        projected = F.linear(inputs, self.weight_ih_l0, bias_ih)  # every step's x W at once
        # A masked step keeps the states and repeats the previous output (zeros before the
        # first step, or always with zero_output_for_mask), as Keras' backend.rnn.
        output = torch.zeros_like(states[0])
        outputs = []
        for step in range(inputs.shape[1]):
            new_states = self._step(projected[:, step], states, bias_hh, recurrent_mask)
            if mask is None:
                states, output = new_states, new_states[0]
            else:
                keep = mask[:, step, None]
                states = [torch.where(keep, n, s) for n, s in zip(new_states, states, strict=True)]
                previous = torch.zeros_like(output) if self.zero_output_for_mask else output
                output = torch.where(keep, new_states[0], previous)
            if self.return_sequences:
                outputs.append(output)
        sequence = torch.stack(outputs, 1) if self.return_sequences else None
        return output, sequence, states

    def _step(
        self,
        projected: torch.Tensor,
        states: list[torch.Tensor],
        bias_hh: torch.Tensor | None,
        recurrent_mask: torch.Tensor | None,
    ) -> list[torch.Tensor]:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._maybe_build(input_shape)
        batch = input_shape[0]
        output = (
            (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        )
        if self.return_state:
            return (output, *[(batch, self.units)] * self.num_states)
        return output

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            recurrent_constraint=constraints.serialize(self.recurrent_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        if self.gates > 1:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


def _fold_recurrent_bias(module: torch.nn.Module, incompatible_keys: Any) -> None:
    """After loading a torch.nn state_dict: its bias_hh_l0 moves into bias_ih_l0 (equal sums)."""
    buffer = module.__dict__["_buffers"].get("bias_hh_l0")
    if buffer is not None and bool(buffer.any()):
        with torch.no_grad():
            module.bias_ih_l0.add_(buffer)
            buffer.zero_()


def _is(function: Any, name: str) -> bool:
    return function is activations.get(name)


def _split_gru_bias(module: torch.nn.Module, state: dict[str, Any], prefix: str, _: Any) -> None:
    bias = state.pop(prefix + "bias", None)
    if bias is not None:
        state[prefix + "bias_ih_l0"], state[prefix + "bias_hh_l0"] = bias[0], bias[1]


def _join_gru_bias(
    module: torch.nn.Module, state: dict[str, Any], prefix: str, *_: Sequence[Any]
) -> None:
    if prefix + "bias_ih_l0" in state and prefix + "bias" not in state:
        rows = state.pop(prefix + "bias_ih_l0"), state.pop(prefix + "bias_hh_l0")
        state[prefix + "bias"] = torch.stack(rows)
