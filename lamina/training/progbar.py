"""Keras' progress bar: `12/60 ━━━━━━━━━━━━━━━━━━━━ 3s 52ms/step - accuracy: 0.91 - loss: 0.29`.

Values are read from the device only when a line is drawn (at most every `interval` seconds),
so the bar never adds a host synchronisation per step.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

__all__ = ["Progbar", "format_logs"]

_BAR_WIDTH = 20


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds: float, unit_name: str = "step") -> str:
    """Keras' time per step: '0s/step' for none at all, else s, ms or us."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_value(value: Any, signed: bool = False) -> str:
    """Keras' number format: 4 decimals above 1e-3, scientific notation otherwise (zero is
    '0.0000e+00'); `signed` compares the value itself, as Keras' verbose=2 summary does, so
    negative values print in scientific notation there."""
    value = float(value)
    return f"{value:.4f}" if (value if signed else abs(value)) > 1e-3 else f"{value:.4e}"


def format_logs(logs: Mapping[str, Any], signed: bool = False) -> str:
    """' - accuracy: 0.9100 - loss: 0.2900' with keys sorted as Keras prints them."""
    return "".join(f" - {key}: {_format_value(logs[key], signed)}" for key in sorted(logs))


class Progbar:
    """A progress bar over `target` steps (None when unknown: `     12/Unknown`, elapsed time).

    Args:
        target: number of steps, or None.
        verbose: 1 draws the bar in place; 2 prints one line when `finish` is called.
        interval: the shortest time between two redraws, in seconds.
        stream: where to write (stdout by default).
    """

    def __init__(
        self,
        target: int | None,
        verbose: int = 1,
        interval: float = 0.05,
        stream: TextIO | None = None,
    ) -> None:
        self.target = target
        self.verbose = verbose
        self.interval = interval
        self.stream = stream or sys.stdout
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0

    def _bar(self, current: int) -> str:
        if not self.target:  # an unknown number of steps (a generator): Keras' counter
            return f"{current:>7}/Unknown"
        filled = int(_BAR_WIDTH * current / max(self.target, 1))
        width = len(str(self.target))
        return f"{current:>{width}}/{self.target} " + "━" * filled + "─" * (_BAR_WIDTH - filled)

    def update(
        self, current: int, logs: Mapping[str, Any] | None = None, final: bool = False
    ) -> None:
        """Redraw for step `current`; `logs` values are read only if a line is drawn."""
        if self.verbose != 1:
            return
        now = time.perf_counter()
        if not final and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        if final or not self.target:
            clock = _format_time(elapsed)
        else:
            clock = _format_time(per_step * (self.target - current))
        line = f"{self._bar(current)} {clock} {_format_per_step(per_step)}"
        if logs:
            line += format_logs(logs)
        if self._dynamic:
            padding = " " * max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + padding + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self._last_len = len(line)
        self.stream.flush()

    def finish(self, current: int, logs: Mapping[str, Any] | None = None) -> None:
        """Draw the last line (verbose 1) or the one-line summary (verbose 2)."""
        if self.verbose == 1:
            self.update(current, logs, final=True)
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self._start
            per_step = elapsed / max(current, 1)
            steps = f"{current}/{self.target}" if self.target else f"{current}"
            line = f"{steps} - {_format_time(elapsed)} - {_format_per_step(per_step)}"
            self.stream.write(line + format_logs(logs or {}, signed=True) + "\n")
            self.stream.flush()
