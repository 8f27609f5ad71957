"""Layer wrappers for sequences: Bidirectional (a recurrent layer run both ways) and
TimeDistributed (a layer applied to every step).

>>> import torch
>>> from lamina.layers.core import Dense
>>> from lamina.layers.recurrent import LSTM
>>> Bidirectional(LSTM(4, return_sequences=True))(torch.zeros(2, 3, 5)).shape
torch.Size([2, 3, 8])
>>> TimeDistributed(Dense(6))(torch.zeros(2, 3, 5)).shape
torch.Size([2, 3, 6])
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ._symbolic import map_shapes, map_structure, shape_structure
from ._weights import tensors_on
from .layer import Layer, Shape
from .recurrent import GRU, LSTM, SimpleRNN
from .wrapper import Wrapper

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _serialize(layer: Layer) -> dict[str, Any]:
    from ..saving.registry import serialize_layer

    entry = serialize_layer(layer)  # with its build_config once built, as Keras
    if entry.get("registered_name") == type(layer).__name__:
        del entry["registered_name"]  # a lamina class, not a registered one
    return entry


def _deserialize(entry: Any) -> Layer:
    """The wrapped layer of `_serialize`'s entry, built from its build_config (as Keras)."""
    from ..models.sequential import _deserialize_layer
    from ..saving.registry import build_from_config

    own = {cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed)}
    layer = None
    if isinstance(entry, dict) and "registered_name" not in entry:
        cls = own.get(str(entry.get("class_name")))
        if cls is not None and isinstance(entry.get("config"), dict):
            layer = cls.from_config(entry["config"])
    if layer is None:
        layer = _deserialize_layer(entry)
    if isinstance(entry, dict) and entry.get("build_config"):
        build_from_config(layer, entry["build_config"])
    return layer


