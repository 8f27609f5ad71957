"""Post-training quantization, as Keras 3's `layer.quantize(mode)` / `model.quantize(mode)`,
for Dense, EinsumDense and Embedding.

`quantize("int8")` replaces the float kernel by an int8 one plus a float scale per output
channel (AbsMax: `scale = 127 / max|w|` over the contracted axes), and the layer's
`dtype_policy` becomes Keras' quantized policy ('int8_from_float32'). A quantized Dense or
EinsumDense also quantizes its inputs per row (the `activation_quantizer` of the config,
AbsMax over the contracted axes by default), multiplies in integers (int32 accumulation on the
CPU, `torch._int_mm` or float32 on CUDA, as Keras' torch backend) and divides by both scales.
'int4' (Dense, Embedding) packs two 4-bit values per byte, one scale per output channel
(`block_size=None`/-1) or per group of `block_size` rows with a zero point (default 128).

Stored tensors, with Keras' names (`get_weights()` gives Keras' layout and order):

- Dense: `weight` (torch's (units, input_dim), int8; Keras' `kernel`), `kernel_scale` (units,);
  int4: `weight` (ceil(units/2), input_dim) packed along units, `kernel_scale` (units,) or
  (units, n_groups), `kernel_zero` (units, n_groups) int8, `g_idx` (input_dim,).
- EinsumDense: `kernel` (Keras' layout, as the float kernel), `kernel_scale` (Keras' shape).
- Embedding: `weight` (input_dim, output_dim) int8 (Keras' `embeddings`), `embeddings_scale`
  (input_dim,); int4: `weight` (input_dim, ceil(output_dim/2)).

The quantized tensors are buffers (not trained); the bias stays trainable. Gradients reach the
inputs through the dequantized kernel, as in Keras. A quantized layer's config holds its
policy name, so `save`/`load_model` rebuild it quantized and load the int8 tensors.

>>> import torch
>>> from lamina.layers import Dense
>>> layer = Dense(3)
>>> _ = layer(torch.ones(1, 4))
>>> layer.quantize("int8")
>>> layer.dtype_policy.name, layer.weight.dtype, tuple(layer.kernel_scale.shape)
('int8_from_float32', torch.int8, (3,))
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import torch

from .. import mixed_precision
from ..quantizers import AbsMaxQuantizer, abs_max_quantize_grouped_with_zero_point
from ..quantizers import _arithmetic as arithmetic
from ..quantizers._policies import Int4DTypePolicy, is_quantized_dtype, quantized_policy
from ..quantizers.quantization_config import (
    QUANTIZATION_MODES,
    Int4QuantizationConfig,
    QuantizationConfig,
    validate_and_resolve_config,
)
from ._einsum_quantization import to_output_layout
from ._quantized_calls import dense_call, einsum_call, einsum_info, embedding_lookup

__all__ = [
    "QuantizableMixin",
    "build_quantized",
    "dense_call",
    "einsum_call",
    "embedding_lookup",
    "quantize_layer",
    "quantize_model",
    "split_quantized_dtype",
]

# Per class: (torch name of the kernel, its Keras name, Keras' axes, the scale's name, modes).
_KERNELS = {
    "Dense": ("weight", "kernel", (1, 0), "kernel_scale", ("int8", "int4", "float8")),
    "EinsumDense": ("kernel", "kernel", None, "kernel_scale", ("int8", "float8")),
    "Embedding": ("weight", "embeddings", None, "embeddings_scale", ("int8", "int4")),
}


def split_quantized_dtype(kwargs: dict[str, Any]) -> Any:
    """Pop a quantized `dtype=` ('int8_from_float32', Keras' policy dict) from a layer's
    kwargs, leaving its float source policy there; returns the quantized policy or None."""
    dtype = kwargs.get("dtype")
    if dtype is None or not is_quantized_dtype(dtype):
        return None
    policy = quantized_policy(dtype)
    kwargs["dtype"] = policy.source_name
    return policy


class QuantizableMixin:
    """Keras' quantization API for the layers with one kernel (Dense, EinsumDense,
    Embedding): `quantize`, `quantization_mode`, `quantization_config`, `inputs_quantizer`."""

    quantization_config: Any = None
    inputs_quantizer: Any = None
    _quantized_policy: Any = None
    _dtype_policy: Any
    name: str

    def _init_quantization(self, policy: Any, config: Any) -> None:
        """Called at the end of `__init__` with `split_quantized_dtype`'s result."""
        if config is not None and not isinstance(config, QuantizationConfig):
            from ..quantizers import deserialize

            config = deserialize(config)
        self.quantization_config = config
        if policy is not None:
            self._set_policy(policy)

    def _set_policy(self, policy: Any) -> None:
        self._dtype_policy = policy
        mixed_precision.note_policy(policy)

    @property
    def quantization_mode(self) -> str | None:
        """'int8', 'int4' or 'float8' once quantized, else None."""
        return getattr(self._dtype_policy, "quantization_mode", None)

    def quantize(
        self, mode: str | None = None, type_check: bool = True, config: Any = None
    ) -> None:
        """Quantize the built layer's kernel to `mode` ('int8', 'int4'), or by `config` (a
        `lamina.quantizers.QuantizationConfig`). See `lamina.layers._quantization`."""
        quantize_layer(self, mode, config=config, type_check=type_check)

    def _quantized_config_entry(self) -> Any:
        from ..quantizers import serialize

        return None if self.quantization_config is None else serialize(self.quantization_config)


