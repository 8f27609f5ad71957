"""Shared machinery of the image preprocessing and augmentation layers.

Every function here works on whole batches in (batch, channels, height, width) layout on the
batch's device, with vectorised torch ops: no loop over the samples. Pixel coordinates follow
Keras' convention: pixel centres sit at integers 0 .. size - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._conv_utils import normalize_data_format
from ._image_dicts import augment_targets, call_on_dict
from ._symbolic import is_shape
from .regularization import _RandomLayer

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")
# grid_sample's padding modes that give Keras' fill modes; 'wrap' is done with coordinates.
_PADDING_MODES = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}


def check_choice(owner: str, name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {tuple(choices)}; got {name}={value!r}")
    return value


def check_size(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int; got {name}={value!r}")
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _factor_error(owner: str, name: str, factor: Any, bounds: tuple[Any, Any]) -> ValueError:
    return ValueError(
        f"{owner}: {name} must be a number or a pair of numbers in "
        f"[{bounds[0]}, {bounds[1]}]; got {name}={factor!r}"
    )


def parse_factor(
    owner: str, name: str, factor: Any, bounds: tuple[Any, Any] = (-1, 1)
) -> tuple[Any, Any]:
    """(lower, upper) from a number or a pair, as Keras' `_set_factor`.

    A number f in `bounds` gives (max(-|f|, bounds[0]), |f|): (-f, f), or (0, f) where the
    lower bound is 0. A pair is sorted; as Keras, it is only refused when it lies wholly
    outside `bounds`. The numbers keep their types (Keras' configs hold ints as ints).
    """
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(is_number(f) for f in factor):
            raise _factor_error(owner, name, factor, bounds)
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise _factor_error(owner, name, factor, bounds)
        lower, upper = sorted(factor)
        return lower, upper
    if not is_number(factor) or factor < bounds[0] or factor > bounds[1]:
        raise _factor_error(owner, name, factor, bounds)
    factor = abs(factor)
    return max(-factor, bounds[0]), factor


def parse_strict_factor(
    owner: str,
    name: str,
    factor: Any,
    bounds: tuple[Any, Any],
    signed: bool = True,
    open_below: bool = False,
) -> tuple[Any, Any]:
    """(lower, upper) as the `_set_factor` of Keras' RandomTranslation, RandomZoom,
    RandomShear and Solarization: every number given must lie in `bounds` (above bounds[0]
    with `open_below`); a number f gives (-|f|, |f|), or (0, f) when not `signed`."""
    values = factor if isinstance(factor, (tuple, list)) else (factor,)
    if (
        len(values) not in (1, 2)
        or (len(values) == 1 and isinstance(factor, (tuple, list)))
        or not all(is_number(v) for v in values)
        or any(v > bounds[1] or v < bounds[0] or (open_below and v == bounds[0]) for v in values)
    ):
        message = _factor_error(owner, name, factor, bounds)
        if open_below:
            message = ValueError(str(message).replace(f"[{bounds[0]},", f"({bounds[0]},"))
        raise message
    if isinstance(factor, (tuple, list)):
        lower, upper = sorted(factor)
        return lower, upper
    if not signed:
        return 0, factor
    factor = abs(factor)
    return -factor, factor


def as_config(value: Any) -> Any:
    """An argument as its config holds it: as given (Keras keeps tuples as tuples)."""
    return value


def uniform(
    shape: Sequence[int],
    low: float,
    high: float,
    generator: torch.Generator | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """Uniform draws in [low, high) of `like`'s float dtype (float32 for integer images)."""
    dtype = like.dtype if like.is_floating_point() else torch.float32
    values = torch.rand(tuple(shape), generator=generator, device=like.device, dtype=dtype)
    return values * (high - low) + low


def sample_gamma(
    concentration: torch.Tensor, generator: torch.Generator | None, tries: int = 16
) -> torch.Tensor:
    """Gamma(concentration, 1) draws, one per element, from `generator` (Marsaglia-Tsang).

    torch's own gamma sampler takes no generator, so seeded layers could not reproduce it. The
    rejection step accepts over 95% of candidates for shapes >= 1, so 16 candidates per draw
    fail with probability below 1e-20; shapes < 1 use Gamma(a) = Gamma(a + 1) * U ** (1 / a).
    """
    alpha = concentration.float()
    boosted = alpha + (alpha < 1).float()
    d = boosted - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    shape = (tries, *alpha.shape)
    x = torch.randn(shape, generator=generator, device=alpha.device)
    u = torch.rand(shape, generator=generator, device=alpha.device)
    v = (1.0 + c * x) ** 3
    accept = (v > 0) & (
        torch.log(u.clamp_min(1e-30)) < 0.5 * x**2 + d - d * v + d * torch.log(v.clamp_min(1e-30))
    )
    # The first accepted candidate (argmax finds the first True; the last one if none is).
    first = torch.where(
        accept.any(0), accept.float().argmax(0), torch.full_like(d, tries - 1).long()
    )
    draws = (d * v).gather(0, first.unsqueeze(0)).squeeze(0)
    small = alpha < 1
    if bool(small.any()):
        extra = torch.rand(alpha.shape, generator=generator, device=alpha.device)
        draws = torch.where(small, draws * extra.clamp_min(1e-30) ** (1.0 / alpha), draws)
    return draws


def sample_beta(
    alpha: float | torch.Tensor, size: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """`size` draws of Beta(alpha, alpha), as X / (X + Y) with X, Y ~ Gamma(alpha)."""
    concentration = torch.as_tensor(alpha, dtype=torch.float32, device=device).expand(2, size)
    gammas = sample_gamma(concentration.contiguous(), generator)
    return gammas[0] / (gammas[0] + gammas[1]).clamp_min(1e-30)


def fix_indices(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Map integer pixel indices outside [0, size) back inside, as Keras' fill modes do.

    reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d), nearest and constant
    (a a | a b c d | d d; constant then masks those pixels with the fill value).
    """
    if fill_mode == "wrap":
        return index.remainder(size)
    if fill_mode == "reflect":
        folded = index.remainder(2 * size)
        return torch.where(folded < size, folded, 2 * size - 1 - folded)
    return index.clamp(0, size - 1)


def _memory_order(images: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """`images` (N, C, H, W) as a contiguous tensor in its memory order, and whether that order is
    channels-last: (N, H, W, C) for a channels-last batch (the layers' permuted input, so no
    copy), else (N, C, H, W). Image rows are then runs of contiguous elements."""
    if images.stride(1) <= images.stride(-1):
        return images.permute(0, 2, 3, 1).contiguous(), True
    return images.contiguous(), False


def crop_windows(
    images: torch.Tensor,
    top: torch.Tensor,
    left: torch.Tensor,
    height: int,
    width: int,
    pad_h: int = 0,
    pad_w: int = 0,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
) -> torch.Tensor:
    """out[n, :, i, j] = images[n, :, top[n] + i - pad_h, left[n] + j - pad_w], whole pixels.

    One (height, width) window per sample of the image padded by pad_h rows and pad_w columns
    on each side, its pixels outside the image filled as `fill_mode` says (any pad size: reflect
    and wrap repeat the image as often as needed): integer shifts (top = pad - dy) and crops.
    `top` and `left` are (N,) integer tensors with 0 <= top <= H + 2 pad_h - height and
    0 <= left <= W + 2 pad_w - width (not checked, as that would wait for the device).

    The batch is padded once, in its memory order ('constant' pads the rows too; the other
    modes pad only the columns and fold the rows into the row index). Each output row is then a
    run of contiguous elements of the padded batch, so one `index_select` on an overlapping
    strided view of it (row r starting at element r) copies every window: no per-pixel index,
    no mask.
    """
    n, channels, image_height, image_width = images.shape
    device = images.device
    work, channels_last = _memory_order(images)
    row_dim, col_dim = (1, 2) if channels_last else (2, 3)
    top, left = top.reshape(n, 1).long(), left.reshape(n, 1).long()
    rows = top + torch.arange(height, device=device)  # (N, height), in the padded image
    if fill_mode == "constant":
        pads = (0, 0) * channels_last + (pad_w, pad_w, pad_h, pad_h)  # last dimension first
        padded = F.pad(work, pads, value=fill_value) if pad_h or pad_w else work
    else:
        rows = fix_indices(rows - pad_h, image_height, fill_mode)
        padded = work
        if pad_w:
            sides = [torch.arange(-pad_w, 0, device=device), torch.arange(pad_w, device=device)]
            sides[1] += image_width
            left_cols, right_cols = (
                work.index_select(col_dim, fix_indices(side, image_width, fill_mode))
                for side in sides
            )
            padded = torch.cat([left_cols, work, right_cols], col_dim)
    padded_height, padded_width = padded.shape[row_dim], padded.shape[col_dim]
    if channels_last:
        sample = torch.arange(n, device=device)[:, None] * padded_height
        starts = ((sample + rows) * padded_width + left) * channels  # (N, height)
        run, shape = width * channels, (n, height, width, channels)
    else:
        plane = torch.arange(n * channels, device=device).view(n, channels, 1) * padded_height
        starts = (plane + rows[:, None, :]) * padded_width + left[:, :, None]  # (N, C, height)
        run, shape = width, (n, channels, height, width)
    if padded.numel() == 0 or starts.numel() == 0:
        out = padded.new_empty(shape)
    else:
        flat = padded.reshape(-1)
        runs = flat.as_strided((flat.numel() - run + 1, run), (1, 1))
        out = runs.index_select(0, starts.reshape(-1)).view(shape)
    return out.permute(0, 3, 1, 2) if channels_last else out


def flip_images(
    images: torch.Tensor, horizontal: torch.Tensor | None, vertical: torch.Tensor | None
) -> torch.Tensor:
    """Each image flipped left-right where `horizontal[n]` and upside down where `vertical[n]`
    ((N,) bool tensors; None: never), in the batch's memory order: a `torch.where` between the
    batch and its left-right flip, then one `index_select` of whole image rows (each a run of
    contiguous elements) that reverses the rows of the images to flip upside down."""
    n, channels, height = images.shape[:3]
    work, channels_last = _memory_order(images)
    if horizontal is not None:
        col_dim = 2 if channels_last else 3
        work = torch.where(horizontal.view(n, 1, 1, 1), work.flip(col_dim), work)
    if vertical is not None and work.numel() > 0:
        device = images.device
        rows = torch.arange(height, device=device)
        rows = torch.where(vertical[:, None], height - 1 - rows, rows)  # (N, height)
        if channels_last:
            index = torch.arange(n, device=device)[:, None] * height + rows
        else:
            plane = torch.arange(n * channels, device=device).view(n, channels, 1) * height
            index = plane + rows[:, None, :]
        run = work.shape[2] * work.shape[3] if channels_last else work.shape[3]
        work = work.reshape(-1, run).index_select(0, index.reshape(-1)).view(work.shape)
    return work.permute(0, 3, 1, 2) if channels_last else work


def affine_transform(
    images: torch.Tensor,
    matrix: torch.Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
) -> torch.Tensor:
    """Resample (N, C, H, W) `images`: output pixel (x, y) reads input pixel matrix @ (x, y, 1).

    `matrix` is (N, 2, 3) in pixel coordinates (Keras' `affine_transform` convention, output to
    input). Out-of-image reads follow Keras' fill modes: grid_sample's reflection (about the
    image's edges, align_corners=False), border and zeros padding give 'reflect', 'nearest' and
    'constant' (the fill value is blended in with a resampled mask, so each out-of-image corner
    counts as `fill_value`, as Keras); 'wrap' takes coordinates modulo the size and samples an
    image padded circularly by one pixel.
    """
    n, _, height, width = images.shape
    dtype = images.dtype
    ys = torch.arange(height, device=images.device, dtype=dtype)
    xs = torch.arange(width, device=images.device, dtype=dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x, grid_y, torch.ones_like(grid_x)], dim=-1)  # (H, W, 3)
    coords = torch.einsum("hwk,njk->nhwj", points, matrix.to(dtype))  # (N, H, W, 2): x, y
    size = torch.tensor([width, height], device=images.device, dtype=dtype)
    padding_mode = _PADDING_MODES.get(fill_mode, "border")
    if fill_mode == "wrap":
        coords = coords.remainder(size) + 1.0
        images = F.pad(images, (1, 1, 1, 1), mode="circular")
        size = size + 2.0
    grid = (2.0 * coords + 1.0) / size - 1.0
    mode = "nearest" if interpolation == "nearest" else "bilinear"
    out = F.grid_sample(images, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    if fill_mode == "constant" and fill_value != 0:
        ones = torch.ones((n, 1, height, width), device=images.device, dtype=dtype)
        weight = F.grid_sample(ones, grid, mode=mode, padding_mode="zeros", align_corners=False)
        out = out + (1.0 - weight) * fill_value
    return out


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple:
    """(top, left, crop_height, crop_width): the largest centred window of the target's aspect
    ratio, with Keras' integer arithmetic."""
    crop_height = max(min(height, int(width * target_height / target_width)), 1)
    crop_width = max(min(width, int(height * target_width / target_height)), 1)
    return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width


def aspect_pad(height: int, width: int, target_height: int, target_width: int) -> tuple:
    """(top, left): the padding on each side that brings an image to the target's aspect
    ratio, as Keras computes it (the same amount on both sides of an axis)."""
    pad_height = max(height, int(width * target_height / target_width))
    pad_width = max(width, int(height * target_width / target_height))
    return (pad_height - height) // 2, (pad_width - width) // 2


def resize(
    images: torch.Tensor,
    height: int,
    width: int,
    interpolation: str = "bilinear",
    antialias: bool = False,
) -> torch.Tensor:
    """F.interpolate to (height, width) as Keras' torch backend (align_corners=False)."""
    if tuple(images.shape[-2:]) == (height, width):
        return images
    mode = {"nearest": "nearest-exact"}.get(interpolation, interpolation)
    work = images if images.is_floating_point() else images.float()
    out = F.interpolate(
        work,
        size=(height, width),
        mode=mode,
        align_corners=False if mode in ("bilinear", "bicubic") else None,
        antialias=antialias and mode in ("bilinear", "bicubic"),
    )
    if not images.is_floating_point():
        info = torch.iinfo(images.dtype)
        out = out.round().clamp(info.min, info.max).to(images.dtype)
    return out


def smart_resize(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centre-crop to the target's aspect ratio, then resize bilinearly (Keras' smart_resize)."""
    if tuple(images.shape[-2:]) == (height, width):
        return images
    top, left, crop_height, crop_width = aspect_crop_box(*images.shape[-2:], height, width)
    cropped = images[..., top : top + crop_height, left : left + crop_width]
    return resize(cropped, height, width)


class ImageLayer(_RandomLayer):
    """Base of the image layers: data_format, rank 3 or 4 inputs, the training gate.

    Subclasses implement `augment(images, generator)` on a (N, C, H, W) batch; `inference`
    (the identity by default) is what inference mode returns, in the same layout.
    """

    #: Whether inference returns the input as it is (so nothing is permuted or checked).
    identity_in_inference: bool = True
    #: Whether that identity keeps integer images' dtype (Keras' colour layers, whose
    #: `transform_images` only casts in training) instead of casting them to the compute dtype.
    keeps_int_in_inference: bool = False
    #: Whether integer images are cast to the compute dtype before `augment`/`inference`;
    #: False where the layer, as Keras', works on them and returns their own dtype.
    casts_int_images: bool = True
    # Keras' image preprocessing layers augment when called directly (their `call` defaults
    # to training=True); fit passes True, predict/evaluate False, through enclosing models.
    _training_by_default = True
    #: Whether the layer moves pixels (so segmentation masks and boxes follow the images);
    #: colour layers return masks and boxes unchanged.
    geometric: bool = False
    #: Whether `augment_boxes` / `inference_boxes` move bounding boxes (geometric layers only).
    transforms_boxes: bool = False
    #: Whether segmentation masks come back in the compute dtype (Keras' RandomFlip, crops).
    masks_to_compute_dtype: bool = False
    #: Whether training calls `augment` (Resizing's call does its own work).
    _augments_in_call: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        order = cls.__dict__.get("_config_order")
        if order and "bounding_box_format" not in order:  # Keras writes it after data_format
            cls._config_order = order.replace("data_format", "data_format bounding_box_format")

    def __init__(
        self,
        seed: int | None = None,
        data_format: str | None = None,
        bounding_box_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.built = False  # as Keras: image layers are built by their first call
        self.data_format = normalize_data_format(data_format, self._describe())
        if bounding_box_format is not None and not isinstance(bounding_box_format, str):
            raise TypeError(
                f"{self._describe()}: bounding_box_format must be a string such as 'xyxy'; "
                f"got {bounding_box_format!r}"
            )
        self.bounding_box_format = bounding_box_format
        self.input_description = (
            "(batch, height, width, channels)"
            if self.data_format == "channels_last"
            else "(batch, channels, height, width)"
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def _to_nchw(self, inputs: torch.Tensor) -> tuple[torch.Tensor, bool]:
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{self._describe()} expects 4-D input {self.input_description} or one 3-D "
                f"image; got shape {tuple(inputs.shape)}"
            )
        unbatched = inputs.ndim == 3
        images = inputs.unsqueeze(0) if unbatched else inputs
        if not images.is_floating_point() and self.casts_int_images:
            images = images.to(self._compute_dtype)
        if self.data_format == "channels_last":
            images = images.permute(0, 3, 1, 2)
        return images, unbatched

    def _from_nchw(self, images: torch.Tensor, unbatched: bool) -> torch.Tensor:
        if self.data_format == "channels_last":
            images = images.permute(0, 2, 3, 1)
        return images.squeeze(0) if unbatched else images

    def augment_targets(
        self,
        images: torch.Tensor,
        masks: torch.Tensor | None,
        boxes: tuple[torch.Tensor, torch.Tensor] | None,
        generator: torch.Generator | None,
    ) -> tuple[Any, Any, Any]:
        """(images, masks, boxes) augmented with the same draws: masks (N, C, H, W) with
        'nearest' interpolation, boxes ((N, B, 4) xyxy pixels, labels) by `augment_boxes`."""
        return augment_targets(self, images, masks, boxes, generator)

    def augment_boxes(
        self, boxes: torch.Tensor, images: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """(N, B, 4) xyxy pixel boxes moved as `augment` (same draws) moves the images."""
        if not self.identity_in_inference:  # a deterministic layer: augment is inference
            return self.inference_boxes(boxes, *images.shape[-2:])
        raise NotImplementedError(f"{self._describe()} does not transform bounding boxes")

    def inference_boxes(self, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """(N, B, 4) xyxy pixel boxes moved as `inference` moves the images."""
        return boxes

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if isinstance(inputs, dict):
            return call_on_dict(self, inputs, training)
        if not training and self.identity_in_inference:
            if inputs.ndim not in (3, 4):
                self._to_nchw(inputs)  # raises the rank error
            if inputs.is_floating_point() or self.keeps_int_in_inference:
                return inputs
            return inputs.to(self._compute_dtype)
        images, unbatched = self._to_nchw(inputs)
        if training:
            out = self.augment(images, self._generator(images.device))
        else:
            out = self.inference(images)
            if out is images and inputs.is_floating_point():
                return inputs
        return self._from_nchw(out, unbatched)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """As Keras: one 3-D image's shape is inferred as a batch of one (no batch axis)."""
        if is_shape(input_shape) and len(input_shape) == 3:
            batched = super().compute_output_shape((None, *input_shape))  # type: ignore[misc]
            if is_shape(batched) and len(batched) == 4:
                return tuple(batched[1:])
        return super().compute_output_shape(input_shape)  # type: ignore[misc]

    compute_output_shape._numbers_only = True  # type: ignore[attr-defined]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config
