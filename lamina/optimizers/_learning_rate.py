"""`optimizer.learning_rate` and `optimizer.iterations` as Keras users read them: the value
of a float32 variable, and an int with Keras' variable calls.

Keras keeps an optimizer's learning rate in a float32 variable, so its callbacks and logs see
`float(SGD(0.3).learning_rate) == 0.30000001192092896`. lamina's optimizers update with the
number as it was set (exactly, as torch.optim does) and show Keras' value where it is read.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

__all__ = ["Iterations", "LearningRate"]


def _path(optimizer_ref: Any, name: str) -> str:
    optimizer = optimizer_ref()
    return name if optimizer is None else f"{optimizer.name}/{name}"


def _variable_repr(path: str, dtype: str, value: str) -> str:
    """Keras' `repr` of a scalar variable."""
    return f"<Variable path={path}, shape=(), dtype={dtype}, value={value}>"


class LearningRate(float):
    """An optimizer's learning rate as read from `optimizer.learning_rate`: the value of
    Keras' float32 variable (so logs and callbacks see Keras' numbers), compared as Keras
    compares its variable with a number (in float32), and answering Keras' variable calls,
    so that callbacks written for Keras run unchanged. The optimizer's updates use the
    number as it was set.

    >>> from lamina.optimizers import SGD
    >>> optimizer = SGD(0.1)
    >>> optimizer.learning_rate.assign(0.05)
    >>> float(optimizer.learning_rate), optimizer.learning_rate == 0.05
    (0.05000000074505806, True)
    >>> optimizer.learning_rate.numpy().dtype
    dtype('float32')
    """

    _optimizer: Any
    dtype = "float32"
    name = "learning_rate"

    def __new__(cls, value: float, optimizer: Any) -> LearningRate:
        self = super().__new__(cls, float(np.float32(value)))
        self._optimizer = weakref.ref(optimizer)
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (int, float, np.number)):
            return float(self) == float(np.float32(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = float.__hash__

    def assign(self, value: Any) -> None:
        """Set the optimizer's learning rate (Keras' `variable.assign`)."""
        optimizer = self._optimizer()
        if optimizer is None:
            raise RuntimeError("The optimizer of this learning rate no longer exists")
        optimizer.learning_rate = float(value)

    def numpy(self) -> np.ndarray:
        """The value as a float32 NumPy scalar, as Keras' variable gives it."""
        return np.asarray(float(self), dtype=np.float32)

    @property
    def path(self) -> str:
        return _path(self._optimizer, "learning_rate")

    def __repr__(self) -> str:
        # Keras' variable (a schedule's rate is a plain tensor in Keras: shown as a number)
        optimizer = self._optimizer()
        if optimizer is None or callable(getattr(optimizer, "_learning_rate", None)):
            return float.__repr__(self)
        return _variable_repr(self.path, "float32", float.__repr__(self))

    @property
    def value(self) -> float:
        return float(self)

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and deep-copies) as a plain float
        return (float, (float(self),))


class Iterations(int):
    """`optimizer.iterations` as Keras users read it: the update count, an int that also
    answers Keras' variable calls (`numpy()`, `assign`, `value`, `dtype`, `name`), so that
    callbacks such as `int(self.model.optimizer.iterations.numpy())` run unchanged.

    >>> from lamina.optimizers import SGD
    >>> optimizer = SGD(0.1, name="sgd")
    >>> optimizer.iterations.numpy(), optimizer.iterations + 1
    (array(0, dtype=int32), 1)
    >>> optimizer.iterations
    <Variable path=sgd/iteration, shape=(), dtype=int32, value=0>
    >>> optimizer.iterations.assign(5)
    >>> int(optimizer.iterations)
    5
    """

    _optimizer: Any
    dtype = "int32"
    name = "iteration"
    trainable = False

    def __new__(cls, value: int, optimizer: Any) -> Iterations:
        self = super().__new__(cls, int(value))
        self._optimizer = weakref.ref(optimizer)
        return self

    def assign(self, value: Any) -> None:
        """Set the optimizer's update count (Keras' `variable.assign`)."""
        optimizer = self._optimizer()
        if optimizer is None:
            raise RuntimeError("The optimizer of these iterations no longer exists")
        optimizer._set_iterations(int(value))

    def numpy(self) -> np.ndarray:
        """The count as an int32 NumPy scalar, as Keras' variable gives it."""
        return np.asarray(int(self), dtype=np.int32)

    @property
    def path(self) -> str:
        return _path(self._optimizer, "iteration")

    def __repr__(self) -> str:  # Keras' variable; print() and f-strings show it too
        return _variable_repr(self.path, "int32", int.__repr__(self))

    @property
    def value(self) -> int:
        return int(self)

    @property
    def shape(self) -> tuple[()]:
        return ()

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and deep-copies) as a plain int
        return (int, (int(self),))
