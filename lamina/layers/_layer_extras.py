"""Parts of Keras' Layer API that stand beside the call path: the symbolic `input` / `output`,
build configs, `path`, the input autocast flags, and `stateless_call` (on
`torch.func.functional_call`).

>>> import torch, lamina
>>> layer = lamina.layers.Dense(2, kernel_initializer="ones")
>>> layer.build((None, 3))
>>> kernel, bias = layer.trainable_variables
>>> out, _ = layer.stateless_call([kernel * 2, bias], [], torch.ones(1, 3))
>>> out.tolist(), layer(torch.ones(1, 3)).tolist()   # the layer's own weights unchanged
([[6.0, 6.0]], [[3.0, 3.0]])
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from ._symbolic import KerasTensor, Node, map_structure


def _one_or_list(tensors: list[Any]) -> Any:
    """Keras' reading of a node's tensors: the tensor when there is one, else the list."""
    return tensors[0] if len(tensors) == 1 else tensors


def keras_key_order(config: dict[str, Any], order: str) -> dict[str, Any]:
    """`config` with the keys named in `order` (space-separated) put in that order, in the
    places they hold; other keys (the base's name, trainable, dtype; a subclass's own) keep
    theirs."""
    names = order.split()
    listed = iter([key for key in names if key in config])
    keys = [next(listed) if key in names else key for key in config]
    return {key: config[key] for key in keys}


class LayerExtras:
    """Mixed into `Layer`: the Keras API that is not on the call path."""

    #: Whether the layer's outputs are in its compute dtype whatever its inputs' (Rescaling,
    #: UnitNormalization: the layers without float weights that compute in floats).
    _float_outputs: bool = False

    def _symbolic_dtype(self, leaves: list[Any]) -> Any:
        """The dtype of a symbolic call's outputs, as the eager call gives it: the layer's own
        `_output_dtype`, else the compute dtype for float inputs (cast to it) and for layers
        that compute in floats (float weights, `_float_outputs`), else the input's."""
        declared = self._output_dtype  # type: ignore[attr-defined]
        if declared:
            return declared
        policy = self._dtype_policy  # type: ignore[attr-defined]
        dtype = leaves[0].dtype if leaves else self._dtype_name  # type: ignore[attr-defined]
        if str(dtype).startswith(("float", "bfloat")) or self._float_outputs:
            return policy.compute_dtype
        state = [*self.parameters(), *self.buffers()]  # type: ignore[attr-defined]
        if any(t.is_floating_point() for t in state) and policy.compute_dtype != "string":
            return policy.compute_dtype  # int inputs meet float weights: floats come out
        return dtype

    # Keras' order of the keys of get_config() (space-separated), where lamina builds them in
    # another one.
    _config_order: str = ""
    # Keras' flag: False leaves the inputs' dtypes alone (as `autocast=False` does).
    _convert_input_args: bool = True
    autocast: bool = True

    def _casts_inputs(self) -> bool:
        """Whether float inputs are cast to the compute dtype before `call`."""
        return self.autocast and self._convert_input_args

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        get_config = cls.__dict__.get("get_config")
        if get_config is None or not cls.__module__.startswith("lamina."):
            return

        @functools.wraps(get_config)
        def ordered_get_config(self: Any) -> dict[str, Any]:
            config = get_config(self)
            order = type(self)._config_order
            return keras_key_order(config, order) if order and isinstance(config, dict) else config

        cls.get_config = ordered_get_config  # type: ignore[method-assign]

    def __setattr__(self, name: str, value: Any) -> None:
        # Keras tracks layers kept in a list or dict attribute (`self.blocks = [Dense(4),
        # Dense(4)]`): they become an nn.ModuleList / ModuleDict, so their weights are the
        # model's, train and save ('blocks.0.weight').
        kind = type(value)
        if (
            (kind is list or kind is tuple or kind is dict)
            and value
            and name[0] != "_"
            and not type(self).__module__.startswith("lamina.")  # a user's class
        ):
            value = _as_module_container(value)
        super().__setattr__(name, value)  # type: ignore[misc]

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's call in a model (Keras' `layer.output`; for a
        layer called several times, its first call's). Several outputs: a flat list of them,
        as Keras (an LSTM's `(output, h, c)` gives `[output, h, c]`)."""
        return _one_or_list(self._single_node("output").output_tensors)

    @property
    def input(self) -> Any:
        """The symbolic input of this layer's call in a model (Keras' `layer.input`): a flat
        list of every symbolic tensor the call read (MultiHeadAttention's query, value and
        key too) when there are several, as Keras."""
        node = self._single_node("input")
        return _one_or_list(node.input_tensors) if node.call_args else node.outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """The output `KerasTensor`(s) of a call on these symbolic arguments, as Keras'
        `Layer.compute_output_spec`: the call's outputs, found as a symbolic call finds them
        (the layer is built for them), and not recorded in a graph."""
        nodes = self.__dict__.setdefault("_inbound_nodes", [])
        count = len(nodes)
        outputs = self(*args, **kwargs)  # type: ignore[operator]
        del nodes[count:]

        def detach(t: Any) -> Any:
            if not isinstance(t, KerasTensor):
                return t
            return KerasTensor(shape=tuple(t.shape), dtype=t.dtype, name=t.name)

        return map_structure(detach, outputs)

    def _single_node(self, what: str) -> Node:
        nodes = self.__dict__.get("_inbound_nodes", [])
        if not nodes:
            raise AttributeError(
                f"{type(self).__name__} '{self.name}' has no {what} yet: it has not been called "  # type: ignore[attr-defined]
                "on a symbolic tensor (an Input or a layer's output)"
            )
        return nodes[0]  # a layer called several times: its first call's, as in Keras

    @property
    def path(self) -> str:
        """The layer's name under the scopes it was built in ('sequential/dense'), as Keras."""
        return self.__dict__.get("_layer_path") or self.name  # type: ignore[attr-defined]

    def quantize(
        self, mode: str | None = None, type_check: bool = True, config: Any = None
    ) -> None:
        """Quantize the layer's weights (Keras' `layer.quantize`: Dense, EinsumDense and
        Embedding; 'int8', 'int4' or 'float8'); see `layers._quantization`."""
        from ._quantization import quantize_layer

        quantize_layer(self, mode, config=config, type_check=type_check)

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras' `build_config`: the input shape the layer was built for; None until built."""
        from ..saving import registry

        return registry.build_config_of(self)

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Build from `get_build_config()`'s dict or the `build_config` Keras 3 writes."""
        from ..saving import registry

        registry.build_from_config(self, config)

    def stateless_call(
        self,
        trainable_variables: list[Any],
        non_trainable_variables: list[Any],
        *args: Any,
        return_losses: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call the layer with the given variable values instead of its own, as Keras.

        The values follow `trainable_variables` / `non_trainable_variables`' order (tensors
        of the variables' own shapes, or NumPy arrays in Keras' layout); gradients flow to
        them. The layer's variables are left as they are; the returned non-trainable values
        hold the call's updates (batch-norm moving statistics in training).

        Returns:
            `(outputs, non_trainable_values)`, with the call's added losses as a third
            element when `return_losses`.
        """
        if not self.built:  # type: ignore[attr-defined]
            raise ValueError(
                f"{type(self).__name__} '{self.name}': build the layer before "  # type: ignore[attr-defined]
                "stateless_call (call it once, or build(input_shape))"
            )
        own_trainable = list(self.trainable_variables)  # type: ignore[attr-defined]
        own_other = list(self.non_trainable_variables)  # type: ignore[attr-defined]
        for given, own, what in (
            (trainable_variables, own_trainable, "trainable_variables"),
            (non_trainable_variables, own_other, "non_trainable_variables"),
        ):
            if len(given) != len(own):
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': stateless_call got "  # type: ignore[attr-defined]
                    f"{len(given)} {what}; the layer has {len(own)}"
                )
        names = {id(t): n for n, t in self.named_parameters(remove_duplicate=False)}  # type: ignore[attr-defined]
        names.update({id(t): n for n, t in self.named_buffers(remove_duplicate=False)})  # type: ignore[attr-defined]
        mapping: dict[str, torch.Tensor] = {}
        new_other: list[torch.Tensor] = []
        for values, own, is_state in (
            (trainable_variables, own_trainable, False),
            (non_trainable_variables, own_other, True),
        ):
            for value, variable in zip(values, own, strict=True):
                tensor = _as_value(variable, value)
                if is_state:  # updated in place by the call: a copy of the caller's value
                    tensor = tensor.clone()
                    new_other.append(tensor)
                mapping[names[id(variable)]] = tensor
        from ._added_losses import clear_added_losses, collect_added_losses

        outputs = torch.func.functional_call(self, mapping, args, kwargs, strict=False)  # type: ignore[arg-type]
        if not return_losses:
            return outputs, new_other
        losses = collect_added_losses(self)  # type: ignore[arg-type]
        clear_added_losses(self)  # type: ignore[arg-type]  # as Keras: not kept on the layer
        return outputs, new_other, losses


def _as_value(variable: Any, value: Any) -> torch.Tensor:
    to_layout = getattr(variable, "_in_torch_layout", None)
    if to_layout is not None:
        return to_layout(value)
    return torch.as_tensor(value, dtype=variable.dtype, device=variable.device)


def _as_module_container(value: Any) -> Any:
    """A ModuleList / ModuleDict for a list, tuple or dict of modules; else `value`."""
    if isinstance(value, dict):
        if all(
            isinstance(k, str) and k and "." not in k and isinstance(v, torch.nn.Module)
            for k, v in value.items()
        ):
            return TrackedDict(value)
        return value
    if all(isinstance(v, torch.nn.Module) for v in value):
        return TrackedList(value)
    return value


class TrackedList(torch.nn.ModuleList):
    """A list of layers kept as an attribute (Keras' tracked list): a ModuleList that also
    answers `index`, `count` and `remove`."""

    def index(self, value: Any) -> int:
        return list(self).index(value)

    def count(self, value: Any) -> int:
        return list(self).count(value)

    def remove(self, value: Any) -> None:
        del self[self.index(value)]


class TrackedDict(torch.nn.ModuleDict):
    """A dict of layers kept as an attribute (Keras' tracked dict): a ModuleDict that also
    answers `get` and `setdefault`."""

    def get(self, key: str, default: Any = None) -> Any:
        return self._modules.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]
