"""`serialize_keras_object` / `deserialize_keras_object` in Keras 2's format, as
`keras.legacy.saving` (and `keras.utils.legacy`).

Keras 2 writes an object as `{"class_name": <registered name>, "config": get_config()}`, with
no `module` or `registered_name` keys; an object inside a config gets the same form plus
`"__passive_serialization__": True`, and a function is written as its registered name.
Reading back, names resolve only through `custom_objects`, the active custom object scopes,
the registry (`lamina.saving.register_keras_serializable`) and the `module_objects` dict the
caller passes: nothing named in a config is imported. Keras 2's shared-object ids
(`shared_object_id`, for layers shared between models) are not tracked: each config builds a
new object.

>>> import lamina
>>> config = serialize_keras_object(lamina.initializers.Constant(2.0))
>>> config
{'class_name': 'Constant', 'config': {'value': 2.0}}
>>> deserialize_keras_object(config, {"Constant": lamina.initializers.Constant}).value
2.0
"""

from __future__ import annotations

import inspect
from typing import Any

from lamina.saving.registry import CustomObjectScope, get_registered_name, get_registered_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance: Any) -> Any:
    """Keras 2's JSON form of `instance`: `{"class_name", "config"}` for an object with
    `get_config`, the registered name of a function or class, None for None.

    Args:
        instance: the object to serialize.

    >>> import lamina
    >>> serialize_keras_object(lamina.activations.relu)
    'relu'
    """
    instance = inspect.unwrap(instance)
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not isinstance(instance, type):
        config = instance.get_config()
        if not isinstance(config, dict):
            raise ValueError(
                f"Cannot serialize {type(instance).__name__}: its get_config() returned "
                f"{type(config).__name__}, not a dict"
            )
        entries = {}
        for key, item in config.items():
            if isinstance(item, str):
                entries[key] = item
                continue
            try:
                entry = serialize_keras_object(item)
            except ValueError:  # plain values (numbers, lists, dicts) stay as they are
                entries[key] = item
                continue
            if isinstance(entry, dict) and not isinstance(item, dict):
                entry[_PASSIVE] = True
            entries[key] = entry
        return {"class_name": get_registered_name(type(instance)), "config": entries}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(
        f"Cannot serialize {instance!r}: a {type(instance).__name__} has no get_config() and "
        "no name"
    )


def _lookup(
    name: str, module_objects: Any, custom_objects: dict[str, Any] | None, what: str
) -> Any:
    found = get_registered_object(name, custom_objects, module_objects)
    if found is None:
        raise ValueError(
            f"Unknown {what}: {name!r}. Pass it in custom_objects (or module_objects), use "
            "lamina.saving.custom_object_scope, or register it with "
            "lamina.saving.register_keras_serializable"
        )
    return found


def _class_and_config(
    entry: dict[str, Any], module_objects: Any, custom_objects: dict[str, Any] | None, what: str
) -> tuple[Any, Any]:
    if "class_name" not in entry or "config" not in entry:
        raise ValueError(
            f"Cannot deserialize {entry!r}: Keras 2's format is a dict with 'class_name' and "
            "'config' keys"
        )
    cls = _lookup(entry["class_name"], module_objects, custom_objects, what)
    config = entry["config"]
    if not isinstance(config, dict):  # Keras 2's Sequential config is a list of layers
        return cls, config
    config = dict(config)
    for key, item in config.items():
        if key == "name":
            continue
        if isinstance(item, dict) and _PASSIVE in item:
            item = {k: v for k, v in item.items() if k != _PASSIVE}
            config[key] = deserialize_keras_object(
                item, module_objects, custom_objects, "config_item"
            )
        elif isinstance(item, str):
            function = get_registered_object(item, custom_objects, module_objects)
            if inspect.isfunction(function):
                config[key] = function
    return cls, config


def deserialize_keras_object(
    identifier: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """The object Keras 2's form `identifier` describes.

    Args:
        identifier: a `{"class_name", "config"}` dict, a name, or a function (returned as is).
        module_objects: names to classes and functions the caller offers (Keras' layers
            module, say): Keras 2 has no default list.
        custom_objects: the user's names to classes and functions, looked up first.
        printable_module_name: what the object is, for error messages ('layer', ...).

    >>> import lamina
    >>> deserialize_keras_object("Ones", {"Ones": lamina.initializers.Ones})  # doctest: +ELLIPSIS
    <lamina.initializers.Ones object at ...>
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls, config = _class_and_config(
            identifier, module_objects, custom_objects, printable_module_name
        )
        if not hasattr(cls, "from_config"):
            with CustomObjectScope(custom_objects):
                return cls(**config)
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(config, custom_objects=custom_objects or {})
        with CustomObjectScope(custom_objects):
            return cls.from_config(config)
    if isinstance(identifier, str):
        found = _lookup(identifier, module_objects, custom_objects, printable_module_name)
        return found() if inspect.isclass(found) else found
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret serialized {printable_module_name}: {identifier!r} (expected a "
        "dict, a name or a function)"
    )
