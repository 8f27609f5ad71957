"""Sequential: a plain stack of layers, built from a list or with `.add`.

>>> from lamina.models import Sequential
>>> from lamina.layers import Dense, Input
>>> model = Sequential([Input((100,)), Dense(64, activation="relu"), Dense(10)])
>>> model.count_params()
7114
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..layers import _masking
from ..layers._name_scope import open_name_scope
from ..layers._naming import deferred_tensor_names, tensor_name, unique_name
from ..layers._symbolic import KerasTensor, Node, flatten_structure, map_structure
from ..layers.core import InputLayer
from ..layers.layer import Layer, Shape
from . import _fusion
from ._graph_tables import adjust_input_rank
from .model import Model

__all__ = ["Sequential"]


class _PopError(ValueError, IndexError):
    """`pop()` on an empty Sequential: an IndexError as in Keras (a list's pop), and a
    ValueError as lamina raised before."""


class Sequential(Model):
    """A model that applies its layers one after the other.

    Its state_dict keys are the layers' positions ('0.weight', '2.bias'), as torch.nn.Sequential.

    Args:
        layers: the layers, in order; the first may be an `Input(shape)` or declare
            `input_shape=`.
        trainable: whether the weights train.
        name: the model's name.
    """

    def __init__(
        self, layers: list[Any] | None = None, trainable: bool = True, name: str | None = None
    ) -> None:
        super().__init__(trainable=trainable, name=name)
        self._input_layer: InputLayer | None = None
        self._stack: list[Layer] = []
        self._nodes: list[Node] = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._note_rebuild()

    # ------------------------------------------------------------------ structure

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def input_shape(self) -> Shape:
        if self._input_layer is None:  # as Keras: no such attribute before the model is built
            raise AttributeError("'Sequential' object has no attribute 'input_shape'")
        return self._input_layer.batch_shape

    @property
    def output_shape(self) -> Any:
        if not self._nodes:
            raise AttributeError("'Sequential' object has no attribute 'output_shape'")
        return self._output_shapes[-1]

    def _note_rebuild(self) -> None:
        """Keras builds a Sequential with an input as a new Functional each time a layer is
        added (or popped) or it is built: its layers' calls make new symbolic tensors, and the
        Functional takes the next automatic 'functional' name. lamina names its tensors and
        takes the name then too, so that later tensors and models are named as in Keras."""
        if self._input_layer is not None and self._stack:
            for node in self._nodes:
                for tensor in node.output_tensors:
                    tensor.name = tensor_name()
            unique_name("functional")

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or set the input with an `Input(shape)` / `InputLayer`).

        lamina always connects a layer at once when the input shape is known; `rebuild`, Keras'
        argument, only counts the rebuild as Keras does (see `_note_rebuild`).
        """
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.layer, InputLayer):
                raise ValueError(
                    "Sequential.add takes layers or an Input(shape); got a symbolic tensor "
                    f"produced by layer '{layer.name}'. Use the functional API for graphs."
                )
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    f"Sequential '{self.name}': an Input/InputLayer can only come first"
                )
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model "
                f"'{self.name}'. Received: {layer!r} (of type {type(layer)}). Wrap a torch "
                "module in lamina.layers.TorchModuleWrapper(module)."
            )
        if any(existing.name == layer.name for existing in self._stack) or layer is self:
            raise ValueError(
                f"Sequential '{self.name}' already has a layer named '{layer.name}'; layer "
                "names must be unique within a model"
            )
        if not self._stack and self._input_layer is None and layer._declared_input_shape:
            self._input_layer = InputLayer(batch_shape=layer._declared_input_shape)
        self._stack.append(layer)
        self.add_module(str(len(self._stack) - 1), layer)
        if self._input_layer is not None:
            try:
                self._connect(layer)
            except (ValueError, TypeError):
                self._stack.pop()
                delattr(self, str(len(self._stack)))
                raise
        if rebuild:
            self._note_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer (`rebuild` as in `add`)."""
        if not self._stack:
            raise _PopError(f"Sequential '{self.name}' has no layers to pop")
        layer = self._stack.pop()
        delattr(self, str(len(self._stack)))
        if len(self._nodes) > len(self._stack):
            node = self._nodes.pop()
            if node in layer._inbound_nodes:
                layer._inbound_nodes.remove(node)
        if rebuild:
            self._note_rebuild()
        return layer

    @property
    def _output_shapes(self) -> list[Any]:
        return [_shape_of(node.outputs) for node in self._nodes]

    def _connect(self, layer: Layer) -> None:
        """Call `layer` on the previous symbolic output: builds it and records its node."""
        if self._input_layer is None:
            raise ValueError(f"Sequential '{self.name}' has no input yet")
        # The layer's own error names it, its input shape and the layer that produced it.
        previous = self._nodes[-1].outputs if self._nodes else self._input_layer.output
        with open_name_scope(self), deferred_tensor_names():  # Keras' 'sequential/dense/kernel'
            outputs = layer(previous)
        node = flatten_structure(outputs)[0].node
        self._nodes.append(node)
        self.built = True
        self._build_input_shape = self._input_layer.batch_shape

    def build(self, input_shape: Shape | None = None) -> None:
        """Build every layer for inputs of `input_shape` (batch axis included, may be None)."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError(
                    f"Sequential '{self.name}' has no input shape: pass build(input_shape), "
                    "start with Input(shape), or give the first layer input_shape="
                )
            if len(input_shape) == 1 and isinstance(input_shape[0], (list, tuple)):
                input_shape = input_shape[0]  # [shape] of a one-element input list
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))  # batch kept
        connected = len(self._nodes)
        for layer in self._stack[len(self._nodes) :]:
            self._connect(layer)
        self.built = True
        if len(self._nodes) > connected:  # a model built before is not built anew
            self._note_rebuild()

    @property
    def inputs(self) -> list[Any]:
        return [] if self._input_layer is None else [self._input_layer.output]

    @property
    def outputs(self) -> list[Any]:
        return flatten_structure(self._nodes[-1].outputs) if self._nodes else []

    @property
    def input(self) -> Any:
        """The symbolic input (Keras' `model.input`), for feature-extraction models. Once the
        model is called on a symbolic tensor (nested in another model), its first call's
        input, as Keras (`inputs` stays the model's own)."""
        if self.__dict__.get("_inbound_nodes"):
            return super().input
        if self._input_layer is None:
            raise AttributeError(f"Sequential '{self.name}' has no input shape yet")
        return self._input_layer.output

    @property
    def output(self) -> Any:
        """The symbolic output of the last layer (Keras' `model.output`); once the model is
        called on a symbolic tensor, its first call's output, as Keras."""
        if self.__dict__.get("_inbound_nodes"):
            return super().output
        if not self._nodes:
            raise AttributeError(f"Sequential '{self.name}' is not built yet")
        return self._nodes[-1].outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not self.built:
            self.build(input_shape)
        return super(Model, self).compute_output_shape(input_shape)

    # ------------------------------------------------------------------ computation

    def _standardize(self, inputs: Any) -> Any:
        """As Keras once the input shape is known: one tensor, whose rank is made the
        Input's (a last axis of size 1 added or removed), else a clear error."""
        reference = self._input_layer
        if reference is None:
            return inputs
        if isinstance(inputs, torch.Tensor):
            if inputs.dim() != len(reference.batch_shape):
                inputs = adjust_input_rank(self.name, reference.output, inputs)
            return inputs
        if isinstance(inputs, dict) or (
            isinstance(inputs, (list, tuple))
            and all(isinstance(v, (torch.Tensor, np.ndarray)) for v in inputs)
        ):  # several arrays (a list of strings is one text input)
            received = map_structure(
                lambda x: f"Tensor(shape={tuple(x.shape)})" if hasattr(x, "shape") else x, inputs
            )
            raise ValueError(
                f"Sequential '{self.name}': the structure of `inputs` doesn't match the "
                f"expected structure. Expected: one tensor of shape {reference.batch_shape}. "
                f"Received: inputs={received}"
            )
        return inputs

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        inputs = self._standardize(inputs)
        _masking.attach_call_mask(inputs, mask)
        return _run_stack(self._stack, inputs, training)

    @property
    def output_activation(self) -> str | None:
        if not self._stack:
            return None
        return getattr(self._stack[-1], "output_activation", None)

    def call_with_logits(self, x: Any, training: bool | None = None) -> tuple[Any, Any]:
        """Predictions and the logits before the last layer's softmax/sigmoid."""
        x = _run_stack(self._stack[:-1], self._standardize(x), training)
        last = self._stack[-1]
        logits = last.call_pre_activation(last._prepare_inputs(x))
        return last.activation(logits), logits

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], (list, tuple)) and len(args[0]) == 1:
            args = (args[0][0], *args[1:])  # [x] for the one input, as Keras accepts
        if not self.built and args and isinstance(args[0], torch.Tensor):
            self.build(tuple(args[0].shape))  # as Keras: the batch size of the first call
        return super().forward(*args, **kwargs)

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict[str, Any]:
        from ..dtype_policies import serialize as serialize_policy
        from ..saving.registry import serialize_layer

        layers = []
        if self._input_layer is not None:
            layers.append(_serialize_layer(self._input_layer))
        layers.extend(serialize_layer(layer) for layer in self._stack)  # with build_config
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialize_policy(self.dtype_policy),
            "layers": layers,
        }
        if self._input_layer is not None:  # Keras: the batch shape of a model with an input
            config["build_input_shape"] = tuple(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        # Keras' Sequential.from_config leaves out the model's own "trainable": the layers
        # keep theirs, and the model is trainable (its trainable_weights are theirs).
        model = cls(name=config.get("name"))
        for entry in config["layers"]:
            layer = _deserialize_layer(entry)
            # Built from its build_config before it joins the model, as Keras' deserialization
            # does: its weights' paths are then 'dense/kernel', not under the model's name.
            if isinstance(entry.get("build_config"), dict):
                layer.build_from_config(entry["build_config"])
            model.add(layer)
        shape = config.get("build_input_shape")  # Keras writes it for a model built on data
        if not model.built and isinstance(shape, (list, tuple)) and model._stack:
            model.build(tuple(shape))
        return model


def _shape_of(outputs: Any) -> Any:
    shapes = map_structure(lambda t: t.shape, outputs)
    return shapes


def _serialize_layer(layer: Layer) -> dict[str, Any]:
    from .. import layers as layers_module
    from .. import models as models_module

    if layer._is_operation and (keras_entry := layer.keras_entry()) is not None:
        return keras_entry
    cls = type(layer)
    module = models_module if isinstance(layer, Model) else layers_module
    entry = {
        "module": _KERAS_MODULES.get(cls.__name__, "keras.layers"),
        "class_name": cls.__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }
    if getattr(module, cls.__name__, None) is not cls:
        from ..saving.registry import get_registered_name

        # lamina's own classes name lamina's module; a user's class its own, None for
        # __main__ (Keras' `record_object_after_serialization`).
        own = cls.__module__.startswith("lamina.")
        entry["module"] = module.__name__ if own else _user_module(cls)
        entry["registered_name"] = get_registered_name(layer)
    elif cls.__name__ == "Functional":
        entry["registered_name"] = "Functional"  # as Keras writes it
    return entry


def _user_module(cls: type) -> str | None:
    return None if cls.__module__ == "__main__" else cls.__module__


# The module Keras 3 writes for each class, so Keras reads lamina's configs (lamina resolves
# classes by name and ignores it); lamina's own classes keep theirs.
_KERAS_MODULES = {
    "Sequential": "keras",
    "Functional": "keras.src.models.functional",
    "GradientReversal": "lamina.layers",
    "RandomShift": "lamina.layers",
    "OperationLayer": "lamina.layers",
}


def _deserialize_layer(entry: dict[str, Any]) -> Layer:
    """Rebuild a layer or model from its config. Classes are resolved only among lamina's
    layers and models, the registered classes and the `custom_objects` in scope."""
    from .. import layers as layers_module
    from .. import models as models_module
    from ..layers._operation import OperationLayer
    from ..saving.registry import UnknownObjectError, get_registered_object

    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(
            f"A layer entry in a model config must be a dict with a 'config'; got {entry!r}"
        )
    class_name = str(entry.get("class_name"))
    if str(entry.get("module") or "").startswith(("keras.src.ops.", "keras.ops")):
        # an op Keras recorded in a functional graph: one of lamina.ops, by name
        return OperationLayer.from_keras_operation(class_name, entry["config"], entry["module"])
    if class_name == "OperationLayer":
        return OperationLayer.from_config(entry["config"])
    registered = entry.get("registered_name")
    cls = None
    if registered is not None:
        cls = get_registered_object(registered)
    if cls is None and not class_name.startswith("_"):
        cls = getattr(layers_module, class_name, None) or getattr(models_module, class_name, None)
    if cls is None:
        cls = get_registered_object(class_name)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise UnknownObjectError(
            f"Unknown layer class {class_name!r} in a model config; only lamina.layers and "
            "lamina.models classes, classes registered with "
            "lamina.saving.register_serializable and custom_objects are resolved"
        )
    return cls.from_config(entry["config"])


def _run_stack(stack: list[Layer], x: Any, training: bool | None) -> Any:
    """The layers in order; an activation followed by max pooling runs after it, a ReLU after
    a batch norm in place (exact; see _fusion)."""
    index = 0
    producer = None  # the layer that made x, when x is no input of the stack
    while index < len(stack):
        layer = stack[index]
        if index + 1 < len(stack):
            deferred = _fusion.deferred_activation(layer, stack[index + 1])
            if deferred is not None:
                x = _fusion.run_producer(layer, deferred, x)
                kwargs = {"training": training}
                x = _fusion.run_pooling(stack[index + 1], layer, deferred, x, kwargs)
                index += 2
                producer = None
                continue
        result = None
        # A ReLU after a batch norm, in place (an Add in a stack has one input: never).
        if producer is not None and _fusion.relu_in_place_after(producer, layer, 1):
            result = _fusion.in_place_relu(producer, layer, x)
        x = layer(x, training=training) if result is None else result
        producer = layer
        index += 1
    return x
