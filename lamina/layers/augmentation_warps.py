"""Warping augmentation: RandomShift, RandomShear, RandomPerspective, RandomElasticTransform.

Each acts in training (`fit()`, or a direct call, which defaults to training as in Keras)
and returns its input unchanged in inference (`predict()`, `evaluate()`, `training=False`).
Every sample gets its own draw, made on the batch's device; a `seed` gives the layer its own
generator, so its draws are reproducible. Each layer splits its work into `draw(images,
generator)`, the random parameters, and a deterministic warp of them that gives Keras' numbers.

>>> import torch
>>> layer = RandomShear(x_factor=0.3, seed=0)
>>> x = torch.rand(2, 8, 8, 3)
>>> torch.equal(layer(x, training=False), x)   # inference: the identity
True
"""

from __future__ import annotations

from typing import Any

import torch

from ..ops._image_extra import FILL_MODES as OPS_FILL_MODES
from ..ops._image_extra import perspective_transform
from ..ops._image_warps import elastic_displacements, elastic_kernel_size, elastic_resample
from ._image_utils import (
    FILL_MODES,
    INTERPOLATIONS,
    ImageLayer,
    as_config,
    check_choice,
    crop_windows,
    parse_factor,
    parse_strict_factor,
    uniform,
)
from .augmentation import _value_range
from .augmentation_geometric import _FILL_DOC, _AffineLayer

__all__ = ["RandomElasticTransform", "RandomPerspective", "RandomShear", "RandomShift"]


