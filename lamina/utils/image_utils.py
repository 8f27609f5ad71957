"""Single images as Keras handles them: `load_img`, `img_to_array`, `array_to_img`, `save_img`.

Images are Pillow `Image` objects between files and arrays, as in Keras; Pillow is an optional
dependency, imported on first use. Arrays are NumPy arrays (a torch tensor is accepted wherever
an array is), in the `image_data_format()` layout unless `data_format` says otherwise.

>>> import numpy as np
>>> image = array_to_img(np.linspace(0.0, 1.0, 12).reshape(2, 2, 3))
>>> image.mode, image.size
('RGB', (2, 2))
>>> img_to_array(image).ravel().tolist()
[0.0, 23.0, 46.0, 69.0, 92.0, 115.0, 139.0, 162.0, 185.0, 208.0, 231.0, 255.0]
"""

from __future__ import annotations

import io
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import config

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]

_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
# Pillow's own names for its resampling filters, in Keras' order.
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_MODES_BY_CHANNELS = {3: "RGB", 4: "RGBA"}


def _pillow(function: str) -> Any:
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"{function} needs Pillow to read and write images: pip install pillow"
        ) from error
    return Image


def _data_format(data_format: str | None, function: str) -> str:
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{function}: data_format must be 'channels_last' or 'channels_first'; "
            f"got {data_format!r}"
        )
    return data_format


def _numpy_dtype(dtype: str | None) -> str:
    dtype = config.floatx() if dtype is None else str(dtype)
    # NumPy has no bfloat16: such images are handled as float32 arrays.
    return "float32" if dtype == "bfloat16" else dtype