def _describe(layer: Any) -> str:
    return f"{type(layer).__name__} '{layer.name}'"


def _check_quantizable(layer: Any, mode: str) -> None:
    if not layer.built:
        raise ValueError(
            f"Cannot quantize a layer that isn't yet built. Layer '{layer.name}' (of type "
            f"'{type(layer).__name__}') is not built yet: call it on data first."
        )
    if layer.quantization_mode is not None:
        raise ValueError(
            f"Layer '{layer.name}' is already quantized with dtype_policy="
            f"'{layer.dtype_policy.name}'. Received: mode={mode}"
        )
    if mode == "int8" and layer.dtype_policy.compute_dtype == "float16":
        raise ValueError(
            f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'. "
            "Consider loading model/layer with another dtype policy such as 'mixed_bfloat16' "
            "before calling `quantize()`."
        )


def quantize_layer(
    layer: Any, mode: str | None = None, config: Any = None, type_check: bool = True
) -> None:
    """`layer.quantize(mode, config=...)`: quantize a built Dense, EinsumDense or Embedding
    in place; other layers raise NotImplementedError, as in Keras."""
    kind = next((c.__name__ for c in type(layer).__mro__ if c.__name__ in _KERNELS), None)
    if kind is None or (type_check and type(layer).__name__ != kind):
        raise NotImplementedError(
            f"Layer {type(layer).__name__} does not have a `quantize` method implemented."
        )
    config = validate_and_resolve_config(mode, config)
    mode = config.mode
    _check_quantizable(layer, mode)
    if mode not in _KERNELS[kind][4]:
        raise NotImplementedError(
            f"{_describe(layer)}: quantization mode {mode!r} is not supported by lamina for "
            f"{kind} (supported: {', '.join(_KERNELS[kind][4])}; Keras' modes are "
            f"{QUANTIZATION_MODES})."
        )
    torch_name, keras_name, keras_axes, _, _ = _KERNELS[kind]
    if mode == "float8":  # the float kernel stays; scales and histories are added
        layer.quantization_config = config
        layer._set_policy(quantized_policy(f"float8_from_{layer.dtype_policy.name}"))
        build_quantized(layer, (), config)
        return
    kernel = getattr(layer, torch_name).detach()
    keras_kernel = kernel if keras_axes is None else kernel.permute(*keras_axes)
    block_size = _block_size(layer, config) if mode == "int4" else None
    values = _quantized_values(layer, kind, mode, config, keras_kernel, block_size)
    layer.quantization_config = config
    name = mode if mode != "int4" else f"int4/{-1 if block_size is None else block_size}"
    policy = quantized_policy(f"{name}_from_{layer.dtype_policy.name}")
    device = kernel.device
    _remove_weight(layer, torch_name, keras_name)
    layer._set_policy(policy)
    build_quantized(layer, tuple(keras_kernel.shape), config)
    with torch.no_grad():
        for weight_name, value in values.items():
            target = getattr(layer, weight_name)
            target.data = value.to(device=device, dtype=target.dtype).contiguous()


