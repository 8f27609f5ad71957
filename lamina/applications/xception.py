"""Xception (Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions"),
with `keras.applications.xception`'s arguments, model and layer names (`block1_conv1`, ...,
`block14_sepconv2_act`, `avg_pool`, `predictions`; the shortcut convolutions, their
BatchNormalization and the additions auto-named, as Keras leaves them), layer order, parameter
counts and weights order, and its `preprocess_input` (Keras' 'tf' mode: pixels to [-1, 1]) and
`decode_predictions`.

Entry flow: two 3x3 convolutions, then three blocks of two separable convolutions and a
stride-2 max pooling, each added to a strided 1x1 convolution of the block's input. Middle flow:
eight residual blocks of three ReLU-separable convolutions at 728 channels. Exit flow: one more
downsampling block (728 then 1024 channels) and two separable convolutions (1536, 2048).
Convolutions have no bias; BatchNormalization keeps Keras' default epsilon 1e-3.

>>> import numpy as np
>>> preprocess_input(np.array([0.0, 127.5, 255.0])).tolist()
[-1.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

from .. import config, layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from .imagenet_utils import check_pooling, decode_predictions, global_pooling, image_input
from .imagenet_utils import preprocess_input as _imagenet_preprocess_input

__all__ = ["Xception", "decode_predictions", "preprocess_input"]


def _separable(x: KerasTensor, filters: int, name: str, axis: int) -> KerasTensor:
    """A 3x3 'same' separable convolution without bias, then BatchNormalization `name`_bn."""
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=axis, name=f"{name}_bn")(x)


def _downsampling_block(
    x: KerasTensor, filters: tuple[int, int], block: int, axis: int, first_relu: bool = True
) -> KerasTensor:
    """[ReLU] sepconv-BN, ReLU, sepconv-BN, 3x3 stride-2 max pooling, plus a strided 1x1
    convolution of the input (auto-named, as in Keras)."""
    shortcut = layers.Conv2D(filters[1], 1, strides=2, padding="same", use_bias=False)(x)
    shortcut = layers.BatchNormalization(axis=axis)(shortcut)
    prefix = f"block{block}"
    if first_relu:
        x = layers.Activation("relu", name=f"{prefix}_sepconv1_act")(x)
    x = _separable(x, filters[0], f"{prefix}_sepconv1", axis)
    x = layers.Activation("relu", name=f"{prefix}_sepconv2_act")(x)
    x = _separable(x, filters[1], f"{prefix}_sepconv2", axis)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(x)
    return layers.add([x, shortcut])


def _middle_block(x: KerasTensor, block: int, axis: int) -> KerasTensor:
    residual = x
    for index in (1, 2, 3):
        name = f"block{block}_sepconv{index}"
        x = layers.Activation("relu", name=f"{name}_act")(x)
        x = _separable(x, 728, name, axis)
    return layers.add([x, residual])


def Xception(  # noqa: N802 - Keras' name
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "xception",
) -> Model:
    """Xception: 36 convolutions and 4 shortcut 1x1 convolutions (22,910,480 parameters with
    the top).

    Args:
        include_top: end with global average pooling `avg_pool` and the `classes`-way
            `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a symbolic tensor (`lamina.Input` or a layer's output) to build on.
        input_shape: (height, width, channels), at least 71x71; default (299, 299, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max" (auto-named global
            pooling, as in Keras).
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.

    >>> model = Xception(include_top=False, pooling="avg", input_shape=(71, 71, 3))
    >>> model.count_params(), model.output_shape
    (20861480, (None, 2048))
    """
    weights_path = _weights_path(weights, "Xception")
    check_pooling(pooling, "Xception")
    try:
        x, inputs, _ = image_input(
            input_shape, input_tensor, 299, 71, require_flatten=include_top, pretrained=False
        )
    except ValueError as error:
        raise ValueError(f"Xception: {error}") from None
    axis = 1 if config.image_data_format() == "channels_first" else -1

    x = layers.Conv2D(32, 3, strides=2, use_bias=False, name="block1_conv1")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, 3, use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    # Block 2 starts from block1_conv2_act's output, with no ReLU of its own.
    x = _downsampling_block(x, (128, 128), 2, axis, first_relu=False)
    x = _downsampling_block(x, (256, 256), 3, axis)
    x = _downsampling_block(x, (728, 728), 4, axis)
    for block in range(5, 13):
        x = _middle_block(x, block, axis)
    x = _downsampling_block(x, (728, 1024), 13, axis)
    for index, filters in ((1, 1536), (2, 2048)):
        x = _separable(x, filters, f"block14_sepconv{index}", axis)
        x = layers.Activation("relu", name=f"block14_sepconv{index}_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return _finish(inputs, x, name, weights_path)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Xception's input scaling (Keras' mode 'tf'): pixels 0..255 to `x / 127.5 - 1`.

    >>> import numpy as np
    >>> preprocess_input(np.array([[63.75, 191.25]])).tolist()
    [[-0.5, 0.5]]
    """
    return _imagenet_preprocess_input(x, data_format=data_format, mode="tf")
