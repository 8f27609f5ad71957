"""The optimizer base class: Keras' arguments and update order, PyTorch's multi-tensor kernels.

A step reads ``p.grad`` of every built parameter that has one, then, as Keras 3 does:
unscales by ``loss_scale_factor``, clips (``clipnorm`` per variable, ``global_clipnorm``, or
``clipvalue``), applies decoupled weight decay ``w *= 1 - weight_decay * lr``, runs the
optimizer's rule, applies parameter constraints, updates the EMA and counts the iteration.

Rules use ``torch._foreach_*`` ops over all parameters of one device and dtype: a step costs a
few kernel launches, not a few per parameter. Scalars (learning rate, bias corrections) are
Python floats from the Python-int iteration count: a step never reads back from the device.
A subclass lists its slots in ``_slot_groups`` and implements ``_update``.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = lamina.optimizers.SGD(learning_rate=0.5)
>>> opt.build([w])
>>> (w**2).sum().backward()
>>> opt.step()
>>> w.detach()
tensor([0., 0.])
>>> int(opt.iterations)
1
"""

from __future__ import annotations

import collections
import inspect
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from lamina.optimizers import _clipping
from lamina.optimizers._learning_rate import Iterations, LearningRate
from lamina.optimizers._state import OptimizerState

_NAME_COUNTS: collections.Counter[str] = collections.Counter()

Tensors = list[torch.Tensor]


def _auto_name(class_name: str) -> str:
    # Keras' snake case: an underscore before each capitalised word, then between a lower-case
    # letter and a capital ("AdamW" -> "adam_w", "RMSprop" -> "rm_sprop").
    base = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", class_name))
    base = re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower()
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


