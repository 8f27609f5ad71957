"""Embedding: integer indices to dense vectors, a lookup in a trainable table.

>>> import torch
>>> Embedding(10, 4)(torch.tensor([[1, 2, 3]])).shape
torch.Size([1, 3, 4])
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from . import layer as layer_module
from ._quantization import (
    QuantizableMixin,
    build_quantized,
    embedding_lookup,
    split_quantized_dtype,
)
from ._symbolic import KerasTensor
from .layer import Layer, Shape

__all__ = ["Embedding"]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _get_initializer(identifier: Any) -> Any:
    # Keras' aliases 'uniform' and 'normal' mean RandomUniform(-0.05, 0.05) and
    # RandomNormal(0, 0.05), the Embedding default among them.
    if identifier == "uniform":
        return initializers.RandomUniform()
    if identifier == "normal":
        return initializers.RandomNormal()
    return initializers.get(identifier)


class Embedding(QuantizableMixin, Layer):
    """Turns non-negative integers (indices) into dense vectors of a fixed size.

    The table is stored as `torch.nn.Embedding`'s `weight`, (input_dim, output_dim), which is
    also Keras' layout of `embeddings`, so `get_weights()` returns it unchanged.

    Float inputs are cast to integers (truncated), as Keras does; negative indices count from
    the end of the table, as Keras' `take` does on PyTorch. An index outside
    [-input_dim, input_dim) raises an IndexError naming the layer (on a GPU, PyTorch cannot
    check indices without a host synchronisation, so there it fails as a device-side assert).

    With `mask_zero=True`, `compute_mask(inputs)` returns `inputs != 0`, and the mask travels
    with the output to the layers after it, as in Keras (recurrent and attention layers skip
    the padding; see `lamina.layers._masking`).

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each embedding vector.
        embeddings_initializer: initializer of the table (default 'uniform': uniform on
            [-0.05, 0.05], as Keras).
        embeddings_regularizer: penalty on the table added to the loss.
        embeddings_constraint: projection applied to the table after each update.
        mask_zero: whether index 0 is padding; `compute_mask` then marks it False.
        weights: optional initial table, an array of shape (input_dim, output_dim).
        lora_rank, lora_alpha: LoRA is not supported; passing a rank raises an error.
        quantization_config: a `lamina.quantizers.QuantizationConfig` for a layer built
            quantized (`dtype="int8_from_float32"`); `quantize("int8")` / `quantize("int4")`
            quantize a built layer (see `lamina.layers._quantization`).

    Input shape:
        integer tensor of any shape (batch, ...).
    Output shape:
        (batch, ..., output_dim).

    >>> import torch
    >>> layer = Embedding(5, 2, mask_zero=True)
    >>> ids = torch.tensor([[3, 1, 0]])
    >>> layer(ids).shape
    torch.Size([1, 3, 2])
    >>> layer.compute_mask(ids).tolist()
    [[True, True, False]]
    """

    weight_names = ("embeddings",)
    input_description = "(batch, ...) of integer indices"

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        quantized = split_quantized_dtype(kwargs)
        super().__init__(**kwargs)
        for argument, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not _positive_int(value):
                raise ValueError(
                    f"Embedding '{self.name}': {argument} must be a positive int; got {value!r}"
                )
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError(
                f"Embedding '{self.name}': LoRA (lora_rank={lora_rank!r}) is not supported; "
                "leave lora_rank and lora_alpha unset"
            )
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = _get_initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if self.mask_zero:  # masks now travel with tensors (see _masking)
            layer_module.MASKS_IN_USE[0] = True
        self._init_quantization(quantized, quantization_config)
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape: Shape | None = None) -> None:
        if self.quantization_mode is not None:
            build_quantized(self, (self.input_dim, self.output_dim), self.quantization_config)
            return
        self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            self.embeddings_regularizer,
            torch_name="weight",
            constraint=self.embeddings_constraint,
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        indices = inputs if not inputs.is_floating_point() else inputs.to(torch.int64)
        if indices.dtype not in (torch.int32, torch.int64):
            indices = indices.to(torch.int64)
        # Negative indices count from the end, as Keras' `take` does (no host sync here).
        wrapped = torch.where(indices < 0, indices + self.input_dim, indices)
        try:
            if self.quantization_mode is not None:
                return embedding_lookup(self, wrapped)
            outputs = F.embedding(wrapped, self.weight)
        except IndexError:
            raise IndexError(
                f"Embedding '{self.name}' has input_dim={self.input_dim}, so its indices must "
                f"lie in [0, {self.input_dim}) (or [-{self.input_dim}, 0) from the end); got "
                f"indices from {int(indices.min())} to {int(indices.max())}. Make input_dim "
                "the vocabulary size (largest index + 1)."
            ) from None
        return outputs.to(self._compute_dtype)

    @property
    def _output_dtype(self) -> str:  # type: ignore[override]
        """Vectors of the compute dtype from integer ids (Keras' symbolic float32)."""
        return str(self._compute_dtype).removeprefix("torch.")

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """`inputs != 0` when `mask_zero`, else None (Keras' padding mask)."""
        if not self.mask_zero:
            return None
        if isinstance(inputs, KerasTensor):
            return inputs != 0  # a `not_equal` node in the graph, as Keras' ops.not_equal
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._maybe_build(input_shape)
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            embeddings_constraint=constraints.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
        )
        config["quantization_config"] = self._quantized_config_entry()  # None, as Keras
        return config
