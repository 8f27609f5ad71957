"""InceptionResNetV2 (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning"), with `keras.applications.InceptionResNetV2`'s arguments,
layer names, layer order and parameter counts.

The stem and the reduction blocks (`mixed_5b`, `mixed_6a`, `mixed_7a`) are followed by 10
Inception-ResNet-A (`block35_*`), 20 -B (`block17_*`) and 10 -C (`block8_*`) blocks. Each
block adds its branches' 1x1 projection to its input scaled by 0.17, 0.1 or 0.2 (1.0 for
the last), through `CustomScaleLayer`, the layer Keras uses for it (same name and config, so
Keras model files name it alike). As in Keras, the convolutions of the branches are followed
by a BatchNormalization without scale (`scale=False`, a ReLU follows) and are left
auto-named (`conv2d`, `batch_normalization`, `activation`, numbered). Inputs are scaled to
[-1, 1] (`preprocess_input`, mode 'tf').

>>> import numpy as np
>>> preprocess_input(np.array([[0.0, 255.0]])).tolist()
[[-1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ..saving.registry import register_serializable
from ._classic_helpers import WeightsArgument, _finish, _image_input, _weights_path
from .imagenet_utils import check_pooling, global_pooling
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess

__all__ = ["CustomScaleLayer", "InceptionResNetV2", "decode_predictions", "preprocess_input"]


@register_serializable(package="lamina.applications")
class CustomScaleLayer(layers.Layer):
    """`inputs[0] + scale * inputs[1]`: an Inception-ResNet block's residual connection.

    Args:
        scale: the factor of the residual branch (`inputs[1]`).
        **kwargs: the base Layer's arguments (`name`, `trainable`, `dtype`).

    Input shape: a list of two tensors of the same shape.
    Output shape: that shape.

    >>> import torch
    >>> layer = CustomScaleLayer(0.5)
    >>> layer([torch.ones(1, 2), torch.full((1, 2), 4.0)]).tolist()
    [[3.0, 3.0]]
    >>> layer.get_config()["scale"]
    0.5
    """

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise TypeError(
                f"CustomScaleLayer '{self.name}': scale must be a number; got {scale!r}"
            )
        self.scale = float(scale)
        self.built = True

    def call(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(
                f"CustomScaleLayer '{self.name}' expects a list of two tensors [shortcut, "
                f"residual]; got {type(inputs).__name__}"
                + (f" of length {len(inputs)}" if isinstance(inputs, list | tuple) else "")
            )
        return inputs[0] + inputs[1] * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


def _conv_bn(
    x: KerasTensor,
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int = 1,
    padding: str = "same",
    name: str | None = None,
) -> KerasTensor:
    """Conv2D without bias -> BatchNormalization(scale=False) -> ReLU; named `name`,
    `name_bn`, `name_ac`, or auto-named without `name`."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=name
    )(x)
    x = layers.BatchNormalization(axis=-1, scale=False, name=name and f"{name}_bn")(x)
    return layers.Activation("relu", name=name and f"{name}_ac")(x)


# Each Inception-ResNet block's branches: (filters, kernel size) of successive convolutions.
_BRANCHES = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1)))),
    "block8": (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1)))),
}


def _inception_resnet_block(
    x: KerasTensor, scale: float, block_type: str, block_index: int, activation: bool = True
) -> KerasTensor:
    branches = []
    for convolutions in _BRANCHES[block_type]:
        branch = x
        for filters, kernel_size in convolutions:
            branch = _conv_bn(branch, filters, kernel_size)
        branches.append(branch)
    name = f"{block_type}_{block_index}"
    mixed = layers.Concatenate(axis=-1, name=f"{name}_mixed")(branches)
    residual = layers.Conv2D(x.shape[-1], 1, name=f"{name}_conv")(mixed)
    x = CustomScaleLayer(scale)([x, residual])
    return layers.Activation("relu", name=f"{name}_ac")(x) if activation else x


def _stem(x: KerasTensor) -> KerasTensor:
    """Stem and `mixed_5b` (35x35x320 for a 299x299 input)."""
    x = _conv_bn(x, 32, 3, strides=2, padding="valid")
    x = _conv_bn(x, 32, 3, padding="valid")
    x = _conv_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _conv_bn(x, 80, 1, padding="valid")
    x = _conv_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    branch_0 = _conv_bn(x, 96, 1)
    branch_1 = _conv_bn(_conv_bn(x, 48, 1), 64, 5)
    branch_2 = _conv_bn(_conv_bn(_conv_bn(x, 64, 1), 96, 3), 96, 3)
    branch_pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branch_pool = _conv_bn(branch_pool, 64, 1)
    return layers.Concatenate(axis=-1, name="mixed_5b")([branch_0, branch_1, branch_2, branch_pool])


def _reduction_a(x: KerasTensor) -> KerasTensor:
    """`mixed_6a`: 35x35 -> 17x17."""
    branch_0 = _conv_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = _conv_bn(_conv_bn(x, 256, 1), 256, 3)
    branch_1 = _conv_bn(branch_1, 384, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    return layers.Concatenate(axis=-1, name="mixed_6a")([branch_0, branch_1, branch_pool])


def _reduction_b(x: KerasTensor) -> KerasTensor:
    """`mixed_7a`: 17x17 -> 8x8."""
    branch_0 = _conv_bn(_conv_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    branch_1 = _conv_bn(_conv_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    branch_2 = _conv_bn(_conv_bn(x, 256, 1), 288, 3)
    branch_2 = _conv_bn(branch_2, 320, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    return layers.Concatenate(axis=-1, name="mixed_7a")([branch_0, branch_1, branch_2, branch_pool])


def InceptionResNetV2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "inception_resnet_v2",
) -> Model:
    """InceptionResNetV2 (55,873,736 parameters with the top; 54,336,736 without).

    Args:
        include_top: end with global average pooling `avg_pool` and the `classes`-way
            `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor to use as the image input.
        input_shape: (height, width, channels), at least 75x75; default (299, 299, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max" (global pooling,
            auto-named as in Keras).
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.

    >>> InceptionResNetV2(include_top=False, pooling="avg", input_shape=(75, 75, 3)).output_shape
    (None, 1536)
    """
    architecture = "InceptionResNetV2"
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    inputs = _image_input(
        architecture,
        input_tensor,
        input_shape,
        default_shape=(299, 299, 3),
        flexible_shape=(None, None, 3),
        include_top=include_top,
        min_size=75,  # the smallest size the valid convolutions and poolings leave 1x1
    )
    x = _stem(inputs)
    for index in range(1, 11):
        x = _inception_resnet_block(x, 0.17, "block35", index)
    x = _reduction_a(x)
    for index in range(1, 21):
        x = _inception_resnet_block(x, 0.1, "block17", index)
    x = _reduction_b(x)
    for index in range(1, 10):
        x = _inception_resnet_block(x, 0.2, "block8", index)
    x = _inception_resnet_block(x, 1.0, "block8", 10, activation=False)
    x = _conv_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return _finish(inputs, x, name, weights_path)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' InceptionResNetV2 preprocessing ('tf' mode): pixels 0..255 scaled to [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
