"""Symbolic tensors: a shape and dtype with the layer call that produced them.

`Input` returns one; calling a layer on one infers the output shape on the `meta` device and
returns a new one that remembers the call, which is the graph `Model(inputs, outputs)` reads.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_NODE_IDS = itertools.count()


@dataclass(eq=False)
class Node:
    """One call of a layer on symbolic tensors: the edges of a functional graph.

    `call_args` / `call_kwargs` are what the layer was called with (KerasTensors inside any
    nesting), `outputs` the structure of KerasTensors it returned. An `Input` is a node whose
    layer is the InputLayer and whose call_args are empty.
    """

    layer: Any
    call_args: tuple[Any, ...] = ()
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    # Creation order: ties between nodes of equal depth are ordered by it, as Keras does.
    serial: int = field(default_factory=lambda: next(_NODE_IDS))

    @property
    def input_tensors(self) -> list[KerasTensor]:
        """The KerasTensors this call read, in order."""
        leaves = flatten_structure((self.call_args, self.call_kwargs))
        return [leaf for leaf in leaves if isinstance(leaf, KerasTensor)]

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return [leaf for leaf in flatten_structure(self.outputs) if isinstance(leaf, KerasTensor)]


@dataclass(eq=False)
class KerasTensor:
    """A placeholder for a batch of data: `shape` has None for the batch (or unknown) axes.

    >>> from lamina.layers import Input
    >>> Input((28, 28, 1)).shape
    (None, 28, 28, 1)
    """

    shape: tuple[int | None, ...]
    dtype: str = "float32"
    name: str | None = None
    # The call that produced this tensor and which of its outputs this is; the functional graph
    # walks these back from the outputs to the inputs.
    node: Node | None = None
    output_index: int = 0

    @property
    def layer(self) -> Any:
        """The layer whose call produced this tensor (the InputLayer for an Input)."""
        return None if self.node is None else self.node.layer

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, ragged=False, "
            f"name={self.name}>"
        )

    # Python operators record an op node, as in Keras 3 (`x + 1.0`, `x[:, 0]`, `-x`).
    def __bool__(self) -> bool:
        raise TypeError(
            f"A symbolic tensor ({self.name}, shape {self.shape}) has no truth value: it holds "
            "no data until the model runs. Use lamina.ops (ops.where, ops.cond) in the graph."
        )

    def __add__(self, other: Any) -> Any:
        return _operation("add", self, other)

    def __radd__(self, other: Any) -> Any:
        return _operation("add", other, self)

    def __sub__(self, other: Any) -> Any:
        return _operation("subtract", self, other)

    def __rsub__(self, other: Any) -> Any:
        return _operation("subtract", other, self)

    def __mul__(self, other: Any) -> Any:
        return _operation("multiply", self, other)

    def __rmul__(self, other: Any) -> Any:
        return _operation("multiply", other, self)

    def __matmul__(self, other: Any) -> Any:
        return _operation("matmul", self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _operation("matmul", other, self)

    def __truediv__(self, other: Any) -> Any:
        return _operation("true_divide", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _operation("true_divide", other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _operation("floor_divide", self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _operation("floor_divide", other, self)

    def __mod__(self, other: Any) -> Any:
        return _operation("mod", self, other)

    def __rmod__(self, other: Any) -> Any:
        return _operation("mod", other, self)

    def __pow__(self, other: Any) -> Any:
        return _operation("power", self, other)

    def __rpow__(self, other: Any) -> Any:
        return _operation("power", other, self)

    def __neg__(self) -> Any:
        return _operation("negative", self)

    def __abs__(self) -> Any:
        return _operation("absolute", self)

    def __lt__(self, other: Any) -> Any:
        return _operation("less", self, other)

    def __le__(self, other: Any) -> Any:
        return _operation("less_equal", self, other)

    def __gt__(self, other: Any) -> Any:
        return _operation("greater", self, other)

    def __ge__(self, other: Any) -> Any:
        return _operation("greater_equal", self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _operation("not_equal", self, other)

    def __and__(self, other: Any) -> Any:
        return _operation("logical_and", self, other)

    def __rand__(self, other: Any) -> Any:
        return _operation("logical_and", other, self)

    def __or__(self, other: Any) -> Any:
        return _operation("logical_or", self, other)

    def __ror__(self, other: Any) -> Any:
        return _operation("logical_or", other, self)

    def __xor__(self, other: Any) -> Any:
        return _operation("logical_xor", self, other)

    def __rxor__(self, other: Any) -> Any:
        return _operation("logical_xor", other, self)

    def __invert__(self) -> Any:
        return _operation("logical_not", self)

    def __getitem__(self, key: Any) -> Any:
        # Recorded as a list, which Keras writes and reads for an index (get_item reads it)
        return _operation("get_item", self, list(key) if isinstance(key, tuple) else key)

    def __round__(self, ndigits: int | None = None) -> Any:
        return _operation("round", self, decimals=ndigits or 0)


def _operation(name: str, *operands: Any, **arguments: Any) -> Any:
    from ._operation import symbolic_operation

    return symbolic_operation(name, operands, arguments)


def flatten_structure(structure: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts, in order (dicts by sorted key)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten_structure(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten_structure(structure[key])]
    return [structure]


def map_structure(fn: Any, structure: Any) -> Any:
    """Apply `fn` to every leaf of nested lists, tuples and dicts, keeping the nesting."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    return fn(structure)


def is_shape(value: Any) -> bool:
    """True for a tuple of ints and Nones (a shape), which shape structures treat as a leaf."""
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


def map_shapes(fn: Any, structure: Any) -> Any:
    """Like `map_structure`, with shape tuples as leaves."""
    if is_shape(structure) or structure is None:
        return fn(structure)
    if isinstance(structure, list):
        return [map_shapes(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_shapes(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_shapes(fn, value) for key, value in structure.items()}
    return fn(structure)


def shape_structure(structure: Any) -> Any:
    """`compute_output_shape`'s value with each flat list of sizes (Keras' Conv*Transpose,
    UpSampling1D and a user's layer may return `[None, 12, 4]`) made a shape tuple, as
    Keras' `compute_output_spec` reads it."""
    if (
        isinstance(structure, list)
        and structure
        and all(d is None or isinstance(d, int) for d in structure)
    ):
        return tuple(structure)
    if isinstance(structure, (list, tuple)) and not is_shape(structure):
        return type(structure)(shape_structure(item) for item in structure)
    if isinstance(structure, dict):
        return {key: shape_structure(value) for key, value in structure.items()}
    return structure
