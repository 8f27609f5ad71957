"""A node of a functional graph that applies one of `lamina.ops`: what Keras 3 records when
an op or Python arithmetic is applied to symbolic tensors (`x + 3.0`, `x[:, 0]`,
`ops.concatenate([a, b])`, `ops.not_equal(ids, 0)`), and what Keras writes into a saved graph
for such calls. As in Keras, these nodes run in the model and show in `summary()` and in
`model.operations`, but are not among `model.layers`.

Only functions listed in `lamina.ops.__all__` (and `lamina.ops.image.__all__`, named
'image.<function>') can be named, so a config cannot reach anything else.

>>> import torch
>>> layer = OperationLayer("not_equal")
>>> layer(torch.tensor([[3, 0]]), 0).tolist()
[[True, False]]
>>> OperationLayer.from_keras_operation("Sum", {"name": "sum", "axis": 1}).arguments
{'axis': 1}
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import torch

from ._naming import tensor_name, unique_name
from ._shape_inference import _META_SIZES, _inferring
from ._symbolic import KerasTensor, Node, flatten_structure, is_shape, map_shapes, map_structure
from .layer import Layer

__all__ = ["OperationLayer", "symbolic_operation"]


def _operations() -> Any:
    from .. import ops

    return ops


def _resolve(operation: str) -> Any:
    """The function an operation name stands for ('sum', 'image.resize'), or None."""
    ops = _operations()
    namespace, _, name = operation.rpartition(".")
    module = ops.image if namespace == "image" else ops if not namespace else None
    if module is None or name not in getattr(module, "__all__", ()):
        return None
    return getattr(module, name)


# Keras' op classes whose names are not the function's name in CamelCase.
_KERAS_CLASSES = {
    "allclose": "AllClose",
    "batch_normalization": "BatchNorm",
    "cdist": "CDist",
    "ctc_decode": "CTCDecode",
    "ctc_loss": "CTCLoss",
    "fft": "FFT",
    "fft2": "FFT2",
    "hard_swish": "HardSilu",
    "hsv_to_rgb": "HSVToRGB",
    "ifft2": "IFFT2",
    "irfft": "IRFFT",
    "isin": "IsIn",
    "istft": "ISTFT",
    "jvp": "JVP",
    "layer_normalization": "LayerNorm",
    "psnr": "PSNR",
    "rfft": "RFFT",
    "rgb_to_grayscale": "RGBToGrayscale",
    "rgb_to_hsv": "RGBToHSV",
    "rms_normalization": "RMSNorm",
    "searchsorted": "SearchSorted",
    "ssim": "SSIM",
    "stft": "STFT",
    "svd": "SVD",
    "swish": "Silu",
}
_FROM_KERAS_CLASSES = {
    class_name: name
    for name, class_name in _KERAS_CLASSES.items()
    if name not in ("hard_swish", "swish")
}
_IMAGE_CLASSES = {"HSVToRGB", "RGBToGrayscale", "RGBToHSV", "SSIM"}
# The public module each op's function sits in, as Keras names its op's module.
_PUBLIC_MODULES = ("nn", "linalg", "math", "core", "numpy")


class OperationLayer(Layer):
    """Applies `lamina.ops.<operation>(*operands, **arguments)`.

    Args:
        operation: the name of a function of `lamina.ops` ("not_equal", "sum", ...).
        arguments: keyword arguments of that function that are not tensors (`axis`), kept in
            the config as Keras keeps an op's constructor arguments.
        constants: operands after a single tensor operand (configs of earlier lamina
            versions); new graphs record every operand in the call itself.
    """

    _is_operation = True

    def __init__(
        self,
        operation: str,
        arguments: dict[str, Any] | None = None,
        constants: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("name") is None:  # a given name takes no number (Keras' auto_name)
            kwargs["name"] = unique_name(operation.rpartition(".")[2])
        super().__init__(**kwargs)
        function = _resolve(operation)
        if function is None:
            raise ValueError(
                f"OperationLayer '{self.name}': {operation!r} is not a function of lamina.ops"
            )
        self.operation = operation
        self.arguments = dict(arguments or {})
        self._function = function
        self.constants = list(constants or [])
        self.built = True

    @classmethod
    def from_keras_operation(
        cls, class_name: str, config: dict[str, Any], module: str | None = None
    ) -> OperationLayer:
        """The layer for a Keras op node of a saved graph (`NotEqual` -> `not_equal`);
        `module` (Keras' 'keras.src.ops.image') tells image ops apart."""
        name = (
            _FROM_KERAS_CLASSES.get(class_name)
            or re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", class_name).lower()
        )
        if (module or "").endswith(".image") or class_name in _IMAGE_CLASSES:
            name = f"image.{name}"
        arguments = {k: v for k, v in config.items() if k != "name"}
        return cls(name, arguments, name=config.get("name"))

    def forward(self, *operands: Any, **kwargs: Any) -> Any:
        kwargs.pop("training", None)
        if kwargs.get("mask", 0) is None:
            kwargs.pop("mask")
        if any(isinstance(leaf, KerasTensor) for leaf in flatten_structure((operands, kwargs))):
            return self._record(operands, kwargs)
        if self.constants and len(operands) == 1:
            operands = (*operands, *self.constants)
        return self._function(*operands, **self.arguments, **kwargs)

    def call(self, *operands: Any, **kwargs: Any) -> Any:
        return self.forward(*operands, **kwargs)

    def _record(self, operands: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call on symbolic tensors: output shapes and dtypes from running the op on
        `meta` tensors (unknown sizes tried at two values, as layers do), and the node."""
        leaves = [t for t in flatten_structure((operands, kwargs)) if isinstance(t, KerasTensor)]
        try:
            first = self._meta_outputs(operands, kwargs, _META_SIZES[0])
            second = self._meta_outputs(operands, kwargs, _META_SIZES[1])
        except (RuntimeError, TypeError, ValueError, IndexError) as error:
            shapes = ", ".join(str(t.shape) for t in leaves)
            raise ValueError(
                f"{self.operation} '{self.name}' cannot be applied to symbolic tensors of "
                f"shapes {shapes}: {error}"
            ) from None
        batches = {t.shape[0] for t in leaves if t.shape}
        known_batch = next(iter(batches)) if len(batches) == 1 else None
        node = Node(self, operands, kwargs)
        counter = iter(range(1 << 30))
        seconds = iter(flatten_structure(second))

        def make(output: Any) -> Any:
            other = next(seconds)
            if not isinstance(output, torch.Tensor):
                return output
            shape = tuple(
                a if a == b else None for a, b in zip(output.shape, other.shape, strict=True)
            )
            if shape and known_batch is not None and output.shape[0] == 1:
                shape = (known_batch, *shape[1:])
            elif shape and output.shape[0] == 1 and other.shape[0] == 1 and leaves:
                shape = (None, *shape[1:])  # the batch axis of an unknown batch
            return KerasTensor(
                shape=shape,
                dtype=str(output.dtype).removeprefix("torch."),
                name=tensor_name(),
                node=node,
                output_index=next(counter),
            )

        node.outputs = map_structure(make, first)
        self._inbound_nodes.append(node)
        return node.outputs

    def _meta_outputs(self, operands: Any, kwargs: Any, unknown_size: int) -> Any:
        def meta(item: Any) -> Any:
            if not isinstance(item, KerasTensor):
                return item
            shape = tuple(
                (1 if axis == 0 else unknown_size) if size is None else size
                for axis, size in enumerate(item.shape)
            )
            return torch.empty(shape, device="meta", dtype=getattr(torch, str(item.dtype)))

        with torch.no_grad(), _inferring():
            return self._function(
                *map_structure(meta, operands), **self.arguments, **map_structure(meta, kwargs)
            )

    def compute_output_shape(self, input_shape: Any) -> Any:
        def meta(shape: Any) -> Any:
            return KerasTensor(shape=shape) if is_shape(shape) else shape

        outputs = self._record((map_shapes(meta, input_shape),), {})
        self._inbound_nodes.pop()
        return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, outputs)

    @property
    def keras_class_name(self) -> str:
        """Keras' class of this op ('not_equal' -> 'NotEqual', 'svd' -> 'SVD'), as summaries
        show it."""
        name = self.operation.rpartition(".")[2]
        return _KERAS_CLASSES.get(name) or "".join(p.capitalize() for p in name.split("_"))

    def keras_entry(self) -> dict[str, Any] | None:
        """The entry Keras 3 writes for this op in a functional config (its module, class
        and constructor arguments), or None for a layer only lamina reads (`constants`)."""
        if self.constants:
            return None
        class_name = self.keras_class_name
        ops = _operations()
        module = next(
            (m for m in _PUBLIC_MODULES if self.operation in getattr(ops, m).__all__), "image"
        )
        return {
            "module": f"keras.src.ops.{module}",
            "class_name": class_name,
            "config": {"name": self.name, **self.arguments},
            "registered_name": class_name,
        }

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"operation": self.operation, "arguments": self.arguments})
        if self.constants:
            config["constants"] = self.constants
        return config


def symbolic_operation(name: str, operands: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`lamina.ops.<name>(*operands, **kwargs)` on symbolic tensors: a new graph node.

    As Keras splits an op into constructor arguments and call operands, parameters with a
    default that hold no tensor (`axis`, `keepdims`) become the node's `arguments`, written in
    its config with the defaults filled in; the other parameters are the call's operands.
    """
    function = _resolve(name)
    try:
        parameters = inspect.signature(function).parameters
        bound = inspect.signature(function).bind(*operands, **kwargs).arguments
    except (TypeError, ValueError):  # no signature to read: keep the call as it came
        constant = {k: v for k, v in kwargs.items() if not _holds_tensor(v)}
        tensors = {k: v for k, v in kwargs.items() if k not in constant}
        return OperationLayer(name, constant)(*operands, **tensors)
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    arguments: dict[str, Any] = {}
    for key, parameter in parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            positional.extend(bound.get(key, ()))
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            for k, v in bound.get(key, {}).items():
                (keywords if _holds_tensor(v) else arguments)[k] = v
        elif (
            parameter.default is not inspect.Parameter.empty
            or key in _REQUIRED_ARGUMENTS.get(name, ())
        ) and not _holds_tensor(bound.get(key)):
            arguments[key] = bound.get(key, parameter.default)
        elif key in bound:
            # an operand: positional while nothing before it went to the arguments
            if arguments or keywords or parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                keywords[key] = bound[key]
            else:
                positional.append(bound[key])
    return OperationLayer(name, arguments)(*positional, **keywords)


# Required parameters that Keras' op takes in its constructor (written in its config), not
# in the call: ExpandDims(axis).
_REQUIRED_ARGUMENTS = {"expand_dims": ("axis",)}


def _holds_tensor(value: Any) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in flatten_structure(value))
