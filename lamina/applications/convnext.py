"""ConvNeXt Tiny, Small, Base, Large and XLarge (Liu et al. 2022, "A ConvNet for the 2020s")
with `keras.applications.ConvNeXt*`'s arguments, model names (`convnext_tiny`, ...), layer
names (`convnext_tiny_stem`, `convnext_tiny_stage_0_block_0_depthwise_conv`, ...,
`convnext_tiny_head_dense`), layer order and parameter counts.

As in Keras, the stem and the three downsampling steps are nested `Sequential` models
(`{name}_stem`, `{name}_downsampling_block_{i}`), the block's pointwise convolutions are
`Dense` layers on channels-last maps, and the input is normalized inside the model
(`include_preprocessing`): pixels in 0..255 go in.

Each block's residual is added with an op on symbolic tensors (`inputs + x`), as in Keras: in
`model.operations`, not in `model.layers`.

No ImageNet weights file is available in lamina: `weights=None` (the default here; Keras'
is "imagenet") or the path of a file written by `model.save_weights`. Without the top, Keras
ends with an automatically named LayerNormalization (`layer_normalization_3`, numbered per
session): save such a model as `.weights.h5` (weights found by position, as in Keras) rather
than `.safetensors` (found by layer name) to load it into a model built later.

>>> model = ConvNeXtTiny(include_top=False, input_shape=(32, 32, 3), pooling="avg")
>>> model.output_shape, model.count_params()
((None, 768), 27820128)
"""

from __future__ import annotations

from typing import Any

import torch

from .. import config, initializers, layers
from ..layers._symbolic import KerasTensor
from ..layers.layer import Layer
from ..models import Model, Sequential
from ..saving.registry import register_serializable
from . import imagenet_utils
from ._classic_helpers import WeightsArgument, _finish, _weights_path
from .imagenet_utils import check_pooling

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "LayerScale",
    "StochasticDepth",
    "decode_predictions",
    "preprocess_input",
]

