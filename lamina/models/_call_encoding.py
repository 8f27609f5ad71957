"""How a functional config writes the arguments of each layer call, and reads them back.

Symbolic tensors are written as Keras 3 writes them, so Keras reads lamina's configs and
lamina reads Keras': `{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer name, call index, output index]}}`; tuples as `{"class_name":
"__tuple__", "config": {"value": [...]}}`; slices and `...` (an op's index) as
`__slice__` and `__ellipsis__`. lamina's earlier encoding (`{"__tensor__": [...]}`,
`{"__tuple__": [...]}`) is still read.

>>> encode_call_argument((1, [2]), lambda tensor: None)
{'class_name': '__tuple__', 'config': {'value': [1, [2]]}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers._symbolic import KerasTensor

__all__ = ["decode_call_argument", "encode_call_argument"]


def encode_call_argument(item: Any, history: Callable[[KerasTensor], list[Any]]) -> Any:
    """`item` as JSON; `history(tensor)` gives a tensor's [layer name, call, output]."""
    if isinstance(item, KerasTensor):
        config = {"shape": tuple(item.shape), "dtype": str(item.dtype)}
        config["keras_history"] = history(item)
        return {"class_name": "__keras_tensor__", "config": config}
    if isinstance(item, tuple):
        return {
            "class_name": "__tuple__",
            "config": {"value": encode_call_argument(list(item), history)},
        }
    if isinstance(item, slice):
        bounds = {"start": item.start, "stop": item.stop, "step": item.step}
        return {"class_name": "__slice__", "config": encode_call_argument(bounds, history)}
    if item is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(item, list):
        return [encode_call_argument(i, history) for i in item]
    if isinstance(item, dict):
        return {k: encode_call_argument(v, history) for k, v in item.items()}
    return item


def decode_call_argument(item: Any, tensor: Callable[[str, int, int], Any]) -> Any:
    """The value `item` encodes; `tensor(layer name, call, output)` gives a tensor. Raises
    KeyError while a tensor it needs is not made yet."""
    if isinstance(item, dict) and set(item) >= {"class_name", "config"}:
        if item["class_name"] == "__keras_tensor__":
            return tensor(*item["config"]["keras_history"])
        if item["class_name"] == "__tuple__":
            return tuple(decode_call_argument(i, tensor) for i in item["config"]["value"])
        if item["class_name"] == "__slice__":
            bounds = decode_call_argument(item["config"], tensor)
            return slice(bounds["start"], bounds["stop"], bounds["step"])
        if item["class_name"] == "__ellipsis__":
            return Ellipsis
    if isinstance(item, dict) and "__tensor__" in item:
        return tensor(*item["__tensor__"])
    if isinstance(item, dict) and "__tuple__" in item:
        return tuple(decode_call_argument(i, tensor) for i in item["__tuple__"])
    if isinstance(item, list):
        return [decode_call_argument(i, tensor) for i in item]
    if isinstance(item, dict):
        return {k: decode_call_argument(v, tensor) for k, v in item.items()}
    return item
