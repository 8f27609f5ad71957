"""BatchNormalization: batch statistics in training, moving statistics in inference, as in
Keras; with `synchronized=True`, statistics over every process of a torch.distributed run.

>>> from lamina.layers import Input
>>> BatchNormalization()(Input((8, 8, 16))).shape
(None, 8, 8, 16)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F

from .. import initializers
from ._conv_utils import to_channels_first, to_channels_last
from .layer import Shape
from .normalization import _AffineNormalization, _axis_size

__all__ = ["BatchNormalization", "padding_step"]

_PADDING = [False]  # True while this process steps on padding (see padding_step)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@contextlib.contextmanager
def padding_step() -> Iterator[None]:
    """Within: this process's batch is padding (a distributed step where it holds no sample
    of the global batch), so synchronized batch normalization leaves it out of the global
    statistics. The trainer uses it."""
    previous, _PADDING[0] = _PADDING[0], True
    try:
        yield
    finally:
        _PADDING[0] = previous


def _all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of `tensor` over the processes, differentiable (the backward pass sums the
    gradients too). torch's functional collective where it has an autograd formula (torch
    2.13 has): dynamo traces it into a compiled step's graph, where
    `torch.distributed.nn.functional.all_reduce`, deprecated there, breaks the graph."""
    from torch.distributed import _functional_collectives as funcol

    if hasattr(funcol, "all_reduce_backward"):
        return funcol.wait_tensor(funcol.all_reduce(tensor, "sum", dist.group.WORLD))
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(tensor)


_ONE = torch.ones((), dtype=torch.long)  # num_batches_tracked's step, made once (see below)
_KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): keeps a fully masked feature finite


def in_padding_step() -> bool:
    """Whether a `padding_step` is running."""
    return _PADDING[0]


