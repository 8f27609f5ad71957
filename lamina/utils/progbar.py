"""`keras.utils.Progbar`: a progress bar for custom training loops, with Keras' output.

It writes what Keras 3 writes, byte for byte: the bar drawn in place with ANSI colours
(`3/6 ━━━━━━━━━━━━━━━━━━━━ 0s 185ms/step - loss: 0.3333`) at verbose=1, one summary line at
the end at verbose=2, and the running average of each value passed to `update` (the last
value for the names in `stateful_metrics`, and for every name at the final update, where a
training loop passes its epoch-level numbers).

It is also `fit`'s bar: `lamina.callbacks.ProgbarLogger` hands it a batch's logs lazily, and
the values are read from the device only when a line is drawn. Lines go through
`lamina.utils.print_msg`: to stdout, or to the `logging` module when interactive logging is
off (the same text Keras sends to absl logging).

>>> import io, contextlib
>>> out = io.StringIO()
>>> with contextlib.redirect_stdout(out):
...     bar = Progbar(2, verbose=2)
...     bar.update(1, values=[("loss", 1.0)])
...     bar.update(2, values=[("loss", 0.5)])
>>> print(out.getvalue(), end="")
2/2 - 0s - ...s/step - loss: 0.5000
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

from ..training.progbar import _format_per_step, _format_time, _format_value
from ._logging import print_msg

__all__ = ["Progbar"]

_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def _format_per_unit(seconds: float, unit_name: str) -> str:
    return " " + _format_per_step(seconds, unit_name)


def _as_number(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().numpy()
    return value


class Progbar:
    """A progress bar over `target` steps, with running averages of the values it is given.

    Args:
        target: the number of steps, or None when unknown (`      7/Unknown` is shown).
        width: the bar's width, in characters.
        verbose: 0 (silent), 1 (the bar, redrawn in place) or 2 (one line when done).
        interval: the shortest time between two redraws, in seconds.
        stateful_metrics: names whose values are shown as they are; the others are averaged
            over the steps.
        stateless_metrics: the other way round: only these names are averaged (give one of
            the two; `ProgbarLogger` passes an empty set, so fit's values show as they are).
        unit_name: the name of a step in the time per step (`ms/step`, `ms/sample`).

    >>> bar = Progbar(20, verbose=0)
    >>> bar.add(4, values=[("loss", 2.0)])
    >>> bar.add(6, values=[("loss", 1.0)])
    >>> bar._values["loss"]  # (weighted sum, steps): the average shown is 1.4
    [14.0, 10]
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: give `stateful_metrics` (names shown as they are) or "
                "`stateless_metrics` (names averaged over the steps), not both; got "
                f"stateful_metrics={stateful_metrics!r}, stateless_metrics={stateless_metrics!r}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics: set[str] | None = None
        self.stateless_metrics: set[str] | None = None
        if stateless_metrics is not None:
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
        # As Keras: redraw in place with backspaces and "\r" on a terminal, in a notebook, and
        # anywhere on POSIX systems (Keras tests for the `posix` module), so even captured
        # output holds the redraws; elsewhere each redraw is a new line.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or os.name == "posix"
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values: dict[str, list[Any]] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def update(
        self,
        current: int,
        values: Iterable[tuple[str, Any]] | Mapping[str, Any] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Move the bar to step `current` and record the values of the last step(s).

        Args:
            current: the index of the step just done.
            values: `(name, value)` pairs (or a dict). A value is averaged over the steps,
                weighted by the steps since the last update, unless its name is in
                `stateful_metrics`.
            finalize: whether this is the last update; default `current >= target`.
        """
        self._advance(current, values, finalize, lazy=False)

    def _advance(self, current: int, values: Any, finalize: bool | None, lazy: bool) -> None:
        """`update`; with `lazy`, `values` (fit's batch logs, whose reading waits for the
        device) is read only if a line is drawn: for names shown as they are, which is all of
        them for `ProgbarLogger`, the output is the same."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.time()
        if self.verbose == 1:
            due = finalize or now - self._last_update >= self.interval
        else:
            due = self.verbose == 2 and finalize and self._known_target
        if due or not lazy:
            self._record(current, values, finalize)
        self._seen_so_far = current
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if not due:
                return
            self._draw(current, now, time_per_unit, finalize)
        elif due:
            line = f"{self._count(current)} - {now - self._start:.0f}s -"
            line += _format_per_unit(time_per_unit, self.unit_name)
            line += self._format_values(signed=True)  # verbose=2
            print_msg(line + "\n", line_break=False)
        self._last_update = now

    def _record(self, current: int, values: Any, finalize: bool) -> None:
        pairs = values.items() if isinstance(values, Mapping) else values or []
        for name, value in pairs:
            if name not in self._values_order:
                self._values_order.append(name)
            value = _as_number(value)
            if self.stateful_metrics is not None:
                averaged = name not in self.stateful_metrics
            else:
                averaged = name in self.stateless_metrics
            if not averaged or finalize:
                # A final value replaces the average: fit reports epoch-level numbers then.
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                if name in self._values:
                    self._values[name][0] += value * steps
                    self._values[name][1] += steps
                else:
                    self._values[name] = [value * steps, steps]

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advance the bar by `n` steps (see `update`)."""
        self.update(self._seen_so_far + n, values)

    @property
    def _known_target(self) -> bool:
        return self.target is not None and self.target > 0

    def _count(self, current: int) -> str:
        digits = int(math.log10(self.target)) + 1
        return f"{int(current):>{digits}d}/{self.target}"

    def _format_values(self, signed: bool) -> str:
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            if not isinstance(total, float):
                total = np.mean(total)
            average = total / max(1, count)
            text += f" - {name}: {_format_value(average, signed)}"
        return text

    def _draw(self, current: int, now: float, time_per_unit: float, finalize: bool) -> None:
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"
        hidden = 0  # characters of ANSI escape codes, which take no room on the screen
        if self._known_target:
            bar = f"{_BOLD}{self._count(current)}{_RESET} "
            filled = int(self.width * float(current) / self.target)
            if filled > 0:
                bar += f"{_GREEN}{'━' * filled}{_RESET}"
                hidden += 9
            bar += f"{_WHITE}{'━' * (self.width - filled)}{_RESET}"
            hidden += 17
        else:
            bar = f"{int(current):7d}/Unknown"
        if self._known_target and not finalize:
            clock = _format_time(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {_BOLD}{clock}{_RESET}" + _format_per_unit(time_per_unit, self.unit_name)
        info += self._format_values(signed=False)
        hidden += 8
        total_width = len(bar) + len(info) - hidden
        message += bar + info + " " * max(self._prev_total_width - total_width, 0)
        print_msg(message + ("\n" if finalize else ""), line_break=False)
        self._prev_total_width = total_width

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first step (compilation, warm-up) once past it."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
