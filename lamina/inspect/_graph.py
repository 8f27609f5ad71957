"""The graph `lamina.inspect` reads: a model's layer calls with their inputs and shapes.

Functional models and Sequential models with an input record their calls as `Node`s
(`model._nodes`); models without them (an unbuilt Sequential, a subclassed model) are read as a
chain of `model.layers`, as Keras' summary does. `flatten` replaces nested models by their own
calls, which is what receptive fields and operation counts walk through.

>>> from lamina import Input, Sequential, layers
>>> model = Sequential([Input((8, 8, 3)), layers.Conv2D(4, 3, name="c")])
>>> [(call.layer.name, call.output_shapes) for call in model_graph(model).calls]
[('input_layer', [(None, 8, 8, 3)]), ('c', [(None, 6, 6, 4)])]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from ..layers._conv_utils import TilingWarning
from ..layers._shape_inference import ShapeInference
from ..layers._symbolic import is_shape, shape_structure
from ..models.model import Model
from ..models.sequential import Sequential

__all__ = ["FlatCall", "LayerCall", "ModelGraph", "flatten", "model_graph"]


@dataclass(eq=False)
class LayerCall:
    """One call of a layer in a model: where its inputs come from and the shapes in and out.

    `parents` holds, for each input tensor, the call that produced it and which of that call's
    outputs it is; `connections` are the same in Keras' summary notation, `name[node][tensor]`.
    """

    layer: Any
    parents: list[tuple[LayerCall, int]] = field(default_factory=list)
    input_shapes: list[Any] = field(default_factory=list)
    output_shapes: list[Any] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)
    is_input: bool = False
    node_index: int = 0  # which call of the layer it is (its place in `_inbound_nodes`)


@dataclass(eq=False)
class ModelGraph:
    """A model's calls in topological order (input calls first), with its input and outputs."""

    model: Any
    calls: list[LayerCall]
    inputs: list[LayerCall]
    outputs: list[tuple[LayerCall, int]]
    functional: bool

    def calls_of(self, layer: Any) -> list[LayerCall]:
        """Every call of `layer` in this graph (several for a shared layer)."""
        return [call for call in self.calls if call.layer is layer]

    @property
    def sequential_like(self) -> bool:
        """Keras' test for printing a functional model without its 'Connected to' column:
        at each depth (calls counted back from the outputs, an output's call at depth 0) one
        call, reading at most one tensor, and no layer called twice.
        """
        if not self.functional:
            return True
        depth = {id(call): 0 for call, _ in self.outputs}
        for call in reversed(self.calls):  # consumers before their producers
            if id(call) in depth:
                for parent, _ in call.parents:
                    depth[id(parent)] = max(depth.get(id(parent), 0), depth[id(call)] + 1)
        for call in self.inputs:  # an input no output reads is at depth 0, as in Keras
            depth.setdefault(id(call), 0)
        calls = [call for call in self.calls if id(call) in depth]
        if len({depth[id(call)] for call in calls}) != len(calls):
            return False
        if any(len(call.parents) > 1 for call in calls):
            return False
        return len({id(call.layer) for call in calls}) == len(calls)


def is_nested_model(layer: Any) -> bool:
    """A model used as a layer, whose own layers the analyses walk into."""
    return isinstance(layer, Model) and bool(layer.layers)


def _shapes(tensors: list[Any]) -> list[Any]:
    return [tuple(t.shape) for t in tensors]


def _from_nodes(model: Any, nodes: list[Any]) -> ModelGraph:
    calls: list[LayerCall] = []
    by_node: dict[int, LayerCall] = {}

    def input_call(node: Any) -> LayerCall:
        call = LayerCall(node.layer, output_shapes=_shapes(node.output_tensors), is_input=True)
        by_node[id(node)] = call
        calls.append(call)
        return call

    inputs = [input_call(t.node) for t in getattr(model, "inputs", []) or [] if t.node is not None]
    for node in nodes:
        call = LayerCall(node.layer, output_shapes=_shapes(node.output_tensors))
        call.node_index = next((i for i, n in enumerate(node.layer._inbound_nodes) if n is node), 0)
        for tensor in node.input_tensors:
            producer = tensor.node
            if producer is None:
                continue
            if id(producer) not in by_node:
                inputs.append(input_call(producer))
            call.parents.append((by_node[id(producer)], tensor.output_index))
            call.input_shapes.append(tuple(tensor.shape))
            node_index = next(
                (i for i, n in enumerate(producer.layer._inbound_nodes) if n is producer), 0
            )
            call.connections.append(f"{producer.layer.name}[{node_index}][{tensor.output_index}]")
        by_node[id(node)] = call
        calls.append(call)
    outputs = [
        (by_node[id(t.node)], t.output_index)
        for t in getattr(model, "outputs", []) or []
        if t.node is not None and id(t.node) in by_node
    ]
    if not outputs and calls:
        outputs = [(calls[-1], 0)]
    functional = not isinstance(model, Sequential)
    return ModelGraph(model, calls, inputs, outputs, functional)


