"""`keras.preprocessing.sequence`: `pad_sequences`.

>>> pad_sequences([[1, 2, 3]], maxlen=2, truncating="post").tolist()
[[1, 2]]
"""

from ..utils import pad_sequences

__all__ = ["pad_sequences"]