# (blocks per stage, channels per stage), as the paper and Keras' MODEL_CONFIGS.
_CONFIGS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
_EPSILON = 1e-6
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@register_serializable(package="ConvNeXt")
class LayerScale(Layer):
    """Multiplies each channel by a learned scale (`gamma`, Touvron et al. 2021, "Going deeper
    with Image Transformers"), started at `init_values`: a residual branch starts near zero.

    Args:
        init_values: the scales' initial value (ConvNeXt: 1e-6).
        projection_dim: the number of channels (last axis).

    Input shape:
        (..., projection_dim).

    Output shape:
        Same as the input.

    >>> layer = LayerScale(0.5, 3)
    >>> layer(torch.ones(2, 3)).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """

    weight_names = ("gamma",)

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(projection_dim, int) or isinstance(projection_dim, bool):
            raise TypeError(
                f"LayerScale '{self.name}': projection_dim must be an int; got {projection_dim!r}"
            )
        if projection_dim < 1:
            raise ValueError(
                f"LayerScale '{self.name}': projection_dim must be positive; got {projection_dim}"
            )
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if input_shape is not None and input_shape[-1] not in (None, self.projection_dim):
            raise ValueError(
                f"LayerScale '{self.name}' has projection_dim={self.projection_dim}; got an "
                f"input with {input_shape[-1]} channels (shape {tuple(input_shape)})"
            )
        # Keras' weight has no name ('variable'); its attribute, and the state_dict key, is
        # `gamma`.
        self.add_weight(
            shape=(self.projection_dim,),
            initializer=initializers.Constant(self.init_values),
            name="variable",
            torch_name="gamma",
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.gamma

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


@register_serializable(package="ConvNeXt")
class StochasticDepth(Layer):
    """Drop path (Huang et al. 2016): in training, zeroes the whole input of a sample with
    probability `drop_path_rate` and scales the kept ones by 1 / (1 - rate); the identity in
    inference.

    Args:
        drop_path_rate: the probability of dropping a sample's path, in [0, 1).

    Input shape:
        (batch, ...).

    Output shape:
        Same as the input.

    >>> layer = StochasticDepth(0.5)
    >>> layer(torch.ones(2, 3)).tolist()   # inference: the identity
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, drop_path_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(
                f"StochasticDepth '{self.name}': drop_path_rate must be in [0, 1); got "
                f"{drop_path_rate!r}"
            )
        self.drop_path_rate = drop_path_rate
        self.built = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or not self.drop_path_rate:
            return inputs
        keep = 1.0 - self.drop_path_rate
        shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 1)
        mask = torch.floor(keep + torch.rand(shape, dtype=inputs.dtype, device=inputs.device))
        return inputs / keep * mask

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config


def _block(
    x: KerasTensor,
    projection_dim: int,
    drop_path_rate: float,
    layer_scale_init_value: float | None,
    name: str,
) -> KerasTensor:
    """7x7 depthwise (a grouped Conv2D, as Keras) -> LayerNormalization -> Dense 4x ->
    GELU -> Dense back -> LayerScale -> drop path (or a linear Activation) -> + input."""
    inputs = x
    x = layers.Conv2D(
        projection_dim, 7, padding="same", groups=projection_dim, name=f"{name}_depthwise_conv"
    )(x)
    x = layers.LayerNormalization(epsilon=_EPSILON, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        x = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    # Keras: `inputs + x`, an operation, not a layer of model.layers (see the module).
    return inputs + x  # an op on symbolic tensors, not a layer, as in Keras


def _downsampling(projection_dims: tuple[int, ...], name: str) -> list[Sequential]:
    """The stem (4x4 stride-4 patches, then LayerNormalization) and the three 2x2 stride-2
    downsamplings (LayerNormalization first), as nested Sequential models."""
    stem = Sequential(
        [
            layers.Conv2D(projection_dims[0], 4, strides=4, name=f"{name}_stem_conv"),
            layers.LayerNormalization(epsilon=_EPSILON, name=f"{name}_stem_layernorm"),
        ],
        name=f"{name}_stem",
    )
    steps = [stem]
    for i, dim in enumerate(projection_dims[1:]):
        norm = layers.LayerNormalization(
            epsilon=_EPSILON, name=f"{name}_downsampling_layernorm_{i}"
        )
        conv = layers.Conv2D(dim, 2, strides=2, name=f"{name}_downsampling_conv_{i}")
        steps.append(Sequential([norm, conv], name=f"{name}_downsampling_block_{i}"))
    return steps


def _convnext(
    architecture: str,
    size: str,
    include_top: bool,
    include_preprocessing: bool,
    weights: WeightsArgument,
    input_tensor: KerasTensor | None,
    input_shape: tuple[int | None, ...] | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
) -> Model:
    if config.image_data_format() == "channels_first":
        raise ValueError(
            f"{architecture} works on channels_last images only (its pointwise convolutions "
            "are Dense layers on the last axis), as in Keras; got image_data_format() == "
            "'channels_first'. Call lamina.config.set_image_data_format('channels_last')."
        )
    weights_path = _weights_path(weights, architecture)
    check_pooling(pooling, architecture)
    depths, projection_dims = _CONFIGS[size]
    x, inputs, input_shape = imagenet_utils.image_input(
        input_shape,
        input_tensor,
        default_size=224,
        min_size=32,
        require_flatten=include_top,
        pretrained=False,
    )
    if include_preprocessing and input_shape[-1] == 3:
        x = layers.Normalization(
            mean=[m * 255 for m in _IMAGENET_MEAN],
            variance=[(s * 255) ** 2 for s in _IMAGENET_STD],
            name=f"{name}_prestem_normalization",
        )(x)
    # Keras' published variants use no drop path (rate 0: a linear Activation in each block)
    # and LayerScale started at 1e-6.
    for stage, (downsampling, depth) in enumerate(
        zip(_downsampling(projection_dims, name), depths, strict=True)
    ):
        x = downsampling(x)
        for block in range(depth):
            x = _block(
                x, projection_dims[stage], 0.0, 1e-6, name=f"{name}_stage_{stage}_block_{block}"
            )

    if include_top:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=_EPSILON, name=f"{name}_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    else:
        # Keras normalizes the features of a headless model too, pooled or not, with an
        # automatically named layer.
        x = imagenet_utils.global_pooling(x, pooling)
        x = layers.LayerNormalization(epsilon=_EPSILON)(x)
    return _finish(inputs, x, name, weights_path)


_ARGS_DOC = """
    Args:
        include_top: end with `{name}_head_gap` (global average pooling),
            `{name}_head_layernorm` and the `classes`-way `{name}_head_dense`.
        include_preprocessing: start with `{name}_prestem_normalization`, which takes pixels
            in 0..255 (ImageNet mean and std); only with 3 input channels.
        weights: None (random initialisation) or the path of a file written by
            `model.save_weights`; "imagenet" raises (no lamina file yet).
        input_tensor: a `lamina.Input` tensor (or a layer's output) to use as the image input.
        input_shape: (height, width, channels), at least 32x32; default (224, 224, 3) with the
            top, (None, None, 3) without.
        pooling: without the top, None (4-D feature maps), "avg" or "max"; a
            LayerNormalization follows in every case, as in Keras.
        classes: size of the classifier.
        classifier_activation: activation of the head's Dense (None for logits).
        name: the model's name, also the prefix of every layer's name.

    Returns:
        A functional `Model`.
"""


def ConvNeXtTiny(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_tiny",
) -> Model:
    return _convnext(
        "ConvNeXtTiny", "tiny", include_top, include_preprocessing, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def ConvNeXtSmall(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_small",
) -> Model:
    return _convnext(
        "ConvNeXtSmall", "small", include_top, include_preprocessing, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def ConvNeXtBase(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_base",
) -> Model:
    return _convnext(
        "ConvNeXtBase", "base", include_top, include_preprocessing, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def ConvNeXtLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_large",
) -> Model:
    return _convnext(
        "ConvNeXtLarge", "large", include_top, include_preprocessing, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def ConvNeXtXLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_xlarge",
) -> Model:
    return _convnext(
        "ConvNeXtXLarge", "xlarge", include_top, include_preprocessing, weights, input_tensor,
        input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip


def _describe(size: str, params: str) -> str:
    depths, dims = _CONFIGS[size]
    return (
        f"ConvNeXt {size}: {depths} blocks of {dims} channels ({params} parameters with the "
        f"top).\n{_ARGS_DOC}"
    )


ConvNeXtTiny.__doc__ = _describe("tiny", "28,589,128")
ConvNeXtSmall.__doc__ = _describe("small", "50,223,688")
ConvNeXtBase.__doc__ = _describe("base", "88,591,464")
ConvNeXtLarge.__doc__ = _describe("large", "197,767,336")
ConvNeXtXLarge.__doc__ = _describe("xlarge", "350,196,968")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """The identity, as Keras': ConvNeXt models normalize their input inside.

    >>> preprocess_input([0.0, 255.0])
    [0.0, 255.0]
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` best ImageNet classes of each sample: `imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
