"""Scale-only normalizations: UnitNormalization (L2 norm 1) and RMSNormalization.

Neither subtracts a mean. RMSNormalization keeps PyTorch's parameter name (`weight`, as
`torch.nn.RMSNorm`) and Keras' name `scale` for `get_weights()` and attribute access.

>>> from lamina.layers import Input
>>> RMSNormalization()(Input((4, 6))).shape
(None, 4, 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .layer import Layer, Shape

__all__ = ["RMSNormalization", "UnitNormalization"]


def _check_axis(layer: Layer, axis: Any) -> int | list[int]:
    """An int, or a list of ints from a non-empty sequence; else a TypeError naming the layer."""
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if (
        isinstance(axis, Sequence)
        and not isinstance(axis, str)
        and axis
        and all(isinstance(a, int) and not isinstance(a, bool) for a in axis)
    ):
        return list(axis)
    raise TypeError(
        f"{type(layer).__name__} '{layer.name}': axis must be an int or a non-empty list of ints; "
        f"got axis={axis!r}"
    )


def _resolve_axes(layer: Layer, axis: int | list[int], ndim: int) -> tuple[int, ...]:
    """The axes as sorted non-negative ints for inputs of rank `ndim`; a ValueError if one is
    out of range or the batch axis."""
    axes = [axis] if isinstance(axis, int) else axis
    for a in axes:
        if not -ndim <= a < ndim or a % ndim == 0:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': axis {a} is out of range for "
                f"{ndim}-D inputs (the batch axis 0 cannot be normalized)"
            )
    return tuple(sorted({a % ndim for a in axes}))


class UnitNormalization(Layer):
    """Scales each sample to an L2 norm of 1 over `axis`: `x * min(rsqrt(sum(x**2)), 1e12)`.

    A zero vector stays zero (the cap 1e12 on the inverse norm is Keras' epsilon).

    Args:
        axis: the axis or list of axes to normalize over (the features by default).

    Input shape:
        Any rank from 2 on.
    Output shape:
        Same as the input.

    >>> import torch
    >>> UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """

    _float_outputs = True  # int inputs give floats (its symbolic dtype too)

    supports_masking = True  # a timesteps mask passes through (Keras)
    min_ndim = 2

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _check_axis(self, axis)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        axes = _resolve_axes(self, self.axis, inputs.ndim)
        square_sum = inputs.square().sum(dim=axes, keepdim=True)
        return inputs * torch.rsqrt(square_sum).clamp(max=1e12)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _resolve_axes(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class RMSNormalization(Layer):
    """Divides each sample by its root mean square over `axis`, then multiplies by a learned
    `scale`: `x * rsqrt(mean(x**2) + epsilon) * scale` (Zhang & Sennrich, 2019).

    Trailing axes go to `F.rms_norm`; the statistics are computed in at least float32.

    Args:
        axis: the axis or list of axes to normalize over (the batch axis excluded).
        epsilon: added to the mean square before the square root.

    Input shape:
        Any rank from 2 on.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RMSNormalization()(torch.tensor([[1.0, -1.0]])).tolist()
    [[0.9999995231628418, -0.9999995231628418]]
    """

    min_ndim = 2
    weight_names = ("scale",)

    def __init__(
        self, axis: int | Sequence[int] = -1, epsilon: float = 1e-6, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.axis = _check_axis(self, axis)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(
                f"RMSNormalization '{self.name}': epsilon must be a non-negative number; "
                f"got epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self._axes: tuple[int, ...] = ()

    def build(self, input_shape: Shape) -> None:
        ndim = len(input_shape)
        self._axes = _resolve_axes(self, self.axis, ndim)
        sizes = {a: input_shape[a] for a in self._axes}
        if any(size is None for size in sizes.values()):
            raise ValueError(
                f"RMSNormalization '{self.name}' normalizes axes {list(self._axes)}, whose sizes "
                f"must be known; got input shape {input_shape}"
            )
        self.add_weight("scale", tuple(sizes.values()), "ones", torch_name="weight")
        self.input_ndim = ndim
        self._input_axes = sizes

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        ndim = inputs.ndim
        trailing = tuple(range(ndim - len(self._axes), ndim))
        x = inputs if self._axes == trailing else inputs.movedim(self._axes, trailing)
        # Half-precision inputs: the mean square in float32, as Keras.
        compute = torch.promote_types(x.dtype, torch.float32)
        normalized_shape = tuple(x.shape[ndim - len(self._axes) :])
        outputs = F.rms_norm(
            x.to(compute), normalized_shape, self.weight.to(compute), self.epsilon
        ).to(x.dtype)
        return outputs if self._axes == trailing else outputs.movedim(trailing, self._axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # Keras turns an int axis into a (sorted) list when the layer builds.
        if self.built:
            axis = [self.axis] if isinstance(self.axis, int) else sorted(self.axis)
        else:
            axis = self.axis
        config.update(axis=axis, epsilon=self.epsilon)
        return config
