"""Stateful metrics, as `keras.metrics`: torch modules whose totals stay on the device.

`get(identifier)` is Keras' `metrics.get`: a class name, its snake-case name or an alias
('mse') gives a fresh metric with its default name. `compile_metric(identifier)` turns what
`compile(metrics=[...])` receives into a metric named as Keras' compile names it: a string gives
a metric named by that string ('mse' -> a MeanSquaredError named 'mse'). 'accuracy' and 'acc'
depend on the targets and predictions: `resolve_accuracy` picks the binary, categorical or
sparse categorical accuracy from their shapes, as Keras 3 does.

>>> import torch, lamina
>>> lamina.metrics.get("mae")
<MeanAbsoluteError name=mean_absolute_error>
>>> m = lamina.metrics.compile_metric("mae")
>>> m.name, type(m).__name__
('mae', 'MeanAbsoluteError')
>>> m.update_state(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.5, 2.5]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from .. import losses as _losses
from ..losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .at_threshold import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from .confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from .correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from .fbeta import F1Score, FBetaScore
from .iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .metric import Mean, MeanMetricWrapper, Metric, Sum
from .regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    R2Score,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "BinaryIoU",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "IoU",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanIoU",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "OneHotIoU",
    "OneHotMeanIoU",
    "Poisson",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "compile_metric",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "resolve_accuracy",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
    "ConcordanceCorrelation",
    "PearsonCorrelation",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "concordance_correlation",
    "pearson_correlation",
]

_CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        AUC,
        Accuracy,
        BinaryAccuracy,
        BinaryCrossentropy,
        BinaryIoU,
        CategoricalAccuracy,
        CategoricalCrossentropy,
        CategoricalHinge,
        CosineSimilarity,
        F1Score,
        FBetaScore,
        FalseNegatives,
        FalsePositives,
        Hinge,
        IoU,
        KLDivergence,
        LogCoshError,
        Mean,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanIoU,
        MeanMetricWrapper,
        MeanSquaredError,
        MeanSquaredLogarithmicError,
        OneHotIoU,
        OneHotMeanIoU,
        Poisson,
        Precision,
        R2Score,
        Recall,
        RootMeanSquaredError,
        SparseCategoricalAccuracy,
        SparseCategoricalCrossentropy,
        SparseTopKCategoricalAccuracy,
        SquaredHinge,
        Sum,
        TopKCategoricalAccuracy,
        TrueNegatives,
        TruePositives,
        ConcordanceCorrelation,
        PearsonCorrelation,
        PrecisionAtRecall,
        RecallAtPrecision,
        SensitivityAtSpecificity,
        SpecificityAtSensitivity,
    )
}

# Names that give a metric class; the accuracies' names resolve through `resolve_accuracy`
# inside compile, and to exact-match `Accuracy` here.
_NAMED_CLASSES: dict[str, type[Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "auc": AUC,
    "precision": Precision,
    "recall": Recall,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    # Keras resolves every class' snake-case name; these need no constructor argument.
    "f1_score": F1Score,
    "r2_score": R2Score,
    "true_positives": TruePositives,
    "false_positives": FalsePositives,
    "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
    "kl_divergence": KLDivergence,
    "cosine_similarity": CosineSimilarity,
    "log_cosh_error": LogCoshError,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "poisson": Poisson,
    "binary_io_u": BinaryIoU,
    "pearson_correlation": PearsonCorrelation,
    "concordance_correlation": ConcordanceCorrelation,
}

# Functions by name: the accuracies here and every loss function (averaged by MeanMetricWrapper).
_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    fn.__name__: fn
    for fn in (
        accuracy,
        binary_accuracy,
        categorical_accuracy,
        sparse_categorical_accuracy,
        top_k_categorical_accuracy,
        sparse_top_k_categorical_accuracy,
    )
}
_FUNCTIONS.update({name: fn for name, fn in _losses._FUNCTIONS.items() if name == fn.__name__})


def _valid_names() -> str:
    return ", ".join(sorted(set(_NAMED_CLASSES) | set(_CLASSES) | set(_FUNCTIONS)))


# Keras' `metrics.get` names beyond the classes' own and their snake-case names.
_GET_ALIASES: dict[str, type[Metric]] = {
    "bce": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
}


def get(identifier: Any) -> Any:
    """Keras' `metrics.get`: a fresh metric (default name) for a class name, its snake-case
    name or an alias ('mse', 'MSE', 'bce'), a class or a config dict; a `Metric`, a function
    or None is returned as it is.

    >>> get("AUC"), get("mse")
    (<AUC name=auc>, <MeanSquaredError name=mean_squared_error>)
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        from ..layers._naming import to_snake_case
        from ..saving.registry import get_registered_object

        names: dict[str, Any] = {**_CLASSES, **{to_snake_case(n): c for n, c in _CLASSES.items()}}
        names.update({**_GET_ALIASES, **{k.upper(): c for k, c in _GET_ALIASES.items()}})
        found = names.get(identifier, get_registered_object(identifier))
        if found is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier}. Valid names: "
                f"{', '.join(sorted(names))}"
            )
        return found() if isinstance(found, type) else found
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def compile_metric(identifier: Any) -> Metric | None:
    """Return a metric for a name, a function, a class, a config dict or a `Metric`, as
    `compile(metrics=...)` resolves it.

    A string gives a fresh metric named by that string, as Keras' compile names it: 'mse' is a
    MeanSquaredError named 'mse', 'MeanSquaredError' one named 'MeanSquaredError', 'hinge' the
    mean of `lamina.losses.hinge` named 'hinge'. A function `fn` gives
    `MeanMetricWrapper(fn, name=fn.__name__)`; a `Metric` is returned as is; None gives None.
    ('accuracy' here is exact-match `Accuracy`; compile resolves it with `resolve_accuracy`.)
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _NAMED_CLASSES:
            return _NAMED_CLASSES[identifier](name=identifier)
        if identifier in _CLASSES and identifier != "MeanMetricWrapper":
            return _CLASSES[identifier](name=identifier)
        if identifier in _FUNCTIONS:
            return MeanMetricWrapper(_FUNCTIONS[identifier], name=identifier)
        from ..saving.registry import get_registered_object

        registered = get_registered_object(identifier)
        if registered is not None:
            return compile_metric(registered)
        raise ValueError(
            f"Could not interpret metric identifier: {identifier}. Valid names: {_valid_names()}"
        )
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(  # Keras' words (a ValueError in Keras)
        f"Could not interpret metric identifier: {identifier!r}; give a name, a function, a "
        "Metric or a config dict"
    )


def resolve_accuracy(
    name: str,
    loss: Any,
    y_true_shape: tuple[int | None, ...],
    y_pred_shape: tuple[int | None, ...],
) -> Metric:
    """The accuracy metric that `metrics=['accuracy']` means, named `name`.

    As Keras 3, only the shapes decide (the loss is accepted but not consulted): predictions
    with a last axis of 1 give `BinaryAccuracy`; targets of lower rank than the predictions, or
    with a last axis of 1, give `SparseCategoricalAccuracy`; otherwise `CategoricalAccuracy`
    (so multi-label sigmoid outputs with binary_crossentropy get the categorical accuracy, as
    in Keras 3). One deliberate difference: rank-1 predictions (one score per sample) give
    `BinaryAccuracy`, where Keras would take an argmax over the batch.

    >>> resolve_accuracy("accuracy", "sparse_categorical_crossentropy", (32,), (32, 10))
    <SparseCategoricalAccuracy name=accuracy>
    """
    del loss  # Keras 3 decides from the shapes alone.
    true_rank, pred_rank = len(y_true_shape), len(y_pred_shape)
    if pred_rank <= 1 or y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if true_rank < pred_rank or (true_rank > 0 and y_true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def serialize(metric: Metric) -> dict[str, Any]:
    """The JSON form of a metric, as Keras': {'module': 'keras.metrics', 'class_name': ...,
    'config': ..., 'registered_name': None} (a custom class: its module and registered name)."""
    from ..utils._serialization import class_entry

    return class_entry(metric, metric.get_config())


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Metric:
    """Inverse of `serialize`; `custom_objects` maps further class names to classes."""
    from ..saving.registry import resolve_class

    class_name = config.get("class_name")
    cls = resolve_class(config, _CLASSES.get(class_name), custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Metric)):
        raise ValueError(
            f"Unknown metric class {class_name!r}. Valid names: {_valid_names()}; register "
            "custom metrics with lamina.saving.register_serializable or pass custom_objects"
        )
    return cls.from_config(config.get("config", {}))
