"""Wrapper: the base class of layers that hold another layer (Keras' `keras.layers.Wrapper`).

The wrapped layer is `self.layer`, a sub-module, so its weights are the wrapper's; `build`
builds it, `get_config()` holds it serialized under "layer" and `from_config` rebuilds it.
Subclasses write `call` (the wrapper itself computes nothing, as in Keras).

>>> import torch
>>> from lamina.layers.core import Dense
>>> class Twice(Wrapper):
...     def call(self, inputs):
...         return self.layer(self.layer(inputs))
>>> layer = Twice(Dense(3))
>>> layer(torch.zeros(2, 3)).shape, layer.count_params()
(torch.Size([2, 3]), 12)
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ._weights import tensors_on
from .layer import Layer, Shape

__all__ = ["Wrapper"]


class Wrapper(Layer):
    """A layer that wraps another and augments it (TimeDistributed is one).

    Args:
        layer: the lamina layer instance to wrap.

    Raises:
        ValueError: when `layer` is not a layer instance.
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' wraps a lamina layer instance; got "
                f"{layer!r}. Pass e.g. Dense(8), not the class or a torch module."
            )
        self.layer = layer

    def build(self, input_shape: Shape | None = None) -> None:
        """Build the wrapped layer for `input_shape`, if it is not built yet."""
        self.layer._maybe_build(input_shape)

    def _move_new_weights(self, device: torch.device) -> None:
        # The weights live in the wrapped layer, which build() created on the CPU.
        if device.type != "meta" and not tensors_on(self, device):
            self.to(device)

    def get_config(self) -> dict[str, Any]:
        from ..saving.registry import serialize_layer

        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Wrapper:
        """Rebuild from `get_config()`'s output (the wrapped layer from its entry)."""
        from ..saving.registry import deserialize_layer

        config = copy.deepcopy(config)
        layer = config.pop("layer")
        if not isinstance(layer, Layer):
            layer = deserialize_layer(layer, custom_objects=custom_objects)
        return cls(layer, **config)
