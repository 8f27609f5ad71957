"""plot_model's renderers: SVG written here, PNG through Pillow, or Graphviz' dot."""

from __future__ import annotations

import math
import shutil
import subprocess
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ._drawing import (
    _CLUSTER_COLOR,
    _EDGE_COLOR,
    _HEADER_COLOR,
    _PADDING_X,
    _PADDING_Y,
    _TEXT_COLORS,
    _TEXT_SIZE,
    _TITLE_SIZE,
    _Box,
    _Drawing,
    _line_height,
    _title_height,
)


def _svg(drawing: _Drawing) -> str:
    w, h = drawing.width, drawing.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif">',
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{_EDGE_COLOR}"/></marker>',
        "</defs>",
        f'<rect width="{w}" height="{h}" fill="white"/>',
    ]
    for name, x, y, cw, ch in drawing.clusters:
        out.append(
            f'<g class="cluster"><rect x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" '
            f'height="{ch:.1f}" rx="6" fill="none" stroke="{_CLUSTER_COLOR}" '
            f'stroke-dasharray="6 4"/><text x="{x + 8:.1f}" y="{y + _TEXT_SIZE + 2:.1f}" '
            f'font-size="{_TEXT_SIZE}" fill="{_CLUSTER_COLOR}">{escape(name)}</text></g>'
        )
    for path, points in zip(drawing.edges, drawing.routes, strict=True):
        d = " ".join(f"{'M' if i == 0 else 'L'} {x:.1f} {y:.1f}" for i, (x, y) in enumerate(points))
        out.append(
            f'<path class="edge" data-source={quoteattr(path[0].name)} '
            f'data-target={quoteattr(path[-1].name)} d="{d}" fill="none" '
            f'stroke="{_EDGE_COLOR}" stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
    for box in drawing.boxes:
        out.append(_svg_box(box))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_box(box: _Box) -> str:
    x, y = box.x, box.y
    parts = [
        f'<g class="layer" data-name={quoteattr(box.name)}>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
        f'rx="4" fill="white" stroke="{_HEADER_COLOR}" stroke-width="1.5"/>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.width:.1f}" height="{_title_height():.1f}" '
        f'rx="4" fill="{_HEADER_COLOR}"/>',
    ]
    baseline = y + _PADDING_Y + _TITLE_SIZE
    for number, (kind, text) in enumerate(box.lines):
        if number == 0:
            parts.append(
                f'<text x="{x + _PADDING_X:.1f}" y="{baseline:.1f}" font-size="{_TITLE_SIZE}" '
                f'font-weight="bold" fill="white">{escape(text)}</text>'
            )
            baseline = y + _title_height() + _PADDING_Y + _TEXT_SIZE
            continue
        parts.append(
            f'<text x="{x + _PADDING_X:.1f}" y="{baseline:.1f}" font-size="{_TEXT_SIZE}" '
            f'fill="{_TEXT_COLORS[kind]}">{escape(text)}</text>'
        )
        baseline += _line_height()
    parts.append("</g>")
    return "".join(parts)


# ---------------------------------------------------------------- PNG (Pillow)


def _import_pillow() -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError(
            "plot_model needs Pillow to write PNG and other raster images: "
            "`pip install pillow`, or write an SVG (to_file='model.svg'), which needs nothing"
        ) from None
    return Image, ImageDraw, ImageFont


def _font(image_font: Any, size: float) -> Any:
    try:
        return image_font.load_default(size=max(int(round(size)), 6))
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return image_font.load_default()


def _raster(drawing: _Drawing, path: str, dpi: int, image_format: str) -> None:
    image_module, image_draw, image_font = _import_pillow()
    scale = dpi / 96
    size = (math.ceil(drawing.width * scale), math.ceil(drawing.height * scale))
    image = image_module.new("RGB", size, "white")
    draw = image_draw.Draw(image)
    line = max(1, round(1.5 * scale))

    def s(value: float) -> float:
        return value * scale

    fonts: dict[int, Any] = {}

    def font_of(points: float) -> Any:
        key = round(points * 10)
        if key not in fonts:
            fonts[key] = _font(image_font, points)
        return fonts[key]

    for name, x, y, cw, ch in drawing.clusters:
        draw.rounded_rectangle(
            (s(x), s(y), s(x + cw), s(y + ch)), radius=s(6), outline=_CLUSTER_COLOR, width=line
        )
        draw.text((s(x + 8), s(y + 2)), name, fill=_CLUSTER_COLOR, font=font_of(s(_TEXT_SIZE)))
    for route in drawing.routes:
        points = [(s(x), s(y)) for x, y in route]
        draw.line(points, fill=_EDGE_COLOR, width=line, joint="curve")
        (x0, y0), (x1, y1) = points[-2], points[-1]
        angle = math.atan2(y1 - y0, x1 - x0)
        length, spread = s(9), 0.4
        head = [
            (x1, y1),
            (x1 - length * math.cos(angle - spread), y1 - length * math.sin(angle - spread)),
            (x1 - length * math.cos(angle + spread), y1 - length * math.sin(angle + spread)),
        ]
        draw.polygon(head, fill=_EDGE_COLOR)
    for box in drawing.boxes:
        x, y, w, h = s(box.x), s(box.y), s(box.width), s(box.height)
        draw.rounded_rectangle(
            (x, y, x + w, y + h), radius=s(4), fill="white", outline=_HEADER_COLOR, width=line
        )
        draw.rounded_rectangle(
            (x, y, x + w, y + s(_title_height())), radius=s(4), fill=_HEADER_COLOR
        )
        top = box.y + _PADDING_Y
        for number, (kind, text) in enumerate(box.lines):
            size_points = _TITLE_SIZE if number == 0 else _TEXT_SIZE
            font = font_of(s(size_points))
            room = w - s(2 * _PADDING_X)
            while (
                hasattr(font, "size") and draw.textlength(text, font=font) > room and font.size > 6
            ):
                font = _font(image_font, font.size - 1)
            draw.text((x + s(_PADDING_X), s(top)), text, fill=_TEXT_COLORS[kind], font=font)
            if number == 0:
                top = box.y + _title_height() + _PADDING_Y
            else:
                top += _line_height()
    image.save(path, format=image_format, dpi=(dpi, dpi))


# ---------------------------------------------------------------- Graphviz (optional)


def _dot_source(drawing: _Drawing, dpi: int) -> str:
    lines = [
        "digraph model {",
        f"  graph [rankdir={drawing.rankdir}, dpi={dpi}];",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
    ]
    for box in drawing.boxes:
        label = "\\n".join(text.replace('"', '\\"') for _, text in box.lines)
        lines.append(f'  n{box.index} [label="{label}"];')
    for path in drawing.edges:
        lines.append(f"  n{path[0].index} -> n{path[-1].index};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_graphviz(drawing: _Drawing, path: str, dpi: int, extension: str) -> None:
    dot = shutil.which("dot")
    if dot is None:
        raise ImportError(
            "plot_model(engine='graphviz') needs Graphviz' `dot` on PATH "
            "(https://graphviz.org/download/); the default engine needs no Graphviz"
        )
    subprocess.run(
        [dot, f"-T{extension}", "-o", path],
        input=_dot_source(drawing, dpi).encode(),
        check=True,
        capture_output=True,
    )


# ---------------------------------------------------------------- entry point