class Optimizer(OptimizerState):
    """Base class of lamina's optimizers, with Keras 3's constructor arguments.

    Args:
        learning_rate: a float, or a callable: a learning-rate schedule called with the
            iteration count (``schedule(step) -> float``), or a callable taking no argument.
        weight_decay: if set, decoupled weight decay: before each update
            ``w -= w * weight_decay * learning_rate``.
        clipnorm: if set, the gradient of each weight is rescaled so that its L2 norm is at
            most this value.
        clipvalue: if set, each gradient entry is clipped to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together so that their joint L2
            norm is at most this value. Only one of the three clipping arguments may be set.
        use_ema: keep an exponential moving average of the weights (see ``ema_momentum``);
            ``finalize_variable_values`` copies it into the weights, which ``fit`` does at the end.
        ema_momentum: the EMA's momentum: ``average = m * average + (1 - m) * weight``.
        ema_overwrite_frequency: if set, every this many iterations the weights are overwritten
            by their moving average.
        loss_scale_factor: if set, gradients are divided by it before anything else (and
            ``scale_loss`` multiplies a loss by it).
        gradient_accumulation_steps: if set (an integer >= 2), gradients are summed over
            this many calls and their mean is applied on the last one, as in Keras 3; the
            other calls update nothing (under DDP they skip the all-reduce too).
        name: the optimizer's name; by default derived from the class name (``"adam"``).
    """

    # Slot names, one tuple per Keras `add_optimizer_variables` call: Keras' variable order.
    _slot_groups: tuple[tuple[str, ...], ...] = ()
    # Python scalars that are part of the state (e.g. Nadam's momentum-schedule product).
    _scalar_state: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate: float | Callable,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        # As Keras: the retired `decay` argument is accepted with a warning, others refused.
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                f"{owner}: the argument `decay` is no longer supported and is ignored; use a "
                "learning rate schedule (lamina.optimizers.schedules)",
                stacklevel=3,
            )
        if kwargs:
            raise ValueError(f"{owner}: argument(s) not recognized: {kwargs}")
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        for arg, value in {**clips, "weight_decay": weight_decay}.items():
            if value is not None and not isinstance(value, (int, float)):
                raise TypeError(f"{owner}: `{arg}` must be a float or None; got {value!r}")
        if sum(value is not None for value in clips.values()) > 1:
            raise ValueError(
                f"{owner}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                f"set; got {', '.join(f'{k}={v}' for k, v in clips.items())}"
            )
        if gradient_accumulation_steps is not None and (
            not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2
        ):
            raise ValueError(
                f"{owner}: `gradient_accumulation_steps` must be None or an integer >= 2; "
                f"got {gradient_accumulation_steps!r}"
            )
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{owner}: `ema_momentum` must be in [0, 1]; got {ema_momentum!r}")
            if ema_overwrite_frequency is not None and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    f"{owner}: `ema_overwrite_frequency` must be None or an integer >= 1; "
                    f"got {ema_overwrite_frequency!r}"
                )
        self.name = name if name is not None else _auto_name(owner)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate: float | Callable = 0.0
        self._schedule_takes_step = False
        self._iterations = 0
        self._params: list[torch.nn.Parameter] = []
        self._index: dict[int, int] = {}
        self._slots: dict[str, Tensors] = {}
        self._constrained: set[int] = set()
        self._excluded_from_decay: set[int] = set()
        self._excluded_names: re.Pattern | None = None
        self._pending_state: dict[str, Any] | None = None
        self.built = False
        self.learning_rate = learning_rate

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at ``iterations``).
        It reads as Keras' float32 value does (`float(SGD(0.3).learning_rate)` is
        0.30000001192092896, what callbacks log), with its methods `.assign(v)`, `.numpy()`;
        the updates use the number as it was set (or the schedule's value)."""
        return LearningRate(self._current_learning_rate(), self)

    def _current_learning_rate(self) -> float:
        """The rate the next update uses: the number set, or the schedule's value."""
        lr = self._learning_rate
        if not callable(lr):
            return lr
        return float(lr(self._iterations) if self._schedule_takes_step else lr())

    @learning_rate.setter
    def learning_rate(self, value: float | Callable) -> None:
        if callable(value):
            self._learning_rate = value
            self._schedule_takes_step = _takes_one_argument(value)
            return
        if callable(self._learning_rate):
            raise TypeError(
                f"{type(self).__name__} '{self.name}' was created with a learning-rate schedule, "
                "so its learning rate cannot be set to a number; create the optimizer with a "
                "float `learning_rate` to make it settable, or assign another schedule."
            )
        try:
            self._learning_rate = float(value)
        except (TypeError, ValueError):
            raise ValueError(  # Keras' words (a ValueError in Keras)
                f"{type(self).__name__}: Argument `learning_rate` should be float, or an "
                "instance of LearningRateSchedule, or a callable (that takes in the current "
                f"iteration value and returns the corresponding learning rate value). Received "
                f"instead: learning_rate={value!r}"
            ) from None

    @property
    def iterations(self) -> Iterations:
        """How many updates have been applied (including a loaded state still waiting for
        `build`). With gradient accumulation, as in Keras: calls // accumulation steps. An
        int with Keras' variable calls (`numpy()`, `assign`)."""
        calls = (
            int(self._pending_state["iterations"])
            if self._pending_state is not None
            else self._iterations
        )
        return Iterations(calls // (self.gradient_accumulation_steps or 1), self)

    def _set_iterations(self, value: int) -> None:
        calls = value * (self.gradient_accumulation_steps or 1)
        if self._pending_state is not None:
            self._pending_state["iterations"] = calls
        else:
            self._iterations = calls

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Register the parameters to optimize and create their slots.

        Calling it again with the same parameters is a no-op; with other parameters the
        optimizer is rebuilt, keeping the slots of the parameters it already knew.
        """
        params = list(dict.fromkeys(params))  # drop repeats, keep order
        for p in params:
            if not isinstance(p, torch.Tensor):
                raise TypeError(
                    f"{type(self).__name__}.build expects a list of torch.nn.Parameter; "
                    f"got an element of type {type(p).__name__}"
                )
        if self.built and list(map(id, params)) == list(map(id, self._params)):
            return
        old_index, old_slots = self._index, self._slots
        self._params = params
        self._index = {id(p): i for i, p in enumerate(params)}
        self._slots = {}
        for name in self._slot_names():
            self._slots[name] = [
                old_slots[name][old_index[id(p)]]
                if name in old_slots and id(p) in old_index
                # The EMA starts at the weights (Keras' starts at 0, overwritten at step 1).
                else p.detach().clone()
                if name == "average"
                else torch.full_like(p, self._slot_initial_value(name), requires_grad=False)
                for p in params
            ]
        # Keras applies a variable's constraint after each update; lamina layers set
        # `param.constraint` for that.
        self._constrained = {
            i for i, p in enumerate(params) if getattr(p, "constraint", None) is not None
        }
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    def _slot_names(self) -> list[str]:
        names = ["average"] if self.use_ema else []
        if self.gradient_accumulation_steps:
            names.append("accumulated_gradient")
        return names + [name for group in self._active_slot_groups() for name in group]

    def _active_slot_groups(self) -> tuple[tuple[str, ...], ...]:
        """The slot groups this configuration uses (e.g. SGD has none without momentum)."""
        return self._slot_groups

    def _slot_initial_value(self, name: str) -> float:
        return 0.0  # Adagrad's accumulator starts elsewhere

    def exclude_from_weight_decay(
        self, var_list: Sequence[torch.Tensor] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Exempt parameters from weight decay: by identity, or when one of the regular
        expressions ``var_names`` matches the parameter's ``name`` attribute."""
        self._excluded_from_decay = {id(p) for p in var_list or ()}
        pattern = "|".join(var_names or ())
        self._excluded_names = re.compile(pattern) if pattern else None

    def _use_weight_decay(self, p: torch.Tensor) -> bool:
        names, excluded = self._excluded_names, id(p) in self._excluded_from_decay
        return not (excluded or (names and names.search(str(getattr(p, "name", "")))))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update from the built parameters' ``.grad`` (None skipped); closure as torch.optim."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' is not built: call "
                "`optimizer.build(trainable_parameters)` before `step()`."
            )
        indices = [i for i, p in enumerate(self._params) if p.grad is not None]
        self._apply(indices, [self._params[i].grad for i in indices])
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of the built parameters (torch.optim semantics)."""
        if set_to_none:
            for p in self._params:
                p.grad = None
            return
        grads = [p.grad for p in self._params if p.grad is not None]
        grads = [g.detach_() if g.grad_fn is not None else g.requires_grad_(False) for g in grads]
        if grads:
            torch._foreach_zero_(grads)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]]):
        """Keras' API: apply a list of ``(gradient, parameter)`` pairs (None gradients skipped).

        Builds the optimizer on these parameters if it is not built yet.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return
        grads, params = zip(*pairs, strict=True)
        if not self.built:
            self.build(params)
        unknown = [p for p in params if id(p) not in self._index]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for {len(self._params)} "
                f"parameters and got {len(unknown)} it does not know (first: shape "
                f"{tuple(unknown[0].shape)}); call `optimizer.build(all_trainable_parameters)`."
            )
        _clipping.warn_missing_gradients(params, grads)
        kept = [
            (self._index[id(p)], g) for g, p in zip(grads, params, strict=True) if g is not None
        ]
        with torch.no_grad():
            self._apply([i for i, _ in kept], [g for _, g in kept])

    def apply(self, grads: Sequence[torch.Tensor | None], trainable_variables=None) -> None:
        """Keras' API: apply ``grads`` to ``trainable_variables`` (default: the built ones)."""
        params = self._params if trainable_variables is None else list(trainable_variables)
        if len(grads) != len(params):
            raise ValueError(
                f"{type(self).__name__}.apply got {len(grads)} gradients for {len(params)} "
                "variables; they must correspond one to one."
            )
        self.apply_gradients(zip(grads, params, strict=True))

    @torch.compiler.disable
    def _apply(self, indices: list[int], grads: Tensors) -> None:
        """The update shared by `step` and `apply_gradients` (under no_grad). Always eager:
        in `torch.compile` the Python-int step count would recompile the graph every step."""
        if indices and self.gradient_accumulation_steps:
            grads = self._accumulate(indices, grads)
        if indices and grads:
            if self.loss_scale_factor is not None:
                grads = torch._foreach_div(grads, self.loss_scale_factor)
            grads = self._clip_gradients(grads)
            lr = self._current_learning_rate()
            step = self._iterations // (self.gradient_accumulation_steps or 1) + 1
            self._before_update(step)
            grad_of = dict(zip(indices, grads, strict=True))
            for group in self._group_by_device_and_dtype(indices):
                params = [self._params[i] for i in group]
                if self.weight_decay:
                    decayed = [p for p in params if self._use_weight_decay(p)]
                    if decayed:
                        torch._foreach_mul_(decayed, 1.0 - self.weight_decay * lr)
                slots = {name: [self._slots[name][i] for i in group] for name in self._slots}
                group_grads = [grad_of[i] for i in group]
                slots.pop("accumulated_gradient", None)
                self._update(params, group_grads, slots, lr, step)
            for i in self._constrained.intersection(indices):
                self._params[i].copy_(self._params[i].constraint(self._params[i]))
        if indices and self.use_ema:
            self._update_moving_average()
        self._iterations += 1

    def _accumulate(self, indices: list[int], grads: Tensors) -> Tensors:
        """Keras' gradient accumulation: add to the accumulators, and on every
        `gradient_accumulation_steps`-th call return their mean (and reset them); other
        calls return [] (no update). The schedule still sees every call."""
        accumulated = [self._slots["accumulated_gradient"][i] for i in indices]
        steps = self.gradient_accumulation_steps
        if (self._iterations + 1) % steps:
            torch._foreach_add_(accumulated, grads)
            return []
        mean = torch._foreach_div(torch._foreach_add(accumulated, grads), float(steps))
        torch._foreach_zero_(accumulated)
        return mean

    def _group_by_device_and_dtype(self, indices: list[int]) -> list[list[int]]:
        """Split parameter indices by (device, dtype): foreach kernels need uniform lists.

        Slots follow their parameter if the model moved to another device after `build`.
        """
        groups: dict[tuple, list[int]] = {}
        for i in indices:
            p = self._params[i]
            groups.setdefault((p.device, p.dtype), []).append(i)
        for (device, _), group in groups.items():
            for slot_list in self._slots.values():
                if slot_list[group[0]].device != device:
                    for i in group:
                        slot_list[i] = slot_list[i].to(device)
        return list(groups.values())

    def _clip_gradients(self, grads: Tensors) -> Tensors:
        """Keras' clipping (a zero or negative threshold disables it), out of place."""
        if self.clipnorm and self.clipnorm > 0:
            return _clipping.clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            return _clipping.clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return _clipping.clip_by_value(grads, self.clipvalue)
        return grads

    def _update_moving_average(self) -> None:
        # Keras starts the average at the weights: momentum 0 on the first iteration.
        momentum = self.ema_momentum if self._iterations > 0 else 0.0
        for group in self._group_by_device_and_dtype(list(range(len(self._params)))):
            params = [self._params[i] for i in group]
            averages = [self._slots["average"][i] for i in group]
            torch._foreach_lerp_(averages, params, 1.0 - momentum)
            frequency = self.ema_overwrite_frequency
            if frequency and (self._iterations + 1) % frequency == 0:
                torch._foreach_copy_(params, averages)

    def finalize_variable_values(self, var_list: Iterable[torch.Tensor]) -> None:
        """With ``use_ema``, overwrite the given parameters with their moving averages."""
        if not self.use_ema:
            return
        with torch.no_grad():
            for p in var_list:
                if id(p) in self._index:
                    p.copy_(self._slots["average"][self._index[id(p)]])

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Multiply ``loss`` by ``loss_scale_factor`` when it is set."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _before_update(self, step: int) -> None:
        """Advance optimizer-wide scalars once per step, before the per-group updates."""

    def _update(
        self, params: Tensors, grads: Tensors, slots: dict[str, Tensors], lr: float, step: int
    ) -> None:
        """Update ``params`` in place from ``grads``; ``step`` counts from 1."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_update`.")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as JSON types (Keras' keys; a number `learning_rate`
        as Keras' float32 variable holds it)."""
        lr = self._learning_rate
        if callable(lr):
            if not hasattr(lr, "get_config"):
                raise TypeError(
                    f"{type(self).__name__} '{self.name}': its learning rate is a plain callable "
                    f"({lr!r}), which cannot be serialized; use a LearningRateSchedule (a "
                    "callable with `get_config`) to make the optimizer serializable."
                )
            from ..utils._serialization import serialize_keras_object

            lr = serialize_keras_object(lr)
        else:  # Keras reads its float32 variable: 0.001 is 0.0010000000474974513
            lr = float(LearningRate(lr, self))
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Create an optimizer (without state) from ``get_config()``'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from lamina.optimizers import schedules

            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _takes_one_argument(fn: Callable) -> bool:
    """Schedules take the iteration count; Keras also allows callables taking nothing."""
    try:
        inspect.signature(fn).bind(0)
    except TypeError:
        return False
    except ValueError:  # a builtin without a signature: assume a schedule
        pass
    return True
