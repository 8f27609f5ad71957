"""The Metric base class and the reducing metrics: Mean, Sum, MeanMetricWrapper.

A metric is a `torch.nn.Module` whose state lives in buffers, so `.to(device)` moves it and
`update_state` accumulates on the device without reading anything back; `result()` returns a
tensor that the caller reads (`float(metric.result())`) only when it displays it.

>>> import torch
>>> from lamina.metrics import Mean
>>> m = Mean()
>>> m.update_state(torch.tensor([1.0, 3.0]))
>>> m.update_state(torch.tensor([5.0]), sample_weight=torch.tensor([2.0]))
>>> float(m.result())   # (1 + 3 + 2 * 5) / (1 + 1 + 2)
3.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .. import config
from ..layers._name_scope import join_path
from ..layers._variables import BufferVariable
from ..layers.layer import to_snake_case, unique_name
from ..losses.loss import _as_tensor, _divide_no_nan, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor

__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum", "reduce_to_samplewise_values"]


class Metric(torch.nn.Module):
    """Base class of stateful metrics.

    Subclasses create their state with `add_state` in `__init__` and implement
    `update_state(y_true, y_pred, sample_weight=None)` and `result()`. Calling the metric
    updates it and returns the result, as in Keras.

    Args:
        name: the metric's name (its key in the history); by default the class name in snake
            case, numbered.
        dtype: the float type of the state and result (floatx by default).
    """

    def __init__(self, dtype: str | None = None, name: str | None = None) -> None:
        super().__init__()
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = dtype or config.floatx()
        self._state_names: list[str] = []

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self._dtype)

    def add_state(self, name: str, shape: Sequence[int] = (), device: Any = None) -> Tensor:
        """Create a zero-initialised state buffer, reset by `reset_state`, left out of
        `state_dict` (a checkpoint of a model holds no metric totals)."""
        state = BufferVariable(torch.zeros(tuple(shape), dtype=self.torch_dtype, device=device))
        state._keras_name, state._keras_path = name, join_path(f"{self.name}/{name}")
        self.register_buffer(name, state, persistent=False)  # named as Keras' variables
        if name not in self._state_names:
            self._state_names.append(name)
        return state

    def add_variable(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Tensor:
        """Keras' way to make a state: a non-trainable Variable (`assign_add` it in
        `update_state`), a buffer of the metric, zeroed by `reset_state`.

        >>> class Total(Metric):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.total = self.add_variable(shape=(), name="total")
        ...     def update_state(self, values, sample_weight=None):
        ...         self.total.assign_add(torch.as_tensor(values).sum())
        ...     def result(self):
        ...         return self.total
        >>> metric = Total(name="t")
        >>> metric.update_state([1.0, 2.0]); float(metric.result()), metric.variables[0].path
        (3.0, 't/total')
        """
        from ..layers._variables import _initial_value

        taken = set(self._state_names) | set(self._buffers)
        name = name or next(
            f"variable_{i}" if i else "variable"
            for i in range(len(taken) + 1)
            if (f"variable_{i}" if i else "variable") not in taken
        )
        value = _initial_value(initializer, tuple(shape), dtype or self._dtype)
        self.register_buffer(name, BufferVariable(value), persistent=False)
        variable = getattr(self, name)
        variable._keras_name, variable._keras_path = name, join_path(f"{self.name}/{name}")
        if name not in self._state_names:
            self._state_names.append(name)
        return variable

    def add_weight(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Tensor:
        """Keras' other name for `add_variable`."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        from ..layers._variables import apply_keeping_variables

        return apply_keeping_variables(self, super()._apply, fn, recurse)

    @property
    def variables(self) -> list[Tensor]:
        """The state tensors (Keras' `metric.variables`), in the order they were added."""
        return [getattr(self, name) for name in self._state_names]

    def _follow(self, tensor: Tensor) -> None:
        """Move the state to `tensor`'s device if it is elsewhere (a metadata check only)."""
        names = self._state_names
        first = getattr(self, names[0]) if names else next(self.buffers(), None)
        if first is not None and first.device != tensor.device:
            self.to(tensor.device)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        """Set every state buffer back to zero."""
        for name in self._state_names:
            getattr(self, name).zero_()

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"  # as Keras'


def reduce_to_samplewise_values(
    values: Tensor, sample_weight: Any, reduce: Callable[..., Tensor], dtype: torch.dtype
) -> tuple[Tensor, Tensor | None]:
    """One value (and one weight) per sample, as Keras' reducing metrics see them.

    Weights of lower rank than the values first reduce the values' extra axes with `reduce`;
    weights of higher rank are reduced over their non-batch axes.
    """
    values = values.detach().to(dtype)  # metrics track no gradients, as in Keras
    weight = None
    if sample_weight is not None:
        weight = _as_tensor(sample_weight, dtype, values.device)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        if values.ndim > weight.ndim:
            values = reduce(values, dim=tuple(range(weight.ndim, values.ndim)))
        weight = weight.expand_as(values)
        values = values * weight
        if weight.ndim > 1:
            weight = reduce(weight, dim=tuple(range(1, weight.ndim)))
    if values.ndim > 1:
        values = reduce(values, dim=tuple(range(1, values.ndim)))
    return values, weight


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name: str = "sum", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.add_state("total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = _as_tensor(values)
        self._follow(values)
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, self.torch_dtype)
        self.total.add_(values.sum())

    def result(self) -> Tensor:
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of all values seen: sum(w * v) / sum(w)."""

    def __init__(self, name: str = "mean", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.add_state("total")
        self.add_state("count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = _as_tensor(values)
        self._follow(values)
        values, weight = reduce_to_samplewise_values(
            values, sample_weight, torch.mean, self.torch_dtype
        )
        self.total.add_(values.sum())
        if weight is not None:
            self.count.add_(weight.sum())
        else:
            self.count.add_(values.shape[0] if values.ndim >= 1 else 1)

    def result(self) -> Tensor:
        return _divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over all samples seen.

    Args:
        fn: a function returning one value per sample (or per element).
        name: the metric's name.
        dtype: the float type of the state.
        **kwargs: passed to `fn`.
    """

    def __init__(
        self,
        fn: Callable[..., Tensor],
        name: str | None = None,
        dtype: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name or unique_name("mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = _as_tensor(y_pred)
        y_true = _as_tensor(y_true, device=y_pred.device)
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            from ..saving.registry import get_registered_name

            config["fn"] = get_registered_name(self._fn)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        if cls is MeanMetricWrapper:
            config = dict(config)
            config["fn"] = _metric_function(config["fn"])
        return cls(**config)


def _metric_function(name: str | Callable[..., Tensor]) -> Callable[..., Tensor]:
    if callable(name):
        return name
    from ..saving.registry import get_registered_object
    from . import _FUNCTIONS  # the package's table of metric and loss functions

    registered = get_registered_object(name)
    if name not in _FUNCTIONS and callable(registered):
        return registered
    if name not in _FUNCTIONS:
        raise ValueError(
            f"Unknown metric function {name!r}. Valid names: {', '.join(sorted(_FUNCTIONS))}"
        )
    return _FUNCTIONS[name]
