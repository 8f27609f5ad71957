"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE): histogram equalization per tile,
with clipped histograms, blended bilinearly between tiles.

>>> import torch
>>> layer = ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
>>> layer(torch.rand(2, 8, 8, 3) * 255).shape
torch.Size([2, 8, 8, 3])
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ._image_utils import ImageLayer, as_config
from .augmentation import _value_range
from .augmentation_filters import _from_255, _to_255

__all__ = ["ContrastLimitedAdaptiveHistogramEqualization"]

_LEVELS = 256


class ContrastLimitedAdaptiveHistogramEqualization(ImageLayer):
    """Contrast Limited Adaptive Histogram Equalization, as Keras' layer of the same name.

    Each channel of each image is cut into `tile_grid_size` tiles (the image is extended at
    the bottom and right to a whole number of tiles by repeating its last row and column, as
    Keras on PyTorch does; its TensorFlow and JAX backends mirror instead). Each tile's
    256-level histogram is clipped at `clip_limit` times its mean count, rounded down to a
    whole count as Keras 3.15 does (so a limit under one count clips everything and leaves
    the image about as it is: raise `clip_limit` for small tiles); the clipped excess is
    spread over all levels, and the histogram's cumulative sum stretched to 0..255 is the
    tile's mapping. A pixel's value is the bilinear blend of the mappings of the four nearest
    tile centres. Values are mapped from `value_range` to 0..255 first (and truncated to
    integer levels for the lookup), and back after. Applied in training and inference
    alike, as Keras.

    Args:
        value_range: (low, high), the range of the pixel values (default (0, 255)).
        clip_limit: the histogram clip, in multiples of the mean count per level; 0 or less
            for plain adaptive equalization.
        tile_grid_size: (rows, columns) of tiles.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        Same as the input; integer images keep their dtype (truncated, as Keras' cast back).

    >>> import torch
    >>> x = torch.tensor([[[[10.0], [10.0]], [[20.0], [200.0]]]])
    >>> ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(1, 1), clip_limit=0)(
    ...     x).flatten().tolist()
    [127.5, 127.5, 191.25, 255.0]
    """

    identity_in_inference = False
    casts_int_images = False  # as Keras: computed in float32, cast back to the input's dtype

    def __init__(
        self,
        value_range: tuple[float, float] = (0, 255),
        clip_limit: float = 4.0,
        tile_grid_size: tuple[int, int] = (8, 8),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=None, data_format=data_format, **kwargs)
        self.value_range = value_range
        self._values = _value_range(self._describe(), value_range)
        if (
            isinstance(clip_limit, bool)
            or not isinstance(clip_limit, (int, float))
            or not math.isfinite(clip_limit)
        ):
            raise ValueError(f"{self._describe()}: clip_limit must be a number; got {clip_limit!r}")
        grid = tuple(tile_grid_size) if isinstance(tile_grid_size, (list, tuple)) else ()
        if len(grid) != 2 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in grid
        ):
            raise ValueError(
                f"{self._describe()}: tile_grid_size must be two positive ints (rows, columns); "
                f"got {tile_grid_size!r}"
            )
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.inference(images)

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        n, channels, height, width = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        levels = _to_255(images.float(), self._values)
        # Keras' 'symmetric' padding is edge replication on its torch backend: the same here.
        pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
        if pad_h or pad_w:
            levels = F.pad(levels, (0, pad_w, 0, pad_h), mode="replicate")
        padded_h, padded_w = levels.shape[-2:]
        mappings = self._tile_mappings(levels, grid_h, grid_w, tile_h, tile_w)
        # Edge tiles repeated around the grid: pixels outside the outer centres take them.
        mappings = torch.cat([mappings[:, :, :1], mappings, mappings[:, :, -1:]], 2)
        mappings = torch.cat([mappings[:, :, :, :1], mappings, mappings[:, :, :, -1:]], 3)
        rows = (torch.arange(padded_h, device=images.device) - tile_h / 2.0) / tile_h + 1.0
        columns = (torch.arange(padded_w, device=images.device) - tile_w / 2.0) / tile_w + 1.0
        top, left = rows.floor(), columns.floor()
        weight_y, weight_x = (rows - top)[:, None], (columns - left)[None, :]
        top_index, bottom_index = top.clamp(0, grid_h + 1).long(), (top + 1).clamp(0, grid_h + 1)
        left_index, right_index = left.clamp(0, grid_w + 1).long(), (left + 1).clamp(0, grid_w + 1)
        pixels = levels.clamp(0, 255).long()  # truncated, as Keras' cast to int32
        flat = mappings.reshape(n, channels, -1)

        def lookup(row: torch.Tensor, column: torch.Tensor) -> torch.Tensor:
            cell = row.long()[:, None] * (grid_w + 2) + column.long()[None, :]
            index = cell * _LEVELS + pixels
            return flat.gather(2, index.reshape(n, channels, -1)).view_as(levels)

        upper = (
            lookup(top_index, left_index) * (1.0 - weight_x)
            + lookup(top_index, right_index) * weight_x
        )
        lower = (
            lookup(bottom_index, left_index) * (1.0 - weight_x)
            + lookup(bottom_index, right_index) * weight_x
        )
        result = upper * (1.0 - weight_y) + lower * weight_y
        result = result[:, :, :height, :width]
        return _from_255(result, self._values).to(images.dtype)

    def _tile_mappings(
        self, levels: torch.Tensor, grid_h: int, grid_w: int, tile_h: int, tile_w: int
    ) -> torch.Tensor:
        """(N, C, grid_h, grid_w, 256): each tile's clipped-histogram equalization table."""
        n, channels = levels.shape[:2]
        tiles = levels.reshape(n, channels, grid_h, tile_h, grid_w, tile_w)
        tiles = tiles.permute(0, 1, 2, 4, 3, 5).reshape(n, channels, grid_h, grid_w, -1)
        index = tiles.long().clamp(0, _LEVELS - 1)  # truncated first, then clipped (Keras)
        histogram = torch.zeros(
            (*index.shape[:-1], _LEVELS), dtype=levels.dtype, device=levels.device
        )
        histogram.scatter_add_(-1, index, torch.ones_like(tiles))
        count = tile_h * tile_w
        if self.clip_limit > 0:
            # Keras' histograms are integer counts, and so is the limit it casts to their type.
            limit = math.floor(self.clip_limit * count / _LEVELS)
            clipped = histogram.clamp(0, limit)
            excess = (histogram - clipped).sum(-1, keepdim=True)
            histogram = clipped + excess / _LEVELS
        cdf = histogram.cumsum(-1)
        cdf_min = cdf.amin(-1, keepdim=True)
        denominator = count - cdf_min
        denominator = torch.where(denominator == 0, 1.0, denominator)
        return ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["seed"]
        config.update(
            value_range=as_config(self.value_range),
            clip_limit=self.clip_limit,
            tile_grid_size=as_config(self.tile_grid_size),
        )
        return config
