"""The forwards of quantized Dense, EinsumDense and Embedding layers, as Keras 3 computes
them (see `lamina.layers._quantization`): int8 products accumulated in int32 and divided by
the scales, int4 kernels unpacked, float8 quantize-dequantize with delayed scaling.

>>> a = torch.tensor([[100, -100]], dtype=torch.int8)
>>> _int_matmul(a, a.T)  # accumulated in int32
tensor([[20000]], dtype=torch.int32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..quantizers import _arithmetic as arithmetic
from ._einsum_quantization import einsum_quantization_info, to_kernel_layout, to_output_layout

__all__ = ["dense_call", "einsum_call", "einsum_info", "embedding_lookup", "float8_call"]


def einsum_info(layer: Any) -> Any:
    """The layer's `EinsumQuantizationInfo`, computed once (the layer must be built)."""
    info = layer.__dict__.get("_einsum_quantization")
    if info is None:
        info = einsum_quantization_info(layer.equation, layer.input_ndim)
        layer.__dict__["_einsum_quantization"] = info
    return info


class _DequantizedGradient(torch.autograd.Function):
    """`quantized(inputs)` forward; backward as the float op on the dequantized kernel
    (`dequantized`), Keras' custom gradient: the inputs' quantization passes gradients
    straight through, and the int tensors get none."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, quantized: Callable, dequantized: Callable) -> Any:  # type: ignore[override]
        ctx.save_for_backward(inputs)
        ctx.dequantized = dequantized
        return quantized(inputs)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        (inputs,) = ctx.saved_tensors
        with torch.enable_grad():
            probe = inputs.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(ctx.dequantized(probe), probe, upstream)
        return grad, None, None


def _with_gradient(inputs: torch.Tensor, quantized: Callable, dequantized: Callable) -> Any:
    if torch.is_grad_enabled() and inputs.requires_grad:
        return _DequantizedGradient.apply(inputs, quantized, dequantized)
    return quantized(inputs)


def _int_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """int8 @ int8 -> int32, as Keras' torch backend: `torch._int_mm` on CUDA where its shape
    rules allow, else int32 on the CPU and float32 on CUDA (no integer matmul there)."""
    if a.device.type == "cuda":
        m, k = a.shape if a.ndim == 2 else (0, 0)
        if a.ndim == 2 and m > 16 and k >= 16 and k % 8 == 0 and b.shape[1] % 8 == 0:
            try:
                return torch._int_mm(a, b)
            except RuntimeError:
                pass
        return torch.matmul(a.float(), b.float()).to(torch.int32)
    return torch.matmul(a.to(torch.int32), b.to(torch.int32))


def _int_einsum(equation: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    kind = torch.float32 if a.device.type == "cuda" else torch.int32
    return torch.einsum(equation, a.to(kind), b.to(kind)).to(torch.int32)


def _scale(layer: Any, name: str) -> torch.Tensor:
    return getattr(layer, name).to(layer._compute_dtype)


def dense_call(layer: Any, inputs: torch.Tensor) -> torch.Tensor:
    """A quantized Dense's `inputs @ kernel + bias` (before the activation)."""
    if layer.quantization_mode == "float8":
        return float8_call(layer, inputs, layer.weight, torch.nn.functional.linear)
    compute = layer._compute_dtype
    if not inputs.is_floating_point():
        inputs = inputs.to(compute)
    scale = _scale(layer, "kernel_scale")
    if layer.quantization_mode == "int8":
        kernel = layer.weight  # (units, input_dim) int8
    else:
        kernel = arithmetic.unpack_int4(layer.weight, layer.units, axis=0)
    if scale.ndim == 2:  # int4 in groups: (units, n_groups) scales and zero points
        groups = layer.g_idx.to(torch.int64)
        zero = layer.kernel_zero.to(compute)[:, groups]
        outputs = torch.nn.functional.linear(inputs, (kernel.to(compute) - zero) * scale[:, groups])
    else:
        quantizer = layer.inputs_quantizer

        def quantized(x: torch.Tensor) -> torch.Tensor:
            if quantizer:
                values, inputs_scale = quantizer(x, axis=-1)
                product = _int_matmul(values, kernel.T).to(compute)
                return product / (scale * inputs_scale)
            return torch.matmul(x, kernel.T.to(x.dtype)).to(compute) / scale

        def dequantized(x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.linear(x, kernel.to(compute) / scale[:, None])

        outputs = _with_gradient(inputs, quantized, dequantized)
    return outputs if layer.bias is None else outputs + layer.bias.to(outputs.dtype)


def einsum_call(layer: Any, inputs: torch.Tensor) -> torch.Tensor:
    """A quantized EinsumDense's einsum (+ bias, before the activation)."""
    if layer.quantization_mode == "float8":
        equation = layer.equation
        return float8_call(layer, inputs, layer.kernel, lambda x, k: torch.einsum(equation, x, k))
    info = einsum_info(layer)
    compute = layer._compute_dtype
    kernel, scale = layer.kernel, _scale(layer, "kernel_scale")
    float_kernel = kernel.to(compute) / to_kernel_layout(scale, info)
    quantizer = layer.inputs_quantizer

    def quantized(x: torch.Tensor) -> torch.Tensor:
        if not quantizer:  # weight-only: Keras' torch backend dequantizes the kernel
            return torch.einsum(layer.equation, x, float_kernel)
        values, inputs_scale = quantizer(x, axis=tuple(info.input_reduced_axes))
        inputs_scale = to_output_layout(inputs_scale, info, "input")
        product = _int_einsum(layer.equation, values, kernel).to(compute)
        return product / (inputs_scale * scale)

    def dequantized(x: torch.Tensor) -> torch.Tensor:
        return torch.einsum(layer.equation, x, float_kernel)

    outputs = _with_gradient(inputs, quantized, dequantized)
    return outputs if layer.bias is None else outputs + layer.bias.to(outputs.dtype)


def embedding_lookup(layer: Any, indices: torch.Tensor) -> torch.Tensor:
    """A quantized Embedding's vectors for (wrapped, in-range) `indices`."""
    compute = layer._compute_dtype
    rows = layer.weight[indices]
    scale = _scale(layer, "embeddings_scale")[indices]
    if layer.quantization_mode == "int4":
        rows = arithmetic.unpack_int4(rows, layer.output_dim, axis=-1)
    if scale.ndim == indices.ndim + 1:  # int4 in groups along output_dim
        groups = layer.g_idx.to(torch.int64)
        zero = layer.embeddings_zero[indices].to(compute)
        return (rows.to(compute) - zero[..., groups]) * scale[..., groups]
    return rows.to(compute) / scale.unsqueeze(-1)


# ---------------------------------------------------------------- float8

_E4M3, _E5M2 = "float8_e4m3fn", "float8_e5m2"


def _float8_max(dtype: str) -> torch.Tensor:
    return torch.tensor(float(torch.finfo(getattr(torch, dtype)).max))


def _delayed_update(layer: Any, prefix: str, values: torch.Tensor, dtype: str) -> None:
    """Keras' delayed scaling, applied in place where Keras overwrites the variables after the
    step: the scale from the old history's maximum, then `values`' max|x| into the history."""
    scale = getattr(layer, f"{prefix}_scale")
    history = getattr(layer, f"{prefix}_amax_history")
    with torch.no_grad():
        largest = _float8_max(dtype).to(history.device)
        new_scale = arithmetic.compute_float8_scale(history.max(), scale, largest)
        new_history = arithmetic.compute_float8_amax_history(values.detach(), history)
        scale.copy_(new_scale)
        history.copy_(new_history)


class _QuantizeDequantize(torch.autograd.Function):
    """float8 e4m3 quantize-dequantize; the gradient passes straight through."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor, compute: torch.dtype) -> Any:  # type: ignore[override]
        return arithmetic.quantize_and_dequantize(x, scale, _E4M3, compute)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        return upstream, None, None


class _GradientQuantizeDequantize(torch.autograd.Function):
    """Identity forward; the incoming gradient is quantize-dequantized to float8 e5m2 with the
    layer's `outputs_grad_scale`, whose history is then updated."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, layer: Any) -> Any:  # type: ignore[override]
        ctx.layer = layer
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        layer = ctx.layer
        scale = layer.outputs_grad_scale
        grad = arithmetic.quantize_and_dequantize(upstream, scale, _E5M2, upstream.dtype)
        _delayed_update(layer, "outputs_grad", upstream, _E5M2)
        return grad, None


def float8_call(layer: Any, inputs: torch.Tensor, kernel: torch.Tensor, contract: Callable) -> Any:
    """A float8 layer's `contract(qdq(inputs), qdq(kernel))` + bias: inputs and kernel
    quantize-dequantized to e4m3 with their scales, gradients to e5m2. In training (the
    enclosing call's `training=True`) the scales and histories advance as Keras' optimizer
    overwrites them."""
    from .layer import _CALL_CONTEXT

    training = bool(getattr(_CALL_CONTEXT, "training", False))
    compute = layer._compute_dtype
    if not inputs.is_floating_point():
        inputs = inputs.to(compute)
    pairs = (("inputs", inputs), ("kernel", kernel))
    quantized = [
        _QuantizeDequantize.apply(value, getattr(layer, f"{prefix}_scale"), compute)
        for prefix, value in pairs
    ]
    if training:
        for prefix, value in pairs:
            _delayed_update(layer, prefix, value, _E4M3)
    outputs = contract(*quantized)
    if torch.is_grad_enabled() and outputs.requires_grad:
        outputs = _GradientQuantizeDequantize.apply(outputs, layer)
    if layer.bias is None:
        return outputs
    bias = layer.bias
    if layer.dtype_policy.compute_dtype == "float32":  # Keras rounds the bias through bfloat16
        bias = bias.to(torch.bfloat16).to(bias.dtype)
    return outputs + bias.to(outputs.dtype)
