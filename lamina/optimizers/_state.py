"""The optimizer's state as tensors: `variables`, `state_dict`, `load_state_dict`."""

from __future__ import annotations

from typing import Any

import torch

Tensors = list[torch.Tensor]

__all__ = ["OptimizerState"]


class OptimizerState:
    """Mixed into `Optimizer`: its state (step count, learning rate, scalars, slots) out and
    back in, as Keras' `variables` and torch's `state_dict`."""

    _iterations: int
    _learning_rate: Any
    _current_learning_rate: Any
    _params: list[torch.nn.Parameter]
    _slots: dict[str, Tensors]
    _scalar_state: tuple[str, ...]
    _pending_state: dict[str, Any] | None
    use_ema: bool
    built: bool
    name: str

    @property
    def variables(self) -> Tensors:
        """The state as tensors, in Keras' order: iterations, learning rate (unless it is a
        schedule), EMA averages, then the slots (the slot tensors themselves)."""
        out = [torch.tensor(self._iterations, dtype=torch.int32)]  # Keras' 'iteration' dtype
        if not callable(self._learning_rate):
            out.append(torch.tensor(self._learning_rate))
        if self.use_ema:
            out += self._slots.get("average", [])
        for group in self._active_slot_groups():
            for i in range(len(self._params)):
                out += [self._slots[name][i] for name in group]
        out += [torch.tensor(getattr(self, "_" + name)) for name in self._scalar_state]
        return out

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """One torch-style parameter group, for tools such as torch.amp.GradScaler."""
        return [{"params": self._params, "lr": self._current_learning_rate()}]

    def state_dict(self) -> dict[str, Any]:
        """The state: ``iterations``, ``learning_rate`` (None for a schedule), scalar state,
        and ``state[i][slot_name]``, a tensor per built parameter ``i`` (not copied)."""
        return {
            "iterations": self._iterations,
            "learning_rate": None if callable(self._learning_rate) else self._learning_rate,
            "scalars": {name: getattr(self, "_" + name) for name in self._scalar_state},
            "state": {
                i: {name: slots[i] for name, slots in self._slots.items()}
                for i in range(len(self._params))
            },
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s output; before `build` it is kept and applied by it."""
        if not self.built:
            self._pending_state = state_dict
            return
        owner = f"{type(self).__name__} '{self.name}'"
        state = state_dict["state"]
        if len(state) != len(self._params):
            raise ValueError(
                f"{owner} has {len(self._params)} parameters but the state to load has "
                f"{len(state)}; load it into an optimizer built on the same parameters."
            )
        for i in range(len(self._params)):
            entry = state[i] if i in state else state[str(i)]
            if set(entry) != set(self._slots):
                raise ValueError(
                    f"{owner} expects slots {sorted(self._slots)} for parameter {i}; the state "
                    f"to load has {sorted(entry)} (was it saved by another optimizer or config?)"
                )
            for name, value in entry.items():
                slot = self._slots[name][i]
                if tuple(value.shape) != tuple(slot.shape):
                    raise ValueError(
                        f"{owner}: slot '{name}' of parameter {i} has shape {tuple(slot.shape)}; "
                        f"the state to load has shape {tuple(value.shape)}."
                    )
                with torch.no_grad():
                    slot.copy_(value)
        self._iterations = int(state_dict["iterations"])
        if state_dict.get("learning_rate") is not None and not callable(self._learning_rate):
            self._learning_rate = float(state_dict["learning_rate"])
        for name, value in state_dict.get("scalars", {}).items():
            setattr(self, "_" + name, float(value))
