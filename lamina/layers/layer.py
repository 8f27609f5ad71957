"""The Layer base class: a `torch.nn.Module` with Keras' anatomy.

`__init__` stores arguments, `build(input_shape)` creates the weights once (on the first call),
`call(inputs, training=None)` computes with `torch.nn.functional`, and `get_config()` returns the
constructor arguments so that `cls.from_config(config)` rebuilds the layer.

>>> import torch
>>> from lamina.layers import Dense
>>> layer = Dense(4)
>>> layer(torch.zeros(2, 3)).shape
torch.Size([2, 4])
>>> [w.shape for w in layer.get_weights()]   # Keras layout: kernel (in, out)
[(3, 4), (4,)]
"""

from __future__ import annotations

import contextlib
import inspect
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import config as lamina_config
from .. import initializers, regularizers
from ._symbolic import KerasTensor, flatten_structure, map_shapes, map_structure

Shape = tuple[int | None, ...]

_NAME_COUNTS: dict[str, int] = {}
_CALL_CONTEXT = threading.local()


def to_snake_case(name: str) -> str:
    """'MaxPooling2D' -> 'max_pooling2d', 'BatchNormalization' -> 'batch_normalization'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... until `clear_session()`."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Reset automatic layer names (the next Dense is 'dense' again), as Keras' clear_session."""
    _NAME_COUNTS.clear()


@contextlib.contextmanager
def _training_context(training: bool) -> Iterator[None]:
    previous = getattr(_CALL_CONTEXT, "training", None)
    _CALL_CONTEXT.training = training
    try:
        yield
    finally:
        _CALL_CONTEXT.training = previous


def standardize_shape(shape: Any, what: str = "shape") -> tuple[int | None, ...]:
    """A tuple of ints and Nones from an int, list, tuple or torch.Size."""
    if isinstance(shape, int):
        return (shape,)
    if shape is None:
        raise ValueError(f"{what} must be given")
    out = []
    for dim in shape:
        if dim is not None and (not isinstance(dim, (int, np.integer)) or dim < 0):
            raise ValueError(f"{what} must hold non-negative ints or None; got {tuple(shape)}")
        out.append(None if dim is None else int(dim))
    return tuple(out)


@dataclass
class _WeightInfo:
    """How one weight is seen from Keras: its name and the axes to permute into Keras' layout."""

    keras_name: str
    keras_axes: tuple[int, ...] | None
    regularizer: Any
    trainable: bool

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


