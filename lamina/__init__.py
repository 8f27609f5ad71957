"""lamina: Keras 3's interface on PyTorch's engine.

>>> import lamina
>>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
>>> model.count_params()
10
"""

from . import (
    activations,
    applications,
    backend,
    callbacks,
    config,
    constraints,
    data,
    datasets,
    distillation,
    distribution,
    dtype_policies,
    export,
    initializers,
    layers,
    legacy,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    quantizers,
    random,
    regularizers,
    saving,
    transfer,
    tree,
    utils,
    visualization,
    wrappers,
)
from .config import device_scope as device
from .dtype_policies import FloatDTypePolicy
from .initializers import Initializer
from .layers import Input, InputSpec, Layer
from .layers._name_scope import name_scope
from .layers._naming import clear_session
from .layers._remat import RematScope, remat
from .layers._symbolic import KerasTensor
from .layers._user_operation import Function, Operation
from .layers._variables import Variable
from .losses import Loss
from .metrics import Metric
from .mixed_precision import DTypePolicy
from .models import Model, Sequential
from .optimizers import Optimizer
from .quantizers import Quantizer
from .regularizers import Regularizer

__version__ = "0.1.0"


def version() -> str:
    """lamina's version (Keras' `keras.version()`).

    >>> version() == __version__
    True
    """
    return __version__


__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "Function",
    "Initializer",
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Model",
    "Operation",
    "Optimizer",
    "Quantizer",
    "Regularizer",
    "RematScope",
    "Sequential",
    "Variable",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "clear_session",
    "config",
    "constraints",
    "data",
    "device",
    "datasets",
    "distillation",
    "distribution",
    "dtype_policies",
    "export",
    "initializers",
    "layers",
    "legacy",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "name_scope",
    "ops",
    "optimizers",
    "preprocessing",
    "quantizers",
    "random",
    "regularizers",
    "remat",
    "saving",
    "transfer",
    "tree",
    "utils",
    "version",
    "visualization",
    "wrappers",
]
