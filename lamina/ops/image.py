"""Image ops (`keras.ops.image`): resize.

>>> import lamina.ops as ops
>>> ops.image.resize(ops.ones((4, 4, 3)), (2, 2)).shape
torch.Size([2, 2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from ._dtypes import TensorLike, tensor

__all__ = ["resize"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def resize(
    images: TensorLike,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Resize a 3-D image or 4-D batch to `size` (height, width) with 'bilinear', 'nearest'
    or 'bicubic' interpolation (half-pixel centres, as Keras)."""
    if interpolation not in _MODES:
        raise ValueError(f"interpolation must be one of {tuple(_MODES)}; got {interpolation!r}")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError(
            "resize: crop_to_aspect_ratio and pad_to_aspect_ratio are not supported by lamina"
        )
    images = tensor(images)
    if images.dim() not in (3, 4):
        raise ValueError(
            f"resize expects a 3-D image or 4-D batch; got shape {tuple(images.shape)}"
        )
    single = images.dim() == 3
    x = images.unsqueeze(0) if single else images
    channels_last = (data_format or config.image_data_format()) == "channels_last"
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    out_dtype = x.dtype
    if not x.dtype.is_floating_point:
        x = x.float()
    smooth = interpolation in ("bilinear", "bicubic")
    x = F.interpolate(
        x,
        size=tuple(int(s) for s in size),
        mode=_MODES[interpolation],
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    if out_dtype != x.dtype:
        x = torch.round(x).to(out_dtype) if not out_dtype.is_floating_point else x.to(out_dtype)
    if channels_last:
        x = x.permute(0, 2, 3, 1)
    return x.squeeze(0) if single else x
