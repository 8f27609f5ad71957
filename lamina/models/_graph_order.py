"""The order of a functional model's layers, as Keras 3 gives it (`keras.src.ops.function.
map_graph`): `model.layers[i]`, `get_weights()` and the summary follow it, so Keras code that
indexes layers or moves weights lists between the two libraries sees the same order.

Keras walks the graph depth-first from the outputs (flattened, dict keys sorted), numbering
each layer the first time it meets it. A node's depth is its longest distance to an output;
a layer's, its deepest node's. Layers come by decreasing depth, ties in walk order. So an
Input is not always first: with two Inputs, the one the walk meets first comes first, and an
Input read only near the outputs comes after the deeper branch's layers.
"""

from __future__ import annotations

from typing import Any

from ..layers._symbolic import KerasTensor, Node

__all__ = ["keras_layer_order", "shapes_of", "single_keys"]


def keras_layer_order(
    inputs: list[KerasTensor], outputs: list[KerasTensor], input_layer_type: type
) -> tuple[list[Any], dict[int, int]]:
    """(layers in Keras' order, depth of each node by id) for the graph from `inputs` to
    `outputs`. A model input made by another layer ends the walk: that layer is not part of
    the model, as in Keras."""
    input_ids = {id(t) for t in inputs}
    walk_index: dict[int, int] = {}  # id(layer) -> when the walk first met it
    layers: dict[int, Any] = {}
    post_order: list[Node] = []
    finished: set[int] = set()

    def visit(tensor: KerasTensor) -> None:
        node = tensor.node
        if node is None:
            return
        boundary = id(tensor) in input_ids
        if boundary and not isinstance(node.layer, input_layer_type):
            return
        if id(node) in finished:
            return
        key = id(node.layer)
        if key not in walk_index:
            walk_index[key] = len(walk_index)
            layers[key] = node.layer
        if not boundary:
            for parent in node.input_tensors:
                visit(parent)
        finished.add(id(node))
        post_order.append(node)

    for tensor in outputs:
        visit(tensor)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        if isinstance(node.layer, input_layer_type):
            continue
        for parent in node.input_tensors:
            parent_node = parent.node
            if parent_node is not None and id(parent_node) in finished:
                node_depth[id(parent_node)] = max(depth + 1, node_depth.get(id(parent_node), 0))
    for tensor in inputs:  # an Input no output depends on: depth 0, first among equals
        layer = tensor.node.layer if tensor.node is not None else None
        if isinstance(layer, input_layer_type) and id(layer) not in layer_depth:
            layers[id(layer)] = layer
            layer_depth[id(layer)], walk_index[id(layer)] = 0, -1
    ordered = sorted(layers, key=lambda key: (-layer_depth[key], walk_index[key]))
    return [layers[key] for key in ordered], node_depth


def shapes_of(tensors: list[KerasTensor]) -> Any:
    """Keras' `input_shape` / `output_shape`: one shape alone, else a list of them."""
    shapes = [tuple(t.shape) for t in tensors]
    return shapes[0] if len(shapes) == 1 else shapes


def single_keys(node: Node) -> tuple[int, int] | None:
    """(input id, output id) for a node called on one KerasTensor alone that returned one
    tensor, else None: `Functional._run` takes a shorter path for those."""
    args, outputs = node.call_args, node.outputs
    if node.call_kwargs or len(args) != 1 or not isinstance(args[0], KerasTensor):
        return None
    if not isinstance(outputs, KerasTensor):
        return None
    return id(args[0]), id(outputs)
