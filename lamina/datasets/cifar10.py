"""CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, in 10 classes.

Sources, best first (see `lamina.datasets._download`):

1. the original python batches: a `cifar-10-batches-py/` folder, or `cifar-10-python.tar.gz`
   (read in place, never extracted), in a `LAMINA_DATASETS` folder or the cache;
2. `cifar10_jpeg_lossy_bytes.npz`, the offline copy: the full set as JPEG files, so its pixels
   are not the original ones (mean absolute error 5.8, PSNR about 30 dB; labels and order are
   exact). It is decoded with Pillow once into the cache as `cifar10_jpeg_lossy.npz`, and
   loading it warns once per process;
3. a download of the original archive from the University of Toronto.

The python batches are pickles. They are read with an unpickler that builds nothing but dicts,
lists, bytes, numbers and uint8 NumPy arrays, so a planted file cannot run code; the archive's
members are checked as they are read (see `lamina.datasets._cifar`, shared with CIFAR-100).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from lamina.datasets._cifar import (
    channels_last,
    find_batch_folder,
    keras_layout,
    load_batch,
    read_archive,
    read_batch_folder,
)
from lamina.datasets._download import cache_dir, data_file, fetch, file_sha256
from lamina.datasets.mnist import Arrays

__all__ = ["load_batch", "load_data"]

BATCH_FOLDER = "cifar-10-batches-py"
BATCH_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
TEST_FILE = "test_batch"
ARCHIVE = "cifar-10-python.tar.gz"
LOSSY_BYTES = "cifar10_jpeg_lossy_bytes.npz"
LOSSY_DECODED = "cifar10_jpeg_lossy.npz"
IMAGE_SHAPE = (32, 32, 3)

LOSSY_WARNING = (
    "CIFAR-10 comes from the offline copy cifar10_jpeg_lossy_bytes.npz, which was stored as "
    "JPEG: its pixels are NOT the original ones (mean absolute error 5.8 per pixel, PSNR about "
    "30 dB; labels and order are exact), and accuracy may differ by a few points from "
    "published results. For the original pixels, put cifar-10-python.tar.gz in a folder of "
    "LAMINA_DATASETS or in the cache, or remove the JPEG copy from those folders while online."
)
_lossy_warning_shown = False


def _from_batches(raw: dict[str, bytes]) -> Arrays:
    """Training and test arrays, channels last, from the batch files' contents."""
    train = [load_batch(raw[name]) for name in BATCH_FILES]
    x_test, y_test = load_batch(raw[TEST_FILE])
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (channels_last(x_train), y_train), (channels_last(x_test), y_test)


# ---------------------------------------------------------------------------------------------
# The lossy JPEG copy.


