"""EinsumDense: a dense layer whose contraction is an einsum equation.

The kernel's axes are those of the equation's second operand, so it has no `torch.nn`
counterpart; it is kept in Keras' layout (`get_weights()` returns it unchanged, then the bias).

>>> from lamina.layers import Input
>>> EinsumDense("abc,cde->abde", output_shape=(None, 4, 5))(Input((3, 6))).shape
(None, None, 4, 5)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import torch

from .. import activations, constraints, initializers, regularizers
from ._quantization import QuantizableMixin, build_quantized, einsum_call, split_quantized_dtype
from .core import _ActivationMixin
from .layer import Layer, Shape

__all__ = ["EinsumDense"]

_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), False),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)"), True),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\."), False),
)


def analyze_einsum(
    owner: str,
    equation: str,
    bias_axes: str | None,
    input_shape: Sequence[int | None],
    partial_output_shape: Sequence[int | None],
) -> tuple[list[Any], list[Any] | None, list[Any], list[int], list[int]]:
    """(kernel shape, bias shape or None, full output shape, the kernel's input axes, its output
    axes) for `equation` applied to inputs of `input_shape`, as Keras derives them. The output
    shape keeps output_shape's None sizes, as Keras' (the weights take the input's sizes)."""
    found = next(
        ((m, left) for pattern, left in _FORMS if (m := pattern.fullmatch(equation))), None
    )
    if found is None:
        raise ValueError(
            f"{owner}: equation must read 'X,Y->Z', '...X,Y->...Z' or 'X...,Y->Z...' with "
            f"letters for X, Y, Z; got {equation!r}"
        )
    match, left_elided = found
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(input_shape) - len(input_spec)
    output = [input_shape[0], *partial_output_shape]
    if elided > 0 and left_elided:
        output[1:1] = list(input_shape[1:elided])
    elif elided > 0:
        output.extend(input_shape[len(input_shape) - elided :])
    if left_elided:
        input_at = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        output_at = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_at = {d: i for i, d in enumerate(input_spec)}
        output_at = {d: i for i, d in enumerate(output_spec)}
    if len(output) != len(output_spec) + max(elided, 0):
        raise ValueError(
            f"{owner}: output_shape {tuple(partial_output_shape)} does not fit the output spec "
            f"{output_spec!r} of {equation!r} for inputs of shape {tuple(input_shape)}"
        )
    declared = list(output)
    for d in input_spec:
        if d in output_at and output[output_at[d]] not in (None, input_shape[input_at[d]]):
            raise ValueError(
                f"{owner}: input and output_shape differ on the shared axis {d!r}: "
                f"{input_shape[input_at[d]]} vs {output[output_at[d]]}"
            )
        if d in output_at and output[output_at[d]] is None:
            output[output_at[d]] = input_shape[input_at[d]]
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_at:
            kernel_shape.append(output[output_at[d]])
            output_axes.append(i)
        elif d in input_at:
            kernel_shape.append(input_shape[input_at[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"{owner}: kernel axis {d!r} of {equation!r} is in neither the input nor the "
                "output spec"
            )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(f"{owner}: output axis {d!r} of {equation!r} comes from no operand")
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left_elided else 0
        missing = [d for d in bias_axes if d not in output_spec]
        if missing:
            raise ValueError(
                f"{owner}: bias_axes {bias_axes!r} name {missing}, not in the output spec "
                f"{output_spec!r}"
            )
        first = min(output_spec.find(d) for d in bias_axes)
        bias_shape = [
            output[first + i + offset] if d in bias_axes else 1
            for i, d in enumerate(output_spec[first:])
        ]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, declared, input_axes, output_axes


class EinsumDense(_ActivationMixin, QuantizableMixin, Layer):
    """`activation(einsum(equation, inputs, kernel) + bias)`: a Dense layer over any axes.

    Args:
        equation: 'X,Y->Z' with one letter per axis of the input (X), the kernel (Y) and the
            output (Z); '...' may stand for leading ('...X') or trailing ('X...') input axes.
        output_shape: the output's shape without the batch axis (and the elided axes); None
            entries are taken from the input.
        activation: activation name or function (None: linear).
        bias_axes: letters of the output axes that get a bias (None: no bias).
        kernel_initializer, bias_initializer: Keras initializer names or objects; a
            variance-scaling kernel initializer takes its fans from the contracted and the
            output axes of the kernel, as Keras.
        kernel_regularizer, bias_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.
        lora_rank, lora_alpha: must be None (LoRA is not supported).
        quantization_config: a `lamina.quantizers.QuantizationConfig` for a layer built
            quantized (`dtype="int8_from_float32"`); `quantize("int8")` quantizes a built
            layer (see `lamina.layers._quantization`).

    Input shape:
        The rank the equation names (plus any elided axes).
    Output shape:
        (batch, *output_shape), with the elided axes where the equation puts them.

    >>> import torch
    >>> layer = EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
    >>> layer(torch.zeros(2, 3)).shape, [w.shape for w in layer.get_weights()]
    (torch.Size([2, 4]), [(3, 4), (4,)])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "output_shape equation activation bias_axes kernel_initializer bias_initializer "
        "kernel_regularizer bias_regularizer activity_regularizer kernel_constraint "
        "bias_constraint quantization_config"
    )

    weight_names = ("kernel", "bias")

    def __init__(
        self,
        equation: str,
        output_shape: int | Sequence[int | None],
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        quantized = split_quantized_dtype(kwargs)
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense '{self.name}': equation must be a string")
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError(f"EinsumDense '{self.name}': LoRA is not supported")
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape: tuple[int | None, ...] = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_quantization(quantized, quantization_config)

    def _analyze(self, input_shape: Shape) -> tuple[Any, ...]:
        return analyze_einsum(
            f"EinsumDense '{self.name}'",
            self.equation,
            self.bias_axes,
            input_shape,
            self.partial_output_shape,
        )

    def build(self, input_shape: Shape) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analyze(input_shape)
        if any(size is None for size in kernel_shape):
            raise ValueError(
                f"EinsumDense '{self.name}': the kernel's shape {kernel_shape} needs the sizes "
                f"of the input axes it contracts; got input shape {input_shape}"
            )
        self.input_ndim = len(input_shape)
        if self.quantization_mode in (None, "float8"):  # float8 keeps the float kernel
            self._build_kernel(kernel_shape, input_axes, output_axes)
        if bias_shape is None:
            self.bias = None
        else:
            self.add_weight(
                "bias",
                tuple(bias_shape),
                self.bias_initializer,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        if self.quantization_mode is not None:  # after the bias: Keras' weight order
            build_quantized(self, tuple(kernel_shape), self.quantization_config)

    def _build_kernel(
        self, kernel_shape: list[int], input_axes: list[int], output_axes: list[int]
    ) -> None:
        initializer = self.kernel_initializer
        given_axes = getattr(initializer, "input_axes", None) is not None and (
            getattr(initializer, "output_axes", None) is not None
        )
        if isinstance(initializer, initializers.VarianceScaling) and not given_axes:
            # Keras' fans: the product of the kernel's input axes and of its output axes. The
            # samples are independent, so a (fan_in, fan_out) draw reshaped has the same law.
            # (An initializer given both input_axes and output_axes uses its own, as Keras.)
            fans = (
                math.prod(kernel_shape[i] for i in input_axes),
                math.prod(kernel_shape[i] for i in output_axes),
            )
            base = initializer

            def initializer(shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
                return torch.as_tensor(base(fans, dtype)).reshape(shape)

        self.add_weight(
            "kernel",
            tuple(kernel_shape),
            initializer,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.quantization_mode is not None:
            return self.activation(einsum_call(self, inputs))
        outputs = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._maybe_build(input_shape)  # as the meta-device default: a symbolic call builds
        return tuple(self._analyze(input_shape)[2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            equation=self.equation,
            output_shape=self.partial_output_shape,
            activation=activations.serialize(self.activation),
            bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            quantization_config=self._quantized_config_entry(),
        )
        return config
