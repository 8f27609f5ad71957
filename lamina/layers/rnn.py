"""RNN: Keras' generic recurrent layer, running any cell over the timesteps of a sequence.

A cell is a layer with a `state_size` (an int, or a list with one size per state), optionally
an `output_size`, and `call(inputs, states)` returning `(output, new_states)` for one step; the
cells of rnn_cells.py, a list of cells (stacked), or a user's own, as in Keras' guide:

>>> import torch
>>> from lamina import ops
>>> from lamina.layers.layer import Layer
>>> class MinimalRNNCell(Layer):
...     def __init__(self, units, **kwargs):
...         super().__init__(**kwargs)
...         self.units = units
...         self.state_size = units
...     def build(self, input_shape):
...         self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
...         self.recurrent_kernel = self.add_weight(
...             name="recurrent_kernel", shape=(self.units, self.units))
...     def call(self, inputs, states):
...         output = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
...         return output, [output]
>>> RNN(MinimalRNNCell(8), return_sequences=True)(torch.zeros(2, 5, 3)).shape
torch.Size([2, 5, 8])
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ._recurrent_base import _Stateful
from ._symbolic import map_structure
from ._weights import tensors_on
from .layer import Layer, Shape
from .rnn_cells import (
    StackedRNNCells,
    _Cell,
    call_cell,
    cell_output_size,
    check_cell,
)

__all__ = ["RNN"]


def _where(keep: torch.Tensor, new: Any, old: Any) -> Any:
    """`new` where the batch row is kept, else `old`, for matching nested states."""
    if isinstance(new, (list, tuple)):
        return [_where(keep, n, o) for n, o in zip(new, old, strict=True)]
    return torch.where(keep.view(-1, *[1] * (new.ndim - 1)), new, old)


def _dropout_cells(cell: Any) -> list[Any]:
    cells = list(cell.cells) if isinstance(cell, StackedRNNCells) else [cell]
    return [c for c in cells if hasattr(c, "reset_dropout_mask")]


class RNN(_Stateful, Layer):
    """Runs a recurrent cell over the timesteps of (batch, timesteps, ...) inputs.

    Args:
        cell: a cell (see the module docstring) or a list of cells, which are stacked
            (`StackedRNNCells`).
        return_sequences: return every step's output (batch, timesteps, ...), not the last.
        return_state: also return the final states: (output, *states) (with stacked cells,
            one list of states per cell).
        go_backwards: read the sequence backwards (the outputs stay in the order computed).
        stateful: keep the final states of each call as the initial states of the next one
            (for a fixed batch size, `Input(batch_shape=...)`); `reset_state()` sets them
            back to zeros.
        unroll: accepted for Keras code; the loop is the same.
        zero_output_for_mask: masked steps output zeros instead of repeating the last output.

    Call arguments:
        sequences: (batch, timesteps, ...); initial_state: the cell's states (a list, nested
        as `cell.state_size`); mask: (batch, timesteps) booleans, False steps keep the states
        and repeat the previous output; training: passed to cells that take it.

    `RNN(LSTMCell(n))`, `RNN(GRUCell(n))` and `RNN(SimpleRNNCell(n))` (and stacks of them) run
    PyTorch's fused kernels when the layer equivalents would; any other cell runs as a loop.

    >>> import torch
    >>> from lamina.layers.rnn_cells import GRUCell
    >>> output, h = RNN(GRUCell(4), return_state=True)(torch.zeros(2, 5, 3))
    >>> output.shape, h.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    min_ndim = 3
    input_description = "(batch, timesteps, ...)"
    supports_masking = True

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, self._describe())
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        state_size = cell.state_size
        self.state_size = [state_size] if isinstance(state_size, int) else list(state_size)
        self.states: list[Any] | None = None

    # ------------------------------------------------------------------ building

    def _step_shape(self, sequences_shape: Shape) -> Shape:
        return (sequences_shape[0], *sequences_shape[2:])

    def build(self, sequences_shape: Shape) -> None:
        if isinstance(self.cell, Layer):
            self.cell._maybe_build(self._step_shape(tuple(sequences_shape)))
        if self.stateful:
            self._create_states(tuple(sequences_shape))

    def _move_new_weights(self, device: torch.device) -> None:
        # The weights live in the cell, which build() created on the CPU.
        if device.type != "meta" and not tensors_on(self, device):
            self.to(device)

    # ------------------------------------------------------------------ states

    def get_initial_state(self, batch_size: int) -> list[Any]:
        """Zero states for `batch_size` rows: the cell's `get_initial_state` where it has one."""
        make = getattr(self.cell, "get_initial_state", None)
        if make is not None:
            states = make(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [torch.zeros(batch_size, size) for size in self.state_size]

    def _initial_states(self, sequences: torch.Tensor, initial_state: Any) -> list[Any]:
        if initial_state is None:
            initial_state = self.get_initial_state(sequences.shape[0])
        elif not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        states = list(initial_state)
        if len(states) != len(self.state_size):
            raise ValueError(
                f"{self._describe()} expects initial_state with {len(self.state_size)} "
                f"entries (state_size {self.state_size}); got {len(states)}"
            )
        return map_structure(
            lambda s: torch.as_tensor(s).to(device=sequences.device, dtype=sequences.dtype),
            states,
        )

    # ------------------------------------------------------------------ computation

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The timesteps' mask stays with a returned sequence (Keras' rule)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    def _check_mask(self, mask: Any, sequences: torch.Tensor) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=sequences.device)
        if tuple(mask.shape) != tuple(sequences.shape[:2]):
            raise ValueError(
                f"{self._describe()} expects a mask of shape (batch, timesteps) = "
                f"{tuple(sequences.shape[:2])}; got shape {tuple(mask.shape)}"
            )
        return mask if mask.dtype == torch.bool else mask != 0

    def _compute(
        self, sequences: torch.Tensor, initial_state: Any, mask: Any, training: bool | None
    ) -> tuple[torch.Tensor, list[Any]]:
        """The output (the sequence or the last step) and the final states."""
        states = self._initial_states(sequences, initial_state)
        if mask is not None:
            mask = self._check_mask(mask, sequences)
        if self.go_backwards:  # Keras keeps the outputs in the reversed order too
            sequences = sequences.flip(1)
            mask = None if mask is None else mask.flip(1)
        cells = _dropout_cells(self.cell)
        for cell in cells:  # masks are made per call, on the first step that needs them
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        try:
            last, sequence, states = self._run(sequences, states, mask, training)
        finally:
            for cell in cells:
                cell.reset_dropout_mask()
                cell.reset_recurrent_dropout_mask()
        return (sequence if self.return_sequences else last), states

    def _run(
        self, sequences: torch.Tensor, states: list[Any], mask: Any, training: bool | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[Any]]:
        cells = self._fusable_cells(mask, training)
        if cells is not None:
            return self._run_fused(cells, sequences, states, training)
        if isinstance(self.cell, _Cell) or hasattr(self.cell, "_project_inputs"):
            # Built-in cells: the input side of every step in one operation.
            projected = self.cell._project_inputs(sequences, training)
            return self._loop(
                projected, states, mask, lambda x, s: self.cell._recur(x, s, training)
            )
        return self._loop(
            sequences, states, mask, lambda x, s: call_cell(self.cell, x, s, training)
        )

    def _fusable_cells(self, mask: Any, training: bool | None) -> list[_Cell] | None:
        """The built-in cells to run on PyTorch's fused kernels, or None for the loop."""
        if mask is not None:
            return None
        cells = list(self.cell.cells) if isinstance(self.cell, StackedRNNCells) else [self.cell]
        for cell in cells:
            if not isinstance(cell, _Cell) or cell._fused_function() is None:
                return None
            if training and cell.recurrent_dropout > 0:
                return None
        return cells

    def _run_fused(
        self,
        cells: list[_Cell],
        sequences: torch.Tensor,
        states: list[Any],
        training: bool | None,
    ) -> tuple[torch.Tensor, torch.Tensor, list[Any]]:
        # Without masks, a stack over time equals its cells run one after another.
        stacked = isinstance(self.cell, StackedRNNCells)
        per_cell = states if stacked else [states]
        finals = []
        for cell, cell_states in zip(cells, per_cell, strict=True):
            nested = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if nested else [cell_states]
            if training and cell.dropout > 0:
                sequences = sequences * cell.get_dropout_mask(sequences[:, 0]).unsqueeze(1)
            sequences, final = cell._run_fused(cell._fused_function(), sequences, cell_states)
            finals.append(final if nested else final[0])
        return sequences[:, -1], sequences, finals if stacked else finals[0]

    def _loop(
        self, inputs: torch.Tensor, states: list[Any], mask: Any, step: Any
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[Any]]:
        # A masked step keeps the states and repeats the previous output (zeros before the
        # first step, or always with zero_output_for_mask), as Keras' backend.rnn.
        output: torch.Tensor | None = None
        outputs = []
        for index in range(inputs.shape[1]):
            new_output, new_states = step(inputs[:, index], states)
            if mask is None:
                output, states = new_output, new_states
            else:
                keep = mask[:, index]
                if output is None or self.zero_output_for_mask:
                    previous = torch.zeros_like(new_output)
                else:
                    previous = output
                output = _where(keep, new_output, previous)
                states = _where(keep, new_states, states)
            if self.return_sequences:
                outputs.append(output)
        if output is None:
            raise ValueError(f"{self._describe()} needs at least one timestep; got none")
        sequence = torch.stack(outputs, 1) if self.return_sequences else None
        return output, sequence, states

    # ------------------------------------------------------------------ shapes and config

    def _output_step_shape(self, sequences_shape: Shape) -> tuple[Any, ...]:
        """The shape of one step's output without the batch axis."""
        size = cell_output_size(self.cell)
        if not isinstance(size, int):
            raise ValueError(f"{self._describe()}: the cell's output_size must be an int")
        return (size,)

    def _state_shapes(self, sequences_shape: Shape) -> list[Any]:
        batch = sequences_shape[0]
        if isinstance(self.cell, StackedRNNCells):
            return self.cell.compute_output_shape(self._step_shape(sequences_shape))[1]
        return [(batch, size) for size in self.state_size]

    def compute_output_shape(self, sequences_shape: Any) -> Any:
        sequences_shape = tuple(sequences_shape)
        self._maybe_build(sequences_shape)
        batch, steps = sequences_shape[:2]
        step = self._output_step_shape(sequences_shape)
        output = (batch, steps, *step) if self.return_sequences else (batch, *step)
        if self.return_state:
            return (output, *self._state_shapes(sequences_shape))
        return output

    def get_config(self) -> dict[str, Any]:
        from .recurrent_wrappers import _serialize

        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            cell=_serialize(self.cell),
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        """Rebuild from `get_config()`'s output (the cell from its entry)."""
        from .recurrent_wrappers import _deserialize

        config = copy.deepcopy(config)
        cell = _deserialize(config.pop("cell"))
        return cls(cell, **config)
