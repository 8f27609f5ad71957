"""Normalization layers: LayerNormalization, GroupNormalization (and BatchNormalization, in
batch_normalization.py, on the same base).

Each hands PyTorch's fused kernel (`F.batch_norm`, `F.layer_norm`, `F.group_norm`) a view of the
input with the normalized axes where PyTorch wants them, and keeps PyTorch's parameter names
(`weight`, `bias`, `running_mean`, `running_var`) so that `torch.nn` state_dicts load unchanged;
`get_weights()` gives Keras' names and order (gamma, beta, moving_mean, moving_variance).

>>> from lamina.layers import Input
>>> LayerNormalization()(Input((8, 8, 16))).shape
(None, 8, 8, 16)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from .layer import Layer, Shape

__all__ = ["GroupNormalization", "LayerNormalization"]


def _axis_size(layer: Layer, input_shape: Shape, axis: int) -> int:
    """The size of `axis` in `input_shape`, which the layer's weights need to be known."""
    if not -len(input_shape) <= axis < len(input_shape):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': axis {axis} is out of range for inputs of "
            f"shape {input_shape}"
        )
    size = input_shape[axis]
    if size is None or axis % len(input_shape) == 0:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' normalizes axis {axis}, whose size must be "
            f"known and which cannot be the batch axis; got input shape {input_shape}"
        )
    return size


