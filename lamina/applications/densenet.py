"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al. 2017, "Densely Connected
Convolutional Networks"), with `keras.applications.densenet`'s arguments, model and layer names
(`conv1_conv`, `pool1`, `conv2_block1_0_bn`, ..., `pool2_conv`, ..., `bn`, `relu`, `avg_pool`,
`predictions`), layer order, parameter counts and weights order, and its `preprocess_input`
(Keras' 'torch' mode) and `decode_predictions`.

Each dense layer is BN-ReLU-Conv 1x1 (128 filters) then BN-ReLU-Conv 3x3 (32 filters, the
growth rate), concatenated to its input; a transition halves the channels with a 1x1
convolution and the size with a 2x2 average pooling. Convolutions have no bias;
BatchNormalization uses epsilon 1.001e-5 as Keras' DenseNet does.

>>> import numpy as np
>>> preprocess_input(np.full((1, 1, 1, 3), 255.0)).astype(float).round(4).tolist()
[[[[2.2489, 2.4286, 2.64]]]]
"""

from __future__ import annotations

from typing import Any

from .. import config, layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from .imagenet_utils import check_pooling, decode_predictions, global_pooling, image_input
from .imagenet_utils import preprocess_input as _imagenet_preprocess_input

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions", "preprocess_input"]

_EPSILON = 1.001e-5
_GROWTH_RATE = 32


def _norm_relu(x: KerasTensor, name: str) -> KerasTensor:
    x = layers.BatchNormalization(axis=-1, epsilon=_EPSILON, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _dense_layer(x: KerasTensor, name: str) -> KerasTensor:
    """BN-ReLU-Conv1x1(4 * growth) -> BN-ReLU-Conv3x3(growth), concatenated to `x`."""
    branch = _norm_relu(x, f"{name}_0")
    branch = layers.Conv2D(4 * _GROWTH_RATE, 1, use_bias=False, name=f"{name}_1_conv")(branch)
    branch = _norm_relu(branch, f"{name}_1")
    conv = layers.Conv2D(_GROWTH_RATE, 3, padding="same", use_bias=False, name=f"{name}_2_conv")
    branch = conv(branch)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, branch])


def _transition(x: KerasTensor, name: str) -> KerasTensor:
    """BN-ReLU, a 1x1 convolution to half the channels, 2x2 average pooling."""
    x = _norm_relu(x, name)
    x = layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def _densenet(
    architecture: str,
    blocks: tuple[int, int, int, int],
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str,
) -> Model:
    if config.image_data_format() == "channels_first":
        raise ValueError(
            f"{architecture} does not support the 'channels_first' image data format (as in "
            "Keras); call lamina.config.set_image_data_format('channels_last') first."
        )
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    try:
        x, inputs, _ = image_input(
            input_shape, input_tensor, 224, 32, require_flatten=include_top, pretrained=False
        )
    except ValueError as error:
        raise ValueError(f"{architecture}: {error}") from None
    # Keras leaves the two ZeroPadding2D layers auto-named.
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _norm_relu(x, "conv1")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks, start=2):
        for index in range(1, count + 1):
            x = _dense_layer(x, f"conv{stage}_block{index}")
        if stage < 5:
            x = _transition(x, f"pool{stage}")
    x = layers.BatchNormalization(axis=-1, epsilon=_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
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
        input_tensor: a symbolic tensor (`lamina.Input` or a layer's output) to build on.
        input_shape: (height, width, channels), at least 32x32; default (224, 224, 3) with
            the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" (`avg_pool`) or "max"
            (`max_pool`).
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.
"""


def DenseNet121(  # noqa: N802 - Keras' name
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "densenet121",
) -> Model:
    return _densenet(
        "DenseNet121", (6, 12, 24, 16), include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation, name,
    )  # fmt: skip


def DenseNet169(  # noqa: N802 - Keras' name
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "densenet169",
) -> Model:
    return _densenet(
        "DenseNet169", (6, 12, 32, 32), include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation, name,
    )  # fmt: skip


def DenseNet201(  # noqa: N802 - Keras' name
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "densenet201",
) -> Model:
    return _densenet(
        "DenseNet201", (6, 12, 48, 32), include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation, name,
    )  # fmt: skip


DenseNet121.__doc__ = f"""DenseNet121: 6, 12, 24, 16 dense layers (8,062,504 parameters with
    the top).
{_ARGS_DOC}
    >>> model = DenseNet121(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    >>> model.count_params(), model.output_shape
    (7037504, (None, 1024))
"""
DenseNet169.__doc__ = f"""DenseNet169: 6, 12, 32, 32 dense layers (14,307,880 parameters with
    the top).
{_ARGS_DOC}"""
DenseNet201.__doc__ = f"""DenseNet201: 6, 12, 48, 32 dense layers (20,242,984 parameters with
    the top).
{_ARGS_DOC}"""


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """DenseNet's input scaling (Keras' mode 'torch'): pixels 0..255 to 0..1, then the
    ImageNet mean subtracted and divided by its standard deviation, per channel.

    >>> import numpy as np
    >>> preprocess_input(np.array([0.0, 255.0, 127.5])).astype(float).round(4).tolist()
    [-2.1179, 2.4286, 0.4178]
    """
    return _imagenet_preprocess_input(x, data_format=data_format, mode="torch")
