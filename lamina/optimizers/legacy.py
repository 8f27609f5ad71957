"""`keras.optimizers.legacy`: Keras 3 keeps these names only to refuse them, and so does
lamina: creating any of them raises ImportError with the way forward.

>>> try:
...     Adam(0.001)
... except ImportError as error:
...     print(str(error)[:44])
`keras.optimizers.legacy` is not supported i
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]


class LegacyOptimizerWarning:
    """Stands for every Keras 2 optimizer class; creating one raises ImportError."""

    def __init__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3, nor in lamina: the "
            "legacy (Keras 2 / tf.keras) optimizers do not exist here. Use the optimizer of "
            "the same name in `lamina.optimizers` (e.g. lamina.optimizers.Adam), which takes "
            "the same arguments."
        )


# Keras 3 binds every legacy name to the one refusing class.
Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning
