"""Learning-rate schedules: Keras 3's classes, names, arguments and values, plus ``OneCycle``.

A schedule is called with the optimizer's iteration count (a Python int) and returns a Python
float, computed on the host: evaluating it never launches a kernel nor reads from the device.
Pass one as an optimizer's ``learning_rate``; the optimizer's ``get_config`` stores it as
``serialize(schedule)`` and ``from_config`` rebuilds it with ``deserialize``.

>>> import lamina
>>> from lamina.optimizers.schedules import ExponentialDecay
>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(schedule(10), 6)
0.05
>>> opt = lamina.optimizers.SGD(learning_rate=schedule)
>>> round(opt.learning_rate, 6)  # evaluated at opt.iterations == 0
0.1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "OneCycle",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]


def _check_positive(owner: str, arg: str, value: Any) -> None:
    if not value > 0:
        raise ValueError(f"{owner}: argument `{arg}` must be > 0. Received: {arg}={value!r}")


class LearningRateSchedule:
    """Base class of learning-rate schedules.

    A subclass implements ``__call__(step) -> float`` (``step`` is the number of updates
    already applied, from 0) and ``get_config``, which returns the constructor arguments as
    JSON types so that ``from_config(get_config())`` rebuilds an equal schedule.
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` to be "
            "serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Create a schedule from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: the arguments, the config and the
    progress ``step / decay_steps`` (floored with ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        _check_positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        # Keras' default name is the class name.
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step: int) -> float:
        p = float(step) / self.decay_steps
        return float(math.floor(p)) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase``
    the exponent is floored, so the rate drops every ``decay_steps`` steps."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i - 1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary."""

    def __init__(
        self,
        boundaries: Sequence[int],
        values: Sequence[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={list(boundaries)} of length {len(boundaries)}, and "
                f"values={list(values)} of length {len(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: int) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, with ``step`` capped at
    ``decay_steps``; with ``cycle``, ``decay_steps`` is instead stretched to the first multiple
    of itself that is >= ``step``, so the decay restarts (from lower) every period."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> float:
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # At step 0 the multiplier would be 0: use 1, as Keras does.
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps *= multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        start, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (start - end) * (1.0 - p) ** float(self.power) + end

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase``
    ``step / decay_steps`` is floored."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate) / (
            1.0 + float(self.decay_rate) * self._progress(step)
        )


def _cosine_factor(fraction: float, alpha: float) -> float:
    """``(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha``: from 1 at 0 down to alpha at 1."""
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup.

    Without warmup: ``initial_learning_rate * ((1 - alpha) * (1 + cos(pi * t)) / 2 + alpha)``
    with ``t = min(step, decay_steps) / decay_steps``. With ``warmup_target`` set, the rate
    goes linearly from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``
    steps, then decays from ``warmup_target`` as above over the next ``decay_steps`` steps.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step: int) -> float:
        step = float(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            peak = initial
        else:
            peak = float(self.warmup_target)
            if step < self.warmup_steps:
                return initial + step / self.warmup_steps * (peak - initial)
            step -= self.warmup_steps
        fraction = min(step, float(self.decay_steps)) / self.decay_steps
        return peak * _cosine_factor(fraction, float(self.alpha))

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017).

    The first period lasts ``first_decay_steps`` steps, each next one ``t_mul`` times longer;
    each restart starts from ``m_mul`` times the previous peak. Within a period the rate
    follows ``CosineDecay``'s curve down to ``alpha`` times the period's peak.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        _check_positive(type(self).__name__, "first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: int) -> float:
        fraction = float(step) / self.first_decay_steps
        t_mul, m_mul = float(self._t_mul), float(self._m_mul)
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            # Periods last 1, t_mul, t_mul**2, ... (in units of first_decay_steps): the
            # restart count solves sum_{k<i} t_mul**k <= fraction.
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            elapsed = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - elapsed) / t_mul**restart
        peak_factor = m_mul**restart
        alpha = float(self.alpha)
        cosine = 0.5 * peak_factor * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate) * ((1.0 - alpha) * cosine + alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


class OneCycle(LearningRateSchedule):
    """The 1cycle policy (Smith & Topin 2018), with ``torch.optim.lr_scheduler.OneCycleLR``'s
    formulas (two phases, ``three_phase=False``).

    The rate goes from ``max_learning_rate / div_factor`` up to ``max_learning_rate`` until
    step ``pct_start * total_steps - 1``, then down to
    ``max_learning_rate / div_factor / final_div_factor`` at step ``total_steps - 1``, each
    phase along a cosine (``anneal="cos"``) or a line (``anneal="linear"``). After
    ``total_steps - 1`` the rate stays at its final value (where OneCycleLR raises an error).
    Unlike OneCycleLR, it does not cycle the momentum.
    """

    def __init__(
        self,
        max_learning_rate: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal: str = "cos",
        name: str = "OneCycle",
    ) -> None:
        owner = type(self).__name__
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"{owner}: `total_steps` must be a positive int; got {total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"{owner}: `pct_start` must be in [0, 1]; got {pct_start!r}")
        if anneal not in ("cos", "linear"):
            raise ValueError(f"{owner}: `anneal` must be 'cos' or 'linear'; got {anneal!r}")
        self.max_learning_rate = max_learning_rate
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.anneal = anneal
        self.name = name

    def __call__(self, step: int) -> float:
        step = min(float(step), float(self.total_steps - 1))
        peak = float(self.max_learning_rate)
        start = peak / self.div_factor
        end = start / self.final_div_factor
        warmup_end = float(self.pct_start * self.total_steps) - 1
        last = float(self.total_steps - 1)
        # OneCycleLR's phase lookup: the first phase whose end is not before `step`, else the
        # last one (its division by zero for degenerate phases is kept as an error).
        if step <= warmup_end:
            low, high, begin, finish = start, peak, 0.0, warmup_end
        else:
            low, high, begin, finish = peak, end, warmup_end, last
        pct = (step - begin) / (finish - begin)
        if self.anneal == "cos":
            return high + (low - high) / 2.0 * (math.cos(math.pi * pct) + 1.0)
        return (high - low) * pct + low

    def get_config(self) -> dict[str, Any]:
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal": self.anneal,
            "name": self.name,
        }


_BY_NAME: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
        OneCycle,
    )
}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict[str, Any]:
    """Keras' JSON form ``{"module", "class_name", "config", "registered_name"}``."""
    if not hasattr(learning_rate_schedule, "get_config"):
        raise TypeError(
            f"Cannot serialize {learning_rate_schedule!r}: expected a LearningRateSchedule "
            "(with `get_config`)."
        )
    from ..utils._serialization import serialize_keras_object

    return serialize_keras_object(learning_rate_schedule)


def deserialize(
    config: dict[str, Any],
    custom_objects: dict[str, type[LearningRateSchedule]] | None = None,
) -> LearningRateSchedule:
    """Create a schedule from ``serialize``'s output (other keys, e.g. Keras' ``module``,
    are ignored). Only lamina's schedules and those in ``custom_objects`` are resolved."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "A learning-rate schedule config must be a dict with 'class_name' and 'config' keys, "
            f"as `lamina.optimizers.schedules.serialize` returns; got {config!r}"
        )
    class_name = config["class_name"]
    from ..saving.registry import resolve_class

    cls = resolve_class(config, _BY_NAME.get(class_name), custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown learning-rate schedule {class_name!r}. Valid names: "
            f"{', '.join(sorted(_BY_NAME))}; pass other schedules through `custom_objects`."
        )
    return cls.from_config(dict(config.get("config", {})))