def _as_array(x: Any, dtype: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        x = x.float() if x.dtype == torch.bfloat16 else x
        x = x.numpy()
    return np.asarray(x, dtype=dtype)


def load_img(
    path: str | bytes | os.PathLike | io.BytesIO,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Image:
    """Read an image file into a Pillow image, converted and resized as asked.

    Args:
        path: a file path, or an `io.BytesIO` holding the encoded image.
        color_mode: "grayscale" (8-bit, or a 16/32-bit grayscale file kept as it is), "rgb"
            or "rgba".
        target_size: (height, width) to resize to; None keeps the file's size.
        interpolation: Pillow's resampling filter: "nearest", "bilinear", "bicubic",
            "hamming", "box" or "lanczos".
        keep_aspect_ratio: resize the largest centred crop with the aspect ratio of
            `target_size`, so the image is not distorted.

    Returns:
        A `PIL.Image.Image`; `img_to_array` turns it into an array.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "square.png")
    >>> save_img(path, np.zeros((6, 8, 3)))
    >>> load_img(path, target_size=(3, 3), keep_aspect_ratio=True).size
    (3, 3)
    """
    image_module = _pillow("load_img")
    if color_mode not in _COLOR_MODES:
        raise ValueError(
            f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba'; got {color_mode!r}"
        )
    if isinstance(path, io.BytesIO):
        image = image_module.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        # Read the bytes first so that no file stays open behind the lazily decoded image.
        with open(path, "rb") as f:
            image = image_module.open(io.BytesIO(f.read()))
    else:
        raise TypeError(
            f"load_img: path must be a file path or an io.BytesIO; got {type(path).__name__}"
        )
    if color_mode == "grayscale":
        if image.mode not in ("L", "I;16", "I"):
            image = image.convert("L")
    elif image.mode != _COLOR_MODES[color_mode]:
        image = image.convert(_COLOR_MODES[color_mode])
    if target_size is None:
        return image
    size = (target_size[1], target_size[0])  # Pillow sizes are (width, height)
    if image.size == size:
        return image
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"load_img: unknown interpolation {interpolation!r}; expected one of "
            f"{', '.join(_INTERPOLATIONS)}"
        )
    resample = getattr(image_module.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return image.resize(size, resample)
    width, height = image.size
    crop_height = min(height, width * size[1] // size[0])
    crop_width = min(width, height * size[0] // size[1])
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    box = (left, top, left + crop_width, top + crop_height)
    return image.resize(size, resample, box=box)


def img_to_array(
    img: Image | np.ndarray | torch.Tensor, data_format: str | None = None, dtype: str | None = None
) -> np.ndarray:
    """A Pillow image as a 3-D NumPy array: (height, width, channels) or channels first.

    Args:
        img: a `PIL.Image.Image` (or an array of shape (H, W) or (H, W, C)).
        data_format: "channels_last" or "channels_first"; default `image_data_format()`.
        dtype: the array's dtype; default `floatx()` ("float32").

    >>> img_to_array(array_to_img(np.zeros((4, 5, 1))), data_format="channels_first").shape
    (1, 4, 5)
    """
    data_format = _data_format(data_format, "img_to_array")
    x = _as_array(img, _numpy_dtype(dtype))
    if x.ndim == 2:
        return x.reshape((1, *x.shape) if data_format == "channels_first" else (*x.shape, 1))
    if x.ndim != 3:
        raise ValueError(
            f"img_to_array expects an image of shape (height, width) or (height, width, "
            f"channels); got shape {x.shape}"
        )
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(
    x: np.ndarray | torch.Tensor | Any,
    data_format: str | None = None,
    scale: bool = True,
    dtype: str | None = None,
) -> Image:
    """A 3-D array (one image) as a Pillow image: mode "L" or "I" (1 channel), "RGB", "RGBA".

    Args:
        x: an array of shape (height, width, channels), or channels first.
        data_format: the layout of `x`; default `image_data_format()`.
        scale: stretch the values linearly to [0, 255] first (minimum to 0, maximum to
            255); without it values are cast to 8 bits as they are (one channel with values
            above 255 gives a 32-bit "I" image).
        dtype: the float type the arithmetic runs in; default `floatx()`.

    >>> image = array_to_img(np.arange(6.0).reshape(2, 3, 1))
    >>> image.mode, np.asarray(image).tolist()
    ('L', [[0, 51, 102], [153, 204, 255]])
    """
    data_format = _data_format(data_format, "array_to_img")
    image_module = _pillow("array_to_img")
    x = _as_array(x, _numpy_dtype(dtype))
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img expects one image, an array of rank 3 (height, width, channels); "
            f"got shape {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        largest = np.max(x)
        if largest != 0:
            x = x / largest
        x = x * 255
    channels = x.shape[2]
    if channels in _MODES_BY_CHANNELS:
        return image_module.fromarray(x.astype("uint8"), _MODES_BY_CHANNELS[channels])
    if channels == 1:
        if np.max(x) > 255:
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(
        f"array_to_img supports 1, 3 or 4 channels (grayscale, RGB, RGBA); got {channels} "
        f"channels in an image of shape {x.shape}"
    )


def save_img(
    path: str | os.PathLike | io.IOBase,
    x: np.ndarray | torch.Tensor | Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write one image array to a file (or a file object), through `array_to_img`.

    Args:
        path: where to write; the format comes from its extension unless `file_format`
            is given (it must be, for a file object).
        x: an array of shape (height, width, channels), or channels first.
        data_format: the layout of `x`; default `image_data_format()`.
        file_format: "png", "jpeg" ("jpg"), "bmp", ...: Pillow's format names.
        scale: stretch the values to [0, 255] first (see `array_to_img`).
        **kwargs: passed to `PIL.Image.Image.save` (e.g. `quality=95` for JPEG).

    An RGBA image saved as JPEG is converted to RGB, with a warning.

    >>> buffer = io.BytesIO()
    >>> save_img(buffer, np.ones((2, 2, 3)), file_format="png")
    >>> buffer.getvalue()[1:4]
    b'PNG'
    """
    data_format = _data_format(data_format, "save_img")
    if file_format is None and isinstance(path, (str, os.PathLike)):
        file_format = os.path.splitext(os.fspath(path))[1][1:]
    if file_format:
        file_format = file_format.lower()
        file_format = "jpeg" if file_format == "jpg" else file_format
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "save_img: JPEG cannot store an alpha channel; the RGBA image is saved as RGB.",
            UserWarning,
            stacklevel=2,
        )
        image = image.convert("RGB")
    image.save(path, format=file_format, **kwargs)


def smart_resize(
    x: Any,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    data_format: str = "channels_last",
    **kwargs: Any,
) -> Any:
    """Keras' `keras.preprocessing.image.smart_resize`: crop the centre to the target's aspect
    ratio, then resize to `size`, so nothing is stretched. One image (rank 3) or a batch
    (rank 4); NumPy in, NumPy out (tensors stay tensors).

    >>> smart_resize(np.zeros((6, 4, 3), "float32"), (3, 3)).shape
    (3, 3, 3)
    """
    from ..layers._image_utils import aspect_crop_box, resize

    data_format = _data_format(data_format, "smart_resize")
    is_numpy = not isinstance(x, torch.Tensor)
    images = torch.as_tensor(np.asarray(x)) if is_numpy else x
    if images.ndim not in (3, 4):
        raise ValueError(
            f"smart_resize expects one image (rank 3) or a batch (rank 4); got shape "
            f"{tuple(images.shape)}"
        )
    single = images.ndim == 3
    batch = images[None] if single else images
    if data_format == "channels_last":
        batch = batch.permute(0, 3, 1, 2)
    height, width = (int(n) for n in size)
    top, left, crop_height, crop_width = aspect_crop_box(*batch.shape[-2:], height, width)
    cropped = batch[..., top : top + crop_height, left : left + crop_width]
    out = resize(cropped, height, width, interpolation)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    out = out[0] if single else out
    return out.contiguous().numpy() if is_numpy else out
