"""AlphaDropout: dropout that keeps the mean and variance of SELU activations.

>>> import torch
>>> layer = AlphaDropout(0.2)
>>> torch.equal(layer(torch.ones(2, 3)), torch.ones(2, 3))   # inference: the identity
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .regularization import Dropout

__all__ = ["AlphaDropout"]

# SELU's constants: dropped units are set to SELU's negative saturation value -alpha * scale.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Dropout):
    """Sets a random fraction `rate` of the inputs to SELU's saturation value in training, then
    applies the affine map that restores zero mean and unit variance (Klambauer et al., 2017).

    With `alpha' = -alpha * scale` of SELU, a kept unit x becomes `a * x + b` and a dropped one
    `a * alpha' + b`, where `a = ((1 - rate) * (1 + rate * alpha'**2)) ** -0.5` and
    `b = -a * alpha' * rate`. Inference returns the input unchanged.

    Args:
        rate: the fraction of the inputs to drop, in [0, 1).
        noise_shape: the shape of the keep/drop mask, broadcast over the input; None entries take
            the input's size.
        seed: makes the masks reproducible.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> y = AlphaDropout(0.3, seed=1)(torch.zeros(1000), training=True)
    >>> sorted({round(v, 4) for v in y.tolist()})   # dropped: a * alpha' + b; kept: b
    [-1.0595, 0.4541]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "rate seed noise_shape"

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        shape = self._mask_shape(inputs) or inputs.shape
        uniform = torch.rand(
            shape,
            generator=self._generator(inputs.device),
            device=inputs.device,
            dtype=inputs.dtype,
        )
        kept = uniform >= self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        # a * (x * kept + alpha_p * (1 - kept)) + b, with the mask as a where().
        return torch.where(kept, inputs * a + b, a * alpha_p + b)
