"""Where dataset files come from: local folders first, then the cache, then the internet.

`fetch` is the one resolution function every loader uses. For each dataset a loader lists its
alternatives, best first: each alternative is a group of files that together hold the dataset.
`fetch` returns the first alternative whose files are all on disk, looking in

1. every folder of the environment variable `LAMINA_DATASETS` (separated by `os.pathsep`),
2. the cache, `$LAMINA_HOME/datasets` or `~/.lamina/datasets`,

and otherwise downloads the first alternative that has URLs into the cache, through
`lamina.utils.get_file`. Every file is checked against the SHA-256 sums in `KNOWN_SHA256`; a
local copy with another sum is an error, never silently used or replaced.

File names are those of the offline copies (`mnist.npz`, `fashion_mnist.npz`,
`cifar10_jpeg_lossy_bytes.npz`, ...) and of Keras' own cache, so `LAMINA_DATASETS` may point at
`~/.keras/datasets` too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lamina.utils._file import get_file, hash_file, lamina_home

__all__ = [
    "KNOWN_SHA256",
    "SOURCES",
    "DataFile",
    "data_file",
    "cache_dir",
    "dataset_folders",
    "fetch",
    "find_local",
]

KERAS_STORAGE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# SHA-256 of every file a loader accepts, by name relative to a datasets folder. Several sums
# for one name are several copies of the same data (e.g. the offline copy is compressed
# differently from Keras' download).
KNOWN_SHA256: dict[str, tuple[str, ...]] = {
    "mnist.npz": (
        # The offline copy, SHA256SUMS of the shared datasets folder.
        "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
        # Keras' download, KERAS_STORAGE + "mnist.npz" (the sum in keras/src/datasets/mnist.py).
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
    "fashion_mnist.npz": ("5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469",),
    "cifar10_exact_subset.npz": (
        "5e81f99fe5af185b32d0cb5efbf72c956a858f8e684fdfba6995f9e197878f5c",
    ),
    "cifar10_jpeg_lossy_bytes.npz": (
        "0b743b9e12465c8a08789ed9e6509305f116e5054d6ea47ad57ef66b6fced7c0",
    ),
    "cifar10_small_jpeg_lossy.npz": (
        "3c34da51e74fb79ab13c555360685962757891d5e2045ed9ca4348dcc0532940",
    ),
    # Fashion-MNIST's original IDX files, stored by Keras under datasets/fashion-mnist/. The
    # sums are those of keras/src/datasets/fashion_mnist.py, and agree with torchvision's and
    # TensorFlow Datasets' for zalandoresearch's files.
    "fashion-mnist/train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "fashion-mnist/train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
    "fashion-mnist/t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    # The original CIFAR-10 python archive (170,498,071 bytes). Toronto publishes only its MD5,
    # c58f30108f718f92721af3b95e74349a; this SHA-256 is the one Keras verifies
    # (keras/src/datasets/cifar10.py), and public records pair it with that MD5.
    "cifar-10-python.tar.gz": ("6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",),
    # The original CIFAR-100 python archive. Toronto publishes only its MD5,
    # eb9058c3a382ffc7106e4002c42a8d85; this SHA-256 is the one Keras verifies
    # (keras/src/datasets/cifar100.py).
    "cifar-100-python.tar.gz": (
        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    ),
}


# Canonical download of each file that has one: (URL, SHA-256 of the file at that URL).
SOURCES: dict[str, tuple[str, str]] = {
    "mnist.npz": (KERAS_STORAGE + "mnist.npz", KNOWN_SHA256["mnist.npz"][1]),
    **{
        name: (KERAS_STORAGE + PurePosixPath(name).name, KNOWN_SHA256[name][0])
        for name in KNOWN_SHA256
        if name.startswith("fashion-mnist/")
    },
    "cifar-10-python.tar.gz": (
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        KNOWN_SHA256["cifar-10-python.tar.gz"][0],
    ),
    "cifar-100-python.tar.gz": (
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        KNOWN_SHA256["cifar-100-python.tar.gz"][0],
    ),
}


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset.

    Attributes:
        name: path relative to a datasets folder, '/'-separated ("fashion-mnist/t10k-...gz").
        sha256: the accepted SHA-256 sums.
        origin: URL to download it from, or None where the file exists only as an offline copy.
        origin_sha256: SHA-256 of the file at `origin` (one of `sha256`).
    """

    name: str
    sha256: tuple[str, ...]
    origin: str | None = None
    origin_sha256: str | None = None


