"""The functional API: `Model(inputs, outputs)` over a graph of layer calls.

Calling a layer on symbolic tensors (an `Input`, or another layer's output) records a `Node`;
`Functional` walks the nodes back from the outputs to the inputs once, keeps them in
topological order, and replays them on real tensors.

>>> from lamina import Input, Model, layers
>>> a, b = Input((4,), name="a"), Input((3,), name="b")
>>> h = layers.Dense(5, name="da")(a)
>>> out = layers.Dense(2, name="out")(h)
>>> model = Model(a, out)
>>> [layer.name for layer in model.layers]
['a', 'da', 'out']
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ..layers import _masking
from ..layers._symbolic import KerasTensor, Node, flatten_structure, map_structure
from ..layers.core import Input, InputLayer
from ..layers.layer import Layer
from . import _fusion
from ._call_encoding import decode_call_argument, encode_call_argument
from ._graph_order import keras_layer_order, single_keys
from ._graph_order import shapes_of as _shapes
from ._graph_tables import (
    adjust_input_rank,
    check_input_shape,
    pooling_after,
    rebase_graph,
    release_after,
    relu_in_place_producers,
)
from .model import Model
from .sequential import _deserialize_layer, _serialize_layer

__all__ = ["Functional"]


def _describe(tensor: Any) -> str:
    if isinstance(tensor, KerasTensor):
        layer = tensor.layer
        kind = type(layer).__name__ if layer is not None else "?"
        return f"tensor {tensor.shape} from layer '{getattr(layer, 'name', '?')}' ({kind})"
    return f"{type(tensor).__name__} {tensor!r}"


class Functional(Model):
    """A model defined by its input and output symbolic tensors.

    Args:
        inputs: an `Input` tensor, or a list or dict of them.
        outputs: a symbolic tensor computed from the inputs, or a list or dict of them.
        name: the model's name.
        trainable: whether the weights train.
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True
    ) -> None:
        super().__init__(name=name, trainable=trainable)
        for key, tensor in inputs.items() if isinstance(inputs, dict) else ():
            if isinstance(tensor, KerasTensor) and key != tensor.name:
                warnings.warn(  # Keras' words
                    "When providing `inputs` as a dict, all keys in the dict must match the "
                    f"names of the corresponding tensors. Received key '{key}' mapping to value "
                    f"{tensor} which has name '{tensor.name}'. Change the tensor name to "
                    f"'{key}' (via `Input(..., name='{key}')`)",
                    stacklevel=2,
                )
        if any(
            isinstance(t, KerasTensor) and not isinstance(t.layer, InputLayer)
            for t in flatten_structure(inputs)
        ):  # inputs made by other layers: the graph from new Inputs in their place (Keras)
            self.inputs, self.outputs = flatten_structure(inputs), flatten_structure(outputs)
            inputs, outputs = rebase_graph(inputs, outputs, self._topological_nodes(), Input)
        self._input_structure = inputs
        self._output_structure = outputs
        self.inputs: list[KerasTensor] = flatten_structure(inputs)
        self.outputs: list[KerasTensor] = flatten_structure(outputs)
        self._check_tensors()
        self._nodes = self._topological_nodes()
        self._layer_order, _ = keras_layer_order(self.inputs, self.outputs, InputLayer)
        self._make_tables()
        self._output_node = self._find_output_node()
        self._register_layers()
        self.built = True
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)

    def _make_tables(self) -> None:
        """The per-node tables `_run` reads, keyed by the graph's tensors' ids."""
        self._pooling_after = pooling_after(self._nodes, self.outputs)
        self._release_after = release_after(self._nodes, self.outputs)
        # (input id, output id, the layer whose output a plain ReLU may rectify in place)
        producers = relu_in_place_producers(self._nodes, self.outputs)
        self._single_keys = [
            None if keys is None else (*keys, producer)
            for keys, producer in zip(map(single_keys, self._nodes), producers, strict=True)
        ]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "_nodes" in state:  # a deep copy or an unpickled model: new tensors, new ids
            self._make_tables()

    # ------------------------------------------------------------------ graph

    def _check_tensors(self) -> None:
        for tensor in self.inputs:
            if not isinstance(tensor, KerasTensor) or not isinstance(tensor.layer, InputLayer):
                raise ValueError(
                    f"Model '{self.name}': inputs must be Input(...) tensors; got "
                    f"{_describe(tensor)}"
                )
        seen: set[int] = set()
        for tensor in self.inputs:
            if id(tensor) in seen:
                raise ValueError(
                    f"Model '{self.name}': the input {_describe(tensor)} is given twice; "
                    "each Input may appear once in inputs"
                )
            seen.add(id(tensor))
        for tensor in self.outputs:
            if not isinstance(tensor, KerasTensor):
                raise ValueError(
                    f"Model '{self.name}': outputs must be symbolic tensors computed from the "
                    f"inputs; got {_describe(tensor)}"
                )

    def _topological_nodes(self) -> list[Node]:
        inputs = {id(t) for t in self.inputs}
        ordered: list[Node] = []
        done: set[int] = set()
        active: set[int] = set()

        def visit(tensor: KerasTensor, needed_by: str) -> None:
            if id(tensor) in inputs:
                return
            node = tensor.node
            if node is None or isinstance(node.layer, InputLayer):
                raise ValueError(
                    f"Model '{self.name}' is disconnected: {needed_by} needs the "
                    f"{_describe(tensor)}, which is not among the model's inputs "
                    f"({', '.join(t.layer.name for t in self.inputs)}). Add that Input to "
                    "inputs=."
                )
            if id(node) in done:
                return
            if id(node) in active:
                raise ValueError(
                    f"Model '{self.name}': the graph has a cycle at '{node.layer.name}'"
                )
            active.add(id(node))
            for parent in node.input_tensors:
                visit(parent, f"layer '{node.layer.name}' ({type(node.layer).__name__})")
            active.discard(id(node))
            done.add(id(node))
            ordered.append(node)

        for tensor in self.outputs:
            visit(tensor, "an output")
        # Keras' order: by depth from the inputs, then by creation.
        depth: dict[int, int] = {}
        for node in ordered:
            parents = [t.node for t in node.input_tensors if id(t) not in inputs]
            depth[id(node)] = 1 + max((depth[id(p)] for p in parents if p is not None), default=0)
        return sorted(ordered, key=lambda n: (depth[id(n)], n.serial))

    def _register_layers(self) -> None:
        names: dict[str, Layer] = {}
        for layer in self._layer_order:
            other = names.get(layer.name)
            if other is not None and other is not layer:
                raise ValueError(
                    f"Model '{self.name}': the name '{layer.name}' is used by two different "
                    "layers; layer names must be unique within a model"
                )
            names[layer.name] = layer
        for layer in self._layer_order:
            # torch's module names hold no dot, Keras' may: '_' in the state_dict key.
            key = layer.name.replace(".", "_")
            if not isinstance(layer, InputLayer) and key not in self._modules:
                self.add_module(key, layer)

    @property
    def layers(self) -> list[Layer]:
        """The layers in Keras' order (by depth from the outputs; see `_graph_order`); ops
        applied to symbolic tensors (`x + 1`) are not layers, as in Keras."""
        return [layer for layer in self._layer_order if not layer._is_operation]

    @property
    def operations(self) -> list[Layer]:
        """The layers and the recorded ops, in graph order (Keras' `model.operations`)."""
        return list(self._layer_order)

    @property
    def input(self) -> Any:
        return self._input_structure

    @property
    def output(self) -> Any:
        return self._output_structure

    @property
    def input_shape(self) -> Any:
        """The inputs' shapes (batch axis None): one tuple, or a list for several (Keras)."""
        return _shapes(self.inputs)

    @property
    def output_shape(self) -> Any:
        """The outputs' shapes: one tuple, or a list for several (Keras)."""
        return _shapes(self.outputs)

    @property
    def input_names(self) -> list[str]:
        return [t.layer.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """Names of the outputs: the producing layers' names (dict keys for dict outputs)."""
        if isinstance(self._output_structure, dict):
            return sorted(self._output_structure)
        return [t.layer.name for t in self.outputs]

    # ------------------------------------------------------------------ computation

    def _flat_inputs(self, inputs: Any) -> list[Any]:
        structure = self._input_structure
        # As Keras: a dict's extra keys are ignored; a list fits a dict of inputs whose keys
        # come in sorted order (Keras' flat order).
        names = sorted(structure) if isinstance(structure, dict) else self.input_names
        if isinstance(inputs, dict):
            for name in names:
                if name not in inputs:
                    raise ValueError(
                        f"Model '{self.name}': missing data for input {name!r}. You passed a "
                        f"data dictionary with keys {list(inputs)}. Expected the following keys: "
                        f"{names}"
                    )
            return [inputs[name] for name in names]
        if isinstance(structure, dict) and list(structure) != names:
            raise ValueError(
                f"Model '{self.name}' takes a dict of inputs with keys {list(structure)}, "
                f"which are not in sorted order, so a {type(inputs).__name__} cannot be matched "
                "to them; pass a dict"
            )
        flat = flatten_structure(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self.inputs)} input(s) "
                f"({', '.join(str(t.shape) for t in self.inputs)}); got {len(flat)}"
            )
        return flat

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        _masking.attach_call_mask(inputs, mask)
        return self._run(inputs, training, None)[0]

    @property
    def output_activation(self) -> str | None:
        """'softmax'/'sigmoid' when the single output comes from a layer ending in one (its
        own call, on one input), so that `fit`'s loss reads the logits, as in Sequential."""
        node = self._logits_node()
        return None if node is None else node.layer.output_activation

    def _find_output_node(self) -> Node | None:
        """The node computing the single output alone from one argument (the graph's part
        of `_logits_node`'s test, fixed at construction), else None."""
        if len(self.outputs) != 1:
            return None
        node = self.outputs[0].node
        if (
            not any(node is own for own in self._nodes)
            or len(node.output_tensors) != 1
            or len(node.call_args) != 1
            or node.call_kwargs
        ):
            return None
        return node

    def _logits_node(self) -> Node | None:
        """The output node when its layer ends in softmax/sigmoid and may be split there now
        (no activity regularizer or forward hooks, which can change between calls)."""
        node = self._output_node
        layer = getattr(node, "layer", None)
        if (
            node is None
            or not hasattr(layer, "call_pre_activation")
            or getattr(layer, "output_activation", None) is None
            or layer.activity_regularizer is not None
            or _fusion._hooked(layer)
        ):
            return None
        return node

    def call_with_logits(self, x: Any, training: bool | None = None) -> tuple[Any, Any]:
        """Predictions and the logits before the output layer's softmax/sigmoid."""
        node = self._logits_node()
        if node is None:
            return self(x, training=training), None
        return self._run(x, training, node)

    def _run(self, inputs: Any, training: bool | None, logits_node: Node | None) -> Any:
        """The graph on real tensors: (outputs, logits of `logits_node`'s layer or None)."""
        logits = None
        values: dict[int, Any] = {}
        for index, (tensor, value) in enumerate(
            zip(self.inputs, self._flat_inputs(inputs), strict=True)
        ):
            if isinstance(value, torch.Tensor):
                if value.dim() != len(tensor.shape):
                    value = adjust_input_rank(self.name, tensor, value)
                check_input_shape(self.name, index, tensor, value)
            values[id(tensor)] = value

        def lookup(item: Any) -> Any:
            return values[id(item)] if isinstance(item, KerasTensor) else item

        # Activations followed by max pooling run after it (exact; see _fusion): the producer
        # leaves its pre-activation output, which only the pooling node reads.
        deferred: dict[int, tuple[Any, Any]] = {}
        # Freeing tensors early matters eagerly; a compiled graph plans its own memory, and
        # walking the release lists there would only add guards on them.
        release = not torch.compiler.is_compiling()
        for node, pooling, done, single in zip(
            self._nodes, self._pooling_after, self._release_after, self._single_keys, strict=True
        ):
            if single is not None and pooling is None and not deferred and node is not logits_node:
                # The common node: one tensor in, one out (no structure walks, no lookups).
                kwargs = {} if training is None else {"training": training}
                x = values[single[0]]
                # A ReLU after a batch norm or a sum, in place (eager only; see _fusion).
                y = None
                if release and single[2] is not None:
                    y = _fusion.in_place_relu(single[2], node.layer, x)
                values[single[1]] = node.layer(x, **kwargs) if y is None else y
                x = y = None  # the table alone holds tensors, to be freed after their last read
                if release:
                    for key in done:
                        del values[key]
                continue
            args = map_structure(lookup, node.call_args)
            kwargs = map_structure(lookup, node.call_kwargs)
            if training is not None:
                kwargs["training"] = training
            activation = None
            if pooling is not None:
                activation = _fusion.deferred_activation(node.layer, pooling.layer)
            if activation is not None:
                result = _fusion.run_producer(node.layer, activation, args[0])
                deferred[id(node.output_tensors[0])] = (node.layer, activation)
            elif deferred and _deferred_input(node, deferred):
                producer, activation = deferred.pop(id(node.call_args[0]))
                result = _fusion.run_pooling(node.layer, producer, activation, args[0], kwargs)
            elif node is logits_node:
                layer = node.layer
                logits = layer._dispatch(layer.call_pre_activation, args, {}, False)
                result = layer.activation(logits)
            else:
                result = node.layer(*args, **kwargs)
            for tensor, value in zip(node.output_tensors, flatten_structure(result), strict=True):
                values[id(tensor)] = value
            args = kwargs = result = value = None  # the table alone holds tensors now
            # Free what no later node reads, as an eager torch forward does: less memory,
            # and freed buffers are reused warm instead of new pages faulted in.
            if release:
                for key in done:
                    del values[key]
        outputs = map_structure(lookup, self._output_structure)
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]  # Model(inputs, [output]) returns the tensor, as in Keras
        return outputs, logits

    def compute_output_shape(self, input_shape: Any) -> Any:
        return super(Model, self).compute_output_shape(input_shape)

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict[str, Any]:
        """The graph as JSON: each layer's config with the calls that connect it."""
        node_index: dict[int, tuple[str, int]] = {}
        calls: dict[int, list[Any]] = {}
        for tensor in self.inputs:
            node_index[id(tensor.node)] = (tensor.layer.name, 0)

        def reference(tensor: KerasTensor) -> list[Any]:
            layer_name, index = node_index[id(tensor.node)]
            return [layer_name, index, tensor.output_index]

        for node in self._nodes:
            count = len(calls.setdefault(id(node.layer), []))
            node_index[id(node)] = (node.layer.name, count)
            calls[id(node.layer)].append(
                {
                    "args": tuple(encode_call_argument(a, reference) for a in node.call_args),
                    "kwargs": encode_call_argument(node.call_kwargs, reference),
                }
            )

        def end_reference(tensor: KerasTensor) -> list[Any]:
            # Keras counts a nested functional model's own first node here (see from_config)
            name, index, output_index = reference(tensor)
            return [name, index + isinstance(tensor.layer, Functional), output_index]

        layers = []
        for layer in self._layer_order:
            entry = _serialize_layer(layer)
            if not layer._is_operation and (build_config := layer.get_build_config()):
                entry["build_config"] = build_config  # as Keras' serialize_keras_object
            if hasattr(layer, "get_compile_config"):  # a nested model: {} until compiled
                entry["compile_config"] = layer.get_compile_config() or {}
            entry["name"] = layer.name
            entry["inbound_nodes"] = calls.get(id(layer), [])
            layers.append(entry)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layers,
            "input_layers": map_structure(end_reference, self._input_structure),
            "output_layers": map_structure(end_reference, self._output_structure),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Functional:
        """Rebuild the graph: recreate each layer and replay its calls in order."""
        created: dict[str, Layer] = {}
        outputs_of: dict[tuple[str, int], Any] = {}
        pending = []
        for entry in config["layers"]:
            layer = _deserialize_layer(entry)
            created[entry["name"]] = layer
            if isinstance(layer, InputLayer):
                outputs_of[(entry["name"], 0)] = layer.output
            for index, call in enumerate(entry.get("inbound_nodes", [])):
                pending.append((entry["name"], index, call))

        def tensor(layer_name: str, index: int, output_index: int) -> Any:
            return flatten_structure(outputs_of[(layer_name, index)])[output_index]

        # Replay calls whose inputs exist, until all are placed (the order in the config is a
        # valid one already; the loop only guards against hand-edited orders).
        while pending:
            progressed = False
            for entry in list(pending):
                layer_name, index, call = entry
                try:
                    args = decode_call_argument(list(call["args"]), tensor)
                    kwargs = decode_call_argument(call["kwargs"], tensor)
                except KeyError:
                    continue
                outputs_of[(layer_name, index)] = created[layer_name](*args, **kwargs)
                pending.remove(entry)
                progressed = True
            if not progressed:
                raise ValueError(
                    "The model config's graph cannot be rebuilt: these calls never get their "
                    f"inputs: {[(name, index) for name, index, _ in pending]}"
                )

        # Keras counts a nested functional model's own first node in input/output_layers (its
        # calls are 1-based there, 0-based in inbound_nodes).
        # (lamina wrote them 0-based before it wrote Keras' module names)
        keras_written = any(str(e.get("module", "")).startswith("keras") for e in config["layers"])
        nested = {e["name"] for e in config["layers"] if "input_layers" in e["config"]}

        def resolve(reference: Any) -> Any:
            if (
                isinstance(reference, list)
                and len(reference) == 3
                and isinstance(reference[0], str)
            ):
                name, index, output_index = reference
                if keras_written and name in nested:
                    index -= 1
                return flatten_structure(outputs_of[(name, index)])[output_index]
            if isinstance(reference, list):
                return [resolve(r) for r in reference]
            if isinstance(reference, dict):
                return {k: resolve(v) for k, v in reference.items()}
            return reference

        return cls(
            resolve(config["input_layers"]),
            resolve(config["output_layers"]),
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )


def _deferred_input(node: Node, deferred: dict[int, Any]) -> bool:
    """Whether `node` reads a deferred activation's output. Only a KerasTensor's id() is
    taken: torch 2.11's dynamo cannot trace id() of a list (a merging layer's inputs)."""
    first = node.call_args[0] if node.call_args else None
    return isinstance(first, KerasTensor) and id(first) in deferred
