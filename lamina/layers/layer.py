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
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import mixed_precision, regularizers
from . import _masking
from ._added_losses import _USED as _LOSSES_USED
from ._added_losses import AddedLosses, OutermostCall
from ._call_arguments import takes_named_shapes
from ._layer_extras import LayerExtras
from ._name_scope import current_path, in_own_scope, open_name_scope
from ._naming import to_snake_case, unique_name
from ._remat import get_current_remat_mode, rematerialized_method
from ._shape_inference import _STATE as _SHAPE_STATE
from ._shape_inference import ShapeInference, auto_config, real_device, warn_input_shape_argument
from ._string_arrays import holds_strings
from ._symbolic import KerasTensor, Node, flatten_structure, map_structure
from ._variables import Variable
from ._weights import WeightsMixin, _WeightInfo, tensors_on
from .input_spec import assert_input_compatibility

Shape = tuple[int | None, ...]

_CALL_CONTEXT = threading.local()
# Set once a layer that makes masks exists (Embedding(mask_zero=True), Masking): see _masking.
MASKS_IN_USE = [False]
_NO_CONTEXT = contextlib.nullcontext()


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


def _outside_inference_mode() -> Any:
    return torch.inference_mode(False)


class Layer(ShapeInference, AddedLosses, WeightsMixin, LayerExtras, torch.nn.Module):
    """Base class of every lamina layer and model.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: a unique name; by default the class name in snake case, numbered.
        dtype: the policy or dtype of the weights and computation (default: the global one).
        autocast: False keeps float inputs as they come (else cast to the compute dtype).
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
    input_spec: Any = None  # Keras' InputSpec (or a structure of them) the inputs must meet
    #: Symbolic outputs' dtype where not the input's; whether `call` takes strings.
    _output_dtype: str | None = None
    _takes_strings: bool = False

    def __init__(
        self,
        *,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        autocast: bool = True,
        input_shape: Any = None,
        input_dim: int | None = None,
        batch_size: int | None = None,
        batch_input_shape: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:  # a ValueError, as Keras
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        super().__init__()
        if name is not None and not isinstance(name, str):  # Keras' error and words
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.built = False
        self._trainable = bool(trainable)
        self.training = False
        self._dtype_policy = mixed_precision.resolve(dtype)
        mixed_precision.note_policy(self._dtype_policy)
        self._dtype_name = self._dtype_policy.variable_dtype
        self._compute_dtype, self.autocast = self._dtype_policy.torch_compute_dtype, bool(autocast)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if self.activity_regularizer is not None:  # outermost calls now clear the penalties
            _LOSSES_USED[0] = True
        self._activity_losses: list[torch.Tensor] = []
        self._weight_info: dict[str, _WeightInfo] = {}
        self._inbound_nodes: list[Node] = []
        self._keras_aliases: dict[str, str] = {}
        self._build_input_shape: Shape | None = None
        self._input_axes: dict[int, int] = {}
        if input_shape is not None or input_dim is not None:
            warn_input_shape_argument()
        self._declared_input_shape = self._declared_shape(
            input_shape, input_dim, batch_size, batch_input_shape
        )
        if (remat_mode := get_current_remat_mode()) is not None:  # made in a RematScope
            self._remat_mode = remat_mode

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
        """The weights' dtype, as a Keras name ('float32'; 'int32' under an int32 policy)."""
        return self._dtype_name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the computation, as a Keras name ('bfloat16' under 'mixed_bfloat16')."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype_name

    @property
    def dtype_policy(self) -> mixed_precision.DTypePolicy:
        return self._dtype_policy

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

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        layer = super().__new__(cls)
        if not cls.__module__.startswith("lamina."):  # a user's class: for auto_config
            layer.__dict__["_init_arguments"] = (args, kwargs)
        return layer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._call_parameters = frozenset(inspect.signature(cls.call).parameters)
        cls._call_takes_training = "training" in cls._call_parameters
        build = cls.__dict__.get("build")
        if build is None or getattr(build, "_lamina_wrapped", False):
            return
        # A user's `build(self, anchor_shape, positive_shape)`: shapes by call argument name.
        cls._build_by_name = takes_named_shapes(functools.partial(build, None))

        def wrapped_build(self: Layer, *args: Any, **shapes: Any) -> None:
            # As in Keras, a hand call to build() marks the layer built, and a second call does
            # not replace weights that may already have been trained or loaded.
            if self.built:
                return
            if not args and not shapes and not cls._build_by_name:
                args = (None,)
            with (
                real_device(),
                _outside_inference_mode(),
                open_name_scope(self),
            ):  # real, trainable weights (see _maybe_build)
                self.__dict__["_layer_path"] = current_path()
                build(self, *args, **shapes)
            self.built = True
            self._build_input_shape = args[0] if args else next(iter(shapes.values()), None)
            if len(shapes) > 1:  # Keras' build_config then holds the shapes by name
                self._build_shapes_dict = shapes

        wrapped_build._lamina_wrapped = True  # type: ignore[attr-defined]
        wrapped_build.__doc__, wrapped_build.__name__ = build.__doc__, build.__name__
        wrapped_build.__wrapped__ = build  # type: ignore[attr-defined]
        cls.build = wrapped_build  # type: ignore[method-assign]

    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of `input_shape` (batch axis None). Default: none;
        as in Keras, a call marks the layer built."""
        self.built = True

    def _maybe_build(self, input_shape: Any, named: dict[str, Any] | None = None) -> None:
        if self.built:
            return
        # Real weights also when built during shape inference, and trainable ones also when
        # first built by predict() (which runs in inference mode).
        with real_device(), _outside_inference_mode(), open_name_scope(self):
            self.__dict__["_layer_path"] = current_path()
            if named is None:
                self.build(input_shape)
            else:
                self.build(**named)
        self.built = True
        self._build_input_shape = input_shape

    def _move_new_weights(self, device: torch.device) -> None:
        if device.type != "meta" and not tensors_on(self, device, recurse=False):
            self.to(device)

    # ---------------------------------------------------------------- calling

    _call_parameters: frozenset[str] = frozenset({"self", "inputs", "training"})
    # Read by every forward: a plain class attribute (a classmethod call there made dynamo
    # guard `type(layer) is layer.__class__` in Python for each layer of a compiled step).
    _call_takes_training: bool = True
    # A call outside fit() with no training value (and none from an enclosing call) is
    # inference, as in Keras, except for layers whose Keras `call` defaults to training=True.
    _training_by_default: bool = False
    _is_operation: bool = False  # an op recorded on symbolic tensors (OperationLayer)
    _remat_mode: Any = None  # the RematScope the layer was made in
    # What call() gets then: False; models pass None on, so each layer decides for itself.
    _training_unset: bool | None = False

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The computation; subclasses override it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if _LOSSES_USED[0]:  # the outermost call starts with no add_loss terms (Keras)
            with OutermostCall(self):
                return self._dispatch(self.call, args, kwargs, self._call_takes_training)
        return self._dispatch(self.call, args, kwargs, self._call_takes_training)

    def _dispatch(
        self, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any], pass_training: bool
    ) -> Any:
        """`forward` around `method` (`call`, or `call_pre_activation` when a model defers
        the activation): checks, casts, building, training flag, autocast, regularization."""
        if not args:
            raise TypeError(f"{type(self).__name__} '{self.name}' was called without inputs")
        if not self.built and not in_own_scope(self):
            # The first call builds: sub-layers built in `call` go under this layer's scope.
            with open_name_scope(self):
                return self._dispatch(method, args, kwargs, pass_training)
        inputs = args[0]
        single = isinstance(inputs, torch.Tensor)
        if not single and any(isinstance(t, KerasTensor) for t in flatten_structure(inputs)):
            return self._symbolic_call(*args, **kwargs)
        masks = MASKS_IN_USE[0]
        if masks:
            mask = _masking.input_mask(inputs)
            if mask is not None and "mask" in self._call_parameters and kwargs.get("mask") is None:
                kwargs["mask"] = mask
        training = kwargs.pop("training", None)
        explicit = training is not None
        if not explicit:
            training = getattr(_CALL_CONTEXT, "training", None)
            if training is None:
                training = self.training or self._training_by_default or self._training_unset
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        # Rank checks and dtype casts come first, so errors show the real input shape.
        if single:
            self._check_input(inputs)
            if inputs.is_floating_point() and inputs.dtype != self._compute_dtype:
                inputs = inputs.to(self._compute_dtype) if self._casts_inputs() else inputs
        else:
            inputs = self._prepare_inputs(inputs)
        if not self.built:
            with real_device():  # weights are real, also when built during shape inference
                self._maybe_build(self._shapes_of(inputs), self._named_build_shapes(args, kwargs))
            if self.input_spec is not None:  # build may set it: Keras checks again
                assert_input_compatibility(self.input_spec, inputs, self.name)
            leaves = flatten_structure(inputs)
            if leaves and isinstance(first := leaves[0], torch.Tensor):
                if first.device.type == "meta" and [*self.parameters(), *self.buffers()]:
                    # First built inside an enclosing layer's shape inference (a sub-layer
                    # made in __init__): real weights, and this call on meta copies of them.
                    if explicit:
                        kwargs["training"] = training
                    return self._call_on_meta(method, args, kwargs, pass_training)
                self._move_new_weights(first.device)
        elif _SHAPE_STATE.depth and _real_weights_meta_input(self, inputs):
            # Built with real weights, now called in an enclosing layer's shape inference.
            if explicit:
                kwargs["training"] = training
            return self._call_on_meta(method, args, kwargs, pass_training)
        if pass_training:
            kwargs["training"] = training
        if self._remat_mode is not None:
            method = rematerialized_method(self, method, inputs)
        # Mixed layers autocast, float32 ones step out (no `or`: dynamo 2.11 breaks on it).
        context = mixed_precision.layer_context(self._dtype_policy, inputs)
        with _NO_CONTEXT if context is None else context:
            if explicit:
                # Sub-layers called with training=None follow the outermost explicit value.
                previous = getattr(_CALL_CONTEXT, "training", None)
                _CALL_CONTEXT.training = bool(training)
                try:
                    outputs = method(inputs, *args[1:], **kwargs)
                finally:
                    _CALL_CONTEXT.training = previous
            else:
                outputs = method(inputs, *args[1:], **kwargs)
        if isinstance(outputs, Variable):  # a snapshot, as Keras returns a variable's value
            outputs = torch.Tensor.clone(outputs)
        if self.activity_regularizer is not None and not _SHAPE_STATE.depth:
            # in every real call, as Keras (evaluate counts it); not in shape inference
            self._activity_losses.append(self.activity_regularizer(outputs) / outputs.shape[0])
        if masks:
            _masking.attach_output_mask(self, inputs, mask, outputs)
        return outputs

    supports_masking: bool = False

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the output for `inputs` with `mask`: passed on by layers that
        support masking, dropped by the others (Keras' default)."""
        return mask if self.supports_masking else None

    compute_mask._keras_default = True  # type: ignore[attr-defined]

    @staticmethod
    def _shapes_of(inputs: Any) -> Any:
        def shape(t: Any) -> Any:  # with the batch size, as Keras' build gets it
            if isinstance(t, (torch.Tensor, KerasTensor, np.ndarray)):  # arrays: of strings
                return (None, *t.shape[1:]) if _SHAPE_STATE.unknown_batch else tuple(t.shape)
            return None

        return map_structure(shape, inputs)

    def _prepare_inputs(self, inputs: Any) -> Any:
        def prepare(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                if not isinstance(t, np.ndarray) or holds_strings(t):
                    return t  # strings stay NumPy arrays, for the layers that take them
                t = torch.from_numpy(t)
            self._check_input(t)
            if t.is_floating_point() and t.dtype != self._compute_dtype and self._casts_inputs():
                t = t.to(self._compute_dtype)
            return t

        return map_structure(prepare, inputs)

    def _check_input(self, x: torch.Tensor) -> None:
        ndim = x.ndim
        if self.input_ndim is not None and ndim != self.input_ndim:
            raise ValueError(
                f"{self._describe()} expects {self.input_ndim}-D input{self._expected_axes()}; "
                f"got shape {tuple(x.shape)}"
            )
        if self.min_ndim is not None and ndim < self.min_ndim:
            raise ValueError(
                f"{self._describe()} expects input of at least {self.min_ndim} dimensions"
                f"{self._expected_axes()}; got shape {tuple(x.shape)}"
            )
        for axis, size in self._input_axes.items():
            if ndim <= (axis if axis >= 0 else -axis - 1) or x.shape[axis] not in (size, None):
                raise ValueError(
                    f"{self._describe()} was built for inputs of shape "
                    f"{self._build_input_shape} (size {size} on axis {axis}); "
                    f"got shape {tuple(x.shape)}"
                )

    def _describe(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _expected_axes(self) -> str:
        return f" {self.input_description}" if self.input_description else ""

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON types; subclasses add theirs. A user's layer
        without get_config gets the JSON-able arguments it was created with, as in Keras."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        from ..dtype_policies import serialize as serialize_policy

        config["dtype"] = serialize_policy(self._dtype_policy)  # Keras' DTypePolicy entry
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = list(self._declared_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        auto = type(self).get_config is Layer.get_config and "_init_arguments" in self.__dict__
        automatic = auto_config(self, config) if auto else config  # raises on non-JSON args
        if type(self) is Layer or (auto and type(self).__init__ is Layer.__init__):
            config = {"name": self.name, "activity_regularizer": None, **config}
            return {**config, "autocast": self.autocast}  # Keras' base config (no __init__)
        return automatic

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


def _real_weights_meta_input(layer: Layer, inputs: Any) -> bool:
    leaves = flatten_structure(inputs)
    if not leaves or not isinstance(leaves[0], torch.Tensor) or leaves[0].device.type != "meta":
        return False
    weight = next(layer.parameters(), None)
    return weight is not None and weight.device.type != "meta"
