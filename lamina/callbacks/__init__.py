"""Callbacks: hooks into fit / evaluate / predict, with Keras' names."""

from .backup import BackupAndRestore
from .callback import Callback, CallbackList, History, ProgbarLogger
from .checkpoint import ModelCheckpoint
from .ema import SwapEMAWeights
from .logging import CSVLogger, LambdaCallback, LearningRateScheduler
from .monitoring import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from .remote import RemoteMonitor
from .tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
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
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
