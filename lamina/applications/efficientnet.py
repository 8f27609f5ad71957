"""EfficientNetB0 to EfficientNetB7 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks") with `keras.applications.EfficientNetB0`'s arguments, layer names
(`stem_conv`, `block2a_expand_conv`, `block2a_se_excite`, `top_conv`, ...), layer order and
parameter counts.

B1..B7 scale B0's width (filters, rounded to multiples of 8) and depth (blocks per stage,
rounded up) by the compound coefficients of the paper. As in Keras the model rescales its input
itself (`Rescaling(1/255)`, then a `Normalization` layer whose mean and variance are weights:
0 and 1 until set), so `preprocess_input` is a pass-through and pixels go in as 0..255.
BatchNormalization keeps Keras' defaults (epsilon 1e-3, momentum 0.99); stride-2 depthwise
convolutions are padded bottom/right as TensorFlow's 'same'; a residual branch is dropped per
sample in training with a rate growing linearly to 0.2 over the blocks (stochastic depth).

>>> EfficientNetB0(include_top=False, input_shape=(32, 32, 3), pooling="avg").output_shape
(None, 1280)
"""

from __future__ import annotations

import math
from typing import Any

from .. import initializers, layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from .imagenet_utils import check_pooling, image_input
from .imagenet_utils import decode_predictions as _decode_predictions
from .mobilenet_v2 import _correct_pad, _make_divisible

__all__ = [
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "decode_predictions",
    "preprocess_input",
]

# B0's stages: (depthwise kernel, repeats, input filters, output filters, expansion, first
# stride); every block has squeeze-excitation with ratio 0.25 of its input filters.
_STAGES = (
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
)
_SE_RATIO = 0.25
_DROP_CONNECT_RATE = 0.2
_DEPTH_DIVISOR = 8
_ACTIVATION = "swish"


def _conv_initializer() -> initializers.VarianceScaling:
    # Keras' CONV_KERNEL_INITIALIZER (He normal on the fan-out), a fresh one per layer.
    return initializers.VarianceScaling(2.0, mode="fan_out", distribution="truncated_normal")


def _round_filters(filters: int, width_coefficient: float) -> int:
    """`filters * width_coefficient` rounded to a multiple of 8 (never more than 10% down), the
    rounding of MobileNetV2's widths."""
    return _make_divisible(filters * width_coefficient, _DEPTH_DIVISOR)


