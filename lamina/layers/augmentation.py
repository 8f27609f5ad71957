"""Value augmentation: RandomContrast, RandomBrightness, RandomErasing; batch mixing: MixUp,
CutMix. The geometric layers (RandomFlip, RandomCrop, ...) are in `augmentation_geometric.py`.

Each acts in training (`fit()`, or a direct call, which defaults to training as in Keras)
and returns its input unchanged in inference (`predict()`, `evaluate()`, `training=False`).
Every sample gets its own draw, made on the batch's device; a `seed` gives the layer its own
generator, so its draws are reproducible.

MixUp and CutMix mix each sample with another one of the batch, so they also mix the labels:
call them on `{"images": x, "labels": y}` (or on an `(x, y)` tuple) with one-hot `y`, as a
step of the input pipeline, e.g. in a DataLoader's `collate_fn` or a generator given to
`fit()`. Inside a model they only see the images and leave the labels unmixed.

>>> import torch
>>> layer = RandomBrightness(0.2, seed=0)
>>> x = torch.full((2, 4, 4, 3), 100.0)
>>> torch.equal(layer(x, training=False), x)   # inference: the identity
True
"""

from __future__ import annotations

from typing import Any

import torch

from ._image_dicts import _check as _check_dict
from ._image_dicts import _masks_in, _masks_out, replay
from ._image_utils import (
    ImageLayer,
    as_config,
    is_number,
    parse_factor,
    sample_beta,
    uniform,
)

__all__ = ["CutMix", "MixUp", "RandomBrightness", "RandomContrast", "RandomErasing"]


def _value_range(owner: str, value_range: Any) -> tuple[float, float]:
    if (
        not isinstance(value_range, (tuple, list))
        or len(value_range) != 2
        or not all(is_number(v) for v in value_range)
    ):
        raise ValueError(
            f"{owner}: value_range must be a pair of numbers (low, high), e.g. (0, 255) or "
            f"(0, 1); got value_range={value_range!r}"
        )
    low, high = sorted(float(v) for v in value_range)
    return low, high


