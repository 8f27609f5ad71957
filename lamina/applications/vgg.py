"""VGG16 and VGG19 (Simonyan & Zisserman 2014, "Very Deep Convolutional Networks for
Large-Scale Image Recognition"), with `keras.applications.VGG16`/`VGG19`'s arguments, layer
names (`block1_conv1` ... `block5_pool`, `flatten`, `fc1`, `fc2`, `predictions`) and parameter
counts.

Five blocks of 3x3 'same' convolutions (64, 128, 256, 512, 512 filters) each closed by a 2x2
max pooling of stride 2; VGG16 has 2, 2, 3, 3, 3 convolutions per block, VGG19 2, 2, 4, 4, 4.
The classifier is Flatten, two Dense(4096, relu) and Dense(classes).

>>> VGG16(include_top=False, input_shape=(32, 32, 3)).count_params()
14714688
"""

from __future__ import annotations

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import (
    WeightsArgument,
    _finish,
    _image_input,
    _weights_path,
)
from .imagenet_utils import check_pooling, global_pooling

__all__ = ["VGG16", "VGG19"]

_FILTERS = (64, 128, 256, 512, 512)


def _vgg(
    architecture: str,
    convolutions_per_block: tuple[int, ...],
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str | None,
) -> Model:
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    inputs = _image_input(
        architecture,
        input_tensor,
        input_shape,
        default_shape=(224, 224, 3),
        flexible_shape=(None, None, 3),
        include_top=include_top,
        min_size=32,  # five 2x2 poolings: 32 -> 1
    )
    x = inputs
    for block, (filters, count) in enumerate(
        zip(_FILTERS, convolutions_per_block, strict=True), start=1
    ):
        for index in range(1, count + 1):
            x = layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"block{block}_conv{index}"
            )(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        # Keras leaves the pooling layers auto-named here (unlike ResNet's avg_pool/max_pool).
        x = global_pooling(x, pooling)
    return _finish(inputs, x, name or architecture.lower(), weights_path)


def VGG16(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    """VGG16: 13 convolutions + 3 dense layers (138,357,544 parameters with the top).

    Args:
        include_top: end with Flatten, fc1, fc2 and the `classes`-way `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor to use as the image input.
        input_shape: (height, width, channels), at least 32x32; default (224, 224, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max" (global pooling).
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name (default "vgg16").

    >>> VGG16(include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
    (None, 512)
    """
    return _vgg(
        "VGG16", (2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip


def VGG19(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    """VGG19: 16 convolutions + 3 dense layers (143,667,240 parameters with the top).

    Arguments as `VGG16`'s (default name "vgg19").

    >>> VGG19(include_top=False, input_shape=(32, 32, 3)).count_params()
    20024384
    """
    return _vgg(
        "VGG19", (2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip
