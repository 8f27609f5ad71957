"""Regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
ActivityRegularization.

The noise layers act only in training (`fit()`, or a call with `training=True`) and return their
input unchanged in inference. A `seed` makes the sequence of noise reproducible: each layer then
draws from its own generator, seeded on first use on each device.

>>> import torch
>>> layer = Dropout(0.5)
>>> torch.equal(layer(torch.ones(2, 3)), torch.ones(2, 3))   # inference: the identity
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import regularizers
from ._conv_utils import normalize_data_format, spatial_description
from .layer import Layer

__all__ = [
    "ActivityRegularization",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]


class _RandomLayer(Layer):
    """A stateless layer drawing noise in training, from a seeded generator when `seed` is set."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise TypeError(f"{type(self).__name__} '{self.name}': seed must be an int or None")
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}
        self.built = True

    def _generator(self, device: torch.device) -> torch.Generator | None:
        """None (the global generator) without a seed; else this layer's one for `device`."""
        if self.seed is None or device.type == "meta":
            return None
        generator = self._generators.get(device)
        if generator is None:
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed)
            self._generators[device] = generator
        return generator

    def _check_rate(self, rate: Any, one: bool = False) -> float:
        """`rate` as a float in [0, 1), or [0, 1] when `one` (Dropout's range in Keras)."""
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not (0 <= rate <= 1 if one else 0 <= rate < 1)
        ):
            top = "1]" if one else "1)"
            raise ValueError(
                f"{type(self).__name__} '{self.name}': rate must be a number in [0, {top}, the "
                f"fraction of the inputs to drop; got rate={rate!r}"
            )
        return float(rate)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["seed"] = self.seed
        return config


