"""Geometric augmentation: RandomFlip, RandomTranslation, RandomShift, RandomCrop,
RandomRotation, RandomZoom.

Each acts in training (`fit()`, or a direct call, which defaults to training as in Keras)
and returns its input unchanged in inference (`predict()`, `evaluate()`, `training=False`;
RandomCrop centre-crops instead, to its output size). Every sample gets its own draw; the
whole batch is transformed at once on its device (`F.grid_sample` for rotations, zooms and
translations, index arithmetic for whole-pixel shifts and crops). A `seed` gives the layer
its own generator, so its sequence of draws is reproducible; without one the global torch
generator is used, which `lamina.utils.set_random_seed` seeds.

>>> import torch
>>> layer = RandomFlip("horizontal", seed=0)
>>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
>>> torch.equal(layer(x, training=False), x)   # inference: the identity
True
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._image_utils import (
    FILL_MODES,
    INTERPOLATIONS,
    ImageLayer,
    affine_transform,
    as_config,
    check_choice,
    check_size,
    crop_windows,
    flip_images,
    parse_factor,
    parse_strict_factor,
    smart_resize,
    uniform,
)

__all__ = [
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomShift",
    "RandomTranslation",
    "RandomZoom",
]

_FILL_DOC = """fill_mode: how pixels read from outside the image are filled: 'reflect'
            (d c b a | a b c d | d c b a), 'wrap' (a b c d | a b c d | a b c d), 'constant'
            (k k k k | a b c d | k k k k, k = fill_value) or 'nearest' (a a a a | a b c d)."""


class RandomFlip(ImageLayer):
    """Flips each image left-right and/or upside down, each with probability 1/2, in training.

    With 'horizontal_and_vertical' the two flips are drawn independently, so the four
    orientations are equally likely. (Keras 3.15 draws one coin for both, which only ever
    rotates by 180 degrees.)

    Args:
        mode: 'horizontal', 'vertical' or 'horizontal_and_vertical'.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomFlip(seed=1)(torch.zeros(8, 4, 4, 3), training=True).shape
    torch.Size([8, 4, 4, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format seed mode"

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = check_choice(
            self._describe(), "mode", mode, ("horizontal", "vertical", "horizontal_and_vertical")
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n = images.shape[0]
        axes = {"horizontal": [-1], "vertical": [-2]}.get(self.mode, [-1, -2])
        draws = torch.rand((len(axes), n), generator=generator, device=images.device)
        flips = dict(zip(axes, draws < 0.5, strict=True))
        return flip_images(images, flips.get(-1), flips.get(-2))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(ImageLayer):
    """A random affine resampling: subclasses give the (N, 2, 3) output-to-input matrices."""

    def __init__(
        self,
        fill_mode: str,
        interpolation: str,
        seed: int | None,
        fill_value: float,
        data_format: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = self._describe()
        self.fill_mode = check_choice(owner, "fill_mode", fill_mode, FILL_MODES)
        self.interpolation = check_choice(owner, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        matrix = self.matrices(images, generator)
        return affine_transform(images, matrix, self.interpolation, self.fill_mode, self.fill_value)

    @staticmethod
    def _matrix(a: list[torch.Tensor]) -> torch.Tensor:
        """(N, 2, 3) from the six entries a0 a1 a2 b0 b1 b2, each (N,)."""
        return torch.stack(a, dim=-1).reshape(-1, 2, 3)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            fill_mode=self.fill_mode, interpolation=self.interpolation, fill_value=self.fill_value
        )
        return config


class RandomTranslation(_AffineLayer):
    """Translates each image by a random fraction of its size in training, with interpolation.

    Args:
        height_factor: a fraction of the height, or a (lower, upper) pair, in [-1, 1]: the
            vertical shift is drawn from [-f, f] * height (positive moves content down).
        width_factor: the same for the horizontal shift (positive moves content right).
        {fill}
        interpolation: 'bilinear' or 'nearest'.
        seed: makes the draws reproducible.
        fill_value: the value of 'constant' filling.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomTranslation(0.2, 0.2)(torch.ones(2, 8, 8, 1), training=True).shape
    torch.Size([2, 8, 8, 1])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format height_factor width_factor fill_mode interpolation seed fill_value"

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        owner = self._describe()
        self._height_range = parse_strict_factor(owner, "height_factor", height_factor, (-1, 1))
        self._width_range = parse_strict_factor(owner, "width_factor", width_factor, (-1, 1))

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, _, height, width = images.shape
        dy = uniform((n,), *self._height_range, generator, images) * height
        dx = uniform((n,), *self._width_range, generator, images) * width
        one, zero = torch.ones_like(dx), torch.zeros_like(dx)
        return self._matrix([one, zero, -dx, zero, one, -dy])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            height_factor=as_config(self.height_factor), width_factor=as_config(self.width_factor)
        )
        return config


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


class RandomCrop(ImageLayer):
    """Crops a random (height, width) window of each image in training.

    In inference, and in training when an image is smaller than the window, the image is
    instead centre-cropped to the window's aspect ratio and resized to (height, width), as
    Keras documents it (an image of the window's size comes back unchanged). Unlike Keras, which
    crops the whole batch at one place, each sample gets its own window.

    Args:
        height: the output height.
        width: the output width.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.
        padding: lamina's addition: zero-pad each side by this many pixels (an int, or a
            (vertical, horizontal) pair) before the random crop in training, so
            `RandomCrop(32, 32, padding=4)` is the classic CIFAR augmentation. Inference
            ignores it.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        (batch, height, width, channels) at the window's size.

    >>> import torch
    >>> layer = RandomCrop(32, 32, padding=4, seed=0)
    >>> layer(torch.ones(2, 32, 32, 3), training=True).shape
    torch.Size([2, 32, 32, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format height width seed"

    identity_in_inference = False
    casts_int_images = False  # as Keras: inference keeps integer images' dtype, training casts

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        name: str | None = None,
        padding: int | tuple[int, int] = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = check_size(self._describe(), "height", height)
        self.width = check_size(self._describe(), "width", width)
        pads = tuple(padding) if isinstance(padding, (tuple, list)) else (padding, padding)
        if len(pads) != 2 or not all(
            isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in pads
        ):
            raise ValueError(
                f"{self._describe()}: padding must be a non-negative int or a pair of them; "
                f"got padding={padding!r}"
            )
        self.padding = padding
        self._pads = pads

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        return smart_resize(images, self.height, self.width)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        images = images.to(self._compute_dtype)
        n, _, height, width = images.shape
        pad_h, pad_w = self._pads
        room_h = height + 2 * pad_h - self.height
        room_w = width + 2 * pad_w - self.width
        if room_h < 0 or room_w < 0:
            return self.inference(images)
        device = images.device
        top = torch.randint(0, room_h + 1, (n,), generator=generator, device=device)
        left = torch.randint(0, room_w + 1, (n,), generator=generator, device=device)
        return crop_windows(images, top, left, self.height, self.width, pad_h, pad_w)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        if self.padding not in (0, (0, 0), [0, 0]):  # lamina's addition: only when used
            config["padding"] = as_config(self.padding)
        return config


class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by a random angle in training.

    Args:
        factor: a fraction of a full turn, or a (lower, upper) pair, in [-1, 1]: the angle is
            drawn from [-factor, factor] * 2 pi (positive turns counter-clockwise).
        {fill}
        interpolation: 'bilinear' or 'nearest'.
        seed: makes the draws reproducible.
        fill_value: the value of 'constant' filling.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomRotation(0.1, fill_mode="constant")(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor fill_mode fill_value interpolation seed"

    def __init__(
        self,
        factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        # Keras' base layer reads the factor as `factor or 0.0`.
        self._range = parse_factor(self._describe(), "factor", factor or 0.0)

    def angles(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """One angle per sample, in radians."""
        lower, upper = self._range
        return uniform((images.shape[0],), lower, upper, generator, images) * (2 * math.pi)

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        height, width = images.shape[-2:]
        angle = self.angles(images, generator)
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = (width - 1) / 2, (height - 1) / 2
        return self._matrix(
            [cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos]
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = as_config(self._range)
        return config


class RandomZoom(_AffineLayer):
    """Zooms each image in or out about its centre by a random factor in training.

    Args:
        height_factor: a fraction, or a (lower, upper) pair, in (-1, 1]: the vertical scale of
            the sampling grid is 1 + a draw from [-f, f]; positive values zoom out (the content
            shrinks), negative ones zoom in.
        width_factor: the same horizontally; None (default) zooms both axes by the same draw,
            keeping the aspect ratio.
        {fill}
        interpolation: 'bilinear' or 'nearest'.
        seed: makes the draws reproducible.
        fill_value: the value of 'constant' filling.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomZoom(0.2)(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format height_factor width_factor fill_mode interpolation seed fill_value"

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float] | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        owner = self._describe()
        self.height_factor = height_factor
        self.width_factor = width_factor
        # As Keras, every number given must be in (-1, 1]; a number f gives (-|f|, |f|).
        self._height_range = parse_strict_factor(
            owner, "height_factor", height_factor, (-1, 1), open_below=True
        )
        self._width_range = (
            None
            if width_factor is None
            else parse_strict_factor(owner, "width_factor", width_factor, (-1, 1), open_below=True)
        )

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, _, height, width = images.shape
        zoom_y = 1.0 + uniform((n,), *self._height_range, generator, images)
        zoom_x = (
            zoom_y
            if self._width_range is None
            else 1.0 + uniform((n,), *self._width_range, generator, images)
        )
        zero = torch.zeros_like(zoom_x)
        offset_x = (width - 1) / 2 * (1.0 - zoom_x)
        offset_y = (height - 1) / 2 * (1.0 - zoom_y)
        return self._matrix([zoom_x, zero, offset_x, zero, zoom_y, offset_y])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            height_factor=as_config(self.height_factor), width_factor=as_config(self.width_factor)
        )
        return config


for _cls in (RandomTranslation, RandomShift, RandomRotation, RandomZoom):
    _cls.__doc__ = _cls.__doc__.replace("{fill}", _FILL_DOC)