class _AffineNormalization(Layer):
    """Shared by the normalization layers: the optional gamma ('weight') and beta ('bias')."""

    def __init__(
        self,
        epsilon: float,
        center: bool,
        scale: bool,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        beta_constraint: Any,
        gamma_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': epsilon must be positive; got {epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _add_gamma_beta(self, shape: Sequence[int], scale: bool, center: bool) -> None:
        # Keras creates gamma before beta; get_weights() follows creation order.
        for name, torch_name, wanted in (("gamma", "weight", scale), ("beta", "bias", center)):
            if not wanted:
                setattr(self, torch_name, None)
                continue
            self.add_weight(
                name,
                tuple(shape),
                getattr(self, f"{name}_initializer"),
                getattr(self, f"{name}_regularizer"),
                torch_name=torch_name,
                constraint=getattr(self, f"{name}_constraint"),
            )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
        return config


class LayerNormalization(_AffineNormalization):
    """Normalizes each sample over `axis` (the features by default), then scales and shifts.

    Trailing axes go straight to `F.layer_norm`; other axes are moved to the end first.

    Args:
        axis: the axis or list of axes to normalize over (the batch axis excluded).
        epsilon: added to the variance before the square root.
        center: whether to add the learned offset beta.
        scale: whether to multiply by the learned scale gamma.
        rms_scaling: Keras' deprecated option: divide by the standard deviation without
            centering, `x / sqrt(var(x) + epsilon) * gamma` (not the root mean square), with no
            beta. Kept so that Keras models using it compute the same.
        beta_initializer, gamma_initializer: Keras initializer names or objects.
        beta_regularizer, gamma_regularizer: penalties added to the loss.
        beta_constraint, gamma_constraint: projections applied after each optimizer update.

    Input shape:
        Any rank from 2 on.
    Output shape:
        Same as the input.

    >>> import torch
    >>> LayerNormalization()(torch.tensor([[1.0, 3.0]])).round(decimals=2).tolist()
    [[-1.0, 1.0]]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "axis epsilon center scale rms_scaling beta_initializer gamma_initializer "
        "beta_regularizer gamma_regularizer beta_constraint gamma_constraint"
    )

    supports_masking = True  # a timesteps mask passes through (Keras)

    min_ndim = 2
    weight_names = ("gamma", "beta")

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        rms_scaling: bool = False,  # deprecated in Keras 3 (taken from its **kwargs there)
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
        if isinstance(axis, int) and not isinstance(axis, bool):
            self.axis: int | list[int] = axis
        elif isinstance(axis, Sequence) and axis and all(isinstance(a, int) for a in axis):
            self.axis = list(axis)
        else:
            raise TypeError(
                f"LayerNormalization '{self.name}': axis must be an int or a non-empty list of "
                f"ints; got {axis!r}"
            )
        if rms_scaling:
            warnings.warn(
                f"LayerNormalization '{self.name}': rms_scaling=True divides by the standard "
                "deviation (x / sqrt(var(x) + epsilon) * gamma), not by the root mean square, as "
                "Keras does; Keras has deprecated it.",
                UserWarning,
                stacklevel=2,
            )
        self.rms_scaling = bool(rms_scaling)
        self._axes: tuple[int, ...] = ()

    def build(self, input_shape: Shape) -> None:
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        sizes = {a % len(input_shape): _axis_size(self, input_shape, a) for a in axes}
        self._axes = tuple(sorted(sizes))
        shape = tuple(sizes[a] for a in self._axes)
        self._add_gamma_beta(
            shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )
        self.input_ndim = len(input_shape)
        self._input_axes = sizes

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not inputs.is_floating_point():  # integer inputs: Keras casts them
            inputs = inputs.to(self._compute_dtype)
        ndim = inputs.ndim
        trailing = tuple(range(ndim - len(self._axes), ndim))
        x = inputs if self._axes == trailing else inputs.movedim(self._axes, trailing)
        if self.rms_scaling:
            dims = list(trailing)
            outputs = x * torch.rsqrt(x.var(dim=dims, correction=0, keepdim=True) + self.epsilon)
            if self.weight is not None:
                outputs = outputs * self.weight
        else:
            normalized_shape = tuple(x.shape[len(x.shape) - len(self._axes) :])
            outputs = F.layer_norm(x, normalized_shape, self.weight, self.bias, self.epsilon)
        return outputs if self._axes == trailing else outputs.movedim(trailing, self._axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # Keras turns an int axis into a list when the layer builds.
        axis = [self.axis] if self.built and isinstance(self.axis, int) else self.axis
        config.update(axis=axis, rms_scaling=self.rms_scaling)
        return config


class GroupNormalization(_AffineNormalization):
    """Normalizes each sample over groups of channels (and all other non-batch axes).

    `groups=1` normalizes over all channels together (as LayerNormalization over all axes);
    `groups=-1` puts each channel in its own group (instance normalization).
    Computed with `F.group_norm`; gamma and beta are named `weight` and `bias`, as in
    `torch.nn.GroupNorm`.

    Args:
        groups: number of groups; must divide the number of channels. -1: one per channel.
        axis: the channels axis (-1: channels_last).
        epsilon: added to the variance before the square root.
        center: whether to add the learned offset beta.
        scale: whether to multiply by the learned scale gamma.
        beta_initializer, gamma_initializer: Keras initializer names or objects.
        beta_regularizer, gamma_regularizer: penalties added to the loss.
        beta_constraint, gamma_constraint: projections applied after each optimizer update.

    Input shape:
        (batch, ..., channels) with `axis=-1`.
    Output shape:
        Same as the input.

    >>> import torch
    >>> GroupNormalization(groups=2)(torch.randn(2, 5, 4)).shape
    torch.Size([2, 5, 4])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "groups axis epsilon center scale beta_initializer gamma_initializer beta_regularizer "
        "gamma_regularizer beta_constraint gamma_constraint"
    )

    min_ndim = 2
    weight_names = ("gamma", "beta")

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
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
        if (
            not isinstance(groups, int)
            or isinstance(groups, bool)
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                f"GroupNormalization '{self.name}': groups must be a positive int (or -1 for one "
                f"group per channel); got {groups!r}"
            )
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(
                f"GroupNormalization '{self.name}': axis must be an int (the channels axis); "
                f"got {axis!r}"
            )
        self.groups = groups
        self.axis = axis
        self._num_groups = groups

    def build(self, input_shape: Shape) -> None:
        channels = _axis_size(self, input_shape, self.axis)
        groups = channels if self.groups == -1 else self.groups
        if channels % groups != 0:
            raise ValueError(
                f"GroupNormalization '{self.name}': groups={groups} must divide the number of "
                f"channels, {channels} (axis {self.axis} of input shape {input_shape})"
            )
        self._num_groups = groups
        self._add_gamma_beta((channels,), self.scale, self.center)
        self.input_ndim = len(input_shape)
        self._input_axes = {self.axis % len(input_shape): channels}

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not inputs.is_floating_point():  # integer inputs: Keras casts them
            inputs = inputs.to(self._compute_dtype)
        axis = self.axis % inputs.ndim
        # A contiguous copy, not the channels_last view: PyTorch's CPU channels_last group_norm
        # backward crashes (torch 2.13) when the input needs no gradient but gamma/beta do.
        x = inputs if axis == 1 else inputs.movedim(axis, 1).contiguous()
        outputs = F.group_norm(x, self._num_groups, self.weight, self.bias, self.epsilon)
        return outputs if axis == 1 else outputs.movedim(1, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        groups = self._num_groups if self.built else self.groups  # -1 resolved, as Keras
        config.update(groups=groups, axis=self.axis)
        return config
