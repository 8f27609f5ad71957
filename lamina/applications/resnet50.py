"""`keras.applications.resnet50`: ResNet50 with its preprocessing (Keras' 'caffe' mode: RGB to BGR,
ImageNet means subtracted) and `decode_predictions`.

>>> import numpy as np
>>> round(float(preprocess_input(np.full((1, 1, 1, 3), 128.0))[0, 0, 0, 0]), 3)  # 128 - 103.939
24.061
"""

from .resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
