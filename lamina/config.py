"""Global settings: image data format, float type, default device, seeds, the dtype policy,
flags (flash attention, traceback filtering, interactive logging), debugging caps on fit.

>>> import lamina
>>> lamina.config.image_data_format()
'channels_last'
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from typing import Any

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
    "device_scope",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_cpu_memory_caching",
    "set_device",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_max_epochs",
    "set_max_steps_per_epoch",
    "set_random_seed",
]


def backend() -> str:
    """The engine's name, as Keras' `keras.config.backend()` names its backend.

    >>> backend()
    'torch'
    """
    return "torch"


def set_backend(backend: str) -> None:
    """Keras' backend switch: lamina runs on PyTorch only, so "torch" is accepted (nothing
    changes) and any other name is refused.

    >>> set_backend("torch")
    """
    if backend != "torch":
        raise ValueError(
            f"set_backend({backend!r}): lamina runs on PyTorch only; the backend is 'torch'"
        )


def is_nnx_enabled() -> bool:
    """Keras' flag for Flax NNX on its JAX backend: always False in lamina.

    >>> is_nnx_enabled()
    False
    """
    return False


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


@contextlib.contextmanager
def device_scope(device_name: str | torch.device) -> Iterator[torch.device]:
    """Keras' `keras.device(name)`: within the block, lamina trains on `device_name` and
    tensors and weights are created there ('cpu', 'cpu:0', 'gpu:0' or 'cuda:0').

    >>> with device_scope("cpu:0") as chosen:
    ...     print(chosen, device())
    cpu:0 cpu:0
    """
    name = str(device_name).lower()
    if name.startswith("gpu"):
        name = "cuda" + name[3:]
    try:
        chosen = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"device_scope: unknown device {device_name!r}; use 'cpu', 'gpu:0' or 'cuda:0'"
        ) from None
    global _DEVICE
    previous = _DEVICE
    _DEVICE = str(chosen)
    try:
        with chosen:
            yield chosen
    finally:
        _DEVICE = previous


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
        raise ValueError(  # ValueError, as Keras
            "set_random_seed: expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
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


# ---------------------------------------------------------------- dtype policy (mixed precision)


def dtype_policy() -> Any:
    """The global dtype policy new layers get (`lamina.mixed_precision.global_policy`).

    >>> dtype_policy().name
    'float32'
    """
    from .mixed_precision import global_policy

    return global_policy()


def set_dtype_policy(policy: Any) -> None:
    """Set the global dtype policy: a name ('mixed_float16', 'mixed_bfloat16', 'float32', ...)
    or a `DTypePolicy` (`lamina.mixed_precision.set_global_policy`)."""
    from .mixed_precision import set_global_policy

    set_global_policy(policy)


# ------------------------------------------------------------------------------------ flags

_FLAGS: dict[str, Any] = {
    "flash_attention": None,
    "traceback_filtering": True,
    "interactive_logging": True,
}


def enable_flash_attention() -> None:
    """Let attention layers use a flash-attention kernel where the inputs allow it (the
    default). As in Keras, this restores the automatic choice: `is_flash_attention_enabled()`
    is then None, not True."""
    _FLAGS["flash_attention"] = None


def disable_flash_attention() -> None:
    """Keep attention layers off flash-attention kernels."""
    _FLAGS["flash_attention"] = False


def is_flash_attention_enabled() -> bool | None:
    """False after `disable_flash_attention()`; otherwise None (the backend chooses).

    >>> is_flash_attention_enabled() is None
    True
    """
    return _FLAGS["flash_attention"]


def enable_traceback_filtering() -> None:
    """Turn traceback filtering on (the default; a flag for Keras compatibility: lamina does
    not rewrite tracebacks)."""
    _FLAGS["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Turn traceback filtering off (a flag for Keras compatibility)."""
    _FLAGS["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    """Whether traceback filtering is on (True by default).

    >>> is_traceback_filtering_enabled()
    True
    """
    return _FLAGS["traceback_filtering"]


def enable_interactive_logging() -> None:
    """Write logs (progress bars, summaries) to stdout: the default, best in a shell or a
    notebook."""
    _FLAGS["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Send logs to the `logging` module (logger 'lamina', level INFO) instead of stdout: for
    training jobs whose output goes to log files."""
    _FLAGS["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    """True when logs go to stdout, False when they go to the `logging` module.

    >>> is_interactive_logging_enabled()
    True
    """
    return _FLAGS["interactive_logging"]


# ---------------------------------------------------------- debugging caps on epochs and steps


def _cap_from_environment(*names: str) -> int | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return int(value)
    return None


# `LAMINA_MAX_EPOCHS` or Keras' `KERAS_MAX_EPOCHS` (and the same for steps) cap a run without
# touching the script.
_CAPS: dict[str, int | None] = {
    "epochs": _cap_from_environment("LAMINA_MAX_EPOCHS", "KERAS_MAX_EPOCHS"),
    "steps": _cap_from_environment("LAMINA_MAX_STEPS_PER_EPOCH", "KERAS_MAX_STEPS_PER_EPOCH"),
}


def _check_cap(value: Any, what: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise TypeError(f"{what} takes a positive int or None; got {value!r}")
    return value


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the number of epochs of every `fit()` (for quick debugging runs); None removes it.

    >>> set_max_epochs(2)
    >>> max_epochs()
    2
    >>> set_max_epochs(None)
    """
    _CAPS["epochs"] = _check_cap(max_epochs, "set_max_epochs")


def max_epochs() -> int | None:
    """The cap on epochs set by `set_max_epochs` or ``LAMINA_MAX_EPOCHS`` / ``KERAS_MAX_EPOCHS``;
    None when there is none."""
    return _CAPS["epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of each epoch of `fit()`, `evaluate()` and `predict()` (for debugging);
    None removes it."""
    _CAPS["steps"] = _check_cap(max_steps_per_epoch, "set_max_steps_per_epoch")


def max_steps_per_epoch() -> int | None:
    """The cap on steps per epoch set by `set_max_steps_per_epoch` or
    ``LAMINA_MAX_STEPS_PER_EPOCH`` / ``KERAS_MAX_STEPS_PER_EPOCH``; None when there is none."""
    return _CAPS["steps"]
