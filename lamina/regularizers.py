"""Weight regularizers (l1, l2, l1_l2) whose penalties are added to the training loss.

>>> import torch, lamina
>>> float(lamina.regularizers.L2(0.5)(torch.tensor([1.0, 2.0])))
2.5
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2", "serialize"]


class Regularizer:
    """Base class: `reg(weight)` returns a scalar penalty tensor."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

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


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties; as the Keras function, each factor defaults to 0.01."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2

_NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}


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
            raise ValueError(f"Unknown regularizer {identifier!r}. Valid names: l1, l2, l1_l2")
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _NAMES:
        factory = _NAMES[identifier["class_name"]]
        return factory(**identifier.get("config", {}))
    if isinstance(identifier, dict) and "class_name" in identifier:
        from .saving.registry import resolve_class

        cls = resolve_class(identifier, None)
        if not isinstance(cls, type):
            raise ValueError(
                f"Unknown regularizer class {identifier['class_name']!r}; register custom "
                "regularizers with lamina.saving.register_serializable"
            )
        config = identifier.get("config", {})
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if callable(identifier):
        return identifier
    raise TypeError(f"Cannot interpret {identifier!r} as a regularizer")


def serialize(regularizer: Any) -> Any:
    """Return the JSON form of a regularizer: {'class_name': ..., 'config': ...}."""
    if isinstance(regularizer, Regularizer):
        return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
    if regularizer is not None and hasattr(regularizer, "get_config"):
        from .saving.registry import get_registered_name

        return {
            "class_name": type(regularizer).__name__,
            "registered_name": get_registered_name(regularizer),
            "config": regularizer.get_config(),
        }
    return regularizer
