"""`model.summary()`: Keras' table of layers, output shapes and parameter counts.

The table, its columns, widths and totals are Keras 3's (a functional model that is not a plain
chain gets Keras' "Connected to" column). For convolutional networks lamina adds the course's
convolution arithmetic: a "Receptive field" column (size / jump, in input pixels; see
`lamina.inspect.receptive_field`), a "MACs" column (multiply-accumulates per sample; see
`lamina.inspect.flops`), the total MACs and activation memory per sample under the totals,
and a note for every layer whose windows leave input rows/columns unused ((N - F + 2P) / S not
whole, as the `TilingWarning` of convolution and pooling layers says).

>>> from lamina.models import Sequential
>>> from lamina.layers import Dense, Input
>>> Sequential([Input((4,)), Dense(2)], name="tiny").summary()  # doctest: +ELLIPSIS
Model: "tiny"
...
 Total params: 10 (40.00 B)
...
"""

from __future__ import annotations

import io
import re
import shutil
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from ..layers._conv_utils import spatial_shape, zeros_after_input
from ._graph import FlatGraph, LayerCall, ModelGraph, flatten, is_nested_model, model_graph
from .flops import cost_map
from .receptive_field import SPATIAL_LAYERS, field_map, format_axes

__all__ = ["print_summary", "readable_memory_size", "summary_text"]

# Content widths of the extra columns: "212 / 32" and "194.69K" fit, and the header
# "Receptive field" wraps to two lines of at most 9 characters.
_RF_WIDTH = 9
_MACS_WIDTH = 7


