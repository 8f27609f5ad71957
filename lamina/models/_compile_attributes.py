"""Keras' compile-time attributes of a model: `run_eagerly`, `jit_compile` and
`steps_per_execution`, read from (and written to) what compile() was given.

>>> import lamina
>>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> model.run_eagerly, model.jit_compile, model.steps_per_execution
(False, False, 1)
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["CompileAttributes"]


class CompileAttributes:
    """Mixed into `Model`."""

    _compile_state: Any
    _trainer: Any
    name: str

    @property
    def run_eagerly(self) -> bool:
        """compile()'s `run_eagerly` (lamina's eager steps are plain PyTorch either way);
        True turns `jit_compile` off, as in Keras."""
        state = self._compile_state
        if state is None:
            return bool(self.__dict__.get("_early_run_eagerly", False))
        return bool(state.compile_arguments["run_eagerly"])

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        state = self._compile_state
        if state is None:  # kept until compile(), which sets it again (as Keras)
            self.__dict__["_early_run_eagerly"] = bool(value)
            return
        state.compile_arguments["run_eagerly"] = bool(value)
        if value and state.jit_compile is True:
            warnings.warn(
                "If `run_eagerly` is True, then `jit_compile` cannot also be True. "
                "Disabling `jit_compile`.",
                stacklevel=3,
            )
            self.jit_compile = False

    @property
    def jit_compile(self) -> bool:
        """Whether the steps go through torch.compile: compile()'s `jit_compile`, with 'auto'
        resolved (eager, as Keras on torch) and False before compile()."""
        state = self._compile_state
        if state is None:
            return bool(self.__dict__.get("_early_jit_compile", False) is True)
        return state.jit_compile is True

    @jit_compile.setter
    def jit_compile(self, value: bool | str) -> None:
        state = self._compile_state
        if value not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'; got {value!r}")
        if state is None:
            self.__dict__["_early_jit_compile"] = value
            return
        state.jit_compile = state.compile_arguments["jit_compile"] = value
        self._trainer._compiled_steps = None  # the next fit/evaluate/predict decides again
        self._trainer.auto_jit.reset()

    @property
    def steps_per_execution(self) -> int:
        """compile()'s `steps_per_execution` (1 before compile())."""
        state = self._compile_state
        return 1 if state is None else state.steps_per_execution
