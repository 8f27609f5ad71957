"""Convolution arithmetic shared by the convolution and pooling layers and by `lamina.inspect`.

The course's formulas, one function each: the output size of a convolution, the "same" padding
that keeps `ceil(n / s)` outputs, the output size of a transposed convolution, and how many input
rows a window tiling leaves over when (N - F + 2P) / S is not whole (`tiling_remainder`), with the
`TilingWarning` that convolution and pooling layers give when that drops input.

>>> conv_output_size(7, 3, s=2)
3
>>> same_padding(6, 3, s=2)   # the odd extra pixel goes after (bottom/right), as in Keras
(0, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .. import config as lamina_config

__all__ = [
    "TilingWarning",
    "UntiledAxis",
    "conv_output_size",
    "conv_transpose_output_size",
    "same_padding",
    "tiling_remainder",
    "untiled_axes",
    "untiled_message",
    "zeros_after_input",
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


class TilingWarning(UserWarning):
    """A convolution or pooling layer's windows leave the last rows/columns of its input unused.

    Given when (N - F + 2P) / S is not whole for the input size a layer is built for: the
    windows then stop before the end of the input and the rows/columns after the last window
    take no part in the output. Silence it with
    `warnings.filterwarnings("ignore", category=TilingWarning)` where that is intended.
    """


def tiling_remainder(n: int, f: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Input rows/columns left over after the last window: (N - F + 2P) mod S.

    F is the filter's span, d(f - 1) + 1. Zero means the windows tile the padded input exactly;
    otherwise that many rows/columns at the end (padding included) are in no window.

    Args:
        n: input length.
        f: filter (kernel or pool) length.
        s: stride.
        p: zero padding on each side.
        d: dilation rate.

    >>> tiling_remainder(7, 3, s=3)   # 7x7 input, 3x3 filter, stride 3: (7 - 3) / 3 not whole
    1
    >>> tiling_remainder(7, 3, s=2)
    0
    """
    span = d * (f - 1) + 1
    if n + 2 * p < span:
        raise ValueError(
            f"tiling_remainder: the filter spans {span} inputs but the padded input has only "
            f"n + 2p = {n + 2 * p}; the filter does not fit"
        )
    return (n + 2 * p - span) % s


@dataclass(frozen=True)
class UntiledAxis:
    """One spatial axis along which a window tiling leaves input unused (see `untiled_axes`)."""

    axis: int
    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    remainder: int
    unused: int


def untiled_axes(
    spatial: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int] | None = None,
    zeros_after: Sequence[int] | None = None,
) -> list[UntiledAxis]:
    """The axes along which windows leave real input rows/columns unused at the end.

    Along an axis of length N (None: unknown, skipped), `tiling_remainder` rows of the padded
    input follow the last window. The last P of them are the layer's own padding and the
    `zeros_after` before those were added by a ZeroPadding layer in front of it: what is left,
    max(remainder - P - zeros_after, 0), are real rows, `unused`. An axis is reported only when
    that is more than the gap windows leave between each other anyway (max(S - F, 0), as a 1x1
    convolution with stride 2 skips every other row): such a layer drops input that the pattern
    of its windows would otherwise use.

    >>> [(a.axis, a.remainder, a.unused) for a in untiled_axes((7, 9), (3, 3), (3, 3), (0, 0))]
    [(0, 1, 1)]
    >>> untiled_axes((56,), (1,), (2,), (0,))   # 1x1 stride 2 skips every other row anyway
    []
    >>> untiled_axes((230,), (7,), (2,), (0,), zeros_after=(3,))  # ResNet's padded 7x7 stem
    []
    """
    dilation = dilation or (1,) * len(kernel)
    zeros_after = zeros_after or (0,) * len(kernel)
    found = []
    for axis, n in enumerate(spatial):
        k, s, p, d = kernel[axis], strides[axis], padding[axis], dilation[axis]
        span = d * (k - 1) + 1
        if n is None or n + 2 * p < span:
            continue
        remainder = tiling_remainder(n, k, s, p, d)
        unused = max(remainder - p - zeros_after[axis], 0)
        if unused > max(s - span, 0):
            found.append(UntiledAxis(axis, n, k, s, p, d, remainder, unused))
    return found


