"""Utilities, as `keras.utils`: downloading files, image and text folders, time series
windows, image files, one-hot labels, padding, Python datasets, progress bars, seeds."""

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
from lamina.utils._split_dataset import split_dataset
from lamina.utils._text_dataset import text_dataset_from_directory
from lamina.utils._timeseries import timeseries_dataset_from_array
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from lamina.utils.plot_model import plot_model
from lamina.utils.progbar import Progbar

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "array_to_img",
    "Sequence",
    "clear_session",
    "custom_object_scope",
    "get_custom_objects",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "set_random_seed",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
