"""Utilities, as `keras.utils`: downloading files, one-hot labels, normalization."""

from lamina.utils._file import get_file
from lamina.utils._numerical import normalize, to_categorical

__all__ = ["get_file", "normalize", "to_categorical"]
