"""Pieces shared by the attention layers: input conversion, masks, symbolic calls.

The attention layers take several tensors and keyword arguments that change their outputs
(`return_attention_scores`), so their symbolic calls compute the output shapes themselves and
record the call here, rather than through `Layer._symbolic_call`, which sees only the first
input.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from ._naming import tensor_name
from ._symbolic import KerasTensor, Node, map_shapes

# Keras' masking constant: masked scores become (or drop by) 1e9 before the softmax (Softmax
# and Attention), or by 65504 / 3e4 in float16, whose largest finite value is 65504.
_MASK_OFFSET = 1e9
_MASK_OFFSET_FLOAT16 = 65504.0


def attention_inputs(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """(query, value, key) from an attention layer's call, positional or by name (removed
    from `kwargs`); key is None when not given."""
    names = ("query", "value", "key")
    values = dict(zip(names, args, strict=False))
    for name in names:
        if name in kwargs:
            values[name] = kwargs.pop(name)
    if values.get("query") is None or values.get("value") is None:
        raise TypeError(
            f"{layer._describe()} needs a query and a value: layer(query, value), or "
            "layer(x, x) for self-attention"
        )
    return values["query"], values["value"], values.get("key")


def mask_offset(dtype: torch.dtype) -> float:
    """How far below the others a masked score is pushed before the softmax, as Keras."""
    return _MASK_OFFSET_FLOAT16 if dtype == torch.float16 else _MASK_OFFSET


def as_tensor(value: Any, like: torch.Tensor) -> Any:
    """`value` as a tensor on `like`'s device (NumPy arrays and lists accepted); None stays."""
    if value is None or isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(np.asarray(value), device=like.device)


def as_mask(value: Any, like: torch.Tensor) -> torch.Tensor | None:
    """A boolean mask from booleans, 0/1 numbers or None (nonzero means keep, as Keras)."""
    value = as_tensor(value, like)
    if value is None:
        return None
    return value if value.dtype == torch.bool else value != 0


def causal_mask(query_length: int, value_length: int, device: torch.device) -> torch.Tensor:
    """(query_length, value_length), True where query position i may see value position
    j <= i (the lower triangle, aligned at the top left as Keras and PyTorch do)."""
    return torch.ones(query_length, value_length, dtype=torch.bool, device=device).tril()


def shape_of(value: Any) -> tuple[int | None, ...] | None:
    """The shape of a tensor, array or KerasTensor as `Layer._shapes_of` gives `build` (the
    batch size kept, as Keras'); None for None."""
    from .layer import Layer

    return None if value is None else Layer._shapes_of(value)


def shapes_dict(query_shape: Any, value_shape: Any, key_shape: Any = None) -> dict[str, Any]:
    """Keras' `build_config["shapes_dict"]` of an attention layer built for these shapes."""
    shapes = {"query_shape": tuple(query_shape), "value_shape": tuple(value_shape)}
    if key_shape is not None:
        shapes["key_shape"] = tuple(key_shape)
    return shapes


def is_symbolic(*values: Any) -> bool:
    return any(isinstance(value, KerasTensor) for value in values)


def record_symbolic_call(
    layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output_shapes: Any
) -> Any:
    """Record `layer(*args, **kwargs)` on KerasTensors in the graph; return its outputs,
    with Keras' masks (the query's, for attention) on them."""
    from . import _masking

    _, previous_mask = _masking.symbolic_call_masks(layer, args, kwargs)
    node = Node(layer, args, kwargs)
    counter = itertools.count()

    def make(shape: Any) -> KerasTensor:
        return KerasTensor(
            shape=tuple(shape),
            dtype=layer.dtype,
            name=tensor_name(),
            node=node,
            output_index=next(counter),
        )

    node.outputs = map_shapes(make, output_shapes)
    layer._inbound_nodes.append(node)
    _masking.attach_output_mask(layer, args[0], previous_mask, node.outputs)
    return node.outputs


def explicit_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    scale: float,
    dropout: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(attended values, scores) as Keras' einsum path computes them: the query scaled
    before the product, masked scores pushed down before the softmax and zeroed after it,
    then `dropout` (a layer, training only) on the probabilities."""
    scores = torch.matmul(q * scale, k.transpose(-1, -2))
    if mask is not None:
        scores = scores.masked_fill(~mask, -mask_offset(scores.dtype))
    scores = torch.softmax(scores, dim=-1)
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    probabilities = scores if dropout is None else dropout(scores, training=True)
    return torch.matmul(probabilities, v), scores


def take_keras_names() -> None:
    """Take the default names of the Softmax and Dropout layers Keras' MultiHeadAttention and
    GroupQueryAttention create when built, so that the user's next ones are named as in Keras
    ('softmax_1', 'dropout_1' after one attention layer)."""
    from ._naming import unique_name

    unique_name("softmax")
    unique_name("dropout")
