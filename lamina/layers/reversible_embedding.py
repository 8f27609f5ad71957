"""ReversibleEmbedding: an Embedding that also projects vectors back to vocabulary logits.

>>> import torch
>>> layer = ReversibleEmbedding(10, 4)
>>> hidden = layer(torch.tensor([[1, 2, 3]]))
>>> layer(hidden, reverse=True).shape
torch.Size([1, 3, 10])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .embedding import Embedding
from .layer import Shape

__all__ = ["ReversibleEmbedding"]


def _torch_dtype(dtype: Any, owner: str) -> torch.dtype:
    from ..utils._dtype_utils import standardize_dtype  # lamina.utils imports the layers

    try:
        return getattr(torch, standardize_dtype(dtype))
    except (ValueError, AttributeError):
        raise ValueError(f"{owner}: reverse_dtype must be a float dtype; got {dtype!r}") from None


class ReversibleEmbedding(Embedding):
    """An `Embedding` that can be called in reverse, from `output_dim` back to `input_dim`
    (the output layer of a language model, Press and Wolf, 2016).

    `layer(ids)` looks the ids up as Embedding does; `layer(hidden, reverse=True)` returns
    logits `hidden @ embeddings.T` (weights tied), or `hidden @ reverse_embeddings` with
    `tie_weights=False`, a separate trainable (output_dim, input_dim) matrix in Keras' layout,
    stored Linear-like as `reverse_weight` (input_dim, output_dim). There is no bias.

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each embedding vector.
        tie_weights: whether the reverse projection uses the embedding table.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint, mask_zero: as in
            Embedding (the initializer also initializes `reverse_embeddings`).
        reverse_dtype: the dtype of the reverse computation (default the compute dtype).
        logit_soft_cap: if set, reverse logits become `tanh(logits / cap) * cap`.

    Call arguments:
        inputs: integer ids (batch, ...), or vectors (batch, ..., output_dim) with reverse.
        reverse: project vectors to logits instead of looking ids up.

    Output shape:
        (batch, ..., output_dim), or (batch, ..., input_dim) in reverse.

    >>> import torch
    >>> layer = ReversibleEmbedding(6, 2, tie_weights=False, logit_soft_cap=5.0)
    >>> layer(torch.zeros(1, 2, 2), reverse=True).shape, layer.count_params()
    (torch.Size([1, 2, 6]), 24)
    """

    weight_names = ("embeddings", "reverse_embeddings")

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        tie_weights: bool = True,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        reverse_dtype: Any = None,
        logit_soft_cap: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.tie_weights = bool(tie_weights)
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        if reverse_dtype is not None:
            _torch_dtype(reverse_dtype, self._describe())  # an unknown name fails here
        if logit_soft_cap is not None and (
            isinstance(logit_soft_cap, bool)
            or not isinstance(logit_soft_cap, (int, float))
            or logit_soft_cap <= 0
        ):
            raise ValueError(
                f"{self._describe()}: logit_soft_cap must be None or a positive number; got "
                f"{logit_soft_cap!r}"
            )
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape: Shape | None = None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.add_weight(
                "reverse_embeddings",
                (self.input_dim, self.output_dim),
                self.embeddings_initializer,
                keras_axes=(1, 0),
                torch_name="reverse_weight",
            )

    def call(self, inputs: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        if not reverse:
            return super().call(inputs)
        kernel = self.weight if self.tie_weights else self.reverse_weight
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(
                f"{self._describe()} projects vectors of size output_dim={self.output_dim} in "
                f"reverse; got shape {tuple(inputs.shape)}"
            )
        if self.reverse_dtype is not None:
            dtype = _torch_dtype(self.reverse_dtype, self._describe())
            inputs, kernel = inputs.to(dtype), kernel.to(dtype)
        elif inputs.dtype != kernel.dtype:
            kernel = kernel.to(inputs.dtype)
        logits = F.linear(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """`ids != 0` for a lookup of integer ids when `mask_zero`; None for reverse calls
        (float vectors), whose logits carry no mask."""
        if isinstance(inputs, torch.Tensor) and inputs.is_floating_point():
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape: Shape, reverse: bool | None = None) -> Shape:
        if reverse is None:
            reverse = self.__dict__.get("_reverse_call", False)
        if reverse:  # lists, as Keras'
            return [*input_shape[:-1], self.input_dim]
        return list(super().compute_output_shape(input_shape))

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        # Layer._symbolic_call asks compute_output_shape with the shapes only: say which way.
        self.__dict__["_reverse_call"] = bool(kwargs.get("reverse", False))
        try:
            return super()._symbolic_call(*args, **kwargs)
        finally:
            self.__dict__["_reverse_call"] = False

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            tie_weights=self.tie_weights,
            reverse_dtype=self.reverse_dtype,
            logit_soft_cap=self.logit_soft_cap,
        )
        return config
