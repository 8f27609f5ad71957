"""`SeedGenerator`: a reproducible stream of seeds for the random functions, and the rules that
turn a `seed` argument (None, an int or a SeedGenerator) into a `torch.Generator`.

A SeedGenerator holds a CPU `torch.Generator` seeded once; each draw takes the next 64-bit seed
from it and seeds a fresh generator on the device the numbers are drawn on (CPU, CUDA, ...), so
the sequence of seeds is the same whatever the device, while the numbers drawn from them are
each device's own (CPU and CUDA use different algorithms).

>>> gen = SeedGenerator(1337)
>>> first, second = gen.next(), gen.next()
>>> first != second, SeedGenerator(1337).next() == first
(True, True)
"""

from __future__ import annotations

import copy
import itertools
import random as python_random
from typing import Any

import torch

__all__ = ["SeedGenerator", "make_generator", "seed_device"]

_NAMES = itertools.count(1)
_SEED_RANGE = (1 << 63) - 1  # torch.randint's exclusive bound, within int64


class SeedGenerator:
    """A reproducible sequence of seeds: pass it as `seed=` to draw different numbers at each
    call, the same sequence after re-creating it with the same seed.

    Not a weight: a layer holding one keeps its `get_weights()`, `state_dict()` and saved files
    unchanged; a loaded model starts the sequence again from the seed.

    Args:
        seed: an int; None picks one from Python's `random` (reproducible after
            `lamina.utils.set_random_seed`).
        name: a name for the generator.

    >>> gen = SeedGenerator(seed=42)
    >>> gen.get_config()["seed"]
    42
    """

    def __init__(self, seed: int | None = None, name: str | None = None) -> None:
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"SeedGenerator: seed must be an int or None; got seed={seed!r}")
        self.name = name if name is not None else f"seed_generator_{next(_NAMES)}"
        self._initial_seed = seed
        self.seed = seed if seed is not None else python_random.randint(1, 10**9)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(self.seed % (1 << 64))

    def next(self) -> int:
        """The next seed of the sequence (a non-negative int below 2**63); advances the state."""
        return int(torch.randint(0, _SEED_RANGE, (), dtype=torch.int64, generator=self.generator))

    def reset(self) -> None:
        """Restart the sequence from the seed."""
        self.generator.manual_seed(self.seed % (1 << 64))

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)

    # torch.Generator does not pickle on every torch version: copy the state as a tensor.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["generator"] = self.generator.get_state()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        generator = torch.Generator(device="cpu")
        generator.set_state(state.pop("generator"))
        self.__dict__.update(state)
        self.generator = generator

    def __deepcopy__(self, memo: dict[int, Any]) -> SeedGenerator:
        clone = copy.copy(self)
        clone.generator = torch.Generator(device="cpu")
        clone.generator.set_state(self.generator.get_state())
        return clone

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed!r}>"


def make_generator(seed: Any, device: torch.device) -> torch.Generator | None:
    """The generator a random function draws from on `device`: None (torch's global one) for
    seed=None, one seeded with the int for an int, one seeded with the next seed of a
    SeedGenerator. On `meta` (shape inference) always None, and a SeedGenerator is not advanced.
    """
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        if device.type == "meta":
            return None
        value = seed.next()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        if device.type == "meta":
            return None
        value = seed
    else:
        raise ValueError(
            "seed must be None, an int or a lamina.random.SeedGenerator; "
            f"got seed={seed!r} (of type {type(seed).__name__})"
        )
    generator = torch.Generator(device=device)
    generator.manual_seed(value % (1 << 64))
    return generator


def _inferring_shapes() -> bool:
    """Whether a layer's `call` is being run on `meta` tensors to infer its output shape:
    functions given only a shape (`normal`, `uniform`, ...) then return `meta` tensors, as the
    layer's other tensors are."""
    if torch.compiler.is_compiling():  # a traced step never runs on meta tensors
        return False
    from ..layers._shape_inference import inferring_shapes

    return inferring_shapes()


def seed_device() -> torch.device:
    """The device shape-only random functions draw on: lamina's default device, or `meta`
    during shape inference."""
    from .. import config

    if _inferring_shapes():
        return torch.device("meta")
    return config.device()
