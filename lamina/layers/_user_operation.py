"""Keras' public `Operation` (a user's op: `call` plus, optionally, `compute_output_spec`) and
`Function` (a graph from symbolic inputs to outputs that is not a model).

An `Operation` called on tensors runs `call`; called on symbolic tensors it records a node
of the functional graph, which runs in the model and shows in `summary()` and
`model.operations` but not in `model.layers`, as in Keras. Every lamina layer counts as an
`Operation` (`isinstance(layer, lamina.Operation)`), as Keras' layers are operations.

>>> import lamina
>>> class ScaleShift(lamina.Operation):
...     def __init__(self, scale, name=None):
...         super().__init__(name=name)
...         self.scale = scale
...     def call(self, x, y):
...         return x * self.scale + y
>>> a, b = lamina.Input((3,)), lamina.Input((3,))
>>> out = ScaleShift(2.0)(a, b)
>>> out.shape
(None, 3)
>>> fn = lamina.Function([a, b], out)
>>> import torch
>>> fn([torch.ones(1, 3), torch.zeros(1, 3)]).tolist()
[[2.0, 2.0, 2.0]]
"""

from __future__ import annotations

from typing import Any

from ._naming import tensor_name, to_snake_case, unique_name
from ._operation import OperationLayer
from ._shape_inference import auto_arguments
from ._symbolic import KerasTensor, Node, flatten_structure, map_shapes, map_structure
from .layer import Layer

__all__ = ["Function", "Operation"]


class _OperationMeta(type):
    """Layers are operations too, as in Keras: `isinstance(Dense(1), Operation)`."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Operation:
            return isinstance(instance, Layer)
        return super().__instancecheck__(instance)

    def __subclasscheck__(cls, subclass: Any) -> bool:
        if cls is Operation:
            return isinstance(subclass, type) and issubclass(subclass, Layer)
        return super().__subclasscheck__(subclass)


class Operation(OperationLayer, metaclass=_OperationMeta):
    """The base of a user's op: override `call(*args, **kwargs)` and, where running `call`
    on shape-only tensors cannot give the output, `compute_output_spec` (returning
    `KerasTensor`s of the outputs' shapes and dtypes).

    Args:
        name: the op's name (no '/'); by default the class name in snake case, numbered.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        Layer.__init__(self, name=name or unique_name(to_snake_case(type(self).__name__)))
        self.operation = type(self).__name__
        self.arguments: dict[str, Any] = {}
        self.constants: list[Any] = []
        self.built = True

    @property
    def _function(self) -> Any:
        return self.call

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def forward(self, *operands: Any, **kwargs: Any) -> Any:
        if "training" not in self._call_parameters:
            kwargs.pop("training", None)
        if kwargs.get("mask", 0) is None and "mask" not in self._call_parameters:
            kwargs.pop("mask")
        if any(isinstance(leaf, KerasTensor) for leaf in flatten_structure((operands, kwargs))):
            return self._record(operands, kwargs)
        return self.call(*operands, **kwargs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """The outputs' `KerasTensor`s for these (symbolic) arguments: by default from
        running `call` on shape-only (meta) tensors."""
        outputs = OperationLayer._record(self, args, kwargs)
        self._inbound_nodes.pop()
        return map_structure(
            lambda t: (
                KerasTensor(shape=t.shape, dtype=t.dtype) if isinstance(t, KerasTensor) else t
            ),
            outputs,
        )

    def _record(self, operands: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if type(self).compute_output_spec is Operation.compute_output_spec:
            return super()._record(operands, kwargs)
        try:
            spec = self.compute_output_spec(*operands, **kwargs)
        except (RuntimeError, TypeError, ValueError, IndexError) as error:
            shapes = ", ".join(
                str(t.shape) for t in flatten_structure(operands) if isinstance(t, KerasTensor)
            )
            raise ValueError(
                f"{type(self).__name__} '{self.name}': compute_output_spec failed for "
                f"inputs of shapes {shapes}: {error}"
            ) from None
        node = Node(self, operands, kwargs)
        counter = iter(range(1 << 30))

        def make(t: Any) -> Any:
            if not isinstance(t, KerasTensor):
                return t
            return KerasTensor(
                shape=tuple(t.shape),
                dtype=str(t.dtype).removeprefix("torch."),
                name=tensor_name(),
                node=node,
                output_index=next(counter),
            )

        node.outputs = map_structure(make, spec)
        self._inbound_nodes.append(node)
        return node.outputs

    @property
    def keras_class_name(self) -> str:
        return type(self).__name__

    def keras_entry(self) -> None:
        return None  # saved as a user's layer (its class, registered), not as a Keras op

    def get_config(self) -> dict[str, Any]:
        """`name` and the JSON-able constructor arguments (Keras' automatic config)."""
        config: dict[str, Any] = {"name": self.name}
        config.update(auto_arguments(self, self.__dict__.get("_init_arguments")) or {})
        return config


class Function:
    """A graph from symbolic inputs to outputs, callable on tensors (Keras' `Function`):
    the graph of a functional model without the model (no weights API, compile or fit).

    Args:
        inputs: the `Input` tensors (one, a list or a dict).
        outputs: tensors computed from them (one, a list or a dict).
        name: the function's name.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        from ..models import Model

        self.name = name or unique_name("function")
        self._model = Model(inputs, outputs, name=self.name)

    @property
    def inputs(self) -> list[Any]:
        return list(self._model.inputs)

    @property
    def outputs(self) -> list[Any]:
        return list(self._model.outputs)

    @property
    def operations(self) -> list[Any]:
        """The input layers, layers and ops of the graph, in graph order."""
        return self._model.operations

    def __call__(self, inputs: Any) -> Any:
        return self._model(inputs)

    def call(self, inputs: Any) -> Any:
        return self._model(inputs)

    def compute_output_spec(self, inputs: Any) -> Any:
        """The outputs' `KerasTensor`s for inputs of these shapes (a structure like
        `inputs`, of `KerasTensor`s or tensors)."""
        shapes = map_structure(lambda t: tuple(t.shape), inputs)
        out = self._model.compute_output_shape(shapes)
        return map_shapes(lambda s: KerasTensor(shape=tuple(s)), out)

    def __repr__(self) -> str:
        return f"<Function name={self.name}>"
