"""The initializer base class, fans and seeds, and the constant initializers.

>>> Constant(2.0)((2,)).tolist()
[2.0, 2.0]
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import torch

from .. import config
from ..random._seed_generator import SeedGenerator, make_generator

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
