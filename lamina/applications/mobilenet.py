"""MobileNet v1 (Howard et al. 2017) with `keras.applications.MobileNet`'s arguments, layer
names and padding, so Keras' `.h5` weights load by layer name.

Stride-2 convolutions follow TensorFlow's 'same' convention (the extra padding row and column
go at the bottom and right): `conv1` through Conv2D(padding='same'), the depthwise ones through
an explicit `ZeroPadding2D(((0, 1), (0, 1)))` + 'valid', as Keras builds them.

>>> model = MobileNet(alpha=0.25, weights=None, input_shape=(32, 32, 3), include_top=False,
...                   pooling="avg")
>>> model.output_shape
(None, 256)
"""

from __future__ import annotations

import os
from typing import Any

from .. import config
from ..layers import (
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    GlobalAveragePooling2D,
    ReLU,
    Reshape,
    ZeroPadding2D,
)
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

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

# The ImageNet files available offline, by (alpha, input size, include_top). Keras' own
# per-size files are not the same bytes as this one (ST's Keras 2.8 full-model re-save of
# Keras' `mobilenet_2_5_224_tf.h5` weights), so there is no public URL to check it against.
PRETRAINED = {
    (0.25, 224): WeightsFile(
        "mobilenet_v1_0.25_224_keras/mobilenet_v1_0.25_224.h5",
        "dc1ff623e6cd99c3cc0dd2821ca0807ba013606af5a4e2afd4488fbf26a8b589",
        origin=None,
    ),
}
_KERAS_ALPHAS = (0.25, 0.5, 0.75, 1.0)
_KERAS_SIZES = (128, 160, 192, 224)
# (pointwise filters at alpha 1, stride) of the 13 depthwise-separable blocks.
_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """MobileNet's input scaling (Keras' mode 'tf'): pixels 0..255 to `x / 127.5 - 1`.

    >>> import numpy as np
    >>> preprocess_input(np.array([0.0, 255.0])).tolist()
    [-1.0, 1.0]
    """
    return _imagenet_preprocess_input(x, data_format=data_format, mode="tf")


def _pretrained_file(alpha: float, depth_multiplier: int, rows: int | None, top: bool) -> Any:
    # Keras uses the 224 file for a headless model whose size has no file of its own.
    size = rows if rows in _KERAS_SIZES or top else 224
    file = PRETRAINED.get((alpha, size))
    if file is None or depth_multiplier != 1:
        available = ", ".join(
            f"alpha={a} at {s}x{s} ({f.name})" for (a, s), f in PRETRAINED.items()
        )
        raise ValueError(
            f"No ImageNet weights for MobileNet(alpha={alpha}, depth_multiplier="
            f"{depth_multiplier}) at input size {rows}. The files known are: {available}. "
            "Use weights=None, or weights=<path of a Keras MobileNet .h5>."
        )
    return file


def _conv_block(x: KerasTensor, filters: int, channel_axis: int) -> KerasTensor:
    x = Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name="conv1")(x)
    x = BatchNormalization(axis=channel_axis, epsilon=1e-3, name="conv1_bn")(x)
    return ReLU(6.0, name="conv1_relu")(x)


def _depthwise_block(
    x: KerasTensor, filters: int, depth_multiplier: int, strides: int, block: int, axis: int
) -> KerasTensor:
    if strides != 1:
        x = ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block}")(x)
    x = DepthwiseConv2D(
        3,
        strides=strides,
        padding="same" if strides == 1 else "valid",
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block}",
    )(x)
    x = BatchNormalization(axis=axis, epsilon=1e-3, name=f"conv_dw_{block}_bn")(x)
    x = ReLU(6.0, name=f"conv_dw_{block}_relu")(x)
    x = Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block}")(x)
    x = BatchNormalization(axis=axis, epsilon=1e-3, name=f"conv_pw_{block}_bn")(x)
    return ReLU(6.0, name=f"conv_pw_{block}_relu")(x)


def MobileNet(  # noqa: N802 - Keras' name
    input_shape: tuple[int | None, ...] | None = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: str | os.PathLike[str] | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    """MobileNet v1, as `keras.applications.MobileNet`.

    Args:
        input_shape: (height, width, 3); default (224, 224, 3), or (None, None, 3) without
            the top. At least 32x32.
        alpha: width multiplier: every layer has `int(filters * alpha)` filters.
        depth_multiplier: channel multiplier of the depthwise convolutions.
        dropout: dropout rate before the classifier.
        include_top: end with the 1x1-conv classifier (`conv_preds`) and `predictions`.
        weights: None (random), "imagenet" (the files in `PRETRAINED`, found through
            `LAMINA_WEIGHTS` or the cache), or the path of a Keras `.h5` of the same
            architecture (full model or weights only), loaded by layer name.
        input_tensor: a symbolic tensor to build on instead of a new `Input`.
        pooling: without the top: None (the 4-D feature map), "avg" or "max".
        classes: number of classes with the top (1000 for ImageNet weights).
        classifier_activation: activation of `predictions`; None gives the logits.
        name: model name; default Keras' `mobilenet_0.25_224` for alpha 0.25 at 224.

    >>> MobileNet(alpha=0.25, weights=None, input_shape=(64, 64, 3), classes=10).output_shape
    (None, 10)
    """
    pretrained = weights == "imagenet"
    if pretrained and include_top and classes != 1000:
        raise ValueError(f"ImageNet weights with include_top=True need classes=1000; got {classes}")
    if pretrained and alpha not in _KERAS_ALPHAS:
        raise ValueError(f"ImageNet weights exist only for alpha in {_KERAS_ALPHAS}; got {alpha}")
    if dropout < 0 or dropout >= 1:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    # Keras' default size: the given square size when it is one of the trained ones.
    default_size = 224
    if input_shape is not None and len(input_shape) == 3:
        first = config.image_data_format() == "channels_first"
        rows, cols = input_shape[1:] if first else input_shape[:2]
        if rows == cols and rows in _KERAS_SIZES:
            default_size = rows
    x, inputs, shape = image_input(
        input_shape, input_tensor, default_size, 32, include_top, pretrained
    )
    channels_first = config.image_data_format() == "channels_first"
    channel_axis = 1 if channels_first else -1
    rows = shape[1] if channels_first else shape[0]
    file = _pretrained_file(alpha, depth_multiplier, rows, include_top) if pretrained else None
    # For a path or None the WeightsFile is not consulted; the 224 one stands in.
    path = resolve_weights(weights, file or PRETRAINED[(0.25, 224)])

    x = _conv_block(x, int(32 * alpha), channel_axis)
    for block, (filters, strides) in enumerate(_BLOCKS, start=1):
        x = _depthwise_block(
            x, int(filters * alpha), depth_multiplier, strides, block, channel_axis
        )
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        x = classifier_activation_layer(classifier_activation, pretrained)(x)
    else:
        x = global_pooling(x, pooling)
    # Keras' default name is mobilenet_0.25_224; a '.' cannot name a torch submodule, which a
    # model nested in another (the fine-tuning pattern) becomes, so it is spelled with '_'.
    default_name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Model(inputs, x, name=name or default_name)
    if path is not None:
        load_keras_h5_weights(model, path)
    return model
