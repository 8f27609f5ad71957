"""Weights of a layer as Keras sees them: names, Keras' layout, trainable or not, penalties,
constraints.

The tensors are PyTorch parameters and buffers in PyTorch's layout; `_WeightInfo` records how
each one looks from Keras (its name and the permutation into Keras' layout), and `WeightsMixin`
gives `Layer` Keras' weight API on top: `weights`, `trainable_weights`, `get_weights`,
`set_weights`, `count_params`, `losses`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import constraints, initializers, regularizers
from ..regularizers import L1L2
from ._name_scope import variable_path
from ._variables import (
    BufferVariable,
    KerasLayout,
    TrainableVariable,
    apply_keeping_variables,
    set_distribution_options,
)

__all__ = ["WeightsMixin", "tensors_on"]

_KERAS_ORDER = (
    "shape",
    "initializer",
    "dtype",
    "trainable",
    "autocast",
    "regularizer",
    "constraint",
    "aggregation",
    "overwrite_with_gradient",
    "name",
)
_LEGACY_ORDER = (
    "name",
    "shape",
    "initializer",
    "regularizer",
    "trainable",
    "keras_axes",
    "torch_name",
    "constraint",
)


class _InKerasLayout:
    """A weight regularizer called on the weight converted into Keras' layout."""

    def __init__(self, regularizer: Any, layout: KerasLayout) -> None:
        self.regularizer, self.layout = regularizer, layout

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        return self.regularizer(self.layout.to_keras(tensor))


@dataclass
class _WeightInfo(KerasLayout):
    """How one weight is seen from Keras: its name, its layout (the axes to permute into
    Keras' layout; subclasses convert otherwise), trainable or not, penalty, constraint."""

    keras_name: str
    keras_axes: tuple[int, ...] | None
    regularizer: Any
    trainable: bool
    constraint: Any = None

    def __post_init__(self) -> None:
        # Penalties other than the element-wise l1/l2 depend on the layout: they see the
        # weight in Keras' layout (the trainer and `losses` call `regularizer(tensor)`).
        if self.regularizer is not None and not isinstance(self.regularizer, L1L2):
            self.regularizer = _InKerasLayout(self.regularizer, self)

    def constrain(self, tensor: torch.Tensor) -> torch.Tensor:
        """The constraint applied in Keras' layout (so its `axis` means what it means in Keras)
        to a tensor in PyTorch's layout; the result is in PyTorch's layout again."""
        return self.from_keras(self.constraint(self.to_keras(tensor)))

    def attach(self, tensor: torch.Tensor) -> None:
        """Make `tensor`'s Keras views (`numpy`, `assign`) use this layout, and set
        `tensor.constraint`, which the optimizers apply after each update."""
        tensor._keras_layout = self  # type: ignore[attr-defined]
        if self.constraint is not None:
            tensor.constraint = self.constrain  # type: ignore[attr-defined]