def readable_memory_size(num_bytes: float) -> str:
    """'136.04 KB' for 139304 bytes, with 1024-based units as Keras prints them."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"


def readable_count(count: float, separator: str = "") -> str:
    """'194.69K', '2.23M', '15.35G' (1000-based); counts under 1000 as they are.

    >>> readable_count(2_230_272), readable_count(999), readable_count(15_346_630_656, " ")
    ('2.23M', '999', '15.35 G')
    """
    if count < 1000:
        return str(int(count))
    for unit in ("K", "M", "G", "T"):
        count /= 1000
        if count < 1000 or unit == "T":
            break
    return f"{count:.2f}{separator}{unit}"


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_format_shape(v)}" for k, v in shape.items()) + "}"
    return str(shape)


def _output_shape_text(call: LayerCall | None) -> str:
    if call is None or not call.output_shapes:
        return "?"
    if len(call.output_shapes) == 1:
        return _format_shape(call.output_shapes[0])
    return _format_shape(list(call.output_shapes))


def _weight_bytes(tensors: list[Any]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _layer_range_bounds(layers: Sequence[Any], layer_range: Any) -> tuple[int, int]:
    """Keras' `layer_range`: the first layer matching the start pattern (re.match) to the
    last matching the end pattern, both included."""
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(name, str) for name in layer_range):
        raise ValueError(
            f"layer_range must be a list or tuple of 2 layer names (or patterns); got "
            f"{layer_range!r}"
        )
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            f"layer_range {list(layer_range)} matches no layer names of the model; layers: "
            f"{', '.join(layer.name for layer in layers)}"
        )
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


# ---------------------------------------------------------------- convolution arithmetic


@dataclass
class _Arithmetic:
    """Receptive fields, MACs and tiling notes of every call of a model (nested ones too)."""

    fields: dict[int, Any]
    macs: dict[int, int | None]
    activation_bytes: int
    total_macs: int
    notes: list[str]
    flat: FlatGraph

    def receptive_field(self, call: LayerCall) -> str:
        exits = self.flat.exits.get(id(call)) or [None]
        entry = exits[0]
        if entry is None:
            return "-"
        leaf, index = entry
        produced = self.fields.get(id(leaf)) or [None]
        field = produced[min(index, len(produced) - 1)]
        if field is None or not field.size:
            return "-"
        return f"{format_axes(field.size)} / {format_axes(field.jump)}"

    def mac_text(self, call: LayerCall) -> str:
        if call.is_input or id(call) not in self.macs:
            return "-"
        value = self.macs[id(call)]
        return "?" if value is None else readable_count(value)


def _arithmetic(flat: FlatGraph) -> _Arithmetic:
    fields = field_map(flat)
    costs = cost_map(flat.calls)
    macs: dict[int, int | None] = {}
    notes: list[str] = []
    for leaf in flat.calls:
        cost = costs.get(id(leaf))
        if cost is not None:
            for call in leaf.origin:
                known = macs.get(id(call), 0)
                macs[id(call)] = None if known is None or cost.macs is None else known + cost.macs
        layer = leaf.layer
        message_of = getattr(layer, "_untiled_message", None)
        if message_of is not None and len(leaf.call.input_shapes) == 1:
            shape = leaf.call.input_shapes[0]
            if shape is not None:
                channels_last = getattr(layer, "data_format", None) != "channels_first"
                parent = leaf.parents[0][0] if leaf.parents and leaf.parents[0] else None
                message = message_of(
                    spatial_shape(shape, layer.rank, channels_last), zeros_after_input(parent)
                )
                if message is not None and message not in notes:
                    notes.append(message)
    known = list(costs.values())
    return _Arithmetic(
        fields=fields,
        macs=macs,
        activation_bytes=sum(c.output_bytes for c in known if c.output_bytes is not None),
        total_macs=sum(c.macs for c in known if c.macs is not None),
        notes=notes,
        flat=flat,
    )


def _is_convolutional(flat: FlatGraph) -> bool:
    return any(isinstance(leaf.layer, SPATIAL_LAYERS) for leaf in flat.calls)


# ---------------------------------------------------------------- the table


def _keras_layout(
    connected: bool,
    show_trainable: bool,
    line_length: int | None,
    positions: Sequence[float] | None,
    reserved: int,
) -> tuple[list[str], list[str], list[float], int]:
    """Keras' headers, justifications, column ends (relative) and line length.

    Keras' columns end at `positions` (default [.45, .80, 1.], or [.3, .56, .74, 1.] with
    "Connected to") of a line of 88 (108) characters, 12 more with "Trainable" (whose column
    takes the last tenth), capped at the terminal width minus 4. `reserved` characters are
    added for lamina's extra columns (taken from `line_length` when it is given).
    """
    if connected:
        default, relative = 108, [0.3, 0.56, 0.74, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    else:
        default, relative = 88, [0.45, 0.80, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
        justify = ["left", "left", "right"]
    if positions is not None:
        given = [float(p) for p in positions]
        if len(given) != len(headers):
            raise ValueError(
                f"positions must give {len(headers)} column ends ({', '.join(headers)}); got "
                f"{list(positions)}"
            )
        if given[-1] > 1:
            # Absolute character positions, as Keras 2 took them: they give the line length.
            line_length = line_length or int(given[-1]) + reserved
            given = [p / given[-1] for p in given]
        relative = given
    if show_trainable:
        default += 12
        relative = [p * 0.9 for p in relative] + [1.0]
        headers.append("Trainable")
        justify.append("center")
    if line_length is None:
        # Keras' own columns keep Keras' widths; lamina's extra ones come on top of them
        # (squeezed into the same width, shapes wrapped over two lines).
        width = min(default, shutil.get_terminal_size().columns - 4) + reserved
    else:
        width = line_length
    return headers, justify, relative, width - reserved


def _keras_widths(headers: list[str], relative: list[float], line_length: int) -> list[int]:
    """The content width of each Keras column, as rich lays out Keras' table.

    Keras gives rich column widths int(position * line_length) - previous end and the table
    width `line_length`; rich then shrinks the columns to fit padding and borders. The widths
    are read back from the top border of that table, so lamina's columns match Keras' to the
    character whatever rich's shrinking does.
    """
    widths = []
    current = 0
    for position in relative:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError(
                f"line_length={line_length} is too narrow for the summary's {len(headers)} "
                "columns; use a larger line_length"
            )
        widths.append(width)
        current += width
    columns = [Column(h, width=w) for h, w in zip(headers, widths, strict=True)]
    probe = Table(*columns, width=line_length, show_lines=True, box=box.HEAVY_HEAD)
    buffer = io.StringIO()
    Console(file=buffer, width=line_length, color_system=None, force_terminal=False).print(probe)
    border = buffer.getvalue().splitlines()[0]
    return [len(segment) - 2 for segment in border[1:-1].split("┳")]


def _rows(
    graph: ModelGraph,
    cache: dict[int, ModelGraph],
    layers: Sequence[Any],
    level: int,
    expand_nested: bool,
    connected: bool,
    arithmetic: _Arithmetic | None,
    show_trainable: bool,
) -> list[list[str]]:
    rows = []
    for layer in layers:
        calls = graph.calls_of(layer)
        call = calls[-1] if calls else None
        prefix = "   " * level + "└ " if level else ""
        built = getattr(layer, "built", True)
        params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
        operation = getattr(layer, "_is_operation", False)
        kind = layer.keras_class_name if operation else type(layer).__name__
        cells = [f"{prefix}{layer.name} ({kind})", _output_shape_text(call), params]
        if connected:
            # In the order the layer was called, as Keras lists its inbound nodes.
            ordered = sorted(calls, key=lambda c: c.node_index)
            links = [link for c in ordered for link in c.connections] if level == 0 else []
            cells.append(", ".join(links) or "-")
        if show_trainable:
            if layer.weights:
                cells.append("Y" if layer.trainable else "N")
            else:
                cells.append("-")
        if arithmetic is not None:
            if call is None:
                cells += ["-", "-"]
            else:
                cells += [arithmetic.receptive_field(call), arithmetic.mac_text(call)]
        rows.append(cells)
        if expand_nested and is_nested_model(layer):
            inner = model_graph(layer, cache)
            rows += _rows(
                inner,
                cache,
                getattr(layer, "operations", None) or layer.layers,
                level + 1,
                expand_nested,
                connected,
                arithmetic,
                show_trainable,
            )
    return rows


def summary_text(
    model: Any,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
    show_arithmetic: bool | None = None,
) -> str:
    """The summary of `model` as text (what `print_summary` prints).

    Args:
        model: the model.
        line_length: total width of the table; default Keras' (88 characters, 108 with
            "Connected to", 12 more with "Trainable"), plus 22 for the arithmetic columns,
            capped at the terminal width - 4.
        positions: where Keras' columns (Layer, Output Shape, Param # and, for graphs,
            Connected to) end, as fractions of the line or as absolute character positions.
        expand_nested: also list the layers of nested models, indented under them.
        show_trainable: add Keras' "Trainable" column (Y, N, or - for layers without weights).
        layer_range: (first, last) layer names or patterns (`re.match`): show only those rows.
        show_arithmetic: add the receptive field and MACs columns, the total MACs and
            activation memory per sample and the tiling notes; None (default): only for
            networks with convolution, pooling, padding, cropping or upsampling layers.
    """
    cache: dict[int, ModelGraph] = {}
    graph = model_graph(model, cache)
    connected = graph.functional and not graph.sequential_like
    arithmetic = None
    if show_arithmetic is not False and model.built:
        flat = flatten(model, cache)
        if show_arithmetic or _is_convolutional(flat):
            arithmetic = _arithmetic(flat)
    reserved = 0 if arithmetic is None else _RF_WIDTH + 3 + _MACS_WIDTH + 3
    headers, justify, relative, keras_length = _keras_layout(
        connected, show_trainable, line_length, positions, reserved
    )
    widths = _keras_widths(headers, relative, keras_length)
    if arithmetic is not None:
        headers += ["Receptive field", "MACs"]
        justify += ["left", "right"]
        widths += [_RF_WIDTH, _MACS_WIDTH]
    columns = [
        Column(header, justify=how, width=width)  # type: ignore[arg-type]
        for header, how, width in zip(headers, justify, widths, strict=True)
    ]
    table = Table(*columns, show_lines=True, box=box.HEAVY_HEAD)
    line_length = sum(widths) + 3 * len(widths) + 1
    layers = getattr(model, "operations", None) or model.layers  # ops show, as in Keras
    start, stop = _layer_range_bounds(layers, layer_range)
    rows = _rows(
        graph,
        cache,
        layers[start:stop],
        0,
        expand_nested,
        connected,
        arithmetic,
        show_trainable,
    )
    for cells in rows:
        table.add_row(*(Text(cell) for cell in cells))

    buffer = io.StringIO()
    console = Console(
        file=buffer, width=line_length, color_system=None, force_terminal=False, highlight=False
    )
    console.print(table)
    lines = [f'Model: "{model.name}"', buffer.getvalue().rstrip("\n")]
    lines += _totals(model)  # an unbuilt model's are zeros, as in Keras
    if arithmetic is not None:
        total = f" Total MACs: {arithmetic.total_macs:,}"
        if arithmetic.total_macs >= 1000:
            total += f" ({readable_count(arithmetic.total_macs, ' ')})"
        lines.append(f"{total} per sample")
        lines.append(
            f" Activation memory: {readable_memory_size(arithmetic.activation_bytes)} per "
            "sample (layer outputs)"
        )
        for note in arithmetic.notes:
            lines.append(_wrap_note(note, line_length))
    return "\n".join(lines)


def _wrap_note(note: str, line_length: int) -> str:
    """A note wrapped to the table's width, its formulas kept on one line."""
    # textwrap breaks at ASCII whitespace only: no-break spaces hold each formula together.
    note = re.sub(
        r"\(N - F \+ 2P\) / S = \([^)]*\) / \d+|N - F \+ 2P",
        lambda match: match[0].replace(" ", "\xa0"),
        note,
    )
    text = textwrap.fill(
        note,
        width=max(line_length, 40),
        initial_indent=" Note: ",
        subsequent_indent="       ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return text.replace("\xa0", " ")


def _totals(model: Any) -> list[str]:
    """Keras' parameter totals: all, trainable, non-trainable, and the optimizer's."""
    trainable = model.trainable_weights
    frozen = model.non_trainable_weights
    n_trainable = sum(t.numel() for t in trainable)
    n_frozen = sum(t.numel() for t in frozen)
    optimizer = getattr(model, "optimizer", None)
    # As Keras, counted once the optimizer is built (its first update), not at compile.
    built = optimizer is not None and getattr(optimizer, "built", False)
    optimizer_tensors = list(getattr(optimizer, "variables", []) or []) if built else []
    n_optimizer = sum(t.numel() for t in optimizer_tensors)
    total_bytes = _weight_bytes(trainable) + _weight_bytes(frozen)
    lines = [
        f" Total params: {n_trainable + n_frozen + n_optimizer:,} "
        f"({readable_memory_size(total_bytes + _weight_bytes(optimizer_tensors))})",
        f" Trainable params: {n_trainable:,} ({readable_memory_size(_weight_bytes(trainable))})",
        f" Non-trainable params: {n_frozen:,} ({readable_memory_size(_weight_bytes(frozen))})",
    ]
    if n_optimizer:
        lines.append(
            f" Optimizer params: {n_optimizer:,} "
            f"({readable_memory_size(_weight_bytes(optimizer_tensors))})"
        )
    return lines


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
    show_arithmetic: bool | None = None,
) -> None:
    """Print the summary of `model` (or pass it, as one string, to `print_fn`).

    See `summary_text` for the arguments; `Model.summary()` calls this.
    """
    text = summary_text(
        model,
        line_length=line_length,
        positions=positions,
        expand_nested=expand_nested,
        show_trainable=show_trainable,
        layer_range=layer_range,
        show_arithmetic=show_arithmetic,
    )
    if print_fn is None:  # stdout, or the `logging` module when interactive logging is off
        from ..utils._logging import print_msg

        print_msg(text + "\n", line_break=False)  # Keras logs the text with its newline
    else:
        print_fn(text)
