"""Neural-network ops (`keras.ops.nn`): activations, softmax, one-hot, crossentropies,
normalization; convolution, pooling and attention come from `_convolution`.

>>> import lamina.ops as ops
>>> ops.softmax(ops.convert_to_tensor([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import config
from . import _nn_extra
from ._convolution import average_pool, conv, depthwise_conv, dot_product_attention, max_pool
from ._dtypes import Axis, DTypeLike, TensorLike, axes, tensor, to_float, to_torch_dtype
from ._nn_extra import *  # noqa: F403

__all__ = [
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "depthwise_conv",
    "dot_product_attention",
    "elu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "swish",
]
__all__ += _nn_extra.__all__  # noqa: PLE0605


def relu(x: TensorLike) -> Tensor:
    """max(x, 0), elementwise."""
    return F.relu(tensor(x))


def relu6(x: TensorLike) -> Tensor:
    """min(max(x, 0), 6), elementwise."""
    return F.relu6(to_float(x))


def sigmoid(x: TensorLike) -> Tensor:
    """1 / (1 + exp(-x)), elementwise."""
    return torch.sigmoid(to_float(x))


def log_sigmoid(x: TensorLike) -> Tensor:
    """log(sigmoid(x)), computed stably."""
    return F.logsigmoid(to_float(x))


def hard_sigmoid(x: TensorLike) -> Tensor:
    """relu6(x + 3) / 6: a piecewise-linear sigmoid."""
    return F.hardsigmoid(to_float(x))


def hard_silu(x: TensorLike) -> Tensor:
    """x * hard_sigmoid(x)."""
    return F.hardswish(to_float(x))


def hard_swish(x: TensorLike) -> Tensor:
    """x * hard_sigmoid(x) (alias of `hard_silu`)."""
    return hard_silu(x)


def softplus(x: TensorLike) -> Tensor:
    """log(1 + exp(x)), computed stably."""
    return F.softplus(to_float(x))


def softsign(x: TensorLike) -> Tensor:
    """x / (1 + |x|)."""
    return F.softsign(to_float(x))


def silu(x: TensorLike) -> Tensor:
    """x * sigmoid(x)."""
    return F.silu(to_float(x))


def swish(x: TensorLike) -> Tensor:
    """x * sigmoid(x) (alias of `silu`)."""
    return silu(x)


def gelu(x: TensorLike, approximate: bool = True) -> Tensor:
    """The Gaussian error linear unit; the tanh approximation by default, as Keras' op."""
    return F.gelu(to_float(x), approximate="tanh" if approximate else "none")


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return F.elu(to_float(x), alpha=alpha)


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))."""
    return F.celu(to_float(x), alpha=alpha)


def selu(x: TensorLike) -> Tensor:
    """The scaled exponential linear unit."""
    return F.selu(to_float(x))


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return F.leaky_relu(to_float(x), negative_slope=negative_slope)


def glu(x: TensorLike, axis: int = -1) -> Tensor:
    """The gated linear unit: the first half of `axis` times sigmoid of the second."""
    return F.glu(to_float(x), dim=axis)


def _over_axes(x: Tensor, axis: Axis, function: object) -> Tensor:
    # torch's softmax takes one dim; several axes are moved to the end and flattened.
    dims = axes(axis, x.dim())
    if dims is None:
        return function(x.reshape(-1), dim=0).reshape(x.shape)
    if len(dims) == 1:
        return function(x, dim=dims[0])
    kept = [d for d in range(x.dim()) if d not in dims]
    moved = x.permute(*kept, *dims)
    flat = moved.reshape(*moved.shape[: len(kept)], -1)
    result = function(flat, dim=-1).reshape(moved.shape)
    return result.permute(*torch.argsort(torch.tensor([*kept, *dims])).tolist())


def softmax(x: TensorLike, axis: Axis = -1) -> Tensor:
    """exp(x) / sum(exp(x)) over `axis` (an int, a tuple, or None for all axes)."""
    return _over_axes(to_float(x), axis, F.softmax)


def log_softmax(x: TensorLike, axis: Axis = -1) -> Tensor:
    """log(softmax(x)) over `axis`, computed stably."""
    return _over_axes(to_float(x), axis, F.log_softmax)


def one_hot(
    x: TensorLike, num_classes: int, axis: int = -1, dtype: DTypeLike = None, sparse: bool = False
) -> Tensor:
    """One-hot vectors of length `num_classes` on a new `axis`; negative or out-of-range
    indices give all zeros."""
    if sparse:
        raise ValueError("lamina tensors are dense: one_hot(sparse=True) is not supported")
    x = tensor(x).long()
    valid = (x >= 0) & (x < num_classes)
    output = F.one_hot(torch.where(valid, x, 0), num_classes) * valid.unsqueeze(-1)
    output = output.to(to_torch_dtype(dtype))
    if axis != -1:
        output = torch.movedim(output, -1, axis)
    return output


def multi_hot(
    inputs: TensorLike,
    num_classes: int | None = None,
    axis: int = -1,
    dtype: DTypeLike = None,
    sparse: bool = False,
    **kwargs: object,
) -> Tensor:
    """One vector per sample with ones at each of the sample's class indices."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("multi_hot needs num_classes")
    x = tensor(inputs)
    reduce_axis = 1 if x.dim() > 1 else 0
    return torch.amax(
        one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse), dim=reduce_axis
    )