def _contiguous(tensor: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of a permuted CPU tensor through NumPy, whose transposing copy is
    10-100x faster than torch's for kernel layouts (a zoo model builds hundreds)."""
    if tensor.is_contiguous() or tensor.device.type != "cpu" or tensor.requires_grad:
        return tensor.contiguous()
    if tensor.dtype not in (torch.float32, torch.float64, torch.float16, torch.int32, torch.int64):
        return tensor.contiguous()
    return torch.from_numpy(np.ascontiguousarray(tensor.numpy()))


class WeightsMixin:
    """Keras' weight API for `Layer`, over the parameters registered by `add_weight`."""

    name: str
    built: bool
    _trainable: bool
    _weight_info: dict[str, _WeightInfo]
    _activity_losses: list[torch.Tensor]

    def add_weight(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Create a weight of `shape` (PyTorch's layout) and register it on the layer, with
        Keras' signature: `add_weight(shape=None, initializer=None, dtype=None,
        trainable=True, autocast=True, regularizer=None, constraint=None, aggregation="none",
        overwrite_with_gradient=False, name=None)`, plus lamina's `keras_axes` and
        `torch_name`. A first positional string is a name, in lamina's earlier order
        `(name, shape, initializer, regularizer, trainable, keras_axes, torch_name,
        constraint)`. See `_create_weight` for the arguments."""
        order = _LEGACY_ORDER if args and isinstance(args[0], str) else _KERAS_ORDER
        if len(args) > len(order):
            raise TypeError(f"add_weight takes at most {len(order)} positional arguments")
        for key, value in zip(order, args, strict=False):
            if key in kwargs:
                raise TypeError(f"add_weight got two values for {key!r}")
            kwargs[key] = value
        return self._create_weight(**kwargs)

    def add_variable(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Keras' other name for `add_weight`."""
        return self.add_weight(*args, **kwargs)

    def _create_weight(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
        keras_axes: Sequence[int] | None = None,
        torch_name: str | None = None,
    ) -> torch.Tensor:
        """`add_weight`'s work, with every argument by name.

        Args:
            shape: the shape in PyTorch's layout.
            initializer: a Keras initializer (default glorot_uniform, zeros for integers),
                applied in Keras' layout so fans match Keras.
            dtype: the weight's dtype (default: the layer's variable dtype).
            trainable: False makes a buffer that training does not update (moving statistics).
            autocast, aggregation, overwrite_with_gradient: Keras' options, accepted; the
                layer's dtype policy casts, and torch.distributed reduces gradients.
            regularizer: a penalty added to the training loss.
            constraint: a projection applied in Keras' layout after each optimizer update.
            name: the Keras name ('kernel', 'moving_mean'); also an attribute of the layer
                (default 'variable', numbered when taken).
            keras_axes: the permutation that turns PyTorch's layout into Keras' layout.
            torch_name: the state_dict key ('weight'), when it differs from `name`.
        """
        if shape is None:
            shape = ()
        if name is None:
            taken = set(self._weight_info) | set(dict(self.named_parameters(recurse=False)))
            name = next(
                f"variable_{i}" if i else "variable"
                for i in range(len(taken) + 1)
                if (f"variable_{i}" if i else "variable") not in taken
            )
        if initializer is None:
            integer = (
                dtype is not None
                and not torch.empty((), dtype=_torch_dtype(dtype)).is_floating_point()
            )
            initializer = "zeros" if integer else "glorot_uniform"
        torch_name = torch_name or name
        info = _WeightInfo(
            keras_name=name,
            keras_axes=None if keras_axes is None else tuple(keras_axes),
            regularizer=regularizers.get(regularizer),
            trainable=trainable,
            constraint=constraints.get(constraint),
        )
        dtype_name = self._dtype_name if dtype is None else _dtype_name(dtype)
        value = initializers.get(initializer)(info.keras_shape(tuple(shape)), dtype_name)
        value = _contiguous(info.from_keras(torch.as_tensor(value)))
        if tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': initializer for {name!r} returned shape "
                f"{tuple(value.shape)}, expected {info.keras_shape(tuple(shape))} in Keras layout"
            )
        if trainable:
            grad = self._trainable and value.is_floating_point()
            self.register_parameter(torch_name, TrainableVariable(value, requires_grad=grad))
        else:
            self.register_buffer(torch_name, BufferVariable(value))
        variable = getattr(self, torch_name)
        variable._keras_name, variable._keras_path = name, variable_path(self, name)
        variable._keras_axes = info.keras_axes
        set_distribution_options(variable, aggregation, "auto")
        self._weight_info[torch_name] = info
        info.attach(variable)
        if torch_name != name:
            self._keras_aliases[name] = torch_name
        return getattr(self, torch_name)

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        return apply_keeping_variables(self, super()._apply, fn, recurse)  # type: ignore[misc]

    def _sublayers(self) -> list[Any]:
        """Direct child layers, found through the module tree (plain Modules are looked into)."""
        found: list[Any] = []

        def visit(module: torch.nn.Module) -> None:
            for child in module.children():
                if isinstance(child, WeightsMixin):
                    if child not in found:
                        found.append(child)
                else:
                    visit(child)

        visit(self)
        return found

    def _own_weights(self) -> list[tuple[str, torch.Tensor, _WeightInfo]]:
        """The layer's `add_weight` weights in Keras' order: those created trainable, then
        the others, each in creation order (Keras' `_trainable_variables` and
        `_non_trainable_variables`, the order of `weights`, `get_weights()` and .weights.h5)."""
        items = self._weight_info.items()
        ordered = [i for i in items if i[1].trainable] + [i for i in items if not i[1].trainable]
        return [(n, getattr(self, n), info) for n, info in ordered]

    def _plain_parameters(self) -> list[tuple[str, torch.Tensor]]:
        """Parameters registered torch's way rather than by `add_weight`: an `nn.Parameter`
        attribute, or a plain `torch.nn.Module` attribute's (Keras' torch backend counts these
        as the layer's weights too); lamina sub-layers' are theirs."""
        found = [
            (n, p) for n, p in self.named_parameters(recurse=False) if n not in self._weight_info
        ]

        def visit(module: torch.nn.Module, prefix: str) -> None:
            for child_name, child in module.named_children():
                if not isinstance(child, WeightsMixin):
                    path = f"{prefix}{child_name}."
                    found.extend((path + n, p) for n, p in child.named_parameters(recurse=False))
                    visit(child, path)

        visit(self, "")
        return found

    def _all_weights(self) -> list[tuple[Any, str, torch.Tensor, _WeightInfo]]:
        out = [(self, n, t, info) for n, t, info in self._own_weights()]
        own = {id(t) for _, _, t, _ in out}
        out += [
            (self, n, p, _WeightInfo(n, None, None, p.requires_grad))
            for n, p in self._plain_parameters()
            if id(p) not in own
        ]
        seen = {id(t) for _, _, t, _ in out}
        for layer in self._sublayers():
            for entry in layer._all_weights():
                if id(entry[2]) not in seen:
                    seen.add(id(entry[2]))
                    out.append(entry)
        return out

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights (PyTorch layout), layer by layer in Keras' order (the order of
        `get_weights()`: a BatchNormalization's moving statistics after its gamma and beta,
        before the next layer's kernel)."""
        return [t for _, _, t, _ in self._all_weights()]

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras' other name for `weights`."""
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        """Keras' other name for `trainable_weights`."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        """Keras' other name for `non_trainable_weights`."""
        return self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """Weights that training updates; none when this layer is frozen, as Keras (a
        sublayer set trainable again inside a frozen model counts only for its parents)."""
        if not self.trainable:
            return []
        return [
            t for owner, _, t, info in self._all_weights() if info.trainable and owner.trainable
        ]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """The other weights; all of them when this layer is frozen, as Keras."""
        if not self.trainable:
            return self.weights
        return [
            t
            for owner, _, t, info in self._all_weights()
            if not (info.trainable and owner.trainable)
        ]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for _, tensor, info in self._own_weights():
            if info.trainable:
                tensor.requires_grad_(self._trainable)
        for _, parameter in self._plain_parameters():
            parameter.requires_grad_(self._trainable)
        for layer in self._sublayers():
            layer.trainable = value
        # A functional model's InputLayers sit outside the module tree; Keras' setter sets them too.
        order = self.__dict__.get("_layer_order")
        if order:
            from .core import InputLayer  # core imports this module

            for layer in order:
                if isinstance(layer, InputLayer):
                    layer.trainable = value

    def count_params(self) -> int:
        """Number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' is not built yet, so it has no weights to "
                "count. Call it on data or give it an input shape first."
            )
        return sum(t.numel() for t in self.weights)

    def _keras_ordered_weights(self) -> list[tuple[torch.Tensor, _WeightInfo, Any, str]]:
        # Keras orders get_weights() by creation within each layer, layers in order.
        return [(t, info, owner, name) for owner, name, t, info in self._all_weights()]

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays in Keras' layout (a Dense kernel is (in, out))."""
        return [
            info.to_keras(t.detach()).cpu().numpy().copy()
            for t, info, _, _ in self._keras_ordered_weights()
        ]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from arrays in Keras' layout, as returned by `get_weights`."""
        entries = self._keras_ordered_weights()
        if len(weights) != len(entries):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects a list of {len(entries)} weight "
                f"arrays ({', '.join(f'{o.name}/{i.keras_name}' for _, i, o, _ in entries)}); "
                f"got {len(weights)}"
            )
        converted = []
        for (tensor, info, owner, _), value in zip(entries, weights, strict=True):
            value = torch.as_tensor(np.asarray(value))
            expected = info.keras_shape(tuple(tensor.shape))
            if tuple(value.shape) != expected:
                raise ValueError(
                    f"Weight {owner.name}/{info.keras_name} of {type(owner).__name__} has shape "
                    f"{expected} (Keras layout); got an array of shape {tuple(value.shape)}"
                )
            converted.append(_contiguous(info.from_keras(value)))
        with torch.no_grad():
            for (tensor, _, _, _), value in zip(entries, converted, strict=True):
                tensor.copy_(value.to(dtype=tensor.dtype, device=tensor.device))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Penalties to add to the loss, in Keras' order: each layer's terms from its latest
        call (`add_loss` ones, then its activity regularizer's), then the weight
        regularizers' penalties."""
        out: list[torch.Tensor] = []
        for module in self.modules():
            if isinstance(module, WeightsMixin):
                out.extend(module.__dict__.get("_added_losses", ()))
                out.extend(module._activity_losses)
        for owner, _, tensor, info in self._all_weights():
            if info.regularizer is not None and owner.trainable:
                out.append(info.regularizer(tensor))
        return out

    def _clear_activity_losses(self) -> None:
        for module in self.modules():
            if isinstance(module, WeightsMixin):
                module._activity_losses.clear()


def tensors_on(module: torch.nn.Module, device: torch.device, recurse: bool = True) -> bool:
    """Whether every parameter and buffer of `module` is on `device` ('cuda' without an
    index meaning the current GPU). `Module.to` walks every tensor even when none moves.

    >>> tensors_on(torch.nn.Linear(2, 2), torch.device("cpu"))
    True
    """
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    tensors = itertools.chain(module.parameters(recurse=recurse), module.buffers(recurse=recurse))
    return all(t.device == device for t in tensors)


def _dtype_name(dtype: Any) -> str:
    """'float32' for "float32" or torch.float32."""
    return str(dtype).removeprefix("torch.")


def _torch_dtype(dtype: Any) -> torch.dtype:
    return dtype if isinstance(dtype, torch.dtype) else getattr(torch, _dtype_name(dtype))
