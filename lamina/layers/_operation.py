"""A node of a functional graph that applies one of `lamina.ops`: what Keras 3 records when
an op is called on symbolic tensors (`keras.ops.not_equal(ids, 0)` in a functional model,
or the padding mask Keras writes into a saved graph for `Embedding(mask_zero=True)`).

Only functions listed in `lamina.ops.__all__` can be named, so a config cannot reach
anything else.

>>> import torch
>>> layer = OperationLayer("not_equal")
>>> layer(torch.tensor([[3, 0]]), 0).tolist()
[[True, False]]
>>> OperationLayer.from_keras_operation("Sum", {"name": "sum", "axis": 1}).arguments
{'axis': 1}
"""

from __future__ import annotations

import re
from typing import Any

import torch

from ._symbolic import KerasTensor
from .layer import Layer

__all__ = ["OperationLayer"]


def _operations() -> Any:
    from .. import ops

    return ops


class OperationLayer(Layer):
    """Applies `lamina.ops.<operation>(*inputs, **arguments)`.

    Args:
        operation: the name of a function of `lamina.ops` ("not_equal", "sum", ...).
        arguments: keyword arguments of that function that are not tensors (`axis`).
        constants: operands after the tensor (`0` in `not_equal(ids, 0)`), also taken from
            the layer's first call.
    """

    def __init__(
        self,
        operation: str,
        arguments: dict[str, Any] | None = None,
        constants: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        ops = _operations()
        if operation not in getattr(ops, "__all__", ()):
            raise ValueError(
                f"OperationLayer '{self.name}': {operation!r} is not a function of lamina.ops"
            )
        self.operation = operation
        self.arguments = dict(arguments or {})
        self._function = getattr(ops, operation)
        self.constants = list(constants or [])
        self.built = True

    @classmethod
    def from_keras_operation(cls, class_name: str, config: dict[str, Any]) -> OperationLayer:
        """The layer for a Keras op node of a saved graph (`NotEqual` -> `not_equal`)."""
        name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", class_name).lower()
        arguments = {k: v for k, v in config.items() if k != "name"}
        return cls(name, arguments, name=config.get("name"))

    def forward(self, inputs: Any, *constants: Any, **kwargs: Any) -> Any:
        # Operands after the first are constants (not_equal's 0): bound to the layer by its
        # first call, as the graph records the tensor operand only, and kept in its config.
        if any(isinstance(c, (torch.Tensor, KerasTensor)) for c in constants):
            raise ValueError(
                f"OperationLayer '{self.name}' ({self.operation}) takes one tensor operand "
                "followed by constants; got a tensor among the later operands"
            )
        kwargs.pop("training", None)
        if constants:
            self.constants = list(constants)
        if kwargs:
            self.arguments.update(kwargs)
        return super().forward(inputs)

    def call(self, inputs: Any) -> Any:
        return self._function(inputs, *self.constants, **self.arguments)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"operation": self.operation, "arguments": self.arguments, "constants": self.constants}
        )
        return config
