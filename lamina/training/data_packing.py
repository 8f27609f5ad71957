"""Keras' `unpack_x_y_sample_weight` / `pack_x_y_sample_weight`, for custom train steps.

>>> unpack_x_y_sample_weight((1, 2))
(1, 2, None)
>>> pack_x_y_sample_weight(1), pack_x_y_sample_weight([1, 2])
(1, ([1, 2],))
"""

from __future__ import annotations

from typing import Any

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """(x, y, sample_weight) from `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """The batch as Keras' steps receive it: `x`, `(x,)` for a list of inputs, `(x, y)` or
    `(x, y, sample_weight)`."""
    if y is None:  # a lone x is not wrapped (no ambiguity), a list or tuple of inputs is
        return x if not isinstance(x, (tuple, list)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)