def _decode_jpegs(blob: np.ndarray, offsets: np.ndarray, what: str) -> np.ndarray:
    """Decode image i from `blob[offsets[i]:offsets[i + 1]]`, for every i, into (N, 32, 32, 3)."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "Decoding the JPEG copy of CIFAR-10 needs Pillow: pip install pillow"
        ) from error
    offsets = np.asarray(offsets, dtype=np.int64)
    if (
        offsets.ndim != 1
        or offsets[0] != 0
        or offsets[-1] != blob.size
        or np.any(np.diff(offsets) <= 0)
    ):
        raise ValueError(f"{LOSSY_BYTES}: the offsets of {what} do not split its JPEG bytes.")
    images = np.empty((len(offsets) - 1, *IMAGE_SHAPE), dtype=np.uint8)
    buffer = blob.tobytes()
    for i, (start, stop) in enumerate(
        zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    ):
        # formats=["JPEG"]: these bytes must be JPEG; Pillow tries no other decoder on them.
        with Image.open(io.BytesIO(buffer[start:stop]), formats=["JPEG"]) as image:
            pixels = np.asarray(image.convert("RGB"))
        if pixels.shape != IMAGE_SHAPE:
            raise ValueError(f"{LOSSY_BYTES}: {what} image {i} is {pixels.shape}, not 32x32 RGB.")
        images[i] = pixels
    return images


def decode_jpeg_archive(path: Path) -> Arrays:
    """Decode `cifar10_jpeg_lossy_bytes.npz` into `(x_train, y_train), (x_test, y_test)`."""
    with np.load(path, allow_pickle=False) as stored:
        x_train = _decode_jpegs(stored["x_train_jpeg"], stored["x_train_offsets"], "x_train")
        x_test = _decode_jpegs(stored["x_test_jpeg"], stored["x_test_offsets"], "x_test")
        y_train, y_test = stored["y_train"], stored["y_test"]
    if y_train.shape != (len(x_train),) or y_test.shape != (len(x_test),):
        raise ValueError(f"{path}: the labels do not match the images in number.")
    return (x_train, y_train.astype(np.uint8)), (x_test, y_test.astype(np.uint8))


def _read_decoded(path: Path, source_sha256: str) -> Arrays | None:
    """The cached decoded copy, if it exists, was decoded from this source and is whole."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["source_sha256"]) != source_sha256:
                return None
            arrays = [stored[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    x_train, y_train, x_test, y_test = arrays
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.dtype != np.uint8 or x.shape[1:] != IMAGE_SHAPE or y.shape != (len(x),):
            return None
    return (x_train, y_train), (x_test, y_test)


def _write_decoded(path: Path, arrays: Arrays, source_sha256: str) -> None:
    """Save the decoded copy atomically; a cache that cannot be written is only a slower load."""
    (x_train, y_train), (x_test, y_test) = arrays
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, part = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=path.parent
        )
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            # Uncompressed: 184 MB that load in a fraction of a second; compressing would
            # spend longer than the decode it saves.
            np.savez(
                file,
                x_train=x_train,
                y_train=y_train,
                x_test=x_test,
                y_test=y_test,
                source_sha256=np.array(source_sha256),
            )
        os.chmod(part, 0o644)  # mkstemp's files are private; this is public data.
        os.replace(part, path)
    except OSError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)


def _load_lossy(source: Path) -> Arrays:
    source_sha256 = file_sha256(source)
    decoded = cache_dir() / LOSSY_DECODED
    arrays = _read_decoded(decoded, source_sha256)
    if arrays is None:
        print(f"Decoding the CIFAR-10 JPEG copy {source} into {decoded} (once)")
        arrays = decode_jpeg_archive(source)
        _write_decoded(decoded, arrays, source_sha256)
    return arrays


# ---------------------------------------------------------------------------------------------


def load_data() -> Arrays:
    """Load CIFAR-10 as Keras does: `(x_train, y_train), (x_test, y_test)`.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck. Where the data comes from is described in this module's docstring; loading the
    lossy JPEG copy warns once per process.

    Returns:
        `x_train` uint8 (50000, 32, 32, 3), `y_train` uint8 (50000, 1),
        `x_test` uint8 (10000, 32, 32, 3), `y_test` uint8 (10000, 1).
        Images are (N, 3, 32, 32) under `image_data_format() == 'channels_first'`.

    Citation: Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009.
    """
    global _lossy_warning_shown
    folder = find_batch_folder(BATCH_FOLDER, (*BATCH_FILES, TEST_FILE))
    if folder is not None:
        arrays = _from_batches(read_batch_folder(folder, (*BATCH_FILES, TEST_FILE)))
    else:
        index, (path,) = fetch("CIFAR-10", [[data_file(ARCHIVE)], [data_file(LOSSY_BYTES)]])
        if index == 0:
            raw = read_archive(path, BATCH_FOLDER, (*BATCH_FILES, TEST_FILE), "CIFAR-10")
            arrays = _from_batches(raw)
        else:
            arrays = _load_lossy(path)
            if not _lossy_warning_shown:
                _lossy_warning_shown = True
                warnings.warn(LOSSY_WARNING, UserWarning, stacklevel=2)
    return keras_layout(arrays)