class RandomShift(ImageLayer):
    """Shifts each image by whole pixels in training: dx, dy drawn uniformly from the integers
    in [-max_shift, max_shift], content moved exactly, no interpolation (lamina's own layer).

    The "random shifts by up to 2 px" of the ConvNetJS CIFAR-10 demo: cheap translation
    invariance that keeps every pixel value intact.

    Args:
        max_shift: the largest shift in pixels, on each axis (>= 0).
        {fill}
        fill_value: the value of 'constant' filling.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> y = RandomShift(max_shift=1, seed=0)(torch.ones(4, 5, 5, 1), training=True)
    >>> sorted(set(y.flatten().tolist()))   # shifted ones, zeros filled in
    [0.0, 1.0]
    """

    geometric = True

    def __init__(
        self,
        max_shift: int = 2,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(
                f"{self._describe()}: max_shift must be a non-negative int; "
                f"got max_shift={max_shift!r}"
            )
        self.max_shift = max_shift
        self.fill_mode = check_choice(self._describe(), "fill_mode", fill_mode, FILL_MODES)
        self.fill_value = float(fill_value)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, _, height, width = images.shape
        m = self.max_shift
        shifts = torch.randint(-m, m + 1, (2, n), generator=generator, device=images.device)
        # Pixel i of the output reads pixel i - dy of the image, i - dy + m of it padded by m.
        return crop_windows(
            images,
            m - shifts[0],
            m - shifts[1],
            height,
            width,
            m,
            m,
            self.fill_mode,
            self.fill_value,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            max_shift=self.max_shift, fill_mode=self.fill_mode, fill_value=self.fill_value
        )
        return config


class RandomShear(_AffineLayer):
    """Shears each image by random factors in training: output pixel (x, y) reads the input at
    (x + sx * y, y + sy * x), so the top-left corner stays in place (as Keras).

    Args:
        x_factor: a number f in [0, 1] draws sx from [-f, f], a pair (lower, upper) in [0, 1]
            draws |sx| from that range; 0.3 shifts the bottom row by up to 30% of the height,
            sideways.
        y_factor: the same for sy (the right column moves up to y_factor * width, vertically).
        interpolation: 'bilinear' or 'nearest'.
        {fill}
        fill_value: the value of 'constant' filling.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Each image's (sx, sy) is multiplied by one random sign, as Keras does.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = RandomShear(x_factor=(0.5, 0.5), fill_mode="constant", seed=0)
    >>> layer(torch.ones(2, 4, 4, 1), training=True)[0, 3, :, 0].tolist()
    [1.0, 1.0, 0.5, 0.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format x_factor y_factor fill_mode interpolation seed fill_value"

    def __init__(
        self,
        x_factor: float | tuple[float, float] = 0.0,
        y_factor: float | tuple[float, float] = 0.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = x_factor
        self.y_factor = y_factor
        self._x_range = parse_strict_factor(self._describe(), "x_factor", x_factor, (0, 1))
        self._y_range = parse_strict_factor(self._describe(), "y_factor", y_factor, (0, 1))

    def draw(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """(N, 2) shear factors (sx, sy), one random sign per image."""
        n = images.shape[0]
        sign = torch.where(uniform((n, 1), 0.0, 1.0, generator, images) > 0.5, -1.0, 1.0)
        shear_y = uniform((n,), *self._y_range, generator, images)
        shear_x = uniform((n,), *self._x_range, generator, images)
        return torch.stack([shear_x, shear_y], 1) * sign

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        shears = self.draw(images, generator)
        one, zero = torch.ones_like(shears[:, 0]), torch.zeros_like(shears[:, 0])
        return self._matrix([one, shears[:, 0], zero, shears[:, 1], one, zero])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(x_factor=as_config(self._x_range), y_factor=as_config(self._y_range))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RandomShear:
        """The layer of a config. A number f's (-f, f), which Keras 3.15's config holds but
        its own from_config refuses (a negative factor), is read back as f."""
        config = dict(config)
        for key in ("x_factor", "y_factor"):
            value = config.get(key)
            if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == -value[1]:
                config[key] = value[1]
        return super().from_config(config)


class RandomPerspective(ImageLayer):
    """Warps some images in training by a random perspective: the image's corners move to
    random points and the pixels follow the homography between the two quadrilaterals; pixels
    read from outside get `fill_value`.

    As Keras, each corner c (in pixels, (0, 0) top left) moves to c * (1 + u) with u drawn from
    [-scale / 2, scale / 2] per coordinate, so the top-left corner stays in place and the
    others move in proportion to their distance from it.

    Args:
        factor: a number f in [0, 1] draws each image's probability of being warped from
            [0, f]; a pair (p, p) warps with probability p (1.0: always).
        scale: in [0, 1], how far the corners move (0: not at all).
        interpolation: 'bilinear' or 'nearest'.
        fill_value: the value of pixels read from outside the image.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomPerspective(factor=(1.0, 1.0), scale=0.5)(torch.ones(2, 8, 8, 3)).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor scale interpolation fill_value seed"
    geometric = True

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        scale: float = 1.0,
        interpolation: str = "bilinear",
        fill_value: float = 0.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = self._describe()
        self.factor = factor
        self._range = parse_factor(owner, "factor", factor, (0, 1))
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError(f"{owner}: scale must be a number in [0, 1]; got scale={scale!r}")
        self.scale = scale
        self.interpolation = check_choice(owner, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def draw(
        self, images: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(which images to warp (N,), corner moves u (N, 4, 2) as fractions of the corners)."""
        n = images.shape[0]
        probability = uniform((n,), *self._range, generator, images)
        apply = uniform((n,), 0.0, 1.0, generator, images) < probability
        moves = uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale, generator, images)
        return apply, moves

    def warp(self, images: torch.Tensor, apply: torch.Tensor, moves: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) images with corners c moved to c * (1 + moves) where `apply`."""
        n, _, height, width = images.shape
        if height < 2 or width < 2:
            raise ValueError(
                f"{self._describe()} needs images of at least 2 x 2 pixels (four distinct "
                f"corners); got height {height}, width {width}"
            )
        corners = torch.tensor(
            [[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]],
            dtype=images.dtype,
            device=images.device,
        ).expand(n, 4, 2)
        targets = corners + corners * moves.to(images.dtype)
        out = perspective_transform(
            images,
            corners,
            targets,
            self.interpolation,
            self.fill_value,
            data_format="channels_first",
        )
        return torch.where(apply.view(n, 1, 1, 1), out, images)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.warp(images, *self.draw(images, generator))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            factor=as_config(self._range),
            scale=self.scale,
            interpolation=self.interpolation,
            fill_value=self.fill_value,
        )
        return config


class RandomElasticTransform(ImageLayer):
    """Deforms some images elastically in training (Simard et al., 2003): every pixel reads the
    image at a smooth random displacement, then the batch is clipped to `value_range`.

    The distortion d, drawn from `scale` once per batch (as Keras), gives alpha =
    0.1 d max(H, W) and sigma = 0.05 d min(H, W): each image's own unit normal noise per pixel,
    times sigma, smoothed by a Gaussian of sigma, times alpha (see
    `lamina.ops.image.elastic_transform`).

    Args:
        factor: a number f in [0, 1] draws each image's probability of being deformed from
            [0, f]; a pair (p, p) deforms with probability p (1.0: always).
        scale: a number s in [0, 1] draws d from [0, s], a pair from its range.
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: how reads outside the image are filled: 'reflect' (d c b a | a b c d),
            'mirror' (c b | a b c d), 'wrap', 'nearest' or 'constant' (`fill_value`).
        fill_value: the value of 'constant' filling.
        value_range: (low, high), the range of the pixel values; the output is clipped to it.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = RandomElasticTransform(value_range=(0, 1), seed=0)
    >>> y = layer(torch.rand(2, 16, 16, 3), training=True)
    >>> y.shape, bool(((y >= 0) & (y <= 1)).all())
    (torch.Size([2, 16, 16, 3]), True)
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor scale interpolation fill_mode fill_value value_range seed"
    geometric = True

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        scale: float | tuple[float, float] = 1.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = self._describe()
        self.factor = factor
        self.scale = scale
        self._range = parse_factor(owner, "factor", factor, (0, 1))
        self._scale = parse_factor(owner, "scale", scale, (0, 1))
        self.interpolation = check_choice(owner, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode = check_choice(owner, "fill_mode", fill_mode, OPS_FILL_MODES)
        self.fill_value = float(fill_value)
        self.value_range = value_range
        self._values = _value_range(owner, value_range)

    def draw(
        self, images: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(which images to deform (N,), distortions d (N,), unit normal noise (N, 2, H, W)); d is
        drawn once for the batch, as Keras."""
        n, _, height, width = images.shape
        probability = uniform((n,), *self._range, generator, images)
        apply = uniform((n,), 0.0, 1.0, generator, images) < probability
        distortion = uniform((1,), *self._scale, generator, images).expand(n)
        noise = torch.randn(
            (n, 2, height, width), generator=generator, dtype=images.dtype, device=images.device
        )
        return apply, distortion, noise

    def warp(
        self,
        images: torch.Tensor,
        apply: torch.Tensor,
        distortion: torch.Tensor,
        noise: torch.Tensor,
    ) -> torch.Tensor:
        """(N, C, H, W) images deformed where `apply`, by `noise` at strength `distortion`."""
        n, _, height, width = images.shape
        distortion = distortion.to(torch.float32)
        alpha = max(height, width) * (0.1 * distortion)
        sigma = min(height, width) * (0.05 * distortion)
        # The widest kernel any draw can need; + 2 covers a draw rounded up to scale's top.
        kernel_size = elastic_kernel_size(min(height, width) * 0.05 * self._scale[1]) + 2
        dx, dy = elastic_displacements(noise.to(images.dtype), alpha, sigma, kernel_size)
        nhwc = images.permute(0, 2, 3, 1)
        out = elastic_resample(nhwc, dx, dy, self.interpolation, self.fill_mode, self.fill_value)
        out = torch.where(apply.view(n, 1, 1, 1), out.permute(0, 3, 1, 2), images)
        return out.clamp(*self._values)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self._range[1] == 0 or self._scale[1] == 0:
            return images  # nothing can move (Keras skips the clipping too)
        return self.warp(images, *self.draw(images, generator))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            factor=as_config(self._range),
            scale=as_config(self._scale),
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            value_range=as_config(self.value_range),
        )
        return config


RandomShear.__doc__ = RandomShear.__doc__.replace("{fill}", _FILL_DOC)
RandomShift.__doc__ = RandomShift.__doc__.replace("{fill}", _FILL_DOC)
