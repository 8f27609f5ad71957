"""Colour augmentation: RandomGrayscale, RandomHue, RandomSaturation, RandomColorDegeneration,
RandomInvert and RandomColorJitter (brightness, contrast, saturation and hue in one layer).

As the other augmentation layers, each acts in training only (`fit()`, or a call with
`training=True`) and returns its input unchanged in inference; every image gets its own draw,
made on the batch's device; a `seed` gives the layer its own generator. Pixel values are in
`value_range` ((0, 255) by default); the HSV layers work on values scaled to [0, 1].

>>> import torch
>>> x = torch.tensor([[[[255.0, 0.0, 0.0]]]])   # one red pixel
>>> [round(v, 3) for v in RandomGrayscale(factor=1.0)(x, training=True).flatten().tolist()]
[76.22, 76.22, 76.22]
"""

from __future__ import annotations

from typing import Any

import torch

from ._image_utils import ImageLayer, as_config, is_number, parse_factor, uniform
from ._naming import to_snake_case, unique_name
from .augmentation import RandomBrightness, RandomContrast, _value_range

__all__ = [
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomSaturation",
]

# ITU-R 601 luma weights, as Keras' and torchvision's rgb_to_grayscale.
_LUMA = (0.2989, 0.587, 0.114)


def rgb_to_grayscale(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) luma of (N, 3, H, W) RGB images; 1-channel images are returned as they are."""
    if images.shape[1] == 1:
        return images
    red, green, blue = images.unbind(1)
    return (_LUMA[0] * red + _LUMA[1] * green + _LUMA[2] * blue).unsqueeze(1)


def rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] to hue, saturation, value, each in [0, 1]."""
    red, green, blue = images.unbind(1)
    value = images.amax(1)
    spread = value - images.amin(1)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    # Hue in sixths of a turn from the largest channel; grey pixels (no spread) get hue 0.
    sixth = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(
        value == green, (blue - red) * sixth + 1.0 / 3.0, (red - green) * sixth + 2.0 / 3.0
    )
    hue = torch.where(value == red, (green - blue) * sixth, hue)
    hue = torch.where(spread > 0, hue, 0.0)
    return torch.stack([hue.remainder(1.0), saturation, value], 1)


def hsv_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """The inverse of `rgb_to_hsv`: (N, 3, H, W) hue (taken modulo 1), saturation, value."""
    hue, saturation, value = images.unbind(1)
    sector = hue.remainder(1.0).unsqueeze(1) * 6.0
    centres = torch.tensor([3.0, 2.0, 4.0], dtype=images.dtype, device=images.device)
    ramps = (sector - centres.view(1, 3, 1, 1)).abs()
    # red falls from 1 at sector 0 to 0 at 2 and rises again from 4; green and blue are bumps.
    weights = torch.cat([ramps[:, :1] - 1.0, 2.0 - ramps[:, 1:]], 1).clamp(0.0, 1.0)
    saturation, value = saturation.unsqueeze(1), value.unsqueeze(1)
    return value * (1.0 - saturation + saturation * weights)


def _to_unit(images: torch.Tensor, values: tuple[float, float]) -> torch.Tensor:
    low, high = values
    return (images - low) / (high - low)


def _from_unit(images: torch.Tensor, values: tuple[float, float]) -> torch.Tensor:
    low, high = values
    return images * (high - low) + low


def _check_channels(owner: str, images: torch.Tensor, allowed: tuple[int, ...]) -> None:
    if images.shape[1] not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise ValueError(
            f"{owner} expects images with {expected} channels (RGB); got {images.shape[1]} channels"
        )


