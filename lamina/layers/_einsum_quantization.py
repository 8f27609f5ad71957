"""Where EinsumDense's quantization scales live: which axes of the inputs and of the kernel
are contracted (each gets one AbsMax scale per remaining position), and how a scale with those
axes kept as size 1 is moved into the output's layout, as Keras arranges it (the stored
`kernel_scale` has Keras' shape).

>>> info = einsum_quantization_info("abc,cde->abde", 3)
>>> info.input_reduced_axes, info.kernel_reduced_axes
([2], [0])
>>> tuple(to_output_layout(torch.ones(1, 2, 3), info, "kernel").shape)
(1, 1, 2, 3)
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import torch

__all__ = ["EinsumQuantizationInfo", "einsum_quantization_info", "to_kernel_layout"]


@dataclass
class EinsumQuantizationInfo:
    """The contracted axes and, per operand, the (transpose, expand, squeeze) steps that put
    its keepdims scale in the output's layout."""

    input_reduced_axes: list[int]
    kernel_reduced_axes: list[int]
    steps: dict[str, tuple[list[int], list[int], list[int]]]
    gradient_equation: str

    def kernel_scale_keepdims(self, kernel_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(
            1 if i in self.kernel_reduced_axes else size for i, size in enumerate(kernel_shape)
        )


def _specs(equation: str, rank: int) -> tuple[str, str, str]:
    """The three subscripts with any '...' spelled out in unused letters."""
    plain = equation.replace("...", "0")
    free = sorted(set(string.ascii_letters) - set(plain))
    for pattern, left in (
        (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
        (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
        (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
    ):
        match = re.fullmatch(pattern, plain)
        if match is None:
            continue
        inputs, kernel, outputs = match.groups()
        extra = "".join(free[: max(rank - len(inputs), 0)]) if left is not None else ""
        if left:
            return extra + inputs, kernel, extra + outputs
        return inputs + extra, kernel, outputs + extra
    raise ValueError(
        f"Invalid einsum equation {equation!r}: expected 'X,Y->Z', '...X,Y->...Z' or 'X...,Y->Z...'"
    )


def _steps(spec: str, outputs: str) -> tuple[list[int], list[int], list[int], list[int]]:
    reduced = [i for i, label in enumerate(spec) if label not in outputs]
    expand = [i for i, label in enumerate(outputs) if label not in spec]
    transpose = [spec.index(label) for label in outputs if label in spec]
    squeeze = []
    # A contracted axis (size 1 in the scale) fills the place of an output axis the operand
    # lacks; one with no such place goes where the previous one went and is squeezed away
    # (Keras' arrangement, which fixes the stored scale's shape).
    place = len(transpose)
    for axis in reduced:
        if expand:
            place = expand.pop(0)
        else:
            squeeze.append(axis)
        transpose.insert(place, axis)
    return reduced, transpose, expand, squeeze


def einsum_quantization_info(equation: str, input_rank: int) -> EinsumQuantizationInfo:
    """The quantization layout of EinsumDense `equation` on inputs of `input_rank`."""
    inputs, kernel, outputs = _specs(equation, input_rank)
    input_reduced, *input_steps = _steps(inputs, outputs)
    kernel_reduced, *kernel_steps = _steps(kernel, outputs)
    return EinsumQuantizationInfo(
        input_reduced_axes=input_reduced,
        kernel_reduced_axes=kernel_reduced,
        steps={"input": tuple(input_steps), "kernel": tuple(kernel_steps)},  # type: ignore[dict-item]
        gradient_equation=f"{outputs},{kernel}->{inputs}",
    )


def to_output_layout(
    scale: torch.Tensor, info: EinsumQuantizationInfo, operand: str
) -> torch.Tensor:
    """A keepdims scale of `operand` ('input' or 'kernel') arranged to broadcast against the
    einsum's output."""
    transpose, expand, squeeze = info.steps[operand]
    if transpose:
        scale = scale.permute(*transpose)
    for axis in sorted(expand):
        scale = scale.unsqueeze(axis)
    if squeeze:
        scale = scale.squeeze(tuple(squeeze))
    return scale


def to_kernel_layout(scale: torch.Tensor, info: EinsumQuantizationInfo) -> torch.Tensor:
    """The stored kernel scale back in the kernel's layout (contracted axes of size 1)."""
    transpose, expand, squeeze = info.steps["kernel"]
    for axis in sorted(squeeze):
        scale = scale.unsqueeze(axis)
    if expand:
        scale = scale.squeeze(tuple(expand))
    if transpose:
        inverse = sorted(range(len(transpose)), key=transpose.__getitem__)
        scale = scale.permute(*inverse)
    return scale
