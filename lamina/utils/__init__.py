"""Utilities, as `keras.utils`: downloading files, image folders, one-hot labels, padding,
Python datasets, seeds."""

from lamina.config import set_random_seed
from lamina.layers._naming import clear_session
from lamina.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    register_keras_serializable,
)
from lamina.training.data_packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from lamina.utils._file import get_file
from lamina.utils._image_dataset import image_dataset_from_directory
from lamina.utils._numerical import normalize, to_categorical
from lamina.utils._py_dataset import PyDataset, Sequence
from lamina.utils._sequences import pad_sequences
from lamina.utils.plot_model import plot_model

__all__ = [
    "CustomObjectScope",
    "PyDataset",
    "Sequence",
    "clear_session",
    "custom_object_scope",
    "get_custom_objects",
    "get_file",
    "image_dataset_from_directory",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "set_random_seed",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
