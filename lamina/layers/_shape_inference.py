"""Output shapes without data: a layer's `call` run on `meta` tensors (no memory, no
arithmetic), with meta copies of its weights. Mixed into `Layer`.

>>> from lamina.layers import Dense
>>> Dense(5).compute_output_shape((3, 4))  # a known batch size carries through, as in Keras
(3, 5)
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from ._symbolic import is_shape, map_shapes, map_structure

# Sizes tried for unknown (None) axes when inferring shapes on `meta`: far apart, so that an
# output size that depends on such an axis still differs after strides of up to 65.
_META_SIZES = (64, 129)


def warn_input_shape_argument() -> None:
    """Keras' advice (same words) when a layer is given `input_shape=` or `input_dim=`."""
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
        "models, prefer using an `Input(shape)` object as the first layer in the model "
        "instead.",
        stacklevel=3,  # as Keras: the layer class's own line, so it shows once per class
    )


class _State(threading.local):
    depth = 0  # nested shape inferences on this thread (a class default: no getattr call)
    unknown_batch = False  # see `unknown_batch`


_STATE = _State()


def inferring_shapes() -> bool:
    """Whether a layer's `call` is running on `meta` tensors to infer output shapes (random
    functions then make `meta` tensors too, see `lamina.random`)."""
    return getattr(_STATE, "depth", 0) > 0


@contextlib.contextmanager
def _inferring() -> Iterator[None]:
    """Within: shape inference. Tensors a layer's `call` makes from nothing (a positional
    `ops.arange`, a constant) are `meta` tensors too, as torch's factory functions make them
    on the default device, here `meta`."""
    depth = getattr(_STATE, "depth", 0)
    if depth == 0:
        _STATE.device = torch.get_default_device()
    _STATE.depth = depth + 1
    try:
        with torch.device("meta"):
            yield
    finally:
        _STATE.depth -= 1


@contextlib.contextmanager
def unknown_batch(input_shape: Any) -> Iterator[None]:
    """Within, when a shape in `input_shape` has an unknown (None) batch axis: layers first
    built by a call record a batch of None, not the size that stands in for it in this
    build or shape-inference pass (Keras builds them on symbolic inputs of that shape)."""
    shapes: list[Any] = []
    map_shapes(shapes.append, input_shape)
    saved = _STATE.unknown_batch
    _STATE.unknown_batch = saved or any(s is not None and s and s[0] is None for s in shapes)
    try:
        yield
    finally:
        _STATE.unknown_batch = saved


def real_device() -> Any:
    """A context for making real tensors (a sub-layer's weights, first built during shape
    inference) on the device that was the default before inference; no-op otherwise."""
    if getattr(_STATE, "depth", 0) > 0:
        return torch.device(_STATE.device)
    return contextlib.nullcontext()


