"""Weight initializers by Keras name; shapes and fans follow Keras' layout.

An initializer is called with a shape in Keras' layout (a Dense kernel is (in, out), a Conv2D
kernel (kh, kw, in, out)) so fan-in and fan-out mean what they mean in Keras; layers then permute
the result into PyTorch's layout.

>>> import lamina
>>> lamina.initializers.get("zeros")((2, 3)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import torch

from . import config
from .random._seed_generator import SeedGenerator, make_generator

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
    "truncated_normal",
    "variance_scaling",
    "zeros",
    "deserialize",
    "get",
    "serialize",
]

# Standard deviation of a unit normal truncated to [-2, 2]: dividing by it gives the truncated
# distribution the requested variance (Keras' VarianceScaling does the same).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(
    shape: tuple[int, ...],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Fan-in and fan-out of a weight of `shape` in Keras' layout.

    With both `input_axes` and `output_axes` given, the fans are the products of the sizes on
    those axes (as Keras 3.15); with either missing, the layout rule below applies.

    >>> compute_fans((3, 3, 4, 8)), compute_fans((2, 5, 7), input_axes=[0], output_axes=[1, 2])
    ((36, 72), (2, 35))
    """
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _check_seed(owner: str, seed: Any) -> Any:
    """`seed` as an initializer keeps it: None, an int, or a SeedGenerator (also given as the
    config dict Keras writes for one, `{"class_name": "SeedGenerator", "config": {...}}`)."""
    if isinstance(seed, dict):
        if seed.get("class_name") != "SeedGenerator" or not isinstance(seed.get("config"), dict):
            raise ValueError(
                f"{owner}: seed must be None, an int or a SeedGenerator config; got {seed!r}"
            )
        return SeedGenerator.from_config(seed["config"])
    if seed is None or isinstance(seed, SeedGenerator):
        return seed
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    raise ValueError(f"{owner}: seed must be None, an int or a SeedGenerator; got {seed!r}")


def _seed_config(seed: Any) -> Any:
    """The JSON form of a seed, as Keras writes it."""
    if isinstance(seed, SeedGenerator):
        return {
            "module": "keras.random",
            "class_name": "SeedGenerator",
            "config": seed.get_config(),
            "registered_name": None,
        }
    return seed


def _generator(seed: Any) -> torch.Generator | None:
    """None for seed=None (torch's global generator); a SeedGenerator advances at each call, so
    a weight initialized twice gets new values, as in Keras."""
    return make_generator(seed, torch.device("cpu"))


def _check_axes(owner: str, name: str, axes: Any) -> list[int] | None:
    if axes is None:
        return None
    if isinstance(axes, int) and not isinstance(axes, bool):
        axes = [axes]
    if not isinstance(axes, (list, tuple)) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in axes
    ):
        raise ValueError(f"{owner}: {name} must be None or a list of ints; got {axes!r}")
    return list(axes)