def data_file(name: str, known_as: str | None = None) -> DataFile:
    """The `DataFile` `name`, with its sums and source as the tables hold them now.

    `known_as` gives the table entry of a renamed file (`mnist.load_data(path="my.npz")`), so
    that it is still verified and downloaded from the right place.
    """
    key = known_as or name
    origin, origin_sha256 = SOURCES.get(key, (None, None))
    return DataFile(name, KNOWN_SHA256[key], origin, origin_sha256)


def cache_dir() -> Path:
    """The download cache: `$LAMINA_HOME/datasets`, default `~/.lamina/datasets`."""
    return lamina_home() / "datasets"


def dataset_folders() -> list[Path]:
    """The folders searched for dataset files, in order: `LAMINA_DATASETS`'s, then the cache."""
    listed = os.environ.get("LAMINA_DATASETS", "")
    folders = [Path(entry).expanduser() for entry in listed.split(os.pathsep) if entry]
    return [*folders, cache_dir()]


# Sums already computed in this process, by (path, size, modification time): a loader called
# in a loop hashes each file once.
_VERIFIED: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, computed once per process for an unchanged file."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = hash_file(path, "sha256")
    return _VERIFIED[key]


def verify(path: Path, file: DataFile) -> None:
    """Raise `ValueError` unless `path`'s SHA-256 is one of `file.sha256`."""
    actual = file_sha256(path)
    if actual not in file.sha256:
        expected = " or ".join(file.sha256)
        raise ValueError(
            f"The dataset file {path} has the wrong SHA-256, so it is corrupted or is not the "
            f"expected file {file.name!r}.\n  expected: {expected}\n  actual:   {actual}\n"
            f"Delete it, or replace it with a good copy (`sha256sum {path.name}` shows its "
            "sum; the offline datasets folder checks with `sha256sum -c SHA256SUMS`)."
        )


def find_local(file: DataFile) -> Path | None:
    """The first verified copy of `file` in `dataset_folders()`, or None if there is none."""
    for folder in dataset_folders():
        candidate = folder.joinpath(*PurePosixPath(file.name).parts)
        if candidate.is_file():
            verify(candidate, file)
            return candidate
    return None


def _download(file: DataFile) -> Path:
    relative = PurePosixPath(file.name)
    path = get_file(
        fname=relative.name,
        origin=file.origin,
        file_hash=file.origin_sha256,
        cache_dir=cache_dir(),
        cache_subdir=Path(*relative.parent.parts),
    )
    return Path(path)


def _not_found(title: str, alternatives: Sequence[Sequence[DataFile]], failures: list) -> str:
    lines = [f"Could not find the {title} dataset on disk, nor download it.", "Looked for:"]
    lines += [f"  {' + '.join(file.name for file in group)}" for group in alternatives]
    lines.append("in these folders:")
    listed = os.environ.get("LAMINA_DATASETS")
    for folder in dataset_folders():
        note = "the cache" if folder == cache_dir() else "from LAMINA_DATASETS"
        if not folder.is_dir():
            note += ", does not exist"
        lines.append(f"  {folder} ({note})")
    if not listed:
        lines.append("  (LAMINA_DATASETS is not set)")
    if failures:
        lines.append("Tried to download:")
        prefix = "URL fetch failure on {}: "
        lines += [
            f"  {url}: {str(error).removeprefix(prefix.format(url))}" for url, error in failures
        ]
    lines.append(
        "To fix: put one of these files in a folder and list that folder in the environment "
        f"variable LAMINA_DATASETS (several folders separated by {os.pathsep!r}), or copy it "
        f"into {cache_dir()}, or connect to the internet so it can be downloaded."
    )
    return "\n".join(lines)


def fetch(title: str, alternatives: Sequence[Sequence[DataFile]]) -> tuple[int, list[Path]]:
    """Find or download one alternative of a dataset; return its index and its files' paths.

    Args:
        title: the dataset's name for messages ("MNIST").
        alternatives: groups of files, best first; a group is usable once all its files are.

    Raises:
        ValueError: a file on disk or a download has the wrong SHA-256.
        FileNotFoundError: no alternative is on disk and every download failed; the message
            lists the folders searched, the URLs tried and how to provide the files.
    """
    for index, group in enumerate(alternatives):
        paths = [find_local(file) for file in group]
        if all(path is not None for path in paths):
            return index, paths
    failures: list[tuple[str, OSError]] = []
    for index, group in enumerate(alternatives):
        if any(file.origin is None for file in group):
            continue
        paths = []
        for file in group:
            try:
                paths.append(find_local(file) or _download(file))
            except OSError as error:
                failures.append((file.origin, error))
                break
        else:
            return index, paths
    raise FileNotFoundError(_not_found(title, alternatives, failures))
