"""The `Masking` layer: timesteps whose features all equal `mask_value` are padding.

>>> import torch
>>> Masking()(torch.tensor([[[1.0], [0.0]]]))._keras_mask.tolist()
[[True, False]]
"""

from __future__ import annotations

from typing import Any

import torch

from . import layer as layer_module
from ._symbolic import KerasTensor
from .layer import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Marks timesteps whose features all equal `mask_value` as padding: they are zeroed
    here, and the layers after it that take masks (recurrent, attention) skip them.

    Args:
        mask_value: the padding value.

    Input shape:
        (batch, timesteps, features), or more axes (the last are the features).
    Output shape:
        Same as the input.
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.built = True  # as Keras
        self.mask_value = mask_value
        layer_module.MASKS_IN_USE[0] = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(inputs, KerasTensor):  # `not_equal` and `any` nodes, as in Keras
            from .. import ops

            return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)
        return torch.any(inputs != self.mask_value, dim=-1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = self.compute_mask(inputs)
        return inputs * keep.unsqueeze(-1).to(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
