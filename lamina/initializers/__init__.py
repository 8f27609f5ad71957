"""Weight initializers by Keras name; shapes and fans follow Keras' layout.

An initializer is called with a shape in Keras' layout (a Dense kernel is (in, out), a Conv2D
kernel (kh, kw, in, out)) so fan-in and fan-out mean what they mean in Keras; layers then permute
the result into PyTorch's layout.

>>> import lamina
>>> lamina.initializers.get("zeros")((2, 3)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

from ._base import Constant, Identity, Initializer, Ones, Zeros
from ._base import compute_fans as compute_fans
from ._random import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
from ._stft import STFT

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "STFT",
    "STFTInitializer",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "IdentityInitializer",
    "OrthogonalInitializer",
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "stft",
    "truncated_normal",
    "variance_scaling",
    "zeros",
    "deserialize",
    "get",
    "serialize",
]

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomNormal,
        RandomUniform,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
        Orthogonal,
        Identity,
        STFT,
    )
}
_NAMES: dict[str, type] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
    "stft": STFT,
    # Keras' aliases
    "IdentityInitializer": Identity,
    "STFTInitializer": STFT,
    "OrthogonalInitializer": Orthogonal,
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
}


def _registered(name: str) -> Any:
    from ..saving.registry import get_registered_object

    return get_registered_object(name)


def _lookup(name: Any, registered_name: Any = None) -> Any:
    cls = _registered(registered_name) if registered_name else None
    cls = cls or _CLASSES.get(name) or _NAMES.get(name) or _registered(name)
    if cls is None:
        raise ValueError(
            f"Unknown initializer {name!r}. Valid names: {', '.join(sorted(_NAMES))}; register "
            "a custom one with lamina.saving.register_serializable"
        )
    return cls


def get(identifier: Any) -> Initializer:
    """Return an initializer from a name ('he_normal'), a class name, a config dict (lamina's
    or Keras 3's, with `module` and `registered_name`) or an object.

    >>> get({"class_name": "GlorotUniform", "config": {"seed": 1, "input_axes": None}})
    ... # doctest: +ELLIPSIS
    <lamina.initializers.GlorotUniform object at ...>
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _lookup(identifier["class_name"], identifier.get("registered_name"))
        config = identifier.get("config") or {}
        if not isinstance(cls, type):  # a registered function
            return cls
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")  # as Keras


def serialize(initializer: Any) -> Any:
    """The JSON form of an initializer, as Keras writes it: {'module', 'class_name', 'config',
    'registered_name'} (a function: its registered name).

    >>> serialize(Zeros())
    {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': None}
    """
    if isinstance(initializer, Initializer):
        from ..utils._serialization import serialize_keras_object

        return serialize_keras_object(initializer)
    if callable(initializer) and not isinstance(initializer, type):
        from ..saving.registry import get_registered_name

        return get_registered_name(initializer)
    return initializer


def deserialize(config: Any) -> Initializer:
    """An initializer from its `serialize` form (a name or a config dict), as `get`."""
    return get(config)


# Keras' other public names of the same classes (`keras.initializers.glorot_uniform(seed=1)`).
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
STFTInitializer, stft = STFT, STFT

# The classes live in private modules; their public home (repr, pickling) is this package.
for _cls in _CLASSES.values():
    _cls.__module__ = __name__
