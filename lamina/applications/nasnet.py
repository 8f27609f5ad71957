"""NASNetMobile and NASNetLarge (Zoph et al. 2018, "Learning Transferable Architectures for
Scalable Image Recognition"; the NASNet-A cells), with `keras.applications.NASNetMobile`/
`NASNetLarge`'s arguments, layer names, layer order and parameter counts.

A stem convolution, two stem reduction cells, then three stacks of `num_blocks` normal cells
separated by reduction cells, the filters doubling at each reduction (`filter_multiplier`).
Every cell reads the two previous cells' outputs; `_adjust_block` brings the older one to the
newer one's size (a factorized reduction: two offset 1x1 average poolings of stride 2, each
followed by a 1x1 convolution) or channel count (a 1x1 projection). As in Keras, many
activations, paddings, croppings and merges are left auto-named (`activation_12`, `add_3`,
...); BatchNormalization uses momentum 0.9997 and epsilon 1e-3. Inputs are scaled to [-1, 1]
(`preprocess_input`, mode 'tf'). Keras refuses NASNetMobile on its torch backend; lamina builds
it as Keras' other backends do.

>>> import numpy as np
>>> preprocess_input(np.array([[0.0, 255.0]])).tolist()
[[-1.0, 1.0]]
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import config, layers
from ..layers._conv_utils import TilingWarning
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _image_input, _weights_path
from .imagenet_utils import check_pooling, global_pooling
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess
from .mobilenet_v2 import _correct_pad

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]


def _batch_norm(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)


def _conv_1x1(x: KerasTensor, filters: int, name: str) -> KerasTensor:
    return layers.Conv2D(
        filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal", name=name
    )(x)


def _separable_block(
    x: KerasTensor, filters: int, kernel_size: int, strides: int, block_id: str
) -> KerasTensor:
    """ReLU -> separable conv (`strides`, TensorFlow-style padding when 2) -> BN -> ReLU ->
    separable conv -> BN."""
    x = layers.Activation("relu")(x)
    padding = "same"
    if strides == 2:
        pads = _correct_pad(x.shape[1:3], kernel_size)
        x = layers.ZeroPadding2D(padding=pads, name=f"separable_conv_1_pad_{block_id}")(x)
        padding = "valid"
    for index in (1, 2):
        x = layers.SeparableConv2D(
            filters,
            kernel_size,
            strides=strides if index == 1 else 1,
            padding=padding if index == 1 else "same",
            use_bias=False,
            name=f"separable_conv_{index}_{block_id}",
        )(x)
        x = _batch_norm(f"separable_conv_{index}_bn_{block_id}")(x)
        if index == 1:
            x = layers.Activation("relu")(x)
    return x


def _adjust_block(
    previous: KerasTensor | None, current: KerasTensor, filters: int, block_id: str
) -> KerasTensor:
    """The previous cell's output matched to `current`'s width (factorized reduction) or to
    `filters` channels (1x1 projection). As Keras, widths compare as given: two unknown
    widths count as equal."""
    if previous is None:
        return current
    if previous.shape[-2] != current.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(previous)
        p1 = layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv_1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        # The second path samples the pixels one step down and right of the first's.
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv_1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _batch_norm(f"adjust_bn_{block_id}")(p)
    if previous.shape[-1] != filters:
        p = layers.Activation("relu")(previous)
        p = _conv_1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _batch_norm(f"adjust_bn_{block_id}")(p)
    return previous


def _cell_input(current: KerasTensor, filters: int, kind: str, block_id: str) -> KerasTensor:
    h = layers.Activation("relu")(current)
    h = _conv_1x1(h, filters, f"{kind}_conv_1_{block_id}")
    return _batch_norm(f"{kind}_bn_1_{block_id}")(h)


def _average_pool(x: KerasTensor, strides: int, padding: str, name: str) -> KerasTensor:
    return layers.AveragePooling2D(3, strides=strides, padding=padding, name=name)(x)


def _normal_cell(
    current: KerasTensor, previous: KerasTensor | None, filters: int, block_id: str
) -> tuple[KerasTensor, KerasTensor]:
    """NASNet-A normal cell: (output, `current` as the next cell's previous)."""
    p = _adjust_block(previous, current, filters, block_id)
    h = _cell_input(current, filters, "normal", block_id)
    x1 = layers.add(
        [
            _separable_block(h, filters, 5, 1, f"normal_left1_{block_id}"),
            _separable_block(p, filters, 3, 1, f"normal_right1_{block_id}"),
        ],
        name=f"normal_add_1_{block_id}",
    )
    x2 = layers.add(
        [
            _separable_block(p, filters, 5, 1, f"normal_left2_{block_id}"),
            _separable_block(p, filters, 3, 1, f"normal_right2_{block_id}"),
        ],
        name=f"normal_add_2_{block_id}",
    )
    x3 = _average_pool(h, 1, "same", f"normal_left3_{block_id}")
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4 = layers.add(
        [
            _average_pool(p, 1, "same", f"normal_left4_{block_id}"),
            _average_pool(p, 1, "same", f"normal_right4_{block_id}"),
        ],
        name=f"normal_add_4_{block_id}",
    )
    x5 = _separable_block(h, filters, 3, 1, f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, current


def _reduction_cell(
    current: KerasTensor, previous: KerasTensor | None, filters: int, block_id: str
) -> tuple[KerasTensor, KerasTensor]:
    """NASNet-A reduction cell (stride 2): (output, `current` as the next cell's previous)."""
    p = _adjust_block(previous, current, filters, block_id)
    h = _cell_input(current, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(
        padding=_correct_pad(h.shape[1:3], 3), name=f"reduction_pad_1_{block_id}"
    )(h)
    x1 = layers.add(
        [
            _separable_block(h, filters, 5, 2, f"reduction_left1_{block_id}"),
            _separable_block(p, filters, 7, 2, f"reduction_right1_{block_id}"),
        ],
        name=f"reduction_add_1_{block_id}",
    )
    x2_1 = layers.MaxPooling2D(3, strides=2, name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_block(p, filters, 7, 2, f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = _average_pool(h3, 2, "valid", f"reduction_left3_{block_id}")
    x3_2 = _separable_block(p, filters, 5, 2, f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = _average_pool(x1, 1, "same", f"reduction_left4_{block_id}")
    x4 = layers.add([x2, x4])
    # Keras names this separable block "reduction_left4" too (its pooling above is the
    # other "reduction_left4"); the names are kept so weights files match.
    x5_1 = _separable_block(x1, filters, 3, 1, f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D(3, strides=2, name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, current


def _cells(
    inputs: KerasTensor,
    penultimate_filters: int,
    num_blocks: int,
    stem_block_filters: int,
    skip_reduction: bool,
) -> KerasTensor:
    """The stem and the three stacks of cells, up to the last concatenation."""
    multiplier = 2  # Keras' filter_multiplier for both models
    filters = penultimate_filters // 24
    x = layers.Conv2D(
        stem_block_filters,
        3,
        strides=2,
        use_bias=False,
        kernel_initializer="he_normal",
        name="stem_conv1",
    )(inputs)
    x = _batch_norm("stem_bn1")(x)
    x, p = _reduction_cell(x, None, filters // multiplier**2, "stem_1")
    x, p = _reduction_cell(x, p, filters // multiplier, "stem_2")
    for stack in range(3):
        if stack:
            x, p_reduced = _reduction_cell(
                x, p, filters * multiplier**stack, f"reduce_{stack * num_blocks}"
            )
            p = p if skip_reduction else p_reduced
        for index in range(num_blocks):
            block_id = str(index if stack == 0 else stack * num_blocks + index + 1)
            x, p = _normal_cell(x, p, filters * multiplier**stack, block_id)
    return x


def _nasnet(
    architecture: str,
    penultimate_filters: int,
    num_blocks: int,
    stem_block_filters: int,
    skip_reduction: bool,
    default_size: int,
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
            f"{architecture} supports only image_data_format 'channels_last' (as in Keras); "
            "call lamina.config.set_image_data_format('channels_last') first"
        )
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    inputs = _image_input(
        architecture,
        input_tensor,
        input_shape,
        default_shape=(default_size, default_size, 3),
        flexible_shape=(None, None, 3),
        include_top=include_top,
        min_size=32,
    )
    with warnings.catch_warnings():
        # NASNet drops input rows by design (the valid stem convolution at even sizes, the
        # 1x1 poolings of stride 2 of `_adjust_block`), as in Keras, which does not warn.
        warnings.simplefilter("ignore", TilingWarning)
        x = _cells(inputs, penultimate_filters, num_blocks, stem_block_filters, skip_reduction)
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return _finish(inputs, x, name, weights_path)


_ARGS_DOC = """
    Args:
        input_shape: (height, width, channels), at least 32x32; default ({size}, {size}, 3)
            with the top, {without} without.
        include_top: end with global average pooling and the `classes`-way `predictions`
            layer.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; `"imagenet"` raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor to use as the image input.
        pooling: without the top, None (4-D feature maps), "avg" or "max".
        classes: size of the classifier.
        classifier_activation: activation of `predictions` (None for logits).
        name: the model's name.
"""


def NASNetMobile(
    input_shape: tuple[int | None, ...] | None = None,
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "nasnet_mobile",
) -> Model:
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)  # as Keras: the mobile model always has a fixed size
    return _nasnet(
        "NASNetMobile", 1056, 4, 32, False, 224, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def NASNetLarge(
    input_shape: tuple[int | None, ...] | None = None,
    include_top: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "nasnet_large",
) -> Model:
    return _nasnet(
        "NASNetLarge", 4032, 6, 96, True, 331, include_top, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


NASNetMobile.__doc__ = f"""NASNet-A (4 @ 1056), 5,326,716 parameters with the top.
{_ARGS_DOC.format(size=224, without="(224, 224, 3)")}
    >>> model = NASNetMobile(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    >>> model.count_params(), model.output_shape
    (4269716, (None, 1056))
"""
NASNetLarge.__doc__ = f"""NASNet-A (6 @ 4032), 88,949,818 parameters with the top.
{_ARGS_DOC.format(size=331, without="(None, None, 3)")}"""


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' NASNet preprocessing ('tf' mode): pixels 0..255 scaled to [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
