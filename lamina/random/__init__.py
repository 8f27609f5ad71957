"""Random numbers, as `keras.random`: the functions of `_random` and `SeedGenerator`.

Each function takes `seed`: None (torch's global generator, reproducible after
`lamina.utils.set_random_seed`), an int (the same numbers at every call) or a `SeedGenerator`
(different numbers at each call; the same sequence after re-creating it with the same seed).
Shape-only functions draw on `lamina.config.device()` (`meta` during a layer's shape
inference); the others on their input's device, so a layer holding a SeedGenerator draws on
CUDA when its model runs there.

>>> import lamina.random as random
>>> gen = random.SeedGenerator(1337)
>>> a, b = random.normal((3,), seed=gen), random.normal((3,), seed=gen)
>>> bool(torch.equal(a, b))
False
>>> gen = random.SeedGenerator(1337)
>>> bool(torch.equal(random.normal((3,), seed=gen), a))
True
"""

import torch  # noqa: F401  (for the doctest above)

from ._random import (
    beta,
    binomial,
    categorical,
    dropout,
    gamma,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from ._seed_generator import SeedGenerator

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