def _block_size(layer: Any, config: Any) -> int | None:
    """The int4 group size: the config's, else the policy's (a model being loaded), else
    None (one scale per channel); -1 reads as None."""
    if isinstance(config, Int4QuantizationConfig):
        size = config.block_size
    elif isinstance(layer.dtype_policy, Int4DTypePolicy):
        size = layer.dtype_policy.block_size
    else:
        size = None
    return None if size == -1 else size


def _quantized_values(
    layer: Any, kind: str, mode: str, config: Any, kernel: torch.Tensor, block_size: Any
) -> dict[str, torch.Tensor]:
    """The quantized tensors by torch name, computed from the Keras-layout float `kernel` as
    Keras computes them (in NumPy on the host), converted to the stored layouts."""
    if kind == "EinsumDense":
        info = einsum_info(layer)
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, AbsMaxQuantizer(axis=tuple(info.kernel_reduced_axes))
        )
        values, scale = quantizer(kernel, to_numpy=True)
        return {"kernel": values, "kernel_scale": to_output_layout(scale, info, "kernel")}
    axis = 0 if kind == "Dense" else -1  # Keras: Dense reduces input_dim, Embedding output_dim
    scale_name = _KERNELS[kind][3]
    if mode == "int8":
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, AbsMaxQuantizer(axis=axis)
        )
        values, scale = quantizer(kernel, to_numpy=True)
        values = values.T if kind == "Dense" else values
        return {"weight": values, scale_name: scale.squeeze(axis)}
    if block_size is None:
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, AbsMaxQuantizer(axis=axis, value_range=(-8, 7), output_dtype="int8")
        )
        values, scale = quantizer(kernel, to_numpy=True)
        packed = arithmetic.pack_int4(values, axis=-1)[0]
        out = {"weight": packed.T if kind == "Dense" else packed, scale_name: scale.squeeze(axis)}
        return out
    if kind == "Dense":  # groups of input rows: Keras (n_groups, units), stored transposed
        values, scale, zero = abs_max_quantize_grouped_with_zero_point(
            kernel, block_size=block_size, to_numpy=True
        )
        packed = arithmetic.pack_int4(values, axis=-1)[0]
        return {"weight": packed.T, "kernel_scale": scale.T, "kernel_zero": zero.T}
    values, scale, zero = abs_max_quantize_grouped_with_zero_point(
        kernel.T, block_size=block_size, to_numpy=True
    )  # Embedding: groups along output_dim, one row per index
    packed = arithmetic.pack_int4(values.T.contiguous(), axis=-1)[0]
    return {"weight": packed, "embeddings_scale": scale.T, "embeddings_zero": zero.T}


def _remove_weight(layer: Any, torch_name: str, keras_name: str) -> None:
    delattr(layer, torch_name)
    layer._weight_info.pop(torch_name, None)
    layer._keras_aliases.pop(keras_name, None)


def _add(layer: Any, name: str, shape: tuple[int, ...], dtype: str, **kwargs: Any) -> None:
    initializer = "ones" if name.endswith("_scale") else "zeros"
    layer.add_weight(
        shape=shape, initializer=initializer, dtype=dtype, trainable=False, name=name, **kwargs
    )


