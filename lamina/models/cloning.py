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
    call_function: Any = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model with `model`'s architecture and new weights (Keras' `clone_model`).

    Args:
        model: a Sequential, functional or (configurable) subclassed model.
        input_tensors: not supported (give the clone's inputs by calling it).
        clone_function: for a Sequential model, called on each layer to make the clone's
            layer (default: the layer rebuilt from its config).
        call_function, recursive: Keras' arguments for functional graphs, not supported.
    """
    from .functional import Functional
    from .sequential import Sequential

    unsupported = {
        "input_tensors": input_tensors,
        "call_function": call_function,
        "recursive": recursive or None,
        **kwargs,
    }
    given = sorted(name for name, value in unsupported.items() if value is not None)
    if given:
        raise NotImplementedError(
            f"clone_model: {', '.join(given)} not supported; clone the model, then call it on "
            "new inputs if needed"
        )
    if clone_function is not None:
        if not isinstance(model, Sequential) or isinstance(model, Functional):
            raise NotImplementedError(
                "clone_model: clone_function is supported for Sequential models only"
            )
        clone = Sequential(name=model.name)
        if model._input_layer is not None:
            clone.add(model._input_layer.__class__.from_config(model._input_layer.get_config()))
        for layer in model.layers:
            clone.add(clone_function(layer))
        return clone
    clone = _rebuild(_config_of(model))
    if not clone.built and getattr(model, "_build_input_shape", None) is not None:
        clone.build(model._build_input_shape)
    return clone


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
    return model


def _config_of(model: Any) -> dict[str, Any]:
    from .sequential import _serialize_layer

    entry = _serialize_layer(model)
    shape = getattr(model, "_build_input_shape", None)
    if shape is not None and not isinstance(shape, (list, dict)):
        entry["build_config"] = {"input_shape": list(shape)}
    return entry


def _rebuild(entry: dict[str, Any]) -> Any:
    from .sequential import _deserialize_layer

    return _deserialize_layer({k: v for k, v in entry.items() if k != "build_config"})