def _guess_output_shape(layer: Any, input_shape: Any) -> Any:
    """A subclassed model's layer: its output shape for the shape it was built with; unknown
    (as in Keras' summary) for a user's layer class without its own `compute_output_shape`."""
    if input_shape is None:
        return None
    own = type(layer).compute_output_shape is not ShapeInference.compute_output_shape
    if not own and not type(layer).__module__.startswith("lamina."):
        return None
    try:
        with warnings.catch_warnings():
            # The layer warned when it was built, if it had to; reading it again says nothing new.
            warnings.simplefilter("ignore", TilingWarning)
            return shape_structure(layer.compute_output_shape(input_shape))
    except Exception:  # any failure only means that the shape is unknown
        return None


def _chain(model: Any) -> ModelGraph:
    """`model.layers` as a chain, for models that record no graph."""
    calls: list[LayerCall] = []
    inputs: list[LayerCall] = []
    previous: LayerCall | None = None
    input_layer = getattr(model, "_input_layer", None)
    if input_layer is not None:
        previous = LayerCall(input_layer, output_shapes=[input_layer.batch_shape], is_input=True)
        inputs.append(previous)
        calls.append(previous)
    for layer in model.layers:
        # A subclassed model's layers remember the shape they were built for; those built
        # at construction (ReLU, Dropout, ...) have none, and Keras shows '?' for them.
        input_shape = getattr(layer, "_build_input_shape", None)
        if isinstance(model, Sequential):
            input_shape = None
        call = LayerCall(layer, input_shapes=[input_shape])
        call.output_shapes = [_guess_output_shape(layer, input_shape)]
        if previous is not None:
            call.parents.append((previous, 0))
        calls.append(call)
        previous = call
    outputs = [(calls[-1], 0)] if calls else []
    return ModelGraph(model, calls, inputs, outputs, functional=False)


def model_graph(model: Any, cache: dict[int, ModelGraph] | None = None) -> ModelGraph:
    """The calls of `model` (one level: a nested model is one call), cached in `cache`."""
    if cache is not None and id(model) in cache:
        return cache[id(model)]
    nodes = getattr(model, "_nodes", None)
    graph = _from_nodes(model, list(nodes)) if nodes else _chain(model)
    if cache is not None:
        cache[id(model)] = graph
    return graph


@dataclass(eq=False)
class FlatCall:
    """A layer call with nested models opened: `origin` is the path of calls that leads to it,
    outermost first and the call itself last."""

    call: LayerCall
    origin: tuple[LayerCall, ...]
    parents: list[tuple[FlatCall, int] | None]

    @property
    def layer(self) -> Any:
        return self.call.layer


@dataclass
class FlatGraph:
    """Every leaf layer call of a model, nested models opened, in an executable order.

    `exits[id(call)]` gives, for each call of any level, the flat calls (and output indices)
    that produce its outputs: the call itself, or a nested model's output calls.
    """

    calls: list[FlatCall]
    exits: dict[int, list[tuple[FlatCall, int] | None]]
    graphs: dict[int, ModelGraph]


def flatten(model: Any, cache: dict[int, ModelGraph] | None = None) -> FlatGraph:
    """Open every nested model of `model` into its layer calls (see `FlatGraph`)."""
    graphs = {} if cache is None else cache
    flat: list[FlatCall] = []
    exits: dict[int, list[tuple[FlatCall, int] | None]] = {}

    def walk(
        graph: ModelGraph,
        outer: list[tuple[FlatCall, int] | None] | None,
        origin: tuple[LayerCall, ...],
    ) -> list[tuple[FlatCall, int] | None]:
        for index, call in enumerate(graph.inputs):
            if outer is None:
                leaf = FlatCall(call, (*origin, call), [])
                flat.append(leaf)
                exits[id(call)] = [(leaf, 0)]
            else:
                exits[id(call)] = [outer[index] if index < len(outer) else None]
        for call in graph.calls:
            if call.is_input:
                continue
            parents = [_lookup(exits, parent, index) for parent, index in call.parents]
            if is_nested_model(call.layer):
                inner = model_graph(call.layer, graphs)
                exits[id(call)] = walk(inner, parents, (*origin, call))
            else:
                leaf = FlatCall(call, (*origin, call), parents)
                flat.append(leaf)
                exits[id(call)] = [(leaf, k) for k in range(max(len(call.output_shapes), 1))]
        return [_lookup(exits, call, index) for call, index in graph.outputs]

    walk(model_graph(model, graphs), None, ())
    return FlatGraph(flat, exits, graphs)


def _lookup(
    exits: dict[int, list[tuple[FlatCall, int] | None]], call: LayerCall, index: int
) -> tuple[FlatCall, int] | None:
    produced = exits.get(id(call))
    if not produced:
        return None
    return produced[index] if index < len(produced) else produced[-1]


def single_shape(shapes: list[Any]) -> tuple[int | None, ...] | None:
    """The one shape in `shapes`, or None when there are several or it is unknown."""
    if len(shapes) != 1 or not is_shape(shapes[0]):
        return None
    return tuple(shapes[0])
