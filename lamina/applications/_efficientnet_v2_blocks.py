"""EfficientNetV2's building blocks (Tan & Le 2021): the stage tables of the seven Keras
variants, the width / depth rounding, and the MBConv and Fused-MBConv blocks with Keras' layer
names (`block1a_project_conv`, `block4b_se_reduce`, ...), order and initializers.

>>> round_filters(32, 1.1), round_repeats(3, 1.4)
(32, 5)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import config, initializers, layers
from ..layers._symbolic import KerasTensor

__all__ = ["STAGES", "Stage", "fused_mbconv_block", "mbconv_block", "round_filters"]


class Stage(NamedTuple):
    """One stage of identical blocks (all EfficientNetV2 kernels are 3x3)."""

    repeats: int
    input_filters: int
    output_filters: int
    expand_ratio: int
    se_ratio: float
    strides: int
    fused: bool


def _stages(*rows: tuple[int, int, int, int, float, int, bool]) -> tuple[Stage, ...]:
    return tuple(Stage(*row) for row in rows)


# The paper's Table 4 (S) and the official code's M / L / B0 tables, as Keras has them:
# (repeats, input filters, output filters, expansion, squeeze-excite ratio, stride, fused).
_B_STAGES = _stages(
    (1, 32, 16, 1, 0.0, 1, True),
    (2, 16, 32, 4, 0.0, 2, True),
    (2, 32, 48, 4, 0.0, 2, True),
    (3, 48, 96, 4, 0.25, 2, False),
    (5, 96, 112, 6, 0.25, 1, False),
    (8, 112, 192, 6, 0.25, 2, False),
)
STAGES: dict[str, tuple[Stage, ...]] = {
    "b0": _B_STAGES,
    "b1": _B_STAGES,
    "b2": _B_STAGES,
    "b3": _B_STAGES,
    "s": _stages(
        (2, 24, 24, 1, 0.0, 1, True),
        (4, 24, 48, 4, 0.0, 2, True),
        (4, 48, 64, 4, 0.0, 2, True),
        (6, 64, 128, 4, 0.25, 2, False),
        (9, 128, 160, 6, 0.25, 1, False),
        (15, 160, 256, 6, 0.25, 2, False),
    ),
    "m": _stages(
        (3, 24, 24, 1, 0.0, 1, True),
        (5, 24, 48, 4, 0.0, 2, True),
        (5, 48, 80, 4, 0.0, 2, True),
        (7, 80, 160, 4, 0.25, 2, False),
        (14, 160, 176, 6, 0.25, 1, False),
        (18, 176, 304, 6, 0.25, 2, False),
        (5, 304, 512, 6, 0.25, 1, False),
    ),
    "l": _stages(
        (4, 32, 32, 1, 0.0, 1, True),
        (7, 32, 64, 4, 0.0, 2, True),
        (7, 64, 96, 4, 0.0, 2, True),
        (10, 96, 192, 4, 0.25, 2, False),
        (19, 192, 224, 6, 0.25, 1, False),
        (25, 224, 384, 6, 0.25, 2, False),
        (7, 384, 640, 6, 0.25, 1, False),
    ),
}


def round_filters(filters: int, width_coefficient: float, divisor: int = 8) -> int:
    """Channels scaled by the width coefficient, rounded to the nearest multiple of 8 (at
    least 8), as Keras' EfficientNetV2 (which, unlike EfficientNet, never adds 8 back)."""
    scaled = filters * width_coefficient
    return int(max(divisor, int(scaled + divisor / 2) // divisor * divisor))


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    """Blocks per stage scaled by the depth coefficient, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def conv_initializer() -> initializers.VarianceScaling:
    """Keras' EfficientNetV2 convolution initializer (He, fan-out, truncated normal)."""
    return initializers.VarianceScaling(2.0, mode="fan_out", distribution="truncated_normal")


def channel_axis() -> int:
    return 3 if config.image_data_format() == "channels_last" else 1


def _conv(filters: int, kernel_size: int, strides: int, name: str) -> layers.Conv2D:
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer=conv_initializer(),
        name=name,
    )


def _norm_activation(
    x: KerasTensor, name: str, activation: str | None, momentum: float, norm_suffix: str
) -> KerasTensor:
    """BatchNormalization `{name}{norm_suffix}` then, if given, `{name}...activation`."""
    x = layers.BatchNormalization(axis=channel_axis(), momentum=momentum, name=name + norm_suffix)(
        x
    )
    if activation is None:
        return x
    prefix = norm_suffix[: -len("bn")]
    return layers.Activation(activation, name=f"{name}{prefix}activation")(x)


def _squeeze_excite(
    x: KerasTensor, input_filters: int, filters: int, se_ratio: float, activation: str, name: str
) -> KerasTensor:
    """Channel attention: global average -> 1x1 reduce (`activation`) -> 1x1 expand
    (sigmoid) -> scale `x`. The bottleneck width comes from the block's input filters."""
    reduced = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    shape = (1, 1, filters) if channel_axis() == 3 else (filters, 1, 1)
    se = layers.Reshape(shape, name=f"{name}se_reshape")(se)
    for width, act, part in ((reduced, activation, "reduce"), (filters, "sigmoid", "expand")):
        se = layers.Conv2D(
            width,
            1,
            padding="same",
            activation=act,
            kernel_initializer=conv_initializer(),
            name=f"{name}se_{part}",
        )(se)
    return layers.Multiply(name=f"{name}se_excite")([x, se])


def _residual(
    x: KerasTensor, inputs: KerasTensor, stage: Stage, drop_rate: float, name: str
) -> KerasTensor:
    """`x + inputs` when the block keeps the shape, after a per-sample Dropout (Keras' drop
    connect: whole samples zeroed; the first block of the network has rate 0 and no layer)."""
    if stage.strides != 1 or stage.input_filters != stage.output_filters:
        return x
    if drop_rate:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return layers.Add(name=f"{name}add")([x, inputs])


def mbconv_block(
    inputs: KerasTensor,
    stage: Stage,
    activation: str,
    momentum: float,
    drop_rate: float,
    name: str,
) -> KerasTensor:
    """MBConv: 1x1 expansion (when expand_ratio > 1), 3x3 depthwise with the stride,
    squeeze-excite, 1x1 projection, residual. `stage` holds this block's filters and stride."""
    filters = stage.input_filters * stage.expand_ratio
    x = inputs
    if stage.expand_ratio != 1:
        x = _conv(filters, 1, 1, f"{name}expand_conv")(x)
        x = _norm_activation(x, name, activation, momentum, "expand_bn")
    x = layers.DepthwiseConv2D(
        3,
        strides=stage.strides,
        padding="same",
        use_bias=False,
        depthwise_initializer=conv_initializer(),
        name=f"{name}dwconv2",
    )(x)
    x = _norm_activation(x, name, activation, momentum, "bn")
    if 0 < stage.se_ratio <= 1:
        x = _squeeze_excite(x, stage.input_filters, filters, stage.se_ratio, activation, name)
    x = _conv(stage.output_filters, 1, 1, f"{name}project_conv")(x)
    x = _norm_activation(x, name, None, momentum, "project_bn")
    return _residual(x, inputs, stage, drop_rate, name)


def fused_mbconv_block(
    inputs: KerasTensor,
    stage: Stage,
    activation: str,
    momentum: float,
    drop_rate: float,
    name: str,
) -> KerasTensor:
    """Fused-MBConv: one 3x3 convolution with the stride replaces expansion + depthwise;
    then squeeze-excite (if any), a 1x1 projection (the 3x3 itself without expansion, then
    followed by the activation), residual."""
    filters = stage.input_filters * stage.expand_ratio
    expands = stage.expand_ratio != 1
    x = inputs
    if expands:
        x = _conv(filters, 3, stage.strides, f"{name}expand_conv")(x)
        x = _norm_activation(x, name, activation, momentum, "expand_bn")
    if 0 < stage.se_ratio <= 1:
        x = _squeeze_excite(x, stage.input_filters, filters, stage.se_ratio, activation, name)
    kernel_size, strides = (1, 1) if expands else (3, stage.strides)
    x = _conv(stage.output_filters, kernel_size, strides, f"{name}project_conv")(x)
    x = _norm_activation(x, name, None if expands else activation, momentum, "project_bn")
    return _residual(x, inputs, stage, drop_rate, name)