def _check_same_shape(target: Tensor, output: Tensor) -> None:
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape; got "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


def binary_crossentropy(
    target: TensorLike, output: TensorLike, from_logits: bool = False
) -> Tensor:
    """Elementwise binary crossentropy (probabilities clipped to [epsilon, 1 - epsilon])."""
    output = to_float(output)
    target = tensor(target).to(device=output.device, dtype=output.dtype)
    _check_same_shape(target, output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    return F.binary_cross_entropy(output.clamp(eps, 1.0 - eps), target, reduction="none")


def categorical_crossentropy(
    target: TensorLike, output: TensorLike, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Crossentropy between one-hot (or soft) targets and predictions along `axis`."""
    output = to_float(output)
    target = tensor(target).to(device=output.device, dtype=output.dtype)
    _check_same_shape(target, output)
    if output.dim() < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        probs = output / output.sum(dim=axis, keepdim=True)
        log_prob = torch.log(probs.clamp(eps, 1.0 - eps))
    return -(target * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(
    target: TensorLike, output: TensorLike, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Crossentropy between integer class targets and predictions along `axis`."""
    output = to_float(output)
    target = tensor(target).to(output.device).long()
    if target.dim() == output.dim() and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up to the class axis; "
            f"got target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        probs = output / output.sum(dim=axis, keepdim=True)
        log_prob = torch.log(probs.clamp(eps, 1.0 - eps))
    picked = torch.take_along_dim(log_prob, target.unsqueeze(axis), dim=axis)
    return -picked.squeeze(axis)


def moments(
    x: TensorLike, axes: Sequence[int], keepdims: bool = False, synchronized: bool = False
) -> tuple[Tensor, Tensor]:
    """The mean and (population) variance of `x` over `axes`."""
    if synchronized:
        raise NotImplementedError("moments(synchronized=True) is not supported by lamina")
    x = to_float(x)
    # float16 has too little range for statistics: compute in float32, as Keras does.
    compute = x.float() if x.dtype == torch.float16 else x
    dims = tuple(axes) if not isinstance(axes, int) else (axes,)
    mean = compute.mean(dim=dims, keepdim=keepdims)
    variance = compute.var(dim=dims, correction=0, keepdim=keepdims)
    return mean.to(x.dtype), variance.to(x.dtype)


def batch_normalization(
    x: TensorLike,
    mean: TensorLike,
    variance: TensorLike,
    axis: int,
    offset: TensorLike | None = None,
    scale: TensorLike | None = None,
    epsilon: float = 1e-3,
) -> Tensor:
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, with the 1-D statistics along
    `axis`."""
    x = to_float(x)
    shape = [1] * x.dim()
    shape[axis] = -1

    def reshaped(value: TensorLike) -> Tensor:
        return tensor(value).to(device=x.device, dtype=x.dtype).reshape(shape)

    inverse = torch.rsqrt(reshaped(variance) + epsilon)
    if scale is not None:
        inverse = inverse * reshaped(scale)
    result = (x - reshaped(mean)) * inverse
    return result if offset is None else result + reshaped(offset)


def normalize(
    x: TensorLike, axis: int = -1, order: int = 2, epsilon: float | None = None
) -> Tensor:
    """`x` divided by its `order`-norm along `axis` (the norm bounded below by epsilon)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1; got {order!r}")
    x = to_float(x)
    if x.dim() == 0:
        x = x.unsqueeze(0)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inverse = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
        return x * torch.clamp(inverse, max=1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)
