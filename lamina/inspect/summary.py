"""`model.summary()`: Keras' table of layers, output shapes and parameter counts.

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
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["print_summary", "readable_memory_size"]

_DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}


def readable_memory_size(num_bytes: float) -> str:
    """'136.04 KB' for 139304 bytes, with 1024-based units as Keras prints them."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    if isinstance(shape, (list, tuple)):
        return ", ".join(_format_shape(s) for s in shape)
    return str(shape)


def _rows(model: Any) -> list[tuple[Any, Any]]:
    layers = model.layers
    shapes = getattr(model, "_output_shapes", None) or [None] * len(layers)
    return list(zip(layers, shapes, strict=False))


def _weight_bytes(tensors: list[Any]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: Any = None,
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Any = None,
) -> None:
    """Print (or pass to `print_fn`) the summary table of `model`."""
    widths = [31, 22, 13]
    if line_length is not None:
        total = max(line_length - 10, 30)
        widths = [
            int(total * 0.45),
            int(total * 0.35),
            total - int(total * 0.45) - int(total * 0.35),
        ]
    table = Table(box=box.HEAVY_HEAD, show_lines=True, show_edge=True, pad_edge=True)
    table.add_column("Layer (type)", width=widths[0], no_wrap=False)
    table.add_column("Output Shape", width=widths[1])
    table.add_column("Param #", width=widths[2], justify="right")
    if show_trainable:
        table.add_column("Trainable", width=9, justify="center")
    rows = _rows(model)
    if layer_range is not None:
        names = [layer.name for layer, _ in rows]
        start, stop = names.index(layer_range[0]), names.index(layer_range[1]) + 1
        rows = rows[start:stop]
    for layer, shape in rows:
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [f"{layer.name} ({type(layer).__name__})", _format_shape(shape), params]
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        table.add_row(*cells)

    buffer = io.StringIO()
    width = sum(widths) + 3 * len(widths) + 1 + (12 if show_trainable else 0)
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    console.print(table)
    lines = [f'Model: "{model.name}"', buffer.getvalue().rstrip("\n")]
    if model.built:
        trainable = model.trainable_weights
        frozen = model.non_trainable_weights
        n_trainable = sum(t.numel() for t in trainable)
        n_frozen = sum(t.numel() for t in frozen)
        optimizer = getattr(model, "optimizer", None)
        optimizer_tensors = list(getattr(optimizer, "variables", []) or []) if optimizer else []
        n_optimizer = sum(t.numel() for t in optimizer_tensors)
        total_bytes = _weight_bytes(trainable) + _weight_bytes(frozen)
        lines.append(
            f" Total params: {n_trainable + n_frozen + n_optimizer:,} "
            f"({readable_memory_size(total_bytes + _weight_bytes(optimizer_tensors))})"
        )
        lines.append(
            f" Trainable params: {n_trainable:,} ({readable_memory_size(_weight_bytes(trainable))})"
        )
        lines.append(
            f" Non-trainable params: {n_frozen:,} ({readable_memory_size(_weight_bytes(frozen))})"
        )
        if n_optimizer:
            lines.append(
                f" Optimizer params: {n_optimizer:,} "
                f"({readable_memory_size(_weight_bytes(optimizer_tensors))})"
            )
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        print_fn(text)
