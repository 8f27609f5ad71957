"""Keras' random functions: `normal`, `uniform`, `randint`, `truncated_normal`, `categorical`,
`dropout`, `shuffle`, `gamma`, `binomial`, `beta`.

`seed` is None (torch's global generator: reproducible after `lamina.utils.set_random_seed`), an
int (the same numbers at every call) or a `SeedGenerator` (different numbers at each call, the
same sequence after re-creating it). Functions given a shape draw on lamina's default device
(`lamina.config.device()`); functions given a tensor draw on that tensor's device. Floats are
`floatx` unless `dtype` says otherwise.

>>> x = normal((2, 3), seed=1)
>>> x.shape, x.dtype, bool((x == normal((2, 3), seed=1)).all())
(torch.Size([2, 3]), torch.float32, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import config
from ._seed_generator import SeedGenerator, make_generator, seed_device

__all__ = [
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

Seed = int | SeedGenerator | None
ShapeLike = Sequence[int] | torch.Size | int


def _shape(shape: ShapeLike) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) if isinstance(d, (np.integer, torch.Tensor)) else d for d in shape)


def _float_dtype(dtype: Any, function: str) -> torch.dtype:
    result = config.torch_dtype(dtype)
    if not result.is_floating_point:
        raise ValueError(f"{function}: dtype must be a float type; got dtype={dtype!r}")
    return result


def _tensor(x: Any, device: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device)
    return torch.as_tensor(np.asarray(x), device=device)


def normal(
    shape: ShapeLike,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Samples of a normal distribution.

    Args:
        shape: the shape of the result.
        mean, stddev: the distribution's mean and standard deviation.
        dtype: a float type; floatx by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> normal((2, 3), mean=5.0, stddev=0.0, seed=0)
    tensor([[5., 5., 5.],
            [5., 5., 5.]])
    """
    device = seed_device()
    dtype = _float_dtype(dtype, "normal")
    generator = make_generator(seed, device)
    out = torch.empty(_shape(shape), dtype=dtype, device=device)
    return out.normal_(mean, stddev, generator=generator)


