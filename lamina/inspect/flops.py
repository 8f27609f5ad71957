"""Operation counts and activation memory: what one sample costs, layer by layer.

`flops(model)` counts, for one sample (batch size 1):

* `macs`: multiply-accumulates (a * b + c), the work of the weighted layers.
  - Dense: positions * input features * units (positions: the axes between batch and features).
  - Conv1D/2D/3D: output positions * filters * (input channels / groups) * kernel volume.
  - Transposed convolutions: input positions * input channels * (filters / groups) * kernel
    volume (each input position scatters one kernel window).
  - DepthwiseConv: output positions * input channels * depth_multiplier * kernel volume.
  - SeparableConv: the depthwise stage plus output positions * (channels * depth_multiplier)
    * filters for the pointwise stage.
  - BatchNormalization, LayerNormalization, GroupNormalization: one per output element (the
    scale and shift, fused into one multiply-add at inference; statistics are not counted).
  Bias additions are not counted (they are one addition per output element, small beside
  the products), as in most published MAC counts.
* `other_ops`: element-wise work that is not a multiply-add, one operation each:
  - max pooling: one comparison per window element per output element; average pooling: one
    addition per window element per output element; global pooling: one per input element.
  - activation functions (Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax layers and the
    `activation=` of Dense and convolutions, 'linear' excepted): one per output element
    (softmax, whose exp/sum/divide cost more, is counted the same way).
  - Add, Subtract, Multiply, Average, Maximum, Minimum: (inputs - 1) per output element.
  Everything else (Dropout, Flatten, Reshape, padding, cropping, nearest upsampling, ...)
  costs no arithmetic and counts 0.

`flops` of a layer is 2 * macs + other_ops (a multiply-add is two floating-point operations).
`output_bytes` is the memory of the layer's output for one sample (elements times the layer's
compute dtype size); the total is the activation memory a forward pass keeps for backprop.

>>> from lamina import Input, Sequential, layers
>>> model = Sequential([Input((8, 8, 1)), layers.Conv2D(4, 3, name="conv")])
>>> report = flops(model)
>>> report.total_macs            # 6 * 6 positions * 4 filters * 1 channel * 3 * 3
1296
>>> report.layers[0].output_bytes  # 6 * 6 * 4 float32 values
576
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from .. import activations
from ..layers._conv_base import _BaseConv
from ..layers._conv_utils import spatial_shape
from ..layers.convolution import _Conv, _ConvTranspose
from ..layers.core import Dense
from ..layers.depthwise import _DepthwiseConv, _SeparableConv
from ..layers.normalization import _AffineNormalization
from ..layers.pooling import _GlobalPooling, _Pooling
from ._graph import FlatCall, flatten, single_shape

__all__ = ["FlopsReport", "LayerFlops", "flops"]

_ACTIVATION_LAYERS = frozenset({"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"})
_ELEMENTWISE_MERGES = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})


@dataclass(frozen=True)
class LayerFlops:
    """What one layer call costs for one sample; None where a size is unknown."""

    name: str
    class_name: str
    macs: int | None
    other_ops: int | None
    output_bytes: int | None

    @property
    def flops(self) -> int | None:
        """Floating-point operations: 2 * macs + other_ops."""
        if self.macs is None or self.other_ops is None:
            return None
        return 2 * self.macs + self.other_ops


@dataclass(frozen=True)
class FlopsReport:
    """Per-layer costs (nested models opened) and totals, for one sample.

    Attributes:
        layers: one `LayerFlops` per layer call, in execution order.
        total_macs: the sum of the known `macs`.
        total_other_ops: the sum of the known `other_ops`.
        activation_bytes: the sum of the layers' output memory.
        unknown: names of the layers whose counts depend on unknown (None) sizes.
    """

    layers: tuple[LayerFlops, ...]
    total_macs: int
    total_other_ops: int
    activation_bytes: int
    unknown: tuple[str, ...] = ()

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs + self.total_other_ops

    def __str__(self) -> str:
        width = max([len(f"{r.name} ({r.class_name})") for r in self.layers] + [12])
        header = f"{'MACs':>15}  {'Other ops':>12}  {'Output bytes':>12}"
        lines = [f"{'Layer (type)':<{width}}  {header}"]
        for r in self.layers:
            lines.append(
                f"{f'{r.name} ({r.class_name})':<{width}}  {_count(r.macs):>15}  "
                f"{_count(r.other_ops):>12}  {_count(r.output_bytes):>12}"
            )
        lines.append(
            f"Total: {self.total_macs:,} MACs, {self.total_other_ops:,} other ops, "
            f"{self.total_flops:,} FLOPs, {self.activation_bytes:,} bytes of activations "
            "per sample"
        )
        return "\n".join(lines)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _volume(sizes: Any) -> int | None:
    """The product of `sizes`, or None when one is unknown."""
    sizes = tuple(sizes)
    if any(s is None for s in sizes):
        return None
    return math.prod(sizes)


def _times(*factors: int | None) -> int | None:
    return None if any(f is None for f in factors) else math.prod(factors)  # type: ignore[arg-type]


def _spatial(layer: Any, shape: Any) -> Any:
    return spatial_shape(shape, layer.rank, layer.data_format != "channels_first")


def _itemsize(layer: Any) -> int:
    dtype = getattr(layer, "_compute_dtype", torch.float32)
    return torch.empty((), dtype=dtype).element_size()


def _has_activation(layer: Any) -> bool:
    function = getattr(layer, "activation", None)
    return callable(function) and function is not activations.linear


def _macs(layer: Any, input_shape: Any, output_shape: Any) -> int | None:
    """Multiply-accumulates of one call (see the module docstring for the rules)."""
    if isinstance(layer, _BaseConv):
        channels = input_shape[-1] if layer.data_format != "channels_first" else input_shape[1]
        kernel = math.prod(layer.kernel_size)
        positions_out = _volume(_spatial(layer, output_shape))
        if isinstance(layer, _ConvTranspose):
            positions_in = _volume(_spatial(layer, input_shape))
            return _times(positions_in, channels, layer.filters // layer.groups, kernel)
        if isinstance(layer, _Conv):
            return _times(positions_out, layer.filters, channels // layer.groups, kernel)
        depthwise = _times(positions_out, channels, layer.depth_multiplier, kernel)
        if isinstance(layer, _SeparableConv):
            pointwise = _times(positions_out, channels, layer.depth_multiplier, layer.filters)
            return None if depthwise is None or pointwise is None else depthwise + pointwise
        if isinstance(layer, _DepthwiseConv):
            return depthwise
        return 0
    if isinstance(layer, Dense):
        return _times(_volume(output_shape[1:-1]), input_shape[-1], layer.units)
    if isinstance(layer, _AffineNormalization):
        return _volume(output_shape[1:])
    return 0


def _other_ops(layer: Any, input_shapes: list[Any], output_shape: Any) -> int | None:
    """Comparisons, additions and activation functions of one call (see the module doc)."""
    elements = _volume(output_shape[1:])
    names = {c.__name__ for c in type(layer).__mro__}
    ops: int | None = 0
    if isinstance(layer, _Pooling):
        ops = _times(elements, math.prod(layer.pool_size))
    elif isinstance(layer, _GlobalPooling):
        ops = _volume(input_shapes[0][1:]) if input_shapes else None
    elif names & _ELEMENTWISE_MERGES:
        ops = _times(elements, max(len(input_shapes) - 1, 0))
    elif names & _ACTIVATION_LAYERS:
        ops = elements if type(layer).__name__ != "Activation" or _has_activation(layer) else 0
    if ops is not None and _has_activation(layer) and not names & _ACTIVATION_LAYERS:
        ops = None if elements is None else ops + elements
    return ops


def layer_flops(leaf: FlatCall) -> LayerFlops:
    """The cost of one (flat) layer call."""
    call = leaf.call
    layer = call.layer
    input_shape = single_shape(call.input_shapes)
    output_shape = single_shape(call.output_shapes)
    output_bytes = None
    known = [s for s in call.output_shapes if s is not None]
    if known and all(isinstance(s, tuple) for s in known):
        volumes = [_volume(s[1:]) for s in known]
        if all(v is not None for v in volumes):
            output_bytes = sum(volumes) * _itemsize(layer)  # type: ignore[misc]
    macs: int | None = None
    other: int | None = None
    if output_shape is not None:
        if input_shape is not None or not isinstance(layer, _BaseConv):
            try:
                macs = _macs(layer, input_shape, output_shape)
            except (TypeError, IndexError):
                macs = None
        other = _other_ops(layer, [s for s in call.input_shapes if s is not None], output_shape)
    return LayerFlops(layer.name, type(layer).__name__, macs, other, output_bytes)


def cost_map(calls: list[FlatCall]) -> dict[int, LayerFlops]:
    """`layer_flops` of every non-input flat call, keyed by `id(flat_call)`."""
    return {id(leaf): layer_flops(leaf) for leaf in calls if not leaf.call.is_input}


def flops(model: Any) -> FlopsReport:
    """Multiply-accumulates, other operations and output memory of every layer, per sample.

    Nested models are opened into their layers. Counts that depend on unknown (None) sizes
    are None and left out of the totals; their layers are listed in `unknown`.

    Args:
        model: a built model.

    Returns:
        A `FlopsReport`; `str(report)` is a small table.
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"flops needs a built model; '{model.name}' is not built. Give it an input shape "
            "(Input(shape) first, or model.build(input_shape))"
        )
    flat = flatten(model)
    costs = cost_map(flat.calls)
    records = tuple(costs[id(leaf)] for leaf in flat.calls if id(leaf) in costs)
    return FlopsReport(
        layers=records,
        total_macs=sum(r.macs for r in records if r.macs is not None),
        total_other_ops=sum(r.other_ops for r in records if r.other_ops is not None),
        activation_bytes=sum(r.output_bytes for r in records if r.output_bytes is not None),
        unknown=tuple(r.name for r in records if r.macs is None or r.other_ops is None),
    )
