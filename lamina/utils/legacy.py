"""Keras 2's serialization format, as `keras.utils.legacy` (the same functions as
`lamina.legacy.saving`).

>>> import lamina
>>> serialize_keras_object(lamina.regularizers.L1(0.25))
{'class_name': 'L1', 'config': {'l1': 0.25}}
"""

from lamina.legacy.saving import deserialize_keras_object, serialize_keras_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
