"""The serialization registry: how a name in a saved file finds a class or function.

A model file names classes and functions (`"class_name": "Dense"`, `"activation": "relu"`).
lamina resolves such names only through its own tables, the classes and functions registered
with `register_serializable`, and the `custom_objects` a caller passes (directly or through
`custom_object_scope`). Nothing named in a file is ever imported.

>>> import lamina
>>> @lamina.saving.register_serializable(package="Demo")
... def doubled_relu(x):
...     return 2 * lamina.activations.relu(x)
>>> lamina.saving.get_registered_name(doubled_relu)
'Demo>doubled_relu'
>>> lamina.activations.get("Demo>doubled_relu") is doubled_relu
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "CustomObjectScope",
    "SafeModeScope",
    "UnknownObjectError",
    "build_config_of",
    "build_from_config",
    "custom_object_scope",
    "deserialize_layer",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "in_safe_mode",
    "register_keras_serializable",
    "register_serializable",
    "resolve_class",
    "serialize_layer",
]

T = TypeVar("T")


class UnknownObjectError(ValueError, TypeError):
    """A saved config names a class or function that is neither lamina's nor registered.
    Keras raises TypeError ("Could not locate class ..."); lamina's errors are ValueErrors:
    both `except` clauses catch this one."""


# "package>name" -> object, and object -> "package>name".
_GLOBAL_OBJECTS: dict[str, Any] = {}
_NAMES: dict[Any, str] = {}
_scopes = threading.local()


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable[[T], T]:
    """Register a class or function so saved models can name it (as `package>name`).

    Args:
        package: a namespace for the name, to avoid clashes between libraries.
        name: the name to register (default: the class or function's `__name__`).

    Classes must implement `get_config()` returning their constructor arguments (or accept
    `**kwargs` with what the base class returns), so that `cls.from_config(config)` rebuilds
    them.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"package must be a string without '>'; got {package!r}")

    def decorator(obj: T) -> T:
        object_name = name or getattr(obj, "__name__", None)
        if not object_name:
            raise ValueError(f"Cannot register {obj!r}: it has no __name__; pass name=...")
        key = f"{package}>{object_name}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register class {obj.__name__}: it has no get_config() method, so "
                "it could not be saved. Implement get_config() returning its arguments."
            )
        previous = _GLOBAL_OBJECTS.get(key)
        if previous is not None and previous is not obj:
            _NAMES.pop(previous, None)
        _GLOBAL_OBJECTS[key] = obj
        _NAMES[obj] = key
        return obj

    return decorator


# Keras' name for the same decorator, so Keras code runs unchanged.
register_keras_serializable = register_serializable


def get_registered_name(obj: Any) -> str:
    """The name `obj` (or its class) is registered under (`package>name`), else its name."""
    for candidate in (obj, type(obj)):
        try:
            if candidate in _NAMES:
                return _NAMES[candidate]
        except TypeError:  # unhashable
            continue
    return getattr(obj, "__name__", type(obj).__name__)


def get_custom_objects() -> dict[str, Any]:
    """The global registry (a live dict, as Keras': entries added to it are found by name)."""
    return _GLOBAL_OBJECTS


def _active_scopes() -> list[dict[str, Any]]:
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


class CustomObjectScope:
    """Within `with CustomObjectScope({'name': obj}):`, saved names resolve to these objects."""

    def __init__(self, *custom_objects: dict[str, Any] | None) -> None:
        merged: dict[str, Any] = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(
                    f"custom_objects must be a dict mapping names to classes or functions; got "
                    f"{type(objects).__name__}"
                )
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self) -> CustomObjectScope:
        _active_scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc: object) -> None:
        _active_scopes().pop()


custom_object_scope = CustomObjectScope


