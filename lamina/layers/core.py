"""Core layers: Input, InputLayer, Dense, Activation, Identity, Lambda.

>>> from lamina.layers import Input, Dense
>>> Dense(10, activation="softmax")(Input((64,))).shape
(None, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ._naming import tensor_name
from ._quantization import QuantizableMixin, build_quantized, dense_call, split_quantized_dtype
from ._symbolic import KerasTensor, Node, flatten_structure, map_shapes, shape_structure
from .layer import Layer, Shape, serialize_callable, standardize_shape

__all__ = ["Activation", "Dense", "Identity", "Input", "InputLayer", "Lambda"]


class InputLayer(Layer):
    """The entry point of a model: declares the shape (batch axis excluded) of its input.

    Args:
        shape: shape of one sample, e.g. (28, 28, 1).
        batch_size: optional fixed batch size.
        dtype: the input's dtype (default floatx); 'string' for raw text (NumPy arrays of
            str), which only the string layers (TextVectorization, StringLookup, Hashing,
            HashedCrossing) take.
        batch_shape: the full shape, batch axis included (instead of shape/batch_size).
        name: the layer's name.
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        sparse: bool | None = None,
        ragged: bool | None = None,
        batch_shape: Any = None,
        input_tensor: Any = None,
        optional: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if ragged:
            raise NotImplementedError(
                "InputLayer: ragged inputs are not supported (pad sequences to one length, "
                "or use torch nested tensors in your own layers)"
            )
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        from ..utils._dtype_utils import standardize_dtype

        # As Keras: the global policy, and the input's own dtype (None: floatx, not the
        # policy's); 'int32' token ids for an Embedding, 'string' for a TextVectorization.
        super().__init__(name=name, **kwargs)
        self._input_dtype = standardize_dtype(dtype)
        if sparse:
            raise NotImplementedError("InputLayer: sparse inputs are not supported")
        if input_tensor is not None:
            raise NotImplementedError("InputLayer: input_tensor is not supported; use shape=")
        if shape is not None and batch_shape is not None:  # Keras' check and words
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        for given in (shape, batch_shape):
            if given is not None and not hasattr(given, "__iter__"):  # Input(3): as Keras
                raise ValueError(
                    f"Cannot convert '{given}' to a shape. InputLayer '{self.name}' takes one "
                    f"sample's shape as a tuple, e.g. shape=({given},)"
                )
        if batch_shape is not None:
            self.batch_shape = standardize_shape(batch_shape, "batch_shape")
        elif shape is not None:
            self.batch_shape = (batch_size, *standardize_shape(shape, "shape"))
        else:
            raise ValueError("InputLayer needs `shape` (one sample's shape) or `batch_shape`")
        self.optional = optional
        self.built = True
        node = Node(self)
        tensor = name or tensor_name()  # as Keras: the name given, else 'keras_tensor_N'
        node.outputs = KerasTensor(self.batch_shape, dtype=self.dtype, name=tensor, node=node)
        self._inbound_nodes.append(node)

    _convert_input_args = False  # the inputs pass as they are

    @property
    def dtype(self) -> str:
        return self._input_dtype

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_shape": tuple(self.batch_shape),
            "dtype": self.dtype,
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }


