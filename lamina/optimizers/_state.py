"""The optimizer's state: Keras' `variables`, and torch's `state_dict` / `load_state_dict`.

`optimizer.variables` gives Keras' variables in Keras' order and with Keras' names: the
iteration count, the learning rate, then the slots (EMA averages, gradient accumulators, then
the optimizer's own), named ``"<weight path with _>_<slot>"`` under the optimizer's name
(``'adam/sequential_dense_kernel_momentum'``). A slot comes as a `BufferVariable` (the class
of a layer's non-trainable weights) sharing the slot's memory: `assign` changes the state.
The iteration count and learning rate are Python numbers in lamina (a step never reads the
device), so they come as variables holding their value; `assign` sets the optimizer's number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.layers._variables import BufferVariable

Tensors = list[torch.Tensor]

__all__ = ["OptimizerState", "OptimizerScalar"]

# Keras' names for the slots lamina names otherwise (Adamax's m/u, Adafactor's v).
_KERAS_SLOT_NAMES = {
    "m": "momentum",
    "u": "norm",
    "v": "velocity",
    "accumulated_gradient": "gradient_accumulator",
}
# Adafactor's factored second moments: Keras names them after the weight ('kernel'). lamina
# factors in PyTorch's layout, so for a weight stored transposed (a Dense kernel) its `c` is
# Keras' `r`, which Keras lists first.
_NAMED_AFTER_WEIGHT = ("r", "c")
_TRANSPOSED_ORDER = {("r", "c", "v"): ("c", "r", "v")}
# Keras creates these without a name or scope: its default variable name.
_KERAS_SCALAR_NAMES = {"u_product": "variable"}


class OptimizerScalar(BufferVariable):
    """A Python-number part of an optimizer's state (iteration count, learning rate, loss
    scale) as a Keras variable: it reads the optimizer's value (`numpy()` reads it afresh),
    and `assign`, `assign_add`, `assign_sub` set the optimizer's number."""

    _owner: Any = None
    _key: str = ""

    def _refresh(self) -> None:
        with torch.no_grad():
            torch.Tensor.fill_(self, self._owner._read_scalar(self._key))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        self._refresh()
        return super().numpy(force=force)

    def _write_back(self) -> Any:
        self._owner._write_scalar(self._key, torch.Tensor.item(self))
        return self

    def assign(self, value: Any) -> Any:
        super().assign(value)
        return self._write_back()

    def assign_add(self, delta: Any) -> Any:
        self._refresh()
        super().assign_add(delta)
        return self._write_back()

    def assign_sub(self, delta: Any) -> Any:
        self._refresh()
        super().assign_sub(delta)
        return self._write_back()


def _same_memory(variable: torch.Tensor, tensor: torch.Tensor) -> bool:
    """Whether `variable` still views `tensor` (a slot is replaced when it changes device)."""
    return (
        variable.data_ptr() == tensor.data_ptr()
        and variable.shape == tensor.shape
        and variable.device == tensor.device
        and variable.dtype == tensor.dtype
    )


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
    _active_slot_groups: Any
    gradient_accumulation_steps: int | None
    use_ema: bool
    built: bool
    name: str

    @property
    def variables(self) -> Tensors:
        """Keras' variables, in Keras' order: 'iteration', 'learning_rate' (unless it is a
        schedule), then once built the slots group by group (EMA averages, gradient
        accumulators, the optimizer's own), each weight's in turn, then scalar state."""
        out = self._own_variables()
        if not self.built:
            return out
        groups: tuple[tuple[str, ...], ...] = self._active_slot_groups()
        if self.gradient_accumulation_steps:
            groups = (("accumulated_gradient",), *groups)
        if self.use_ema:
            groups = (("average",), *groups)
        for group in groups:
            for i, param in enumerate(self._params):
                names = group
                if getattr(param, "_keras_axes", None) == (1, 0):
                    names = _TRANSPOSED_ORDER.get(group, group)
                out += [self._slot_variable(name, i) for name in names]
        for name in self._scalar_state:
            keras_name = _KERAS_SCALAR_NAMES.get(name, name)
            out.append(self._scalar_variable(name, torch.float32, keras_name, keras_name))
        return out

    def _own_variables(self) -> Tensors:
        """'iteration' (int32, as Keras') and 'learning_rate' (float32) unless a schedule."""
        out = [self._scalar_variable("iteration", torch.int32)]
        if not callable(self._learning_rate):
            out.append(self._scalar_variable("learning_rate", torch.float32))
        return out

    def _scalar_variable(
        self, key: str, dtype: torch.dtype, name: str | None = None, path: str | None = None
    ) -> OptimizerScalar:
        variable = OptimizerScalar(torch.tensor(self._read_scalar(key), dtype=dtype))
        variable._owner, variable._key = self, key
        variable._keras_name = name or key
        variable._keras_path = path or f"{self.name}/{variable._keras_name}"
        return variable

    def _read_scalar(self, key: str) -> float:
        """The value of the Python-number state `key` ('iteration', 'learning_rate', or a
        name in `_scalar_state`)."""
        if key == "iteration":  # every call counts, as Keras' variable (`iterations` divides)
            pending = self._pending_state
            return int(pending["iterations"]) if pending is not None else self._iterations
        if key == "learning_rate":
            return self._current_learning_rate()
        return getattr(self, "_" + key)

    def _write_scalar(self, key: str, value: float) -> None:
        if key == "iteration":
            if self._pending_state is not None:
                self._pending_state["iterations"] = int(value)
            else:
                self._iterations = int(value)
        elif key == "learning_rate":
            if callable(self._learning_rate):
                raise TypeError(
                    f"{type(self).__name__} '{self.name}' has a learning-rate schedule; its "
                    "learning rate cannot be assigned."
                )
            self._learning_rate = float(value)
        else:
            setattr(self, "_" + key, float(value))

    def _slot_variable(self, slot: str, i: int) -> torch.Tensor:
        """Slot `slot` of parameter `i` as a named Keras variable sharing the slot's memory.
        The slots themselves stay plain tensors: the step's foreach kernels take a list of
        tensor subclasses measurably slower (12-20% on small models)."""
        tensor = self._slots[slot][i]
        cache: dict[tuple[str, int], Any] = self.__dict__.setdefault("_slot_variables", {})
        variable = cache.get((slot, i))
        if variable is not None and _same_memory(variable, tensor):
            return variable
        variable = BufferVariable(tensor.detach())
        param = self._params[i]
        weight_path = getattr(param, "path", None) or getattr(param, "name", None)
        weight_path = str(weight_path or (f"variable_{i}" if i else "variable"))
        if slot in _NAMED_AFTER_WEIGHT:
            name = weight_path.rsplit("/", 1)[-1]
            # Keras makes a weight of rank < 2's factors outside the optimizer's scope.
            path = f"{self.name}/{name}" if param.ndim >= 2 else name
        else:
            name = f"{weight_path.replace('/', '_')}_{_KERAS_SLOT_NAMES.get(slot, slot)}"
            path = f"{self.name}/{name}"
        variable._keras_name, variable._keras_path = name, path
        if tensor.shape == param.shape:  # `numpy()` and `assign` in Keras' layout, as the weight
            variable._keras_axes = getattr(param, "_keras_axes", None)
            variable._keras_layout = getattr(param, "_keras_layout", None)
        cache[(slot, i)] = variable
        return variable

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
