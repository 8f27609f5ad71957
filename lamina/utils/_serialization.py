"""`serialize_keras_object` / `deserialize_keras_object`: any object as Keras 3's JSON form.

A class instance becomes `{"module", "class_name", "config", "registered_name"}` (plus
`build_config` for a built layer), with Keras' public module names ('keras.layers',
'keras.optimizers', ...) so Keras reads what lamina writes and the other way round. Names
resolve only through lamina's modeling namespaces, the serialization registry
(`lamina.saving.register_keras_serializable`) and `custom_objects`: nothing named in a config
is imported, and no code stored in a config is run (a serialized lambda is refused).
"""

from __future__ import annotations

import importlib
import types
from typing import Any

import numpy as np
import torch

from ..layers._symbolic import KerasTensor
from ..saving.registry import (
    CustomObjectScope,
    SafeModeScope,
    get_registered_name,
    get_registered_object,
    in_safe_mode,
    serialize_layer,
)
from ._dtype_utils import standardize_dtype

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PLAIN_TYPES = (str, int, float, bool)

# Keras' public modules of modeling objects and the lamina modules holding them. Only these
# are searched; Keras' non-modeling APIs (keras.utils.get_file, keras.saving.load_model, ...)
# cannot be named by a config.
_NAMESPACES = {
    "keras.layers": "lamina.layers",
    "keras.models": "lamina.models",
    "keras.optimizers": "lamina.optimizers",
    "keras.optimizers.schedules": "lamina.optimizers.schedules",
    "keras.losses": "lamina.losses",
    "keras.metrics": "lamina.metrics",
    "keras.initializers": "lamina.initializers",
    "keras.regularizers": "lamina.regularizers",
    "keras.constraints": "lamina.constraints",
    "keras.activations": "lamina.activations",
    "keras.dtype_policies": "lamina.mixed_precision",
    "keras.mixed_precision": "lamina.mixed_precision",
    "keras": "lamina",
}
# Where serialize_keras_object looks for a class's public name, most specific first.
_CLASS_MODULES = (
    "keras.optimizers.schedules",
    "keras.optimizers",
    "keras.losses",
    "keras.metrics",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras",
)
# Where a function saved as {"module": "builtins", "class_name": "function"} is found.
_FUNCTION_MODULES = ("keras.activations", "keras.losses", "keras.metrics")
# Helpers of those modules that are not modeling functions.
_NOT_MODELING = frozenset({"get", "serialize", "deserialize"})


def _namespace(keras_module: str) -> Any:
    return importlib.import_module(_NAMESPACES[keras_module])


def _public_module(cls: type) -> str | None:
    for keras_module in _CLASS_MODULES:
        if getattr(_namespace(keras_module), cls.__name__, None) is cls:
            return keras_module
    return None


