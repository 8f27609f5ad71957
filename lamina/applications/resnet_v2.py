"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al. 2016, "Identity Mappings in Deep
Residual Networks"): pre-activation bottlenecks (BatchNormalization and ReLU before each
convolution), with `keras.applications.ResNet50V2`'s arguments, layer names (`conv1_pad`,
`conv1_conv`, ..., `conv2_block1_preact_bn`, ..., `post_bn`, `post_relu`, `avg_pool`,
`predictions`), layer order and parameter counts.

As in Keras (and the original TF-slim models), each stage but the last downsamples in its
LAST block, through the 3x3 convolution; that block's identity shortcut is a 1x1 max pooling
of stride 2 (left auto-named `max_pooling2d`, `max_pooling2d_1`, ... as Keras leaves it).
Convolutions followed by a BatchNormalization have no bias; BatchNormalization uses epsilon
1.001e-5 as Keras' ResNets do. Inputs are scaled to [-1, 1] (`preprocess_input`, mode 'tf').

>>> import numpy as np
>>> preprocess_input(np.array([[0.0, 127.5, 255.0]])).tolist()
[[-1.0, 0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _image_input, _weights_path
from .imagenet_utils import check_pooling, global_pooling
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess

__all__ = [
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "decode_predictions",
    "preprocess_input",
]

_EPSILON = 1.001e-5


def _batch_norm(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, epsilon=_EPSILON, name=name)


def _preactivation_block(
    x: KerasTensor, filters: int, strides: int, projection: bool, name: str
) -> KerasTensor:
    """BN-ReLU, then 1x1 (filters) -> 3x3 (filters, `strides`) -> 1x1 (4 * filters), added to
    a 1x1 projection of the activated input (`projection`), a strided 1x1 max pooling of the
    raw input (`strides` > 1) or the raw input itself."""
    preact = _batch_norm(f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if projection:
        shortcut = layers.Conv2D(4 * filters, 1, strides=strides, name=f"{name}_0_conv")(preact)
    elif strides > 1:
        shortcut = layers.MaxPooling2D(1, strides=strides)(x)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_batch_norm(f"{name}_1_bn")(x))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=strides, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_batch_norm(f"{name}_2_bn")(x))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def _stack(x: KerasTensor, filters: int, blocks: int, last_strides: int, name: str) -> KerasTensor:
    """`blocks` blocks: the first projects its shortcut, the last has stride `last_strides`."""
    x = _preactivation_block(x, filters, 1, projection=True, name=f"{name}_block1")
    for index in range(2, blocks):
        x = _preactivation_block(x, filters, 1, projection=False, name=f"{name}_block{index}")
    return _preactivation_block(
        x, filters, last_strides, projection=False, name=f"{name}_block{blocks}"
    )


def _resnet_v2(
    architecture: str,
    blocks_per_stage: tuple[int, int, int, int],
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str,
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
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(
        zip((64, 128, 256, 512), blocks_per_stage, strict=True), start=2
    ):
        x = _stack(x, filters, blocks, last_strides=1 if stage == 5 else 2, name=f"conv{stage}")
    x = layers.Activation("relu", name="post_relu")(_batch_norm("post_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling, ("avg_pool", "max_pool"))
    return _finish(inputs, x, name, weights_path)


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
        name: the model's name.
"""


def ResNet50V2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "resnet50v2",
) -> Model:
    return _resnet_v2(
        "ResNet50V2", (3, 4, 6, 3), include_top, weights, input_tensor, input_shape, pooling,
        classes, classifier_activation, name,
    )  # fmt: skip


def ResNet101V2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "resnet101v2",
) -> Model:
    return _resnet_v2(
        "ResNet101V2", (3, 4, 23, 3), include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation, name,
    )  # fmt: skip


def ResNet152V2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "resnet152v2",
) -> Model:
    return _resnet_v2(
        "ResNet152V2", (3, 8, 36, 3), include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation, name,
    )  # fmt: skip


ResNet50V2.__doc__ = f"""ResNet50V2: 3, 4, 6, 3 pre-activation bottleneck blocks (25,613,800
    parameters with the top).
{_ARGS_DOC}
    >>> model = ResNet50V2(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    >>> model.count_params(), model.output_shape
    (23564800, (None, 2048))
"""
ResNet101V2.__doc__ = f"""ResNet101V2: 3, 4, 23, 3 pre-activation bottleneck blocks
    (44,675,560 parameters with the top).
{_ARGS_DOC}"""
ResNet152V2.__doc__ = f"""ResNet152V2: 3, 8, 36, 3 pre-activation bottleneck blocks
    (60,380,648 parameters with the top).
{_ARGS_DOC}"""


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' ResNetV2 preprocessing ('tf' mode): pixels 0..255 scaled to [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
