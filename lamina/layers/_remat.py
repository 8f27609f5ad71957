"""Rematerialization (gradient checkpointing): Keras' `RematScope` and `remat` on
`torch.utils.checkpoint`.

A layer created inside `RematScope(mode)` recomputes its activations in the backward pass
instead of keeping them: less memory, one more forward. The recomputation leaves the layer's
state as the forward pass left it (batch-norm moving statistics are updated once, added
losses are counted once).

>>> import torch, lamina
>>> with lamina.RematScope(mode="full"):
...     layer = lamina.layers.Dense(4, activation="relu")
>>> x = torch.ones(2, 3, requires_grad=True)
>>> layer(x).sum().backward()   # the Dense is recomputed in backward
>>> x.grad.shape
torch.Size([2, 3])
"""

from __future__ import annotations

import math
import threading
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from ._symbolic import map_shapes, shape_structure

__all__ = ["RematMode", "RematScope", "get_current_remat_mode", "remat"]

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_LOCAL = threading.local()
_MISSING = object()

RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


class RematScope:
    """Layers created inside recompute their activations in the backward pass.

    Args:
        mode: "full" (every layer), "activations" (the `activation` of layers that have one),
            "larger_than" (layers whose output has more than `output_size_threshold`
            values), "list_of_layers" (the layers named in `layer_names`), or None (off).
        output_size_threshold: the size above which "larger_than" recomputes.
        layer_names: the names for "list_of_layers".

    >>> with RematScope(mode="list_of_layers", layer_names=["big"]):
    ...     get_current_remat_mode().layer_names
    ['big']
    """

    def __init__(
        self,
        mode: str | None = "full",
        output_size_threshold: int = 1024,
        layer_names: list[str] | None = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', "
                "'larger_than', 'list_of_layers', or None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])
        self._pop_on_exit = False

    def __enter__(self) -> RematScope:
        _scopes().append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit:
            _scopes().pop()
            self._pop_on_exit = False


def _scopes() -> list[RematScope]:
    scopes = getattr(_LOCAL, "scopes", None)
    if scopes is None:
        scopes = _LOCAL.scopes = []
    return scopes


def get_current_remat_mode() -> RematMode | None:
    """The innermost open `RematScope`'s settings, or None outside any."""
    scopes = getattr(_LOCAL, "scopes", None)
    if not scopes:
        return None
    scope = scopes[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)


def _state_of(modules: list[torch.nn.Module]) -> list[tuple[Any, ...]]:
    state: list[tuple[Any, ...]] = []
    for module in modules:
        for buffer in module.buffers(recurse=False):
            state.append(("buffer", buffer, buffer.detach().clone()))
        for name in ("_added_losses", "_activity_losses"):
            terms = module.__dict__.get(name)
            if terms is not None:
                state.append(("list", terms, len(terms)))
    return state


def _restore(state: list[tuple[Any, ...]]) -> None:
    for kind, target, saved in state:
        if kind == "buffer":
            with torch.no_grad():
                target.copy_(saved)
        else:
            del target[saved:]


def _modules_of(f: Any) -> list[torch.nn.Module]:
    owner = getattr(f, "__self__", f)
    return list(owner.modules()) if isinstance(owner, torch.nn.Module) else []


def remat(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` (a function or layer) recomputed in the backward pass instead of storing its
    intermediate values (`torch.utils.checkpoint`, non-reentrant, random state replayed).

    >>> import torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> remat(torch.sin)(x).sum().backward()
    >>> bool(torch.allclose(x.grad, torch.cos(x)))
    True
    """
    modules = _modules_of(f)

    def rematerialized(*args: Any, **kwargs: Any) -> Any:
        if not torch.is_grad_enabled():
            return f(*args, **kwargs)
        calls = [0]

        def run(*inner_args: Any, **inner_kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == 1:
                return f(*inner_args, **inner_kwargs)
            # The backward pass's recomputation: keep the state the forward pass left.
            state = _state_of(modules)
            try:
                return f(*inner_args, **inner_kwargs)
            finally:
                _restore(state)

        return checkpoint(run, *args, use_reentrant=False, **kwargs)

    rematerialized.__wrapped__ = f  # type: ignore[attr-defined]
    return rematerialized


def rematerialized_method(layer: Any, method: Any, inputs: Any) -> Any:
    """`method` of `layer`, wrapped as its remat mode says (Keras' `rematerialized_call`)."""
    mode = layer._remat_mode
    if mode is None or mode.mode is None or not torch.is_grad_enabled():
        return method
    if mode.mode == "full":
        return remat(method)
    if mode.mode == "list_of_layers":
        return remat(method) if layer.name in mode.layer_names else method
    if mode.mode == "larger_than":
        shapes = layer._shapes_of(inputs)
        try:
            output_shapes = shape_structure(layer.compute_output_shape(shapes))
        except (ValueError, TypeError, NotImplementedError):
            return method
        sizes: list[int] = []
        map_shapes(lambda s: sizes.append(math.prod(d or 1 for d in s)), output_shapes)
        return remat(method) if sum(sizes) > mode.output_size_threshold else method
    if mode.mode == "activations":
        activation = getattr(layer, "activation", None)
        if activation is None or not callable(activation):
            return method

        def with_remat_activation(*args: Any, **kwargs: Any) -> Any:
            own = layer.__dict__.get("activation", _MISSING)  # a plain attribute, or a module
            layer.__dict__["activation"] = remat(activation)
            try:
                return method(*args, **kwargs)
            finally:
                if own is _MISSING:
                    del layer.__dict__["activation"]
                else:
                    layer.__dict__["activation"] = own

        return with_remat_activation
    return method
