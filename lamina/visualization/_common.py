"""What the drawing and plotting functions share: optional imports with a clear error, arrays
from tensors, the data format and the value range."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.config import image_data_format

_EXTRA = "pip install 'lamina[visualization]'"


def import_pillow(function: str) -> tuple[Any, Any, Any]:
    """PIL's Image, ImageDraw and ImageFont, imported on first use."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:
        raise ImportError(
            f"{function} draws with Pillow, which is not installed: `pip install pillow` (or "
            f"`{_EXTRA}`)"
        ) from error
    return Image, ImageDraw, ImageFont


def import_pyplot(function: str) -> Any:
    """matplotlib.pyplot, imported on first use."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{function} plots with matplotlib, which is not installed: `pip install "
            f"matplotlib` (or `{_EXTRA}`)"
        ) from error
    return plt


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy array of a tensor (any device), an array or a nested list."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_data_format(data_format: str | None, function: str) -> str:
    """The data format, `image_data_format()` when None."""
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{function}: data_format must be 'channels_last' or 'channels_first'; got "
            f"{data_format!r}"
        )
    return data_format


def check_images(images: np.ndarray, function: str) -> None:
    """Images are a batch: 4-D."""
    if images.ndim != 4:
        raise ValueError(
            f"{function} expects a batch of images, a 4-D tensor or array (batch, height, width, "
            f"channels); got shape {images.shape}"
        )


def channels_last(images: np.ndarray, data_format: str) -> np.ndarray:
    """(batch, height, width, channels) view of a batch in `data_format`."""
    return images.transpose(0, 2, 3, 1) if data_format == "channels_first" else images


def to_0_255(images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Images mapped from `value_range` to [0, 255] (float32), as Keras' galleries do."""
    low, high = value_range
    if (low, high) == (0, 255):
        return images
    low, high = np.float32(low), np.float32(high)
    return (images.astype(np.float32) - low) / (high - low) * np.float32(255)