def get_registered_object(
    name: str, custom_objects: dict[str, Any] | None = None, module_objects: Any = None
) -> Any:
    """The object saved files call `name`: from `custom_objects`, the active scopes or the
    registry (by `package>name`, or by bare name when it is unique); None when unknown."""
    if not isinstance(name, str):
        return None
    for objects in (custom_objects or {}, *reversed(_active_scopes())):
        if name in objects:
            return objects[name]
    if name in _GLOBAL_OBJECTS:
        return _GLOBAL_OBJECTS[name]
    matches = [obj for key, obj in _GLOBAL_OBJECTS.items() if key.split(">", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    if isinstance(module_objects, dict) and name in module_objects:
        return module_objects[name]
    return None


def resolve_class(
    config: dict[str, Any], builtin: Any, custom_objects: dict[str, Any] | None = None
) -> Any:
    """The class a serialized `{"class_name": ..., "registered_name": ...}` names: the
    caller's or a registered one first, else `builtin` (lamina's own, looked up by the
    caller); None when neither exists."""
    name = config.get("registered_name") or config.get("class_name")
    return get_registered_object(name, custom_objects) or builtin


_safe_mode = threading.local()


def in_safe_mode() -> bool:
    """True unless a `SafeModeScope(False)` is active (as while `load_model(safe_mode=False)`
    rebuilds a model) or `enable_unsafe_deserialization()` was called."""
    stack = getattr(_safe_mode, "stack", [])
    if stack:
        return stack[-1]
    return not _UNSAFE_GLOBALLY[0]


_UNSAFE_GLOBALLY = [False]


def enable_unsafe_deserialization() -> None:
    """Let `Lambda` layers load everywhere in this process (Keras'
    `keras.config.enable_unsafe_deserialization`). Their functions are still only looked up in
    `custom_objects` and the registry: lamina never runs code stored in a file."""
    _UNSAFE_GLOBALLY[0] = True


class SafeModeScope:
    """`with SafeModeScope(False):` lets Lambda layers be deserialized inside the block."""

    def __init__(self, safe_mode: bool = True) -> None:
        if not isinstance(safe_mode, bool):
            raise TypeError(f"safe_mode must be True or False; got {safe_mode!r}")
        self.safe_mode = safe_mode

    def __enter__(self) -> SafeModeScope:
        if not hasattr(_safe_mode, "stack"):
            _safe_mode.stack = []
        _safe_mode.stack.append(self.safe_mode)
        return self

    def __exit__(self, *exc: object) -> None:
        _safe_mode.stack.pop()


# ---------------------------------------------------------------------- layers and build configs


def _shape_to_json(shape: Any) -> Any:
    """A shape as a tuple (as Keras keeps it; JSON writes a list), shapes in lists as a list."""
    if isinstance(shape, (tuple, list)):
        if all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in shape):
            return tuple(shape)
        return [_shape_to_json(d) for d in shape]
    if isinstance(shape, dict):
        return {key: _shape_to_json(value) for key, value in shape.items()}
    return shape


def _shape_from_json(shape: Any) -> Any:
    """A shape (a list of ints and Nones) as a tuple, as a layer sees it when built by a
    call; lists and dicts of shapes element by element."""
    if isinstance(shape, dict):
        return {key: _shape_from_json(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)):
        if all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in shape):
            return tuple(shape)
        return [_shape_from_json(s) for s in shape]
    return shape


def build_config_of(layer: Any) -> dict[str, Any] | None:
    """Keras' `build_config` of a layer: `{"input_shape": ...}` (`{"shapes_dict": ...}` for a
    layer built from several shapes, such as attention), None until it is built."""
    from ..models.functional import Functional

    if isinstance(layer, Functional):  # built from its graph, not a shape: Keras writes None
        return {"input_shape": None}
    shapes = getattr(layer, "_build_shapes_dict", None)
    if layer.built and shapes:
        return {"shapes_dict": {key: _shape_to_json(value) for key, value in shapes.items()}}
    shape = getattr(layer, "_build_input_shape", None)
    if not layer.built or shape is None:
        return None
    return {"input_shape": _shape_to_json(shape)}


def build_from_config(layer: Any, config: dict[str, Any] | None) -> None:
    """Build `layer` from a `build_config`: `{"input_shape": ...}`, or Keras 3's
    `{"shapes_dict": {"query_shape": ..., "value_shape": ...}}` for a layer whose `build`
    takes several shapes. None, or an input shape of None, leaves it to build on its first
    call; a built layer is left as it is."""
    from ..layers._shape_inference import real_device

    if not config or layer.built:
        return
    if not isinstance(config, dict) or not {"input_shape", "shapes_dict"} & set(config):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': a build_config holds 'input_shape' or "
            f"'shapes_dict'; got {config!r}"
        )
    with real_device():
        if "input_shape" in config:
            if config["input_shape"] is not None:
                layer._maybe_build(_shape_from_json(config["input_shape"]))
            return
        shapes = {key: _shape_from_json(value) for key, value in config["shapes_dict"].items()}
        if len(shapes) == 1:
            layer._maybe_build(next(iter(shapes.values())))
        else:
            layer.build(**shapes)
            layer.built = True


def serialize_layer(layer: Any) -> dict[str, Any]:
    """A layer (or model) as `{"module", "class_name", "config", "build_config"}`, the form
    Keras 3 writes (`keras.saving.serialize_keras_object`); `deserialize_layer` rebuilds it.

    >>> import lamina
    >>> entry = serialize_layer(lamina.layers.Dense(2, name="d"))
    >>> entry["class_name"], entry["config"]["units"]
    ('Dense', 2)
    """
    from ..models.sequential import _serialize_layer

    entry = _serialize_layer(layer)
    build_config = layer.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    if hasattr(layer, "get_compile_config"):  # a model: Keras writes {} until compiled
        entry["compile_config"] = layer.get_compile_config() or {}
    return entry


def deserialize_layer(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuild a layer or model from `serialize_layer`'s dict or one Keras 3 wrote, built
    from its `build_config` when it has one. Classes resolve among lamina's, the registered
    ones and `custom_objects`; the `module` named in the config is never imported.

    >>> layer = deserialize_layer({"module": "keras.layers", "class_name": "Dense",
    ...     "config": {"units": 3}, "build_config": {"input_shape": [None, 4]}})
    >>> layer.count_params()
    15
    """
    from ..models.sequential import _deserialize_layer

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "A serialized layer is a dict {'class_name': ..., 'config': {...}} (as "
            f"serialize_layer or Keras 3 write it); got {config!r}"
        )
    with CustomObjectScope(custom_objects):
        layer = _deserialize_layer({**config, "config": config.get("config") or {}})
        layer.build_from_config(config.get("build_config"))
    return layer
