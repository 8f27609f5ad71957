"""GradientReversal: identity forward, gradient times -scale backward.

The layer of domain-adversarial training (DANN; Ganin & Lempitsky, "Unsupervised Domain
Adaptation by Backpropagation", 2015): placed between a feature extractor and a domain
classifier, it lets the classifier learn to tell the domains apart while pushing the features to
make them indistinguishable. Not a Keras layer; lamina's addition.

>>> import torch
>>> layer = GradientReversal(scale=0.5)
>>> x = torch.ones(2, 3, requires_grad=True)
>>> layer(x).sum().backward()
>>> x.grad[0].tolist()
[-0.5, -0.5, -0.5]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from .layer import Layer

__all__ = ["GradientReversal"]


class _ReverseGradient(torch.autograd.Function):
    """y = x; dL/dx = -scale * dL/dy."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        # A view rather than `inputs` itself, so autograd records this node.
        return inputs.view_as(inputs)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad_output * -ctx.scale, None


class GradientReversal(Layer):
    """Passes its input through unchanged and multiplies the gradient by `-scale` on the way back.

    `scale` is read on every call, so it can follow a schedule during training; the DANN paper
    raises it from 0 to 1 as `2 / (1 + exp(-10 * p)) - 1`, p the fraction of training done:

        layer.scale = 2 / (1 + math.exp(-10 * p)) - 1

    Args:
        scale: how strongly the gradient is reversed (lambda in the paper); 0 blocks it.

    Input shape:
        any.
    Output shape:
        the input's.
    """

    def __init__(self, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.built = True

    @property
    def scale(self) -> float:
        """The gradient's multiplier, negated; may be changed between training steps."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{self._describe()}: scale must be a finite number; got {value!r}")
        self._scale = float(value)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return _ReverseGradient.apply(inputs, self._scale)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["scale"] = self.scale
        return config