class BatchNormalization(_AffineNormalization):
    """Normalizes each feature over the batch (and spatial axes) with batch or moving statistics.

    In training (`fit()`, or `training=True`) the output uses the batch's mean and biased
    variance, and the moving statistics are updated as in Keras:
    `moving = moving * momentum + batch_statistic * (1 - momentum)`, where the variance is the
    biased batch variance (PyTorch's `BatchNorm` uses the unbiased one; lamina follows Keras).
    In inference, and whenever `trainable` is False, the moving statistics are used.

    The weights keep `torch.nn.BatchNorm2d`'s names (`weight`, `bias`, `running_mean`,
    `running_var`, plus the counter `num_batches_tracked`), so its state_dicts load unchanged.

    Args:
        axis: the features axis (-1: channels_last; 1 for channels_first images).
        momentum: weight of the old value in the moving averages (Keras' convention: PyTorch's
            `momentum` is `1 - momentum`).
        epsilon: added to the variance before the square root.
        center: whether to add the learned offset beta.
        scale: whether to multiply by the learned scale gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: Keras initializer names or objects.
        beta_regularizer, gamma_regularizer: penalties added to the loss.
        beta_constraint, gamma_constraint: projections applied after each optimizer update.
        synchronized: in a torch.distributed run (torchrun), compute the training statistics
            over the whole global batch, every process's part of it, instead of each
            process's own part (as `torch.nn.SyncBatchNorm`; on CPU with gloo too). Alone, it
            changes nothing. Keras supports it on TensorFlow only.

    Input shape:
        (batch, ..., features) with `axis=-1`; any rank from 2 on.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = BatchNormalization()
    >>> layer(torch.ones(4, 3), training=True).abs().max().item()
    0.0
    >>> [name for name in layer.state_dict()]
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "axis momentum epsilon center scale beta_initializer gamma_initializer "
        "moving_mean_initializer moving_variance_initializer beta_regularizer gamma_regularizer "
        "beta_constraint gamma_constraint synchronized renorm renorm_clipping renorm_momentum"
    )

    min_ndim = 2
    weight_names = ("gamma", "beta", "moving_mean", "moving_variance")

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: Any = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(
                f"BatchNormalization '{self.name}': axis must be an int (the features axis); "
                f"got {axis!r}"
            )
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"BatchNormalization '{self.name}': momentum must be in [0, 1] (Keras' "
                f"convention: the weight of the old moving average); got {momentum!r}"
            )
        if renorm:
            raise NotImplementedError(
                f"BatchNormalization '{self.name}': batch renormalization (renorm=True) is not "
                "supported"
            )
        self.axis = axis
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)
        self.renorm_momentum = renorm_momentum
        self._scales_cache: dict[tuple[int, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def build(self, input_shape: Shape) -> None:
        size = _axis_size(self, input_shape, self.axis)
        self._add_gamma_beta((size,), self.scale, self.center)
        if (self.weight is None) != (self.bias is None):
            # CUDA's batch-norm backward on bfloat16/float16 inputs returns an empty gradient
            # for a lone beta (torch 2.11 on an H200: "NativeBatchNormBackward0 returned an
            # invalid gradient at index 2"): F.batch_norm gets a constant 1 (or 0) for the
            # missing gamma (or beta), made once and never saved.
            fill = 1.0 if self.weight is None else 0.0
            self.register_buffer("_affine_stand_in", torch.full((size,), fill), persistent=False)
        self.add_weight(
            "moving_mean",
            (size,),
            self.moving_mean_initializer,
            trainable=False,
            torch_name="running_mean",
        )
        self.add_weight(
            "moving_variance",
            (size,),
            self.moving_variance_initializer,
            trainable=False,
            torch_name="running_var",
        )
        # Not a Keras weight: kept so that torch.nn.BatchNorm state_dicts load unchanged.
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        self.input_ndim = len(input_shape)
        self._input_axes = {self.axis % len(input_shape): size}

    supports_masking = True  # statistics over the unmasked steps; the mask passes on

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        # The input's shape, answered directly: a meta run of batch norm costs milliseconds,
        # and zoo models have hundreds of these layers.
        return tuple(input_shape)

    def call(
        self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None
    ) -> torch.Tensor:
        if not inputs.is_floating_point():  # integer images (uint8): Keras casts them
            inputs = inputs.to(self._compute_dtype)
        axis = self.axis % inputs.ndim
        if mask is not None:
            mask = self._check_mask(inputs, mask)
            if training and self.trainable:
                return self._masked_call(inputs, mask, axis)
        # F.batch_norm wants the features on axis 1: for NHWC, a channels_last NCHW view.
        x = _features_first(inputs, axis)
        weight, bias = self._affine()
        if not (training and self.trainable):
            outputs = F.batch_norm(
                x,
                self.running_mean,
                self.running_var,
                weight,
                bias,
                False,
                0.0,
                self.epsilon,
            )
            return _features_back(outputs, axis)
        count = x.numel() // x.shape[1]
        if self.synchronized and _distributed():
            outputs = self._synchronized_call(x)
            return _features_back(outputs, axis)
        if count < 2:
            raise ValueError(
                f"BatchNormalization '{self.name}' needs more than one value per feature to "
                f"compute batch statistics in training; got input shape {tuple(inputs.shape)}"
            )
        # PyTorch blends the unbiased batch variance v * n / (n - 1) into the moving variance;
        # Keras blends the biased v. Both ways below give Keras' m * old + (1 - m) * v
        # exactly (up to rounding), without a second pass over the input. The buffers need
        # no gradient, so no no_grad() context (it costs) either.
        if torch.compiler.is_compiling():
            # torch's blend goes to a copy (autograd saves what batch_norm reads); then
            # (n - 1) / n of the blend plus the old value's remaining share.
            blended = self.running_var.clone()
            outputs = self._batch_norm(x, blended, weight, bias)
            self.running_var.mul_(self.momentum / count).add_(blended, alpha=(count - 1) / count)
            self.num_batches_tracked.add_(1)
        else:
            # Eagerly, in place: the old value scaled by n / (n - 1) before torch's blend and
            # the result by (n - 1) / n after it (one kernel fewer, and no allocation). The
            # writes go through `.data`: a training batch norm's backward never reads the
            # moving statistics, and a tracked write would fail the backward of an earlier
            # call of a shared layer, which saved them.
            variance = self.running_var.data
            up, down = self._variance_scales(count, variance.dtype)
            variance.mul_(up)
            outputs = self._batch_norm(x, self.running_var, weight, bias)
            variance.mul_(down)
            self.num_batches_tracked.add_(_ONE)
        return _features_back(outputs, axis)

    def _check_mask(self, inputs: torch.Tensor, mask: Any) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=inputs.device)
        if mask.ndim != inputs.ndim - 1:
            raise ValueError(
                f"BatchNormalization '{self.name}' expects a mask with one dimension less than "
                f"its input; got mask shape {tuple(mask.shape)} for input shape "
                f"{tuple(inputs.shape)}"
            )
        return mask

    def _masked_call(self, inputs: torch.Tensor, mask: torch.Tensor, axis: int) -> torch.Tensor:
        """Training on the unmasked positions' statistics (Keras: mask-weighted mean and
        biased variance, each sum divided by the count + 1e-7), blended into the moving ones."""
        values = inputs.float() if inputs.dtype in (torch.float16, torch.bfloat16) else inputs
        weights = mask.unsqueeze(-1).expand(inputs.shape).to(values.dtype)
        dims = [d for d in range(inputs.ndim) if d != axis]
        count = weights.sum(dims, keepdim=True) + _KERAS_EPSILON
        mean = (values * weights).sum(dims, keepdim=True) / count
        variance = ((values - mean) * weights).square().sum(dims, keepdim=True) / count
        with torch.no_grad():
            momentum = self.momentum
            self.running_mean.mul_(momentum).add_(mean.flatten(), alpha=1.0 - momentum)
            self.running_var.mul_(momentum).add_(variance.flatten(), alpha=1.0 - momentum)
            self.num_batches_tracked.add_(1)
        outputs = (values - mean) * torch.rsqrt(variance + self.epsilon)
        shape = [1] * inputs.ndim
        shape[axis] = inputs.shape[axis]
        if self.weight is not None:
            outputs = outputs * self.weight.view(shape)
        if self.bias is not None:
            outputs = outputs + self.bias.view(shape)
        return outputs.to(inputs.dtype)

    def _variance_scales(self, count: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """n / (n - 1) and (n - 1) / n as 0-d CPU tensors, made once per batch size: an
        in-place product with a Python float converts it to a tensor on every call (four ATen
        ops instead of one, 4.2 against 1.4 us on this CPU), and CPU scalars serve CUDA too."""
        key = (count, dtype)
        scales = self._scales_cache.get(key)
        if scales is None:
            if len(self._scales_cache) > 16:  # many batch sizes (a generator's): keep it small
                self._scales_cache.clear()
            scales = tuple(
                torch.tensor(v, dtype=dtype) for v in (count / (count - 1), (count - 1) / count)
            )
            self._scales_cache[key] = scales
        return scales

    def _batch_norm(
        self, x: torch.Tensor, variance: torch.Tensor, weight: Any, bias: Any
    ) -> torch.Tensor:
        """Training mode's F.batch_norm, blending into the moving mean and `variance`."""
        return F.batch_norm(
            x, self.running_mean, variance, weight, bias, True, 1.0 - self.momentum, self.epsilon
        )

    def _affine(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """gamma and beta for F.batch_norm, with the stand-in for a missing one (see build)."""
        weight, bias = self.weight, self.bias
        if weight is None and bias is not None:
            weight = self._affine_stand_in
        elif bias is None and weight is not None:
            bias = self._affine_stand_in
        return weight, bias

    def _synchronized_call(self, x: torch.Tensor) -> torch.Tensor:
        """Training with the global batch's mean and biased variance (features on axis 1):
        two differentiable all-reduces (sums and count, then squared deviations), so the
        backward pass sums every process's share of the statistics' gradients too."""
        dims = [d for d in range(x.ndim) if d != 1]
        shape = [1] * x.ndim
        shape[1] = x.shape[1]
        values = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        local = torch.cat([values.sum(dims), values.new_full((1,), x.numel() // x.shape[1])])
        weight = 0.0 if _PADDING[0] else 1.0  # padding counts for nothing
        total = _all_reduce_sum(local * weight)
        count = total[-1]
        # Checked where reading the count costs no device synchronisation (CPU, eager); on a
        # GPU a global batch of one value per feature gives a zero variance instead.
        if count.device.type == "cpu" and not torch.compiler.is_compiling() and int(count) < 2:
            raise ValueError(
                f"BatchNormalization '{self.name}' needs more than one value per feature over "
                f"all processes to compute batch statistics; got input shape {tuple(x.shape)}"
            )
        mean = total[:-1] / count
        centered = values - mean.view(shape)
        variance = _all_reduce_sum((centered * centered).sum(dims) * weight) / count
        outputs = centered * torch.rsqrt(variance + self.epsilon).view(shape)
        if self.weight is not None:
            outputs = outputs * self.weight.view(shape)
        if self.bias is not None:
            outputs = outputs + self.bias.view(shape)
        with torch.no_grad():
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), 1.0 - self.momentum)
            self.running_var.lerp_(variance.to(self.running_var.dtype), 1.0 - self.momentum)
            self.num_batches_tracked.add_(1)
        return outputs.to(x.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            synchronized=self.synchronized,
            renorm=False,
            renorm_clipping=None,
            renorm_momentum=self.renorm_momentum,
        )
        return config


def _features_first(x: torch.Tensor, axis: int) -> torch.Tensor:
    """`x` with the features `axis` at position 1, as F.batch_norm wants them (a view). The
    usual last axis goes through `to_channels_first` (a permute: under autograd movedim
    costs about 6 us more per call on the CPU)."""
    if axis == 1:
        return x
    return to_channels_first(x) if axis == x.ndim - 1 else x.movedim(axis, 1)


def _features_back(x: torch.Tensor, axis: int) -> torch.Tensor:
    """The inverse of `_features_first`."""
    if axis == 1:
        return x
    return to_channels_last(x) if axis == x.ndim - 1 else x.movedim(1, axis)
