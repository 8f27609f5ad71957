"""LossScaleOptimizer: dynamic loss scaling around another optimizer, as Keras 3's, on the same
torch.amp.GradScaler that `fit` uses for 'mixed_float16'.

>>> import torch, lamina
>>> w = torch.nn.Parameter(torch.tensor([1.0]))
>>> opt = LossScaleOptimizer(lamina.optimizers.SGD(0.5), initial_scale=8.0)
>>> opt.build([w])
>>> opt.scale_loss((w**2).sum()).backward()  # gradients of 8 * loss
>>> opt.step()  # unscaled (2.0), checked finite, applied
>>> w.detach()
tensor([0.])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from lamina.optimizers.optimizer import Optimizer, Tensors

__all__ = ["LossScaleOptimizer"]

# The base-optimizer arguments Keras' LossScaleOptimizer refuses unless at their defaults.
_BASE_DEFAULTS: dict[str, Any] = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
_SCALE, _STEPS = "loss_scale", "loss_scale_steps"  # its entries in `state_dict()["scalars"]`


class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer` with dynamic loss scaling against float16 underflow.

    `scale_loss(loss)` multiplies the loss by the current scale; a step divides the gradients
    by it, and then: if one is inf or NaN, the step is skipped and the scale halved; otherwise
    the inner optimizer applies them, and after `dynamic_growth_steps` such steps in a row the
    scale doubles. The scaling is torch.amp.GradScaler's (growth 2, backoff 0.5), so the same
    rule serves `fit` and hand-written loops; `iterations` and `learning_rate` are the inner
    optimizer's.

    Args:
        inner_optimizer: the `lamina.optimizers.Optimizer` to wrap.
        initial_scale: the first loss scale; better too high than too low, as a scale too high
            falls faster than one too low rises.
        dynamic_growth_steps: how many steps with finite gradients double the scale.
        name: the optimizer's name.

    >>> from lamina.optimizers import SGD
    >>> LossScaleOptimizer(SGD()).get_config()["initial_scale"]
    32768.0
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`: set `loss_scale_factor` "
                "on the inner optimizer instead."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`: set `{arg}` on the "
                    "`inner_optimizer` instead."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: {sorted(kwargs)}")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer: `inner_optimizer` must be a lamina.optimizers.Optimizer; "
                f"got {type(inner_optimizer).__name__}"
            )
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer: the inner optimizer is already one")
        if not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(
                "LossScaleOptimizer: `dynamic_growth_steps` must be an integer >= 1; got "
                f"{dynamic_growth_steps!r}"
            )
        super().__init__(0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        inner_optimizer.loss_scale_factor = None  # one scaling only, as Keras
        self.scaler: torch.amp.GradScaler | None = None
        self._pending_scaler: dict[str, float] | None = None

    def _scaler_on(self, device: torch.device) -> torch.amp.GradScaler:
        """The GradScaler, created on the first device it meets (it keeps its scale there)."""
        if self.scaler is None:
            self.scaler = torch.amp.GradScaler(
                device.type,
                init_scale=self.initial_scale,
                growth_factor=2.0,
                backoff_factor=0.5,
                growth_interval=self.dynamic_growth_steps,
            )
            # Creates the scale tensor on `device` (GradScaler does it on its first `scale`).
            self.scaler.scale(torch.zeros((), device=device))
            if self._pending_scaler is not None:
                pending, self._pending_scaler = self._pending_scaler, None
                self._load_scaler(pending[_SCALE], pending[_STEPS])
        return self.scaler

    def _load_scaler(self, scale: float, steps: float) -> None:
        if self.scaler is None:
            self._pending_scaler = {_SCALE: float(scale), _STEPS: float(steps)}
            return
        state = {**self.scaler.state_dict(), "scale": float(scale), "_growth_tracker": int(steps)}
        self.scaler.load_state_dict(state)

    # ------------------------------------------------------------------ the inner optimizer's

    @property
    def learning_rate(self) -> float:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | Callable) -> None:
        if "inner_optimizer" not in self.__dict__:  # Optimizer.__init__'s placeholder
            Optimizer.learning_rate.fset(self, value)
            return
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.inner_optimizer.param_groups

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Build the inner optimizer on `params`."""
        self.inner_optimizer.build(params)
        self._params = self.inner_optimizer._params
        self.built = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner_optimizer.zero_grad(set_to_none)

    def finalize_variable_values(self, var_list: Iterable[torch.Tensor]) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------------ scaling

    @property
    def dynamic_scale(self) -> torch.Tensor:
        """The current loss scale (float32; reading it synchronises with the device)."""
        if self.scaler is None:
            pending = self._pending_scaler
            return torch.tensor(pending[_SCALE] if pending else self.initial_scale)
        return torch.tensor(self.scaler.get_scale(), dtype=torch.float32)

    @property
    def step_counter(self) -> torch.Tensor:
        """Finite steps since the scale last changed."""
        if self.scaler is None:
            pending = self._pending_scaler
            return torch.tensor(int(pending[_STEPS]) if pending else 0)
        return torch.tensor(int(self.scaler.state_dict()["_growth_tracker"]))

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """``loss`` times the current loss scale."""
        return self._scaler_on(loss.device).scale(loss)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Unscale the built parameters' ``.grad``; apply them with the inner optimizer if all
        are finite (else skip the step); then update the scale."""
        if not self.built:
            raise ValueError(
                f"LossScaleOptimizer '{self.name}' is not built: call "
                "`optimizer.build(trainable_parameters)` before `step()`."
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grads = [p.grad for p in self._params if p.grad is not None]
        if grads:
            scaler = self._scaler_on(grads[0].device)
            scaler.step(self.inner_optimizer)
            scaler.update()
        return loss

    def apply_gradients(
        self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]]
    ) -> None:
        """Keras' API: apply ``(scaled gradient, parameter)`` pairs as `step` does (the given
        gradients are not modified)."""
        pairs = list(grads_and_vars)
        if not pairs:
            return
        if not self.built:
            self.build([p for _, p in pairs])
        known = self.inner_optimizer._index
        unknown = [p for _, p in pairs if id(p) not in known]
        if unknown:
            raise ValueError(
                f"LossScaleOptimizer '{self.name}' was built for {len(self._params)} parameters "
                f"and got {len(unknown)} it does not know (first: shape "
                f"{tuple(unknown[0].shape)}); call `optimizer.build(all_trainable_parameters)`."
            )
        # The step reads `.grad`: lend it the given gradients (copies: unscaling is in place).
        saved = [p.grad for p in self._params]
        try:
            for p in self._params:
                p.grad = None
            for g, p in pairs:
                p.grad = None if g is None else g.detach().clone()
            self.step()
        finally:
            for p, g in zip(self._params, saved, strict=True):
                p.grad = g

    def apply(self, grads: Sequence[torch.Tensor | None], trainable_variables=None) -> None:
        params = self._params if trainable_variables is None else list(trainable_variables)
        if len(grads) != len(params):
            raise ValueError(
                f"LossScaleOptimizer.apply got {len(grads)} gradients for {len(params)} "
                "variables; they must correspond one to one."
            )
        self.apply_gradients(zip(grads, params, strict=True))

    # ------------------------------------------------------------------ state and config

    @property
    def variables(self) -> Tensors:
        """Keras' order: its own iteration and learning rate (unused, 0), once built its step
        counter and scale, then the inner optimizer's variables."""
        own = self._own_variables()
        if self.built:  # Keras creates the scale's variables in `build`
            own.append(self._scalar_variable("step_counter", torch.int32))
            own.append(self._scalar_variable("dynamic_scale", torch.float32))
        return own + self.inner_optimizer.variables

    def _read_scalar(self, key: str) -> float:
        if key == "step_counter":
            return int(self.step_counter)
        if key == "dynamic_scale":
            return float(self.dynamic_scale)
        return super()._read_scalar(key)

    def _write_scalar(self, key: str, value: float) -> None:
        if key == "step_counter":
            self._load_scaler(float(self.dynamic_scale), int(value))
        elif key == "dynamic_scale":
            self._load_scaler(float(value), int(self.step_counter))
        else:
            super()._write_scalar(key, value)

    def state_dict(self) -> dict[str, Any]:
        """The inner optimizer's state, with the scale and its step counter as scalars."""
        state = self.inner_optimizer.state_dict()
        scalars = {
            **state["scalars"],
            _SCALE: float(self.dynamic_scale),
            _STEPS: float(self.step_counter),
        }
        return {**state, "scalars": scalars}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        scalars = dict(state_dict.get("scalars", {}))
        scale, steps = scalars.pop(_SCALE, None), scalars.pop(_STEPS, None)
        if scale is not None:
            self._load_scaler(scale, steps or 0)
        self.inner_optimizer.load_state_dict({**state_dict, "scalars": scalars})

    def get_config(self) -> dict[str, Any]:
        from lamina.optimizers import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossScaleOptimizer:
        from lamina.optimizers import deserialize

        config = dict(config)
        inner = config.pop("inner_optimizer")
        return cls(inner if isinstance(inner, Optimizer) else deserialize(inner), **config)
