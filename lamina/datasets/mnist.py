"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 greyscale."""

from __future__ import annotations

import numpy as np

from lamina.datasets._download import data_file, fetch

__all__ = ["load_data"]

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_npz(path) -> Arrays:
    """Read `(x_train, y_train), (x_test, y_test)` from a NumPy archive, without pickle."""
    with np.load(path, allow_pickle=False) as arrays:
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_data(path: str = "mnist.npz") -> Arrays:
    """Load MNIST as Keras does: `(x_train, y_train), (x_test, y_test)`.

    The file is looked for in the folders of `LAMINA_DATASETS`, then in the cache
    (`~/.lamina/datasets`), then downloaded from Keras' storage; its SHA-256 is checked.

    Args:
        path: file name of the archive in those folders (Keras: relative to its cache).

    Returns:
        `x_train` uint8 (60000, 28, 28), `y_train` uint8 (60000,) with digits 0-9,
        `x_test` uint8 (10000, 28, 28), `y_test` uint8 (10000,).

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative of the
    NIST databases, and make it available under CC BY-SA 3.0.
    """
    if "/" in path or "\\" in path or path in ("", ".", ".."):
        raise ValueError(
            f"path must be a file name, looked for in the folders of LAMINA_DATASETS and in the "
            f"cache; got {path!r}. To use a file elsewhere, add its folder to LAMINA_DATASETS."
        )
    _, (archive,) = fetch("MNIST", [[data_file(path, known_as="mnist.npz")]])
    return load_npz(archive)
