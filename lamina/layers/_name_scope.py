"""Keras' name scopes: the prefixes of variable paths ('outer/dense/kernel').

A layer opens its scope while it builds (and during its first call, so that the sub-layers a
subclassed model builds in `call` are under it); a Sequential opens its scope while it
connects its layers. The path above a layer is fixed the first time its scope opens, as in
Keras, so a weight's path does not depend on where it is later called.

>>> import lamina
>>> with lamina.name_scope("encoder"):
...     v = lamina.Variable(1.0, name="scale")
>>> v.path
'encoder/scale'
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="head")])
>>> [w.path for w in model.weights]
['sequential/head/kernel', 'sequential/head/bias']
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["current_path", "name_scope", "open_name_scope", "variable_path"]

_LOCAL = threading.local()


def _stack() -> list[name_scope]:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


class name_scope:  # noqa: N801 (Keras' name)
    """A context manager that prefixes the paths of the variables made inside it.

    Args:
        name: the scope's name (no '/').
        caller: the object that opens it (a layer, whose name may hold '/', as Keras 2
            files' 'fire2/squeeze1x1'); with `deduplicate`, a scope of the same
            name and caller as the innermost open one is not entered twice.
        deduplicate: see `caller`.
        override_parent: an absolute path that replaces the scopes opened around this one.

    >>> with name_scope("a"), name_scope("b", override_parent="z"):
    ...     current_path()
    'z/b'
    """

    def __init__(
        self,
        name: str,
        caller: Any = None,
        deduplicate: bool = True,
        override_parent: str | None = None,
    ) -> None:
        if not isinstance(name, str) or ("/" in name and not hasattr(caller, "_weight_info")):
            raise ValueError(f"name_scope: the name must be a string without '/'; got {name!r}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        if override_parent is None and deduplicate and caller is not None:
            override_parent = _parent_path_of(caller)
        self.override_parent = override_parent
        self._pop_on_exit = False

    def __enter__(self) -> name_scope:
        stack = _stack()
        if self.deduplicate and stack and self.caller is not None:
            parent = stack[-1]
            if parent.caller is self.caller and parent.name == self.name:
                return self
        stack.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit:
            stack = _stack()
            if stack:
                stack.pop()
            self._pop_on_exit = False


def current_path() -> str:
    """The path of the open scopes ('' outside any)."""
    parts: list[str] = []
    for scope in getattr(_LOCAL, "stack", ()):
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


def _parent_path_of(layer: Any) -> str | None:
    return getattr(layer, "__dict__", {}).get("_parent_path")


def open_name_scope(layer: Any) -> name_scope:
    """`layer`'s scope; the first opening fixes the path above it (Keras' `_parent_path`)."""
    if _parent_path_of(layer) is None:
        layer.__dict__["_parent_path"] = current_path()
    return name_scope(layer.name, caller=layer)


def in_own_scope(layer: Any) -> bool:
    """Whether `layer`'s scope is the innermost open one."""
    stack = getattr(_LOCAL, "stack", None)
    return bool(stack) and stack[-1].caller is layer


def variable_path(layer: Any, name: str) -> str:
    """The path of `layer`'s variable `name`: the path above the layer, its name, `name`."""
    parent = _parent_path_of(layer)
    if parent is None:
        parent = current_path()
    return f"{parent}/{layer.name}/{name}" if parent else f"{layer.name}/{name}"


def join_path(name: str) -> str:
    """`name` under the open scopes (a variable made outside a layer)."""
    path = current_path()
    return f"{path}/{name}" if path else name
