"""Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28x28 greyscale."""

from __future__ import annotations

import gzip

import numpy as np

from lamina.datasets._download import data_file, fetch
from lamina.datasets.mnist import Arrays, load_npz

__all__ = ["load_data"]

# Keras' file names; its cache keeps them in datasets/fashion-mnist/ (MNIST's have the same).
IDX_FILES = (
    "fashion-mnist/train-images-idx3-ubyte.gz",
    "fashion-mnist/train-labels-idx1-ubyte.gz",
    "fashion-mnist/t10k-images-idx3-ubyte.gz",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz",
)
# IDX magic numbers: unsigned bytes (0x08) with 3 dimensions (images) or 1 (labels).
_IMAGES_MAGIC, _LABELS_MAGIC = 0x0803, 0x0801


def read_idx(path, magic: int) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (the MNIST format) into an array."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    header = np.frombuffer(data, ">u4", count=1)[0]
    if header != magic:
        raise ValueError(f"{path} is not an IDX file of {magic & 0xFF}-D unsigned bytes.")
    rank = magic & 0xFF
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=rank, offset=4))
    # A copy, so the arrays are writable like those of the .npz copy.
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape).copy()


def load_data() -> Arrays:
    """Load Fashion-MNIST as Keras does: `(x_train, y_train), (x_test, y_test)`.

    Looks for `fashion_mnist.npz`, then for Keras' four IDX files in `fashion-mnist/`, in the
    folders of `LAMINA_DATASETS` and the cache (`~/.lamina/datasets`); otherwise downloads the
    IDX files from Keras' storage. SHA-256 sums are checked.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Returns:
        `x_train` uint8 (60000, 28, 28), `y_train` uint8 (60000,),
        `x_test` uint8 (10000, 28, 28), `y_test` uint8 (10000,).

    License: MIT, Copyright (c) 2017 Zalando SE.
    """
    index, paths = fetch(
        "Fashion-MNIST", [[data_file("fashion_mnist.npz")], [data_file(name) for name in IDX_FILES]]
    )
    if index == 0:
        return load_npz(paths[0])
    x_train, y_train, x_test, y_test = (
        read_idx(path, _IMAGES_MAGIC if "images" in path.name else _LABELS_MAGIC) for path in paths
    )
    return (x_train, y_train), (x_test, y_test)
