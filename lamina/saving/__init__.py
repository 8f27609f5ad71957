"""Saving and loading: model files (.lamina), weights files, the serialization registry."""

from ..utils._serialization import deserialize_keras_object, serialize_keras_object  # noqa: E402
from ._file_editor import KerasFileEditor
from .model_file import load_model, save_model
from .registry import (
    CustomObjectScope,
    SafeModeScope,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    in_safe_mode,
    register_keras_serializable,
    register_serializable,
)
from .weights import load_weights, save_weights

__all__ = [
    "CustomObjectScope",
    "KerasFileEditor",
    "SafeModeScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "in_safe_mode",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "register_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
