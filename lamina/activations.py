"""Activation functions by Keras name, computed with `torch.nn.functional`.

>>> import torch, lamina
>>> lamina.activations.get("relu")(torch.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def linear(x: Tensor) -> Tensor:
    """Identity."""
    return x


def relu(
    x: Tensor, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """Rectified linear unit, with Keras' optional slope, ceiling and threshold."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    below = negative_slope * (x - threshold) if negative_slope else x.new_zeros(())
    y = torch.where(x > threshold, x, below)
    if max_value is not None:
        y = y.clamp(max=max_value)
    return y


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6)."""
    return F.relu6(x)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid."""
    return torch.sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax over `axis` (the last one by default)."""
    return torch.softmax(x, dim=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Log of the softmax over `axis`."""
    return torch.log_softmax(x, dim=axis)


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit; exact by default as in Keras."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit."""
    return F.elu(x, alpha=alpha)


def selu(x: Tensor) -> Tensor:
    """Scaled exponential linear unit."""
    return F.selu(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """Leaky ReLU; the function's default slope is 0.2 as `keras.activations.leaky_relu`.

    (The `LeakyReLU` layer's default is 0.3, as in Keras.)
    """
    return F.leaky_relu(x, negative_slope=negative_slope)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x), also called swish."""
    return F.silu(x)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x))."""
    return F.softplus(x)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return F.softsign(x)


def hard_sigmoid(x: Tensor) -> Tensor:
    """Keras 3's hard sigmoid: relu6(x + 3) / 6."""
    return F.hardsigmoid(x)


def hard_silu(x: Tensor) -> Tensor:
    """x * hard_sigmoid(x), also called hard_swish."""
    return F.hardswish(x)


def exponential(x: Tensor) -> Tensor:
    """exp(x)."""
    return torch.exp(x)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return F.mish(x)


_ACTIVATIONS: dict[str, Callable[..., Tensor]] = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "gelu": gelu,
    "elu": elu,
    "selu": selu,
    "leaky_relu": leaky_relu,
    "silu": silu,
    "swish": silu,
    "softplus": softplus,
    "softsign": softsign,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "exponential": exponential,
    "mish": mish,
}

__all__ = [*sorted(set(_ACTIVATIONS) - {"swish", "hard_swish"}), "get", "serialize", "deserialize"]


def get(identifier: str | Callable[..., Tensor] | None) -> Callable[..., Tensor]:
    """Return the activation function named `identifier` (None gives `linear`)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in _ACTIVATIONS:
            return _ACTIVATIONS[identifier]
        from .saving.registry import get_registered_object

        registered = get_registered_object(identifier)
        if callable(registered):
            return registered
        raise ValueError(
            f"Unknown activation {identifier!r}. Valid names: {', '.join(sorted(_ACTIVATIONS))}"
            "; register custom functions with lamina.saving.register_serializable"
        )
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name or a callable; got {identifier!r}")


def serialize(fn: Callable[..., Tensor]) -> str:
    """Return the Keras name of an activation function."""
    for name, candidate in _ACTIVATIONS.items():
        if candidate is fn:
            return name
    if getattr(fn, "__name__", None) is None:
        raise ValueError(f"Cannot serialize activation {fn!r}: it has no name")
    from .saving.registry import get_registered_name

    return get_registered_name(fn)


def deserialize(name: str) -> Callable[..., Tensor]:
    """Inverse of `serialize`."""
    return get(name)
