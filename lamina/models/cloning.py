"""Copies of a model's architecture: Keras' `clone_model`, `Model.to_json` and
`model_from_json`. The copies have new weights (initialized afresh), as in Keras.

>>> import lamina
>>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2, name="out")])
>>> copy = clone_model(model)
>>> copy.count_params(), copy.layers[0].name, copy.layers[0] is model.layers[0]
(10, 'out', False)
>>> model_from_json(model.to_json()).output_shape
(None, 2)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..layers.layer import Layer
from ..saving.registry import CustomObjectScope

__all__ = ["clone_model", "model_from_json", "model_to_json"]


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    call_function: Callable[..., Any] | None = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model with `model`'s architecture and new weights (Keras' `clone_model`); a
    compiled model's clone is compiled the same way.

    Args:
        model: a Sequential, functional or (configurable) subclassed model.
        input_tensors: the clone's inputs (`Input` tensors, in the structure of the model's
            inputs); by default new ones of the same shapes.
        clone_function: called on each layer to make the clone's layer (default: the layer
            rebuilt from its config; return the layer itself to share it).
        call_function: for a functional model, `call_function(layer, *args, **kwargs)`
            replaces each layer call of the graph (to wrap or alter calls).
        recursive: clone the models nested in a functional or Sequential model with the
            same `clone_function` and `call_function` (else `clone_function` gets them).

    >>> import lamina
    >>> inputs = lamina.Input((4,))
    >>> model = lamina.Model(inputs, lamina.layers.Dense(2, name="head")(inputs))
    >>> same = clone_model(model, clone_function=lambda layer: layer)
    >>> same.layers[1] is model.layers[1]
    True
    """
    clone = clone_architecture(
        model, input_tensors, clone_function, call_function, recursive, **kwargs
    )
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


def clone_architecture(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    call_function: Callable[..., Any] | None = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """`clone_model` without the compile: the architecture with new weights."""
    from .functional import Functional
    from .sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model: unexpected arguments {sorted(kwargs)}")
    if isinstance(model, Functional):
        clone = _clone_graph(model, input_tensors, clone_function, call_function, recursive)
    elif isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: call_function is not supported for Sequential models")
        clone = _clone_sequential(model, input_tensors, clone_function, recursive)
    else:
        if input_tensors is not None or clone_function is not None or call_function is not None:
            raise ValueError(
                "clone_model: input_tensors, clone_function and call_function need a "
                f"Sequential or functional model; {type(model).__name__} is subclassed"
            )
        clone = _rebuild(_config_of(model))
        if not clone.built and getattr(model, "_build_input_shape", None) is not None:
            clone.build(model._build_input_shape)
    return clone


def _default_clone(layer: Layer) -> Layer:
    return type(layer).from_config(layer.get_config())


def _layer_cloner(
    clone_function: Any, call_function: Any, recursive: bool
) -> Callable[[Layer], Layer]:
    from .functional import Functional
    from .sequential import Sequential

    made: dict[int, Layer] = {}
    function = clone_function or _default_clone

    def clone(layer: Layer) -> Layer:
        if id(layer) not in made:  # a shared layer stays shared
            if recursive and isinstance(layer, (Functional, Sequential)):
                made[id(layer)] = clone_model(
                    layer,
                    clone_function=clone_function,
                    call_function=call_function if isinstance(layer, Functional) else None,
                    recursive=True,
                )
            else:
                made[id(layer)] = function(layer)
        return made[id(layer)]

    return clone


def _clone_sequential(model: Any, input_tensors: Any, clone_function: Any, recursive: bool) -> Any:
    from ..layers.core import Input, InputLayer
    from .sequential import Sequential

    clone_layer = _layer_cloner(clone_function, None, recursive)
    clone = Sequential(name=model.name, trainable=model.trainable)
    if input_tensors is not None:
        tensors = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(tensors) != 1:
            raise ValueError(
                f"clone_model: a Sequential model takes one input tensor; got {len(tensors)}"
            )
        clone.add(Input(batch_shape=tuple(tensors[0].shape), dtype=tensors[0].dtype))
    elif model._input_layer is not None:
        clone.add(InputLayer.from_config(model._input_layer.get_config()))
    for layer in model.layers:
        clone.add(clone_layer(layer))
    if not clone.built and getattr(model, "_build_input_shape", None) is not None:
        clone.build(model._build_input_shape)
    return clone


def _clone_graph(
    model: Any, input_tensors: Any, clone_function: Any, call_function: Any, recursive: bool
) -> Any:
    from ..layers._symbolic import KerasTensor, flatten_structure, map_structure
    from ..layers.core import Input
    from .functional import Functional

    if input_tensors is None:
        new_inputs = [
            Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=t.layer.name)
            for t in model.inputs
        ]
    else:
        new_inputs = flatten_structure(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f"clone_model: model '{model.name}' has {len(model.inputs)} input(s); "
                f"input_tensors holds {len(new_inputs)}"
            )
    values = {id(old): new for old, new in zip(model.inputs, new_inputs, strict=True)}

    def lookup(item: Any) -> Any:
        return values[id(item)] if isinstance(item, KerasTensor) else item

    clone_layer = _layer_cloner(clone_function, call_function, recursive)
    for node in model._nodes:
        layer = clone_layer(node.layer)
        args = map_structure(lookup, node.call_args)
        kwargs = map_structure(lookup, node.call_kwargs)
        result = call_function(layer, *args, **kwargs) if call_function else layer(*args, **kwargs)
        for old, new in zip(node.output_tensors, flatten_structure(result), strict=True):
            values[id(old)] = new
    inputs = map_structure(lookup, model._input_structure)
    outputs = map_structure(lookup, model._output_structure)
    cls = type(model) if _takes_inputs_and_outputs(type(model)) else Functional
    return cls(inputs, outputs, name=model.name)


def _takes_inputs_and_outputs(cls: type) -> bool:
    import inspect

    try:
        parameters = list(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return False
    return parameters[1:3] == ["inputs", "outputs"]


def model_to_json(model: Any, **kwargs: Any) -> str:
    """The architecture as a JSON string (`json.dumps` arguments such as `indent` pass on)."""
    return json.dumps(_config_of(model), **kwargs)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """A model with the architecture of `to_json()`'s string and new weights."""
    config = json.loads(json_string)
    with CustomObjectScope(custom_objects):
        model = _rebuild(config)
        shape = (config.get("build_config") or {}).get("input_shape")
        if not model.built and shape is not None:
            model.build(tuple(shape))
        if config.get("compile_config"):  # Keras compiles a model whose JSON holds one
            model.compile_from_config(config["compile_config"])
    return model


def _config_of(model: Any) -> dict[str, Any]:
    from .sequential import _serialize_layer

    entry = _serialize_layer(model)
    build_config = model.get_build_config() if hasattr(model, "get_build_config") else None
    if build_config is not None:
        entry["build_config"] = build_config
    if hasattr(model, "get_compile_config"):  # Keras writes {} for a model not compiled
        entry["compile_config"] = model.get_compile_config() or {}
    return entry


def _rebuild(entry: dict[str, Any]) -> Any:
    from .sequential import _deserialize_layer

    return _deserialize_layer({k: v for k, v in entry.items() if k != "build_config"})
