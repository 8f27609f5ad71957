"""Global settings: image data format, float type, default device, seeds.

>>> import lamina
>>> lamina.config.image_data_format()
'channels_last'
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .saving.registry import enable_unsafe_deserialization

_IMAGE_DATA_FORMAT = "channels_last"
_FLOATX = "float32"
_EPSILON = 1e-7
_DEVICE: str | None = None
_CPU_MEMORY_CACHING: bool | None = None

__all__ = [
    "backend",
    "cpu_memory_caching",
    "device",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_cpu_memory_caching",
    "set_device",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_random_seed",
]


def backend() -> str:
    """The engine's name, as Keras' `keras.config.backend()` names its backend.

    >>> backend()
    'torch'
    """
    return "torch"


def image_data_format() -> str:
    """Return the logical layout of image tensors: 'channels_last' (Keras' default)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the logical layout of image tensors ('channels_last' or 'channels_first')."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first'; got {data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def floatx() -> str:
    """Return the default float type as a string ('float32')."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: 'float16', 'bfloat16', 'float32' or 'float64'."""
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            f"floatx must be one of 'float16', 'bfloat16', 'float32', 'float64'; got {value!r}"
        )
    _FLOATX = value


def epsilon() -> float:
    """Return the fuzz factor used in numeric expressions (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used in numeric expressions."""
    global _EPSILON
    _EPSILON = float(value)


def device() -> torch.device:
    """Return the device lamina trains on: `set_device`'s choice, else CUDA if present, else CPU.

    The environment variable ``LAMINA_DEVICE`` overrides the automatic choice.
    """
    choice = _DEVICE or os.environ.get("LAMINA_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_device(value: str | torch.device | None) -> None:
    """Force the training device ('cpu', 'cuda', 'cuda:1', ...); None restores the automatic one."""
    global _DEVICE
    _DEVICE = None if value is None else str(torch.device(value))


def cpu_memory_caching() -> bool:
    """Whether `fit`, `evaluate` and `predict` on the CPU keep freed memory in the process
    between steps (see `lamina.training.host_memory`): True unless switched off with
    `set_cpu_memory_caching(False)` or the environment variable ``LAMINA_CPU_MEMORY_CACHING=0``.

    >>> set_cpu_memory_caching(True)
    >>> cpu_memory_caching()
    True
    >>> set_cpu_memory_caching(None)
    """
    if _CPU_MEMORY_CACHING is not None:
        return _CPU_MEMORY_CACHING
    return os.environ.get("LAMINA_CPU_MEMORY_CACHING", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def set_cpu_memory_caching(enabled: bool | None) -> None:
    """Switch host-memory caching during CPU training on or off; None restores the default."""
    global _CPU_MEMORY_CACHING
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"set_cpu_memory_caching takes True, False or None; got {enabled!r}")
    _CPU_MEMORY_CACHING = enabled


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) at once, as `keras.utils.set_random_seed`."""
    if not isinstance(seed, int):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def torch_dtype(name: str | torch.dtype | None) -> torch.dtype:
    """Translate a Keras dtype name ('float32', ...) to a torch dtype."""
    if name is None:
        name = _FLOATX
    if isinstance(name, torch.dtype):
        return name
    dtype = getattr(torch, str(name), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"Unknown dtype {name!r}")
    return dtype
