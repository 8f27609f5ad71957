"""GroupQueryAttention: attention where groups of query heads share one key/value head.

>>> from lamina.layers import Input
>>> query, value = Input((6, 16)), Input((4, 16))
>>> GroupQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2)(query, value).shape
(None, 6, 16)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from ._attention_utils import (
    as_tensor,
    attention_inputs,
    causal_mask,
    explicit_attention,
    is_symbolic,
    record_symbolic_call,
    shape_of,
    shapes_dict,
    take_keras_names,
)
from ._masking import get_mask
from ._name_scope import open_name_scope
from ._naming import unique_name
from ._weights import tensors_on
from .layer import Layer, Shape
from .multi_head_attention import MultiHeadAttention, _positive_int, _Projection
from .regularization import Dropout

__all__ = ["GroupQueryAttention", "GroupedQueryAttention"]

# `enable_gqa` (key/value heads shared by groups of query heads, no copies) came in torch 2.5.
_SDPA_GQA = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 5)


class GroupQueryAttention(Layer):
    """Grouped-query attention (Ainslie et al., 2023), as Keras' layer of the same name.

    The query is projected to `num_query_heads` heads, key and value to `num_key_value_heads`
    heads, each of size `head_dim`; query head i attends with key/value head
    `i // (num_query_heads // num_key_value_heads)`. One key/value head is multi-query
    attention, as many as query heads is multi-head attention. The heads are concatenated and
    projected back to the query's last size. Without requested scores or dropout it runs on
    `torch.nn.functional.scaled_dot_product_attention`.

    Weights, in Keras' order: query kernel (dim, num_query_heads, head_dim) and bias
    (num_query_heads, head_dim), key and value kernels (dim, num_key_value_heads, head_dim)
    and biases, (gate as the query,) and the output kernel (num_query_heads, head_dim, dim)
    and bias (dim,). They live in sub-layers `query_dense`, `key_dense`, (`gate_dense`,)
    `value_dense`, `output_dense` in Linear's layout; `get_weights()` converts.

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; divides `num_query_heads`.
        dropout: dropout rate on the attention probabilities, in training.
        use_bias: whether the projections have biases.
        sliding_window: if set, position i only attends to positions j with
            |i - j| < sliding_window.
        flash_attention: ignored (PyTorch picks its fused kernel itself).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: as in Dense, for every projection.
        use_gate: multiply the heads' outputs by a sigmoid gate projected from the query.
        seed: seed of the dropout.

    Call arguments:
        query: (batch, Tq, dim); value: (batch, Tv, dim); key: (batch, Tv, dim), default value.
        query_mask, value_mask, key_mask: boolean (batch, Tq) / (batch, Tv), False to mask;
            by default the masks the tensors carry (from `Embedding(mask_zero=True)`).
        attention_mask: boolean (batch, Tq, Tv), True where query i may attend to key j.
        return_attention_scores: also return the probabilities (batch, num_query_heads, Tq, Tv).
        training: whether dropout is applied.
        use_causal_mask: query i attends only to keys j <= i.

    Output shape:
        (batch, Tq, dim).

    >>> import torch
    >>> gqa = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=1)
    >>> x = torch.zeros(3, 5, 8)
    >>> out, scores = gqa(x, x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape), gqa.count_params()
    ((3, 5, 8), (3, 4, 5, 5), 352)
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "head_dim num_query_heads num_key_value_heads use_bias use_gate sliding_window dropout "
        "kernel_initializer bias_initializer kernel_regularizer bias_regularizer "
        "activity_regularizer kernel_constraint bias_constraint seed"
    )

    supports_masking = True  # the output keeps the query's mask

    weight_names = ("query_dense", "key_dense", "value_dense", "output_dense")

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("name") is None:  # Keras' class is GroupedQueryAttention
            kwargs["name"] = unique_name("grouped_query_attention")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for argument, value in (
            ("head_dim", head_dim),
            ("num_query_heads", num_query_heads),
            ("num_key_value_heads", num_key_value_heads),
        ):
            if not _positive_int(value):
                raise ValueError(
                    f"{self._describe()}: {argument} must be a positive int; got {value!r}"
                )
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                f"{self._describe()}: num_query_heads must be divisible by "
                f"num_key_value_heads; got {num_query_heads} and {num_key_value_heads}"
            )
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"{self._describe()}: dropout must be in [0, 1); got {dropout!r}")
        if sliding_window is not None and not _positive_int(sliding_window):
            raise ValueError(
                f"{self._describe()}: sliding_window must be None or a positive int; "
                f"got {sliding_window!r}"
            )
        if flash_attention and dropout > 0:
            raise ValueError(
                f"{self._describe()}: dropout is not supported with flash_attention=True; "
                "set dropout=0.0 or leave flash_attention unset"
            )
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.sliding_window = sliding_window
        self.use_gate = bool(use_gate)
        self.seed = seed
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Named here, so it takes no default name until build (see take_keras_names).
        self._dropout_layer = (
            Dropout(self.dropout, seed=seed, name="dropout") if self.dropout > 0 else None
        )

    def build(
        self, query_shape: Shape, value_shape: Shape | None = None, key_shape: Shape | None = None
    ) -> None:
        """Create the projections for inputs of these shapes (Keras' signature)."""
        if self.built:
            return
        take_keras_names()
        if value_shape is None:
            raise ValueError(
                f"{self._describe()}.build needs the query and value shapes: "
                "build(query_shape, value_shape, key_shape=None)"
            )
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._build_shapes_dict = shapes_dict(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"{self._describe()} expects 3-D {name} (batch, sequence, features) with a "
                    f"known last axis; got shape {shape}"
                )
        common = {
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "bias_regularizer": self.bias_regularizer,
            "kernel_constraint": self.kernel_constraint,
            "bias_constraint": self.bias_constraint,
        }

        def projection(name: str, ins: tuple[int, ...], outs: tuple[int, ...], **extra: Any) -> Any:
            layer = _Projection(
                ins, outs, self.use_bias, common, name=name, dtype=self._dtype_policy, **extra
            )
            with open_name_scope(self):  # 'grouped_query_attention/query/kernel'
                layer.build()
            return layer

        queries, keys, size = self.num_query_heads, self.num_key_value_heads, self.head_dim
        # Created in Keras' order, which is the order of get_weights().
        self.query_dense = projection("query", (query_shape[-1],), (queries, size))
        self.key_dense = projection("key", (key_shape[-1],), (keys, size))
        if self.use_gate:
            self.gate_dense = projection(
                "gate", (query_shape[-1],), (queries, size), activation=torch.sigmoid
            )
        self.value_dense = projection("value", (value_shape[-1],), (keys, size))
        self.output_dense = projection("attention_output", (queries, size), (query_shape[-1],))
        self.built = True
        self._build_input_shape = query_shape

    build._lamina_wrapped = True  # type: ignore[attr-defined]  # Keras' signature, own flag

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        query, value, key = attention_inputs(self, args, kwargs)
        inputs = (query, value) if key is None else (query, value, key)
        if is_symbolic(*inputs, *kwargs.values()):
            shapes = [shape_of(t) for t in inputs]
            self.build(*shapes)
            output_shape: Any = self.compute_output_shape(*shapes)
            if kwargs.get("return_attention_scores"):
                scores = (shapes[0][0], self.num_query_heads, shapes[0][1], shapes[-1][1])
                output_shape = (output_shape, scores)
            return record_symbolic_call(self, inputs, kwargs, output_shape)
        if not self.built:
            self.build(*(shape_of(t) for t in inputs))  # real weights (_Projection)
            real = isinstance(query, torch.Tensor) and query.device.type != "meta"
            if real and not tensors_on(self, query.device):
                self.to(query.device)
        return super().forward(*inputs, **kwargs)

    def compute_output_shape(
        self, query_shape: Shape, value_shape: Shape | None = None, key_shape: Shape | None = None
    ) -> Shape:
        query_shape = tuple(query_shape)
        if value_shape is not None:
            value_shape = tuple(value_shape)
            key_shape = value_shape if key_shape is None else tuple(key_shape)
            if query_shape[-1] != value_shape[-1]:
                raise ValueError(
                    f"{self._describe()}: the last axes of query and value must be equal; got "
                    f"query shape {query_shape} and value shape {value_shape}"
                )
            if value_shape[1:-1] != key_shape[1:-1]:
                raise ValueError(
                    f"{self._describe()}: all axes of value and key but the last must be "
                    f"equal; got value shape {value_shape} and key shape {key_shape}"
                )
        return query_shape

    def call(
        self,
        query: torch.Tensor,
        value: Any,
        key: Any = None,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
    ) -> Any:
        # Masks carried by the tensors, as Keras fills the `<argument>_mask` arguments.
        query_mask = get_mask(query) if query_mask is None else query_mask
        value_mask = get_mask(value) if value_mask is None else value_mask
        if key_mask is None and key is not None:
            key_mask = get_mask(key)
        value = as_tensor(value, query)
        key = value if key is None else as_tensor(key, query)
        if value.is_floating_point() and value.dtype != query.dtype:
            value = value.to(query.dtype)
        if key.is_floating_point() and key.dtype != query.dtype:
            key = key.to(query.dtype)
        masks = {
            "query_mask": query_mask,
            "value_mask": value_mask,
            "key_mask": key_mask,
            "attention_mask": attention_mask,
        }
        only_causal = use_causal_mask and all(m is None for m in masks.values())
        only_causal = only_causal and self.sliding_window is None
        # MultiHeadAttention's rules for combining the masks (the same in Keras).
        mask = (
            None
            if only_causal
            else MultiHeadAttention._combined_mask(
                self,  # type: ignore[arg-type]
                query,
                value,
                masks,
                use_causal_mask,
            )
        )
        # (batch, length, heads, size) -> (batch, heads, length, size)
        q = self.query_dense.call(query).transpose(1, 2)
        k = self.key_dense.call(key).transpose(1, 2)
        v = self.value_dense.call(value).transpose(1, 2)
        scale = 1.0 / math.sqrt(self.head_dim)
        scores = None
        # Keras' condition: any dropout rate takes the explicit path, even in inference.
        if not return_attention_scores and self.dropout == 0:
            bias = None
            if mask is not None:  # Keras' large negative bias: a fully masked row averages
                bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device)
                bias = bias.masked_fill(~mask, torch.finfo(q.dtype).min * 0.7)
            if _SDPA_GQA:
                attended = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=bias, is_causal=only_causal, scale=scale, enable_gqa=True
                )
            else:
                k, v = (
                    k.repeat_interleave(self.num_repeats, 1),
                    v.repeat_interleave(self.num_repeats, 1),
                )
                attended = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=bias, is_causal=only_causal, scale=scale
                )
        else:
            k = k.repeat_interleave(self.num_repeats, 1)
            v = v.repeat_interleave(self.num_repeats, 1)
            if only_causal:
                mask = causal_mask(q.shape[2], k.shape[2], q.device)
            dropout = self._dropout_layer if training else None
            attended, scores = explicit_attention(q, k, v, mask, scale, dropout)
        attended = attended.transpose(1, 2)  # (batch, Tq, heads, head_dim)
        if self.use_gate:
            attended = attended * self.gate_dense.call(query)
        output = self.output_dense.call(attended)
        if not return_attention_scores:
            return output
        return output, scores

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
            use_bias=self.use_bias,
            use_gate=self.use_gate,
            sliding_window=self.sliding_window,
            dropout=self.dropout,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            seed=self.seed,
        )
        return config


#: The name of Keras' class (exported by Keras as `GroupQueryAttention`).
GroupedQueryAttention = GroupQueryAttention
