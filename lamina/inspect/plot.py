"""`plot_model`: a drawing of the model's graph, as SVG written by lamina or as a PNG.

The boxes are the layers (name and class, with shapes, dtype, activation or trainability on
request), the arrows the tensors between them. The layout is layered, as Graphviz' `dot` does
it, without Graphviz: each layer goes on the rank after its deepest input (longest path),
an arrow that skips ranks bends around the ranks between, and the layers of one rank sit side
by side in the order of their inputs, so branches show next to each other.

>>> import pathlib, tempfile
>>> from lamina import Input, Sequential, layers
>>> model = Sequential([Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten()])
>>> path = plot_model(model, pathlib.Path(tempfile.mkdtemp()) / "model.svg", show_shapes=True)
>>> pathlib.Path(path).read_text().count('class="layer"')
2
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..models.sequential import Sequential
from ._drawing import (
    _GAP_ACROSS,
    _GAP_ALONG,
    _MARGIN,
    _TEXT_SIZE,
    _Box,
    _Drawing,
    _size_box,
)
from ._graph import LayerCall, ModelGraph, is_nested_model, model_graph
from ._render import _import_pillow, _raster, _run_graphviz, _svg

__all__ = ["plot_model"]

# ---------------------------------------------------------------- labels


def _shape_text(shapes: list[Any]) -> str:
    def one(shape: Any) -> str:
        if shape is None:
            return "?"
        if isinstance(shape, tuple):
            return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
        return str(shape)

    if not shapes:
        return "?"
    return one(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(one(s) for s in shapes) + "]"


def _activation_name(layer: Any) -> str | None:
    function = getattr(layer, "activation", None)
    if function is None or not callable(function):
        return None
    return getattr(function, "__name__", type(function).__name__)


def _label(
    layer: Any,
    call: LayerCall | None,
    show_shapes: bool,
    show_dtype: bool,
    show_layer_names: bool,
    show_layer_activations: bool,
    show_trainable: bool,
) -> list[tuple[str, str]]:
    class_name = type(layer).__name__
    title = f"{layer.name} ({class_name})" if show_layer_names else class_name
    lines = [("title", title)]
    if show_layer_activations:
        activation = _activation_name(layer)
        if activation is not None:
            lines.append(("text", f"Activation: {activation}"))
    if show_shapes:
        if call is None or not call.is_input:
            lines.append(
                ("text", f"Input shape: {_shape_text([] if call is None else call.input_shapes)}")
            )
        lines.append(
            ("text", f"Output shape: {_shape_text([] if call is None else call.output_shapes)}")
        )
    if show_dtype:
        lines.append(("text", f"Output dtype: {getattr(layer, 'dtype', '?')}"))
    if show_trainable and getattr(layer, "weights", None):
        lines.append(("trainable", "Trainable") if layer.trainable else ("frozen", "Non-trainable"))
    return lines


# ---------------------------------------------------------------- graph


def _collect(
    model: Any, expand_nested: bool, label: Any
) -> tuple[list[_Box], list[tuple[_Box, _Box]], dict[str, list[_Box]]]:
    """The boxes (one per layer) and edges (one per connected pair of layers) to draw."""
    boxes: list[_Box] = []
    by_layer: dict[int, _Box] = {}
    edges: list[tuple[_Box, _Box]] = []
    seen_edges: set[tuple[int, int]] = set()
    clusters: dict[str, list[_Box]] = {}
    cache: dict[int, ModelGraph] = {}

    def box_for(layer: Any, call: LayerCall, path: tuple[str, ...]) -> _Box:
        box = by_layer.get(id(layer))
        if box is None:
            box = _Box(layer.name, label(layer, call), clusters=path, index=len(boxes))
            by_layer[id(layer)] = box
            boxes.append(box)
            for name in path:
                clusters.setdefault(name, []).append(box)
        return box

    def connect(sources: list[_Box], target: _Box) -> None:
        for source in sources:
            key = (id(source), id(target))
            if key not in seen_edges and source is not target:
                seen_edges.add(key)
                edges.append((source, target))

    def walk(
        graph: ModelGraph, outer: list[list[_Box]] | None, path: tuple[str, ...]
    ) -> list[list[_Box]]:
        produced: dict[int, list[list[_Box]]] = {}
        for index, call in enumerate(graph.inputs):
            if outer is not None:
                produced[id(call)] = [outer[index] if index < len(outer) else []]
            elif graph.functional:
                produced[id(call)] = [[box_for(call.layer, call, path)]]
            else:
                produced[id(call)] = [[]]  # a Sequential's input is not drawn, as in Keras
        for call in graph.calls:
            if call.is_input:
                continue
            sources = [
                _pick(produced.get(id(parent), [[]]), index) for parent, index in call.parents
            ]
            if expand_nested and is_nested_model(call.layer):
                inner = model_graph(call.layer, cache)
                name = f"{call.layer.name} ({type(call.layer).__name__})"
                produced[id(call)] = walk(inner, sources, (*path, name))
                continue
            box = box_for(call.layer, call, path)
            for group in sources:
                connect(group, box)
            produced[id(call)] = [[box]] * max(len(call.output_shapes), 1)
        return [_pick(produced.get(id(call), [[]]), index) for call, index in graph.outputs]

    walk(model_graph(model, cache), None, ())
    return boxes, edges, clusters


def _pick(outputs: list[list[_Box]], index: int) -> list[_Box]:
    return outputs[min(index, len(outputs) - 1)] if outputs else []


# ---------------------------------------------------------------- layout


def _layout(
    boxes: list[_Box],
    edges: list[tuple[_Box, _Box]],
    clusters: dict[str, list[_Box]],
    rankdir: str,
) -> _Drawing:
    """Ranks by longest path, dummies on skipped ranks, order by inputs, then coordinates."""
    incoming: dict[int, list[_Box]] = {id(b): [] for b in boxes}
    for source, target in edges:
        if source.index < target.index:  # edges back to a shared layer do not rank it
            incoming[id(target)].append(source)
    for box in boxes:
        box.rank = max((s.rank + 1 for s in incoming[id(box)]), default=0)
        _size_box(box)
    paths: list[list[_Box]] = []
    nodes = list(boxes)
    for source, target in edges:
        path = [source]
        if source.index < target.index:
            for rank in range(source.rank + 1, target.rank):
                dummy = _Box("", dummy=True, index=len(nodes), rank=rank)
                _size_box(dummy)
                nodes.append(dummy)
                path.append(dummy)
        path.append(target)
        paths.append(path)
    before: dict[int, list[_Box]] = {id(n): [] for n in nodes}
    after: dict[int, list[_Box]] = {id(n): [] for n in nodes}
    for path in paths:
        for a, b in zip(path, path[1:], strict=False):
            if b.rank == a.rank + 1:
                before[id(b)].append(a)
                after[id(a)].append(b)
    ranks: dict[int, list[_Box]] = {}
    for node in nodes:
        ranks.setdefault(node.rank, []).append(node)
    rows = [ranks[r] for r in sorted(ranks)]
    position: dict[int, int] = {}
    for row in rows:
        row.sort(
            key=lambda n: (
                min((position[id(p)] for p in before[id(n)]), default=-1),
                n.dummy,
                n.index,
            )
        )
        for i, node in enumerate(row):
            position[id(node)] = i

    across = "width" if rankdir == "TB" else "height"
    along = "height" if rankdir == "TB" else "width"
    centre = _place_across(rows, before, after, across)
    low = min((centre[id(n)] - getattr(n, across) / 2 for n in nodes), default=0.0)
    extent_across = max((centre[id(n)] + getattr(n, across) / 2 for n in nodes), default=0.0)
    extent_across += 2 * _MARGIN - low
    offset_along = float(_MARGIN)
    for row in rows:
        depth = max(getattr(n, along) for n in row)
        for node in row:
            a = centre[id(node)] - low + _MARGIN - getattr(node, across) / 2
            b = offset_along + (depth - getattr(node, along)) / 2
            node.x, node.y = (a, b) if rankdir == "TB" else (b, a)
        offset_along += depth + _GAP_ALONG
    extent_along = offset_along - _GAP_ALONG + _MARGIN if rows else 2 * _MARGIN
    if rankdir == "TB":
        width, height = extent_across, extent_along
    else:
        width, height = extent_along, extent_across

    frames = []
    for name, members in clusters.items():
        pad = 10
        left = min(b.x for b in members) - pad
        top = min(b.y for b in members) - pad - _TEXT_SIZE - 4
        right = max(b.x + b.width for b in members) + pad
        bottom = max(b.y + b.height for b in members) + pad
        frames.append((name, left, top, right - left, bottom - top))
    # Frames of nested models may reach past the margins: move everything to make room.
    shift_x = max([0.0] + [_MARGIN / 2 - f[1] for f in frames])
    shift_y = max([0.0] + [_MARGIN / 2 - f[2] for f in frames])
    for node in nodes:
        node.x += shift_x
        node.y += shift_y
    frames = [(n, x + shift_x, y + shift_y, w, h) for n, x, y, w, h in frames]
    width = max([width + shift_x] + [x + w + _MARGIN / 2 for _, x, _, w, _ in frames])
    height = max([height + shift_y] + [y + h + _MARGIN / 2 for _, _, y, _, h in frames])
    routes = _routes(paths, rankdir)
    return _Drawing(boxes, paths, routes, frames, math.ceil(width), math.ceil(height), rankdir)


def _place_across(
    rows: list[list[_Box]],
    before: dict[int, list[_Box]],
    after: dict[int, list[_Box]],
    across: str,
) -> dict[int, float]:
    """Centres across the ranks: each node near the mean of its neighbours, rows kept apart.

    Rows start centred; then sweeps down (towards the inputs' mean), up (towards the outputs'
    mean) and down again move each node to its neighbours' mean, keep the order with the gap
    between boxes, and shift the row back by its mean displacement, so chains run straight
    and a merge sits under its branches.
    """
    centre: dict[int, float] = {}
    for row in rows:
        span = sum(getattr(n, across) for n in row) + _GAP_ACROSS * (len(row) - 1)
        offset = -span / 2
        for node in row:
            centre[id(node)] = offset + getattr(node, across) / 2
            offset += getattr(node, across) + _GAP_ACROSS

    def sweep(order: list[list[_Box]], neighbours: dict[int, list[_Box]]) -> None:
        for row in order:
            wanted = []
            for node in row:
                near = neighbours[id(node)]
                if near:
                    wanted.append(sum(centre[id(n)] for n in near) / len(near))
                else:
                    wanted.append(centre[id(node)])
            placed: list[float] = []
            for i, node in enumerate(row):
                value = wanted[i]
                if i:
                    previous = row[i - 1]
                    least = placed[-1] + (getattr(previous, across) + getattr(node, across)) / 2
                    value = max(value, least + _GAP_ACROSS)
                placed.append(value)
            shift = sum(p - w for p, w in zip(placed, wanted, strict=True)) / len(row)
            for node, value in zip(row, placed, strict=True):
                centre[id(node)] = value - shift

    for _ in range(2):
        sweep(rows[1:], before)
        sweep(list(reversed(rows[:-1])), after)
    sweep(rows[1:], before)
    return centre


def _routes(paths: list[list[_Box]], rankdir: str) -> list[list[tuple[float, float]]]:
    """The points of each arrow: out of the source's bottom (TB) or right side (LR), through
    the dummies, into the target; several arrows at one side are spread along it."""
    tb = rankdir == "TB"

    def across(box: _Box) -> float:
        return box.center[0] if tb else box.center[1]

    def spread(box: _Box, count: int, slot: int) -> float:
        size = box.width if tb else box.height
        if count == 1:
            return across(box)
        return across(box) - 0.3 * size + 0.6 * size * slot / (count - 1)

    outgoing: dict[int, list[int]] = {}
    incoming: dict[int, list[int]] = {}
    for number, path in enumerate(paths):
        outgoing.setdefault(id(path[0]), []).append(number)
        incoming.setdefault(id(path[-1]), []).append(number)
    exit_at: dict[int, float] = {}
    enter_at: dict[int, float] = {}
    for numbers in outgoing.values():
        numbers.sort(key=lambda k: across(paths[k][1]))
        for slot, k in enumerate(numbers):
            exit_at[k] = spread(paths[k][0], len(numbers), slot)
    for numbers in incoming.values():
        numbers.sort(key=lambda k: across(paths[k][-2]))
        for slot, k in enumerate(numbers):
            enter_at[k] = spread(paths[k][-1], len(numbers), slot)
    routes = []
    for number, path in enumerate(paths):
        source, target = path[0], path[-1]
        middle = [n.center for n in path[1:-1]]
        if tb:
            start = (exit_at[number], source.y + source.height)
            end = (enter_at[number], target.y)
        else:
            start = (source.x + source.width, exit_at[number])
            end = (target.x, enter_at[number])
        routes.append([start, *middle, end])
    return routes


# ---------------------------------------------------------------- SVG


def plot_model(
    model: Any,
    to_file: str | os.PathLike[str] = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 96,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    engine: str = "lamina",
) -> str:
    """Draw the graph of `model` into `to_file` (SVG, or PNG and other images with Pillow).

    Keras' arguments, the same names and meanings. Differences from Keras: no Graphviz or
    pydot is needed (lamina lays the graph out itself and writes the SVG; PNG, JPEG, GIF, BMP
    and PDF are drawn with Pillow, `pip install pillow`), and the path of the file is returned
    rather than an IPython Image (in a notebook, `IPython.display.Image(path)` or `SVG(path)`
    shows it).

    Args:
        model: a built model. A subclassed model, whose graph is not known, is one box.
        to_file: where to write; the extension picks the format ('.svg', '.png', ...; none:
            PNG).
        show_shapes: add each layer's input and output shapes.
        show_dtype: add each layer's output dtype.
        show_layer_names: title boxes 'name (Class)' rather than 'Class'.
        rankdir: 'TB' (top to bottom) or 'LR' (left to right).
        expand_nested: draw the layers of nested models, framed, instead of one box each.
        dpi: resolution of raster images (96 draws one pixel per SVG unit).
        show_layer_activations: add the activation of layers that have one.
        show_trainable: mark layers with weights 'Trainable' or 'Non-trainable'.
        engine: 'lamina' (default), or 'graphviz' to have Graphviz' `dot` (on PATH) lay out
            and render the same boxes.

    Returns:
        The path of the written file, as a string.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR'; got {rankdir!r}")
    if engine not in ("lamina", "graphviz"):
        raise ValueError(f"plot_model: engine must be 'lamina' or 'graphviz'; got {engine!r}")
    if not getattr(model, "built", False):
        raise ValueError(
            f"plot_model: model '{model.name}' is not built yet. Build it first: start it with "
            "Input(shape), call model.build(input_shape), or call it on a batch of data"
        )
    path = os.fspath(to_file)
    extension = os.path.splitext(path)[1].lower().lstrip(".") or "png"

    def label(layer: Any, call: LayerCall | None) -> list[tuple[str, str]]:
        return _label(
            layer,
            call,
            show_shapes,
            show_dtype,
            show_layer_names,
            show_layer_activations,
            show_trainable,
        )

    if isinstance(model, Sequential) or getattr(model, "_nodes", None):
        boxes, edges, clusters = _collect(model, expand_nested, label)
    else:
        boxes, edges, clusters = [_Box(model.name, label(model, None))], [], {}
    drawing = _layout(boxes, edges, clusters, rankdir)
    if engine == "graphviz":
        _run_graphviz(drawing, path, dpi, extension)
    elif extension == "svg":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(_svg(drawing))
    else:
        image_module, _, _ = _import_pillow()
        formats = image_module.registered_extensions()
        image_format = formats.get(f".{extension}")
        if image_format is None:
            raise ValueError(
                f"plot_model: cannot write '.{extension}' files; use '.svg' or an image format "
                f"Pillow writes ('.png', '.jpg', '.pdf', ...)"
            )
        _raster(drawing, path, dpi, image_format)
    return path