def uniform(
    shape: ShapeLike,
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Samples of a uniform distribution on [minval, maxval).

    Args:
        shape: the shape of the result.
        minval, maxval: the bounds of the range.
        dtype: a float type; floatx by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> x = uniform((100,), minval=2.0, maxval=3.0, seed=0)
    >>> bool(((x >= 2.0) & (x < 3.0)).all())
    True
    """
    device = seed_device()
    dtype = _float_dtype(dtype, "uniform")
    generator = make_generator(seed, device)
    out = torch.empty(_shape(shape), dtype=dtype, device=device)
    return out.uniform_(minval, maxval, generator=generator)


def randint(
    shape: ShapeLike,
    minval: int,
    maxval: int,
    dtype: Any = "int32",
    seed: Seed = None,
) -> torch.Tensor:
    """Random integers in [minval, maxval).

    Args:
        shape: the shape of the result.
        minval, maxval: the bounds of the range (maxval excluded).
        dtype: an integer type, int32 by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> x = randint((100,), 0, 3, seed=0)
    >>> x.dtype, sorted(set(x.tolist()))
    (torch.int32, [0, 1, 2])
    """
    if maxval <= minval:
        raise ValueError(
            f"randint: maxval must exceed minval; got minval={minval}, maxval={maxval}"
        )
    device = seed_device()
    generator = make_generator(seed, device)
    return torch.randint(
        int(minval),
        int(maxval),
        _shape(shape),
        generator=generator,
        dtype=config.torch_dtype(dtype),
        device=device,
    )


def truncated_normal(
    shape: ShapeLike,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Samples of a normal distribution cut at two standard deviations from the mean.

    Drawn by inverting the normal CDF on the kept range (no resampling loop), so every value
    lies in [mean - 2 * stddev, mean + 2 * stddev].

    Args:
        shape: the shape of the result.
        mean, stddev: the mean and standard deviation before truncation.
        dtype: a float type; floatx by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> x = truncated_normal((1000,), seed=0)
    >>> bool((x.abs() <= 2.0).all())
    True
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    # Uniform on (Phi(-2), Phi(2)) mapped through Phi^-1, in float32 at least for accuracy.
    work = torch.float64 if dtype == torch.float64 else torch.float32
    low = 0.5 * math.erfc(2.0 / math.sqrt(2.0))
    u = uniform(shape, low, 1.0 - low, dtype=work, seed=seed)
    x = (math.sqrt(2.0) * torch.erfinv(2.0 * u - 1.0)).clamp_(-2.0, 2.0)
    return (x * stddev + mean).to(dtype)


def categorical(
    logits: Any,
    num_samples: int,
    dtype: Any = "int32",
    seed: Seed = None,
) -> torch.Tensor:
    """Class indices drawn from the softmax of `logits`, with replacement.

    Args:
        logits: (batch, num_classes) unnormalized log-probabilities.
        num_samples: the samples drawn for each row.
        dtype: an integer type, int32 by default.
        seed: None, an int or a SeedGenerator (see the module).

    Returns:
        A (batch, num_samples) tensor of indices, on the device of `logits`.

    >>> categorical(torch.tensor([[0.0, -1e9], [-1e9, 0.0]]), 3, seed=0)
    tensor([[0, 0, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    logits = logits if isinstance(logits, torch.Tensor) else _tensor(logits, seed_device())
    if logits.ndim != 2:
        raise ValueError(
            f"categorical: logits must be 2-D (batch, num_classes); got shape {tuple(logits.shape)}"
        )
    dtype = config.torch_dtype(dtype)
    if logits.device.type == "meta":
        make_generator(seed, logits.device)  # validate the seed
        return torch.empty((logits.shape[0], num_samples), dtype=dtype, device="meta")
    probs = torch.softmax(logits.float(), dim=-1)
    generator = make_generator(seed, logits.device)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)
    return samples.to(dtype)


def dropout(
    inputs: Any,
    rate: float,
    noise_shape: Sequence[int | None] | None = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Sets a random fraction `rate` of `inputs` to 0 and scales the rest by 1 / (1 - rate).

    Args:
        inputs: a tensor.
        rate: the fraction to drop, in [0, 1].
        noise_shape: the mask's shape, broadcast over `inputs`; None entries take the input's
            size on that axis.
        seed: None, an int or a SeedGenerator (see the module).

    >>> y = dropout(torch.ones(1000), 0.5, seed=0)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    x = inputs if isinstance(inputs, torch.Tensor) else _tensor(inputs, seed_device())
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"dropout: rate must be a number in [0, 1]; got rate={rate!r}")
    if noise_shape is None:
        mask_shape = tuple(x.shape)
    else:
        if len(noise_shape) != x.ndim:
            raise ValueError(
                f"dropout: noise_shape {tuple(noise_shape)} must have one entry per axis of "
                f"the inputs, shape {tuple(x.shape)}"
            )
        mask_shape = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    generator = make_generator(seed, x.device)
    if rate == 0:
        return x
    if rate == 1:
        return torch.zeros_like(x)
    keep = 1.0 - float(rate)
    dtype = x.dtype if x.is_floating_point() else config.torch_dtype(None)
    mask = torch.empty(mask_shape, dtype=dtype, device=x.device)
    if x.device.type != "meta":
        mask.bernoulli_(keep, generator=generator)
    return x * mask / keep


def shuffle(x: Any, axis: int = 0, seed: Seed = None) -> torch.Tensor:
    """`x` with its slices along `axis` in a random order (one permutation for all of them).

    Args:
        x: a tensor.
        axis: the axis to shuffle.
        seed: None, an int or a SeedGenerator (see the module).

    >>> sorted(shuffle(torch.arange(5), seed=0).tolist())
    [0, 1, 2, 3, 4]
    """
    x = x if isinstance(x, torch.Tensor) else _tensor(x, seed_device())
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"shuffle: axis {axis} is out of range for a {x.ndim}-D input")
    generator = make_generator(seed, x.device)
    if x.device.type == "meta":
        return x.clone()
    order = torch.randperm(x.shape[axis], generator=generator, device=x.device)
    return x.index_select(axis, order)


def _parameter(value: Any, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    tensor = _tensor(value, device)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return torch.broadcast_to(tensor, shape)


def gamma(shape: ShapeLike, alpha: Any, dtype: Any = None, seed: Seed = None) -> torch.Tensor:
    """Samples of a Gamma distribution with concentration `alpha` and rate 1.

    Args:
        shape: the shape of the result.
        alpha: the concentration: a float or a tensor broadcastable to `shape`.
        dtype: a float type; floatx by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> x = gamma((1000,), alpha=2.0, seed=0)
    >>> bool((x > 0).all()), 1.8 < float(x.mean()) < 2.2
    (True, True)
    """
    shape = _shape(shape)
    device = seed_device()
    dtype = _float_dtype(dtype, "gamma")
    generator = make_generator(seed, device)
    alpha_t = _parameter(alpha, shape, device)
    if device.type == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    return torch._standard_gamma(alpha_t.contiguous(), generator=generator).to(dtype)


def binomial(
    shape: ShapeLike,
    counts: Any,
    probabilities: Any,
    dtype: Any = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Samples of a Binomial distribution: successes in `counts` trials of probability
    `probabilities` (floats or tensors broadcastable to `shape`).

    Args:
        shape: the shape of the result.
        counts: the number of trials.
        probabilities: the probability of success of each trial.
        dtype: a float type; floatx by default (as Keras).
        seed: None, an int or a SeedGenerator (see the module).

    >>> binomial((3,), counts=5, probabilities=1.0, seed=0)
    tensor([5., 5., 5.])
    """
    shape = _shape(shape)
    device = seed_device()
    dtype = config.torch_dtype(dtype)
    generator = make_generator(seed, device)
    counts_t = _parameter(counts, shape, device)
    probs_t = _parameter(probabilities, shape, device).to(counts_t.dtype)
    if device.type == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    return torch.binomial(counts_t.contiguous(), probs_t.contiguous(), generator=generator).to(
        dtype
    )


def beta(
    shape: ShapeLike,
    alpha: Any,
    beta: Any,
    dtype: Any = None,
    seed: Seed = None,
) -> torch.Tensor:
    """Samples of a Beta distribution, drawn as X / (X + Y) with X ~ Gamma(alpha),
    Y ~ Gamma(beta).

    Args:
        shape: the shape of the result.
        alpha, beta: the two concentrations: floats or tensors broadcastable to `shape`.
        dtype: a float type; floatx by default.
        seed: None, an int or a SeedGenerator (see the module).

    >>> x = beta((1000,), alpha=2.0, beta=2.0, seed=0)
    >>> bool(((x >= 0) & (x <= 1)).all()), 0.45 < float(x.mean()) < 0.55
    (True, True)
    """
    shape = _shape(shape)
    device = seed_device()
    dtype = _float_dtype(dtype, "beta")
    generator = make_generator(seed, device)
    alpha_t = _parameter(alpha, shape, device)
    beta_t = _parameter(beta, shape, device)
    if device.type == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    x = torch._standard_gamma(alpha_t.contiguous(), generator=generator)
    y = torch._standard_gamma(beta_t.contiguous(), generator=generator)
    return (x / (x + y)).to(dtype)