def _class_entry(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    if hasattr(obj, "get_config") and hasattr(obj, "get_build_config"):  # a layer or model
        entry = serialize_layer(obj)
        entry["config"] = _serialize_dict(entry["config"])
        entry.setdefault("registered_name", None)
        return {key: entry[key] for key in ("module", "class_name", "config", "registered_name")}
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(
            f"The get_config() method of {cls.__name__} must return a dict; it returned "
            f"{type(config).__name__} {config!r}"
        )
    return class_entry(obj, _serialize_dict(config))


def class_entry(obj: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Keras' `{"module", "class_name", "config", "registered_name"}` entry of `obj` with
    `config` as given: the public module ('keras.losses') and no registered name for
    Keras' own classes, else the class's module and its registered name."""
    cls = type(obj)
    module = _public_module(cls)
    registered_name = None
    if module is None:
        module = None if cls.__module__ == "__main__" else cls.__module__
        registered_name = get_registered_name(cls)
    return {
        "module": module,
        "class_name": cls.__name__,
        "config": config,
        "registered_name": registered_name,
    }


def _serialize_dict(config: dict[str, Any]) -> dict[str, Any]:
    return {key: serialize_keras_object(value) for key, value in config.items()}


def _special_entry(obj: Any) -> Any:
    """Keras' '__bytes__', '__slice__', ... entries; None when `obj` is not such a value."""
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        parts = {"start": obj.start, "stop": obj.stop, "step": obj.step}
        return {"class_name": "__slice__", "config": _serialize_dict(parts)}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        history = None
        if obj.node is not None:
            nodes = obj.layer._inbound_nodes
            index = next((i for i, node in enumerate(nodes) if node is obj.node), 0)
            history = [obj.layer.name, index, obj.output_index]
        config = {"shape": tuple(obj.shape), "dtype": obj.dtype, "keras_history": history}
        return {"class_name": "__keras_tensor__", "config": config}
    if isinstance(obj, torch.Tensor):
        value = obj.detach().cpu().tolist()
        return {
            "class_name": "__tensor__",
            "config": {"value": value, "dtype": standardize_dtype(obj.dtype)},
        }
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {
            "class_name": "__numpy__",
            "config": {"value": obj.tolist(), "dtype": standardize_dtype(obj.dtype)},
        }
    return None


def serialize_keras_object(obj: Any) -> Any:
    """The JSON form of `obj` that `deserialize_keras_object` turns back into it: plain values,
    lists, tuples and dicts as themselves (recursively), NumPy scalars as Python numbers,
    arrays and tensors as '__numpy__' / '__tensor__' entries, functions by their (registered)
    name, and objects with `get_config()` as a class entry.

    >>> import lamina
    >>> serialize_keras_object(lamina.regularizers.L2(0.1))
    {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.1}, \
'registered_name': None}
    >>> serialize_keras_object(lamina.activations.relu)["config"]
    'relu'
    """
    if obj is None or isinstance(obj, _PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(item) for item in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return _serialize_dict(obj)
    special = _special_entry(obj)
    if special is not None:
        return special
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.item()
    if isinstance(obj, types.FunctionType):
        if obj.__name__ == "<lambda>":
            raise ValueError(
                "Cannot serialize a lambda: lamina never stores code in a config. Define a "
                "named function and register it with lamina.saving.register_keras_serializable."
            )
        name = get_registered_name(obj)
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}  # fmt: skip
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}: a serializable "
            "class implements get_config()."
        )
    entry = _class_entry(obj)
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        entry["build_config"] = _serialize_dict(build_config)
    if hasattr(obj, "get_compile_config"):  # a model: Keras writes {} until compiled
        entry["compile_config"] = _serialize_dict(obj.get_compile_config() or {})
    return entry


# ------------------------------------------------------------------------------ deserialization


def _special_value(class_name: str, config: Any, custom_objects: dict, safe_mode: bool) -> Any:
    if class_name == "__keras_tensor__":
        return KerasTensor(tuple(config["shape"]), dtype=config["dtype"])
    if class_name == "__tensor__":
        from ..ops._dtypes import to_torch_dtype

        return torch.tensor(config["value"], dtype=to_torch_dtype(config["dtype"]))
    if class_name == "__numpy__":
        return np.array(config["value"], dtype=config["dtype"])
    if class_name == "__bytes__":
        return config["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        parts = [
            deserialize_keras_object(config[key], custom_objects, safe_mode)
            for key in ("start", "stop", "step")
        ]
        return slice(*parts)
    raise ValueError(
        "The config holds a Python lambda (bytecode). lamina never runs code stored in a "
        "config, whatever safe_mode says: define the function in your code, register it with "
        "lamina.saving.register_keras_serializable, and save it by name."
    )


_SPECIAL = ("__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__")
_SPECIAL += ("__slice__", "__lambda__")


def _lookup(name: str, keras_module: str, want_class: bool) -> Any:
    obj = getattr(_namespace(keras_module), name, None)
    if want_class:
        return obj if isinstance(obj, type) and hasattr(obj, "from_config") else None
    if name in _NOT_MODELING or isinstance(obj, type) or not callable(obj):
        return None
    return obj


