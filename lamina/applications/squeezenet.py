"""SqueezeNet v1.1 (Iandola et al. 2016; DeepScale's v1.1 revision), laid out as the Keras
port `rcmalli/keras-squeezenet`, whose ImageNet weights file loads by layer name (`conv1`,
`fire2/squeeze1x1`, `fire2/expand1x1`, `fire2/expand3x3`, ..., `conv10`).

The pretrained network expects Caffe preprocessing (`preprocess_input` here: RGB to BGR, minus
the ImageNet mean, no scaling). Its scores before the softmax are the pooled ReLU(conv10)
outputs, so they are never negative.

>>> model = SqueezeNet(weights=None, input_shape=(64, 64, 3), include_top=False, pooling="avg")
>>> model.output_shape
(None, 512)
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from .. import config
from ..layers import (
    Activation,
    Concatenate,
    Conv2D,
    Dropout,
    GlobalAveragePooling2D,
    MaxPooling2D,
)
from ..layers._conv_utils import TilingWarning
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._keras_h5 import load_keras_h5_weights
from ._weights import WeightsFile, resolve_weights
from .imagenet_utils import (
    classifier_activation_layer,
    decode_predictions,
    global_pooling,
    image_input,
)
from .imagenet_utils import preprocess_input as _imagenet_preprocess_input

__all__ = ["SqueezeNet", "decode_predictions", "preprocess_input"]

PRETRAINED = WeightsFile(
    "squeezenet1_1_keras/squeezenet_weights_tf_dim_ordering_tf_kernels.h5",
    "308d1afdb450bd2836240f6cb6fe952cb2e33492fc3564b0c134391614c3dcb5",
    origin=None,
)
# (squeeze filters, expand filters) of fire2..fire9; a 3x3/2 max pooling follows fire3 and fire5.
_FIRES = ((16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256))


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """SqueezeNet's input scaling (Keras' mode 'caffe'): RGB pixels 0..255 to BGR minus the
    ImageNet mean per channel.

    >>> import numpy as np
    >>> preprocess_input(np.zeros((1, 1, 3))).astype(float).round(2).tolist()
    [[[-103.94, -116.78, -123.68]]]
    """
    return _imagenet_preprocess_input(x, data_format=data_format, mode="caffe")


def _fire(x: KerasTensor, fire_id: int, squeeze: int, expand: int, axis: int) -> KerasTensor:
    prefix = f"fire{fire_id}/"
    x = Conv2D(squeeze, 1, name=prefix + "squeeze1x1")(x)
    x = Activation("relu", name=prefix + "relu_squeeze1x1")(x)
    left = Conv2D(expand, 1, name=prefix + "expand1x1")(x)
    left = Activation("relu", name=prefix + "relu_expand1x1")(left)
    right = Conv2D(expand, 3, padding="same", name=prefix + "expand3x3")(x)
    right = Activation("relu", name=prefix + "relu_expand3x3")(right)
    return Concatenate(axis=axis, name=prefix + "concat")([left, right])


def SqueezeNet(  # noqa: N802 - Keras' naming of model constructors
    input_shape: tuple[int | None, ...] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike[str] | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    """SqueezeNet v1.1 with Keras applications' arguments.

    Args:
        input_shape: (height, width, 3); default (224, 224, 3), or (None, None, 3) without
            the top. At least 48x48.
        include_top: end with dropout, `conv10` (1x1, `classes` filters), ReLU, global
            average pooling and `predictions`.
        weights: None (random), "imagenet" (`PRETRAINED`, found through `LAMINA_WEIGHTS` or
            the cache), or the path of a Keras `.h5` of this architecture.
        input_tensor: a symbolic tensor to build on instead of a new `Input`.
        pooling: without the top: None (the 4-D feature map), "avg" or "max".
        classes: number of classes with the top (1000 for ImageNet weights).
        classifier_activation: activation of `predictions`; None gives the pooled scores.
        name: model name; default "squeezenet".

    >>> SqueezeNet(weights=None, input_shape=(64, 64, 3), classes=10).output_shape
    (None, 10)
    """
    pretrained = weights == "imagenet"
    if pretrained and include_top and classes != 1000:
        raise ValueError(f"ImageNet weights with include_top=True need classes=1000; got {classes}")
    path = resolve_weights(weights, PRETRAINED)
    x, inputs, _ = image_input(input_shape, input_tensor, 224, 48, include_top, pretrained)
    axis = 1 if config.image_data_format() == "channels_first" else -1

    with warnings.catch_warnings():
        # Caffe's 'valid' conv1 leaves the last row and column of an even input unused; the
        # weights were trained that way, so the TilingWarning would only be noise here.
        warnings.simplefilter("ignore", TilingWarning)
        x = Conv2D(64, 3, strides=2, padding="valid", name="conv1")(x)
    x = Activation("relu", name="relu_conv1")(x)
    x = MaxPooling2D(3, strides=2, name="pool1")(x)
    for fire_id, (squeeze, expand) in enumerate(_FIRES, start=2):
        x = _fire(x, fire_id, squeeze, expand, axis)
        if fire_id in (3, 5):
            x = MaxPooling2D(3, strides=2, name=f"pool{fire_id}")(x)
    if include_top:
        x = Dropout(0.5, name="drop9")(x)
        x = Conv2D(classes, 1, padding="valid", name="conv10")(x)
        x = Activation("relu", name="relu_conv10")(x)
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = classifier_activation_layer(classifier_activation, pretrained)(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inputs, x, name=name or "squeezenet")
    if path is not None:
        load_keras_h5_weights(model, path)
    return model