class Layer(torch.nn.Module):
    """Base class of every lamina layer and model.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: a unique name; by default the class name in snake case, numbered.
        dtype: the float type of the weights and computation (default `config.floatx()`).
        input_shape, input_dim, batch_size, batch_input_shape: accepted on the first layer of a
            `Sequential` model to declare its input, as in Keras.
    """

    #: Exact rank of the input (batch included), or None for any; checked on every call.
    input_ndim: int | None = None
    #: Smallest accepted rank, when any rank from there on works.
    min_ndim: int | None = None
    #: How the expected axes read, for error messages: "(batch, height, width, channels)".
    input_description: str = ""
    #: Names of the weights `build` creates, so touching one too early gives a clear error.
    weight_names: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        input_shape: Any = None,
        input_dim: int | None = None,
        batch_size: int | None = None,
        batch_input_shape: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(sorted(kwargs))}"
            )
        super().__init__()
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string; got {name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.built = False
        self._trainable = bool(trainable)
        # Keras semantics: calling a layer or model outside fit() is inference.
        self.training = False
        self._dtype_name = str(dtype) if dtype is not None else lamina_config.floatx()
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._activity_losses: list[torch.Tensor] = []
        self._weight_info: dict[str, _WeightInfo] = {}
        self._keras_aliases: dict[str, str] = {}
        self._build_input_shape: Shape | None = None
        self._input_axes: dict[int, int] = {}
        self._declared_input_shape = self._declared_shape(
            input_shape, input_dim, batch_size, batch_input_shape
        )

    # ---------------------------------------------------------------- construction helpers

    @staticmethod
    def _declared_shape(
        input_shape: Any, input_dim: Any, batch_size: Any, batch_input_shape: Any
    ) -> Shape | None:
        if batch_input_shape is not None:
            return standardize_shape(batch_input_shape, "batch_input_shape")
        if input_shape is not None:
            return (batch_size, *standardize_shape(input_shape, "input_shape"))
        if input_dim is not None:
            return (batch_size, int(input_dim))
        return None

    @property
    def dtype(self) -> str:
        """The weights' float type, as a Keras name ('float32')."""
        return self._dtype_name

    @property
    def compute_dtype(self) -> torch.dtype:
        return lamina_config.torch_dtype(self._dtype_name)

    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        initializer: Any = "glorot_uniform",
        regularizer: Any = None,
        trainable: bool = True,
        keras_axes: Sequence[int] | None = None,
        torch_name: str | None = None,
    ) -> torch.Tensor:
        """Create a weight of `shape` (PyTorch's layout) and register it on the layer.

        Args:
            name: the Keras name ('kernel', 'moving_mean'); also an attribute of the layer.
            shape: the shape in PyTorch's layout.
            initializer: a Keras initializer, applied in Keras' layout so fans match Keras.
            regularizer: a penalty added to the training loss.
            trainable: False makes a buffer that training does not update (moving statistics).
            keras_axes: the permutation that turns PyTorch's layout into Keras' layout.
            torch_name: the state_dict key ('weight'), when it differs from `name`.
        """
        torch_name = torch_name or name
        info = _WeightInfo(
            keras_name=name,
            keras_axes=None if keras_axes is None else tuple(keras_axes),
            regularizer=regularizers.get(regularizer),
            trainable=trainable,
        )
        value = initializers.get(initializer)(info.keras_shape(tuple(shape)), self._dtype_name)
        value = info.from_keras(torch.as_tensor(value)).contiguous()
        if tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': initializer for {name!r} returned shape "
                f"{tuple(value.shape)}, expected {info.keras_shape(tuple(shape))} in Keras layout"
            )
        if trainable:
            param = torch.nn.Parameter(value, requires_grad=self._trainable)
            self.register_parameter(torch_name, param)
        else:
            self.register_buffer(torch_name, value)
        self._weight_info[torch_name] = info
        if torch_name != name:
            self._keras_aliases[name] = torch_name
        return getattr(self, torch_name)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            aliases = self.__dict__.get("_keras_aliases", {})
            if name in aliases:
                return super().__getattr__(aliases[name])
            if name in type(self).weight_names and not self.__dict__.get("built", False):
                raise AttributeError(
                    f"{type(self).__name__} '{self.__dict__.get('name')}' has no {name!r} yet: "
                    "its weights are created on the first call. Call it on data, give the model "
                    "an input shape (Input(shape) or input_shape=...), or call "
                    "layer.build(input_shape) first."
                ) from None
            raise

    # ---------------------------------------------------------------- building

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is None or getattr(build, "_lamina_wrapped", False):
            return

        def wrapped_build(self: Layer, input_shape: Any = None) -> None:
            # As in Keras, a hand call to build() marks the layer built, and a second call does
            # not replace weights that may already have been trained or loaded.
            if self.built:
                return
            build(self, input_shape)
            self.built = True
            self._build_input_shape = input_shape

        wrapped_build._lamina_wrapped = True  # type: ignore[attr-defined]
        wrapped_build.__doc__ = build.__doc__
        wrapped_build.__wrapped__ = build  # type: ignore[attr-defined]
        cls.build = wrapped_build  # type: ignore[method-assign]

    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of `input_shape` (batch axis None). Default: none."""

    def _maybe_build(self, input_shape: Any) -> None:
        if self.built:
            return
        self.build(input_shape)
        self.built = True
        self._build_input_shape = input_shape

    def _move_new_weights(self, device: torch.device) -> None:
        if device.type == "meta":
            return
        for tensor in list(self.parameters(recurse=False)) + list(self.buffers(recurse=False)):
            if tensor.device != device:
                self.to(device)
                return

    # ---------------------------------------------------------------- calling

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The computation; subclasses override it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    @classmethod
    def _call_accepts(cls, argument: str) -> bool:
        cache = cls.__dict__.get("_call_signature_cache")
        if cache is None:
            cache = set(inspect.signature(cls.call).parameters)
            cls._call_signature_cache = cache
        return argument in cache

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{type(self).__name__} '{self.name}' was called without inputs")
        if any(isinstance(t, KerasTensor) for t in flatten_structure(args[0])):
            return self._symbolic_call(*args, **kwargs)
        inputs = args[0]
        training = kwargs.pop("training", None)
        explicit = training is not None
        if training is None:
            training = getattr(_CALL_CONTEXT, "training", None)
        if training is None:
            training = self.training
        # Rank checks and dtype casts come first, so errors show the real input shape.
        inputs = self._prepare_inputs(inputs)
        self._maybe_build(self._shapes_of(inputs))
        first = flatten_structure(inputs)[0]
        if isinstance(first, torch.Tensor):
            self._move_new_weights(first.device)
        if self._call_accepts("training"):
            kwargs["training"] = training
        if explicit:
            with _training_context(bool(training)):
                outputs = self.call(inputs, *args[1:], **kwargs)
        else:
            outputs = self.call(inputs, *args[1:], **kwargs)
        if self.activity_regularizer is not None and training:
            self._activity_losses.append(self.activity_regularizer(outputs) / outputs.shape[0])
        return outputs

    @staticmethod
    def _shapes_of(inputs: Any) -> Any:
        def shape(t: Any) -> Any:
            if isinstance(t, (torch.Tensor, KerasTensor)):
                return (None, *tuple(t.shape)[1:])
            return None

        return map_structure(shape, inputs)

    def _prepare_inputs(self, inputs: Any) -> Any:
        def prepare(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                if isinstance(t, np.ndarray):
                    t = torch.from_numpy(t)
                else:
                    return t
            self._check_input(t)
            if t.is_floating_point() and t.dtype != self.compute_dtype:
                t = t.to(self.compute_dtype)
            return t

        return map_structure(prepare, inputs)

    def _check_input(self, x: torch.Tensor) -> None:
        what = f"{type(self).__name__} '{self.name}'"
        described = f" {self.input_description}" if self.input_description else ""
        if self.input_ndim is not None and x.ndim != self.input_ndim:
            raise ValueError(
                f"{what} expects {self.input_ndim}-D input{described}; got shape {tuple(x.shape)}"
            )
        if self.min_ndim is not None and x.ndim < self.min_ndim:
            raise ValueError(
                f"{what} expects input of at least {self.min_ndim} dimensions{described}; "
                f"got shape {tuple(x.shape)}"
            )
        for axis, size in self._input_axes.items():
            if x.ndim <= abs(axis) - (axis < 0) or x.shape[axis] != size:
                raise ValueError(
                    f"{what} was built for inputs of shape {self._build_input_shape} "
                    f"(size {size} on axis {axis}); got shape {tuple(x.shape)}"
                )

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """Call on KerasTensors: infer the output shape on `meta` and record the call."""
        inputs = args[0]
        try:
            output_shapes = self.compute_output_shape(self._shapes_of(inputs))
        except ValueError as error:
            raise ValueError(f"{error}") from None
        leaves = flatten_structure(inputs)
        dtype = leaves[0].dtype if leaves else self._dtype_name

        counter = iter(range(1 << 30))

        def make(shape: Any) -> KerasTensor:
            return KerasTensor(
                shape=tuple(shape),
                dtype=dtype,
                name=self.name,
                layer=self,
                call_args=args,
                call_kwargs=kwargs,
                output_index=next(counter),
            )

        return map_shapes(make, output_shapes)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for `input_shape`, found by running `call` on the `meta` device."""
        self._maybe_build(input_shape)

        def meta(shape: Any) -> Any:
            if shape is None:
                return None
            concrete = tuple(1 if d is None else d for d in shape)
            return torch.empty(concrete, device="meta", dtype=self.compute_dtype)

        meta_inputs = map_shapes(meta, input_shape)
        state = {
            k: torch.empty_like(v, device="meta")
            for k, v in self.state_dict(keep_vars=True).items()
        }
        with torch.no_grad():
            outputs = torch.func.functional_call(
                self, state, (meta_inputs,), {"training": False}, strict=False
            )

        def shape_of(t: Any) -> Any:
            return (None, *tuple(t.shape)[1:]) if isinstance(t, torch.Tensor) else t

        return map_structure(shape_of, outputs)

    # ---------------------------------------------------------------- weights

    def _sublayers(self) -> list[Layer]:
        """Direct child layers, found through the module tree (plain Modules are looked into)."""
        found: list[Layer] = []

        def visit(module: torch.nn.Module) -> None:
            for child in module.children():
                if isinstance(child, Layer):
                    if child not in found:
                        found.append(child)
                else:
                    visit(child)

        visit(self)
        return found

    def _own_weights(self) -> list[tuple[str, torch.Tensor, _WeightInfo]]:
        return [(n, getattr(self, n), info) for n, info in self._weight_info.items()]

    def _all_weights(self) -> list[tuple[Layer, str, torch.Tensor, _WeightInfo]]:
        out = [(self, n, t, info) for n, t, info in self._own_weights()]
        seen = {id(t) for _, _, t, _ in out}
        for layer in self._sublayers():
            for entry in layer._all_weights():
                if id(entry[2]) not in seen:
                    seen.add(id(entry[2]))
                    out.append(entry)
        return out

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights (PyTorch layout): trainable first, as Keras orders them."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [
            t for owner, _, t, info in self._all_weights() if info.trainable and owner._frozen_ok
        ]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [
            t
            for owner, _, t, info in self._all_weights()
            if not (info.trainable and owner._frozen_ok)
        ]

    @property
    def _frozen_ok(self) -> bool:
        """True when this layer is trainable (set per layer; a parent's setter propagates)."""
        return self._trainable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for _, tensor, info in self._own_weights():
            if info.trainable:
                tensor.requires_grad_(self._trainable)
        for layer in self._sublayers():
            layer.trainable = value

    def count_params(self) -> int:
        """Number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' is not built yet, so it has no weights to "
                "count. Call it on data or give it an input shape first."
            )
        return sum(t.numel() for t in self.weights)

    def _keras_ordered_weights(self) -> list[tuple[torch.Tensor, _WeightInfo, Layer, str]]:
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
            converted.append(info.from_keras(value))
        with torch.no_grad():
            for (tensor, _, _, _), value in zip(entries, converted, strict=True):
                tensor.copy_(value.to(dtype=tensor.dtype, device=tensor.device))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Penalties to add to the loss: weight regularizers and activity regularizers."""
        out: list[torch.Tensor] = []
        for owner, _, tensor, info in self._all_weights():
            if info.regularizer is not None and owner.trainable:
                out.append(info.regularizer(tensor))
        for module in self.modules():
            if isinstance(module, Layer):
                out.extend(module._activity_losses)
        return out

    def _clear_activity_losses(self) -> None:
        for module in self.modules():
            if isinstance(module, Layer):
                module._activity_losses.clear()

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON types; subclasses add theirs."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        config["dtype"] = self._dtype_name
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = list(self._declared_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from `get_config()`'s output."""
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def serialize_callable(fn: Callable[..., Any] | None, module: Any) -> Any:
    """The JSON form of an activation/initializer/regularizer argument."""
    if fn is None or isinstance(fn, str):
        return fn
    return module.serialize(fn)