def _from_module(name: str, module: str | None, want_class: bool, config: dict) -> Any:
    """A lamina class or function for a Keras `module` and name; None when not found."""
    what = "class" if want_class else "function"
    if module == "builtins" and not want_class:
        for keras_module in _FUNCTION_MODULES:
            found = _lookup(name, keras_module, want_class)
            if found is not None:
                return found
        return None
    if not module or not (module == "keras" or module.startswith("keras.")):
        return None
    if module in _NAMESPACES:
        found = _lookup(name, module, want_class)
        if found is None:
            raise ValueError(f"Unknown {what} '{module}.{name}' in config {config!r}")
        return found
    if module.startswith("keras.src."):
        # Keras' internal module path: search the namespace the path names first, then all.
        parts = module.split(".")
        order = sorted(_NAMESPACES, key=lambda m: m.split(".")[-1] not in parts)
        for keras_module in order:
            found = _lookup(name, keras_module, want_class)
            if found is not None:
                return found
        return None
    raise ValueError(
        f"Cannot deserialize '{module}.{name}': it is not a modeling {what}. A config may "
        "only name layers, models, optimizers, losses, metrics, initializers, regularizers, "
        "constraints, activations or registered custom objects."
    )


def _resolve(config: dict, want_class: bool, custom_objects: dict) -> Any:
    class_name = config["class_name"]
    name = class_name if want_class else config["config"]
    registered = config.get("registered_name", class_name)
    found = get_registered_object(registered if want_class else name, custom_objects)
    if found is not None:
        return found
    found = _from_module(name, config.get("module"), want_class, config)
    if found is None:
        what = "class" if want_class else "function"
        raise TypeError(
            f"Could not locate {what} {name!r}. Register custom classes and functions with "
            "@lamina.saving.register_keras_serializable() (and import them before loading), "
            f"or pass them in custom_objects. Full object config: {config!r}"
        )
    explicit = config.get("registered_name")
    if explicit and explicit not in (name, class_name):
        raise ValueError(
            f"registered_name={explicit!r} was given, but {name!r} is a built-in, which has "
            f"no registered name; remove registered_name from the config: {config!r}"
        )
    return found


def deserialize_keras_object(
    config: Any,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
    **kwargs: Any,
) -> Any:
    """Rebuild the object `serialize_keras_object` (lamina's or Keras') described.

    Args:
        config: the serialized form: a plain value, a list, a dict of them, or a class entry
            `{"module", "class_name", "config", "registered_name"}`.
        custom_objects: names to classes or functions, searched before the registry.
        safe_mode: False lets `Lambda` layers load (their functions are still only looked up
            by name); serialized lambdas are refused either way.
        **kwargs: `module_objects`, a dict of further names (Keras' legacy argument).

    >>> import lamina
    >>> layer = deserialize_keras_object({"module": "keras.layers", "class_name": "Dense",
    ...     "config": {"units": 3}, "build_config": {"input_shape": [None, 4]}})
    >>> layer.count_params()
    15
    """
    module_objects = kwargs.pop("module_objects", None) or {}
    if kwargs:
        raise TypeError(f"deserialize_keras_object got unexpected arguments {sorted(kwargs)}")
    custom_objects = {**module_objects, **(custom_objects or {})}
    safe_mode = safe_mode and in_safe_mode()
    if config is None:
        return None
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        return config if found is None else found
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(item, custom_objects, safe_mode) for item in config]
    if isinstance(config, _PLAIN_TYPES):
        return config
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {
            key: deserialize_keras_object(value, custom_objects, safe_mode)
            for key, value in config.items()
        }
    class_name = config["class_name"]
    inner = {} if config["config"] is None else config["config"]
    if class_name in _SPECIAL:
        return _special_value(class_name, inner, custom_objects, safe_mode)
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(
                f"A function entry's 'config' is the function's name; got {inner!r} in {config!r}"
            )
        return _resolve(config, want_class=False, custom_objects=custom_objects)
    if not isinstance(inner, dict):
        raise TypeError(f"A class entry's 'config' is a dict; got {inner!r} in {config!r}")
    cls = _resolve(config, want_class=True, custom_objects=custom_objects)
    if isinstance(cls, types.FunctionType):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Cannot rebuild {class_name!r}: {cls!r} has no from_config() method. Full "
            f"object config: {config!r}"
        )
    with CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
        try:
            instance = cls.from_config(inner)
        except TypeError as error:
            raise TypeError(
                f"{class_name} could not be rebuilt from its config ({error}). Objects that "
                f"get_config() returns must be deserialized in from_config(). Config: {config!r}"
            ) from error
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config)
    return instance
