"""`keras.applications.resnet50`: ResNet50 with its preprocessing (Keras' 'caffe' mode: RGB to BGR,
ImageNet means subtracted) and `decode_predictions`.

>>> import numpy as np
>>> round(float(preprocess_input(np.full((1, 1, 1, 3), 128.0))[0, 0, 0, 0]), 3)  # 128 - 103.939
24.061
"""

from typing import Any

from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_input as _preprocess
from .resnet import ResNet50

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' ResNet50 preprocessing ('caffe' mode)."""
    return _preprocess(x, data_format=data_format, mode="caffe")
