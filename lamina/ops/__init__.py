"""Keras' `keras.ops` on torch tensors: NumPy-style math, neural-network ops, linear
algebra, images and core utilities. Every op takes tensors, NumPy arrays or Python numbers
and returns a torch tensor, differentiable where torch is; on symbolic tensors (in a
functional model) it records a graph node, as Keras' ops do.

>>> import lamina.ops as ops
>>> y_true, y_pred = ops.convert_to_tensor([[1.0, 2.0]]), ops.convert_to_tensor([[1.5, 2.0]])
>>> ops.mean(ops.square(y_true - y_pred), axis=-1)
tensor([0.1250])
"""

from . import core, image, linalg, math, nn, numpy
from ._graph import symbolic_aware

for _module in (core, linalg, math, nn, numpy):
    symbolic_aware(_module)
del _module
symbolic_aware(image, prefix="image.")

from .core import *  # noqa: E402, F403
from .linalg import *  # noqa: E402, F403
from .math import *  # noqa: E402, F403
from .nn import *  # noqa: E402, F403
from .numpy import *  # noqa: E402, F403

__all__ = [
    "core",
    "image",
    "linalg",
    "math",
    "nn",
    "numpy",
    *core.__all__,
    *linalg.__all__,
    *math.__all__,
    *nn.__all__,
    *numpy.__all__,
]
