"""Keras 3's optimizers, with Keras' names, arguments, defaults and update rules.

>>> import lamina
>>> lamina.optimizers.get("adam").get_config()["learning_rate"]  # Keras' float32 value of 0.001
0.0010000000474974513
"""

from __future__ import annotations

from typing import Any

from lamina.optimizers import legacy, schedules
from lamina.optimizers.adam import Adam, Adamax, AdamW, Nadam
from lamina.optimizers.adaptive import Adadelta, Adagrad, RMSprop
from lamina.optimizers.extra import Adafactor, Ftrl, Lamb, Lion
from lamina.optimizers.loss_scale import LossScaleOptimizer
from lamina.optimizers.multi import MultiOptimizer, OptimizerMap
from lamina.optimizers.muon import Muon
from lamina.optimizers.optimizer import Optimizer
from lamina.optimizers.schedule_free import ScheduleFreeAdamW
from lamina.optimizers.sgd import SGD

__all__ = [
    "legacy",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "Muon",
    "OptimizerMap",
    "ScheduleFreeAdamW",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

_BY_NAME: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls
    for cls in (
        SGD,
        Adam,
        AdamW,
        RMSprop,
        Adagrad,
        Adadelta,
        Adamax,
        Nadam,
        Lion,
        Muon,
        ScheduleFreeAdamW,
        LossScaleOptimizer,
        MultiOptimizer,
        Lamb,
        Ftrl,
        Adafactor,
    )
}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Keras' form, JSON types only: ``{"module": "keras.optimizers", "class_name": ...,
    "config": ..., "registered_name": None}`` (a registered class' name for other classes)."""
    from ..utils._serialization import serialize_keras_object

    return serialize_keras_object(optimizer)


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, type[Optimizer]] | None = None
) -> Optimizer:
    """Create an optimizer from ``serialize``'s output, or a ``{"class_name", "config"}``
    dict (class names are case-insensitive)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "An optimizer config must be a dict with 'class_name' and 'config' keys, as "
            f"`lamina.optimizers.serialize` returns; got {config!r}"
        )
    class_name = config["class_name"]
    from ..saving.registry import resolve_class

    cls = resolve_class(config, _BY_NAME.get(str(class_name).lower()), custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown optimizer {class_name!r}. Valid names: {', '.join(sorted(_BY_NAME))}; "
            "pass other Optimizer subclasses through `custom_objects`."
        )
    return cls.from_config(config.get("config", {}))


def get(identifier: str | dict[str, Any] | Optimizer | None) -> Optimizer | None:
    """Return an optimizer from a name (``"adam"``), a config dict, or an instance (as is)."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier {identifier!r}: expected an optimizer "
        f"name ({', '.join(sorted(_BY_NAME))}), a config dict or an Optimizer instance."
    )
