"""MobileNetV3Small and MobileNetV3Large (Howard et al. 2019, "Searching for MobileNetV3") with
`keras.applications.MobileNetV3Small`'s arguments, layer names (`conv`, `conv_bn`,
`expanded_conv_3_squeeze_excite_mul`, `conv_1`, `logits`, ...), layer order and parameter counts.

As in Keras, the input is rescaled inside the model (`include_preprocessing=True`: pixels 0..255
to [-1, 1] by a `Rescaling` layer), so `preprocess_input` is a pass-through; the classifier is
two 1x1 convolutions on the pooled 1x1 map (`conv_2`, `logits`), then `Flatten` and the
`predictions` activation. Blocks are Keras': BatchNormalization epsilon 1e-3, momentum 0.999,
stride-2 depthwise convolutions padded bottom/right as TensorFlow's 'same'.

The squeeze-excite gate's hard sigmoid is Keras' `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`: ops on
symbolic tensors, in `model.operations` but not in `model.layers`, as in Keras.

>>> MobileNetV3Small(input_shape=(32, 32, 3), include_top=False, pooling="avg").output_shape
(None, 576)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from .imagenet_utils import check_pooling, image_input
from .imagenet_utils import decode_predictions as _decode_predictions
from .mobilenet_v2 import _correct_pad
from .mobilenet_v2 import _make_divisible as _depth

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]

_BN = {"epsilon": 1e-3, "momentum": 0.999}
_RELU, _HARD_SWISH = "relu", "hard_swish"
# One row per inverted residual block: (expansion, output filters before alpha, kernel, stride,
# squeeze-excite, activation). "k" is 5 (3 when minimalistic), "se" 0.25 (none when
# minimalistic), "act" hard swish (ReLU when minimalistic), as in the paper's Tables 1 and 2.
_SMALL = (
    (1, 16, 3, 2, "se", _RELU),
    (72 / 16, 24, 3, 2, None, _RELU),
    (88 / 24, 24, 3, 1, None, _RELU),
    (4, 40, "k", 2, "se", "act"),
    (6, 40, "k", 1, "se", "act"),
    (6, 40, "k", 1, "se", "act"),
    (3, 48, "k", 1, "se", "act"),
    (3, 48, "k", 1, "se", "act"),
    (6, 96, "k", 2, "se", "act"),
    (6, 96, "k", 1, "se", "act"),
    (6, 96, "k", 1, "se", "act"),
)
_LARGE = (
    (1, 16, 3, 1, None, _RELU),
    (4, 24, 3, 2, None, _RELU),
    (3, 24, 3, 1, None, _RELU),
    (3, 40, "k", 2, "se", _RELU),
    (3, 40, "k", 1, "se", _RELU),
    (3, 40, "k", 1, "se", _RELU),
    (6, 80, 3, 2, None, "act"),
    (2.5, 80, 3, 1, None, "act"),
    (2.3, 80, 3, 1, None, "act"),
    (2.3, 80, 3, 1, None, "act"),
    (6, 112, 3, 1, "se", "act"),
    (6, 112, 3, 1, "se", "act"),
    (6, 160, "k", 2, "se", "act"),
    (6, 160, "k", 1, "se", "act"),
    (6, 160, "k", 1, "se", "act"),
)


def _activation(kind: str) -> Callable[[KerasTensor], KerasTensor]:
    """Keras' `relu` (an automatically named `ReLU` layer) or `hard_swish` (an automatically
    named `Activation("hard_swish")` layer)."""
    if kind == _RELU:
        return lambda x: layers.ReLU()(x)
    return lambda x: layers.Activation("hard_swish")(x)


def _hard_sigmoid(x: KerasTensor) -> KerasTensor:
    """relu6(x + 3) / 6, as Keras writes it: ops on symbolic tensors around a `ReLU` layer."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _se_block(inputs: KerasTensor, filters: int, se_ratio: float, prefix: str) -> KerasTensor:
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs
    )
    x = layers.Conv2D(
        _depth(filters * se_ratio), 1, padding="same", name=f"{prefix}squeeze_excite_conv"
    )(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(
    x: KerasTensor,
    expansion: float,
    filters: int,
    kernel_size: int,
    stride: int,
    se_ratio: float | None,
    activation: Callable[[KerasTensor], KerasTensor],
    block_id: int,
) -> KerasTensor:
    shortcut = x
    in_filters = int(x.shape[-1])
    expanded = _depth(in_filters * expansion)
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(expanded, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(**_BN, name=f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        pad = _correct_pad(tuple(x.shape[1:3]), kernel_size)
        x = layers.ZeroPadding2D(padding=pad, name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = layers.BatchNormalization(**_BN, name=f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, expanded, se_ratio, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(**_BN, name=f"{prefix}project_bn")(x)
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _mobilenet_v3(
    architecture: str,
    blocks: tuple[tuple[Any, ...], ...],
    last_point_ch: int,
    input_shape: tuple[int | None, ...] | None,
    alpha: float,
    minimalistic: bool,
    include_top: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    classes: int,
    pooling: str | None,
    dropout_rate: float,
    classifier_activation: Any,
    include_preprocessing: bool,
    name: str | None,
) -> Model:
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    # Without weights Keras builds on (None, None, 3) even with the top: the classifier is
    # convolutional on the globally pooled map, so any size of at least 32x32 works.
    img_input, inputs, _ = image_input(
        input_shape, input_tensor, 224, 32, require_flatten=False, pretrained=False
    )
    kernel, se_ratio = (3, None) if minimalistic else (5, 0.25)
    activation = _activation(_RELU if minimalistic else _HARD_SWISH)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv")(x)
    x = layers.BatchNormalization(**_BN, name="conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, block_kernel, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x,
            expansion,
            _depth(filters * alpha),
            kernel if block_kernel == "k" else block_kernel,
            stride,
            se_ratio if se else None,
            activation if act == "act" else _activation(_RELU),
            block_id,
        )
    last_conv_ch = _depth(int(x.shape[-1]) * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = layers.BatchNormalization(**_BN, name="conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, 1, padding="same", name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return _finish(inputs, x, name, weights_path)


_ARGS_DOC = """
    Args:
        input_shape: (height, width, 3), at least 32x32; default (None, None, 3) (any size,
            with or without the top).
        alpha: width multiplier: every layer's filters scaled, rounded to multiples of 8.
        minimalistic: no squeeze-excite, no hard swish (ReLU), 3x3 depthwise kernels only.
        include_top: end with the convolutional classifier (`conv_2`, `logits`,
            `predictions`).
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor (or a layer's output) to build on.
        classes: size of the classifier.
        pooling: without the top, None (4-D feature maps), "avg" or "max".
        dropout_rate: dropout before the `logits` convolution (none if 0).
        classifier_activation: activation of `predictions` (None for logits).
        include_preprocessing: start with `Rescaling` of pixels 0..255 to [-1, 1]; without it
            the model expects inputs in [-1, 1].
        name: the model's name.
"""


def MobileNetV3Small(
    input_shape: tuple[int | None, ...] | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> Model:
    return _mobilenet_v3(
        "MobileNetV3Small", _SMALL, 1024, input_shape, alpha, minimalistic, include_top,
        weights, input_tensor, classes, pooling, dropout_rate, classifier_activation,
        include_preprocessing, name,
    )  # fmt: skip


def MobileNetV3Large(
    input_shape: tuple[int | None, ...] | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> Model:
    return _mobilenet_v3(
        "MobileNetV3Large", _LARGE, 1280, input_shape, alpha, minimalistic, include_top,
        weights, input_tensor, classes, pooling, dropout_rate, classifier_activation,
        include_preprocessing, name,
    )  # fmt: skip


MobileNetV3Small.__doc__ = f"""MobileNetV3Small: 11 inverted residual blocks, a 1x1 conv to 576
    channels (2,554,968 parameters with the top, 939,120 without).
{_ARGS_DOC}
    >>> MobileNetV3Small(input_shape=(32, 32, 3)).count_params()
    2554968
"""
MobileNetV3Large.__doc__ = f"""MobileNetV3Large: 15 inverted residual blocks, a 1x1 conv to 960
    channels (5,507,432 parameters with the top, 2,996,352 without).
{_ARGS_DOC}
    >>> MobileNetV3Large(include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 960)
"""


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through, as Keras': MobileNetV3 rescales its inputs itself (the `Rescaling` layer
    of `include_preprocessing=True`), so it takes pixels in 0..255 unchanged.

    >>> preprocess_input([0.0, 255.0])
    [0.0, 255.0]
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` best ImageNet classes of each sample (`imagenet_utils.decode_predictions`)."""
    return _decode_predictions(preds, top=top)
