"""Argument handling shared by the classic architectures (VGG, ResNet, LeNet-5, AlexNet):
`weights=` checks, the input tensor, the pooled or classified top, and loading a weights file.

>>> _weights_path(None, "VGG16") is None
True
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model

WeightsArgument = str | os.PathLike[str] | None


def _weights_path(weights: WeightsArgument, architecture: str) -> Path | None:
    """None for `weights=None`, the path of an existing weights file, else a clear error
    (`"imagenet"` has no lamina file for these architectures yet)."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        raise ValueError(
            f"{architecture}: no pretrained 'imagenet' weights file is available for this "
            "architecture in lamina yet. Use weights=None (random initialisation) or pass the "
            "path of a weights file written by model.save_weights."
        )
    if not isinstance(weights, str | os.PathLike):
        raise TypeError(
            f"{architecture}: weights must be None, 'imagenet' or a file path; got "
            f"{type(weights).__name__} {weights!r}"
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(
            f"{architecture}: weights must be None, 'imagenet' or the path of a weights file "
            f"written by model.save_weights; got {str(weights)!r} (no such file)"
        )
    return path


def _image_input(
    architecture: str,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    default_shape: tuple[int | None, ...],
    flexible_shape: tuple[int | None, ...],
    include_top: bool,
    min_size: int,
) -> KerasTensor:
    """The model's input: `input_tensor` if given, else an `Input` of `input_shape`
    (default `default_shape` with the classifier on top, `flexible_shape` without)."""
    if input_tensor is not None:
        if not isinstance(input_tensor, KerasTensor):
            raise TypeError(
                f"{architecture}: input_tensor must be a symbolic tensor from lamina.Input; "
                f"got {type(input_tensor).__name__}"
            )
        return input_tensor
    if input_shape is None:
        input_shape = default_shape if include_top else flexible_shape
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"{architecture}: input_shape must be (height, width, channels); got {input_shape}"
        )
    for size in input_shape[:2]:
        if size is not None and size < min_size:
            raise ValueError(
                f"{architecture}: input height and width must be at least {min_size}; got "
                f"input_shape={input_shape}"
            )
    if include_top and None in input_shape[:2]:
        raise ValueError(
            f"{architecture}: include_top=True needs a fixed input size (the classifier's "
            f"Flatten/Dense sizes depend on it); got input_shape={input_shape}"
        )
    return layers.Input(shape=input_shape)


def _finish(
    inputs: KerasTensor, outputs: KerasTensor, name: str, weights_path: Path | None
) -> Model:
    model = Model(inputs, outputs, name=name)
    if weights_path is not None:
        model.load_weights(str(weights_path))
    return model