def _block(
    inputs: KerasTensor,
    drop_rate: float,
    name: str,
    filters_in: int,
    filters_out: int,
    kernel_size: int,
    strides: int,
    expand_ratio: int,
) -> KerasTensor:
    """MBConv: 1x1 expansion, depthwise conv, squeeze-excitation, 1x1 projection (+ input)."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters,
            1,
            padding="same",
            use_bias=False,
            kernel_initializer=_conv_initializer(),
            name=f"{name}expand_conv",
        )(x)
        x = layers.BatchNormalization(name=f"{name}expand_bn")(x)
        x = layers.Activation(_ACTIVATION, name=f"{name}expand_activation")(x)
    if strides == 2:
        pad = _correct_pad(tuple(x.shape[1:3]), kernel_size)
        x = layers.ZeroPadding2D(padding=pad, name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding="valid" if strides == 2 else "same",
        use_bias=False,
        depthwise_initializer=_conv_initializer(),
        name=f"{name}dwconv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}bn")(x)
    x = layers.Activation(_ACTIVATION, name=f"{name}activation")(x)

    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(
        max(1, int(filters_in * _SE_RATIO)),
        1,
        padding="same",
        activation=_ACTIVATION,
        kernel_initializer=_conv_initializer(),
        name=f"{name}se_reduce",
    )(se)
    se = layers.Conv2D(
        filters,
        1,
        padding="same",
        activation="sigmoid",
        kernel_initializer=_conv_initializer(),
        name=f"{name}se_expand",
    )(se)
    x = layers.Multiply(name=f"{name}se_excite")([x, se])

    x = layers.Conv2D(
        filters_out,
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=_conv_initializer(),
        name=f"{name}project_conv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # Stochastic depth: the whole residual branch of a sample is dropped.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def _efficientnet(
    architecture: str,
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    dropout_rate: float,
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str | None,
) -> Model:
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    img_input, inputs, _ = image_input(
        input_shape, input_tensor, default_size, 32, require_flatten=include_top, pretrained=False
    )

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=3)(x)
    x = layers.ZeroPadding2D(padding=_correct_pad(tuple(x.shape[1:3]), 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        _round_filters(32, width_coefficient),
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=_conv_initializer(),
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation(_ACTIVATION, name="stem_activation")(x)

    repeats = [int(math.ceil(depth_coefficient * stage[1])) for stage in _STAGES]
    total_blocks = float(sum(repeats))
    block_index = 0
    for stage, (kernel, _, filters_in, filters_out, expansion, strides) in enumerate(_STAGES):
        filters_in = _round_filters(filters_in, width_coefficient)
        filters_out = _round_filters(filters_out, width_coefficient)
        for repeat in range(repeats[stage]):
            x = _block(
                x,
                _DROP_CONNECT_RATE * block_index / total_blocks,
                f"block{stage + 1}{chr(ord('a') + repeat)}_",
                filters_in if repeat == 0 else filters_out,
                filters_out,
                kernel,
                strides if repeat == 0 else 1,
                expansion,
            )
            block_index += 1

    x = layers.Conv2D(
        _round_filters(1280, width_coefficient),
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=_conv_initializer(),
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(name="top_bn")(x)
    x = layers.Activation(_ACTIVATION, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(
            classes,
            activation=classifier_activation,
            # Keras' DENSE_KERNEL_INITIALIZER.
            kernel_initializer=initializers.VarianceScaling(
                1.0 / 3.0, mode="fan_out", distribution="uniform"
            ),
            name="predictions",
        )(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return _finish(inputs, x, name, weights_path)


_ARGS_DOC = """
    Args:
        include_top: end with global average pooling `avg_pool`, dropout `top_dropout` and
            the `classes`-way `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor (or a layer's output) to build on.
        input_shape: (height, width, 3), at least 32x32; default ({size}, {size}, 3) with the
            top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max".
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.

    Inputs are pixels in 0..255 (the model rescales and normalises them itself).
"""
# Keras' (width, depth, default size, dropout) of B0..B7, and count_params() with the top.
_SCALING = {
    "EfficientNetB0": (1.0, 1.0, 224, 0.2, "5,330,571"),
    "EfficientNetB1": (1.0, 1.1, 240, 0.2, "7,856,239"),
    "EfficientNetB2": (1.1, 1.2, 260, 0.3, "9,177,569"),
    "EfficientNetB3": (1.2, 1.4, 300, 0.3, "12,320,535"),
    "EfficientNetB4": (1.4, 1.8, 380, 0.4, "19,466,823"),
    "EfficientNetB5": (1.6, 2.2, 456, 0.4, "30,562,527"),
    "EfficientNetB6": (1.8, 2.6, 528, 0.5, "43,265,143"),
    "EfficientNetB7": (2.0, 3.1, 600, 0.5, "66,658,687"),
}


def _build(
    architecture: str,
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str | None,
) -> Model:
    width, depth, size, dropout, _ = _SCALING[architecture]
    return _efficientnet(
        architecture, width, depth, size, dropout, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def EfficientNetB0(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb0",
) -> Model:
    return _build(
        "EfficientNetB0", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB1(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb1",
) -> Model:
    return _build(
        "EfficientNetB1", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb2",
) -> Model:
    return _build(
        "EfficientNetB2", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB3(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb3",
) -> Model:
    return _build(
        "EfficientNetB3", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB4(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb4",
) -> Model:
    return _build(
        "EfficientNetB4", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB5(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb5",
) -> Model:
    return _build(
        "EfficientNetB5", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB6(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb6",
) -> Model:
    return _build(
        "EfficientNetB6", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def EfficientNetB7(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb7",
) -> Model:
    return _build(
        "EfficientNetB7", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def _docstring(architecture: str) -> str:
    width, depth, size, dropout, params = _SCALING[architecture]
    channels = _round_filters(1280, width)
    return f"""{architecture}: B0 scaled {width}x in width and {depth}x in depth, default input
    {size}x{size}, dropout {dropout} before the classifier ({params} parameters with the top).
{_ARGS_DOC.format(size=size)}
    Built on PyTorch's meta device, a model has its shapes and counts but no memory or values:

    >>> import torch
    >>> with torch.device("meta"):
    ...     model = {architecture}(include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, {channels})
"""


for _function in (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
):
    _function.__doc__ = _docstring(_function.__name__)
del _function


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through, as Keras': EfficientNet rescales and normalises its inputs itself, so it
    takes pixels in 0..255 unchanged.

    >>> preprocess_input([0.0, 255.0])
    [0.0, 255.0]
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` best ImageNet classes of each sample (`imagenet_utils.decode_predictions`)."""
    return _decode_predictions(preds, top=top)