class ShapeInference:
    """`compute_output_shape` by meta inference, and calls of layers first built during it."""

    _compute_dtype: torch.dtype
    _build_by_name: bool = False  # whether `build` takes shapes by name (see Layer)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for `input_shape`, found by running `call` on the `meta` device.

        Unknown (None) sizes past the batch axis are tried at two sizes; an output size that
        differs between the two runs depends on them and is unknown (None) too.
        """
        self._maybe_build(input_shape)
        first = self._meta_output_shapes(input_shape, _META_SIZES[0])
        inputs: list[Any] = []
        map_shapes(inputs.append, input_shape)
        if not any(shape is not None and None in shape[1:] for shape in inputs):
            return first
        seconds: list[Any] = []
        map_shapes(seconds.append, self._meta_output_shapes(input_shape, _META_SIZES[1]))
        others = iter(seconds)

        def merge(shape: Any) -> Any:
            other = next(others)
            if not is_shape(shape) or not is_shape(other):
                return shape
            return tuple(a if a == b else None for a, b in zip(shape, other, strict=True))

        return map_shapes(merge, first)

    def _symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """Call on KerasTensors: infer the output shape on `meta` and record the call, with
        Keras' masks: the inputs' masks passed to `call` (and recorded), the outputs' set by
        `compute_mask`."""
        from . import _masking
        from ._call_arguments import shape_arguments, takes_named_shapes
        from ._naming import tensor_name
        from ._string_arrays import check_string_inputs
        from ._symbolic import KerasTensor, Node, flatten_structure
        from ._symbolic import shape_structure as as_shapes
        from .input_spec import assert_input_compatibility

        inputs = args[0]
        leaves = flatten_structure(inputs)
        check_string_inputs(self, leaves, ShapeInference.compute_output_shape)
        call_kwargs, previous_mask = _masking.symbolic_call_masks(self, args, kwargs)
        try:
            if self.input_spec is not None:
                assert_input_compatibility(self.input_spec, inputs, self.name)
            if isinstance(inputs, KerasTensor):
                self._check_input(inputs)  # as for tensors: the rank and the built sizes
            shapes = self._shapes_of(inputs)
            # As Keras, also where compute_output_shape is the user's.
            self._maybe_build(shapes, self._named_build_shapes(args, kwargs))
            compute = self.compute_output_shape
            own = str(getattr(compute, "__module__", "")).startswith("lamina.")
            if not own and takes_named_shapes(compute):
                # a user's `compute_output_shape(self, anchor_shape, positive_shape)`
                output_shapes = compute(**shape_arguments(self, compute, args, kwargs))
            else:
                with self._passing_on(args[1:], call_kwargs):  # `call(anchor, positive, ...)`
                    output_shapes = compute(shapes)
            output_shapes = as_shapes(output_shapes)
        except ValueError as error:
            sources = [
                f"'{t.layer.name}' ({type(t.layer).__name__}) with shape {t.shape}"
                for t in flatten_structure(inputs)
                if isinstance(t, KerasTensor) and t.layer is not None
            ]
            if not sources:
                raise
            raise ValueError(
                f"{error}\n  ({type(self).__name__} '{self.name}' was called on the output of "
                f"{', '.join(sources)})"
            ) from None
        dtype = self._symbolic_dtype(leaves)
        if kwargs.get("mask", 0) is None and "mask" not in self._call_parameters:
            kwargs = {k: v for k, v in kwargs.items() if k != "mask"}  # Keras writes mask=None
        node = Node(self, args, kwargs)
        counter = iter(range(1 << 30))
        # A batch size fixed by Input(batch_size=...) carries on to the outputs, as in Keras.
        batches = {t.shape[0] for t in leaves if isinstance(t, KerasTensor) and t.shape}
        batch = batches.pop() if len(batches) == 1 else None

        def make(shape: Any) -> KerasTensor:
            if batch is not None and shape and shape[0] is None:
                shape = (batch, *tuple(shape)[1:])
            return KerasTensor(
                shape=tuple(shape),
                dtype=dtype,
                name=tensor_name(),
                node=node,
                output_index=next(counter),
            )

        node.outputs = map_shapes(make, output_shapes)
        self._inbound_nodes.append(node)
        _masking.attach_output_mask(self, inputs, previous_mask, node.outputs)
        return node.outputs

    def _named_build_shapes(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """`build`'s shapes by name where it takes several (`build(self, a_shape, b_shape)`,
        Keras' rule), else None: it gets the first input's shape."""
        if self.built or not type(self)._build_by_name:
            return None
        from ._call_arguments import shape_arguments

        return shape_arguments(self, self.build, args, kwargs)

    def _meta_output_shapes(self, input_shape: Any, unknown_size: int) -> Any:
        def meta(shape: Any) -> Any:
            if shape is None:
                return None
            concrete = tuple(
                (1 if axis == 0 else unknown_size) if d is None else d
                for axis, d in enumerate(shape)
            )
            return torch.empty(concrete, device="meta", dtype=self._compute_dtype)

        meta_inputs = map_shapes(meta, input_shape)
        extra_args, extra_kwargs = self._meta_extra(meta)
        tensors = [*self.named_parameters(), *self.named_buffers()]  # unsaved buffers too
        state = {k: torch.empty_like(v, device="meta") for k, v in tensors}
        try:
            with torch.no_grad(), _inferring(), unknown_batch(input_shape):
                outputs = torch.func.functional_call(
                    self,
                    state,
                    (meta_inputs, *extra_args),
                    {**extra_kwargs, "training": False},
                    strict=False,
                )
        except (RuntimeError, NotImplementedError) as error:
            if "meta" not in str(error):
                raise
            # `call` reads values (`if ops.max(x) > 1:`, `.item()`): as Keras' torch backend,
            # run it on real tensors instead, its variable updates dropped.
            outputs = self._real_output(
                map_shapes(lambda t: t, meta_inputs), tensors, extra_args, extra_kwargs
            )

        # A known batch size carries through, as in Keras (Dense(5) on (3, 4) gives (3, 5)).
        shapes: list[Any] = []
        map_shapes(shapes.append, input_shape)
        batches = {shape[0] for shape in shapes if shape}
        known = len(batches) == 1 and None not in batches

        def shape_of(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                return t
            return (t.shape[0] if known and t.ndim else None, *tuple(t.shape)[1:])

        return map_structure(shape_of, outputs)

    @contextlib.contextmanager
    def _passing_on(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[None]:
        """Within: shape inference passes a symbolic call's arguments after the first (more
        tensors, `scale=2.0`) on to `call` too, as Keras does."""
        extra = {k: v for k, v in kwargs.items() if v is not None and k != "training"}
        self.__dict__["_symbolic_extra"] = (args, extra) if args or extra else None
        try:
            yield
        finally:
            self.__dict__["_symbolic_extra"] = None

    def _meta_extra(self, meta: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The call's arguments after the first, recorded by a symbolic call, with their
        KerasTensors as `meta` tensors made by `meta` (a shape to a tensor)."""
        from ._symbolic import KerasTensor
        from ._weights import _torch_dtype

        extra = self.__dict__.get("_symbolic_extra")
        if extra is None:
            return (), {}

        def convert(value: Any) -> Any:
            if not isinstance(value, KerasTensor):
                return value
            tensor = meta(tuple(value.shape))
            return tensor.to(_torch_dtype(value.dtype)) if value.dtype else tensor

        return map_structure(convert, tuple(extra[0])), map_structure(convert, dict(extra[1]))

    def _real_output(
        self,
        meta_inputs: Any,
        tensors: list[Any],
        extra_args: tuple[Any, ...] = (),
        extra_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        from ._variables import discarding_updates

        device = tensors[0][1].device if tensors else torch.device("cpu")

        def real(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                return t
            return torch.ones(tuple(t.shape), dtype=t.dtype, device=device)

        args = map_structure(real, tuple(extra_args))
        kwargs = map_structure(real, dict(extra_kwargs or {}))
        with torch.no_grad(), discarding_updates():
            return self(map_structure(real, meta_inputs), *args, **kwargs, training=False)  # type: ignore[operator]

    def _call_on_meta(
        self, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any], pass_training: bool
    ) -> Any:
        """`_dispatch` with meta copies of this layer's weights in place of the real ones."""
        tensors = [*self.named_parameters(), *self.named_buffers()]
        state = {k: torch.empty_like(v, device="meta") for k, v in tensors}
        with torch.nn.utils.stateless._reparametrize_module(self, state), _inferring():
            return self._dispatch(method, args, kwargs, pass_training)


def auto_arguments(layer: Any, arguments: Any) -> dict[str, Any] | None:
    """Keras' automatic config of a user's class without get_config: the constructor's
    arguments with their defaults filled in, keyword arguments spread out and `name` left
    out. None (no automatic config) when the call does not bind, the constructor takes
    positional-only or extra positional arguments, or a value (within lists, tuples and
    dicts) is not a str, number, bool or None."""
    if arguments is None:
        return None
    args, kwargs = arguments
    signature = inspect.signature(type(layer).__init__)
    try:
        bound = signature.bind(layer, *args, **kwargs)
    except TypeError:
        return None
    parameters = list(signature.parameters.values())[1:]
    if any(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in parameters):
        return None
    bound.apply_defaults()
    config: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            extra = dict(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        else:
            config[name] = value
    config.update(extra)
    config.pop("name", None)
    if not all(_plain(value) for value in config.values()):
        return None
    return config


def auto_config(layer: Any, config: dict[str, Any]) -> dict[str, Any]:
    """A user's layer's config without get_config, in Keras' order: `name` (kept when
    `__init__` takes `name` or `**kwargs` by that name), the automatic config, then the
    layer's own entries over it. Raises NotImplementedError, as Keras, when an argument is
    not serializable."""
    automatic = auto_arguments(layer, layer.__dict__.get("_init_arguments"))
    if automatic is None:
        raise NotImplementedError(
            f"Object {type(layer).__name__} was created by passing non-serializable argument "
            "values in `__init__()`, and therefore the object must override `get_config()` in "
            "order to be serializable. Please implement `get_config()`."
        )
    parameters = inspect.signature(type(layer).__init__).parameters
    kwargs = parameters.get("kwargs")
    keeps_name = "name" in parameters or (
        kwargs is not None and kwargs.kind is inspect.Parameter.VAR_KEYWORD
    )
    own = {key: value for key, value in config.items() if key != "name"}
    return {**({"name": config["name"]} if keeps_name else {}), **automatic, **own}


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return value is None or isinstance(value, (str, int, float, bool))
