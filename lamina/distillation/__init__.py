"""Knowledge distillation (Keras 3's `keras.distillation`): a `Distiller` trains a student
model from its labels and from a frozen teacher, with `LogitsDistillation` (final outputs
softened by a temperature), `FeatureDistillation` (intermediate layers) or losses of one's
own (subclasses of `DistillationLoss`).

>>> from lamina import distillation
>>> distillation.LogitsDistillation().temperature
3.0
"""

from .distillation_loss import DistillationLoss, FeatureDistillation, LogitsDistillation
from .distiller import Distiller

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]