class _Wrapper(Layer):
    """A layer holding another: its weights are the wrapped layer's."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__} wraps a lamina layer instance; got {layer!r}. Pass "
                "e.g. LSTM(8), not the class."
            )

    def _move_new_weights(self, device: torch.device) -> None:
        # The weights live in the wrapped layers, which build() created on the CPU.
        if device.type != "meta" and not tensors_on(self, device):
            self.to(device)


class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the outputs.

    Args:
        layer: a `SimpleRNN`, `LSTM` or `GRU` (copied from its config as the forward layer,
            named 'forward_<name>'; its own weights are not used).
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None for a list [forward,
            backward].
        weights: optional initial weights, forward then backward, set when built.
        backward_layer: the layer to run backwards (with go_backwards=True); by default a copy
            of `layer`, named 'backward_<name>'.

    With a stateful layer each direction keeps its own states (`states` lists the forward
    then the backward ones; `reset_state()` zeroes both).
    The backward outputs are flipped back to the input's time order before merging. With
    `return_state`, the output is followed by the forward then the backward states; an
    `initial_state` list is split in halves the same way. `get_weights()` lists the forward
    layer's weights, then the backward layer's.

    >>> import torch
    >>> from lamina.layers.recurrent import GRU
    >>> Bidirectional(GRU(3), merge_mode="sum")(torch.zeros(2, 4, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(layer, **kwargs)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional '{self.name}': merge_mode must be one of {_MERGE_MODES}; got "
                f"{merge_mode!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"Bidirectional '{self.name}': backward_layer must be a layer")
        if not hasattr(layer, "go_backwards"):  # a TypeError, as Keras (its config copy fails)
            raise TypeError(
                f"Bidirectional '{self.name}' wraps a recurrent layer (LSTM, GRU, RNN...); got "
                f"{type(layer).__name__} '{layer.name}', which has no `go_backwards`"
            )
        config = layer.get_config()
        name = layer.name.removeprefix("forward_")
        # Copies (new weights), built as `layer` is, as Keras copies it through its config.
        from ..saving.registry import build_from_config

        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{name}"})
        build_from_config(self.forward_layer, layer.get_build_config())
        if backward_layer is None:
            name = layer.name.removeprefix("backward_")
            backward_config = {**config, "go_backwards": True, "name": f"backward_{name}"}
            backward_layer = type(layer).from_config(backward_config)
            build_from_config(backward_layer, layer.get_build_config())
        self.backward_layer = backward_layer
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"Bidirectional '{self.name}': the forward and backward layers need different "
                f"go_backwards values; both have go_backwards={forward.go_backwards}"
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError(
                    f"Bidirectional '{self.name}': the forward and backward layers need the "
                    f"same {attribute}; got {getattr(forward, attribute)} and "
                    f"{getattr(backward, attribute)}"
                )
        for sublayer in (forward, backward):
            if hasattr(sublayer, "zero_output_for_mask"):  # as Keras: masked steps output 0
                sublayer.zero_output_for_mask = sublayer.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self.stateful = forward.stateful
        self._initial_weights = weights

    @property
    def states(self) -> tuple[Any, ...] | None:
        """Stateful: the forward layer's kept states, then the backward layer's; else None."""
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return tuple(forward + backward) if forward and backward else None

    def reset_state(self) -> None:
        """Zero both layers' kept states (a stateful layer only, as Keras)."""
        if not self.stateful:
            raise AttributeError(f"Bidirectional '{self.name}': reset_state() needs stateful=True")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def build(self, input_shape: Shape) -> None:
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        if self._initial_weights is not None:
            self.built = True
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _merge(self, forward: Any, backward: Any) -> Any:
        if self.merge_mode == "concat":
            return torch.cat([forward, backward], -1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        if self.merge_mode == "ave":
            return (forward + backward) / 2
        return (forward, backward)  # a tuple, as Keras

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The timesteps' mask stays with a merged returned sequence (Keras' rule)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    def call(
        self,
        inputs: torch.Tensor,
        initial_state: Any = None,
        mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        states: list[Any] = [None, None]
        if initial_state is not None:
            half = len(initial_state) // 2
            states = [list(initial_state[:half]), list(initial_state[half:])]
        outputs = []
        for layer, state in zip((self.forward_layer, self.backward_layer), states, strict=True):
            kwargs: dict[str, Any] = {"training": training}
            if state is not None:
                kwargs["initial_state"] = state
            if mask is not None:
                kwargs["mask"] = mask
            outputs.append(layer(inputs, **kwargs))
        forward, backward = outputs
        if self.return_state:
            final_states = [*forward[1:], *backward[1:]]
            forward, backward = forward[0], backward[0]
        if self.return_sequences:
            backward = backward.flip(1)
        merged = self._merge(forward, backward)
        if not self.return_state:
            return merged
        return (*(merged if self.merge_mode is None else [merged]), *final_states)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._maybe_build(input_shape)
        shape = self.forward_layer.compute_output_shape(input_shape)
        states: list[Any] = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], None if shape[-1] is None else 2 * shape[-1])
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return (*outputs, *states, *states)
        return tuple(outputs) if self.merge_mode is None else shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            merge_mode=self.merge_mode,
            layer=_serialize(self.forward_layer),
            backward_layer=_serialize(self.backward_layer),
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        """Rebuild from `get_config()`'s output (the wrapped layers from their entries)."""
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies a layer to every step of a sequence: (batch, steps, ...) -> (batch, steps, ...).

    The steps are folded into the batch axis, so the wrapped layer runs once on
    (batch * steps, ...) with the same weights for every step. (A BatchNormalization inside
    therefore takes its training statistics over all steps together.)

    Args:
        layer: the layer to apply, e.g. `Dense(8)` or `Conv2D(16, 3)`.

    Input shape:
        (batch, steps, ...) with at least 3 axes.
    Output shape:
        (batch, steps, ...the wrapped layer's output shape without its batch axis).

    >>> import torch
    >>> from lamina.layers.core import Dense
    >>> layer = TimeDistributed(Dense(4))
    >>> layer(torch.zeros(2, 10, 3)).shape, layer.count_params()
    (torch.Size([2, 10, 4]), 16)
    """

    min_ndim = 3
    input_description = "(batch, steps, ...)"

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        self.layer = layer

    @staticmethod
    def _step_shape(input_shape: Shape) -> Shape:
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' expects input of at least 3 dimensions "
                f"(batch, steps, ...); got shape {input_shape}"
            )
        self.layer._maybe_build(self._step_shape(input_shape))

    supports_masking = True  # the timesteps' mask passes through

    def call(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None) -> Any:
        batch, steps = inputs.shape[:2]
        kwargs: dict[str, Any] = {"training": training}
        if mask is not None and "mask" in self.layer._call_parameters:
            mask = torch.as_tensor(mask, device=inputs.device)
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        outputs = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return map_structure(lambda t: t.reshape(batch, steps, *t.shape[1:]), outputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._maybe_build(input_shape)
        inner = shape_structure(self.layer.compute_output_shape(self._step_shape(input_shape)))
        return map_shapes(lambda shape: (shape[0], input_shape[1], *shape[1:]), inner)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        """Rebuild from `get_config()`'s output (the wrapped layer from its entry)."""
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"])
        return cls(**config)
