"""EfficientNetV2 B0, B1, B2, B3, S, M and L (Tan & Le 2021, "EfficientNetV2: Smaller Models
and Faster Training") with `keras.applications.EfficientNetV2*`'s arguments, model names
(`efficientnetv2-b0`, ...), layer names (`stem_conv`, `block1a_project_conv`, `block4a_se_excite`,
..., `top_activation`, `avg_pool`, `top_dropout`, `predictions`), layer order, initializers and
parameter counts.

Preprocessing is part of the model, as in Keras: pixels in 0..255 go in. The B variants
rescale to 0..1 and normalize with the ImageNet mean and std; S, M and L (and any model whose
name does not end in a "-b..." part, or whose input does not have 3 channels) map to [-1, 1]
with `x / 128 - 1`. `include_preprocessing=False` leaves that to the caller
(`preprocess_input` here is the identity, as Keras').

No ImageNet weights file is available in lamina: `weights=None` (the default here; Keras'
is "imagenet") or the path of a file written by `model.save_weights`.

Shapes and parameter counts need no weight values: building on PyTorch's `meta` device skips
the memory and the initialisation (useful for EfficientNetV2L's 119 M parameters).

>>> import torch
>>> with torch.device("meta"):
...     model = EfficientNetV2B0(include_top=False, pooling="avg")
>>> model.output_shape, model.count_params()
((None, 1280), 5919312)
"""

from __future__ import annotations

from typing import Any

from .. import initializers, layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from . import imagenet_utils
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from ._efficientnet_v2_blocks import (
    STAGES,
    channel_axis,
    conv_initializer,
    fused_mbconv_block,
    mbconv_block,
    round_filters,
    round_repeats,
)
from .imagenet_utils import check_pooling, global_pooling

__all__ = [
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "decode_predictions",
    "preprocess_input",
]

