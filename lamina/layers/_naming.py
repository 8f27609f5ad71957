"""Automatic layer names: 'dense', 'dense_1', ... until `clear_session()`."""

from __future__ import annotations

import re

__all__ = ["clear_session", "to_snake_case", "unique_name"]

_NAME_COUNTS: dict[str, int] = {}


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
