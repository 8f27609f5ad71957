"""`keras.preprocessing`: Keras' older home of the image and sequence helpers and the dataset
builders, which live in `lamina.utils` (the same functions under both names).

>>> from lamina.preprocessing.sequence import pad_sequences
>>> pad_sequences([[1, 2], [3]], maxlen=3).tolist()
[[0, 1, 2], [0, 0, 3]]
"""

from ..utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from . import image, sequence

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
