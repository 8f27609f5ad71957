"""Symbolic tensors seen from outside a model: `is_keras_tensor`, `get_source_inputs`."""

from __future__ import annotations

from typing import Any

from ..layers._symbolic import KerasTensor, flatten_structure

__all__ = ["get_source_inputs", "is_keras_tensor"]


def is_keras_tensor(x: Any) -> bool:
    """True for a symbolic tensor (what `Input()` and layer calls on it return).

    >>> import lamina, torch
    >>> is_keras_tensor(lamina.Input((3,))), is_keras_tensor(torch.ones(3))
    (True, False)
    """
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> Any:
    """The `Input` tensors that `tensor` is computed from, in order, each once; anything
    other than a symbolic tensor is returned unchanged.

    >>> import lamina
    >>> a, b = lamina.Input((2,), name="a"), lamina.Input((2,), name="b")
    >>> total = lamina.layers.Add()([lamina.layers.Dense(2)(a), b])
    >>> [source.name for source in get_source_inputs(total)]
    ['a', 'b']
    """
    if not isinstance(tensor, KerasTensor):
        return tensor
    node = tensor.node
    if node is None:
        return [tensor]
    inputs = node.input_tensors
    if not inputs:  # an Input: the node of an InputLayer reads nothing
        return [t for t in flatten_structure(node.outputs) if isinstance(t, KerasTensor)]
    sources: list[KerasTensor] = []
    for parent in inputs:
        for source in get_source_inputs(parent):
            if all(source is not seen for seen in sources):
                sources.append(source)
    return sources
