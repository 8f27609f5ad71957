"""Callbacks: hooks into fit / evaluate / predict, with Keras' names."""

from .callback import Callback, CallbackList, History, ProgbarLogger
from .checkpoint import ModelCheckpoint
from .logging import CSVLogger, LambdaCallback, LearningRateScheduler
from .monitoring import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
