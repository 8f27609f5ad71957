"""Activation layers with arguments: ReLU, LeakyReLU, PReLU, ELU, Softmax.

(`Activation("relu")` in `core` applies any activation by name.)

>>> import torch
>>> ReLU(max_value=6.0)(torch.tensor([3.0, 9.0])).tolist()
[3.0, 6.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch

from .. import activations, constraints, initializers, regularizers
from .layer import Layer, Shape

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]


def _non_negative(layer: Layer, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': {name} must be a non-negative number; "
            f"got {name}={value!r}"
        )
    return float(value)


class ReLU(Layer):
    """Rectified linear unit with Keras' options.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold < x < max_value`, and
    `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: the largest output (None: no ceiling).
        negative_slope: the slope below the threshold.
        threshold: where the unit starts passing its input.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> ReLU(negative_slope=0.5)(torch.tensor([-2.0, 2.0])).tolist()
    [-1.0, 2.0]
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _non_negative(self, "max_value", max_value)
        self.negative_slope = _non_negative(self, "negative_slope", negative_slope)
        self.threshold = _non_negative(self, "threshold", threshold)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            max_value=self.max_value, negative_slope=self.negative_slope, threshold=self.threshold
        )
        return config


class LeakyReLU(Layer):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: the slope for negative inputs; 0.3 as Keras' layer (the
            `leaky_relu` function's default is 0.2). Keras 2's name `alpha` is accepted.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> LeakyReLU()(torch.tensor([-1.0, 1.0])).tolist()
    [-0.30000001192092896, 1.0]
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "LeakyReLU: the argument `alpha` is deprecated; use `negative_slope`",
                UserWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(self, "negative_slope", negative_slope)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class PReLU(Layer):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` otherwise, with a learned `alpha`.

    `alpha` has one value per input element (batch excluded), in Keras' layout (the input's
    own), except along `shared_axes`, where one value serves the whole axis.

    Args:
        alpha_initializer: initializer of alpha (zeros: starts as a ReLU).
        alpha_regularizer: penalty on alpha added to the loss.
        alpha_constraint: a projection of alpha applied after each optimizer update.
        shared_axes: the axes (1-based, batch is 0) along which alpha is shared; `[1, 2]` on
            (batch, height, width, channels) learns one alpha per channel.

    Input shape:
        Any, with known sizes on the axes that are not shared.
    Output shape:
        Same as the input.

    >>> import torch
    >>> layer = PReLU(shared_axes=[1, 2])
    >>> _ = layer(torch.zeros(2, 5, 5, 3))
    >>> tuple(layer.alpha.shape)
    (1, 1, 3)
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    weight_names = ("alpha",)

    def __init__(
        self,
        alpha_initializer: Any = "Zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: list[int] | None = None
        else:
            axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
                raise ValueError(
                    f"PReLU '{self.name}': shared_axes must be axes counted from 1 (the batch "
                    f"axis 0 cannot be shared); got {shared_axes!r}"
                )
            self.shared_axes = axes

    def build(self, input_shape: Shape) -> None:
        shared = set(self.shared_axes or ())
        if shared and max(shared) >= len(input_shape):
            raise ValueError(
                f"PReLU '{self.name}': shared_axes {self.shared_axes} do not exist in inputs of "
                f"shape {input_shape}"
            )
        shape = [1 if axis in shared else size for axis, size in enumerate(input_shape)][1:]
        if None in shape:
            raise ValueError(
                f"PReLU '{self.name}' needs known sizes on the axes that are not shared; got "
                f"input shape {input_shape} with shared_axes={self.shared_axes}. Share the "
                "unknown axes (shared_axes=[1, 2] for images) or give the input a fixed shape."
            )
        self.add_weight(
            "alpha",
            tuple(shape),
            self.alpha_initializer,
            self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        self.input_ndim = len(input_shape)
        self._input_axes = {
            axis: size for axis, size in enumerate(input_shape) if axis > 0 and axis not in shared
        }

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.where(inputs >= 0, inputs, self.alpha * inputs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            alpha_initializer=initializers.serialize(self.alpha_initializer),
            alpha_regularizer=regularizers.serialize(self.alpha_regularizer),
            alpha_constraint=constraints.serialize(self.alpha_constraint),
            shared_axes=self.shared_axes,
        )
        return config


class ELU(Layer):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: the scale of the negative part.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> ELU()(torch.tensor([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "name alpha trainable dtype"

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(Layer):
    """Softmax over `axis`: exponentials normalized to sum to 1.

    Args:
        axis: the axis, or a list of axes, to normalize over.

    Call arguments:
        inputs: the logits.
        mask: optional booleans (or numbers, True above 0.5) broadcastable to the inputs;
            masked-out entries get probability 0.

    Input shape:
        Any.
    Output shape:
        Same as the input.

    >>> import torch
    >>> Softmax()(torch.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, int) and not isinstance(axis, bool):
            self.axis: int | list[int] = axis
        elif (
            isinstance(axis, Sequence)
            and axis
            and all(isinstance(a, int) and not isinstance(a, bool) for a in axis)
        ):
            self.axis = list(axis)
        else:
            raise TypeError(
                f"Softmax '{self.name}': axis must be an int or a list of ints; got {axis!r}"
            )
        self.built = True

    def call(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            pairs = zip(mask.shape[::-1], inputs.shape[::-1], strict=False)
            if mask.ndim > inputs.ndim or any(m not in (1, i) for m, i in pairs):
                raise ValueError(
                    f"Softmax '{self.name}': the mask must broadcast to the inputs (each of its "
                    f"trailing dimensions 1 or the input's); got mask shape "
                    f"{tuple(mask.shape)} for input shape {tuple(inputs.shape)}"
                )
            if mask.dtype != torch.bool:
                mask = mask > 0.5  # Keras' reading of a numeric mask
            inputs = inputs.masked_fill(~mask, torch.finfo(inputs.dtype).min)
        if isinstance(self.axis, int):
            outputs = activations.softmax(inputs, axis=self.axis)
        else:
            outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
        if mask is not None:
            outputs = outputs.masked_fill(~mask, 0.0)
        return outputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config