class RandomBrightness(ImageLayer):
    """Adds a random brightness delta to each image in training, then clips to `value_range`.

    Args:
        factor: a fraction of the value range, or a (lower, upper) pair, in [-1, 1]: the delta
            is drawn from [-factor, factor] * (high - low), one per image.
        value_range: (low, high), the range of the pixel values, e.g. (0, 255) or (0, 1).
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input; integer images keep their dtype (as Keras, the truncated delta is
        added in that dtype, so uint8 sums wrap around before the clip).

    >>> import torch
    >>> y = RandomBrightness((0.5, 0.5), value_range=(0, 1))(torch.zeros(1, 2, 2, 1), training=True)
    >>> y.flatten().tolist()
    [0.5, 0.5, 0.5, 0.5]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    keeps_int_in_inference = True  # as Keras: integer images stay integer
    casts_int_images = False  # as Keras: training adds to integer images in their own dtype

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: Any = [0, 255],  # noqa: B006 (a list, as Keras' default)
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        # Keras' base layer reads the factor as `factor or 0.0`, and keeps value_range sorted.
        self._range = parse_factor(self._describe(), "factor", factor or 0.0)
        self._values = _value_range(self._describe(), value_range)
        self.value_range = sorted(value_range)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        low, high = self._values
        delta = uniform((images.shape[0], 1, 1, 1), *self._range, generator, images)
        if images.is_floating_point():
            return (images + delta * (high - low)).clamp(low, high)
        # As Keras: the delta is cast (truncated) to the images' integer dtype and added in it,
        # so uint8 sums wrap around, then clipped to value_range's numbers as tensors (a float
        # bound makes the result float32).
        images = images + (delta * (high - low)).to(images.dtype)
        low_t, high_t = (torch.as_tensor(v, device=images.device) for v in self.value_range)
        return torch.clip(images, min=low_t, max=high_t)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(factor=as_config(self._range), value_range=as_config(self.value_range))
        return config


class RandomContrast(ImageLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in training:
    `(x - mean) * c + mean`, clipped to `value_range`.

    Args:
        factor: a pair (lower, upper) in [0, 1] draws c from [1 - lower, 1 + upper]; a number
            f in [0, 1] is the pair (0, f), so c is drawn from [1, 1 + f] (as Keras 3.15's
            code: a single number never lowers the contrast).
        value_range: (low, high), the range of the pixel values.
        seed: makes the draws reproducible.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandomContrast(0.5)(torch.rand(2, 4, 4, 3) * 255, training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor value_range seed"

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self.value_range = value_range
        self._range = parse_factor(self._describe(), "factor", factor, (0, 1))
        self._values = _value_range(self._describe(), value_range)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        lower, upper = self._range
        contrast = uniform((images.shape[0], 1, 1, 1), 1 - lower, 1 + upper, generator, images)
        mean = images.mean(dim=(-2, -1), keepdim=True)
        return ((images - mean) * contrast + mean).clamp(*self._values)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(factor=as_config(self._range), value_range=as_config(self.value_range))
        return config


def _boxes(
    n: int,
    height: int,
    width: int,
    side_fractions: tuple[torch.Tensor, torch.Tensor],
    generator: torch.Generator | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """(N, 1, H, W) masks of one random box per image, of sides fraction * size (as Keras)."""
    masks = []
    for fraction, size in zip(side_fractions, (height, width), strict=True):
        length = fraction * size
        start = uniform((n,), 0.0, 1.0, generator, like) * (size - length)
        grid = torch.arange(size, device=like.device, dtype=length.dtype)
        masks.append((grid >= start[:, None]) & (grid < (start + length)[:, None]))
    return (masks[0][:, :, None] & masks[1][:, None, :]).unsqueeze(1)


class RandomErasing(ImageLayer):
    """Erases a random box of some images in training (cutout / random erasing).

    Each image is erased with a probability drawn from `factor`; the box's sides are
    sqrt(u) * height and sqrt(v) * width with u, v drawn from `scale`, as Keras 3.15.

    Args:
        factor: a number f draws each image's erasing probability from [0, f] (so f=1.0 erases
            about half of the images, as Keras 3.15); a pair (p, p) erases with probability p.
        scale: (low, high) in [0, 1]: the range of u and v above.
        fill_value: the box's value: a number, one number per channel, or None (default) for
            Gaussian noise scaled by value_range's high end, clipped to value_range.
        value_range: (low, high), the range of the pixel values.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = RandomErasing(factor=(1.0, 1.0), fill_value=0.0, seed=0)
    >>> bool((layer(torch.ones(4, 8, 8, 3), training=True) == 0).any())
    True
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor scale fill_value value_range seed"

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        scale: tuple[float, float] = (0.02, 0.33),
        fill_value: float | list[float] | None = None,
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
        if not (
            fill_value is None
            or is_number(fill_value)
            or (isinstance(fill_value, (tuple, list)) and all(is_number(v) for v in fill_value))
        ):
            raise ValueError(
                f"{owner}: fill_value must be a number, a list of one number per channel or "
                f"None; got fill_value={fill_value!r}"
            )
        self.fill_value = fill_value
        self.value_range = value_range
        self._values = _value_range(owner, value_range)

    def _fill(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        low, high = self._values
        if self.fill_value is None:
            noise = torch.randn(
                images.shape, generator=generator, device=images.device, dtype=images.dtype
            )
            return (noise * high).clamp(low, high)
        fill = torch.as_tensor(self.fill_value, dtype=images.dtype, device=images.device)
        if fill.ndim and fill.numel() != images.shape[1]:
            raise ValueError(
                f"{self._describe()}: fill_value has {fill.numel()} values but the images have "
                f"{images.shape[1]} channels"
            )
        return fill.reshape(-1, 1, 1).clamp(low, high).expand_as(images)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, _, height, width = images.shape
        sides = uniform((2, n), *self._scale, generator, images).sqrt()
        box = _boxes(n, height, width, (sides[1], sides[0]), generator, images)
        probability = uniform((n,), *self._range, generator, images)
        apply = uniform((n,), 0.0, 1.0, generator, images) < probability
        return torch.where(box & apply[:, None, None, None], self._fill(images, generator), images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            factor=as_config(self._range),
            scale=as_config(self._scale),
            fill_value=as_config(self.fill_value),
            value_range=as_config(self.value_range),
        )
        return config


class _MixingLayer(ImageLayer):
    """Mixes each sample with another of the batch; accepts images, {'images', 'labels'} or
    (images, labels), and mixes the labels with the images' weights."""

    def mix(
        self, images: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mixed images, permutation, weight of each sample's own label)."""
        raise NotImplementedError

    geometric = masks_to_compute_dtype = True  # masks are mixed; boxes are not supported

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        masks = None
        if isinstance(inputs, dict):
            _check_dict(self, inputs)
            images, labels = inputs["images"], inputs.get("labels")
            masks = inputs.get("segmentation_masks")
        elif isinstance(inputs, (tuple, list)):
            if len(inputs) != 2:
                raise ValueError(
                    f"{self._describe()} expects images, (images, labels) or a dict; got a "
                    f"sequence of {len(inputs)} items"
                )
            images, labels = inputs
        else:
            images, labels = inputs, None
        if training:
            nchw, unbatched = self._to_nchw(images)
            if not unbatched and nchw.shape[0] > 1:
                generator = self._generator(nchw.device)
                work = None if masks is None else _masks_in(self, masks, False, nchw.dtype)
                (mixed, permutation, weight), mixed_masks = replay(
                    generator,
                    nchw.device,
                    lambda: self.mix(nchw, generator),
                    None if work is None else lambda: self.mix(work, generator)[0],
                )
                images = self._from_nchw(mixed, unbatched)
                if masks is not None:
                    masks = _masks_out(self, mixed_masks, False, torch.float32)
                if labels is not None:
                    labels = self._mix_labels(labels, permutation, weight)
        elif not (images.is_floating_point() or self.keeps_int_in_inference):
            images = images.to(self._compute_dtype)  # Keras' CutMix casts in inference too
        if isinstance(inputs, dict):
            out = {**inputs, "images": images, **({} if labels is None else {"labels": labels})}
            return out if masks is None else {**out, "segmentation_masks": masks}
        if isinstance(inputs, (tuple, list)):
            return type(inputs)((images, labels))
        return images

    def _mix_labels(
        self, labels: torch.Tensor, permutation: torch.Tensor, weight: torch.Tensor
    ) -> torch.Tensor:
        if not labels.is_floating_point() or labels.ndim < 2:
            raise TypeError(
                f"{self._describe()} mixes labels, so they must be one-hot (or soft) float "
                f"labels of shape (batch, classes); got {labels.dtype} labels of shape "
                f"{tuple(labels.shape)}. Use lamina.utils.to_categorical first."
            )
        weight = weight.to(labels.dtype).reshape(-1, *([1] * (labels.ndim - 1)))
        return weight * labels + (1.0 - weight) * labels[permutation]


class MixUp(_MixingLayer):
    """MixUp (Zhang et al., 2018): each sample becomes w * x + (1 - w) * x[j], with another
    sample j of the batch and w drawn from Beta(alpha, alpha), in training; labels likewise.

    A model's layer sees no labels, so use it on the data: `MixUp()({"images": x, "labels":
    y}, training=True)` returns the mixed dict (or pass an (x, y) tuple), e.g. in a generator
    feeding `fit()`. Called on images alone it mixes only them.

    Args:
        alpha: the Beta distribution's concentration (> 0); small values keep samples nearly
            pure.
        data_format: 'channels_last' (default) or 'channels_first'.
        seed: makes the draws reproducible.

    Input shape:
        Images (batch, height, width, channels), or a dict {'images': ..., 'labels': ...}
        with one-hot labels (batch, classes), or an (images, labels) tuple.
    Output shape:
        Same structure and shapes as the input.

    >>> import torch
    >>> x, y = torch.rand(4, 8, 8, 3), torch.eye(4)
    >>> out = MixUp(seed=0)({"images": x, "labels": y}, training=True)
    >>> torch.allclose(out["labels"].sum(1), torch.ones(4))
    True
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format alpha seed"

    keeps_int_in_inference = True  # as Keras: integer images stay integer

    def __init__(
        self,
        alpha: float = 0.2,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not is_number(alpha) or alpha <= 0:
            raise ValueError(f"{self._describe()}: alpha must be > 0; got alpha={alpha!r}")
        self.alpha = alpha

    def mix(
        self, images: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = images.shape[0]
        weight = sample_beta(self.alpha, n, generator, images.device).to(images.dtype)
        permutation = torch.randperm(n, generator=generator, device=images.device)
        w = weight.reshape(-1, 1, 1, 1)
        return w * images + (1.0 - w) * images[permutation], permutation, weight

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class CutMix(_MixingLayer):
    """CutMix (Yun et al., 2019): pastes a random box of another sample of the batch into each
    sample in training; labels are mixed by the pasted area.

    The box's sides are sqrt(1 - w) * size with w drawn from Beta(a, a), a drawn once per batch
    from `factor`, as Keras. Each label keeps the fraction of its own pixels that survive
    (counted exactly; Keras uses the box's continuous area). Labels are seen only when it is
    called on {'images', 'labels'} or (images, labels), as MixUp.

    Args:
        factor: a number f draws a from [0, f]; a pair (lower, upper) from that range.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        Images (batch, height, width, channels), or a dict {'images': ..., 'labels': ...}
        with one-hot labels (batch, classes), or an (images, labels) tuple.
    Output shape:
        Same structure and shapes as the input.

    >>> import torch
    >>> x, y = torch.rand(4, 8, 8, 3), torch.eye(4)
    >>> images, labels = CutMix(seed=0)((x, y), training=True)
    >>> images.shape, labels.shape
    (torch.Size([4, 8, 8, 3]), torch.Size([4, 4]))
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format factor seed"

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor
        self._range = parse_factor(self._describe(), "factor", factor, (0, 1))

    def mix(
        self, images: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, _, height, width = images.shape
        alpha = uniform((1,), *self._range, generator, images) + 1e-6
        side = (1.0 - sample_beta(alpha, n, generator, images.device)).sqrt().to(images.dtype)
        box = _boxes(n, height, width, (side, side), generator, images)
        permutation = torch.randperm(n, generator=generator, device=images.device)
        mixed = torch.where(box, images[permutation], images)
        weight = 1.0 - box.flatten(1).float().mean(dim=1)
        return mixed, permutation, weight

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = as_config(self._range)
        return config
