"""Two exact rewrites the model graphs apply when they run: the activation after max pooling
(below), and a ReLU in place after a batch norm or an addition (at the end of this module).

`Conv2D(32, 3, activation="relu")` followed by `MaxPooling2D(2)` computes
`max_pool(relu(conv(x)))`. For a non-decreasing, piecewise-linear activation such as ReLU,
`max(relu(a), relu(b)) == relu(max(a, b))`, so the models run the pooling first and the
activation on the pooled tensor, which is 4 times smaller with a 2x2 pool: the activation and
its backward pass cost a quarter. Forward values and gradients are bit-identical (each
window's gradient goes to the same element, or is zero either way), so nothing a user can
observe changes; on the Keras MNIST convnet a CPU training step is about 1.2x faster.

The reordering applies only when the producer's output goes nowhere else (one consumer, not a
model output), neither layer has forward hooks (torch's per-module or global ones) or an
activity regularizer, and both share one dtype policy.

>>> import torch
>>> from lamina import Sequential, layers
>>> model = Sequential([layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2)])
>>> x = torch.randn(2, 8, 8, 1)
>>> torch.equal(model(x), model.layers[1](model.layers[0](x)))
True
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.modules import module as _torch_module

from .. import activations
from ..layers.activation import ReLU
from ..layers.batch_normalization import BatchNormalization
from ..layers.core import Activation
from ..layers.merging import Add
from ..layers.pooling import MaxPooling1D, MaxPooling2D, MaxPooling3D

__all__ = [
    "deferred_activation",
    "in_place_relu",
    "is_max_pooling",
    "relu_in_place_after",
    "run_producer",
    "run_pooling",
]

# Non-decreasing and piecewise linear with flat pieces only where the gradient is zero: the
# pooled element and its gradient are then exactly those of the unreordered computation.
_EXACT_ACTIVATIONS = (activations.relu, activations.relu6)
_MAX_POOLING = (MaxPooling1D, MaxPooling2D, MaxPooling3D)


def _hooked(module: torch.nn.Module) -> bool:
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or _torch_module._global_forward_hooks
        or _torch_module._global_forward_pre_hooks
    )


def _any_hook(module: torch.nn.Module) -> bool:
    """Forward hooks, or backward hooks (which wrap the inputs and outputs of a call)."""
    return bool(
        _hooked(module)
        or module._backward_hooks
        or module._backward_pre_hooks
        or _torch_module._global_backward_hooks
        or _torch_module._global_backward_pre_hooks
    )


def _policy_name(layer: Any) -> Any:
    policy = getattr(layer, "_dtype_policy", None)
    return getattr(policy, "name", policy)


def is_max_pooling(layer: Any) -> bool:
    """Whether `layer` can take a deferred activation (what `deferred_activation` needs of
    its consumer; fixed for the life of a layer, so the graphs decide it once)."""
    return type(layer) in _MAX_POOLING


def deferred_activation(producer: Any, consumer: Any) -> Any:
    """How to run `producer` then `consumer` (a max pooling) with the activation last: the
    producer itself for an activation layer (it is then called on the pooled tensor), its
    activation function for a layer with `activation=...`, or None to run them as written.
    The caller guarantees that the producer's output feeds only the consumer."""
    if not is_max_pooling(consumer) or not getattr(producer, "built", False):
        return None
    if isinstance(producer, ReLU):
        # threshold >= 0 and max_value >= 0 always; a zero slope keeps the flat piece exact.
        if producer.negative_slope != 0.0:
            return None
        deferred: Any = producer
    elif isinstance(producer, Activation):
        deferred = producer if producer.activation in _EXACT_ACTIVATIONS else None
    elif hasattr(producer, "call_pre_activation"):
        function = getattr(producer, "activation", None)
        deferred = function if function in _EXACT_ACTIVATIONS else None
    else:
        return None
    if (
        deferred is None
        or producer.activity_regularizer is not None
        or consumer.activity_regularizer is not None
        or _policy_name(producer) != _policy_name(consumer)
        or _hooked(producer)
        or _hooked(consumer)
    ):
        return None
    return deferred


def run_producer(producer: Any, deferred: Any, x: Any) -> Any:
    """The producer's output without its activation: its input for an activation layer."""
    if deferred is producer:
        return x
    return producer._dispatch(producer.call_pre_activation, (x,), {}, False)


def run_pooling(consumer: Any, producer: Any, deferred: Any, x: Any, kwargs: dict[str, Any]) -> Any:
    """The consumer on the producer's pre-activation output, then the activation."""
    pooled = consumer(x, **kwargs)
    if deferred is producer:
        return producer(pooled, **kwargs)
    return deferred(pooled)


# ------------------------------------------------------------ ReLU in place
#
# `BatchNormalization` or `Add` followed by `Activation("relu")` (a ResNet's every block)
# makes a tensor that only the ReLU reads. torchvision's ResNets apply `ReLU(inplace=True)`
# there: no new tensor, half the memory traffic. The graphs do the same when the ReLU is the
# tensor's only reader and no model output, as neither layer's backward reads the tensor
# (batch norm saves its input, addition nothing) and ReLU's backward reads its own output,
# as out of place. The result and the gradients are bit-identical.


def _is_plain_relu(layer: Any) -> bool:
    if type(layer) is ReLU:
        return layer.negative_slope == 0.0 and layer.max_value is None and layer.threshold == 0.0
    return type(layer) is Activation and layer.activation is activations.relu


def relu_in_place_after(producer: Any, consumer: Any, n_inputs: int) -> bool:
    """Whether `consumer` may apply its ReLU in place to the output of `producer`, called on
    `n_inputs` tensors (fixed for the life of the layers, so the graphs decide it once). The
    caller guarantees that the consumer alone reads that output, which is no model output."""
    if not _is_plain_relu(consumer):
        return False
    # Layers whose output is a new tensor (or a permuted view of one) that their backward
    # does not read. Exact classes: a subclass may return or keep something else.
    kind = type(producer)
    if kind is Add:
        return n_inputs >= 2  # one input is returned as it came
    return kind is BatchNormalization


def _permutation(view: torch.Tensor, base: torch.Tensor) -> list[int] | None:
    """The dims of `base` that `view` permutes, or None when it is another kind of view."""
    if view.ndim != base.ndim or view.storage_offset() != base.storage_offset():
        return None
    free = list(range(base.ndim))
    order = []
    for size, stride in zip(view.shape, view.stride(), strict=True):
        match = next((d for d in free if (base.shape[d], base.stride(d)) == (size, stride)), None)
        if match is None:
            return None
        free.remove(match)
        order.append(match)
    return order


def in_place_relu(producer: Any, consumer: Any, x: Any) -> Any:
    """`consumer(x)` (a plain ReLU layer, see `relu_in_place_after`) computed in x's memory,
    or None where that does not apply to this call (compiling, hooks, a dtype cast, a mask):
    the caller then calls the layer. A permuted view (a batch norm's (N, H, W, C) view of its
    channels-first output) is rectified through its base, as autograd would otherwise copy
    the gradient of an in-place operation on a view."""
    if (
        not isinstance(x, torch.Tensor)
        or torch.compiler.is_compiling()
        or x.dtype != consumer._compute_dtype
        or consumer._remat_mode is not None
        or consumer.activity_regularizer is not None
        or getattr(x, "_keras_mask", None) is not None
        or _any_hook(consumer)
        or _any_hook(producer)
    ):
        return None
    base = x._base
    if base is None:
        return torch.relu_(x)
    order = _permutation(x, base) if base.numel() == x.numel() else None
    if order is None:
        return None
    return torch.relu_(base).permute(order)
