"""ResNet-20 for 32x32 CIFAR-10 images (He et al. 2015, section 4.2), with the parameter-free
"option A" shortcuts, and the pretrained weights of akamaster/pytorch_resnet_cifar10
(`weights="cifar10"`, 91.78 % test accuracy).

>>> model = ResNet20(weights=None)
>>> model.count_params()
271098
>>> CIFAR10_CLASSES[3]
'cat'
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import layers
from ..layers.core import Input
from ..models import Model
from ..saving.registry import register_serializable
from ._torch_checkpoints import (
    load_into,
    load_state_dict_file,
    preprocess_with_mean_std,
    rename_keys,
    validate_classifier,
)
from ._weights import WeightsFile, resolve_weights
from .imagenet_utils import global_pooling

__all__ = [
    "CIFAR10_CLASSES",
    "ResNet20",
    "ShortcutOptionA",
    "decode_predictions",
    "preprocess_input",
]

RESNET20_CIFAR10 = WeightsFile(
    "resnet20_cifar10_pytorch/resnet20-12fca82f.th",
    "12fca82f0bebc4135bf1f32f6e3710e61d5108578464b84fd6d7f5c1b04036c8",
    "https://github.com/akamaster/pytorch_resnet_cifar10/raw/"
    "d5489e8995e81e91ce6b1d69dcc98ad579b0b153/pretrained_models/resnet20-12fca82f.th",
)

#: CIFAR-10's class names, in label order.
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

# The training script's normalisation (akamaster's trainer.py uses ImageNet's statistics).
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


@register_serializable(package="lamina.applications")
class ShortcutOptionA(layers.Layer):
    """The parameter-free shortcut of CIFAR ResNets ("option A"): keep every `strides`-th
    pixel, then pad the channels with zeros, `pad_channels` before and after.

    Args:
        strides: spatial subsampling step.
        pad_channels: zero channels added on each side.

    Input shape:
        (batch, height, width, channels).

    Output shape:
        (batch, ceil(height / strides), ceil(width / strides), channels + 2 * pad_channels).

    >>> layer = ShortcutOptionA(strides=2, pad_channels=8)
    >>> tuple(layer(torch.ones(1, 32, 32, 16)).shape)
    (1, 16, 16, 32)
    """

    def __init__(self, strides: int = 2, pad_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(strides) < 1 or int(pad_channels) < 0:
            raise ValueError(
                f"ShortcutOptionA '{self.name}': strides must be >= 1 and pad_channels >= 0; "
                f"got strides={strides!r}, pad_channels={pad_channels!r}"
            )
        self.strides = int(strides)
        self.pad_channels = int(pad_channels)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim != 4:
            raise ValueError(
                f"ShortcutOptionA '{self.name}' expects 4-D input (batch, height, width, "
                f"channels); got shape {tuple(inputs.shape)}"
            )
        x = inputs[:, :: self.strides, :: self.strides, :]
        return F.pad(x, (self.pad_channels, self.pad_channels))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(strides=self.strides, pad_channels=self.pad_channels)
        return config


def _conv_bn(x: Any, filters: int, strides: int, name: str, bn_name: str) -> Any:
    x = layers.Conv2D(filters, 3, strides=strides, padding=1, use_bias=False, name=name)(x)
    # PyTorch's BatchNorm2d defaults, which the weights were trained with.
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=bn_name)(x)


def _basic_block(x: Any, filters: int, strides: int, prefix: str) -> Any:
    in_channels = int(x.shape[-1])
    y = _conv_bn(x, filters, strides, f"{prefix}_conv1", f"{prefix}_bn1")
    y = layers.ReLU(name=f"{prefix}_relu1")(y)
    y = _conv_bn(y, filters, 1, f"{prefix}_conv2", f"{prefix}_bn2")
    shortcut = x
    if strides != 1 or in_channels != filters:
        shortcut = ShortcutOptionA(
            strides, (filters - in_channels) // 2, name=f"{prefix}_shortcut"
        )(x)
    y = layers.Add(name=f"{prefix}_add")([y, shortcut])
    return layers.ReLU(name=f"{prefix}_out")(y)


def _torch_key(key: str) -> str:
    """'layer1.0.conv1.weight' -> 'layer1_0_conv1.weight' (lamina layer names have no dots)."""
    module, _, tensor = key.rpartition(".")
    return f"{module.replace('.', '_')}.{tensor}"


def ResNet20(
    input_shape: tuple[int, int, int] | None = (32, 32, 3),
    include_top: bool = True,
    weights: str | os.PathLike[str] | None = "cifar10",
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    """ResNet-20 for CIFAR-10: 3x3 conv (16) then 3 stages of 3 basic blocks (16, 32, 64
    filters, the 2nd and 3rd stage start with stride 2), global average pooling, Dense.

    The layer names follow the PyTorch checkpoint (`layer2.0.conv1` is `layer2_0_conv1`), so
    its state_dict loads by renaming. Inputs are RGB images normalised by `preprocess_input`.

    Args:
        input_shape: (height, width, 3); 32x32 is what the weights were trained on.
        include_top: end with the `linear` Dense classifier.
        weights: None (random), "cifar10" (the pretrained file) or a path to such a file.
        pooling: with include_top=False: None (4-D feature map), "avg" or "max".
        classes: outputs of the classifier (10 with weights="cifar10").
        classifier_activation: activation of the classifier; None gives logits.
        name: the model's name (default "resnet20").

    Returns:
        A functional `Model`.

    >>> model = ResNet20(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 64)
    """
    validate_classifier("ResNet20", weights, "cifar10", include_top, classes, 10)
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"ResNet20: pooling must be None, 'avg' or 'max'; got {pooling!r}")
    path = resolve_weights(weights, RESNET20_CIFAR10, tag="cifar10")
    inputs = Input(tuple(input_shape) if input_shape is not None else (32, 32, 3))
    x = _conv_bn(inputs, 16, 1, "conv1", "bn1")
    x = layers.ReLU(name="relu")(x)
    for stage, filters in enumerate((16, 32, 64), start=1):
        for block in range(3):
            strides = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"layer{stage}_{block}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="linear")(x)
    else:
        x = global_pooling(x, pooling, ("avg_pool", "max_pool"))
    model = Model(inputs, x, name=name or "resnet20")
    if path is not None:
        state = rename_keys(load_state_dict_file(path), _torch_key, strip_prefix="module.")
        if not include_top:
            state = {k: v for k, v in state.items() if not k.startswith("linear.")}
        load_into(model, state, os.fspath(path), allow_missing=False)
    return model


def preprocess_input(x: Any) -> Any:
    """RGB pixels 0..255 (channels_last) to the network's input: x / 255, then CIFAR
    training's per-channel mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).

    >>> [round(float(v), 3) for v in preprocess_input(np.full((1, 1, 1, 3), 255, np.uint8)).ravel()]
    [2.249, 2.429, 2.64]
    """
    return preprocess_with_mean_std(x, 255.0, _MEAN, _STD)


def decode_predictions(preds: Any, top: int = 3) -> list[list[tuple[int, str, float]]]:
    """The `top` (class index, class name, score) of each row of (batch, 10) predictions.

    >>> decode_predictions(np.eye(10)[[3]], top=1)
    [[(3, 'cat', 1.0)]]
    """
    scores = preds.detach().cpu().numpy() if isinstance(preds, torch.Tensor) else np.asarray(preds)
    if scores.ndim != 2 or scores.shape[1] != len(CIFAR10_CLASSES):
        raise ValueError(
            f"decode_predictions expects predictions of shape (batch, 10); got {scores.shape}"
        )
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    return [
        [(int(i), CIFAR10_CLASSES[int(i)], float(row[i])) for i in indices]
        for row, indices in zip(scores, order, strict=True)
    ]