class Initializer:
    """Base class: `init(shape, dtype=None)` returns a new CPU tensor of that shape."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Rebuild an initializer from `get_config()`'s dict (or the one Keras 3.15 writes)."""
        accepted = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
            unknown = sorted(set(config) - set(accepted) - {"self"})
            if unknown:
                raise ValueError(
                    f"Initializer {cls.__name__}: unknown config key(s) {unknown}; it takes "
                    f"{sorted(set(accepted) - {'self'})}"
                )
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        return torch.zeros(shape, dtype=config.torch_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        return torch.ones(shape, dtype=config.torch_dtype(dtype))


class Constant(Initializer):
    """All equal to `value`."""

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        torch_dtype = config.torch_dtype(dtype)
        if isinstance(self.value, (int, float)):
            return torch.full(shape, float(self.value), dtype=torch_dtype)
        value = torch.as_tensor(self.value, dtype=torch_dtype)  # broadcast, as Keras
        try:
            return value * torch.ones(shape, dtype=torch_dtype)
        except RuntimeError:
            raise ValueError(
                f"Constant initializer: value of shape {tuple(value.shape)} does not broadcast "
                f"to the weight shape {tuple(shape)}"
            ) from None

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal distribution with `mean` and `stddev`."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean, self.stddev = mean, stddev
        self.seed = _check_seed(type(self).__name__, seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        out = torch.empty(shape, dtype=config.torch_dtype(dtype))
        return out.normal_(self.mean, self.stddev, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": _seed_config(self.seed)}


class RandomUniform(Initializer):
    """Uniform distribution on [minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval, self.maxval = minval, maxval
        self.seed = _check_seed("RandomUniform", seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        out = torch.empty(shape, dtype=config.torch_dtype(dtype))
        return out.uniform_(self.minval, self.maxval, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": _seed_config(self.seed)}


class TruncatedNormal(Initializer):
    """Normal distribution cut at two standard deviations from the mean."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean, self.stddev = mean, stddev
        self.seed = _check_seed(type(self).__name__, seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        # Inverse CDF in one pass: uniform between erf(-sqrt 2) and erf(sqrt 2), mapped through
        # erfinv (torch's trunc_normal_ rejection sampling is ~25x slower on big kernels).
        bound = math.erf(math.sqrt(2.0))
        out = torch.empty(shape, dtype=torch.float32)
        out.uniform_(-bound, bound, generator=_generator(self.seed))
        out.erfinv_().mul_(self.stddev * math.sqrt(2.0)).add_(self.mean)
        out.clamp_(self.mean - 2 * self.stddev, self.mean + 2 * self.stddev)
        return out.to(config.torch_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": _seed_config(self.seed)}


class VarianceScaling(Initializer):
    """Samples scaled by the weight's fan: variance `scale / n`, n from `mode`.

    `input_axes` and `output_axes` (Keras 3.15), given together, name the axes of the weight
    (in Keras' layout) whose sizes multiply into the fan-in and fan-out; see `compute_fans`.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        if isinstance(distribution, str) and distribution.lower() == "normal":
            distribution = "truncated_normal"  # Keras' alias
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling scale must be positive; got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"VarianceScaling mode must be fan_in, fan_out or fan_avg; got {mode!r}"
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling distribution must be truncated_normal, untruncated_normal or "
                f"uniform; got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        owner = type(self).__name__
        self.seed = _check_seed(owner, seed)
        self.input_axes = _check_axes(owner, "input_axes", input_axes)
        self.output_axes = _check_axes(owner, "output_axes", output_axes)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        for axes in (self.input_axes, self.output_axes):
            if axes is not None and any(not -len(shape) <= a < len(shape) for a in axes):
                raise ValueError(
                    f"{type(self).__name__}: axes {axes} are out of range for a weight of "
                    f"shape {tuple(shape)}"
                )
        fan_in, fan_out = compute_fans(tuple(shape), self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return RandomUniform(-limit, limit, self.seed)(shape, dtype)
        if self.distribution == "untruncated_normal":
            return RandomNormal(0.0, math.sqrt(variance), self.seed)(shape, dtype)
        return TruncatedNormal(0.0, math.sqrt(variance) / _TRUNCATED_STD, self.seed)(shape, dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


def _variance_scaling_preset(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(
        self: VarianceScaling,
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }

    doc = f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    return type(
        name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc}
    )


GlorotUniform = _variance_scaling_preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling_preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling_preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling_preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling_preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling_preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix over the last axis, times `gain`."""

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = gain
        self.seed = _check_seed("Orthogonal", seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of at least 2 dimensions; got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty(rows, cols).normal_(generator=_generator(self.seed))
        transposed = rows < cols
        if transposed:
            flat = flat.T
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if transposed:
            q = q.T
        return (self.gain * q).reshape(shape).to(config.torch_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": _seed_config(self.seed)}


class Identity(Initializer):
    """The identity matrix times `gain` (2-D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape; got {shape}")
        return self.gain * torch.eye(*shape, dtype=config.torch_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


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
    # Keras' aliases
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
}
# Keras initializers lamina does not have: named in the error, rather than "unknown".
_MISSING = {"STFT", "STFTInitializer", "stft"}


def _registered(name: str) -> Any:
    from .saving.registry import get_registered_object

    return get_registered_object(name)


def _lookup(name: Any, registered_name: Any = None) -> Any:
    cls = _registered(registered_name) if registered_name else None
    cls = cls or _CLASSES.get(name) or _NAMES.get(name) or _registered(name)
    if cls is None and name in _MISSING:
        raise ValueError(f"The Keras initializer {name!r} is not available in lamina")
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
    raise TypeError(f"Cannot interpret {identifier!r} as an initializer")


def serialize(initializer: Any) -> Any:
    """Return the JSON form of an initializer: {'class_name': ..., 'config': ...}."""
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    if callable(initializer) and not isinstance(initializer, type):
        from .saving.registry import get_registered_name

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
