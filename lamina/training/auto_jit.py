"""`compile(jit_compile="auto")`, the default: a measured choice between eager and compiled
train steps.

Keras 3 runs eagerly on its torch backend when `jit_compile` is 'auto', and so does lamina for
most runs: `torch.compile` costs 10-40 s per model on a 2-core CPU (about as much on a GPU
machine's host, with autotuning), and what the compiled step saves depends on the model and
the device. On this project's CPU a compiled ResNet-8 step was 1.1x faster, the MNIST convnet's
0.7x (inductor's max-pooling backward); on an H200 ResNet-18's was 1.5x faster
(docs/performance.md). So, in `fit`:

1. The first `WINDOW` steps of full batch size (after `SETTLE` steps) run eagerly and are
   timed; their median, times the steps left in the run, says how long the rest would take.
2. If that is at least `threshold_seconds()` (600 s, or the environment variable
   ``LAMINA_AUTO_JIT_SECONDS``), the train step is compiled and the next `WINDOW` steps are
   timed the same way (the compiling call apart). A run that long repays a compilation
   that saves a few percent, and loses at most the compilation's share of it otherwise.
3. The compiled step is kept when its median time is at most `KEEP_RATIO` of the eager
   one's; else the model trains eagerly again. The verdict holds for the model's later `fit`
   calls (until it is compiled again or `model.jit_compile` is set).

The compiled step computes the same function (its results match the eager step's within
float tolerance, as with `jit_compile=True`); only dropout masks differ in number. A step
that fails to compile (no C++ compiler for inductor, an operation dynamo cannot trace) runs
eagerly, with a logged warning, and the run goes on eagerly. Evaluation and prediction stay
eager. Not tried: models with their own `train_step`, distributed runs (every process would
have to agree), and on the CPU models with max pooling (slower compiled, measured) or
recurrent layers (dynamo unrolls their time loop). The logger `lamina.training` tells the
measurements and the verdict at INFO level.

>>> AutoJit.threshold_seconds() > 0
True
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from typing import Any

import torch

from . import distributed
from .custom_steps import overrides_step

_LOG = logging.getLogger("lamina.training")

__all__ = ["AutoJit"]

SETTLE = 2  # steps left out before each timed window (the first steps; the compiling call)
WINDOW = 12  # steps timed in each mode
KEEP_RATIO = 0.97  # the compiled step is kept when its median time is at most this share
THRESHOLD_SECONDS = 600.0  # the eager time left in the run that makes a trial worth it


class AutoJit:
    """The measured 'auto' choice for one model's steps (`steps`: its `StepFunctions`)."""

    def __init__(self, steps: Any) -> None:
        self._steps = steps
        self.verdict: str | None = None  # 'compiled' or 'eager', once measured
        self.eager_step: float | None = None  # median seconds per step
        self.compiled_step: float | None = None
        self.compile_seconds: float | None = None
        self._phase: str | None = None  # 'eager' or 'trial' while measuring, else None
        self._durations: list[float] = []
        self._last: float | None = None
        self._last_size: int | None = None
        self._full_size: int | None = None
        self._skip = 0
        self._left: int | None = None  # steps left in this fit, when known
        self._epoch_steps = 0

    @staticmethod
    def threshold_seconds() -> float:
        """The eager training time left in a `fit` from which 'auto' tries compiling."""
        value = os.environ.get("LAMINA_AUTO_JIT_SECONDS", "").strip()
        try:
            return float(value) if value else THRESHOLD_SECONDS
        except ValueError:
            raise ValueError(
                f"LAMINA_AUTO_JIT_SECONDS must be a number of seconds; got {value!r}"
            ) from None

    def reset(self) -> None:
        """Forget the verdict (the model was compiled again or `jit_compile` was set)."""
        self.__init__(self._steps)

    @property
    def trying(self) -> bool:
        """Whether the compiled train step is on trial (a failure falls back to eager)."""
        return self._phase == "trial"

    # ------------------------------------------------------------------ fit's hooks

    def epoch_begin(self, epochs_left: int, steps_per_epoch: int | None) -> None:
        """At the start of each epoch of `fit`: `epochs_left` counts this one."""
        if self._phase is None and (self.verdict is not None or not self._eligible()):
            return
        if self._phase is None:
            self._start("eager")
            self.eager_step = None  # measured anew in each fit
        steps = steps_per_epoch or self._epoch_steps or None  # a generator: the last epoch's
        self._left = None if steps is None else steps * epochs_left
        self._last, self._epoch_steps = None, 0  # a timed step does not span two epochs
        if self._phase == "eager" and self.eager_step is not None:
            self._maybe_try()  # measured in an epoch whose length was not known

    def fit_end(self) -> None:
        """`fit` is over: a trial not finished goes on in the next `fit`, a wait ends."""
        if self._phase == "eager":
            self._phase = None
        self._last = None

    def tick(self, x: Any) -> None:
        """Before each train step of `fit`: time the previous one."""
        if self._phase is None:
            return
        from .steps import _batch_size_of

        if self._steps.device.type == "cuda":
            torch.cuda.synchronize(self._steps.device)
        now = time.perf_counter()
        size = _batch_size_of(x)
        if self._full_size is None:
            self._full_size = size
        self._epoch_steps += 1
        if self._left is not None:
            self._left -= 1
        timed = self._last is not None and self._last_size == self._full_size
        if timed and self._skip > 0:
            self._skip -= 1
            if self._phase == "trial" and self.compile_seconds is None:
                self.compile_seconds = now - self._last
        elif timed:
            self._durations.append(now - self._last)
        self._last, self._last_size = now, size
        if len(self._durations) >= WINDOW:
            if self._phase == "eager":
                self.eager_step = statistics.median(self._durations)
                self._maybe_try()
            else:
                self._judge(statistics.median(self._durations))

    def failed(self, error: BaseException) -> None:
        """The compiled step raised while on trial: train eagerly from now on."""
        _LOG.warning(
            "lamina: jit_compile='auto' tried torch.compile for this long run, but the train "
            "step did not compile (%s: %s); training continues eagerly",
            type(error).__name__,
            error,
        )
        self._decide("eager")

    # ------------------------------------------------------------------ measurements

    def _eligible(self) -> bool:
        steps = self._steps
        state = steps.state
        if state.jit_compile != "auto" or state.cuda_graphs or steps._compiled_steps is not None:
            return False
        if overrides_step(steps.model, "train_step") or distributed.is_distributed():
            return False
        if steps.device.type == "cpu":
            from ..layers._recurrent_base import _Stateful
            from ..layers.pooling import MaxPooling1D, MaxPooling2D, MaxPooling3D

            slow = (MaxPooling1D, MaxPooling2D, MaxPooling3D, _Stateful)  # _Stateful: RNNs
            return not any(isinstance(m, slow) for m in steps.model.modules())
        return True

    def _start(self, phase: str) -> None:
        self._phase, self._durations, self._skip = phase, [], SETTLE

    def _maybe_try(self) -> None:
        if self._left is None:
            return  # an epoch of unknown length: decided at the next epoch's start
        left = self._left * (self.eager_step or 0.0)
        threshold = self.threshold_seconds()
        if left < threshold:
            _LOG.info(
                "lamina: jit_compile='auto' runs eagerly: %.1f ms per step, about %.0f s "
                "left (compiling is tried from %.0f s)",
                1e3 * (self.eager_step or 0.0),
                left,
                threshold,
            )
            self._phase = None
            return
        _LOG.info(
            "lamina: jit_compile='auto': %.1f ms per eager step, about %.0f s left: "
            "trying torch.compile",
            1e3 * (self.eager_step or 0.0),
            left,
        )
        self._steps.compile_train_step()
        self._start("trial")
        self._skip = SETTLE + 1  # the first: the step that compiles

    def _judge(self, compiled: float) -> None:
        self.compiled_step = compiled
        eager = self.eager_step or 0.0
        keep = compiled <= KEEP_RATIO * eager
        _LOG.info(
            "lamina: jit_compile='auto': compiled step %.1f ms, eager %.1f ms (%.2fx; "
            "compiling took %.1f s): %s",
            1e3 * compiled,
            1e3 * eager,
            eager / compiled if compiled else float("inf"),
            self.compile_seconds or 0.0,
            "compiled from now on" if keep else "eager from now on",
        )
        self._decide("compiled" if keep else "eager")

    def _decide(self, verdict: str) -> None:
        self.verdict = verdict
        self._phase = None
        self._last = None
        if verdict == "eager":
            self._steps.drop_compiled_steps()