def build_quantized(layer: Any, keras_kernel_shape: tuple[int, ...], config: Any = None) -> None:
    """Create the quantized layer's tensors for a float kernel of `keras_kernel_shape`
    (Keras' layout), zero-filled: `quantize` fills them, `load_model` loads them."""
    kind = next(c.__name__ for c in type(layer).__mro__ if c.__name__ in _KERNELS)
    mode = layer.quantization_mode
    torch_name, keras_name, keras_axes, scale_name, modes = _KERNELS[kind]
    if mode not in modes:
        raise NotImplementedError(
            f"{_describe(layer)}: quantization mode {mode!r} is not supported by lamina"
        )
    if mode == "float8":
        length = getattr(layer.dtype_policy, "amax_history_length", 1024)
        for prefix in ("inputs", "kernel", "outputs_grad"):
            _add(layer, f"{prefix}_scale", (), "float32")
            _add(layer, f"{prefix}_amax_history", (length,), "float32")
        return
    if kind != "Embedding":
        default = AbsMaxQuantizer() if mode == "int8" else None
        layer.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(config, default)
    naming = {"keras_axes": keras_axes, "torch_name": torch_name}
    if kind == "EinsumDense":
        info = einsum_info(layer)
        _add(layer, keras_name, keras_kernel_shape, "int8", **naming)
        ones = torch.ones(info.kernel_scale_keepdims(keras_kernel_shape))
        _add(layer, scale_name, tuple(to_output_layout(ones, info, "kernel").shape), "float32")
        return
    rows, columns = (
        keras_kernel_shape  # Dense (input_dim, units); Embedding (input_dim, output_dim)
    )
    channels = columns if kind == "Dense" else rows  # one scale per output / per index
    if mode == "int8":
        shape = (columns, rows) if kind == "Dense" else (rows, columns)
        _add(layer, keras_name, shape, "int8", **naming)
        _add(layer, scale_name, (channels,), "float32")
        return
    block_size = _block_size(layer, config)
    layer._int4_block_size = block_size
    packed = (rows, (columns + 1) // 2)
    _add(layer, keras_name, packed[::-1] if kind == "Dense" else packed, "int8", **naming)
    if block_size is None:
        _add(layer, scale_name, (channels,), "float32")
        return
    grouped_length = rows if kind == "Dense" else columns
    groups = math.ceil(grouped_length / block_size)
    grouped = {"keras_axes": (1, 0)} if kind == "Dense" else {}
    _add(layer, scale_name, (channels, groups), "float32", **grouped)
    zero_name = "kernel_zero" if kind == "Dense" else "embeddings_zero"
    _add(layer, zero_name, (channels, groups), "int8", **grouped)
    index = (torch.arange(grouped_length) // block_size).float()
    layer.add_weight(
        shape=(grouped_length,),
        initializer=lambda shape, dtype=None: index.clone(),
        dtype="float32",
        trainable=False,
        name="g_idx",
    )


# ---------------------------------------------------------------- whole models


def _should_quantize(layer: Any, filters: Any) -> bool:
    if filters is None:
        return True
    if isinstance(filters, str):
        return re.search(filters, layer.name) is not None
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return bool(filters(layer))


def quantize_model(
    model: Any, mode: str | None = None, config: Any = None, filters: Any = None, **kwargs: Any
) -> None:
    """`model.quantize(mode, config=None, filters=None)`: quantize every Dense, EinsumDense
    and Embedding (also those inside other layers) whose name matches `filters` (a regular
    expression, a list of them, or a callable of the layer; None: all).

    Other layers with weights stay float and get a warning, as in Keras (weightless layers
    are skipped silently).
    """
    from .layer import Layer

    type_check = kwargs.pop("type_check", True)
    if kwargs:
        raise ValueError(
            f"Unrecognized keyword arguments passed to {type(model).__name__}: {kwargs}"
        )
    if (
        filters is not None
        and not isinstance(filters, (str, list, tuple))
        and not callable(filters)
    ):
        raise ValueError(
            "The `filters` argument must be a regex string, a list of regex strings, or a "
            f"callable. Received: {type(filters)}"
        )
    validate_and_resolve_config(mode, config)
    leaves = [
        module
        for module in model.modules()
        if isinstance(module, Layer) and module is not model and not module._sublayers()
    ]
    for layer in leaves:
        if not _should_quantize(layer, filters):
            continue
        try:
            quantize_layer(layer, mode, config=config, type_check=type_check)
        except NotImplementedError as error:
            if layer.weights:
                warnings.warn(str(error), stacklevel=2)
    if "_compiled_steps" in model.__dict__:  # compiled train/test/predict steps trace anew
        model._compiled_steps = None
