"""Utilities, as `keras.utils`: downloading files, image and text folders, time series
windows, image files, one-hot labels, padding, Python datasets, progress bars, seeds,
object serialization, dtype names, logging."""

from lamina.config import set_random_seed
from lamina.layers._naming import clear_session
from lamina.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from lamina.training.data_packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from lamina.utils import bounding_boxes, legacy
from lamina.utils._audio_dataset import audio_dataset_from_directory
from lamina.utils._config import Config
from lamina.utils._dtype_utils import standardize_dtype
from lamina.utils._feature_space import FeatureSpace
from lamina.utils._file import get_file
from lamina.utils._graph_utils import get_source_inputs, is_keras_tensor
from lamina.utils._image_dataset import image_dataset_from_directory
from lamina.utils._logging import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from lamina.utils._numerical import normalize, to_categorical
from lamina.utils._py_dataset import PyDataset, Sequence
from lamina.utils._sequences import pad_sequences
from lamina.utils._serialization import deserialize_keras_object, serialize_keras_object
from lamina.utils._split_dataset import split_dataset
from lamina.utils._text_dataset import text_dataset_from_directory
from lamina.utils._timeseries import timeseries_dataset_from_array
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from lamina.utils.plot_model import model_to_dot, plot_model
from lamina.utils.progbar import Progbar

__all__ = [
    "audio_dataset_from_directory",
    "bounding_boxes",
    "Config",
    "CustomObjectScope",
    "FeatureSpace",
    "Progbar",
    "PyDataset",
    "array_to_img",
    "Sequence",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "image_dataset_from_directory",
    "img_to_array",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "load_img",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "legacy",
    "model_to_dot",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "standardize_dtype",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