class RandomGrayscale(ImageLayer):
    """Turns each image to grayscale with probability `factor` in training; the luma is copied to
    every channel, so the shape is kept.

    Args:
        factor: the probability, in [0, 1], that an image is turned to grayscale.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, 3 or 1), or one (height, width, channels) image.
    Output shape:
        Same as the input; integer images keep their dtype (the luma truncated, as Keras).

    >>> import torch
    >>> y = RandomGrayscale(1.0)(torch.rand(2, 4, 4, 3), training=True)
    >>> bool((y[..., 0] == y[..., 2]).all())
    True
    """

    keeps_int_in_inference = True  # as Keras: integer images stay integer
    casts_int_images = False  # as Keras: the luma is cast (truncated) to the integer dtype

    def __init__(
        self,
        factor: float = 0.5,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not is_number(factor) or not 0 <= factor <= 1:
            raise ValueError(
                f"{self._describe()}: factor must be a probability in [0, 1]; got factor={factor!r}"
            )
        self.factor = factor

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        _check_channels(self._describe(), images, (1, 3))
        apply = uniform((images.shape[0], 1, 1, 1), 0.0, 1.0, generator, images) < self.factor
        gray = rgb_to_grayscale(images).to(images.dtype)
        return torch.where(apply, gray.expand_as(images), images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = self.factor
        if config["seed"] is None:
            del config["seed"]  # Keras' RandomGrayscale config has no seed entry
        return config


class _ColorLayer(ImageLayer):
    """A colour layer with a `factor` and a `value_range`."""

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    #: Keras' _FACTOR_BOUNDS: a number f gives (-f, f) in (-1, 1), or (0, f) in (0, 1).
    bounds: tuple[int, int] = (0, 1)
    #: Whether the config holds value_range sorted, as a list (Keras' `_set_value_range`).
    sorts_value_range: bool = False

    def __init__(
        self,
        factor: Any,
        value_range: Any,
        data_format: str | None,
        seed: int | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor
        self._range = parse_factor(self._describe(), "factor", factor, self.bounds)
        self._values = _value_range(self._describe(), value_range)
        self.value_range = sorted(value_range) if self.sorts_value_range else value_range

    def draw(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """One factor per image, (N, 1, 1, 1), uniform in the factor's range."""
        return uniform((images.shape[0], 1, 1, 1), *self._range, generator, images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(factor=as_config(self._range), value_range=as_config(self.value_range))
        return config


class RandomHue(_ColorLayer):
    """Turns each image's hue by a random fraction of half a turn in training (RGB -> HSV ->
    RGB), clockwise or anticlockwise at random.

    Args:
        factor: f in [0, 1] draws the strength from [0, f], a pair from its range; the hue turns
            by +-strength / 2 of a full turn (1.0: up to half a turn, complementary colours).
        value_range: (low, high), the range of the pixel values, e.g. (0, 255) or (0, 1).
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, 3), or one (height, width, 3) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> red = torch.tensor([[[[1.0, 0.0, 0.0]]]])
    >>> RandomHue((1.0, 1.0), value_range=(0, 1))(red, training=True).flatten().tolist()
    [0.0, 1.0, 1.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        _check_channels(self._describe(), images, (3,))
        sign = torch.where(uniform((images.shape[0],), 0, 1, generator, images) > 0.5, -1.0, 1.0)
        turn = sign * self.draw(images, generator).flatten() * 0.5
        return adjust_hue(images, turn, self._values)


def adjust_hue(
    images: torch.Tensor, turn: torch.Tensor, value_range: tuple[float, float]
) -> torch.Tensor:
    """(N, 3, H, W) images with their hue turned by `turn[n]` of a full turn, clipped."""
    hsv = rgb_to_hsv(_to_unit(images, value_range))
    hue = hsv[:, :1] + turn.to(images.dtype).view(-1, 1, 1, 1)
    rgb = hsv_to_rgb(torch.cat([hue, hsv[:, 1:]], 1)).clamp(0.0, 1.0)
    return _from_unit(rgb, value_range)


class RandomSaturation(_ColorLayer):
    """Scales each image's saturation in training: a factor f multiplies it by f / (1 - f), so
    0 gives grayscale, 0.5 the image itself and 1 the fully saturated colours.

    Args:
        factor: a number f in [-1, 1] draws the factor from [-|f|, |f|] (as Keras); a pair
            (lower, upper) in [-1, 1] from that range (factors <= 0 give grayscale).
        value_range: (low, high), the range of the pixel values.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, 3) floats, or one (height, width, 3) image (as Keras, training
        refuses integer images).
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.tensor([[[[200.0, 100.0, 50.0]]]])
    >>> RandomSaturation((0.0, 0.0))(x, training=True).flatten().tolist()
    [200.0, 200.0, 200.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    bounds = (-1, 1)
    sorts_value_range = True
    casts_int_images = False  # Keras' training refuses integer images (see augment)

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if not images.is_floating_point():
            raise ValueError(  # as Keras, whose RandomSaturation does not cast before rgb_to_hsv
                f"{self._describe()}: Invalid images dtype: expected float dtype. Received: "
                f"images.dtype={str(images.dtype).removeprefix('torch.')} (cast the images "
                f"to float first)"
            )
        _check_channels(self._describe(), images, (3,))
        factor = self.draw(images, generator)
        # 1e-7 is Keras' epsilon: f = 1 gives a huge scale, i.e. full saturation.
        return adjust_saturation(images, factor / (1.0 - factor + 1e-7), self._values)


def adjust_saturation(
    images: torch.Tensor, scale: torch.Tensor, value_range: tuple[float, float]
) -> torch.Tensor:
    """(N, 3, H, W) images with their HSV saturation multiplied by `scale` ((N, 1, 1, 1)) and
    clipped to [0, 1]."""
    hsv = rgb_to_hsv(_to_unit(images, value_range))
    saturation = (hsv[:, 1:2] * scale.to(images.dtype)).clamp(0.0, 1.0)
    rgb = hsv_to_rgb(torch.cat([hsv[:, :1], saturation, hsv[:, 2:]], 1))
    return _from_unit(rgb, value_range).clamp(*value_range)


class RandomColorDegeneration(_ColorLayer):
    """Blends each image towards its grayscale version in training: x + f * (gray(x) - x),
    clipped to `value_range` (f = 0: the image, f = 1: grayscale).

    Args:
        factor: a number f in [-1, 1] draws f from [-|f|, |f|] (as Keras); a pair (lower,
            upper) in [-1, 1] from that range (negative values move away from gray: more
            colourful).
        value_range: (low, high), the range of the pixel values.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, 3), or one (height, width, 3) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.tensor([[[[200.0, 100.0, 0.0]]]])
    >>> y = RandomColorDegeneration((0.5, 0.5))(x, training=True)
    >>> [round(v, 2) for v in y.flatten().tolist()]
    [159.24, 109.24, 59.24]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    bounds = (-1, 1)
    sorts_value_range = True

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        _check_channels(self._describe(), images, (1, 3))
        factor = self.draw(images, generator)
        gray = rgb_to_grayscale(images)
        return (images + factor * (gray - images)).clamp(*self._values)


class RandomInvert(_ColorLayer):
    """Inverts some images in training: x -> value_range[1] - x (as Keras 3.15, so with a
    value_range (low, high) whose low is not 0 the result leaves the range), with a probability
    drawn per image.

    Args:
        factor: a number f in [0, 1] draws each image's probability from [0, f] (so the default
            1.0 inverts about half of the images, as Keras); a pair (p, p) inverts with
            probability p.
        value_range: (low, high), the range of the pixel values.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomInvert((1.0, 1.0))(torch.tensor([[[[0.0, 55.0, 255.0]]]]), training=True).tolist()
    [[[[255.0, 200.0, 0.0]]]]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        probability = self.draw(images, generator)
        apply = uniform(probability.shape, 0.0, 1.0, generator, images) < probability
        return torch.where(apply, float(self.value_range[1]) - images, images)


class RandomColorJitter(ImageLayer):
    """Random brightness, contrast, saturation and hue in training, in that order, each only if
    its factor is given (see RandomBrightness, RandomContrast, RandomSaturation, RandomHue).

    Args:
        value_range: (low, high), the range of the pixel values.
        brightness_factor: RandomBrightness's factor, or None to leave brightness alone.
        contrast_factor: RandomContrast's factor, or None.
        saturation_factor: RandomSaturation's factor, or None.
        hue_factor: RandomHue's factor, or None.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, 3), or one (height, width, 3) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=0)
    >>> layer(torch.rand(2, 4, 4, 3) * 255, training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "data_format value_range brightness_factor contrast_factor saturation_factor hue_factor "
        "seed"
    )

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    def __init__(
        self,
        value_range: tuple[float, float] = (0, 255),
        brightness_factor: float | tuple[float, float] | None = None,
        contrast_factor: float | tuple[float, float] | None = None,
        saturation_factor: float | tuple[float, float] | None = None,
        hue_factor: float | tuple[float, float] | None = None,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        _value_range(self._describe(), value_range)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = (
            (RandomBrightness, brightness_factor),
            (RandomContrast, contrast_factor),
            (RandomSaturation, saturation_factor),
            (RandomHue, hue_factor),
        )
        for cls, factor in steps:  # Keras creates these unnamed: they take default names
            if factor is not None:
                unique_name(to_snake_case(cls.__name__))
        # Plain list: the steps are parts of this layer, not modules of their own.
        self._steps: list[ImageLayer] = [
            cls(factor, value_range=value_range, name=f"{self.name}_{cls.__name__}")
            for cls, factor in steps
            if factor is not None
        ]

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        for step in self._steps:
            images = step.augment(images, generator)
        return images

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            value_range=as_config(self.value_range),
            brightness_factor=as_config(self.brightness_factor),
            contrast_factor=as_config(self.contrast_factor),
            saturation_factor=as_config(self.saturation_factor),
            hue_factor=as_config(self.hue_factor),
        )
        return config