class Dropout(_RandomLayer):
    """Sets a random fraction `rate` of the inputs to 0 in training and scales the rest by
    1 / (1 - rate), so that the expected sum is unchanged (inverted dropout, as `F.dropout`).

    Args:
        rate: the fraction of the inputs to drop, in [0, 1] (1 drops all).
        noise_shape: the shape of the keep/drop mask, broadcast over the input; None entries take
            the input's size. `(None, 1, None)` on (batch, steps, features) drops the same
            features at every step.
        seed: makes the masks reproducible.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> y = Dropout(0.5, seed=1)(torch.ones(1000), training=True)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "rate seed noise_shape"

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = self._check_rate(rate, one=True)  # Keras takes 1: all dropped
        if noise_shape is not None:
            if isinstance(noise_shape, (str, bytes)) or not isinstance(noise_shape, Sequence):
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': noise_shape must be a tuple of "
                    f"positive ints or None entries; got {noise_shape!r}"
                )
            noise_shape = tuple(noise_shape)
            if not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                for d in noise_shape
            ):
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': noise_shape must hold positive ints "
                    f"or None; got {noise_shape!r}"
                )
        self.noise_shape: tuple[int | None, ...] | None = noise_shape

    def _mask_shape(self, x: torch.Tensor) -> tuple[int, ...] | None:
        """The shape of the mask, or None for one mask entry per input element."""
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != x.ndim:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': noise_shape {self.noise_shape} has "
                f"{len(self.noise_shape)} entries but the input has shape {tuple(x.shape)}"
            )
        return tuple(n if d is None else d for d, n in zip(self.noise_shape, x.shape, strict=True))

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        mask_shape = self._mask_shape(inputs)
        generator = self._generator(inputs.device)
        if inputs.device.type == "cpu" and inputs.dtype in (torch.float32, torch.float64):
            # On the CPU, uniform draws compared in place are about 3x faster than
            # bernoulli_ (forward and backward of F.dropout: 3.4 ms -> 1.0 ms on 128 x 1600).
            # P(u >= rate) = 1 - rate for u uniform in [0, 1), so the law is the same.
            mask = torch.rand(mask_shape or inputs.shape, generator=generator, dtype=inputs.dtype)
            return inputs * mask.ge_(self.rate).div_(1.0 - self.rate)
        if mask_shape is None and generator is None:
            return F.dropout(inputs, self.rate, training=True)
        keep = 1.0 - self.rate
        mask = torch.empty(mask_shape or inputs.shape, device=inputs.device, dtype=inputs.dtype)
        mask.bernoulli_(keep, generator=generator).div_(keep)
        return inputs * mask

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            rate=self.rate,
            noise_shape=None if self.noise_shape is None else list(self.noise_shape),
        )
        return config


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one keep/drop draw per sample and channel."""

    rank: int = 0

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = normalize_data_format(
            data_format, f"{type(self).__name__} '{self.name}'"
        )
        self.input_ndim = self.rank + 2
        self.input_description = spatial_description(self.rank, self.data_format == "channels_last")

    def _mask_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        ones = (1,) * self.rank
        if self.data_format == "channels_last":
            return (x.shape[0], *ones, x.shape[-1])
        return (x.shape[0], x.shape[1], *ones)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape  # as Keras: unchecked (the rank is checked by a call)

    compute_output_shape._numbers_only = True  # type: ignore[attr-defined]

    def get_config(self) -> dict[str, Any]:
        # Keras' own short config: no trainable or noise_shape, and the dtype as a string.
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if not self.trainable:
            config["trainable"] = False
        config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of (batch, steps, channels) inputs in training.

    Use it instead of Dropout after convolutions, whose neighbouring steps are correlated.

    Args:
        rate: the fraction of the channels to drop, in [0, 1).
        seed: makes the masks reproducible.

    Input shape:
        (batch, steps, channels).
    Output shape:
        Same as the input.

    >>> import torch
    >>> y = SpatialDropout1D(0.5)(torch.ones(2, 6, 3), training=True)
    >>> bool((y == y[:, :1, :]).all())   # every step of a channel is kept or dropped together
    True
    """

    rank = 1

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, "channels_last", seed, name, dtype, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images in training (one draw per sample and channel).

    Args:
        rate: the fraction of the channels to drop, in [0, 1).
        data_format: 'channels_last' (batch, height, width, channels) or 'channels_first';
            default `lamina.config.image_data_format()`.
        seed: makes the masks reproducible.

    Input shape:
        (batch, height, width, channels) with channels_last.
    Output shape:
        Same as the input.

    >>> import torch
    >>> SpatialDropout2D(0.2)(torch.ones(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 3-D data in training (one draw per sample and channel).

    Args:
        rate: the fraction of the channels to drop, in [0, 1).
        data_format: 'channels_last' (batch, depth, height, width, channels) or
            'channels_first'; default `lamina.config.image_data_format()`.
        seed: makes the masks reproducible.

    Input shape:
        (batch, depth, height, width, channels) with channels_last.
    Output shape:
        Same as the input.

    >>> import torch
    >>> SpatialDropout3D(0.2)(torch.ones(2, 3, 3, 3, 4), training=True).shape
    torch.Size([2, 3, 3, 3, 4])
    """

    rank = 3


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training.

    Args:
        stddev: the noise's standard deviation (>= 0).
        seed: makes the noise reproducible.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> GaussianNoise(0.1)(torch.zeros(10000), training=True).std().item() > 0.09
    True
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "stddev seed"

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(
                f"GaussianNoise '{self.name}': stddev must be a non-negative number; "
                f"got stddev={stddev!r}"
            )
        self.stddev = float(stddev)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.stddev == 0:
            return inputs
        noise = torch.empty_like(inputs).normal_(
            0.0, self.stddev, generator=self._generator(inputs.device)
        )
        return inputs + noise

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["stddev"] = self.stddev
        return config


class GaussianDropout(_RandomLayer):
    """Multiplies the inputs by Gaussian noise of mean 1 in training.

    The noise's standard deviation is sqrt(rate / (1 - rate)), the same variance as Dropout's
    scaled mask.

    Args:
        rate: the equivalent dropout rate, in [0, 1).
        seed: makes the noise reproducible.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> GaussianDropout(0.5)(torch.ones(10000), training=True).mean().round().item()
    1.0
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "rate seed"

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = self._check_rate(rate)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = torch.empty_like(inputs).normal_(
            1.0, stddev, generator=self._generator(inputs.device)
        )
        return inputs * noise

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["rate"] = self.rate
        return config


class ActivityRegularization(Layer):
    """Returns its input and, in training, adds `l1 * sum(|x|) + l2 * sum(x**2)` of it, divided by
    the batch size, to the loss (as Keras).

    Args:
        l1: the L1 factor.
        l2: the L2 factor.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = ActivityRegularization(l1=0.5)
    >>> _ = layer(torch.tensor([[1.0, -3.0]]), training=True)
    >>> [float(loss) for loss in layer.losses]
    [2.0]
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        if "activity_regularizer" in kwargs:
            raise TypeError("ActivityRegularization takes l1 and l2, not activity_regularizer")
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"ActivityRegularization: {name} must be a non-negative number; "
                    f"got {name}={value!r}"
                )
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(l1=self.l1, l2=self.l2)
        return config
