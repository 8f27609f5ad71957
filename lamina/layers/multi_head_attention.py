"""MultiHeadAttention: scaled dot-product attention over several learned projections (heads).

>>> from lamina.layers import Input
>>> query, value = Input((6, 16)), Input((4, 16))
>>> MultiHeadAttention(num_heads=2, key_dim=8)(query, value).shape
(None, 6, 16)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from ._attention_utils import (
    as_mask,
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
from ._weights import tensors_on
from .layer import Layer, Shape
from .regularization import Dropout

__all__ = ["MultiHeadAttention"]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class _Projection(Layer):
    """One of MultiHeadAttention's projections (Keras' EinsumDense sub-layers `query`, `key`,
    `value`, `attention_output`): maps the last axes `in_shape` to `out_shape`.

    The kernel is stored as (*out_shape, *in_shape), a Linear weight with its axes unflattened,
    so `weight.reshape(prod(out), prod(in))` is a free view; Keras' layout is
    (*in_shape, *out_shape). The bias has shape `out_shape` in both.
    """

    weight_names = ("kernel", "bias")

    def __init__(
        self,
        in_shape: Sequence[int],
        out_shape: Sequence[int],
        use_bias: bool,
        common: dict[str, Any],
        activation: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        self.use_bias = use_bias
        self.common = common
        self.activation = activation

    def build(self, input_shape: Shape | None = None) -> None:
        outs, ins = len(self.out_shape), len(self.in_shape)
        common = self.common
        self.add_weight(
            "kernel",
            (*self.out_shape, *self.in_shape),
            common["kernel_initializer"],
            common["kernel_regularizer"],
            keras_axes=(*range(outs, outs + ins), *range(outs)),
            torch_name="weight",
            constraint=common["kernel_constraint"],
        )
        if self.use_bias:
            self.add_weight(
                "bias",
                self.out_shape,
                common["bias_initializer"],
                common["bias_regularizer"],
                constraint=common["bias_constraint"],
            )
        else:
            self.bias = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        ins = len(self.in_shape)
        flat_in, flat_out = math.prod(self.in_shape), math.prod(self.out_shape)
        x = inputs.reshape(*inputs.shape[: inputs.ndim - ins], flat_in)
        bias = None if self.bias is None else self.bias.reshape(flat_out)
        y = F.linear(x, self.weight.reshape(flat_out, flat_in), bias)
        y = y.reshape(*y.shape[:-1], *self.out_shape)
        return y if self.activation is None else self.activation(y)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), as Keras' layer of the same name.

    `query`, `key` and `value` are each projected to `num_heads` heads; each head computes
    `softmax(q k^T / sqrt(key_dim)) v`, and the heads are concatenated and projected back to
    the query's last size (or `output_shape`). Without requested scores it runs on
    `torch.nn.functional.scaled_dot_product_attention` (fused kernels on a GPU).

    Weights, in Keras' order: query kernel (dim, num_heads, key_dim) and bias
    (num_heads, key_dim), the same for key, (gate,) value (with value_dim), and the output
    kernel (num_heads, value_dim, *output_shape) and bias (*output_shape). They live in
    sub-layers `query_dense`, `key_dense`, (`gate_dense`,) `value_dense` and `output_dense`,
    whose `weight` is stored Linear-like as (num_heads, key_dim, dim) and
    (*output_shape, num_heads, value_dim); `get_weights()` converts.

    Masks: the masks the query, value and key carry (from `Embedding(mask_zero=True)`) are
    used when the `*_mask` arguments are not given, and the output keeps the query's mask.
    Unlike Keras, which ignores the `query_mask` argument, lamina applies it when given.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default: key_dim).
        dropout: dropout rate on the attention probabilities, in training.
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (int or tuple); default the query's last size.
        attention_axes: the axes attention runs over. None (the default) means every axis
            between batch and features, jointly; other choices are not supported yet.
        sliding_window: if set, position i only attends to positions j with
            |i - j| < sliding_window.
        flash_attention: ignored (PyTorch picks its fused kernel itself).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: as in Dense, for every projection.
        use_gate: multiply the heads' outputs by a sigmoid gate projected from the query.
        seed: seed of the dropout.

    Call arguments:
        query: (batch, Tq, dim); value: (batch, Tv, dim_v); key: (batch, Tv, dim_k), default
            value. `mha(x, x)` is self-attention.
        query_mask, value_mask, key_mask: boolean (batch, Tq) / (batch, Tv), False to mask.
        attention_mask: boolean (batch, Tq, Tv), True where query i may attend to key j.
        return_attention_scores: also return the probabilities (batch, num_heads, Tq, Tv).
        training: whether dropout is applied.
        use_causal_mask: query i attends only to keys j <= i (decoder self-attention).

    Output shape:
        (batch, Tq, dim) or (batch, Tq, *output_shape).

    >>> import torch
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = torch.zeros(3, 5, 8)
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape), mha.count_params()
    ((3, 5, 8), (3, 2, 5, 5), 288)
    """

    # Keras 3.15.1's order of these get_config() keys (the others are in place)
    _config_order = "activity_regularizer kernel_constraint bias_constraint"

    supports_masking = True  # the output keeps the query's mask

    weight_names = ("query_dense", "key_dense", "value_dense", "output_dense")

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | Sequence[int] | None = None,
        attention_axes: int | Sequence[int] | None = None,
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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for argument, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not _positive_int(value):
                raise ValueError(
                    f"{self._describe()}: {argument} must be a positive int; got {value!r}"
                )
        if value_dim is not None and not _positive_int(value_dim):
            raise ValueError(
                f"{self._describe()}: value_dim must be a positive int or None; got {value_dim!r}"
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
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
            if not all(_positive_int(size) for size in output_shape):
                raise ValueError(
                    f"{self._describe()}: output_shape must be an int or a tuple of positive "
                    f"ints; got {output_shape!r}"
                )
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self._axes_argument = attention_axes  # the config's until built, as Keras'
        if attention_axes is not None:
            if not isinstance(attention_axes, (list, tuple)):
                raise ValueError(
                    f"{self._describe()}: attention_axes must be an int, list or tuple; got "
                    f"{attention_axes!r}"
                )
            attention_axes = tuple(attention_axes)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self._output_shape = tuple(output_shape) if output_shape else None
        self.attention_axes = attention_axes
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

    def _check_attention_axes(self, rank: int) -> None:
        """Only attention over all axes between batch and features (None) is supported."""
        every = tuple(range(1, rank - 1))
        self._built_axes = every if self.attention_axes is None else self.attention_axes
        if self.attention_axes is None:
            return
        resolved = tuple(sorted(axis % rank for axis in self.attention_axes))
        if resolved != every:
            raise NotImplementedError(
                f"{self._describe()}: attention_axes={self.attention_axes} is not supported for "
                f"rank-{rank} inputs; lamina attends over every axis between batch and "
                f"features, i.e. attention_axes=None (here {every})"
            )

    def _config_attention_axes(self) -> Any:
        """As Keras' config: the argument until built, then a tuple ((1,) for 3-D inputs)."""
        return self.__dict__.get("_built_axes", self._axes_argument)

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
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"{self._describe()}: all axes of value and key but the last must be equal; got "
                f"value shape {value_shape} and key shape {key_shape}"
            )
        if len(query_shape) < 3 or len(query_shape) != len(value_shape):
            raise ValueError(
                f"{self._describe()} expects query and value of the same rank, at least 3 "
                f"(batch, sequence, features); got shapes {query_shape} and {value_shape}"
            )
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(
                    f"{self._describe()} needs a known last axis of {name}; got {shape}"
                )
        self._check_attention_axes(len(query_shape))
        common = {
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "bias_regularizer": self.bias_regularizer,
            "kernel_constraint": self.kernel_constraint,
            "bias_constraint": self.bias_constraint,
        }
        heads, key_dim, value_dim = self.num_heads, self.key_dim, self.value_dim

        def projection(name: str, ins: Sequence[int], outs: Sequence[int], **extra: Any) -> Any:
            layer = _Projection(
                ins, outs, self.use_bias, common, name=name, dtype=self._dtype_policy, **extra
            )
            layer.build()
            return layer

        # Created in Keras' order, which is the order of get_weights(), under the layer's
        # name scope ('multi_head_attention/query/kernel').
        with open_name_scope(self):
            self.query_dense = projection("query", (query_shape[-1],), (heads, key_dim))
            self.key_dense = projection("key", (key_shape[-1],), (heads, key_dim))
            if self.use_gate:
                self.gate_dense = projection(
                    "gate", (query_shape[-1],), (heads, value_dim), activation=torch.sigmoid
                )
            self.value_dense = projection("value", (value_shape[-1],), (heads, value_dim))
            out_shape = self._output_shape or (query_shape[-1],)
            self.output_dense = projection("attention_output", (heads, value_dim), out_shape)
        self.built = True
        self._build_input_shape = query_shape

    build._lamina_wrapped = True  # type: ignore[attr-defined]  # Keras' signature, own flag

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        query, value, key = attention_inputs(self, args, kwargs)
        inputs = (query, value) if key is None else (query, value, key)
        if is_symbolic(*inputs, *kwargs.values()):
            return self._symbolic_attention(inputs, kwargs)
        if not self.built:
            self.build(*(shape_of(t) for t in (query, value, key)))  # real weights (_Projection)
            real = isinstance(query, torch.Tensor) and query.device.type != "meta"
            if real and not tensors_on(self, query.device):
                self.to(query.device)
        return super().forward(*inputs, **kwargs)

    def _symbolic_attention(self, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        shapes = [shape_of(t) for t in inputs]
        self.build(*shapes)
        output_shape = self.compute_output_shape(*shapes)
        if kwargs.get("return_attention_scores"):
            query_shape, value_shape = shapes[0], shapes[1]
            scores = (query_shape[0], self.num_heads, *query_shape[1:-1], *value_shape[1:-1])
            output_shape = (output_shape, scores)
        return record_symbolic_call(self, inputs, kwargs, output_shape)

    def compute_output_shape(
        self, query_shape: Shape, value_shape: Shape | None = None, key_shape: Shape | None = None
    ) -> Shape:
        query_shape = tuple(query_shape)
        if (
            value_shape is not None
            and key_shape is not None
            and tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]
        ):
            raise ValueError(
                f"{self._describe()}: all axes of value and key but the last must be equal; "
                f"got value shape {tuple(value_shape)} and key shape {tuple(key_shape)}"
            )
        if self._output_shape:
            return (*query_shape[:-1], *self._output_shape)
        return query_shape

    def _combined_mask(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        masks: dict[str, Any],
        use_causal_mask: bool,
    ) -> torch.Tensor | None:
        """One boolean mask broadcastable to (batch, heads, Tq, Tv), or None (Keras' rules:
        query_mask (B, Tq), value/key masks (B, Tv), attention_mask and the causal and
        sliding-window masks combined with AND)."""
        batch, query_length, value_length = query.shape[0], query.shape[1], value.shape[1]
        mask = None

        def combine(current: torch.Tensor | None, new: torch.Tensor) -> torch.Tensor:
            return new if current is None else current & new

        if (query_mask := as_mask(masks["query_mask"], query)) is not None:
            mask = combine(mask, query_mask.reshape(batch, query_length)[:, :, None])
        for name in ("value_mask", "key_mask"):
            if (value_mask := as_mask(masks[name], query)) is not None:
                mask = combine(mask, value_mask.reshape(batch, value_length)[:, None, :])
        if use_causal_mask:
            mask = combine(mask, causal_mask(query_length, value_length, query.device))
        if self.sliding_window is not None:
            rows = torch.arange(query_length, device=query.device)[:, None]
            columns = torch.arange(value_length, device=query.device)[None, :]
            mask = combine(mask, (rows - columns).abs() < self.sliding_window)
        if (attention_mask := as_mask(masks["attention_mask"], query)) is not None:
            if attention_mask.ndim > 3:  # several sequence axes, flattened with the inputs
                attention_mask = attention_mask.reshape(-1, query_length, value_length)
            mask = combine(mask, attention_mask)
        if mask is None:
            return None
        while mask.ndim < 4:  # the heads axis (and a batch axis) broadcast
            mask = mask.unsqueeze(-3)
        return mask

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
        # Masks carried by the tensors (Embedding(mask_zero=True) upstream), as Keras reads them.
        query_mask = get_mask(query) if query_mask is None else query_mask
        value_mask = get_mask(value) if value_mask is None else value_mask
        if key_mask is None:
            key_mask = get_mask(value if key is None else key)
        value = as_tensor(value, query)
        key = value if key is None else as_tensor(key, query)
        if value.is_floating_point() and value.dtype != query.dtype:
            value = value.to(query.dtype)
        if key.is_floating_point() and key.dtype != query.dtype:
            key = key.to(query.dtype)
        self._check_attention_axes(query.ndim)
        batch, query_axes, value_axes = query.shape[0], query.shape[1:-1], value.shape[1:-1]
        # Attention over several axes is attention over their flattening.
        query = query.reshape(batch, -1, query.shape[-1])
        value = value.reshape(batch, -1, value.shape[-1])
        key = key.reshape(batch, -1, key.shape[-1])
        masks = {
            "query_mask": query_mask,
            "value_mask": value_mask,
            "key_mask": key_mask,
            "attention_mask": attention_mask,
        }
        only_causal = use_causal_mask and all(m is None for m in masks.values())
        only_causal = only_causal and self.sliding_window is None
        mask = None if only_causal else self._combined_mask(query, value, masks, use_causal_mask)

        # (batch, length, heads, size) -> (batch, heads, length, size)
        q = self.query_dense.call(query).transpose(1, 2)
        k = self.key_dense.call(key).transpose(1, 2)
        v = self.value_dense.call(value).transpose(1, 2)
        scale = 1.0 / math.sqrt(self.key_dim)
        scores = None
        # Keras' condition: any dropout rate takes the explicit path, even in inference.
        if not return_attention_scores and self.dropout == 0:
            # Keras' dot_product_attention path: masked scores get a large negative bias,
            # so a fully masked row averages the values (rather than giving zeros).
            bias = None
            if mask is not None:
                bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device)
                bias = bias.masked_fill(~mask, torch.finfo(q.dtype).min * 0.7)
            attended = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, is_causal=only_causal, scale=scale
            )
        else:
            if only_causal:
                mask = causal_mask(q.shape[2], k.shape[2], q.device)
            dropout = self._dropout_layer if training else None
            attended, scores = explicit_attention(q, k, v, mask, scale, dropout)
        attended = attended.transpose(1, 2)  # (batch, Tq, heads, value_dim)
        if self.use_gate:
            attended = attended * self.gate_dense.call(query)
        output = self.output_dense.call(attended)
        output = output.reshape(batch, *query_axes, *output.shape[2:])
        if not return_attention_scores:
            return output
        return output, scores.reshape(batch, self.num_heads, *query_axes, *value_axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            dropout=self.dropout,
            use_bias=self.use_bias,
            use_gate=self.use_gate,
            output_shape=self._output_shape,  # tuples, as Keras
            attention_axes=self._config_attention_axes(),
            sliding_window=self.sliding_window,
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