# Keras' defaults for every variant.
_DROPOUT_RATE = 0.2
_DROP_CONNECT_RATE = 0.2
_BN_MOMENTUM = 0.9
_ACTIVATION = "swish"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _preprocessing(x: KerasTensor, name: str, channels: int | None) -> KerasTensor:
    # Keras decides by the model's name ("efficientnetv2-b0" -> "b0"), so a renamed B model
    # gets the S/M/L scaling; the ImageNet statistics need 3 channels.
    if name.split("-")[-1].startswith("b") and channels == 3:
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(
            mean=list(_IMAGENET_MEAN),
            variance=[std**2 for std in _IMAGENET_STD],
            axis=channel_axis(),
        )(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def _efficientnet_v2(
    architecture: str,
    variant: str,
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    include_preprocessing: bool,
    name: str,
) -> Model:
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    x, inputs, input_shape = imagenet_utils.image_input(
        input_shape,
        input_tensor,
        default_size=default_size,
        min_size=32,
        require_flatten=include_top,
        pretrained=False,
    )
    if include_preprocessing:
        x = _preprocessing(x, name, input_shape[channel_axis() - 1])

    stages = STAGES[variant]
    x = layers.Conv2D(
        round_filters(stages[0].input_filters, width_coefficient),
        3,
        strides=2,
        padding="same",
        use_bias=False,
        kernel_initializer=conv_initializer(),
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(axis=channel_axis(), momentum=_BN_MOMENTUM, name="stem_bn")(x)
    x = layers.Activation(_ACTIVATION, name="stem_activation")(x)

    # Drop-connect rates grow linearly with the block index; Keras divides by the number of
    # blocks before depth scaling, so the deepest rates of B1-B3 pass 0.2.
    total = float(sum(stage.repeats for stage in stages))
    index = 0
    for stage_index, stage in enumerate(stages, start=1):
        stage = stage._replace(
            input_filters=round_filters(stage.input_filters, width_coefficient),
            output_filters=round_filters(stage.output_filters, width_coefficient),
        )
        block = fused_mbconv_block if stage.fused else mbconv_block
        for repeat in range(round_repeats(stage.repeats, depth_coefficient)):
            if repeat:
                stage = stage._replace(strides=1, input_filters=stage.output_filters)
            x = block(
                x,
                stage,
                _ACTIVATION,
                _BN_MOMENTUM,
                drop_rate=_DROP_CONNECT_RATE * index / total,
                name=f"block{stage_index}{chr(ord('a') + repeat)}_",
            )
            index += 1

    x = layers.Conv2D(
        round_filters(1280, width_coefficient),
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=conv_initializer(),
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(axis=channel_axis(), momentum=_BN_MOMENTUM, name="top_bn")(x)
    x = layers.Activation(_ACTIVATION, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(_DROPOUT_RATE, name="top_dropout")(x)
        x = layers.Dense(
            classes,
            activation=classifier_activation,
            kernel_initializer=initializers.VarianceScaling(
                1.0 / 3.0, mode="fan_out", distribution="uniform"
            ),
            bias_initializer=initializers.Constant(0.0),
            name="predictions",
        )(x)
    else:
        x = global_pooling(x, pooling, ("avg_pool", "max_pool"))
    return _finish(inputs, x, name, weights_path)


_ARGS_DOC = """
    Args:
        include_top: end with global average pooling `avg_pool`, Dropout(0.2) `top_dropout`
            and the `classes`-way `predictions` layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; "imagenet" raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor (or a layer's output) to use as the image input.
        input_shape: (height, width, channels), at least 32x32; default ({size}, {size}, 3)
            with the top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max".
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        include_preprocessing: start with the `Rescaling` (and, for B0-B3, `Normalization`)
            layers that take pixels in 0..255.
        name: the model's name; Keras' B-variant preprocessing depends on it (see the module).

    Returns:
        A functional `Model`.
"""


def EfficientNetV2B0(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b0",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2B0", "b0", 1.0, 1.0, 224, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2B1(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b1",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2B1", "b1", 1.0, 1.1, 240, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2B2(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b2",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2B2", "b2", 1.1, 1.2, 260, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2B3(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b3",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2B3", "b3", 1.2, 1.4, 300, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2S(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-s",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2S", "s", 1.0, 1.0, 384, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2M(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-m",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2M", "m", 1.0, 1.0, 480, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def EfficientNetV2L(
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-l",
) -> Model:
    return _efficientnet_v2(
        "EfficientNetV2L", "l", 1.0, 1.0, 480, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def _describe(architecture: str, width: float, depth: float, size: int, params: str) -> str:
    return (
        f"{architecture}: width x{width}, depth x{depth}, default input {size}x{size} "
        f"({params} parameters with the top).\n{_ARGS_DOC.format(size=size)}"
    )


EfficientNetV2B0.__doc__ = _describe("EfficientNetV2B0", 1.0, 1.0, 224, "7,200,312")
EfficientNetV2B1.__doc__ = _describe("EfficientNetV2B1", 1.0, 1.1, 240, "8,212,124")
EfficientNetV2B2.__doc__ = _describe("EfficientNetV2B2", 1.1, 1.2, 260, "10,178,374")
EfficientNetV2B3.__doc__ = _describe("EfficientNetV2B3", 1.2, 1.4, 300, "14,467,622")
EfficientNetV2S.__doc__ = _describe("EfficientNetV2S", 1.0, 1.0, 384, "21,612,360")
EfficientNetV2M.__doc__ = _describe("EfficientNetV2M", 1.0, 1.0, 480, "54,431,388")
EfficientNetV2L.__doc__ = _describe("EfficientNetV2L", 1.0, 1.0, 480, "119,027,848")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """The identity, as Keras': EfficientNetV2 models preprocess inside (see the module).

    >>> preprocess_input([0.0, 255.0])
    [0.0, 255.0]
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` best ImageNet classes of each sample: `imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
