"""`image_dataset_from_directory`: a folder of class subfolders -> a `lamina.data.Dataset`.

Files are indexed, labelled and shuffled exactly as Keras does (same order for the same seed),
decoded with Pillow and resized with `torch.nn.functional.interpolate` as Keras' torch backend
does (float32 values in [0, 255], no antialiasing), in a background thread, batch by batch.

>>> import os, tempfile
>>> import numpy as np
>>> from PIL import Image
>>> root = tempfile.mkdtemp()
>>> for name in ("cats", "dogs"):
...     os.makedirs(os.path.join(root, name))
...     for i in range(3):
...         Image.new("RGB", (8, 6)).save(os.path.join(root, name, f"{i}.png"))
>>> ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=0)
Found 6 files belonging to 2 classes.
>>> ds.class_names, [tuple(x.shape) for x, y in ds]
(['cats', 'dogs'], [(4, 4, 4, 3), (2, 4, 4, 3)])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config
from ..data.dataset import Dataset
from ..layers._image_utils import aspect_crop_box, aspect_pad
from ._directory import finish_dataset, index_directory, with_labels

__all__ = ["ALLOWLIST_FORMATS", "image_dataset_from_directory"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _check_arguments(
    labels: Any, label_mode: Any, class_names: Any, color_mode: str, interpolation: str
) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                "as the number of image files in the target directory. To infer the labels "
                'from the subdirectory names, pass `labels="inferred"`; for images only, pass '
                f"`labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )
    if color_mode not in _CHANNELS:
        raise ValueError(
            f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. '
            f"Received: color_mode={color_mode}"
        )
    if interpolation not in _MODES:
        raise ValueError(
            f"Argument `interpolation` should be one of {tuple(_MODES)} (lamina resizes with "
            f"torch, as Keras' torch backend). Received: interpolation={interpolation}"
        )


def _check_split(validation_split: float | None, subset: str | None, shuffle: bool, seed: Any):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def _fit_aspect(image: torch.Tensor, size: tuple[int, int], crop: bool, pad: bool) -> torch.Tensor:
    """Center-crop or zero-pad an (H, W, C) image to the aspect ratio of `size` (Keras' math)."""
    height, width = image.shape[0], image.shape[1]
    if crop:
        top, left, crop_height, crop_width = aspect_crop_box(height, width, *size)
        return image[top : top + crop_height, left : left + crop_width]
    if pad:  # the same amount on both sides (an odd difference loses a row), as Keras
        top, left = aspect_pad(height, width, *size)
        padded = image.new_zeros((height + 2 * top, width + 2 * left, image.shape[2]))
        padded[top : top + height, left : left + width] = image
        return padded
    return image


def load_image(
    path: str,
    image_size: tuple[int, int],
    color_mode: str = "rgb",
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
) -> torch.Tensor:
    """One image file as a float32 (height, width, channels) tensor in [0, 255]."""
    from PIL import Image

    with Image.open(path) as opened:
        if color_mode == "grayscale":
            image = opened if opened.mode in ("L", "I;16", "I") else opened.convert("L")
        else:
            mode = color_mode.upper()
            image = opened if opened.mode == mode else opened.convert(mode)
        array = np.asarray(image, dtype=np.float32)
    tensor = torch.from_numpy(array.reshape(array.shape[0], array.shape[1], -1).copy())
    tensor = _fit_aspect(tensor, image_size, crop_to_aspect_ratio, pad_to_aspect_ratio)
    if tuple(tensor.shape[:2]) != tuple(image_size):
        mode = _MODES[interpolation]
        corners = False if mode in ("bilinear", "bicubic") else None
        channels_first = tensor.permute(2, 0, 1).unsqueeze(0)
        resized = F.interpolate(channels_first, size=image_size, mode=mode, align_corners=corners)
        tensor = resized[0].permute(1, 2, 0)
    return tensor


def _make_dataset(
    paths: list[str],
    labels: np.ndarray | None,
    label_mode: str | None,
    class_names: list[str] | None,
    batch_size: int | None,
    shuffle: bool,
    seed: int,
    image_options: dict[str, Any],
) -> Dataset:
    num_classes = len(class_names) if class_names else 0
    channels_first = config.image_data_format() == "channels_first"

    def load(indices: list[int]) -> Any:
        images = torch.stack([load_image(paths[i], **image_options) for i in indices])
        if channels_first:
            images = images.permute(0, 3, 1, 2).contiguous()
        return with_labels(images, labels, indices, label_mode, num_classes)

    dataset = Dataset._from_loader(len(paths), load, class_names=class_names, file_paths=paths)
    return finish_dataset(dataset, shuffle, seed, batch_size)


def image_dataset_from_directory(
    directory: str,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] | int = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    verbose: bool = True,
    format: str = "tf",
) -> Dataset | list[Dataset]:
    """A dataset of images (and labels) from a directory of class subdirectories.

    Args:
        directory: with `labels="inferred"`, one subdirectory per class holding its images
            (.bmp, .gif, .jpeg, .jpg, .png; nested folders are searched too).
        labels: "inferred" (from the subdirectories, in alphanumeric order), None (images
            only), or a list of integer labels in the sorted order of the file paths.
        label_mode: "int" (int32 labels), "categorical" (float32 one-hot), "binary" (float32,
            shape (batch, 1), exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in this label order.
        color_mode: "grayscale", "rgb" or "rgba" (1, 3 or 4 channels).
        batch_size: images per batch; None yields single images.
        image_size: (height, width) every image is resized to (an int for a square).
        shuffle: shuffle the files once (with `seed`) and the training order at every pass.
        seed: the shuffling seed; required with `validation_split` when shuffling.
        validation_split: the fraction of files kept for validation (the last ones).
        subset: "training", "validation", or "both" (returns [training, validation]).
        interpolation: "bilinear", "nearest", "bicubic" or "area".
        follow_links: follow symbolic links to subdirectories.
        crop_to_aspect_ratio: center-crop to the aspect ratio of `image_size` before resizing.
        pad_to_aspect_ratio: zero-pad to the aspect ratio of `image_size` before resizing.
        verbose: print how many files and classes were found (and used by each subset).
        format: Keras' choice of a tf.data or a grain dataset ("tf", "grain"); both give a
            lamina Dataset here.

    Returns:
        A `lamina.data.Dataset` yielding `(images, labels)` (or images) with `class_names` and
        `file_paths` attributes, or a list of two with `subset="both"`.
    """
    if format not in ("tf", "grain"):
        raise ValueError(
            f'image_dataset_from_directory: format must be "tf" or "grain"; got {format!r}'
        )
    _check_arguments(labels, label_mode, class_names, color_mode, interpolation)
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be True.")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1e6))
    paths, label_array, names = index_directory(
        os.fspath(directory),
        labels,
        ALLOWLIST_FORMATS,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
        caller="image_dataset_from_directory",
    )
    if label_mode == "binary" and len(names or []) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={names}"
        )
    options = {
        "image_size": tuple(int(s) for s in image_size),
        "color_mode": color_mode,
        "interpolation": interpolation,
        "crop_to_aspect_ratio": crop_to_aspect_ratio,
        "pad_to_aspect_ratio": pad_to_aspect_ratio,
    }
    validation_count = int(validation_split * len(paths)) if validation_split else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in subsets:
        part_paths, part_labels = paths, label_array
        if part is not None:
            cut = len(paths) - validation_count
            chosen = slice(0, cut) if part == "training" else slice(cut, None)
            part_paths = paths[chosen]
            part_labels = None if label_array is None else label_array[chosen]
            if verbose:
                print(f"Using {len(part_paths)} files for {part}.")
        if not part_paths:
            which = f"{part} images" if part else "images"
            raise ValueError(
                f"No {which} found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}"
            )
        datasets.append(
            _make_dataset(
                part_paths,
                part_labels,
                label_mode,
                names,
                batch_size,
                shuffle and part != "validation",
                seed,
                options,
            )
        )
    return datasets if subset == "both" else datasets[0]
