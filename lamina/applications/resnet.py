"""ResNet50, ResNet101 and ResNet152 (He et al. 2015, "Deep Residual Learning for Image
Recognition"; version 1, post-activation bottlenecks with the stride on the first 1x1
convolution, as Keras' and Caffe's ResNet), with `keras.applications.ResNet50`'s arguments,
layer names (`conv1_pad`, `conv1_conv`, ..., `conv2_block1_1_conv`, ..., `avg_pool`,
`predictions`), layer order and parameter counts.

BatchNormalization uses epsilon 1.001e-5 as Keras' ResNet does (the original Caffe models'
1e-5, nudged so cuDNN accepts it).

>>> ResNet50(include_top=False, input_shape=(32, 32, 3)).count_params()
23587712
"""

from __future__ import annotations

from typing import Any

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import (
    WeightsArgument,
    _finish,
    _image_input,
    _weights_path,
)
from .imagenet_utils import check_pooling, decode_predictions, global_pooling
from .imagenet_utils import preprocess_input as _preprocess

__all__ = ["ResNet50", "ResNet101", "ResNet152", "decode_predictions", "preprocess_input"]


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' ResNet preprocessing ('caffe' mode: RGB to BGR, ImageNet means subtracted).

    >>> import numpy as np
    >>> round(float(preprocess_input(np.full((1, 1, 1, 3), 128.0))[0, 0, 0, 0]), 3)
    24.061
    """
    return _preprocess(x, data_format=data_format, mode="caffe")


_EPSILON = 1.001e-5


def _conv_bn(
    x: KerasTensor, filters: int, kernel_size: int, strides: int, padding: str, name: str
) -> tuple[layers.Conv2D, layers.BatchNormalization]:
    conv = layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, name=name + "_conv"
    )
    return conv, layers.BatchNormalization(axis=-1, epsilon=_EPSILON, name=name + "_bn")


def _bottleneck(
    x: KerasTensor, filters: int, strides: int, projection: bool, name: str
) -> KerasTensor:
    """1x1 (filters, `strides`) -> 3x3 (filters) -> 1x1 (4 * filters), added to the input or,
    with `projection`, to a strided 1x1 convolution of it."""
    residual = x
    for index, (kernel_size, stride) in enumerate(((1, strides), (3, 1)), start=1):
        conv, norm = _conv_bn(
            residual,
            filters,
            kernel_size,
            stride,
            "valid" if kernel_size == 1 else "same",
            f"{name}_{index}",
        )
        residual = layers.Activation("relu", name=f"{name}_{index}_relu")(norm(conv(residual)))
    # Layers are called in the order Keras' model.layers lists them (shortcut and last
    # convolution interleaved), so the two models' layer lists are equal.
    expand_conv, expand_norm = _conv_bn(residual, 4 * filters, 1, 1, "valid", f"{name}_3")
    if projection:
        shortcut_conv, shortcut_norm = _conv_bn(x, 4 * filters, 1, strides, "valid", f"{name}_0")
        shortcut = shortcut_conv(x)
        residual = expand_conv(residual)
        shortcut = shortcut_norm(shortcut)
        residual = expand_norm(residual)
    else:
        shortcut = x
        residual = expand_norm(expand_conv(residual))
    x = layers.Add(name=f"{name}_add")([shortcut, residual])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _stack(x: KerasTensor, filters: int, blocks: int, strides: int, name: str) -> KerasTensor:
    x = _bottleneck(x, filters, strides, projection=True, name=f"{name}_block1")
    for index in range(2, blocks + 1):
        x = _bottleneck(x, filters, 1, projection=False, name=f"{name}_block{index}")
    return x


def _resnet(
    architecture: str,
    blocks_per_stage: tuple[int, int, int, int],
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
        min_size=32,  # total stride 32
    )
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(inputs)
    conv, norm = _conv_bn(x, 64, 7, 2, "valid", "conv1")
    x = layers.Activation("relu", name="conv1_relu")(norm(conv(x)))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(
        zip((64, 128, 256, 512), blocks_per_stage, strict=True), start=2
    ):
        x = _stack(x, filters, blocks, strides=1 if stage == 2 else 2, name=f"conv{stage}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling, ("avg_pool", "max_pool"))
    return _finish(inputs, x, name or architecture.lower(), weights_path)


_ARGS_DOC = """
    Args:
        include_top: end with global average pooling `avg_pool` and the `classes`-way
            `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor to use as the image input.
        input_shape: (height, width, channels), at least 32x32; default (224, 224, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max".
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name (default the architecture's, lower case).
"""


def ResNet50(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    return _resnet(
        "ResNet50", (3, 4, 6, 3), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip


def ResNet101(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    return _resnet(
        "ResNet101", (3, 4, 23, 3), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip


def ResNet152(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> Model:
    return _resnet(
        "ResNet152", (3, 8, 36, 3), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip


ResNet50.__doc__ = f"""ResNet50: 3, 4, 6, 3 bottleneck blocks (25,636,712 parameters with the top).
{_ARGS_DOC}
    >>> ResNet50(include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
    (None, 2048)
"""
ResNet101.__doc__ = f"""ResNet101: 3, 4, 23, 3 bottleneck blocks (44,707,176 parameters with top).
{_ARGS_DOC}"""
ResNet152.__doc__ = f"""ResNet152: 3, 8, 36, 3 bottleneck blocks (60,419,944 parameters with top).
{_ARGS_DOC}"""
