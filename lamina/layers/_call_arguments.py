"""A call's arguments by name, as Keras' `CallSpec` reads them: which are tensors, and the
shapes a `build(self, anchor_shape, positive_shape)` or `compute_output_shape` that takes
several gets (Keras matches `foo_shape` to `call`'s argument `foo`).

>>> import torch, lamina
>>> class Distance(lamina.layers.Layer):
...     def build(self, anchor_shape, positive_shape):
...         self.sizes = (anchor_shape, positive_shape)
...     def call(self, anchor, positive):
...         return ((anchor - positive) ** 2).sum(-1)
>>> layer = Distance()
>>> layer(torch.ones(2, 3), torch.zeros(2, 3)).tolist(), layer.sizes
([3.0, 3.0], ((2, 3), (2, 3)))
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch

from ._symbolic import KerasTensor, flatten_structure


@functools.cache
def _call_signature(cls: type) -> inspect.Signature:
    return inspect.signature(cls.call)  # type: ignore[attr-defined]


def call_arguments(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments by `call`'s parameter names, defaults filled in (Keras' CallSpec);
    `{}` when they do not bind."""
    signature = _call_signature(type(layer))
    if "training" not in signature.parameters and "training" in kwargs:
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    try:
        bound = signature.bind(layer, *args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(arguments)), None)  # self
    return arguments


def _is_tensor(value: Any) -> bool:
    return isinstance(value, (torch.Tensor, KerasTensor, np.ndarray))


def tensor_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments that are tensors, or non-empty structures of tensors (and Nones)."""
    tensors = {}
    for name, value in arguments.items():
        if _is_tensor(value):
            tensors[name] = value
        elif isinstance(value, (list, tuple, dict)) and value:
            leaves = flatten_structure(value)
            if all(leaf is None or _is_tensor(leaf) for leaf in leaves):
                tensors[name] = value
    return tensors


def _shape_parameters(target: Any) -> list[str]:
    kinds = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    parameters = inspect.signature(target).parameters.values()
    return [p.name for p in parameters if p.kind in kinds]


def takes_named_shapes(target: Any) -> bool:
    """Whether `build` / `compute_output_shape` takes other than one shape argument."""
    return len(_shape_parameters(target)) != 1


def shape_arguments(
    layer: Any, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Keras' keyword arguments for a `build` / `compute_output_shape` (`target`) that takes
    several shapes: `foo_shape` gets the shape of `call`'s tensor argument `foo` (Keras'
    `update_shapes_dict_for_target_fn`); ValueError, in Keras' words, for other names."""
    arguments = call_arguments(layer, args, kwargs)
    shapes = {
        f"{name}_shape": layer._shapes_of(value)
        for name, value in tensor_arguments(arguments).items()
        if name not in ("mask", "args", "kwargs")
    }
    method = target.__name__
    preamble = (
        f"For a `{method}()` method with more than one argument, all arguments should have a "
        f"`_shape` suffix and match an argument from `call()`. E.g. `{method}(self, foo_shape, "
        "bar_shape)` "
    )
    named = {}
    for name in _shape_parameters(target):
        if not name.endswith("_shape"):
            raise ValueError(
                f"{preamble} For layer '{type(layer).__name__}', Received `{method}()` "
                f"argument `{name}`, which does not end in `_shape`."
            )
        if name.removesuffix("_shape") not in arguments:
            raise ValueError(
                f"{preamble} For layer '{type(layer).__name__}', received `{method}()` "
                f"argument `{name}`, but `call()` does not have argument "
                f"`{name.removesuffix('_shape')}`."
            )
        if name in shapes:
            named[name] = shapes[name]
    return named
