"""Dtype policies, as `keras.dtype_policies`: lamina's `mixed_precision.DTypePolicy` under
Keras 3's names, a `DTypePolicyMap` from layer paths to policies, and `get`, `serialize`,
`deserialize`. The quantized policies of `layer.quantize` ('int8_from_float32',
'int4/128_from_float32', 'float8_from_float32') live in `lamina.quantizers._policies`; GPTQ
and AWQ policies are named, and refuse to be created with an error that says so.

>>> import lamina
>>> policy = lamina.dtype_policies.get("mixed_bfloat16")
>>> policy.compute_dtype, policy.variable_dtype
('bfloat16', 'float32')
>>> lamina.dtype_policies.serialize(policy)["config"]
{'name': 'mixed_bfloat16'}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any

from ..mixed_precision import DTypePolicy, global_policy, resolve

__all__ = [
    "AWQDTypePolicy",
    "DTypePolicy",
    "DTypePolicyMap",
    "FloatDTypePolicy",
    "GPTQDTypePolicy",
    "Int4DTypePolicy",
    "QuantizedDTypePolicy",
    "QuantizedFloat8DTypePolicy",
    "deserialize",
    "get",
    "serialize",
]

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")


class FloatDTypePolicy(DTypePolicy):
    """Keras' older name of a float `DTypePolicy` (same behaviour, its own class name)."""


def _no_quantization(what: str) -> ValueError:
    return ValueError(
        f"{what}: lamina has no GPTQ or AWQ layers, so those quantized dtype policies are not "
        "supported. Use 'int8', 'int4' or 'float8' (`layer.quantize(mode)`), or a float policy."
    )


def _quantized_policies() -> Any:
    # Imported when first needed: lamina.quantizers imports lamina.ops, which imports the
    # layers, which are imported after this module.
    from ..quantizers import _policies

    return _policies


class GPTQDTypePolicy(DTypePolicy):
    """Keras' GPTQ policy: not supported, creating one raises."""

    def __init__(self, mode: str, source_name: str | None = None, **kwargs: Any) -> None:
        raise _no_quantization(f"{type(self).__name__}(mode={mode!r})")


class AWQDTypePolicy(GPTQDTypePolicy):
    """Keras' AWQ policy: not supported, creating one raises."""


_SUPPORTED_QUANTIZED = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "Int4DTypePolicy")


def __getattr__(name: str) -> Any:
    if name in _SUPPORTED_QUANTIZED:
        return getattr(_quantized_policies(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DTypePolicyMap(MutableMapping):
    """Maps layer paths to policies: a key is a path or a regular expression matching a whole
    path (``"encoder/.*"``); other paths get `default_policy` (None: the global policy).

    Args:
        default_policy: the policy (or its name) of unmatched paths.
        policy_map: an initial dict of keys to policies.

    >>> policies = DTypePolicyMap("mixed_bfloat16", {"head/.*": "float32"})
    >>> policies["head/dense"].name, policies["encoder/dense"].name
    ('float32', 'mixed_bfloat16')
    """

    def __init__(
        self, default_policy: Any = None, policy_map: dict[str, Any] | None = None
    ) -> None:
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("DTypePolicyMap: `default_policy` cannot be a DTypePolicyMap")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(f"DTypePolicyMap: `policy_map` must be a dict; got {policy_map!r}")
        self._default_policy_arg = default_policy
        self._policy_map: dict[str, DTypePolicy] = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def default_policy(self) -> DTypePolicy:
        return get(self._default_policy_arg)

    def __getitem__(self, key: str) -> DTypePolicy:
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"DTypePolicyMap: several keys match the path {key!r}: {matches}; make the "
                "patterns exclusive."
            )
        return self._policy_map[matches[0]] if matches else self.default_policy

    def __setitem__(self, key: str, policy: Any) -> None:
        if key in self._policy_map:
            raise ValueError(f"DTypePolicyMap: {key!r} is already mapped; keys must be unique.")
        self._policy_map[key] = get(policy)

    def __delitem__(self, key: str) -> None:
        del self._policy_map[key]

    def __len__(self) -> int:
        return len(self._policy_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy_map)

    def get_config(self) -> dict[str, Any]:
        default = self._default_policy_arg
        if isinstance(default, DTypePolicy):
            default = serialize(default)
        return {
            "default_policy": default,
            "policy_map": {key: serialize(policy) for key, policy in self._policy_map.items()},
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicyMap:
        default = config.get("default_policy")
        if isinstance(default, dict):
            default = deserialize(default)
        mapping = {key: deserialize(value) for key, value in config.get("policy_map", {}).items()}
        return cls(default, mapping)

    def __repr__(self) -> str:
        return f"<DTypePolicyMap default={self._default_policy_arg!r} keys={list(self)}>"


_FLOAT_CLASSES: dict[str, type[DTypePolicy]] = {
    "DTypePolicy": DTypePolicy,
    "FloatDTypePolicy": FloatDTypePolicy,
    "Policy": DTypePolicy,
}
_QUANTIZED = {"GPTQDTypePolicy", "AWQDTypePolicy"}


def serialize(dtype_policy: DTypePolicy | DTypePolicyMap) -> dict[str, Any]:
    """The policy as Keras 3 writes it: ``{"module", "class_name", "config",
    "registered_name"}``."""
    if isinstance(dtype_policy, DTypePolicyMap) or hasattr(dtype_policy, "quantization_mode"):
        module = "keras.dtype_policies"
    elif isinstance(dtype_policy, DTypePolicy):
        module = "keras"
    else:
        raise TypeError(f"serialize expects a DTypePolicy or DTypePolicyMap; got {dtype_policy!r}")
    return {
        "module": module,
        "class_name": type(dtype_policy).__name__,
        "config": dtype_policy.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> DTypePolicy | DTypePolicyMap:
    """A policy from `serialize`'s (or Keras') dict; `custom_objects` maps other class names
    to classes with `from_config`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"deserialize expects a dict with 'class_name' and 'config'; got {config!r}"
        )
    class_name, inner = config["class_name"], config.get("config", {})
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name].from_config(inner)
    if class_name == "DTypePolicyMap":
        return DTypePolicyMap.from_config(inner)
    if class_name in _SUPPORTED_QUANTIZED:
        return getattr(_quantized_policies(), class_name)(**inner)
    if class_name in _QUANTIZED:
        raise _no_quantization(f"{class_name}({inner!r})")
    if class_name not in _FLOAT_CLASSES:
        raise ValueError(
            f"Unknown dtype policy class {class_name!r}; expected one of "
            f"{sorted([*_FLOAT_CLASSES, 'DTypePolicyMap'])}"
        )
    if not isinstance(inner, dict) or set(inner) - {"name"}:
        raise ValueError(f"A {class_name} config holds only 'name'; got {inner!r}")
    return _FLOAT_CLASSES[class_name](inner.get("name"))


def get(identifier: Any) -> DTypePolicy:
    """A policy from None (the global policy), a policy (as is), a name ('mixed_float16',
    'int32'), a torch, NumPy or Python dtype, or a config dict."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.startswith(("gptq", "awq")):
            raise _no_quantization(f"dtype policy {identifier!r}")
        if identifier.startswith(QUANTIZATION_MODES):
            return _quantized_policies().quantized_policy(identifier)
        return DTypePolicy(identifier)
    return resolve(identifier)  # a torch, NumPy or Python dtype
