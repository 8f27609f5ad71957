"""Attention layers: Attention (Luong-style, dot or concat scores), AdditiveAttention
(Bahdanau-style), and MultiHeadAttention (in multi_head_attention.py, re-exported here).

`Attention` and `AdditiveAttention` are called on a list, `[query, value]` or
`[query, value, key]`, with `mask=[query_mask, value_mask]`, as in Keras.

>>> from lamina.layers import Input
>>> query, value = Input((6, 16)), Input((4, 16))
>>> Attention()([query, value]).shape
(None, 6, 16)
"""

from __future__ import annotations

from typing import Any

import torch

from ._attention_utils import (
    as_mask,
    as_tensor,
    causal_mask,
    mask_offset,
    record_symbolic_call,
    shape_of,
)
from ._symbolic import KerasTensor, flatten_structure, is_shape
from .layer import Layer, Shape
from .multi_head_attention import MultiHeadAttention
from .regularization import Dropout

__all__ = ["AdditiveAttention", "Attention", "MultiHeadAttention"]


class Attention(Layer):
    """Dot-product (Luong-style) attention over a query and a value sequence.

    Scores are `query @ key^T` (`score_mode='dot'`, times a learned scalar `scale` when
    `use_scale`) or `concat_score_weight * sum(tanh(scale * (query_i + key_j)))`
    (`score_mode='concat'`); their softmax over the value axis weights the values.

    Args:
        use_scale: learn a scalar `scale` (initialised to 1) multiplying the scores.
        score_mode: 'dot' or 'concat'; 'concat' adds a scalar weight `concat_score_weight`.
        dropout: dropout rate on the attention probabilities, in training.
        seed: seed of the dropout.

    Call arguments:
        inputs: [query (batch, Tq, dim), value (batch, Tv, dim_v)] or
            [query, value, key (batch, Tv, dim)]; the key defaults to the value.
        mask: [query_mask (batch, Tq), value_mask (batch, Tv)], booleans; the output is 0
            where the query is masked, and masked values get no weight.
        return_attention_scores: also return the probabilities (batch, Tq, Tv).
        training: whether dropout is applied.
        use_causal_mask: query i attends only to values j <= i.

    Output shape:
        (batch, Tq, dim_v), and (batch, Tq, Tv) scores when requested.

    >>> import torch
    >>> query, value = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
    >>> Attention()([query, value]).shape
    torch.Size([2, 3, 4])
    """

    weight_names = ("scale", "concat_score_weight")
    score_modes = ("dot", "concat")

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if score_mode not in self.score_modes:
            raise ValueError(
                f"{self._describe()}: score_mode must be one of {{'dot', 'concat'}}; got "
                f"{score_mode!r}"
            )
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"{self._describe()}: dropout must be in [0, 1); got {dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._dropout_layer = Dropout(self.dropout, seed=seed) if self.dropout > 0 else None

    # ---------------------------------------------------------------- inputs

    def _validate(self, inputs: Any, mask: Any = None) -> None:
        if not isinstance(inputs, (list, tuple)) or is_shape(inputs):
            got = f"shape {tuple(inputs.shape)}" if isinstance(inputs, torch.Tensor) else inputs
            raise ValueError(
                f"{self._describe()} must be called on a list of inputs, [query, value] or "
                f"[query, value, key]; got {got}"
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{self._describe()} takes a list of 2 or 3 inputs, [query, value] or "
                f"[query, value, key]; got {len(inputs)}"
            )
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(
                f"{self._describe()}: mask must be a list [query_mask, value_mask]; got {mask!r}"
            )

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        if self.use_scale:
            self.add_weight("scale", (), "ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), "ones")
        else:
            self.concat_score_weight = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        inputs = args[0] if args else kwargs.pop("inputs", None)
        self._validate(inputs, kwargs.get("mask"))
        if any(isinstance(leaf, KerasTensor) for leaf in flatten_structure([inputs, kwargs])):
            shapes = [shape_of(t) for t in inputs]
            self._maybe_build(shapes)
            output_shape: Any = self.compute_output_shape(shapes)
            if kwargs.get("return_attention_scores"):
                key_shape = shapes[2] if len(shapes) > 2 else shapes[1]
                output_shape = (output_shape, (*shapes[0][:-1], key_shape[-2]))
            return record_symbolic_call(self, (list(inputs),), kwargs, output_shape)
        return super().forward(list(inputs), *args[1:], **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        self._validate(input_shape)
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask, which the output keeps (Keras' rule)."""
        self._validate(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        if isinstance(mask[0], KerasTensor):  # a `convert_to_tensor` node, as Keras records
            from ._operation import symbolic_operation

            return symbolic_operation("convert_to_tensor", (mask[0],), {})
        return torch.as_tensor(mask[0])

    # ---------------------------------------------------------------- computation

    def _calculate_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Scores (batch, Tq, Tv) of each query against each key."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores if self.scale is None else scores * self.scale
        # (batch, Tq, 1, dim) + (batch, 1, Tv, dim)
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    def call(
        self,
        inputs: list[torch.Tensor],
        mask: Any = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        query = inputs[0]
        value = as_tensor(inputs[1], query)
        key = as_tensor(inputs[2], query) if len(inputs) > 2 else value
        query_mask = as_mask(mask[0], query) if mask else None
        value_mask = as_mask(mask[1], query) if mask else None
        scores = self._calculate_scores(query, key)
        scores_mask = None
        if value_mask is not None:
            scores_mask = value_mask.unsqueeze(-2)  # (batch, 1, Tv)
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1], scores.device)
            scores_mask = causal if scores_mask is None else scores_mask & causal
        if scores_mask is not None:
            # Keras subtracts (rather than sets) a large number at masked positions.
            offset = mask_offset(scores.dtype)
            scores = torch.where(scores_mask, scores, scores - offset)
        weights = torch.softmax(scores, dim=-1)
        dropped = weights
        if training and self._dropout_layer is not None:
            dropped = self._dropout_layer(weights, training=True)
        output = torch.matmul(dropped, value)
        if query_mask is not None:
            output = torch.where(query_mask.unsqueeze(-1), output, 0.0)
        return (output, weights) if return_attention_scores else output

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            use_scale=self.use_scale,
            score_mode=self.score_mode,
            dropout=self.dropout,
            seed=self.seed,
        )
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: scores `sum(scale * tanh(query_i + key_j))`.

    Called like `Attention`, on `[query, value]` or `[query, value, key]`; query and key
    must have the same last size `dim`.

    Args:
        use_scale: learn a `scale` vector of shape (dim,) (Glorot-uniform initialised)
            weighting the features of the scores; without it they are summed.
        dropout: dropout rate on the attention probabilities, in training.
        seed: seed of the dropout.

    Output shape:
        (batch, Tq, dim_v), and (batch, Tq, Tv) scores when requested.

    >>> import torch
    >>> layer = AdditiveAttention()
    >>> layer([torch.ones(2, 3, 4), torch.ones(2, 5, 4)]).shape
    torch.Size([2, 3, 4])
    >>> layer.count_params()
    4
    """

    weight_names = ("scale",)

    def __init__(
        self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        dim = tuple(input_shape[0])[-1]
        if self.use_scale:
            self.add_weight("scale", (dim,), "glorot_uniform")
        else:
            self.scale = None

    def _calculate_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            summed = self.scale * summed
        return summed.sum(-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
