"""Boxes, colours and text metrics shared by plot_model's layout and its renderers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_TITLE_SIZE = 14
_TEXT_SIZE = 12
_LINE_GAP = 6
_PADDING_X = 10
_PADDING_Y = 6
_MARGIN = 20
_GAP_ACROSS = 30  # between boxes of one rank
_GAP_ALONG = 40  # between ranks
_DUMMY_WIDTH = 8  # room an arrow that skips a rank takes in it
# Average glyph width of Helvetica/Arial text in ems: boxes are sized from it (rendered text
# measured in a browser is 0.5-0.56 em for names and shapes, so the text fits with room).
_EM_WIDTH = 0.6
_HEADER_COLOR = "#263238"
_EDGE_COLOR = "#546e7a"
_CLUSTER_COLOR = "#90a4ae"
_TRAINABLE_COLOR = "#2e7d32"
_FROZEN_COLOR = "#c62828"
_TEXT_COLORS = {
    "title": "white",
    "text": "#212121",
    "trainable": _TRAINABLE_COLOR,
    "frozen": _FROZEN_COLOR,
}


@dataclass(eq=False)
class _Box:
    """A layer's box, or (`dummy`) a point an arrow passes through on a rank it skips."""

    name: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    clusters: tuple[str, ...] = ()
    dummy: bool = False
    index: int = 0
    rank: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass
class _Drawing:
    boxes: list[_Box]
    edges: list[list[_Box]]  # each: source, the dummies it passes, target
    routes: list[list[tuple[float, float]]]  # the points each edge is drawn through
    clusters: list[tuple[str, float, float, float, float]]
    width: float
    height: float
    rankdir: str


def _text_width(text: str, size: float) -> float:
    return len(text) * size * _EM_WIDTH


def _size_box(box: _Box) -> None:
    if box.dummy:
        box.width, box.height = _DUMMY_WIDTH, 0.0
        return
    widths = [
        _text_width(text, _TITLE_SIZE if kind == "title" else _TEXT_SIZE)
        for kind, text in box.lines
    ]
    box.width = math.ceil(max(widths) + 2 * _PADDING_X)
    box.height = (
        _title_height()
        + (len(box.lines) - 1) * _line_height()
        + (2 * _PADDING_Y if len(box.lines) > 1 else 0)
    )


def _title_height() -> float:
    return _TITLE_SIZE + _LINE_GAP + 2 * _PADDING_Y


def _line_height() -> float:
    return _TEXT_SIZE + _LINE_GAP
