"""Geometric augmentation: RandomFlip, RandomTranslation, RandomCrop, RandomRotation,
RandomZoom, in training (a direct call defaults to it, as Keras); inference returns the input
(RandomCrop centre-crops); RandomShift is in augmentation_warps. Each sample gets its own
draw, from the layer's generator (with a `seed`) or the global one. Dicts: `_image_dicts`.

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

from ._image_dicts import affine_boxes, crop_resize_boxes, flip_boxes
from ._image_utils import (
    FILL_MODES,
    INTERPOLATIONS,
    ImageLayer,
    affine_transform,
    as_config,
    aspect_crop_box,
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
    geometric = transforms_boxes = masks_to_compute_dtype = True

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

    def flips(self, images: torch.Tensor, generator: torch.Generator | None) -> tuple:
        """(horizontal, vertical): (N,) bool draws, or None for an axis never flipped."""
        axes = {"horizontal": [-1], "vertical": [-2]}.get(self.mode, [-1, -2])
        draws = torch.rand((len(axes), images.shape[0]), generator=generator, device=images.device)
        flips = dict(zip(axes, draws < 0.5, strict=True))
        return flips.get(-1), flips.get(-2)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return flip_images(images, *self.flips(images, generator))

    def augment_boxes(self, boxes: Any, images: Any, generator: Any) -> torch.Tensor:
        return flip_boxes(boxes, *self.flips(images, generator), *images.shape[-2:])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(ImageLayer):
    """A random affine resampling: subclasses give the (N, 2, 3) output-to-input matrices."""

    geometric = True

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

    def augment_boxes(self, boxes: Any, images: Any, generator: Any) -> torch.Tensor:
        return affine_boxes(boxes, self.matrices(images, generator))

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
    transforms_boxes = True

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
    geometric = transforms_boxes = masks_to_compute_dtype = True

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

    def inference_boxes(self, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
        if (height, width) == (self.height, self.width):
            return boxes
        top, left, crop_h, crop_w = aspect_crop_box(height, width, self.height, self.width)
        return crop_resize_boxes(boxes, top, left, self.height / crop_h, self.width / crop_w)

    def windows(self, images: torch.Tensor, generator: torch.Generator | None) -> Any:
        """(top, left) (N,) of the windows in the padded images; None where they don't fit."""
        n, _, height, width = images.shape
        room_h = height + 2 * self._pads[0] - self.height
        room_w = width + 2 * self._pads[1] - self.width
        if room_h < 0 or room_w < 0:
            return None
        device = images.device
        top = torch.randint(0, room_h + 1, (n,), generator=generator, device=device)
        return top, torch.randint(0, room_w + 1, (n,), generator=generator, device=device)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        images = images.to(self._compute_dtype)
        windows = self.windows(images, generator)
        if windows is None:
            return self.inference(images)
        return crop_windows(images, *windows, self.height, self.width, *self._pads)

    def augment_boxes(self, boxes: Any, images: Any, generator: Any) -> torch.Tensor:
        windows = self.windows(images, generator)
        if windows is None:
            return self.inference_boxes(boxes, *images.shape[-2:])
        return crop_resize_boxes(boxes, windows[0] - self._pads[0], windows[1] - self._pads[1])

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
    transforms_boxes = True

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


for _cls in (RandomTranslation, RandomRotation, RandomZoom):
    _cls.__doc__ = _cls.__doc__.replace("{fill}", _FILL_DOC)
