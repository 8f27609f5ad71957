"""ImageNet helpers shared by the zoo: input scaling (`preprocess_input`), reading the
1000-class scores back as labels (`decode_predictions`), and the input / head plumbing every
application builds its model with.

>>> import numpy as np
>>> preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf").tolist()
[[-1.0, 0.0, 1.0]]
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import config
from ..layers import (
    Activation,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    InputLayer,
)
from ..layers._symbolic import KerasTensor
from ._weights import WeightsFile, find_weights

__all__ = ["decode_predictions", "preprocess_input"]

LABELS_FILE = WeightsFile(
    "imagenet1k_labels.tsv", "f62122dc4616cc5327b8257ef7ec9ba329252b91a4790984cdf267e30d32a232"
)
# Per-channel statistics of the ImageNet training set, in RGB order, on the 0..255 scale
# ('caffe') and the 0..1 scale ('torch').
_CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of RGB images with pixels in 0..255 as a network was trained on.

    Args:
        x: NumPy array, torch tensor or symbolic input (`Input`), (..., height, width, 3)
            channels last (or channels first with `data_format="channels_first"`). A
            floating NumPy array is scaled in place and keeps its dtype, as in Keras;
            anything else is not modified.
        data_format: "channels_last" or "channels_first"; default the global setting.
        mode: "tf" scales to [-1, 1] (MobileNet); "torch" scales to [0, 1] then subtracts the
            ImageNet mean and divides by its std; "caffe" (Keras' default) reorders RGB to
            BGR and subtracts the ImageNet mean per channel, without scaling (SqueezeNet).

    Returns:
        An array (or float32 tensor) of the same shape.

    >>> preprocess_input(np.full((1, 1, 1, 3), 255.0), mode="caffe").astype(float).round(3).tolist()
    [[[[151.061, 138.221, 131.32]]]]
    """
    data_format = data_format or config.image_data_format()
    if mode not in ("tf", "torch", "caffe"):
        raise ValueError(f"preprocess_input: mode must be 'tf', 'torch' or 'caffe'; got {mode!r}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"preprocess_input: unknown data_format {data_format!r}")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    if isinstance(x, KerasTensor):
        return _preprocess_symbolic(x, data_format, mode)
    is_tensor = isinstance(x, torch.Tensor)
    if is_tensor:
        x = x.to(torch.float32) if x.dtype != torch.float32 else x.clone()
    else:
        x = np.array(x, dtype=np.float32)
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = _channel_axis(x, data_format, mode)
    if mode == "torch":
        mean, std = np.array(_TORCH_MEAN), np.array(_TORCH_STD)
        x = x / 255.0
    else:
        x = torch.flip(x, dims=[axis]) if is_tensor else np.flip(x, axis=axis).copy()
        mean, std = np.array(_CAFFE_MEAN_RGB[::-1]), np.ones(3)
    shape = [1] * x.ndim
    shape[axis] = 3
    mean, std = mean.reshape(shape).astype(np.float32), std.reshape(shape).astype(np.float32)
    if is_tensor:
        mean, std = torch.from_numpy(mean).to(x.device), torch.from_numpy(std).to(x.device)
    return (x - mean) / std


def _channel_axis(x: Any, data_format: str, mode: str) -> int:
    axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    if x.shape[axis] != 3:
        raise ValueError(
            f"preprocess_input(mode={mode!r}) expects 3 colour channels on axis {axis}; "
            f"got shape {tuple(x.shape)}"
        )
    return axis


def _preprocess_symbolic(x: KerasTensor, data_format: str, mode: str) -> KerasTensor:
    """Keras' recipe on a symbolic input (`keras.Input`), op by op, so a functional model
    gets its layers ('true_divide', 'subtract'; 'stack' and 'add' for 'caffe')."""
    from .. import ops

    ndim = len(x.shape)
    if mode == "tf":
        return x / 127.5 - 1.0
    std = None
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:  # RGB -> BGR
        if data_format == "channels_last":
            x = ops.stack([x[..., i] for i in (2, 1, 0)], axis=-1)
        elif ndim == 3:
            x = ops.stack([x[i, ...] for i in (2, 1, 0)], axis=0)
        else:
            x = ops.stack([x[:, i, :] for i in (2, 1, 0)], axis=1)
        mean = _CAFFE_MEAN_RGB[::-1]
    last = data_format == "channels_last"
    shape = (1,) * (ndim - 1) + (3,) if last else (1, 3) + (1,) * (ndim - 2)
    x = x + ops.reshape(ops.convert_to_tensor(-np.array(mean), dtype=x.dtype), shape)
    if std is not None:
        std_shape = (3,) if last else (-1, 1, 1)
        x = x / ops.reshape(ops.convert_to_tensor(np.array(std), dtype=x.dtype), std_shape)
    return x


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    """Keras' NumPy path: a floating array keeps its dtype and is scaled in place (the
    result shares its memory; 'caffe' returns a channel-reversed view of it); other dtypes
    become a new float32 array."""
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(config.floatx())
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    axis = _channel_axis(x, data_format, mode) % x.ndim
    index = [slice(None)] * x.ndim
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        index[axis] = slice(None, None, -1)
        x = x[tuple(index)]
        mean, std = _CAFFE_MEAN_RGB[::-1], (1.0, 1.0, 1.0)
    for channel in range(3):
        index[axis] = channel
        x[tuple(index)] -= mean[channel]
        if mode == "torch":
            x[tuple(index)] /= std[channel]
    return x


@functools.lru_cache(maxsize=4)
def _read_labels(path: Path) -> tuple[tuple[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return tuple((row["wnid"], row["name"]) for row in sorted(rows, key=lambda r: int(r["index"])))


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` best ImageNet classes of each sample, as Keras gives them:
    `[[(wnid, name, score), ...], ...]`, best first.

    The labels file `imagenet1k_labels.tsv` is found like pretrained weights (the
    `LAMINA_WEIGHTS` folders, then the cache); it is read once.

    Args:
        preds: scores of shape (samples, 1000) (probabilities or logits), array or tensor.
        top: how many classes per sample.

    Raises:
        ValueError: `preds` is not (samples, 1000).
        FileNotFoundError: the labels file is nowhere to be found.
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "decode_predictions expects a batch of ImageNet scores of shape (samples, 1000); "
            f"got shape {preds.shape}"
        )
    labels = _read_labels(find_weights(LABELS_FILE))
    results = []
    for row in preds:
        best = np.argsort(-row, kind="stable")[:top]
        results.append([(*labels[i], float(row[i])) for i in best])
    return results


def image_input(
    input_shape: tuple[int | None, ...] | None,
    input_tensor: Any,
    default_size: int,
    min_size: int,
    require_flatten: bool,
    pretrained: bool,
) -> tuple[KerasTensor, Any, tuple[int | None, ...]]:
    """The image input of an application: (tensor the layers start from, the model's inputs,
    the per-sample shape). Checks sizes as Keras' `obtain_input_shape` does."""
    channels_first = config.image_data_format() == "channels_first"
    if input_tensor is not None and input_shape is None:
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        size = default_size if require_flatten else None
        input_shape = (3, size, size) if channels_first else (size, size, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape}")
    channels = input_shape[0] if channels_first else input_shape[-1]
    spatial = input_shape[1:] if channels_first else input_shape[:2]
    if pretrained and channels != 3:
        raise ValueError(f"Pretrained weights need 3 input channels; got input_shape {input_shape}")
    for size in spatial:
        if size is not None and size < min_size:
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; got input_shape {input_shape}"
            )
    if require_flatten and None in spatial:
        raise ValueError(
            f"With include_top=True the input size must be known; got input_shape {input_shape}"
        )
    if input_tensor is None:
        tensor = Input(shape=input_shape)
        return tensor, tensor, input_shape
    if not isinstance(input_tensor, KerasTensor):
        raise TypeError(
            f"input_tensor must be a symbolic tensor (lamina.Input(...) or a layer's output); "
            f"got {type(input_tensor).__name__}"
        )
    return input_tensor, _source_inputs(input_tensor), input_shape


def _source_inputs(tensor: KerasTensor) -> Any:
    found: list[KerasTensor] = []
    pending = [tensor]
    while pending:
        current = pending.pop()
        if current.node is None or isinstance(current.node.layer, InputLayer):
            if all(current is not seen for seen in found):
                found.append(current)
        else:
            pending.extend(current.node.input_tensors)
    return found[0] if len(found) == 1 else found


def classifier_activation_layer(activation: Any, pretrained: bool) -> Activation:
    """The `predictions` layer; pretrained heads allow only softmax or None, as in Keras."""
    if pretrained and activation not in (None, "softmax"):
        raise ValueError(
            "With pretrained weights, classifier_activation must be 'softmax' or None; "
            f"got {activation!r}"
        )
    return Activation(activation or "linear", name="predictions")


def check_pooling(pooling: str | None, owner: str = "") -> None:
    """Refuse a `pooling=` other than None, 'avg' or 'max' (before building anything)."""
    if pooling not in (None, "avg", "max"):
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}pooling must be None, 'avg' or 'max'; got {pooling!r}")


def global_pooling(
    x: KerasTensor, pooling: str | None, names: tuple[str | None, str | None] = (None, None)
) -> KerasTensor:
    """Keras' `pooling=` argument of a headless model: None (`x`), 'avg' or 'max' (global
    pooling layers named `names[0]` / `names[1]`, automatic names for None)."""
    check_pooling(pooling)
    if pooling == "avg":
        return GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=names[1])(x)
    return x
