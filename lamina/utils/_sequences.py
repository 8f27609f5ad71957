"""`pad_sequences`: a list of variable-length sequences as one padded NumPy array, as Keras."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def _check_side(kind: str, side: Any) -> None:
    if side not in _SIDES:
        raise ValueError(f'{kind} type "{side}" not understood; expected "pre" or "post"')


def _is_text_dtype(dtype: Any) -> bool:
    return dtype is object or np.dtype(dtype).kind in ("U", "S", "O")


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or cut) sequences to one length: a `(len(sequences), maxlen, ...)` NumPy array.

    Sequences longer than `maxlen` lose their first (`truncating="pre"`) or last ("post")
    elements; shorter ones get `value` before ("pre") or after ("post") their elements. The
    elements may be scalars or arrays of one common shape (sequences of vectors).

    Args:
        sequences: a list of sequences (lists or arrays), possibly of different lengths.
        maxlen: the output length; None for the length of the longest sequence.
        dtype: the output type (`object` or a string type for text elements).
        padding: "pre" or "post": which side gets the padding.
        truncating: "pre" or "post": which side of a too-long sequence is cut.
        value: the padding value (cast to `dtype`).

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + element_shape`.

    >>> pad_sequences([[1, 2, 3], [4, 5], [6]])
    array([[1, 2, 3],
           [0, 4, 5],
           [0, 0, 6]], dtype=int32)
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", value=-1)
    array([[ 2,  3],
           [ 4, -1]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    _check_side("Truncating", truncating)
    _check_side("Padding", padding)
    lengths: list[int] = []
    element_shape: tuple[int, ...] | None = None
    for sequence in sequences:
        try:
            length = len(sequence)
        except TypeError as error:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {sequence}"
            ) from error
        lengths.append(length)
        if element_shape is None and length:
            element_shape = np.asarray(sequence).shape[1:]
    if maxlen is None:
        if not lengths:
            raise ValueError(
                "pad_sequences() got no sequences, so the longest length is undefined; "
                "pass maxlen to get an empty (0, maxlen) array"
            )
        maxlen = max(lengths)
    if isinstance(value, str) and not _is_text_dtype(dtype):
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    element_shape = element_shape or ()
    padded = np.full((len(lengths), maxlen, *element_shape), value, dtype=dtype)
    for position, (sequence, length) in enumerate(zip(sequences, lengths, strict=True)):
        kept = min(length, maxlen)
        if kept == 0:
            continue
        start = length - kept if truncating == "pre" else 0
        elements = np.asarray(sequence[start : start + kept], dtype=dtype)
        if elements.ndim == 0:  # a string: Keras fails on it too (with a TypeError)
            raise TypeError(
                f"pad_sequences() takes sequences of elements; the sequence at position "
                f"{position} is a {type(sequence).__name__} ({str(sequence)[:40]!r}): pass "
                "a list of its elements (list(text) for characters)"
            )
        if elements.shape[1:] != element_shape:
            raise ValueError(
                f"Shape of sample {elements.shape[1:]} of sequence at position {position} "
                f"is different from expected shape {element_shape}"
            )
        if padding == "pre":
            padded[position, maxlen - kept :] = elements
        else:
            padded[position, :kept] = elements
    return padded
