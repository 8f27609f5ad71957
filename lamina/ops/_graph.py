"""Ops on symbolic tensors: each public function of `lamina.ops`, called with a symbolic
tensor (an `Input` or a layer's output) anywhere in its arguments, records a graph node
instead of computing, as Keras 3's ops do (`ops.concatenate([a, b], axis=-1)` in a functional
model). On real tensors the function runs as written, after one scan of its arguments.

>>> import lamina
>>> x = lamina.Input((4,))
>>> lamina.ops.sum(x * 2.0, axis=1, keepdims=True).shape
(None, 1)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..layers._symbolic import KerasTensor

__all__ = ["symbolic_aware"]


def _symbolic(value: Any) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, list | tuple):
        return any(_symbolic(item) for item in value)
    if isinstance(value, dict):
        return any(_symbolic(item) for item in value.values())
    return False


def _wrap(name: str, function: Callable[..., Any], prefix: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def operation(*args: Any, **kwargs: Any) -> Any:
        if _symbolic(args) or (kwargs and _symbolic(kwargs)):
            from ..layers._operation import symbolic_operation

            return symbolic_operation(prefix + name, args, kwargs)
        return function(*args, **kwargs)

    operation._symbolic_aware = True  # type: ignore[attr-defined]
    return operation


def symbolic_aware(module: ModuleType, prefix: str = "") -> None:
    """Replace each public function of `module` (its `__all__`) by one that also records
    graph nodes for symbolic tensors, named `prefix + name` ('image.resize')."""
    for name in getattr(module, "__all__", ()):
        function = getattr(module, name)
        if not inspect.isfunction(function) or getattr(function, "_symbolic_aware", False):
            continue
        if name in {"convert_to_tensor", "convert_to_numpy", "is_tensor", "shape", "dtype"}:
            continue  # about tensors, not on them: Keras answers these for symbolic ones too
        setattr(module, name, _wrap(name, function, prefix))
