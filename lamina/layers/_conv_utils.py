"""Convolution arithmetic shared by the convolution and pooling layers and by `lamina.inspect`.

The course's formulas, one function each: the output size of a convolution, the "same" padding
that keeps `ceil(n / s)` outputs, and the output size of a transposed convolution.

>>> conv_output_size(7, 3, s=2)
3
>>> same_padding(6, 3, s=2)   # the odd extra pixel goes after (bottom/right), as in Keras
(0, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .. import config as lamina_config

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "same_padding",
]


def conv_output_size(n: int, f: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a convolution: floor((n + 2p - d(f - 1) - 1) / s) + 1.

    Args:
        n: input length.
        f: filter (kernel) length.
        s: stride.
        p: zero padding added on each side.
        d: dilation rate (the filter covers d(f - 1) + 1 inputs).

    A result of 0 or less means the filter does not fit in the padded input.

    >>> conv_output_size(32, 5)
    28
    >>> conv_output_size(7, 3, s=1, p=1)
    7
    """
    return (n + 2 * p - d * (f - 1) - 1) // s + 1


def same_padding(n: int, f: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """The (before, after) zero padding of 'same' convolution or pooling along one axis.

    'same' keeps ceil(n / s) outputs. The total padding is
    max((ceil(n / s) - 1) * s + d(f - 1) + 1 - n, 0) and, when it is odd, the extra pixel goes
    after the input (bottom/right), as TensorFlow and Keras do (PyTorch would put it before).

    >>> same_padding(7, 3, s=2)
    (1, 1)
    >>> same_padding(5, 4)
    (1, 2)
    """
    total = max((math.ceil(n / s) - 1) * s + d * (f - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def conv_transpose_output_size(
    n: int, f: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0
) -> int:
    """Output length of a transposed convolution: (n - 1)s - 2p + d(f - 1) + output_padding + 1.

    The inverse of `conv_output_size` in shape: a transposed convolution with the same f, s, p, d
    maps a length back to one that a convolution would map to n.

    >>> conv_transpose_output_size(3, 3, s=2)
    7
    """
    return (n - 1) * s - 2 * p + d * (f - 1) + output_padding + 1


# ---------------------------------------------------------------- argument checks for layers


def normalize_tuple(
    value: Any, rank: int, name: str, owner: str, allow_zero: bool = False
) -> tuple[int, ...]:
    """An int or a sequence of `rank` ints as a tuple of `rank` positive (or >= 0) ints."""
    values: tuple[Any, ...]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        values = (value,) * rank
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        values = ()
    smallest = 0 if allow_zero else 1
    if len(values) != rank or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= smallest for v in values
    ):
        condition = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{owner}: {name} must be a {condition} int or a tuple of {rank} {condition} ints; "
            f"got {name}={value!r}"
        )
    return values


def normalize_data_format(data_format: str | None, owner: str) -> str:
    """'channels_last' or 'channels_first'; None gives `lamina.config.image_data_format()`."""
    if data_format is None:
        return lamina_config.image_data_format()
    if isinstance(data_format, str) and data_format.lower() in ("channels_last", "channels_first"):
        return data_format.lower()
    raise ValueError(
        f"{owner}: data_format must be 'channels_last' or 'channels_first'; got {data_format!r}"
    )


def normalize_padding(
    padding: Any, rank: int, owner: str, allowed: Sequence[str] = ("valid", "same")
) -> str | tuple[int, ...]:
    """A lower-case mode from `allowed`, or explicit symmetric zero padding, one int per axis.

    Explicit padding (an int or a tuple of ints) is accepted only where `allowed` names it with
    the word 'explicit'; the other words are modes.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in allowed and mode != "explicit":
            return mode
    elif "explicit" in allowed and not isinstance(padding, bool):
        try:
            return normalize_tuple(padding, rank, "padding", owner, allow_zero=True)
        except ValueError:
            pass
    modes = ", ".join(repr(m) for m in allowed if m != "explicit")
    extra = (
        f", or an int / tuple of {rank} ints of zero padding per spatial axis"
        if "explicit" in allowed
        else ""
    )
    raise ValueError(f"{owner}: padding must be one of {modes}{extra}; got padding={padding!r}")


def spatial_shape(shape: Sequence[int | None], rank: int, channels_last: bool) -> tuple[Any, ...]:
    """The spatial sizes of a (batch, ..., channels) or (batch, channels, ...) shape."""
    return tuple(shape[1 : rank + 1]) if channels_last else tuple(shape[2 : rank + 2])


def with_spatial(
    shape: Sequence[int | None], spatial: Sequence[Any], channels: Any, channels_last: bool
) -> tuple[Any, ...]:
    """A shape with the batch axis of `shape` and the given spatial sizes and channel count."""
    if channels_last:
        return (shape[0], *spatial, channels)
    return (shape[0], channels, *spatial)


def to_channels_first(x: torch.Tensor) -> torch.Tensor:
    """(N, *spatial, C) -> (N, C, *spatial) as a view: channels_last memory, as cuDNN likes."""
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(N, C, *spatial) -> (N, *spatial, C) as a view."""
    return x.permute(0, *range(2, x.ndim), 1)


def torch_pad_argument(pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Per-axis (before, after) pairs, first axis first, as F.pad wants them (last axis first)."""
    flat: list[int] = []
    for before, after in reversed(pads):
        flat.extend((before, after))
    return tuple(flat)


def spatial_description(rank: int, channels_last: bool) -> str:
    """How a layer's input axes read: '(batch, height, width, channels)'."""
    spatial = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}[rank]
    axes = (*spatial, "channels") if channels_last else ("channels", *spatial)
    return f"(batch, {', '.join(axes)})"
