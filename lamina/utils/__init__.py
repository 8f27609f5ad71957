"""Utilities, as `keras.utils`: downloading files, image folders, one-hot labels, padding,
Python datasets, seeds."""

from lamina.config import set_random_seed
from lamina.layers._naming import clear_session
from lamina.utils._file import get_file
from lamina.utils._image_dataset import image_dataset_from_directory
from lamina.utils._numerical import normalize, to_categorical
from lamina.utils._py_dataset import PyDataset, Sequence
from lamina.utils._sequences import pad_sequences
from lamina.utils.plot_model import plot_model

__all__ = [
    "PyDataset",
    "Sequence",
    "clear_session",
    "get_file",
    "image_dataset_from_directory",
    "normalize",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
