"""Weight regularizers (l1, l2, l1_l2, orthogonal) whose penalties are added to the training
loss. A weight's regularizer sees it in Keras' layout (a Dense kernel (in, out)), so `mode` of
`OrthogonalRegularizer` means what it means in Keras.

>>> import torch, lamina
>>> float(lamina.regularizers.L2(0.5)(torch.tensor([1.0, 2.0])))
2.5
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


def _factor(owner: str, name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{owner}: {name} must be a non-negative float; got {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: `reg(weight)` returns a scalar penalty tensor."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        accepted = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
            unknown = sorted(set(config) - set(accepted) - {"self"})
            if unknown:
                raise ValueError(
                    f"Regularizer {cls.__name__}: unknown config key(s) {unknown}; it takes "
                    f"{sorted(set(accepted) - {'self'})}"
                )
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        name = type(self).__name__
        self.l1, self.l2 = _factor(name, "l1", l1), _factor(name, "l2", l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|); Keras' default factor is 0.01."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x**2); Keras' default factor is 0.01."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (`mode="rows"`) or columns of a 2-D weight towards orthogonality:
    `factor` times the mean absolute cosine between distinct pairs, as Keras 3.

    >>> import torch
    >>> float(OrthogonalRegularizer(1.0)(torch.tensor([[1.0, 0.0], [1.0, 1.0]])))
    0.7071...
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"OrthogonalRegularizer: mode must be 'rows' or 'columns'; got mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(
                f"OrthogonalRegularizer needs a 2-D weight; got shape {tuple(x.shape)}"
            )
        if self.mode == "columns":
            x = x.T
        # Rows scaled to unit norm (norms below Keras' epsilon 1e-7 are floored there).
        unit = x * torch.rsqrt(x.square().sum(dim=1, keepdim=True)).clamp(max=1e7)
        size = unit.shape[0]
        product = unit @ unit.T
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * off_diagonal.abs().sum() / pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


orthogonal_regularizer = OrthogonalRegularizer


def _l1_l2_by_name(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """`get("l1_l2")`: both penalties at 0.01 (tf.keras' function; Keras 3 has no such name)."""
    return L1L2(l1=l1, l2=l2)


# Keras 3's lower-case names are the classes themselves (so `l1_l2()` has factors 0.0).
l1 = L1
l2 = L2
l1_l2 = L1L2

_NAMES = {
    "l1": L1,
    "l2": L2,
    "l1_l2": _l1_l2_by_name,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,  # Keras' snake-case name of the class
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def get(identifier: Any) -> Regularizer | None:
    """Return a regularizer from None, a name ('l2'), a config dict or an object."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        from .saving.registry import get_registered_object

        registered = get_registered_object(identifier)
        if registered is not None:
            return registered() if isinstance(registered, type) else registered
        if identifier not in _NAMES:
            raise ValueError(
                f"Unknown regularizer {identifier!r}. Valid names: {', '.join(sorted(_NAMES))}"
            )
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        from .saving.registry import get_registered_object

        registered = identifier.get("registered_name")  # Keras writes None for built-ins
        cls = get_registered_object(registered) if registered else None
        cls = cls or _NAMES.get(identifier["class_name"])
        cls = cls or get_registered_object(identifier["class_name"])
        if cls is None:
            raise ValueError(
                f"Unknown regularizer class {identifier['class_name']!r}; register custom "
                "regularizers with lamina.saving.register_serializable"
            )
        config = identifier.get("config") or {}
        if cls is _l1_l2_by_name:
            return _l1_l2_by_name(**config)
        if not isinstance(cls, type):  # a registered function: the regularizer itself
            return cls
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")  # as Keras


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Regularizer | None:
    """A regularizer from its `serialize` form (a name or a config dict), as `get`;
    `custom_objects` maps further class names to classes."""
    name = config.get("class_name") if isinstance(config, dict) else config
    custom = (custom_objects or {}).get(name) if isinstance(name, str) else None
    if custom is not None:
        arguments = config.get("config") or {} if isinstance(config, dict) else {}
        return custom(**arguments) if isinstance(custom, type) else custom
    return get(config)


def serialize(regularizer: Any) -> Any:
    """The JSON form of a regularizer, as Keras writes it: {'module', 'class_name', 'config',
    'registered_name'}.

    >>> serialize(L2(0.5))["config"]
    {'l2': 0.5}
    """
    if regularizer is not None and hasattr(regularizer, "get_config"):
        from .utils._serialization import serialize_keras_object

        return serialize_keras_object(regularizer)
    return regularizer
