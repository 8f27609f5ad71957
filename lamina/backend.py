"""The few `keras.backend` functions that still make sense: session and global settings.

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
from .layers._naming import clear_session

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]


def backend() -> str:
    """The engine under lamina: always 'torch'."""
    return "torch"
