"""Host memory during `fit`, `evaluate` and `predict` on the CPU: freed blocks stay in the
process for the next step, and go back to the operating system when the call ends.

glibc's malloc hands large freed blocks back to the kernel (`munmap`, or a trim of the heap's
top) and maps new ones for the next step; the kernel then faults in and zeroes every page
again. A CPU training step frees and re-allocates all its activations, so this can cost a
lot: 20-24 ms of system time per step of the benchmark convnets at batch 128 on 2 cores,
measured in fresh processes (a hand-written torch loop pays it too); whether glibc does it
depends on the thresholds it has adapted to the blocks freed so far in the process.

While such a call runs on the CPU, lamina asks malloc (`mallopt`) to serve blocks of up to
32 MiB from its heap and never to trim it; when the outermost call ends, the heap is trimmed
once (`malloc_trim`) and malloc's trim threshold is set to 64 MiB, the most glibc's own
adaptive setting reaches.

Only glibc (Linux) is tuned; elsewhere this does nothing. `lamina.config.set_cpu_memory_caching
(False)` (or the environment variable `LAMINA_CPU_MEMORY_CACHING=0`) switches it off.

>>> with cached_host_memory(torch.device("cpu")):
...     pass  # fit's steps run here
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import platform
from collections.abc import Iterator
from typing import Any

import torch

from .. import config

__all__ = ["cached_host_memory"]

_LOG = logging.getLogger("lamina.training")

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's upper limit for M_MMAP_THRESHOLD on 64-bit
_TRIM_AFTER = 64 * 1024 * 1024  # 2 x the mmap threshold, as glibc's adaptive rule
_NEVER_TRIM = -1  # "Setting M_TRIM_THRESHOLD to -1 disables trimming completely" (mallopt(3))

_depth = 0
_libc: Any = None


def _glibc() -> Any:
    """The C library when it is glibc with mallopt and malloc_trim, else None."""
    global _libc
    if _libc is None:
        _libc = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                _libc = libc
            except (OSError, AttributeError):
                _libc = False
    return _libc or None


@contextlib.contextmanager
def cached_host_memory(device: torch.device) -> Iterator[bool]:
    """Keep freed host memory in the process while the block runs (on a CPU device, with
    glibc, unless switched off); nested blocks (validation inside fit) share the outermost
    one. Yields whether the tuning is on."""
    global _depth
    libc = _glibc() if device.type == "cpu" and config.cpu_memory_caching() else None
    if libc is None:
        yield False
        return
    if _depth == 0:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM)
        _LOG.debug("lamina: host memory kept between steps (mallopt)")
    _depth += 1
    try:
        yield True
    finally:
        _depth -= 1
        if _depth == 0:
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
            libc.malloc_trim(0)
