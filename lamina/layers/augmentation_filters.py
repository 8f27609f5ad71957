"""Tone and filter augmentation: RandomSharpness, RandomGaussianBlur, RandomPosterization,
Solarization, AutoContrast, Equalization.

The random layers act in training only and return their input unchanged in inference, each
image with its own draw, as the other augmentation layers. AutoContrast is deterministic and
always applied (in inference too, as Keras); Equalization is applied in training only (as
Keras' code does). Tone operations work on values mapped from `value_range` to [0, 255], as
Keras, and map the result back.

>>> import torch
>>> x = torch.tensor([[[[64.0], [128.0]], [[160.0], [192.0]]]])
>>> AutoContrast()(x).flatten().tolist()
[0.0, 127.5, 191.25, 255.0]
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ._image_utils import ImageLayer, as_config, parse_factor, parse_strict_factor, uniform
from .augmentation import _value_range

__all__ = [
    "AutoContrast",
    "Equalization",
    "RandomGaussianBlur",
    "RandomPosterization",
    "RandomSharpness",
    "Solarization",
]


def _to_255(images: torch.Tensor, values: tuple[float, float]) -> torch.Tensor:
    low, high = values
    return (images - low) * (255.0 / (high - low))


def _from_255(images: torch.Tensor, values: tuple[float, float]) -> torch.Tensor:
    low, high = values
    return images * ((high - low) / 255.0) + low


def _depthwise(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each (N, C, H, W) image with its own (N, kh, kw) kernel, zero padded ('same',
    odd kernel sides), all images at once as one grouped convolution."""
    n, channels, height, width = images.shape
    kh, kw = kernels.shape[-2:]
    weight = kernels.to(images.dtype).repeat_interleave(channels, 0).unsqueeze(1)
    out = F.conv2d(
        images.reshape(1, n * channels, height, width),
        weight,
        padding=(kh // 2, kw // 2),
        groups=n * channels,
    )
    return out.view(n, channels, height, width)


class _ToneLayer(ImageLayer):
    """An image layer with a `value_range`."""

    #: Whether the config holds value_range sorted, as a list (Keras' `_set_value_range`).
    sorts_value_range: bool = True

    def __init__(
        self, value_range: Any, seed: int | None, data_format: str | None, **kwargs: Any
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._values = _value_range(self._describe(), value_range)
        self.value_range = sorted(value_range) if self.sorts_value_range else value_range

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["value_range"] = as_config(self.value_range)
        return config


class RandomSharpness(_ToneLayer):
    """Sharpens or blurs each image by a random amount in training: blends it with a smoothed
    copy (3x3 kernel, centre 5/13, neighbours 1/13, zero padding), x + (1 - 2f) (smooth - x).

    Args:
        factor: f = 0 gives the smoothed image, 0.5 the image, 1 twice the sharpening; a
            number f in [0, 1] draws from [0, f], a pair from its range.
        value_range: (low, high), the range of the pixel values; the result is clipped to it.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.rand(2, 5, 5, 3) * 255
    >>> torch.allclose(RandomSharpness((0.5, 0.5))(x, training=True), x)
    True
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, seed, data_format, **kwargs)
        self.factor = factor
        self._range = parse_factor(self._describe(), "factor", factor, (0, 1))

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n = images.shape[0]
        factor = uniform((n, 1, 1, 1), *self._range, generator, images) * 2.0
        kernel = torch.full((3, 3), 1.0 / 13.0, dtype=images.dtype, device=images.device)
        kernel[1, 1] = 5.0 / 13.0
        smooth = _depthwise(images, kernel.expand(n, 3, 3))
        return (images + (1.0 - factor) * (smooth - images)).clamp(*self._values)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = as_config(self._range)
        return config


def _kernel_sides(owner: str, kernel_size: Any) -> tuple[int, int]:
    sides = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    if len(sides) != 2 or not all(
        isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 == 1 for k in sides
    ):
        raise ValueError(
            f"{owner}: kernel_size must be an odd positive int or a pair of them (height, "
            f"width); got kernel_size={kernel_size!r}"
        )
    return sides[0], sides[1]


def gaussian_kernels(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """(N, size) normalised 1-D Gaussian kernels, one per sigma in the (N,) `sigma`."""
    offsets = torch.arange(size, dtype=sigma.dtype, device=sigma.device) - (size - 1) / 2
    kernels = torch.exp(-0.5 * (offsets / sigma[:, None]) ** 2)
    return kernels / kernels.sum(1, keepdim=True)


class RandomGaussianBlur(_ToneLayer):
    """Blurs some images with a Gaussian kernel in training (zero padding at the borders, as
    Keras), with a vertical and a horizontal sigma drawn once per batch (as Keras); the result
    is clipped.

    Args:
        factor: a number f in [0, 1] draws each image's blur probability from [0, f] (the
            default 1.0 blurs about half of the images, as Keras); a pair (p, p) blurs with
            probability p.
        kernel_size: the kernel's side, an odd int, or a pair (height, width).
        sigma: a number s in [0, 1] draws the sigmas from [0, s], a pair from its range (1e-6
            is added, as Keras, so that 0 is allowed).
        value_range: (low, high), the range of the pixel values.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.zeros(1, 3, 3, 1)
    >>> x[0, 1, 1] = 255.0
    >>> y = RandomGaussianBlur((1.0, 1.0), sigma=(1.0, 1.0))(x, training=True)
    >>> round(float(y.sum()), 3), round(float(y[0, 1, 1, 0]), 2)
    (255.0, 52.07)
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor kernel_size sigma value_range seed"

    sorts_value_range = False  # Keras' RandomGaussianBlur keeps value_range as given

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        kernel_size: int | tuple[int, int] = 3,
        sigma: float | tuple[float, float] = 1.0,
        value_range: tuple[float, float] = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, seed, data_format, **kwargs)
        owner = self._describe()
        self.factor = factor
        self.kernel_size = kernel_size
        self.sigma = sigma
        self._range = parse_factor(owner, "factor", factor, (0, 1))
        self._sides = _kernel_sides(owner, kernel_size)
        self._sigma = parse_factor(owner, "sigma", sigma, (0, 1))

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n = images.shape[0]
        probability = uniform((n, 1, 1, 1), *self._range, generator, images)
        apply = uniform((n, 1, 1, 1), 0.0, 1.0, generator, images) < probability
        sigma = uniform((2, 1), *self._sigma, generator, images) + 1e-6  # one pair per batch
        rows = gaussian_kernels(self._sides[0], sigma[0])
        cols = gaussian_kernels(self._sides[1], sigma[1])
        kernel = rows[:, :, None] * cols[:, None, :]
        blurred = _depthwise(images, kernel.expand(n, *kernel.shape[1:]))
        return torch.where(apply, blurred, images).clamp(*self._values)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            factor=as_config(self._range),
            kernel_size=as_config(self._sides),
            sigma=as_config(self._sigma),
        )
        return config


