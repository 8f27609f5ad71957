"""Keras' `Variable` API on the weight tensors: `assign`, `assign_add`, `assign_sub`, `value`,
`numpy()`, `name`, `path`, `trainable`.

A layer's weights stay torch tensors in PyTorch's layout (a trainable one is an
`nn.Parameter`, a non-trainable one a buffer), so torch code, optimizers, `torch.compile` and
state_dicts see what they always see; these subclasses only add Keras' methods. Like
`get_weights()`, the Keras-facing values are in Keras' layout: `numpy()` returns a Dense kernel
as (in, out), and `assign` takes NumPy values in that layout (tensors of the weight's own
shape are taken as they are).

>>> v = Variable(1.0, name="total")
>>> v.assign_add(2.0).numpy()
array(3., dtype=float32)
>>> v.name, v.path
('total', 'total')
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ._name_scope import join_path
from ._naming import unique_name

__all__ = [
    "BufferVariable",
    "KerasLayout",
    "TrainableVariable",
    "Variable",
    "as_variable",
    "discarding_updates",
    "set_distribution_options",
]

# Set while lamina runs a model for its own purposes (building a subclassed model, probing
# the targets' shapes): variable assignments are dropped then, as Keras runs such passes
# statelessly, so a layer's counters see the user's calls only.
_DISCARDING = [False]


@contextlib.contextmanager
def discarding_updates() -> Iterator[None]:
    """Within: `assign`, `assign_add` and `assign_sub` of every variable do nothing."""
    previous = _DISCARDING[0]
    _DISCARDING[0] = True
    try:
        yield
    finally:
        _DISCARDING[0] = previous


class KerasLayout:
    """How a weight in PyTorch's layout looks from Keras: here a permutation of its axes
    (`keras_axes`; None: the same layout). Subclasses (`_WeightInfo` and its layouts for
    depthwise and recurrent kernels) convert otherwise; `numpy`, `assign`, `get_weights`,
    regularizers and constraints all convert through these three methods.

    >>> KerasLayout((1, 0)).keras_shape((3, 2))
    (2, 3)
    """

    keras_axes: tuple[int, ...] | None

    def __init__(self, keras_axes: tuple[int, ...] | None = None) -> None:
        self.keras_axes = keras_axes

    def to_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor if self.keras_axes is None else tensor.permute(*self.keras_axes)

    def from_keras(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.keras_axes is None:
            return tensor
        inverse = [0] * len(self.keras_axes)
        for position, axis in enumerate(self.keras_axes):
            inverse[axis] = position
        return tensor.permute(*inverse)

    def keras_shape(self, torch_shape: Sequence[int]) -> tuple[int, ...]:
        if self.keras_axes is None:
            return tuple(torch_shape)
        return tuple(torch_shape[axis] for axis in self.keras_axes)


class Variable:
    """A Keras variable: `Variable(initializer, shape=None, dtype=None, trainable=True,
    autocast=True, aggregation="none", synchronization="auto", name=None)`.

    `initializer` is a value (number, array, tensor) or an initializer (name, object or
    callable of `(shape, dtype)`, which then needs `shape`). A trainable variable is an
    `nn.Parameter` (a module attribute registers it), a non-trainable one a plain tensor.
    `isinstance(weight, Variable)` holds for every weight a layer creates.
    """

    _keras_axes: tuple[int, ...] | None = None
    _keras_layout: KerasLayout | None = None  # set by `_WeightInfo.attach`: a layer's weight
    _keras_name: str | None = None
    _keras_path: str | None = None
    _keras_aggregation: str = "none"
    _keras_synchronization: str = "auto"

    def __new__(  # type: ignore[misc]
        cls,
        initializer: Any = None,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
    ) -> Any:
        value = _initial_value(initializer, shape, dtype)
        variable = as_variable(value, trainable)
        variable._keras_name = name or unique_name("variable")
        variable._keras_path = join_path(variable._keras_name)
        set_distribution_options(variable, aggregation, synchronization)
        return variable

    @property
    def name(self) -> str | None:  # type: ignore[override]
        """The Keras name ('kernel')."""
        return self._keras_name

    @property
    def path(self) -> str | None:
        """'layer_name/variable_name', as Keras."""
        return self._keras_path

    @property
    def aggregation(self) -> str:
        """How a distributed variable is aggregated ('none', 'mean', 'sum', ...), as given."""
        return self._keras_aggregation

    @property
    def synchronization(self) -> str:
        return self._keras_synchronization

    @property
    def value(self) -> torch.Tensor:
        """The tensor itself (Keras' backend value)."""
        return self  # type: ignore[return-value]

    @property
    def trainable(self) -> bool:
        return bool(self.requires_grad)  # type: ignore[attr-defined]

    def _keras_layout_of(self) -> KerasLayout:
        """The conversion to and from Keras' layout: the layer's for its weights, else the
        permutation `_keras_axes` (an optimizer's slots copy it from their weight)."""
        layout = self._keras_layout
        return KerasLayout(self._keras_axes) if layout is None else layout

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy copy in Keras' layout (detached, on the CPU)."""
        tensor = self._keras_layout_of().to_keras(torch.Tensor.detach(self))  # type: ignore[arg-type]
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        return tensor.cpu().numpy().copy()

    def _in_torch_layout(self, value: Any) -> torch.Tensor:
        own = tuple(self.shape)  # type: ignore[attr-defined]
        from_numpy = not isinstance(value, torch.Tensor)
        value = torch.as_tensor(np.asarray(value) if from_numpy else value)
        layout = self._keras_layout_of()
        keras_shape = layout.keras_shape(own)
        if tuple(value.shape) == keras_shape and (from_numpy or keras_shape != own):
            value = layout.from_keras(value)
        if value.shape != own and value.numel() != 1:
            raise ValueError(
                f"Variable {self.path!r} has shape {own} (PyTorch layout; {keras_shape} in "
                f"Keras' layout); cannot assign a value of shape {tuple(value.shape)}"
            )
        return value.to(dtype=self.dtype, device=self.device)  # type: ignore[attr-defined]

    def assign(self, value: Any) -> Any:
        """Set the value in place (no gradient); returns the variable."""
        if _DISCARDING[0]:
            return self
        with torch.no_grad():
            torch.Tensor.copy_(self, self._in_torch_layout(value))  # type: ignore[arg-type]
        return self

    def assign_add(self, delta: Any) -> Any:
        if _DISCARDING[0]:
            return self
        with torch.no_grad():
            torch.Tensor.add_(self, self._in_torch_layout(delta))  # type: ignore[arg-type]
        return self

    def assign_sub(self, delta: Any) -> Any:
        if _DISCARDING[0]:
            return self
        with torch.no_grad():
            torch.Tensor.sub_(self, self._in_torch_layout(delta))  # type: ignore[arg-type]
        return self

    def _copy_keras_attributes(self, other: Any, memo: dict[int, Any] | None = None) -> Any:
        for key, value in self.__dict__.items():
            other.__dict__[key] = value if memo is None else copy.deepcopy(value, memo)
        return other


_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


def set_distribution_options(variable: Any, aggregation: Any, synchronization: Any) -> None:
    """Record Keras' `aggregation` and `synchronization` on `variable`, checked as Keras
    checks them (None stands for 'none')."""
    if aggregation not in _AGGREGATIONS:
        raise ValueError(
            "Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
            f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}"
        )
    if synchronization not in _SYNCHRONIZATIONS:
        raise ValueError(
            "Invalid value for argument `synchronization`. Expected one of `None`, `'none'`, "
            f"`'on_read'`, `'on_write'`, `'auto'`. Received: synchronization={synchronization}"
        )
    variable._keras_aggregation = aggregation or "none"
    variable._keras_synchronization = synchronization or "none"


