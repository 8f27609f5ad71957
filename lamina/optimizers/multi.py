"""MultiOptimizer and OptimizerMap: different optimizers for different weights, as Keras 3.

>>> import torch, lamina
>>> encoder, head = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
>>> encoder.path, head.path = "encoder/kernel", "head/kernel"
>>> sgd, adam = lamina.optimizers.SGD(0.5), lamina.optimizers.Adam(0.1)
>>> opt = MultiOptimizer(OptimizerMap(sgd, {"encoder/.*": adam}))
>>> opt.build([encoder, head])
>>> encoder.grad, head.grad = torch.ones(1), torch.ones(1)
>>> opt.step()
>>> round(float(encoder.detach()), 4), float(head.detach())  # Adam's step, SGD's step
(0.9, 0.5)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any

import torch

from lamina.optimizers.loss_scale import LossScaleOptimizer
from lamina.optimizers.muon import _path
from lamina.optimizers.optimizer import Optimizer, Tensors

__all__ = ["MultiOptimizer", "OptimizerMap"]


def _check_inner(optimizer: Any, what: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{what} must be a lamina.optimizers.Optimizer; got {optimizer!r}")
    if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
        raise ValueError(
            f"{what} cannot be a {type(optimizer).__name__}; wrap the MultiOptimizer in a "
            "LossScaleOptimizer instead."
        )


class OptimizerMap(MutableMapping):
    """Maps weight paths to optimizers: a key is a path or a regular expression that must
    match a whole path (``"encoder/.*"``); unmatched weights get `default_optimizer`.

    Args:
        default_optimizer: the optimizer of the weights no key matches.
        optimizer_map: an initial dict of keys to optimizers.

    >>> from lamina.optimizers import SGD, Adam
    >>> optimizers = OptimizerMap(SGD(), {"encoder/.*": Adam()})
    >>> type(optimizers["encoder/dense/kernel"]).__name__, type(optimizers["head"]).__name__
    ('Adam', 'SGD')
    """

    def __init__(
        self, default_optimizer: Optimizer, optimizer_map: dict[str, Optimizer] | None = None
    ) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "OptimizerMap: `default_optimizer` must be a lamina.optimizers.Optimizer; got "
                f"{default_optimizer!r}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: `optimizer_map` must be a dict; got {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = dict(optimizer_map or {})

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        """The optimizer of path `key`: an exact key, else the one key that fully matches it
        as a regular expression, else the default. Two matching keys are an error."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"OptimizerMap: several keys match the weight {key!r}: {matches}; make the "
                "patterns exclusive."
            )
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if key in self._optimizer_map:
            raise ValueError(
                f"OptimizerMap: {key!r} is already mapped (to {self._optimizer_map[key].name!r});"
                " keys must be unique."
            )
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: keys must be strings; got {key!r}")
        _check_inner(optimizer, f"The optimizer of {key!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: torch.Tensor) -> Optimizer:
        return self[_path(variable)]

    def get_config(self) -> dict[str, Any]:
        from lamina.optimizers import serialize

        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {key: serialize(opt) for key, opt in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OptimizerMap:
        from lamina.optimizers import deserialize

        mapping = {key: deserialize(value) for key, value in config["optimizer_map"].items()}
        return cls(deserialize(config["default_optimizer"]), mapping)


class MultiOptimizer(Optimizer):
    """Delegates each weight to its own optimizer, chosen by an `OptimizerMap` (by path) or
    by a callable ``selector(weight) -> Optimizer``. It has no learning rate of its own: set
    and read those on `optimizers`.

    Args:
        optimizer_map: an `OptimizerMap`, or a callable taking a weight, returning its
            optimizer.
        loss_scale_factor: if set, overrides the sub-optimizers' `loss_scale_factor`.
        name: the optimizer's name.
    """

    def __init__(
        self,
        optimizer_map: OptimizerMap | Callable[[torch.Tensor], Optimizer],
        loss_scale_factor: float | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(optimizer_map):
            raise TypeError(
                "MultiOptimizer: `optimizer_map` must be an OptimizerMap or a callable of a "
                f"weight; got {optimizer_map!r}"
            )
        super().__init__(0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers: list[Optimizer] = []
        self._owner: list[int] = []
        mapped = list(optimizer_map.values()) if isinstance(optimizer_map, OptimizerMap) else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for opt in [*mapped, *([default] if default is not None else [])]:
            self._add(opt)

    def _add(self, optimizer: Optimizer) -> int:
        for k, known in enumerate(self._inner_optimizers):
            if known is optimizer:
                return k
        _check_inner(optimizer, "A MultiOptimizer's sub-optimizer")
        optimizer.loss_scale_factor = self.loss_scale_factor
        self._inner_optimizers.append(optimizer)
        return len(self._inner_optimizers) - 1

    @property
    def optimizers(self) -> list[Optimizer]:
        """The sub-optimizers: the mapped ones, the default, then those a selector returned."""
        return self._inner_optimizers

    @property
    def learning_rate(self) -> float:
        raise AttributeError(
            "A MultiOptimizer has no learning rate: read it on its `optimizers` instead."
        )

    @learning_rate.setter
    def learning_rate(self, value: float | Callable) -> None:
        if "_optimizer_map" not in self.__dict__:  # Optimizer.__init__'s placeholder
            Optimizer.learning_rate.fset(self, value)
            return
        raise AttributeError(
            "A MultiOptimizer has no learning rate: set it on its `optimizers` instead."
        )

    @property
    def loss_scale_factor(self) -> float | None:
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", ()):
            opt.loss_scale_factor = value

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [group for opt in self._inner_optimizers for group in opt.param_groups]

    def _members(self, params: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        groups: list[list[torch.Tensor]] = [[] for _ in self._inner_optimizers]
        for p in params:
            groups[self._owner[self._index[id(p)]]].append(p)
        return groups

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Assign each parameter its optimizer and build the sub-optimizers."""
        params = list(dict.fromkeys(params))
        if self.built and list(map(id, params)) == list(map(id, self._params)):
            return
        self._owner = [self._add(self._optimizer_map(p)) for p in params]
        self._params = params
        self._index = {id(p): i for i, p in enumerate(params)}
        for opt, members in zip(self._inner_optimizers, self._members(params), strict=True):
            if members:
                opt.build(members)
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Each sub-optimizer updates its parameters from their ``.grad``."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise ValueError(
                f"MultiOptimizer '{self.name}' is not built: call "
                "`optimizer.build(trainable_parameters)` before `step()`."
            )
        for opt in self._inner_optimizers:
            if opt.built:
                opt.step()
        self._iterations += 1
        return loss

    def apply_gradients(
        self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]]
    ) -> None:
        pairs = list(grads_and_vars)
        if not pairs:
            return
        if not self.built:
            self.build([p for _, p in pairs])
        unknown = [p for _, p in pairs if id(p) not in self._index]
        if unknown:
            raise ValueError(
                f"MultiOptimizer '{self.name}' was built for {len(self._params)} parameters and "
                f"got {len(unknown)} it does not know; build it on all trainable parameters."
            )
        by_owner: list[list[tuple[Any, torch.Tensor]]] = [[] for _ in self._inner_optimizers]
        for g, p in pairs:
            by_owner[self._owner[self._index[id(p)]]].append((g, p))
        for opt, sub_pairs in zip(self._inner_optimizers, by_owner, strict=True):
            if sub_pairs:
                opt.apply_gradients(sub_pairs)
        self._iterations += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self._inner_optimizers:
            opt.zero_grad(set_to_none)

    def finalize_variable_values(self, var_list: Iterable[torch.Tensor]) -> None:
        known = [p for p in var_list if id(p) in self._index]
        for opt, members in zip(self._inner_optimizers, self._members(known), strict=True):
            if members:
                opt.finalize_variable_values(members)

    @property
    def variables(self) -> Tensors:
        """Keras' order: its iterations and (unused) learning rate, then each sub-optimizer's."""
        return self._own_variables() + [v for opt in self._inner_optimizers for v in opt.variables]

    def state_dict(self) -> dict[str, Any]:
        """One state in the base class' form: ``state[i]`` is parameter i's slots in its
        sub-optimizer; each sub-optimizer's iterations, learning rate and scalars are scalars
        named ``"<index>.<what>"``."""
        scalars: dict[str, float] = {}
        state: dict[int, dict[str, torch.Tensor]] = {}
        for k, opt in enumerate(self._inner_optimizers):
            if not opt.built:
                continue
            sub = opt.state_dict()
            scalars[f"{k}.iterations"] = float(sub["iterations"])
            if sub["learning_rate"] is not None:
                scalars[f"{k}.learning_rate"] = float(sub["learning_rate"])
            scalars.update({f"{k}.{name}": value for name, value in sub["scalars"].items()})
            for local, p in enumerate(opt._params):
                state[self._index[id(p)]] = sub["state"][local]
        return {
            "iterations": self._iterations,
            "learning_rate": None,
            "scalars": scalars,
            "state": {i: state[i] for i in sorted(state)},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self.built:
            self._pending_state = state_dict
            return
        state = state_dict["state"]
        if len(state) != len(self._params):
            raise ValueError(
                f"MultiOptimizer '{self.name}' has {len(self._params)} parameters but the state "
                f"to load has {len(state)}; load it into one built on the same parameters."
            )
        scalars = state_dict.get("scalars", {})
        for k, opt in enumerate(self._inner_optimizers):
            if not opt.built:
                continue
            prefix = f"{k}."
            own = {n[len(prefix) :]: v for n, v in scalars.items() if n.startswith(prefix)}
            opt.load_state_dict(
                {
                    "iterations": int(own.pop("iterations", 0)),
                    "learning_rate": own.pop("learning_rate", None),
                    "scalars": own,
                    "state": {
                        local: state[i] if i in state else state[str(i)]
                        for local, i in enumerate(self._index[id(p)] for p in opt._params)
                    },
                }
            )
        self._iterations = int(state_dict["iterations"])

    def get_config(self) -> dict[str, Any]:
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise TypeError(
                f"MultiOptimizer '{self.name}' chooses optimizers with a callable, which cannot "
                "be serialized; use an OptimizerMap to make it serializable."
            )
        return {
            "optimizer_map": {
                "class_name": "OptimizerMap",
                "config": self._optimizer_map.get_config(),
            },
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MultiOptimizer:
        config = dict(config)
        entry = config.pop("optimizer_map")
        if isinstance(entry, dict):
            entry = OptimizerMap.from_config(entry.get("config", entry))
        return cls(entry, **config)
