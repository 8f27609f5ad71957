"""Loss functions and classes, as `keras.losses`, computed in torch.

A function returns one loss per sample (the last axis reduced); a class wraps its function, weighs
the per-sample losses by `sample_weight` and reduces them as Keras does (see `Loss`). Nothing here
reads a tensor back to the host except `validate_targets`, which the trainer calls once per fit.

>>> import torch, lamina
>>> loss = lamina.losses.to_loss("mse")
>>> type(loss).__name__
'MeanSquaredError'
>>> float(loss(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 1.0], [1.0, 1.0]])))
0.25
"""

from __future__ import annotations

from typing import Any

from .imbalance import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    Dice,
    Tversky,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    dice,
    tversky,
)
from .loss import (
    REDUCTIONS,
    Loss,
    LossFunction,
    LossFunctionWrapper,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
)
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from .regression import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    SquaredHinge,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    squared_hinge,
)
from .specialized import (
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
)
from .validation import validate_targets

__all__ = [
    "CTC",
    "CategoricalGeneralizedCrossEntropy",
    "Circle",
    "categorical_generalized_cross_entropy",
    "circle",
    "ctc",
    "REDUCTIONS",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "dice",
    "get",
    "to_loss",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "reduce_weighted_values",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "squeeze_or_expand_to_same_rank",
    "tversky",
    "validate_targets",
]

_FUNCTION_CLASSES: dict[LossFunction, type[LossFunctionWrapper]] = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    cosine_similarity: CosineSimilarity,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    dice: Dice,
    tversky: Tversky,
    ctc: CTC,
    circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
}
_FUNCTIONS: dict[str, LossFunction] = {fn.__name__: fn for fn in _FUNCTION_CLASSES}
_ALIASES = {
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "kld": kl_divergence,
    "bce": binary_crossentropy,
}
_FUNCTIONS.update(_ALIASES)
_FUNCTIONS.update({alias.upper(): fn for alias, fn in _ALIASES.items()})
_CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls for cls in [Loss, LossFunctionWrapper, *_FUNCTION_CLASSES.values()]
}

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence


def _valid_names() -> str:
    return ", ".join(sorted(set(_FUNCTIONS) | set(_CLASSES) - {"Loss", "LossFunctionWrapper"}))


def _resolve_function(name: str | LossFunction) -> LossFunction:
    if callable(name):
        return name
    if name not in _FUNCTIONS:
        from ..saving.registry import get_registered_object

        registered = get_registered_object(name)
        if callable(registered):
            return registered
        raise ValueError(f"Unknown loss function {name!r}. Valid names: {_valid_names()}")
    return _FUNCTIONS[name]


def get(identifier: Any) -> Any:
    """Keras' `losses.get`: a loss function for its name or an alias ('mse', 'MSE', 'kld'), a
    fresh loss for a class name, a class or a config dict; a `Loss`, a function or None is
    returned as it is. (`to_loss` always gives a `Loss`.)

    >>> get("mse").__name__, get("Huber")
    ('mean_squared_error', <Huber name='huber_loss'>)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        from ..saving.registry import get_registered_object

        found = {**_CLASSES, **_FUNCTIONS}.get(identifier, get_registered_object(identifier))
        if found is None:
            raise ValueError(
                f"Could not interpret loss identifier: {identifier}. Valid names: {_valid_names()}"
            )
        return found() if isinstance(found, type) else found
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier}")


def to_loss(identifier: str | LossFunction | Loss | dict[str, Any] | None) -> Loss | None:
    """Return a `Loss` for a name ('mse', 'CategoricalCrossentropy'), a function, a config dict
    ({'class_name': ..., 'config': ...}), a `Loss` (returned as is) or None (returns None).

    Names and lamina's own functions give the matching class (`get('categorical_crossentropy')`
    is a `CategoricalCrossentropy`); other functions are wrapped in a `LossFunctionWrapper`.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _CLASSES and identifier not in ("Loss", "LossFunctionWrapper"):
            return _CLASSES[identifier]()
        if identifier in _FUNCTIONS:
            return _FUNCTION_CLASSES[_FUNCTIONS[identifier]]()
        from ..saving.registry import get_registered_object

        registered = get_registered_object(identifier)
        if registered is not None:
            return to_loss(registered)
        raise ValueError(
            f"Could not interpret loss identifier: {identifier}. Valid names: {_valid_names()}"
        )
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return LossFunctionWrapper(identifier)
    raise ValueError(  # Keras' words (a ValueError in Keras)
        f"Could not interpret loss identifier: {identifier!r}; give a name, a function, a Loss "
        "or a config"
    )


def serialize(loss: Loss) -> dict[str, Any]:
    """The JSON form of a loss, as Keras': {'module': 'keras.losses', 'class_name': ...,
    'config': ..., 'registered_name': None} (a custom class: its module and registered name)."""
    from ..utils._serialization import class_entry

    return class_entry(loss, loss.get_config())


def deserialize(name: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Loss:
    """Inverse of `serialize` (`name` is its dict, or a loss name as for `get`);
    `custom_objects` maps further class names to classes."""
    from ..saving.registry import resolve_class

    config = name
    if isinstance(config, str):
        custom = (custom_objects or {}).get(config)
        return to_loss(custom if custom is not None else config)
    class_name = config.get("class_name")
    cls = resolve_class(config, _CLASSES.get(class_name), custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise ValueError(
            f"Unknown loss class {class_name!r}. Valid names: {_valid_names()}; register custom "
            "losses with lamina.saving.register_serializable or pass custom_objects"
        )
    return cls.from_config(config.get("config", {}))