def Input(  # noqa: N802 - Keras' name for a function returning a tensor
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    ragged: bool | None = None,
    batch_shape: Any = None,
    name: str | None = None,
    tensor: Any = None,
    optional: bool = False,
) -> KerasTensor:
    """A symbolic input of the given per-sample `shape`, to start a model.

    >>> Input((28, 28, 1)).shape
    (None, 28, 28, 1)
    >>> Input(shape=(1,), dtype="string").dtype  # raw text, for TextVectorization
    'string'
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        input_tensor=tensor,
        optional=optional,
        name=name,
    )
    return layer.output


class _ActivationMixin:
    """Shared by layers with an `activation=` argument: the stable-loss path reads it."""

    activation: Callable[..., torch.Tensor]

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "activation":  # `layer.activation = None` (Grad-CAM) is linear, as Keras
            value = activations.get(value)
        super().__setattr__(name, value)

    @property
    def output_activation(self) -> str | None:
        """'softmax' or 'sigmoid' when the layer ends in one of them (losses use the logits)."""
        name = getattr(self.activation, "__name__", None)
        return name if name in ("softmax", "sigmoid") else None


class Dense(_ActivationMixin, QuantizableMixin, Layer):
    """A fully connected layer: `activation(inputs @ kernel + bias)` over the last axis.

    The kernel is stored as PyTorch's Linear weight, (units, input_dim); `get_weights()` gives
    Keras' (input_dim, units).

    Args:
        units: size of the output's last axis.
        activation: activation name or function (None: linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: Keras initializer names or objects.
        kernel_regularizer, bias_regularizer: penalties added to the loss ('l2', L2(1e-4), ...).
        kernel_constraint, bias_constraint: projections applied after each optimizer update, in
            Keras' layout ('max_norm', MaxNorm(3.0), ...; see `lamina.constraints`).
        lora_rank, lora_alpha: must be None (LoRA is not supported); accepted so that Keras
            3's configs, which write them, load.
        quantization_config: a `lamina.quantizers.QuantizationConfig` for a layer built
            quantized (`dtype="int8_from_float32"`); `quantize("int8")` / `quantize("int4")`
            quantize a built layer (see `lamina.layers._quantization`).

    Input shape:
        (batch, ..., input_dim).
    Output shape:
        (batch, ..., units).

    >>> import torch
    >>> Dense(3)(torch.ones(2, 5)).shape
    torch.Size([2, 3])
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    min_ndim = 2
    input_description = "(batch, ..., features)"
    weight_names = ("kernel", "bias")

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        quantized = split_quantized_dtype(kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense '{self.name}': units must be a positive int; got {units!r}")
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError(
                f"Dense '{self.name}': LoRA (lora_rank={lora_rank!r}, lora_alpha={lora_alpha!r}) "
                "is not supported yet; leave both unset"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_quantization(quantized, quantization_config)

    def build(self, input_shape: Shape) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Dense '{self.name}' needs a known last axis to build; got input shape "
                f"{input_shape}"
            )
        if self.quantization_mode in (None, "float8"):  # float8 keeps the float kernel
            self._build_kernel(input_dim)
        if self.use_bias:
            self.add_weight(
                "bias",
                (self.units,),
                self.bias_initializer,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        if self.quantization_mode is not None:  # after the bias: Keras' weight order
            build_quantized(self, (input_dim, self.units), self.quantization_config)
        self._input_axes = {-1: input_dim}

    def _build_kernel(self, input_dim: int) -> None:
        self.add_weight(
            "kernel",
            (self.units, input_dim),
            self.kernel_initializer,
            self.kernel_regularizer,
            keras_axes=(1, 0),
            torch_name="weight",
            constraint=self.kernel_constraint,
        )

    def call_pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.quantization_mode is not None:
            return dense_call(self, inputs)
        if not inputs.is_floating_point():  # integer features: float, as Keras' matmul gives
            inputs = inputs.to(self.weight.dtype)
        return F.linear(inputs, self.weight, self.bias)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(self.call_pre_activation(inputs))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        config["quantization_config"] = self._quantized_config_entry()  # None, as Keras
        return config


class Activation(_ActivationMixin, Layer):
    """Applies an activation function by name ('relu', 'softmax', ...) or callable.

    >>> import torch
    >>> Activation("relu")(torch.tensor([[-1.0, 1.0]])).tolist()
    [[0.0, 1.0]]
    """

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.built = True

    def call_pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = serialize_callable(self.activation, activations)
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder in a model)."""

    supports_masking = True  # a timesteps mask passes through (Keras)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class Lambda(Layer):
    """Wraps a function of tensors as a layer: `Lambda(lambda x: x * 2)`.

    Its function is Python code: a saved model holding a Lambda only loads with
    `safe_mode=False`.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda '{self.name}': function must be callable; got {function!r}")
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """As Keras: `output_shape(input_shape)` when it is a function, else `output_shape`
        (shapes without the batch axis) after the batch size of the first input."""
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        leaves = flatten_structure(input_shape)
        batch = leaves[0] if leaves else None
        shapes = shape_structure(self._output_shape)
        return map_shapes(lambda shape: (batch, *standardize_shape(shape)), shapes)

    def get_config(self) -> dict[str, Any]:
        from ..saving.registry import get_registered_name

        config = super().get_config()
        # Keras' entry for a named function (and its key order: function, output_shape,
        # arguments); a file still carries only the function's name.
        name = get_registered_name(self.function)
        config["function"] = {"module": "builtins", "class_name": "function", "config": name,
                              "registered_name": "function"}  # fmt: skip
        if self._output_shape is not None:  # Keras writes it only when given
            config["output_shape"] = self._output_shape
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """Rebuild from a config: only with safe mode off, and only with a function found by
        name in `custom_objects` or the registry (a file never carries code)."""
        from ..saving.registry import get_registered_object, in_safe_mode

        name = config.get("name", "lambda")
        function = config.get("function")
        if isinstance(function, dict) and function.get("class_name") == "function":
            function = function.get("config")  # Keras' entry of a named function
        if in_safe_mode():
            raise ValueError(
                f"Lambda layer '{name}' wraps Python code (function {function!r}); loading it "
                "is refused in safe mode. If you trust this file, load it with "
                "safe_mode=False and pass the function in custom_objects={"
                f"{function!r}: ...}}."
            )
        resolved = get_registered_object(function) if isinstance(function, str) else None
        if not callable(resolved):
            raise ValueError(
                f"Lambda layer '{name}' needs the function {function!r}, which is neither in "
                "custom_objects nor registered; lamina does not store code in files. Pass "
                f"custom_objects={{{function!r}: your_function}} to load_model."
            )
        return cls(**{**config, "function": resolved})
