"""Automatic layer names: 'dense', 'dense_1', ... until `clear_session()`."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator

__all__ = ["clear_session", "deferred_tensor_names", "tensor_name", "to_snake_case", "unique_name"]

_NAME_COUNTS: dict[str, int] = {}


class _Deferred(threading.local):
    depth = 0


_DEFERRED = _Deferred()


def tensor_name() -> str | None:
    """The next automatic symbolic tensor name, as Keras': 'keras_tensor', 'keras_tensor_1',
    ... (None while `deferred_tensor_names` is open)."""
    return None if _DEFERRED.depth else unique_name("keras_tensor")


@contextlib.contextmanager
def deferred_tensor_names() -> Iterator[None]:
    """Within: new symbolic tensors take no name yet (a Sequential names its tensors when
    Keras would have built them, see `Sequential._note_rebuild`)."""
    _DEFERRED.depth += 1
    try:
        yield
    finally:
        _DEFERRED.depth -= 1


def to_snake_case(name: str) -> str:
    """'MaxPooling2D' -> 'max_pooling2d', 'BatchNormalization' -> 'batch_normalization'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... until `clear_session()`."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Reset automatic layer names (the next Dense is 'dense' again), as Keras' clear_session."""
    _NAME_COUNTS.clear()
