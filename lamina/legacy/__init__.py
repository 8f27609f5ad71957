"""Keras 2's serialization format, as `keras.legacy`: `lamina.legacy.saving`.

>>> import lamina
>>> lamina.legacy.saving.serialize_keras_object(lamina.regularizers.L2(0.5))
{'class_name': 'L2', 'config': {'l2': 0.5}}
"""

from . import saving

__all__ = ["saving"]
