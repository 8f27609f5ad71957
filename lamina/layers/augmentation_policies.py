"""Augmentation policies: Pipeline (layers in sequence), RandAugment and AugMix.

RandAugment and AugMix draw their operations from lamina's augmentation layers (shear,
translation, rotation, brightness, colour, contrast, sharpness, posterization, solarization,
auto-contrast, equalization) with one strength `factor`, as Keras. As Keras, the operations are
chosen once per batch (each image still gets its own strengths); the choice is drawn on the
CPU, so nothing waits for the device. Both act in training only and are the identity in
inference.

>>> import torch
>>> from lamina.layers.augmentation_color import RandomInvert
>>> pipeline = Pipeline([RandomInvert((1.0, 1.0)), RandomInvert((1.0, 1.0))])
>>> x = torch.rand(2, 4, 4, 3) * 255
>>> torch.allclose(pipeline(x, training=True), x, atol=1e-3)
True
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from . import augmentation, augmentation_color, augmentation_filters, augmentation_geometric
from ._image_utils import (
    INTERPOLATIONS,
    ImageLayer,
    as_config,
    check_choice,
    is_number,
    parse_factor,
    sample_beta,
    sample_gamma,
    uniform,
)
from ._naming import unique_name
from .augmentation_geometric import _AffineLayer
from .layer import Layer

__all__ = ["AugMix", "Pipeline", "RandAugment"]


def _serialize(layer: Layer) -> dict[str, Any]:
    from ..models.sequential import _serialize_layer

    entry = _serialize_layer(layer)
    if entry.get("registered_name") == type(layer).__name__:
        del entry["registered_name"]  # a lamina class, not a registered one
    return entry


def _deserialize(entry: Any) -> Layer:
    from ..models.sequential import _deserialize_layer

    modules = (
        augmentation,
        augmentation_color,
        augmentation_filters,
        augmentation_geometric,
        sys.modules[__name__],
    )
    own = {name: getattr(module, name) for module in modules for name in module.__all__}
    if isinstance(entry, dict) and "registered_name" not in entry:
        cls = own.get(str(entry.get("class_name")))
        if cls is not None and isinstance(entry.get("config"), dict):
            return cls.from_config(entry["config"])
    return _deserialize_layer(entry)


class Pipeline(Layer):
    """Applies layers one after the other, passing `training` on: an augmentation recipe as one
    layer (that can be placed in a model or used on the data).

    Args:
        layers: the layers, in order.
        name: the layer's name.

    Input shape:
        What the first layer takes.
    Output shape:
        What the last layer returns.

    >>> import torch
    >>> from lamina.layers.augmentation_color import RandomGrayscale
    >>> from lamina.layers.augmentation_filters import AutoContrast
    >>> pipeline = Pipeline([RandomGrayscale(1.0), AutoContrast()])
    >>> pipeline(torch.rand(2, 4, 4, 3) * 255, training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    def __init__(self, layers: list[Layer], name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(x, Layer) for x in layers):
            raise ValueError(
                f"{self._describe()}: layers must be a list of lamina layer instances; got "
                f"{layers!r}"
            )
        self._pipeline_layers = torch.nn.ModuleList(layers)

    @property
    def layers(self) -> list[Layer]:
        """The layers, in order."""
        return list(self._pipeline_layers)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        for layer in self._pipeline_layers:
            if layer._call_takes_training and training is not None:
                inputs = layer(inputs, training=training)
            else:
                inputs = layer(inputs)
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # Keras' config holds the layers and the name; other entries only when not default.
        if config.get("trainable") is True:
            del config["trainable"]
        if self.dtype_policy.name == "float32":
            del config["dtype"]
        config["layers"] = [_serialize(layer) for layer in self._pipeline_layers]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Pipeline:
        """Rebuild from `get_config()`'s output (each layer from its entry)."""
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                f"Pipeline config must have a 'layers' list of layer entries; got layers={layers!r}"
            )
        return cls(**{**config, "layers": [_deserialize(entry) for entry in layers]})


