"""Mixed precision, as `keras.mixed_precision`: dtype policies for layers.

A policy names a layer's variable dtype (its weights) and compute dtype (its arithmetic).
'mixed_bfloat16' and 'mixed_float16' keep float32 weights and compute in bfloat16 or float16
under `torch.autocast`; losses and metrics are always computed in float32, and with float16
`fit` scales the loss (torch.amp.GradScaler) so small gradients do not underflow. Layers take
the global policy when they are created, or their own with `dtype=`:

>>> import lamina
>>> lamina.mixed_precision.set_global_policy("mixed_bfloat16")
>>> dense = lamina.layers.Dense(4)
>>> dense.dtype_policy.name, dense.dtype, dense.compute_dtype
('mixed_bfloat16', 'float32', 'bfloat16')
>>> head = lamina.layers.Dense(10, activation="softmax", dtype="float32")  # keep in float32
>>> lamina.mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class DTypePolicy:
    """A layer's dtypes: `variable_dtype` (weights) and `compute_dtype` (arithmetic).

    Args:
        name: 'mixed_float16' or 'mixed_bfloat16' (float32 weights), or the name of any
            dtype ('float32', 'float64', 'int32', 'bool', ...) for both. None gives the
            current global policy's name.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(
                "'name' must be a string, such as 'mixed_float16'. "
                f"Received: name={name} (of type {type(name)})"
            )
        if "_from_" in name:
            raise ValueError(
                f"DTypePolicy {name!r} is a Keras quantized policy; lamina has no quantized "
                "layers. Use a float policy ('float32', 'mixed_float16', ...)."
            )
        self._name = name
        self._compute_dtype = _MIXED.get(name) or _standard_name(name)
        self._variable_dtype = "float32" if name in _MIXED else self._compute_dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def is_mixed(self) -> bool:
        """True when the weights and the arithmetic use different dtypes (autocast)."""
        return self._compute_dtype != self._variable_dtype

    @property
    def torch_compute_dtype(self) -> torch.dtype | None:
        """The compute dtype as a torch dtype; None for 'string' (no torch dtype)."""
        return getattr(torch, self._compute_dtype, None)

    def get_config(self) -> dict[str, Any]:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


def _standard_name(name: str) -> str:
    """Keras' name of the dtype `name` ('int' is 'int32'): any float, integer, bool, complex
    or string dtype makes a policy, as in Keras 3."""
    from ..utils._dtype_utils import standardize_dtype  # lamina.ops imports this module

    try:
        return standardize_dtype(name)
    except ValueError:
        raise ValueError(
            f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include "
            "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
            "'float32'."
        ) from None


Policy = DTypePolicy  # Keras 2's name, still exported by Keras 3
_GLOBAL: list[DTypePolicy | None] = [None]


def global_policy() -> DTypePolicy:
    """The policy new layers get: set by `set_global_policy`, else `lamina.config.floatx()`."""
    if _GLOBAL[0] is not None:
        return _GLOBAL[0]
    from .. import config

    return DTypePolicy(config.floatx())


def set_global_policy(policy: str | DTypePolicy | None) -> None:
    """Set the policy of layers created from now on ('mixed_bfloat16', 'float32', 'int32',
    ...).

    None resets to the default (`floatx`). Layers already created keep theirs, as in Keras.
    """
    if policy is None:
        _GLOBAL[0] = None
        return
    if not isinstance(policy, (str, DTypePolicy)):
        raise ValueError(
            "Invalid `policy` argument. Expected the string name of a policy (such as "
            f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} "
            f"(of type {type(policy)})"
        )
    _GLOBAL[0] = policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)


# Keras 3 also exposes these as keras.config.set_dtype_policy / dtype_policy.
set_dtype_policy = set_global_policy
dtype_policy = global_policy


def resolve(dtype: Any) -> DTypePolicy:
    """A layer's `dtype=` argument as a policy: None (the global policy), a policy, its name,
    a config dict, or a torch, NumPy or Python dtype."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, DTypePolicy):
        return dtype
    if isinstance(dtype, str):
        return DTypePolicy(dtype)
    if isinstance(dtype, dict) and "config" in dtype:  # Keras' serialized DTypePolicy
        return _from_keras_dict(dtype)
    from ..utils._dtype_utils import standardize_dtype

    try:
        return DTypePolicy(standardize_dtype(dtype))
    except ValueError:
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string or an instance of "
            f"DTypePolicy. Received: dtype={dtype}"
        ) from None


# The classes Keras writes for a float policy (FloatDTypePolicy and Policy are old names).
_FLOAT_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy", "Policy")


def _from_keras_dict(entry: dict[str, Any]) -> DTypePolicy:
    """A policy from `{"class_name": "DTypePolicy", "config": {"name": ...}}` (Keras 3's form);
    quantized policies and unknown keys are refused by name."""
    class_name = entry.get("class_name", "DTypePolicy")
    config = entry["config"]
    if class_name not in _FLOAT_POLICY_CLASSES:
        raise ValueError(
            f"Keras dtype policy {class_name} ({config!r}) is not supported by lamina: it has "
            "no quantized layers or per-layer policy maps. Use a float policy."
        )
    if not isinstance(config, dict) or set(config) - {"name"}:
        raise ValueError(f"A {class_name} config holds only 'name'; got {config!r}")
    return DTypePolicy(config.get("name"))


# Set once a layer with a mixed policy exists: until then no layer needs to look at autocast.
_MIXED_LAYERS = [False]


def note_policy(policy: DTypePolicy) -> None:
    """Called by each layer's constructor with its policy."""
    if policy.is_mixed:
        _MIXED_LAYERS[0] = True


def layer_context(policy: DTypePolicy, inputs: Any) -> Any:
    """The context a layer with `policy` computes in: `torch.autocast` for a mixed policy
    (unless already on with that dtype), autocast off for a non-mixed layer inside an
    autocast region, else None (nothing to do)."""
    if not _MIXED_LAYERS[0]:
        return None
    first = inputs
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, dict):
        first = next(iter(first.values()), None)
    if not isinstance(first, torch.Tensor) or first.device.type == "meta":
        return None
    device_type = first.device.type
    enabled = torch.is_autocast_enabled(device_type)
    if policy.is_mixed:
        if enabled and torch.get_autocast_dtype(device_type) == policy.torch_compute_dtype:
            return None
        return torch.autocast(device_type, dtype=policy.torch_compute_dtype)
    return torch.autocast(device_type, enabled=False) if enabled else None


from ..optimizers.loss_scale import LossScaleOptimizer  # noqa: E402  (Keras' second home)
