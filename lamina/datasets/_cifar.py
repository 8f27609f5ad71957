"""What CIFAR-10 and CIFAR-100 share: their original python batches, read safely.

Both datasets are published by the University of Toronto as a tar archive of pickled dicts
(`cifar-10-batches-py/data_batch_1`, `cifar-100-python/train`, ...). This module finds the
batches, in an extracted folder or in the archive itself, and reads them without trusting them:

- the archive is read in memory, member by member, and never extracted; an archive with an
  absolute path, a `..` component, a link, a device or a pipe among its members is refused;
- the pickles are read with an unpickler that builds nothing but dicts, lists, bytes, numbers
  and uint8 NumPy arrays, so a planted file cannot run code.

>>> import pickle
>>> import numpy as np
>>> images = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
>>> x, y = load_batch(pickle.dumps({b"data": images, b"labels": [3, 7]}))
>>> x.shape, x.dtype, y.tolist()
((2, 3, 32, 32), dtype('uint8'), [3, 7])
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from lamina import config
from lamina.datasets._download import dataset_folders
from lamina.datasets.mnist import Arrays

__all__ = [
    "channels_last",
    "find_batch_folder",
    "keras_layout",
    "load_batch",
    "read_archive",
    "read_batch_folder",
]

# ---------------------------------------------------------------------------------------------
# The restricted unpickler.

# NumPy's array rebuilder, taken from NumPy itself so that its private module path (numpy.core
# in NumPy 1, numpy._core in NumPy 2) is never imported by name.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]


def _reconstruct_ndarray(subtype, shape, dtype_code):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"a CIFAR batch holds plain ndarrays; got {subtype!r}")
    return _RECONSTRUCT(subtype, shape, dtype_code)


def _uint8_dtype(name, align=False, copy=False):
    if not isinstance(name, str | bytes) or np.dtype(name) != np.uint8:
        raise pickle.UnpicklingError(f"a CIFAR batch holds uint8 arrays; got dtype {name!r}")
    return np.dtype(name, align, copy)


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the four names a pickled uint8 ndarray needs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct_ndarray,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct_ndarray,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _uint8_dtype,
    }

    def find_class(self, module: str, name: str):
        allowed = self._ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"Refusing to load a CIFAR batch that refers to {module}.{name}: a CIFAR batch "
                "holds only dicts, lists, bytes and uint8 NumPy arrays. The file is corrupted "
                "or malicious; delete it and download it again."
            )
        return allowed


def load_batch(
    data: bytes, label_key: str = "labels", num_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR python batch (a pickle) with the restricted unpickler.

    Args:
        data: the contents of a batch file (`data_batch_1`, `test_batch`, `train`, ...).
        label_key: the labels' key: 'labels' (CIFAR-10), 'fine_labels' or 'coarse_labels'
            (CIFAR-100).
        num_classes: labels must lie in 0..num_classes-1.

    Returns:
        `x` uint8 (N, 3, 32, 32), channels first as stored, and `y` uint8 (N,).

    Raises:
        pickle.UnpicklingError: the pickle refers to anything but uint8 NumPy arrays.
        ValueError: the batch is not a CIFAR batch.

    >>> import pickle
    >>> import numpy as np
    >>> batch = {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [99]}
    >>> load_batch(pickle.dumps(batch), "fine_labels", num_classes=100)[1]
    array([99], dtype=uint8)
    """
    batch = _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"A CIFAR batch is a dict; got {type(batch).__name__}.")
    batch = {
        key.decode("latin-1") if isinstance(key, bytes) else key: v for key, v in batch.items()
    }
    images, labels = batch.get("data"), batch.get(label_key)
    if (
        not isinstance(images, np.ndarray)
        or images.dtype != np.uint8
        or images.ndim != 2
        or images.shape[1] != 3 * 32 * 32
    ):
        raise ValueError("A CIFAR batch's 'data' is a uint8 array of shape (N, 3072).")
    labels = np.asarray(labels if labels is not None else [], dtype=object)
    if labels.shape != (len(images),) or not all(
        isinstance(label, int) and 0 <= label < num_classes for label in labels
    ):
        raise ValueError(
            f"A CIFAR batch's {label_key!r} is a list of {len(images)} integers in "
            f"0..{num_classes - 1}."
        )
    return images.reshape(-1, 3, 32, 32), labels.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Where the batches are: an extracted folder, or the archive read in place.


def find_batch_folder(folder: str, names: Sequence[str]) -> Path | None:
    """The first `folder` holding all the batch files `names` in `dataset_folders()`, or None."""
    for root in dataset_folders():
        candidate = root / folder
        if all((candidate / name).is_file() for name in names):
            return candidate
    return None


def read_batch_folder(path: Path, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of the batch files `names` of an extracted folder, by name."""
    return {name: (path / name).read_bytes() for name in names}


def _refuse(archive: Path, member: str, why: str) -> ValueError:
    return ValueError(
        f"Refusing to read {archive}: member {member!r} {why}. A CIFAR archive holds only "
        "folders and regular files at relative paths. The file is corrupted or malicious; "
        "delete it and download it again."
    )


def _check_member(archive: Path, member: tarfile.TarInfo) -> str:
    """The member's normalised name, after refusing anything an extraction could abuse."""
    name = member.name
    posix = PurePosixPath(name.replace("\\", "/"))
    if not name or posix.is_absolute() or PureWindowsPath(name).anchor:
        raise _refuse(archive, name, "has an absolute path")
    if ".." in posix.parts:
        raise _refuse(archive, name, "contains '..'")
    if member.issym() or member.islnk():
        raise _refuse(archive, name, f"is a link (to {member.linkname!r})")
    if not (member.isfile() or member.isdir()):
        raise _refuse(archive, name, "is a device or pipe, not a file or folder")
    return posix.as_posix()  # drops a leading './'


def read_archive(path: Path, folder: str, names: Sequence[str], title: str) -> dict[str, bytes]:
    """The contents of `folder/<name>` for each of `names`, read from a tar archive in memory.

    Nothing is written to disk. Every member is checked, the unused ones too, so an archive
    that an extraction tool could misuse is refused whole.

    Raises:
        ValueError: a member is a link, a device, or has an absolute or '..' path; or a batch
            file is missing.
    """
    wanted = {f"{folder}/{name}": name for name in names}
    raw = {}
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            name = _check_member(path, member)
            if name in wanted and member.isfile():
                raw[wanted[name]] = archive.extractfile(member).read()
    missing = sorted(set(wanted.values()) - set(raw))
    if missing:
        raise ValueError(
            f"{path} lacks the {title} files {[f'{folder}/{name}' for name in missing]}; it is "
            "not the original archive. Delete it and download it again."
        )
    return raw


# ---------------------------------------------------------------------------------------------
# Layouts.


def channels_last(x: np.ndarray) -> np.ndarray:
    """(N, 3, 32, 32) as stored -> (N, 32, 32, 3), contiguous."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def keras_layout(arrays: Arrays, label_dtype: type = np.uint8) -> Arrays:
    """Channels-last images and (N,) labels -> Keras' return value.

    Images follow `config.image_data_format()`; labels become (N, 1) of `label_dtype`.
    """
    (x_train, y_train), (x_test, y_test) = arrays
    if config.image_data_format() == "channels_first":
        x_train = np.ascontiguousarray(x_train.transpose(0, 3, 1, 2))
        x_test = np.ascontiguousarray(x_test.transpose(0, 3, 1, 2))
    return (
        (x_train, y_train.reshape(-1, 1).astype(label_dtype, copy=False)),
        (x_test, y_test.reshape(-1, 1).astype(label_dtype, copy=False)),
    )
