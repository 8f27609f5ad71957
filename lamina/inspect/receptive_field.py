"""Receptive fields: how much of the input each layer's output units see, and how far apart.

For every spatial layer, three numbers per spatial axis, by the course's recurrence (a layer
with effective kernel F = d(k - 1) + 1, stride S and padding P_before, on an input whose
units have receptive field r, jump j and first centre `start`):

    r' = r + (F - 1) * j          the receptive field size, in input pixels
    j' = j * S                    the jump: distance between neighbouring units, in input pixels
    start' = start + ((F - 1) / 2 - P_before) * j

`start` is the centre of the first output unit in input coordinates, pixel i of the input being
centred at i (so it can be negative when padding puts the first window partly outside).
L stacked KxK stride-1 convolutions see 1 + L(K - 1) pixels:

>>> from lamina import Input, Sequential, layers
>>> model = Sequential([Input((32, 32, 3))] + [layers.Conv2D(8, 3) for _ in range(3)])
>>> [(r.size, r.jump) for r in receptive_field(model)]
[((3, 3), (1, 1)), ((5, 5), (1, 1)), ((7, 7), (1, 1))]

What each family does:

* Conv1D/2D/3D, DepthwiseConv, SeparableConv (the pointwise stage adds nothing), max and
  average pooling: the recurrence above; 'same' padding uses the input size the layer meets.
* ZeroPadding / Cropping: only `start` moves (by the padding before, or the cropping before).
* Transposed convolutions and UpSampling have fractional jumps (j' = j / S): a transposed
  convolution's unit sees up to ceil(F / S) input units, r' = r + (ceil(F / S) - 1) * j, and
  its first unit maps back to start + (crop_before - (F - 1) / 2) / S * j; UpSampling
  ('nearest') keeps r, 'bilinear' adds one unit (r + j), 'bicubic' three, with `start` at the
  half-pixel centre start + (1 / (2 S) - 1 / 2) * j.
* Layers that keep the spatial sizes (activations, normalization, dropout, Dense on the channel
  axis, merges) keep the field. Global pooling, Flatten and any layer that reshapes the spatial
  axes end it: their output sees the whole input (no record, "-" in the summary).
* Several inputs (Add, Concatenate in a functional graph): the size is the maximum over the
  paths, per axis; jump and start are those of the input with the largest field.
* Nested models are walked through; subclassed models are read as a chain of their layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..layers._conv_base import _BaseConv
from ..layers._conv_utils import spatial_shape
from ..layers.convolution import _ConvTranspose
from ..layers.pooling import _GlobalPooling, _Pooling
from ..layers.spatial_reshaping import _Cropping, _UpSampling, _ZeroPadding
from ._graph import FlatGraph, flatten, single_shape

__all__ = ["ReceptiveField", "receptive_field"]

#: Layers whose record `receptive_field` returns (besides merges of several inputs).
SPATIAL_LAYERS = (_BaseConv, _Pooling, _ZeroPadding, _Cropping, _UpSampling)
_EXTRA_TAPS = {"nearest": 0, "bilinear": 1, "bicubic": 3}


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one layer's output units, one value per spatial axis.

    Attributes:
        name: the layer's name.
        class_name: the layer's class ('Conv2D').
        size: how many input pixels one output unit sees, per axis.
        jump: the distance in input pixels between neighbouring output units (the product of
            the strides so far), per axis; a fraction after upsampling.
        start: the centre of the first output unit in input coordinates (input pixel i is
            centred at i), per axis; None where 'same' padding met an unknown input size.
    """

    name: str
    class_name: str
    size: tuple[int | float, ...]
    jump: tuple[int | float, ...]
    start: tuple[float | None, ...]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.class_name}): size {format_axes(self.size)}, jump "
            f"{format_axes(self.jump)}, start {format_axes(self.start)}"
        )


