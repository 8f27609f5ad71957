"""Random initializers: normal, uniform, truncated normal, variance scaling and its presets
(Glorot, He, LeCun), orthogonal.

>>> RandomUniform(0.0, 1.0, seed=1)((3,)).shape
torch.Size([3])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .. import config
from ._base import (
    _TRUNCATED_STD,
    Initializer,
    _check_axes,
    _check_seed,
    _generator,
    _seed_config,
    compute_fans,
)


class RandomNormal(Initializer):
    """Normal distribution with `mean` and `stddev`."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean, self.stddev = mean, stddev
        self.seed = _check_seed(type(self).__name__, seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        out = torch.empty(shape, dtype=config.torch_dtype(dtype))
        return out.normal_(self.mean, self.stddev, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"seed": _seed_config(self.seed), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """Uniform distribution on [minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval, self.maxval = minval, maxval
        self.seed = _check_seed("RandomUniform", seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        out = torch.empty(shape, dtype=config.torch_dtype(dtype))
        return out.uniform_(self.minval, self.maxval, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"seed": _seed_config(self.seed), "minval": self.minval, "maxval": self.maxval}


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
        return {"seed": _seed_config(self.seed), "mean": self.mean, "stddev": self.stddev}


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
        return {  # Keras 3.15.1's order: seed first
            "seed": _seed_config(self.seed),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
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
        return {"seed": _seed_config(self.seed), "gain": self.gain}