class _RandomShear(_AffineLayer):
    """Shears each image about its top-left corner, x_in = x + s_x y, y_in = y + s_y x, with
    s_x, s_y drawn from their ranges and a common random sign (Keras' RandomShear)."""

    def __init__(
        self,
        x_factor: tuple[float, float],
        y_factor: tuple[float, float],
        interpolation: str = "bilinear",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__("reflect", interpolation, seed, 0.0, None, **kwargs)
        self._x_range, self._y_range = x_factor, y_factor

    def matrices(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n = images.shape[0]
        sign = torch.where(uniform((n,), 0.0, 1.0, generator, images) > 0.5, -1.0, 1.0)
        shear_y = uniform((n,), *self._y_range, generator, images) * sign
        shear_x = uniform((n,), *self._x_range, generator, images) * sign
        one, zero = torch.ones_like(sign), torch.zeros_like(sign)
        return self._matrix([one, shear_x, zero, shear_y, one, zero])


def _operations(
    prefix: str, factor: tuple[float, float], value_range: Any, interpolation: str
) -> dict[str, ImageLayer]:
    """The policies' operations, by Keras' names, all of strength `factor`."""
    color = {"value_range": value_range}
    geometry = {"interpolation": interpolation}
    bits = max(1, int(8 * factor[1]))
    specs: dict[str, tuple[type[ImageLayer], tuple[Any, ...], dict[str, Any]]] = {
        "random_shear": (_RandomShear, (factor, factor), geometry),
        "random_translation": (
            augmentation_geometric.RandomTranslation,
            (factor, factor),
            geometry,
        ),
        "random_rotation": (augmentation_geometric.RandomRotation, (factor,), geometry),
        "random_brightness": (augmentation.RandomBrightness, (factor,), color),
        "random_color_degeneration": (augmentation_color.RandomColorDegeneration, (factor,), color),
        "random_contrast": (augmentation.RandomContrast, (factor,), color),
        "random_sharpness": (augmentation_filters.RandomSharpness, (factor,), color),
        "random_posterization": (augmentation_filters.RandomPosterization, (bits,), color),
        "solarization": (augmentation_filters.Solarization, (factor, factor), color),
        "auto_contrast": (augmentation_filters.AutoContrast, (), color),
        "equalization": (augmentation_filters.Equalization, (), color),
    }
    # Named after the policy, so that they take no default names from the user's layers.
    return {
        key: cls(*args, name=f"{prefix}_{key}", **kwargs)
        for key, (cls, args, kwargs) in specs.items()
    }


class _PolicyLayer(ImageLayer):
    """RandAugment and AugMix: a factor, a value range, an interpolation and the operations."""

    geometric = True  # masks follow the geometric operations; boxes are not supported

    def __init__(
        self,
        value_range: Any,
        factor: Any,
        interpolation: str,
        seed: int | None,
        data_format: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = self._describe()
        self.value_range = value_range
        self._values = augmentation._value_range(owner, value_range)
        self.factor = factor
        self._range = parse_factor(owner, "factor", factor, (0, 1))
        self.interpolation = check_choice(owner, "interpolation", interpolation, INTERPOLATIONS)
        # A plain dict: the operations are parts of this layer, not modules of their own.
        self._operations = _operations(self.name, self._range, value_range, interpolation)

    def _choices(self, count: int, choices: int, device: torch.device) -> list[int]:
        """`count` operation indices in [0, choices), drawn on the CPU (no device wait)."""
        generator = self._generator(torch.device("cpu")) if device.type != "meta" else None
        return torch.randint(0, choices, (count,), generator=generator).tolist()

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            value_range=as_config(self.value_range),
            factor=as_config(self._range),
            interpolation=self.interpolation,
        )
        return config


def _positive_int(owner: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}; got {name}={value!r}")
    return value


# The layers Keras' RandAugment and AugMix create, in its order: unless given a name (which
# Keras passes on to them), they take these default names from the user's next layers.
_RANDAUGMENT_KERAS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "solarization",
    "random_posterization",
    "auto_contrast",
    "equalization",
)
_AUGMIX_KERAS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "solarization",
    "random_posterization",
    "auto_contrast",
    "equalization",
)
_AUGMIX_KERAS_ALL = (
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
)


def _take_keras_names(bases: tuple[str, ...]) -> None:
    for base in bases:
        unique_name(base)


