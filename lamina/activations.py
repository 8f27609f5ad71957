"""Activation functions by Keras name, computed with `torch.nn.functional`.

>>> import torch, lamina
>>> lamina.activations.get("relu")(torch.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

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
    if negative_slope == 0.0 and threshold == 0.0:
        y = F.relu(x)  # a NaN stays NaN under a ceiling too, as Keras' relu6
    else:
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


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: max(x, 0) + min(0, alpha * (exp(x / alpha) - 1)).

    >>> celu(torch.tensor([-1.0, 2.0]), alpha=2.0).tolist()  # doctest: +ELLIPSIS
    [-0.786..., 2.0]
    """
    return F.celu(x, alpha=alpha)


def glu(x: Tensor, axis: int = -1) -> Tensor:
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half.

    >>> glu(torch.tensor([2.0, 0.0])).tolist()
    [1.0]
    """
    return F.glu(x, dim=axis)


def tanh_shrink(x: Tensor) -> Tensor:
    """x - tanh(x).

    >>> tanh_shrink(torch.tensor([0.0])).tolist()
    [0.0]
    """
    return F.tanhshrink(x)


def hard_tanh(x: Tensor) -> Tensor:
    """x clipped to [-1, 1].

    >>> hard_tanh(torch.tensor([-2.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    return F.hardtanh(x, min_val=-1.0, max_val=1.0)


def sparsemax(x: Tensor, axis: int = -1) -> Tensor:
    """Sparsemax along `axis`, as Keras 3 computes it: max(x - tau, 0) with exact zeros.

    Keras 3 (every backend) takes tau = (sum of the sorted cumulative sums over the support - 1)
    / support size; the outputs sum to 1 only when the support has one element (Martins &
    Astudillo's tau uses the last cumulative sum alone). Kept as Keras, so models give Keras'
    numbers.

    >>> sparsemax(torch.tensor([3.0, 1.0, -2.0])).tolist()
    [1.0, 0.0, 0.0]
    """
    axis = axis % x.ndim
    ordered = torch.sort(x, dim=axis, descending=True).values
    cumulative = ordered.cumsum(dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    support = ordered - (cumulative - 1) / rank > 0
    size = support.sum(dim=axis, keepdim=True)
    total = torch.where(support, cumulative, torch.zeros_like(cumulative))
    tau = (total.sum(dim=axis, keepdim=True) - 1) / size
    return (x - tau).clamp(min=0.0)


def log_sigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)), computed stably.

    >>> log_sigmoid(torch.tensor([0.0])).tolist()  # doctest: +ELLIPSIS
    [-0.693...]
    """
    return F.logsigmoid(x)


def soft_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """x - threshold above `threshold`, x + threshold below `-threshold`, 0 between.

    >>> soft_shrink(torch.tensor([-1.0, 0.25, 2.0])).tolist()
    [-0.5, 0.0, 1.5]
    """
    return F.softshrink(x, lambd=threshold)


def hard_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """x where |x| > threshold, else 0.

    >>> hard_shrink(torch.tensor([-1.0, 0.25, 2.0])).tolist()
    [-1.0, 0.0, 2.0]
    """
    return F.hardshrink(x, lambd=threshold)


def squareplus(x: Tensor, b: float = 4) -> Tensor:
    """(x + sqrt(x ** 2 + b)) / 2, a smooth ReLU.

    >>> squareplus(torch.tensor([0.0, 1.5])).tolist()
    [1.0, 2.0]
    """
    return (x + torch.sqrt(x.square() + b)) / 2


def sparse_sigmoid(x: Tensor) -> Tensor:
    """Piecewise-linear sigmoid: 0 below -1, 1 above 1, `(x + 1) / 2` between.

    >>> sparse_sigmoid(torch.tensor([-2.0, 0.0, 0.5])).tolist()
    [0.0, 0.5, 0.75]
    """
    return ((x + 1) / 2).clamp(0, 1)


def threshold(x: Tensor, threshold: float, default_value: float) -> Tensor:
    """`x` where `x > threshold`, else `default_value` (torch.nn.functional.threshold).

    >>> threshold(torch.tensor([0.5, 1.0, 2.0]), 0.5, -1.0).tolist()
    [-1.0, 1.0, 2.0]
    """
    return F.threshold(x, threshold, default_value)


def sparse_plus(x: Tensor) -> Tensor:
    """0 for x <= -1, (x + 1) ** 2 / 4 for -1 < x < 1, x for x >= 1.

    >>> sparse_plus(torch.tensor([-2.0, 0.0, 2.0])).tolist()
    [0.0, 0.25, 2.0]
    """
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1).square(), x))


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
    "celu": celu,
    "glu": glu,
    "tanh_shrink": tanh_shrink,
    "hard_tanh": hard_tanh,
    "sparsemax": sparsemax,
    "log_sigmoid": log_sigmoid,
    "soft_shrink": soft_shrink,
    "hard_shrink": hard_shrink,
    "squareplus": squareplus,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "threshold": threshold,
}


def _accepting_arrays(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """`function` taking NumPy arrays, lists and numbers too (as tensors), as Keras'."""

    @functools.wraps(function)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(x, Tensor):
            from .ops.core import convert_to_tensor

            x = convert_to_tensor(x)
        return function(x, *args, **kwargs)

    return wrapper


_wrapped: dict[int, Callable[..., Tensor]] = {}
for _name, _function in list(_ACTIVATIONS.items()):
    if _function is linear:  # Keras' linear gives its input back as it is
        continue
    if id(_function) not in _wrapped:  # swish is silu: one wrapper for both names
        _wrapped[id(_function)] = _accepting_arrays(_function)
        globals()[_function.__name__] = _wrapped[id(_function)]
    _ACTIVATIONS[_name] = _wrapped[id(_function)]
del _wrapped, _name, _function
# Keras' other names of the same functions (serialized under the first name, as Keras does).
swish = silu
hard_swish = hard_silu

__all__ = [*sorted(_ACTIVATIONS), "get", "serialize", "deserialize"]


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
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}; an activation "
        "must be a name or a callable"
    )


def serialize(activation: Callable[..., Tensor]) -> str:
    """Return the Keras name of an activation function."""
    for name, candidate in _ACTIVATIONS.items():
        if candidate is activation:
            return name
    if getattr(activation, "__name__", None) is None:
        raise ValueError(f"Cannot serialize activation {activation!r}: it has no name")
    from .saving.registry import get_registered_name

    return get_registered_name(activation)


def deserialize(
    config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> Callable[..., Tensor]:
    """Inverse of `serialize`: a name, or Keras' dict form of a function
    ({'class_name': 'function', 'config': name, ...}); `custom_objects` maps names to functions.

    >>> deserialize("relu") is relu
    True
    """
    name = config
    if isinstance(config, dict):
        name = config.get("config") if config.get("class_name") == "function" else None
        name = name or config.get("registered_name") or config.get("class_name")
    if not isinstance(name, str):
        raise ValueError(f"Cannot deserialize activation {config!r}: expected a name or a dict")
    if custom_objects and name in custom_objects:
        return get(custom_objects[name])
    return get(name)
