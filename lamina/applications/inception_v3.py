"""Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
Vision"), with `keras.applications.inception_v3`'s arguments, model and layer names (the
convolutions, BatchNormalization and ReLU layers auto-named in Keras' creation order, the
blocks' concatenations `mixed0` ... `mixed10`, `mixed9_0`, `mixed9_1`), layer order, parameter
counts and weights order, and its `preprocess_input` (Keras' 'tf' mode: pixels to [-1, 1]) and
`decode_predictions`.

Every convolution is Conv2D without bias, BatchNormalization without scale (gamma) and ReLU.
Stem: five convolutions and two 3x3 stride-2 max poolings; then three 35x35 blocks (`mixed0-2`),
a reduction (`mixed3`), four 17x17 blocks with factorised 7x7 convolutions (`mixed4-7`), a
reduction (`mixed8`) and two 8x8 blocks with split 1x3 / 3x1 branches (`mixed9`, `mixed10`).

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

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]


class _Builder:
    """Builds with a fixed channel axis; `conv` is Keras' `conv2d_bn`."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def conv(
        self,
        x: KerasTensor,
        filters: int,
        kernel_size: tuple[int, int],
        strides: int = 1,
        padding: str = "same",
    ) -> KerasTensor:
        x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False)(x)
        x = layers.BatchNormalization(axis=self.axis, scale=False)(x)
        return layers.Activation("relu")(x)

    def chain(self, x: KerasTensor, *specs: tuple[int, tuple[int, int]]) -> KerasTensor:
        """Stride-1 'same' convolutions one after the other: (filters, kernel size) each."""
        for filters, kernel_size in specs:
            x = self.conv(x, filters, kernel_size)
        return x

    def pool_branch(self, x: KerasTensor, filters: int) -> KerasTensor:
        x = layers.AveragePooling2D(3, strides=1, padding="same")(x)
        return self.conv(x, filters, (1, 1))

    def concat(self, branches: list[KerasTensor], name: str | None = None) -> KerasTensor:
        return layers.Concatenate(axis=self.axis, name=name)(branches)


def _block_35(net: _Builder, x: KerasTensor, pool_filters: int, name: str) -> KerasTensor:
    """mixed0-2: 1x1 | 1x1, 5x5 | 1x1, 3x3, 3x3 | 3x3 average pooling, 1x1."""
    branch1x1 = net.conv(x, 64, (1, 1))
    branch5x5 = net.chain(x, (48, (1, 1)), (64, (5, 5)))
    branch3x3dbl = net.chain(x, (64, (1, 1)), (96, (3, 3)), (96, (3, 3)))
    branch_pool = net.pool_branch(x, pool_filters)
    return net.concat([branch1x1, branch5x5, branch3x3dbl, branch_pool], name)


def _block_17(net: _Builder, x: KerasTensor, width: int, name: str) -> KerasTensor:
    """mixed4-7: 1x1 | 1x1, 1x7, 7x1 | 1x1, 7x1, 1x7, 7x1, 1x7 | average pooling, 1x1;
    `width` filters inside the factorised branches, 192 at their ends."""
    branch1x1 = net.conv(x, 192, (1, 1))
    branch7x7 = net.chain(x, (width, (1, 1)), (width, (1, 7)), (192, (7, 1)))
    branch7x7dbl = net.chain(
        x, (width, (1, 1)), (width, (7, 1)), (width, (1, 7)), (width, (7, 1)), (192, (1, 7))
    )
    branch_pool = net.pool_branch(x, 192)
    return net.concat([branch1x1, branch7x7, branch7x7dbl, branch_pool], name)


def _block_8(net: _Builder, x: KerasTensor, index: int) -> KerasTensor:
    """mixed9, mixed10: 1x1 | 1x1 then 1x3 and 3x1 | 1x1, 3x3 then 1x3 and 3x1 | pooling."""
    branch1x1 = net.conv(x, 320, (1, 1))
    branch3x3 = net.conv(x, 384, (1, 1))
    branch3x3 = net.concat(
        [net.conv(branch3x3, 384, (1, 3)), net.conv(branch3x3, 384, (3, 1))], f"mixed9_{index}"
    )
    branch3x3dbl = net.chain(x, (448, (1, 1)), (384, (3, 3)))
    # Keras leaves this concatenation auto-named.
    branch3x3dbl = net.concat(
        [net.conv(branch3x3dbl, 384, (1, 3)), net.conv(branch3x3dbl, 384, (3, 1))]
    )
    branch_pool = net.pool_branch(x, 192)
    return net.concat([branch1x1, branch3x3, branch3x3dbl, branch_pool], f"mixed{9 + index}")


def InceptionV3(  # noqa: N802 - Keras' name
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "inception_v3",
) -> Model:
    """Inception v3: 94 convolutions, 11 mixed blocks (23,851,784 parameters with the top).

    Args:
        include_top: end with global average pooling `avg_pool` and the `classes`-way
            `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a symbolic tensor (`lamina.Input` or a layer's output) to build on.
        input_shape: (height, width, channels), at least 75x75; default (299, 299, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max" (auto-named global
            pooling, as in Keras).
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.

    >>> model = InceptionV3(include_top=False, pooling="avg", input_shape=(75, 75, 3))
    >>> model.count_params(), model.output_shape
    (21802784, (None, 2048))
    """
    weights_path = _weights_path(weights, "InceptionV3")
    check_pooling(pooling, "InceptionV3")
    try:
        x, inputs, _ = image_input(
            input_shape, input_tensor, 299, 75, require_flatten=include_top, pretrained=False
        )
    except ValueError as error:
        raise ValueError(f"InceptionV3: {error}") from None
    net = _Builder(1 if config.image_data_format() == "channels_first" else -1)

    x = net.conv(x, 32, (3, 3), strides=2, padding="valid")
    x = net.conv(x, 32, (3, 3), padding="valid")
    x = net.conv(x, 64, (3, 3))
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = net.conv(x, 80, (1, 1), padding="valid")
    x = net.conv(x, 192, (3, 3), padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    for index, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(net, x, pool_filters, f"mixed{index}")
    # mixed3: 35x35 -> 17x17.
    branch3x3 = net.conv(x, 384, (3, 3), strides=2, padding="valid")
    branch3x3dbl = net.chain(x, (64, (1, 1)), (96, (3, 3)))
    branch3x3dbl = net.conv(branch3x3dbl, 96, (3, 3), strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2)(x)
    x = net.concat([branch3x3, branch3x3dbl, branch_pool], "mixed3")

    for index, width in enumerate((128, 160, 160, 192), start=4):
        x = _block_17(net, x, width, f"mixed{index}")
    # mixed8: 17x17 -> 8x8.
    branch3x3 = net.conv(x, 192, (1, 1))
    branch3x3 = net.conv(branch3x3, 320, (3, 3), strides=2, padding="valid")
    branch7x7x3 = net.chain(x, (192, (1, 1)), (192, (1, 7)), (192, (7, 1)))
    branch7x7x3 = net.conv(branch7x7x3, 192, (3, 3), strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2)(x)
    x = net.concat([branch3x3, branch7x7x3, branch_pool], "mixed8")

    for index in (0, 1):
        x = _block_8(net, x, index)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return _finish(inputs, x, name, weights_path)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """InceptionV3's input scaling (Keras' mode 'tf'): pixels 0..255 to `x / 127.5 - 1`.

    >>> import numpy as np
    >>> preprocess_input(np.array([[63.75, 191.25]])).tolist()
    [[-0.5, 0.5]]
    """
    return _imagenet_preprocess_input(x, data_format=data_format, mode="tf")
