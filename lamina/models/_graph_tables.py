"""Tables a functional model builds once from its graph (which tensors to free after each
node, which activations to defer past a max pooling), and the two input fixes Keras' graphs
make: inputs one rank short get their last axis, and inputs made by other layers become new
`Input`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..layers._symbolic import KerasTensor, Node, flatten_structure, map_structure
from . import _fusion

__all__ = [
    "adjust_input_rank",
    "check_input_shape",
    "pooling_after",
    "rebase_graph",
    "release_after",
    "relu_in_place_producers",
]


def release_after(nodes: list[Node], outputs: list[KerasTensor]) -> list[list[int]]:
    """For each node, the ids of the tensors that no later node reads and that are no
    model output: `Functional._run` drops them from its table once the node has run."""
    last_use: dict[int, int] = {}
    for index, node in enumerate(nodes):
        for tensor in node.input_tensors:
            last_use[id(tensor)] = index
        for tensor in node.output_tensors:
            last_use.setdefault(id(tensor), index)  # read by nothing: dropped at once
    kept = {id(tensor) for tensor in outputs}
    release: list[list[int]] = [[] for _ in nodes]
    for key, index in last_use.items():
        if key not in kept:
            release[index].append(key)
    return release


def _sole_readers(nodes: list[Node], outputs: list[KerasTensor]) -> dict[int, Node]:
    """Tensor id -> the node that alone reads the tensor, as `layer(tensor)` with no other
    argument, for tensors that are no model output (what both rewrites of `_fusion` need)."""
    readers: dict[int, list[Node]] = {}
    for node in nodes:
        for tensor in node.input_tensors:
            readers.setdefault(id(tensor), []).append(node)
    output_ids = {id(tensor) for tensor in outputs}
    sole: dict[int, Node] = {}
    for key, (reader, *others) in readers.items():
        if (
            not others
            and key not in output_ids
            and len(reader.call_args) == 1
            and not reader.call_kwargs
            and len(reader.input_tensors) == 1
            and id(reader.call_args[0]) == key
        ):
            sole[key] = reader
    return sole


def pooling_after(nodes: list[Node], outputs: list[KerasTensor]) -> list[Node | None]:
    """For each node, the max pooling node that alone reads its single output (with no
    other argument) when that output is no model output; else None. `Functional._run` defers the
    node's activation past that pooling (if the layers allow it, see `_fusion`). Other
    nodes are None, and take `_run`'s fast path."""
    sole = _sole_readers(nodes, outputs)
    found: list[Node | None] = []
    for node in nodes:
        found.append(None)
        if len(node.output_tensors) != 1 or len(node.call_args) != 1 or node.call_kwargs:
            continue
        consumer = sole.get(id(node.output_tensors[0]))
        if consumer is not None and _fusion.is_max_pooling(consumer.layer):
            found[-1] = consumer
    return found


def adjust_input_rank(model_name: str, reference: KerasTensor, value: torch.Tensor) -> Any:
    """`value` for the input `reference` when their ranks differ by one, as Keras: a
    missing last axis of size 1 is added, an extra one removed; else a clear error."""
    expected = tuple(reference.shape)
    if value.dim() == len(expected) - 1 and expected and expected[-1] == 1:
        return value.unsqueeze(-1)
    if value.dim() == len(expected) + 1 and value.shape[-1] == 1:
        return value.squeeze(-1)
    raise ValueError(
        f"Model '{model_name}': invalid input shape for input '{reference.name}': expected "
        f"shape {expected}, but the input has the incompatible shape {tuple(value.shape)}"
    )


def check_input_shape(
    model_name: str, index: int, reference: KerasTensor, value: torch.Tensor
) -> None:
    """Raise Keras' error when `value` has a size other than the one its `Input` fixes on
    some non-batch axis (ranks are made equal first, by `adjust_input_rank`)."""
    expected = tuple(reference.shape)
    found = tuple(value.shape)
    pairs = zip(expected[1:], found[1:], strict=True)
    if any(want is not None and want != got for want, got in pairs):
        raise ValueError(
            f"Input {index} with name '{reference.layer.name}' of layer '{model_name}' is "
            f"incompatible with the layer: expected shape={expected}, found shape={found}"
        )


def relu_in_place_producers(nodes: list[Node], outputs: list[KerasTensor]) -> list[Any]:
    """For each node, the layer whose output it may rectify in place (see `_fusion`): a plain
    ReLU called on one tensor that only it reads, no model output, made by a batch norm or
    an addition; else None."""
    sole = _sole_readers(nodes, outputs)
    found: list[Any] = []
    for node in nodes:
        found.append(None)
        if len(node.input_tensors) != 1 or sole.get(id(node.input_tensors[0])) is not node:
            continue
        producer = node.input_tensors[0].node
        if producer is None or len(producer.output_tensors) != 1:
            continue
        if _fusion.relu_in_place_after(producer.layer, node.layer, len(producer.input_tensors)):
            found[-1] = producer.layer
    return found


def rebase_graph(
    inputs: Any, outputs: Any, nodes: list[Node], make_input: Callable[..., KerasTensor]
) -> tuple[Any, Any]:
    """The graph from `inputs` to `outputs` called again from new `Input`s where an input
    was made by another layer (Keras' `Model(intermediate_tensor, outputs)`): the same
    layers, new nodes; the original graph is left as it is."""
    replaced: dict[int, Any] = {}
    for tensor in flatten_structure(inputs):
        node = tensor.node if isinstance(tensor, KerasTensor) else None
        if node is not None and type(node.layer).__name__ != "InputLayer":
            replaced[id(tensor)] = make_input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)

    def lookup(item: Any) -> Any:
        if isinstance(item, KerasTensor):
            return replaced.get(id(item), item)
        return item

    for node in nodes:
        result = node.layer(
            *map_structure(lookup, node.call_args), **map_structure(lookup, node.call_kwargs)
        )
        for old, new in zip(node.output_tensors, flatten_structure(result), strict=True):
            replaced[id(old)] = new
    return map_structure(lookup, inputs), map_structure(lookup, outputs)