class TrainableVariable(Variable, torch.nn.Parameter):
    """A trainable weight: an `nn.Parameter` with Keras' variable API."""

    def __new__(cls, data: torch.Tensor | None = None, requires_grad: bool = True) -> Any:
        return torch.nn.Parameter.__new__(cls, data, requires_grad)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        if id(self) in memo:
            return memo[id(self)]
        result = TrainableVariable(self.data.clone(memory_format=torch.preserve_format))
        result.requires_grad_(self.requires_grad)
        memo[id(self)] = result
        return self._copy_keras_attributes(result, memo)

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={tuple(self.shape)}>\n{self.data!r}"


class BufferVariable(Variable, torch.Tensor):
    """A non-trainable weight (a module buffer) with Keras' variable API."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data: torch.Tensor) -> Any:
        return torch.Tensor._make_subclass(cls, data, False)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        if id(self) in memo:
            return memo[id(self)]
        result = BufferVariable(torch.Tensor.clone(self))
        memo[id(self)] = result
        return self._copy_keras_attributes(result, memo)

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_buffer, (torch.Tensor.detach(self).clone(), dict(self.__dict__)))

    def __repr__(self) -> str:
        value = self.as_subclass(torch.Tensor)
        return f"<Variable path={self.path}, shape={tuple(self.shape)}>\n{value!r}"


def _rebuild_buffer(data: torch.Tensor, attributes: dict[str, Any]) -> BufferVariable:
    variable = BufferVariable(data)
    variable.__dict__.update(attributes)
    return variable


def as_variable(tensor: torch.Tensor, trainable: bool) -> Any:
    """`tensor`'s data as a Variable: a Parameter (gradient for floating dtypes) or a
    buffer; the same object if it is one already."""
    if isinstance(tensor, Variable) and isinstance(tensor, torch.nn.Parameter) == trainable:
        return tensor
    data = tensor.detach() if tensor.requires_grad else tensor
    if trainable:
        return TrainableVariable(data, requires_grad=data.is_floating_point())
    return BufferVariable(data)


def _initial_value(initializer: Any, shape: Sequence[int] | None, dtype: Any) -> torch.Tensor:
    from .. import initializers
    from ._weights import _dtype_name, _torch_dtype

    if isinstance(initializer, str) or (
        callable(initializer) and not isinstance(initializer, torch.Tensor | np.ndarray)
    ):
        if shape is None:
            raise ValueError("Variable: an initializer needs a shape; got shape=None")
        name = "float32" if dtype is None else _dtype_name(dtype)
        value = torch.as_tensor(initializers.get(initializer)(tuple(shape), name))
    else:
        if initializer is None:
            raise ValueError("Variable: give a value or an initializer (got None)")
        if isinstance(initializer, list):
            initializer = np.asarray(initializer, dtype="float32")
        value = torch.as_tensor(initializer)  # a Python float is float32, as in Keras
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"Variable: the value has shape {tuple(value.shape)}, not shape={tuple(shape)}"
            )
    if dtype is not None:
        value = value.to(_torch_dtype(dtype))
    return value.clone()


def apply_keeping_variables(module: torch.nn.Module, apply: Any, fn: Any, recurse: bool) -> Any:
    """`Module._apply` (`.to()`, `.float()`, ...) that keeps each Variable object: torch
    gives buffers (and, with some options, parameters) new tensor objects, while Keras code
    holds its variables in attributes (`self.total = self.add_weight(...)`) and expects them
    to follow the module."""
    buffers = {k: b for k, b in module._buffers.items() if isinstance(b, BufferVariable)}
    parameters = {k: p for k, p in module._parameters.items() if isinstance(p, TrainableVariable)}
    result = apply(fn, recurse)
    for key, old in buffers.items():
        new = module._buffers.get(key)
        if new is not None and new is not old:
            module._buffers[key] = _keep(old, new)
    for key, old in parameters.items():
        new = module._parameters.get(key)
        if new is not None and new is not old:
            kept = _keep(old, new.data)
            if new.grad is not None:
                kept.grad = new.grad
            module._parameters[key] = kept
    return result


def _keep(old: Any, new: torch.Tensor) -> Any:
    try:
        with torch.no_grad():
            old.data = new
        return old
    except RuntimeError:  # a tensor type set_data refuses: a new Variable, same attributes
        variable = as_variable(new, isinstance(old, torch.nn.Parameter))
        return old._copy_keras_attributes(variable)