def format_axes(values: tuple[Any, ...]) -> str:
    """'5' when every axis agrees, '5x3' otherwise; fractions as decimals ('0.5')."""

    def one(value: Any) -> str:
        if value is None:
            return "?"
        return str(int(value)) if float(value).is_integer() else f"{float(value):g}"

    texts = [one(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


@dataclass(frozen=True)
class _Field:
    """The running (size, jump, start) per axis; no axes yet means the identity field."""

    size: tuple[Fraction, ...] = ()
    jump: tuple[Fraction, ...] = ()
    start: tuple[Fraction | None, ...] = ()

    def axes(self, rank: int) -> _Field | None:
        """This field over `rank` axes (the identity field fits any rank)."""
        if not self.size:
            one, zero = Fraction(1), Fraction(0)
            return _Field((one,) * rank, (one,) * rank, (zero,) * rank)
        return self if len(self.size) == rank else None


def _number(value: Fraction | None) -> Any:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)


def _window(
    field: _Field, axis: int, span: int, stride: Fraction, before: int | None
) -> tuple[Fraction, Fraction, Fraction | None]:
    """One axis through a sliding window of `span` inputs, `stride` apart."""
    size, jump, start = field.size[axis], field.jump[axis], field.start[axis]
    new_start = None
    if start is not None and before is not None:
        new_start = start + (Fraction(span - 1, 2) - before) * jump
    return size + (span - 1) * jump, jump * stride, new_start


def _spatial_sizes(layer: Any, shape: Any) -> tuple[Any, ...]:
    rank = layer.rank
    if shape is None:
        return (None,) * rank
    return spatial_shape(shape, rank, getattr(layer, "data_format", None) != "channels_first")


def _through_layer(layer: Any, field: _Field, input_shape: Any) -> _Field | None:
    """The field after a spatial layer (known families only)."""
    rank = layer.rank
    field_in = field.axes(rank)
    if field_in is None:
        return None
    spatial = _spatial_sizes(layer, input_shape)
    sizes, jumps, starts = [], [], []
    for axis in range(rank):
        n = spatial[axis]
        size, jump, start = field_in.size[axis], field_in.jump[axis], field_in.start[axis]
        if isinstance(layer, _ConvTranspose):
            span = layer.dilation_rate[axis] * (layer.kernel_size[axis] - 1) + 1
            stride = layer.strides[axis]
            crop = layer._crops[axis][0]
            size = size + (math.ceil(span / stride) - 1) * jump
            if start is not None:
                start = start + (crop - Fraction(span - 1, 2)) / stride * jump
            jump = jump / stride
        elif isinstance(layer, (_BaseConv, _Pooling)):
            if isinstance(layer, _Pooling):
                span, stride = layer.pool_size[axis], layer.strides[axis]
            else:
                span = layer.dilation_rate[axis] * (layer.kernel_size[axis] - 1) + 1
                stride = layer.strides[axis]
            before = None
            if n is not None or layer.padding != "same":
                before = layer._axis_padding(axis, n)[0]
            size, jump, start = _window(field_in, axis, span, Fraction(stride), before)
        elif isinstance(layer, _ZeroPadding):
            start = None if start is None else start - layer.padding[axis][0] * jump
        elif isinstance(layer, _Cropping):
            start = None if start is None else start + layer.cropping[axis][0] * jump
        elif isinstance(layer, _UpSampling):
            factor = layer.size[axis]
            size = size + _EXTRA_TAPS.get(layer.interpolation, 0) * jump
            if start is not None:
                start = start + (Fraction(1, 2 * factor) - Fraction(1, 2)) * jump
            jump = jump / factor
        sizes.append(size)
        jumps.append(jump)
        starts.append(start)
    return _Field(tuple(sizes), tuple(jumps), tuple(starts))


def _keeps_spatial(input_shape: Any, output_shape: Any) -> bool:
    """Same rank, and at most the first or the last non-batch axis (channels) changed."""
    if input_shape is None or output_shape is None or len(input_shape) != len(output_shape):
        return False
    changed = [i for i, (a, b) in enumerate(zip(input_shape, output_shape, strict=True)) if a != b]
    return all(i in (1, len(input_shape) - 1) for i in changed) and len(changed) <= 1


def _combine(fields: list[_Field | None]) -> _Field | None:
    """Several inputs: the largest size per axis; jump and start of the largest field."""
    if not fields or any(f is None for f in fields):
        return None
    spatial = [f for f in fields if f is not None and f.size]
    if not spatial:
        return fields[0]
    rank = len(spatial[0].size)
    aligned = [f.axes(rank) for f in fields if f is not None]
    if any(f is None for f in aligned):
        return None
    widest = max(aligned, key=lambda f: math.prod(f.size))  # type: ignore[union-attr]
    sizes = tuple(max(f.size[axis] for f in aligned) for axis in range(rank))  # type: ignore[union-attr]
    return _Field(sizes, widest.jump, widest.start)  # type: ignore[union-attr]


def field_map(flat: FlatGraph) -> dict[int, list[_Field | None]]:
    """The field of every output of every flat call, keyed by `id(flat_call)`."""
    fields: dict[int, list[_Field | None]] = {}
    for leaf in flat.calls:
        call = leaf.call
        if call.is_input:
            fields[id(leaf)] = [_Field()] * max(len(call.output_shapes), 1)
            continue
        inputs = [
            None if parent is None else _output_field(fields, parent) for parent in leaf.parents
        ]
        combined = _combine(inputs) if inputs else _Field()
        layer = call.layer
        input_shape = single_shape(call.input_shapes)
        output_shape = single_shape(call.output_shapes)
        result: _Field | None
        if combined is None or isinstance(layer, _GlobalPooling):
            result = None
        elif isinstance(layer, SPATIAL_LAYERS):
            result = _through_layer(layer, combined, input_shape)
        elif not combined.size or _keeps_spatial(
            input_shape if input_shape is not None else _first(call.input_shapes), output_shape
        ):
            # Before any spatial layer, coordinates are whatever the next one sees.
            result = combined
        else:
            result = None
        fields[id(leaf)] = [result] * max(len(call.output_shapes), 1)
    return fields


def _first(shapes: list[Any]) -> Any:
    return shapes[0] if shapes else None


def _output_field(fields: dict[int, list[_Field | None]], parent: tuple[Any, int]) -> Any:
    leaf, index = parent
    produced = fields.get(id(leaf), [None])
    return produced[min(index, len(produced) - 1)]


def to_record(layer: Any, field: _Field) -> ReceptiveField:
    return ReceptiveField(
        name=layer.name,
        class_name=type(layer).__name__,
        size=tuple(_number(v) for v in field.size),
        jump=tuple(_number(v) for v in field.jump),
        start=tuple(None if v is None else float(v) for v in field.start),
    )


def receptive_field(model: Any) -> list[ReceptiveField]:
    """The receptive field of every spatial layer of a built model, in execution order.

    Convolution, pooling, padding, cropping and upsampling layers get a record, and so do
    merges of several inputs (the maximum over the paths); nested models are walked through.
    See the module docstring for the recurrence and what each layer family does.

    Args:
        model: a built model (Sequential with an input shape, functional, or subclassed).

    Returns:
        A list of `ReceptiveField` records (per-axis size, jump and start).

    >>> from lamina import Input, Sequential, layers
    >>> model = Sequential([Input((28, 28, 1)), layers.Conv2D(8, 5), layers.MaxPooling2D(2)])
    >>> print(receptive_field(model)[-1])
    max_pooling2d (MaxPooling2D): size 6, jump 2, start 2.5
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"receptive_field needs a built model; '{model.name}' is not built. Give it an "
            "input shape (Input(shape) first, or model.build(input_shape))"
        )
    flat = flatten(model)
    fields = field_map(flat)
    records = []
    for leaf in flat.calls:
        field = fields[id(leaf)][0]
        if field is None or not field.size or leaf.call.is_input:
            continue
        if isinstance(leaf.layer, SPATIAL_LAYERS) or len(leaf.parents) > 1:
            records.append(to_record(leaf.layer, field))
    return records