class RandomPosterization(_ToneLayer):
    """Keeps only the `bits` highest bits of each 8-bit channel value in training, bits drawn
    per image (values mapped from `value_range` to [0, 255] and floored first).

    Args:
        factor: the number of bits to keep, an int in [1, 8]: a number b is the pair (1, b); a
            pair (lower, upper) draws it uniformly from lower .. upper - 1 (as Keras 3.15, the
            upper end is left out), or keeps `lower` bits when lower == upper.
        value_range: (low, high), the range of the pixel values.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.tensor([[[[7.0, 100.0, 255.0]]]])
    >>> RandomPosterization((2, 2))(x, training=True).flatten().tolist()
    [0.0, 64.0, 192.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    def __init__(
        self,
        factor: int | tuple[int, int],
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, seed, data_format, **kwargs)
        pair = factor if isinstance(factor, (tuple, list)) else (1, factor)
        if not (
            len(pair) == 2
            and all(isinstance(b, int) and not isinstance(b, bool) and 1 <= b <= 8 for b in pair)
        ):
            raise ValueError(
                f"{self._describe()}: factor must be a number of bits in [1, 8] or a pair of "
                f"them; got factor={factor!r}"
            )
        self.factor = factor
        self._bits = (min(pair), max(pair))

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        low, high = self._bits
        bits = torch.randint(
            low,
            max(high, low + 1),
            (images.shape[0], 1, 1, 1),
            generator=generator,
            device=images.device,
        )
        step = (2.0 ** (8 - bits)).to(images.dtype)
        levels = _to_255(images, self._values).clamp(0.0, 255.0).floor()
        return _from_255(torch.floor(levels / step) * step, self._values)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = as_config(self._bits)
        return config


def _unit_pair(owner: str, name: str, factor: Any) -> tuple[Any, Any]:
    """A number f in [0, 1] gives (0, f); a pair in [0, 1] is sorted (Keras' Solarization)."""
    return parse_strict_factor(owner, name, factor, (0, 1), signed=False)


def solarize(
    images: torch.Tensor,
    addition: torch.Tensor,
    threshold: torch.Tensor,
    values: tuple[float, float],
) -> torch.Tensor:
    """Keras' Solarization transform: on the 0..255 scale, add `addition`, clip, and invert the
    levels at or above `threshold` (both broadcast against the (N, C, H, W) images)."""
    shifted = (_to_255(images, values) + addition).clamp(0.0, 255.0)
    return _from_255(torch.where(shifted < threshold, shifted, 255.0 - shifted), values)


class Solarization(_ToneLayer):
    """Solarizes images in training: adds a random brightness a, then inverts the values at or
    above a random threshold t (on the 0..255 scale: v -> 255 - v where v >= t).

    Args:
        addition_factor: a number f in [0, 1] draws a from [0, f * 255], a pair (lower, upper)
            from [lower, upper * 255] (as Keras 3.15, which scales only the upper end by 255).
        threshold_factor: t's range, the same way.
        value_range: (low, high), the range of the pixel values.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first' (Solarization works pixel
            by pixel, so it only affects the checks).

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.tensor([[[[0.0, 100.0, 200.0]]]])
    >>> Solarization(threshold_factor=(0, 0))(x, training=True).flatten().tolist()
    [255.0, 155.0, 55.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format value_range addition_factor threshold_factor seed"

    def __init__(
        self,
        addition_factor: float | tuple[float, float] = 0.0,
        threshold_factor: float | tuple[float, float] = 0.0,
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, seed, data_format, **kwargs)
        owner = self._describe()
        self.addition_factor = addition_factor
        self.threshold_factor = threshold_factor
        self._addition = _unit_pair(owner, "addition_factor", addition_factor)
        self._threshold = _unit_pair(owner, "threshold_factor", threshold_factor)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        shape = (images.shape[0], 1, 1, 1)
        # Keras draws from [lower, upper * 255]: only the upper end is on the 0..255 scale.
        addition = uniform(shape, self._addition[0], self._addition[1] * 255.0, generator, images)
        threshold = uniform(
            shape, self._threshold[0], self._threshold[1] * 255.0, generator, images
        )
        return solarize(images, addition, threshold, self._values)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            addition_factor=as_config(self._addition),
            threshold_factor=as_config(self._threshold),
        )
        return config


class AutoContrast(_ToneLayer):
    """Stretches each channel of each image to the whole `value_range`: its lowest value goes
    to low, its highest to high. Deterministic and applied in training and inference alike;
    channels with a single value are left as they are.

    Args:
        value_range: (low, high), the range of the pixel values.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> AutoContrast(value_range=(0, 1))(torch.tensor([[[[0.25], [0.5]]]])).flatten().tolist()
    [0.0, 1.0]
    """

    identity_in_inference = False

    def __init__(
        self,
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, None, data_format, **kwargs)

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        lowest = images.amin(dim=(-2, -1), keepdim=True)
        highest = images.amax(dim=(-2, -1), keepdim=True)
        low, high = self._values
        spread = highest - lowest
        scale = (high - low) / torch.where(spread > 0, spread, 1.0)
        stretched = ((images - lowest) * scale + low).clamp(low, high)
        return torch.where(spread > 0, stretched, images)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.inference(images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["seed"]
        return config


class Equalization(_ToneLayer):
    """Histogram equalization of each channel of each image, in training: values (mapped to
    0..255) are replaced by their rank in the image's histogram of `bins` bins, stretched to
    0..255 (Keras' lookup table). Channels with one occupied bin are left as they are.

    Keras 3.15 pools the histogram over the whole batch; here each image has its own, so an
    image's result does not depend on the others (the same for a batch of one).

    Args:
        value_range: (low, high), the range of the pixel values.
        bins: the number of histogram bins (256 for 8-bit images).
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> x = torch.tensor([[[[10.0], [10.0]], [[20.0], [200.0]]]])
    >>> Equalization()(x, training=True).flatten().tolist()
    [0.0, 0.0, 128.0, 255.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format bins value_range"

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    def __init__(
        self,
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        bins: int = 256,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, None, data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(f"{self._describe()}: bins must be an int >= 2; got bins={bins!r}")
        self.bins = bins

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, channels, height, width = images.shape
        levels = _to_255(images, self._values).reshape(n * channels, height * width)
        top = self.bins - 1
        # Keras' two roundings: the histogram truncates level * top / 255 towards zero and
        # clips it, the lookup clips level / 255 * top and truncates it (they can differ by
        # one ulp, so by one bin).
        index = (levels * top / 255.0).trunc().clamp(0, top).long()
        lookup = (levels / 255.0 * top).clamp(0, top).trunc().long()
        histogram = torch.zeros(n * channels, self.bins, dtype=levels.dtype, device=levels.device)
        histogram.scatter_add_(1, index, torch.ones_like(levels))
        cdf = histogram.cumsum(1)
        # The first non-zero entry of the (non-decreasing) cdf: the count of the lowest bin.
        cdf_min = torch.where(cdf > 0, cdf, float("inf")).amin(1, keepdim=True)
        denominator = cdf[:, -1:] - cdf_min
        denominator = torch.where(denominator == 0, 1.0, denominator)
        table = ((cdf - cdf_min) * 255.0 / denominator).round().clamp(0.0, 255.0)
        equalized = _from_255(table.gather(1, lookup), self._values)
        occupied = (histogram > 0).sum(1, keepdim=True)
        out = torch.where(occupied > 1, equalized, images.reshape(n * channels, -1))
        return out.view(n, channels, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["seed"]
        config["bins"] = self.bins
        return config
