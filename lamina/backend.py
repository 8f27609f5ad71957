"""The few `keras.backend` functions that still make sense: session and global settings,
unique ids, and Keras' dtype names and promotion rules.

>>> import lamina
>>> lamina.backend.backend()
'torch'
"""

from .config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .layers import _naming
from .layers._naming import clear_session
from .utils._dtype_utils import is_float_dtype, is_int_dtype, result_type, standardize_dtype
from .utils._graph_utils import is_keras_tensor

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


def backend() -> str:
    """The engine under lamina: always 'torch'."""
    return "torch"


def get_uid(prefix: str = "") -> int:
    """A counter per `prefix`: 1, 2, 3, ... until `clear_session()`. It is the counter behind
    automatic layer names, as in Keras: after a first Dense ('dense'), `get_uid('dense')` is 2
    and the next Dense is 'dense_2'.

    >>> clear_session()
    >>> get_uid("block"), get_uid("block"), get_uid("other")
    (1, 2, 1)
    """
    count = _naming._NAME_COUNTS.get(prefix, 0) + 1
    _naming._NAME_COUNTS[prefix] = count
    return count