class RandAugment(_PolicyLayer):
    """RandAugment (Cubuk et al., 2019): `num_ops` operations in a row in training, each chosen
    uniformly among 11 (shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast, equalization), all of
    strength `factor`.

    Args:
        value_range: (low, high), the range of the pixel values.
        num_ops: the number of operations applied to each batch.
        factor: the strength, a number f in [0, 1] (drawn from [0, f] per image and
            operation) or a pair (lower, upper); it is each operation's factor, as Keras (so
            rotations reach f turns and posterization keeps 1 .. max(1, int(8 f)) bits).
        interpolation: 'bilinear' or 'nearest', for the geometric operations.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, 3), or one (height, width, 3) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> RandAugment(seed=0)(torch.rand(2, 8, 8, 3) * 255, training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format value_range num_ops factor interpolation seed"

    def __init__(
        self,
        value_range: tuple[float, float] = (0, 255),
        num_ops: int = 2,
        factor: float | tuple[float, float] = 0.5,
        interpolation: str = "bilinear",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_ops = _positive_int(self._describe(), "num_ops", num_ops, minimum=0)
        if kwargs.get("name") is None:
            _take_keras_names(_RANDAUGMENT_KERAS)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.augment_targets(images, None, None, generator)[0]

    def augment_targets(self, images: Any, masks: Any, boxes: Any, generator: Any) -> tuple:
        operations = list(self._operations.values())
        for index in self._choices(self.num_ops, len(operations), images.device):
            images, masks, _ = operations[index].augment_targets(images, masks, None, generator)
        return images, masks, boxes

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["num_ops"] = self.num_ops
        return config


# AugMix without all_ops leaves out the operations that overlap ImageNet-C's corruptions.
_AUGMIX_BASIC = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
)


class AugMix(_PolicyLayer):
    """AugMix (Hendrycks et al., 2020) in training: `num_chains` chains of up to `chain_depth`
    random operations each; the chains are mixed with Dirichlet(alpha) weights, and the mix
    with the image with a Beta(alpha, alpha) weight; clipped to `value_range`.

    As Keras, the weights and each chain's steps (one of the operations or nothing, uniformly)
    are drawn once per batch; the operations draw their own factors per image.

    Args:
        value_range: (low, high), the range of the pixel values.
        num_chains: the number of chains.
        chain_depth: the largest number of operations in a chain.
        factor: the operations' strength, as RandAugment's.
        alpha: the Dirichlet and Beta concentration (> 0).
        all_ops: use all 11 operations; False leaves out brightness, colour degeneration,
            contrast and sharpness.
        interpolation: 'bilinear' or 'nearest', for the geometric operations.
        seed: makes the draws reproducible.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, 3), or one (height, width, 3) image.
    Output shape:
        Same as the input.

    >>> import torch
    >>> AugMix(seed=0)(torch.rand(2, 8, 8, 3) * 255, training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = (
        "data_format value_range num_chains chain_depth factor alpha all_ops interpolation seed"
    )

    def __init__(
        self,
        value_range: tuple[float, float] = (0, 255),
        num_chains: int = 3,
        chain_depth: int = 3,
        factor: float | tuple[float, float] = 0.3,
        alpha: float = 1.0,
        all_ops: bool = True,
        interpolation: str = "bilinear",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        owner = self._describe()
        self.num_chains = _positive_int(owner, "num_chains", num_chains)
        self.chain_depth = _positive_int(owner, "chain_depth", chain_depth)
        if not is_number(alpha) or alpha <= 0:
            raise ValueError(f"{owner}: alpha must be a number > 0; got alpha={alpha!r}")
        self.alpha = alpha
        if not isinstance(all_ops, bool):
            raise TypeError(f"{owner}: all_ops must be True or False; got all_ops={all_ops!r}")
        self.all_ops = all_ops
        if kwargs.get("name") is None:
            _take_keras_names(_AUGMIX_KERAS + (_AUGMIX_KERAS_ALL if all_ops else ()))
        if not all_ops:
            self._operations = {key: self._operations[key] for key in _AUGMIX_BASIC}

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.augment_targets(images, None, None, generator)[0]

    def augment_targets(self, images: Any, masks: Any, boxes: Any, generator: Any) -> tuple:
        n, device = images.shape[0], images.device
        operations = list(self._operations.values())
        # As Keras: one set of chain weights and one own weight for the whole batch.
        concentration = torch.full((1, self.num_chains), float(self.alpha), device=device)
        gammas = sample_gamma(concentration, generator)
        chain_weights = (gammas / gammas.sum(1, keepdim=True).clamp_min(1e-30)).to(images.dtype)
        chain_weights = chain_weights.expand(n, -1)
        own_weight = sample_beta(self.alpha, 1, generator, device).to(images.dtype).expand(n)
        steps = self._choices(self.num_chains * self.chain_depth, len(operations) + 1, device)
        mixed = torch.zeros_like(images)
        mixed_masks = None if masks is None else torch.zeros_like(masks)
        for chain in range(self.num_chains):
            chained, chained_masks = images, masks
            for index in steps[chain * self.chain_depth : (chain + 1) * self.chain_depth]:
                if index < len(operations):  # the last choice: no operation at this step
                    chained, chained_masks, _ = operations[index].augment_targets(
                        chained, chained_masks, None, generator
                    )
            mixed = mixed + chained * chain_weights[:, chain].view(n, 1, 1, 1)
            if masks is not None:
                mixed_masks = mixed_masks + chained_masks * chain_weights[:, chain].view(n, 1, 1, 1)
        weight = own_weight.view(n, 1, 1, 1)
        if masks is not None:  # as Keras: mixed as the images, not clipped
            masks = weight * masks + (1.0 - weight) * mixed_masks
        return (weight * images + (1.0 - weight) * mixed).clamp(*self._values), masks, boxes

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            num_chains=self.num_chains,
            chain_depth=self.chain_depth,
            alpha=self.alpha,
            all_ops=self.all_ops,
        )
        return config
