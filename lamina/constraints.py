"""Weight constraints (max_norm, min_max_norm, non_neg, unit_norm), applied after each update.

A constraint is a function of a weight tensor in Keras' layout (a Dense kernel (in, out), a
Conv2D kernel (kh, kw, in, out)) that returns its projection, so `axis` means what it means in
Keras. Layers take them as `kernel_constraint=`, `bias_constraint=`, ...; the optimizer applies
each one to its parameter after every step, as Keras does, while lamina's layers convert between
PyTorch's layout and Keras' around the call.

>>> import torch, lamina
>>> lamina.constraints.NonNeg()(torch.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> w = lamina.constraints.MaxNorm(1.0)(torch.tensor([[3.0], [4.0]]))   # norm 5 over axis 0
>>> [round(v, 4) for v in w.flatten().tolist()]
[0.6, 0.8]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from . import config

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]

Axis = int | Sequence[int]


def _norms(w: torch.Tensor, axis: Axis) -> torch.Tensor:
    """The L2 norms along `axis`, kept as size-1 axes so they broadcast against `w`."""
    dims = axis if isinstance(axis, int) else tuple(axis)
    return torch.sqrt(torch.sum(torch.square(w), dim=dims, keepdim=True))


class Constraint:
    """Base class: `constraint(w)` returns the projection of the weight `w` (Keras' layout).

    Subclasses override `__call__` and, when they take arguments, `get_config`; the base
    constraint returns the weight unchanged.

    >>> import torch
    >>> class Clip(Constraint):
    ...     def __call__(self, w):
    ...         return w.clamp(-1.0, 1.0)
    >>> Clip()(torch.tensor([-3.0, 0.5])).tolist()
    [-1.0, 0.5]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as JSON types."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Rebuild a constraint from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class MaxNorm(Constraint):
    """Rescales the weights incident to each unit to a norm of at most `max_value`.

    `w * clip(norm, 0, max_value) / (epsilon + norm)` with the L2 norm taken over `axis`, as
    Keras (epsilon is `lamina.config.epsilon()`, 1e-7).

    Args:
        max_value: the largest norm allowed.
        axis: the axis or axes the norm is taken over, in Keras' layout: 0 for a Dense kernel
            (in, out) bounds each unit's incoming weights; [0, 1, 2] for a Conv2D kernel
            (kh, kw, in, out) bounds each filter.

    >>> import torch
    >>> w = MaxNorm(2.0, axis=1)(torch.tensor([[3.0, 4.0], [0.3, 0.4]]))
    >>> [round(v, 4) for v in w.flatten().tolist()]
    [1.2, 1.6, 0.3, 0.4]
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Rescales the weights incident to each unit to a norm between `min_value` and `max_value`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`: rate 1.0
    enforces the bounds at once, a smaller rate moves the norm towards them step by step.

    Args:
        min_value: the smallest norm allowed.
        max_value: the largest norm allowed.
        rate: how far each application moves the norm into [min_value, max_value].
        axis: the axis or axes the norm is taken over, in Keras' layout (see `MaxNorm`).

    >>> import torch
    >>> w = MinMaxNorm(1.0, 2.0)(torch.tensor([[0.3], [0.4]]))   # norm 0.5 -> 1.0
    >>> [round(v, 4) for v in w.flatten().tolist()]
    [0.6, 0.8]
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Sets negative weights to zero.

    >>> import torch
    >>> NonNeg()(torch.tensor([-0.5, 0.0, 1.5])).tolist()
    [0.0, 0.0, 1.5]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return torch.clamp(w, min=0)


class UnitNorm(Constraint):
    """Rescales the weights incident to each unit to norm 1: `w / (epsilon + norm)`.

    Args:
        axis: the axis or axes the norm is taken over, in Keras' layout (see `MaxNorm`).

    >>> import torch
    >>> w = UnitNorm(axis=1)(torch.tensor([[3.0, 4.0]]))
    >>> [round(v, 4) for v in w.flatten().tolist()]
    [0.6, 0.8]
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


# Keras' lower-case aliases are the classes themselves.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_CLASSES: dict[str, type[Constraint]] = {
    cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
}
_NAMES: dict[str, type[Constraint]] = {
    **_CLASSES,
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}


def _lookup(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """A built-in constraint class by Keras name, else a registered or custom object, else None."""
    if name in _NAMES:
        return _NAMES[name]
    from .saving.registry import get_registered_object

    return get_registered_object(name, custom_objects)


def _unknown(name: str) -> ValueError:
    return ValueError(
        f"Unknown constraint {name!r}. Valid names: {', '.join(sorted(_NAMES))}; register a "
        "custom constraint with lamina.saving.register_serializable or pass it in custom_objects"
    )


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuild a constraint from `serialize`'s form: a config dict or a (registered) name.

    >>> deserialize({"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": 0}})
    MaxNorm(max_value=3.0, axis=0)
    """
    if config is None:
        return None
    if isinstance(config, str):
        found = _lookup(config, custom_objects)
        if found is None:
            raise _unknown(config)
        return found() if isinstance(found, type) else found
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(
            "A serialized constraint is a name or a dict {'class_name': ..., 'config': ...}; "
            f"got {config!r}"
        )
    name = config["class_name"]
    found = _lookup(config.get("registered_name") or name, custom_objects)
    if found is None and config.get("registered_name"):
        found = _lookup(name, custom_objects)
    if not isinstance(found, type):
        raise _unknown(name)
    arguments = config.get("config") or {}
    if hasattr(found, "from_config"):
        return found.from_config(arguments)
    return found(**arguments)


def serialize(constraint: Any) -> Any:
    """The JSON form of a constraint, as Keras writes it ({'module', 'class_name', 'config',
    'registered_name'}), a registered function's name, or None.

    >>> serialize(MaxNorm(1.5))["config"]
    {'max_value': 1.5, 'axis': 0}
    """
    if constraint is None:
        return None
    if hasattr(constraint, "get_config") and not isinstance(constraint, type):
        from .utils._serialization import serialize_keras_object

        return serialize_keras_object(constraint)
    from .saving.registry import get_registered_name

    return get_registered_name(constraint)


def get(identifier: Any) -> Any:
    """A constraint from None, a name ('max_norm'), a config dict, a class, an instance or a
    callable (used as is). Names of constraints registered with
    `lamina.saving.register_serializable` resolve too.

    >>> get("unit_norm")
    UnitNorm(axis=0)
    >>> get(None) is None
    True
    """
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(  # a ValueError, as Keras
        f"Could not interpret constraint identifier: {identifier!r}; expected None, a name such "
        "as 'max_norm', a config dict, a Constraint or a function of the weight tensor"
    )
