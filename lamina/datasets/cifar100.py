"""CIFAR-100: 50,000 training and 10,000 test colour images, 32x32, in 100 classes.

The 100 fine classes are grouped into 20 coarse superclasses of 5 each; `load_data(label_mode=)`
chooses which labels come back. Sources, best first (see `lamina.datasets._download`):

1. a `cifar-100-python/` folder (the extracted archive) in a `LAMINA_DATASETS` folder or the
   cache;
2. `cifar-100-python.tar.gz`, read in place (never extracted), in those folders;
3. a download of that archive from the University of Toronto into the cache, SHA-256 checked.

The batches are pickles, read as CIFAR-10's are: with an unpickler that builds nothing but
dicts, lists, bytes, numbers and uint8 NumPy arrays, from an archive whose members are checked
(see `lamina.datasets._cifar`).
"""

from __future__ import annotations

import numpy as np

from lamina.datasets._cifar import (
    channels_last,
    find_batch_folder,
    keras_layout,
    load_batch,
    read_archive,
    read_batch_folder,
)
from lamina.datasets._download import data_file, fetch
from lamina.datasets.mnist import Arrays

__all__ = ["load_data"]

BATCH_FOLDER = "cifar-100-python"
TRAIN_FILE = "train"
TEST_FILE = "test"
ARCHIVE = "cifar-100-python.tar.gz"
NUM_CLASSES = {"fine": 100, "coarse": 20}


def load_data(label_mode: str = "fine") -> Arrays:
    """Load CIFAR-100 as Keras does: `(x_train, y_train), (x_test, y_test)`.

    Args:
        label_mode: 'fine' for the 100 classes (0-99), or 'coarse' for the 20 superclasses
            (0-19).

    Returns:
        `x_train` uint8 (50000, 32, 32, 3), `y_train` int64 (50000, 1),
        `x_test` uint8 (10000, 32, 32, 3), `y_test` int64 (10000, 1).
        Images are (N, 3, 32, 32) under `image_data_format() == 'channels_first'`.
        The labels are int64, as Keras 3 returns them (its docstring says uint8, but it
        reshapes the pickled Python lists, which NumPy makes int64).

    Raises:
        ValueError: `label_mode` is neither 'fine' nor 'coarse'; or a file on disk or the
            download has the wrong SHA-256, or the archive holds links or paths outside it.
        FileNotFoundError: no copy on disk and no download possible; the message lists the
            folders searched and how to provide the archive.

    Citation: Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009.

    >>> from lamina.datasets import cifar100
    >>> cifar100.load_data(label_mode="medium")
    Traceback (most recent call last):
        ...
    ValueError: `label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode=medium.
    """
    if label_mode not in NUM_CLASSES:
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
        )
    names = (TRAIN_FILE, TEST_FILE)
    folder = find_batch_folder(BATCH_FOLDER, names)
    if folder is not None:
        raw = read_batch_folder(folder, names)
    else:
        _, (path,) = fetch("CIFAR-100", [[data_file(ARCHIVE)]])
        raw = read_archive(path, BATCH_FOLDER, names, "CIFAR-100")
    label_key, num_classes = f"{label_mode}_labels", NUM_CLASSES[label_mode]
    x_train, y_train = load_batch(raw.pop(TRAIN_FILE), label_key, num_classes)
    x_test, y_test = load_batch(raw.pop(TEST_FILE), label_key, num_classes)
    arrays = (channels_last(x_train), y_train), (channels_last(x_test), y_test)
    return keras_layout(arrays, label_dtype=np.int64)