def zeros_after_input(inputs: Any) -> tuple[int, ...] | None:
    """Per spatial axis, the zeros a ZeroPadding layer added after a symbolic input, if any.

    A convolution fed by `ZeroPadding2D(3)` (ResNet's stem) may leave the last padded row
    unused: that row is zeros, no input is lost, and there is nothing to warn about.
    """
    from .spatial_reshaping import _ZeroPadding  # that module builds on this one

    producer = getattr(inputs, "layer", None)
    if isinstance(producer, _ZeroPadding):
        return tuple(after for _, after in producer.padding)
    return None


_AXIS_NAMES = {
    1: (("steps", "step", "steps"),),
    2: (("height", "row", "rows"), ("width", "column", "columns")),
    3: (("depth", "plane", "planes"), ("height", "row", "rows"), ("width", "column", "columns")),
}


def untiled_message(owner: str, axes: Sequence[UntiledAxis], rank: int, settings: str) -> str:
    """What a `TilingWarning` (and `summary()`'s note) says about the `axes` of a layer.

    Axes with the same arithmetic are described together.

    >>> axes = untiled_axes((7, 7), (3, 3), (3, 3), (0, 0))
    >>> print(untiled_message("Conv2D 'c'", axes, 2, "strides (3, 3)"))  # doctest: +ELLIPSIS
    Conv2D 'c' leaves input unused: along height and width, (N - F + 2P) / S = (7 - 3 + 0) / 3
    is not whole: the last row and column of 7 are dropped (strides (3, 3)). Use ...
    """
    groups: dict[tuple[int, ...], list[UntiledAxis]] = {}
    for item in axes:
        span = item.dilation * (item.kernel - 1) + 1
        key = (item.size, span, item.padding, item.stride, item.unused)
        groups.setdefault(key, []).append(item)
    parts = []
    for (size, span, padding, stride, unused), items in groups.items():
        names = [_AXIS_NAMES[rank][item.axis] for item in items]
        units = [one if unused == 1 else f"{unused} {many}" for _, one, many in names]
        dropped = f"the last {' and '.join(units)} of {size}"
        verb = "is" if unused == 1 and len(items) == 1 else "are"
        padded = "0" if padding == 0 else f"2*{padding}"
        parts.append(
            f"along {' and '.join(name for name, _, _ in names)}, (N - F + 2P) / S = "
            f"({size} - {span} + {padded}) / {stride} is not whole: {dropped} {verb} dropped"
        )
    return (
        f"{owner} leaves input unused: {'; '.join(parts)} ({settings}). Use padding='same', or "
        "sizes for which S divides N - F + 2P."
    )


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


def zero_pad(x: torch.Tensor, pad: Sequence[int]) -> torch.Tensor:
    """`F.pad(x, pad)` with zeros (non-negative `pad`, last axis first), in `x`'s memory
    layout (channels_last stays channels_last). Eagerly, its gradient is the interior of
    the output's gradient as a view: F.pad's own backward clones it, in the default memory
    layout (ResNet-8 on this CPU: a 3.4 ms copy per step for the 32x32x16 activations).

    >>> zero_pad(torch.ones(1, 1, 2, 2), (0, 1, 0, 1))[0, 0].tolist()
    [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    pad = tuple(pad)
    if torch.compiler.is_compiling() or not (torch.is_grad_enabled() and x.requires_grad):
        # Inductor plans the copy itself; without autograd there is no backward to spare.
        return torch.nn.functional.pad(x, pad)
    return _ZeroPad.apply(x, pad)


class _ZeroPad(torch.autograd.Function):
    # forward(ctx, ...), not a separate setup_context: with setup_context, every apply()
    # binds its arguments through inspect.signature (about 20 us a call).
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, pad: tuple[int, ...]) -> torch.Tensor:  # type: ignore[override]
        ctx.pad, ctx.shape = pad, x.shape
        return torch.nn.functional.pad(x, pad)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        pad, shape = ctx.pad, ctx.shape
        for i in range(len(pad) // 2):
            axis = len(shape) - 1 - i
            grad = grad.narrow(axis, pad[2 * i], shape[axis])
        return grad, None
