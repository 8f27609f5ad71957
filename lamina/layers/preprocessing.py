"""Preprocessing layers: Rescaling, Normalization, Resizing, CenterCrop (the same in training
and inference, so they can sit at the start of a model and travel with it when it is saved).

>>> import torch
>>> Rescaling(1 / 255)(torch.full((1, 2, 2, 3), 255.0)).max().item()
1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config as lamina_config
from ._image_dicts import call_on_dict, center_crop_boxes, resizing_boxes
from ._image_utils import (
    ImageLayer,
    aspect_crop_box,
    aspect_pad,
    check_choice,
    check_size,
    resize,
    smart_resize,
)
from .layer import Layer, Shape

__all__ = ["CenterCrop", "Normalization", "Rescaling", "Resizing"]

_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


def _json(value: Any) -> Any:
    """A number, nested lists or None: the JSON form of a scale/mean argument."""
    if value is None or isinstance(value, (int, float)):
        return value
    return np.asarray(value).tolist()


class Rescaling(Layer):
    """Multiplies the inputs by `scale` and adds `offset`: `x * scale + offset`.

    Args:
        scale: a number, or one number per channel.
        offset: a number, or one number per channel.

    Input and output shape: any, the same; integer inputs are cast to the layer's float dtype.

    >>> import torch
    >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([[0.0, 127.5, 255.0]])).tolist()
    [[-1.0, 0.0, 1.0]]
    """

    _float_outputs = True  # int inputs give floats (its symbolic dtype too)

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            try:
                np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"Rescaling '{self.name}': {name} must be a number or a list of numbers; "
                    f"got {name}={value!r}"
                ) from None
        self._operands: dict[tuple[Any, ...], Any] = {}  # see _operand
        self.scale = scale
        self.offset = offset

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("scale", "offset"):  # the operands made from them are stale
            self.__dict__["_operands"] = {}
        super().__setattr__(name, value)

    def _operand(self, name: str, ndim: int, device: torch.device) -> Any:
        """`value` in the compute dtype: a Python float for a single number (rounded to that
        dtype, as Keras casts it), else a tensor on `device`, made once per device, dtype and
        rank. A tensor made from host data on each call would cost a host-to-device copy,
        which on a GPU waits for the stream, at every step."""
        dtype = torch.get_default_dtype() if self._compute_dtype is None else self._compute_dtype
        channels_first = lamina_config.image_data_format() == "channels_first"
        key = (name, device, dtype, ndim, channels_first)
        cached = self._operands.get(key)
        if cached is not None:
            return cached
        value = np.asarray(getattr(self, name), dtype=np.float64)
        tensor = torch.as_tensor(value, dtype=dtype)
        if tensor.ndim == 0:
            operand: Any = tensor.item()  # an int or bool for an integer or bool policy
        else:
            if channels_first and ndim >= 3:
                # Per-channel values go on the channel axis, which comes right after the batch.
                tensor = tensor.reshape(*tensor.shape, *([1] * (ndim - 2)))
            operand = tensor.to(device)
        self._operands[key] = operand
        return operand

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.to(self._compute_dtype)
        scale = self._operand("scale", x.ndim, x.device)
        offset = self._operand("offset", x.ndim, x.device)
        return x * scale + offset

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(scale=_json(self.scale), offset=_json(self.offset))
        return config


class Normalization(Layer):
    """Shifts and scales the inputs to mean 0 and variance 1 per feature:
    `(x - mean) / max(sqrt(variance), epsilon)`, with `epsilon = lamina.config.epsilon()`.

    Give `mean` and `variance`, or call `adapt(data)` before training, which measures them over
    every axis except `axis`.

    Args:
        axis: the axis or axes that keep their own mean and variance (default -1, the features
            or channels); None gives one mean and variance for everything.
        mean: the mean to subtract, broadcast to the kept axes; set with `variance`.
        variance: the variance to divide by (its square root), broadcast like `mean`.
        invert: True applies the inverse, `mean + x * max(sqrt(variance), epsilon)`, to turn
            normalised values back into data.

    Input shape:
        Any, with known sizes on the kept axes.
    Output shape:
        Same as the input.

    >>> import numpy as np
    >>> layer = Normalization()
    >>> layer.adapt(np.array([[1.0], [2.0], [3.0]]))
    >>> layer(np.array([[1.0], [2.0], [3.0]], dtype="float32")).flatten().tolist()
    [-1.224744..., 0.0, 1.224744...]
    """

    weight_names = ("mean", "variance", "count")
    supports_masking = True  # a mask passes through (Keras)

    def __init__(
        self,
        axis: int | Sequence[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axes: tuple[int, ...] = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axes = (axis,)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
            axes = tuple(axis)
        else:
            raise TypeError(
                f"Normalization '{self.name}': axis must be an int, a list of ints or None; "
                f"got axis={axis!r}"
            )
        if (mean is None) != (variance is None):
            raise ValueError(
                f"Normalization '{self.name}': give both mean and variance, or neither (and "
                f"call adapt()); got mean={mean!r}, variance={variance!r}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    f"Normalization '{self.name}': mean and variance must have the same shape; "
                    f"got {np.shape(mean)} and {np.shape(variance)}"
                )
            if np.ndim(mean) > len(axes):
                raise ValueError(
                    f"Normalization '{self.name}': mean of shape {np.shape(mean)} has more "
                    f"dimensions than the {len(axes)} kept axes axis={axis!r}"
                )
        self.axis = axes  # a tuple, as Keras standardizes it (None: ())
        self._axes = axes
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)

    def build(self, input_shape: Shape) -> None:
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self._axes):
            raise ValueError(
                f"Normalization '{self.name}': axis={self.axis!r} is out of range for inputs "
                f"of shape {tuple(input_shape)}"
            )
        keep = tuple(sorted(a % ndim for a in self._axes))
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(
                    f"Normalization '{self.name}': the kept axis {a} must have a known size; "
                    f"got input shape {tuple(input_shape)}"
                )
        self._keep = keep
        self._reduce = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        self._input_axes = {a: input_shape[a] for a in keep}
        stats_shape = tuple(input_shape[a] for a in keep)
        if self.input_mean is None:
            # Keras' attribute names; the weights are named "mean" and "variance" (Keras').
            self.add_weight(
                "mean", stats_shape, initializer="zeros", trainable=False, torch_name="adapt_mean"
            )
            self.add_weight(
                "variance", stats_shape, "ones", trainable=False, torch_name="adapt_variance"
            )
            # Keras' int32 count, which its adapt() leaves at 0.
            self.add_weight(
                shape=(), initializer="zeros", dtype="int32", trainable=False, name="count"
            )
            return
        # Given statistics align with the kept axes from the right, then broadcast (as Keras).
        for name, value in (
            ("_given_mean", self.input_mean),
            ("_given_variance", self.input_variance),
        ):
            tensor = torch.as_tensor(np.asarray(value), dtype=self._compute_dtype)
            expanded = [1] * ndim
            for i in range(1, tensor.ndim + 1):
                expanded[keep[-i]] = tensor.shape[-i]
            try:
                tensor = tensor.reshape(expanded).expand(self._broadcast_shape).clone()
            except RuntimeError:
                raise ValueError(
                    f"Normalization '{self.name}': {name[7:]} of shape {tuple(np.shape(value))} "
                    f"does not broadcast to the kept axes of inputs {tuple(input_shape)}"
                ) from None
            self.register_buffer(name, tensor, persistent=False)

    @property
    def mean(self) -> torch.Tensor | None:
        """The mean in the inputs' broadcast shape and the compute dtype, as Keras' attribute:
        (1, 4) for (batch, 4) inputs (the weight "mean", `adapt_mean`, has shape (4,)); None
        before the layer is built.

        >>> layer = Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
        >>> layer.build((None, 2))
        >>> tuple(layer.mean.shape)
        (1, 2)
        """
        return self._statistics()[0] if self.built else None

    @property
    def variance(self) -> torch.Tensor | None:
        """The variance, as `mean`."""
        return self._statistics()[1] if self.built else None

    def _statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.built:
            raise AttributeError(
                f"Normalization '{self.name}' has no mean and variance before it is built"
            )
        if self.input_mean is not None:
            return self._given_mean, self._given_variance
        dtype = self._compute_dtype
        return (
            self.adapt_mean.reshape(self._broadcast_shape).to(dtype),
            self.adapt_variance.reshape(self._broadcast_shape).to(dtype),
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.to(self._compute_dtype)
        mean, variance = self._statistics()
        scale = torch.sqrt(variance).clamp_min(lamina_config.epsilon())
        return mean + x * scale if self.invert else (x - mean) / scale

    def adapt(self, data: Any) -> None:
        """Measure the mean and variance of `data` over every axis but `axis`.

        Args:
            data: a NumPy array, a torch tensor, or an iterable of batches (arrays or tensors,
                or (x, y) tuples whose x is used), e.g. a list of arrays or a DataLoader.
                Batches are combined exactly (Chan's parallel update, in float64).
        """
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization '{self.name}' was given mean and variance; adapt() cannot "
                "replace them. Create the layer without them to adapt it."
            )
        if isinstance(data, (np.ndarray, torch.Tensor)):
            batches: Iterable[Any] = [data]
        elif isinstance(data, Iterable) and not isinstance(data, (str, bytes, dict)):
            batches = data
        else:
            raise TypeError(
                f"Normalization '{self.name}'.adapt() expects a NumPy array, a torch tensor or "
                f"an iterable of batches; got {type(data).__name__}"
            )
        count = 0
        total_mean = total_var = None  # `count` the number of values each mean is taken over
        for batch in batches:
            if isinstance(batch, (tuple, list)) and not isinstance(data, list):
                batch = batch[0]
            x = torch.as_tensor(np.asarray(batch) if not torch.is_tensor(batch) else batch)
            x = x.detach().to("cpu", torch.float64)
            if not self.built:  # with the batch size too, as Keras (axis=0 may be kept)
                self.build(tuple(x.shape))
            self._check_input(x)
            if x.ndim != len(self._broadcast_shape):
                raise ValueError(
                    f"Normalization '{self.name}' was built for {len(self._broadcast_shape)}-D "
                    f"inputs; adapt() got a batch of shape {tuple(x.shape)}"
                )
            if self._reduce:
                batch_count = math.prod(x.shape[d] for d in self._reduce)
                batch_mean = x.mean(dim=self._reduce)
                batch_var = x.var(dim=self._reduce, correction=0)
            else:
                batch_count, batch_mean, batch_var = 1, x, torch.zeros_like(x)
            if total_mean is None:
                count, total_mean, total_var = batch_count, batch_mean, batch_var
                continue
            new_count = count + batch_count
            delta = batch_mean - total_mean
            total_mean = total_mean + delta * (batch_count / new_count)
            total_var = (
                total_var * count
                + batch_var * batch_count
                + delta**2 * count * batch_count / new_count
            ) / new_count
            count = new_count
        if total_mean is None:
            raise ValueError(f"Normalization '{self.name}'.adapt() got no batches")
        with torch.no_grad():
            self.adapt_mean.copy_(total_mean.reshape(self.adapt_mean.shape))
            self.adapt_variance.copy_(total_var.reshape(self.adapt_variance.shape))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            axis=tuple(self.axis),  # Keras' order and types
            invert=self.invert,
            mean=_json(self.input_mean),
            variance=_json(self.input_variance),
        )
        return config


class Resizing(ImageLayer):
    """Resizes images to (height, width) with `F.interpolate`, as Keras' PyTorch backend.

    Args:
        height: the output height.
        width: the output width.
        interpolation: 'bilinear', 'nearest' or 'bicubic'.
        crop_to_aspect_ratio: True first crops the largest centred window of the target's
            aspect ratio, so nothing is stretched.
        pad_to_aspect_ratio: True first pads the short side evenly with `fill_value` instead.
        fill_mode: how padding is filled; only 'constant' (Keras has no other).
        fill_value: the padding value.
        antialias: low-pass filter when downsampling ('bilinear', 'bicubic'); False (default)
            matches Keras' PyTorch backend (its TensorFlow and JAX kernels differ slightly).
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        (batch, height, width, channels) at the new size; integer images keep their dtype
        (values rounded).

    >>> import torch
    >>> Resizing(2, 2)(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    identity_in_inference = False
    geometric = transforms_boxes = True
    _augments_in_call = False

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        owner = self._describe()
        self.height = check_size(owner, "height", height)
        self.width = check_size(owner, "width", width)
        self.interpolation = check_choice(
            owner, "interpolation", interpolation, _RESIZE_INTERPOLATIONS
        )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{owner}: set only one of crop_to_aspect_ratio, pad_to_aspect_ratio")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = check_choice(owner, "fill_mode", fill_mode, ("constant",))
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if isinstance(inputs, dict):
            return call_on_dict(self, inputs, training)
        dtype = inputs.dtype
        images, unbatched = self._to_nchw(inputs)
        if not dtype.is_floating_point:
            images = images.to(dtype)  # resize() rounds and casts integer images back
        return self._from_nchw(self.inference(images), unbatched)

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        if self.crop_to_aspect_ratio:
            top, left, crop_height, crop_width = aspect_crop_box(
                height, width, self.height, self.width
            )
            images = images[..., top : top + crop_height, left : left + crop_width]
        elif self.pad_to_aspect_ratio:
            top, left = aspect_pad(height, width, self.height, self.width)
            if top or left:
                images = F.pad(images, (left, left, top, top), value=self.fill_value)
        return resize(images, self.height, self.width, self.interpolation, self.antialias)

    def inference_boxes(self, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return resizing_boxes(self, boxes, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["seed"]
        config.update(
            height=self.height,
            width=self.width,
            interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            antialias=self.antialias,
        )
        return config


class CenterCrop(ImageLayer):
    """Crops the centre (height, width) window of each image.

    An image smaller than the window on either side is centre-cropped to the window's aspect
    ratio and resized bilinearly to (height, width) instead, as Keras.

    Args:
        height: the output height.
        width: the output width.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape:
        (batch, height, width, channels), or one (height, width, channels) image.
    Output shape:
        (batch, height, width, channels) at the window's size, in the layer's float dtype.

    >>> import torch
    >>> CenterCrop(2, 2)(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    identity_in_inference = False
    geometric = transforms_boxes = masks_to_compute_dtype = True

    def __init__(
        self, height: int, width: int, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height = check_size(self._describe(), "height", height)
        self.width = check_size(self._describe(), "width", width)

    def inference(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        if height < self.height or width < self.width:
            return smart_resize(images, self.height, self.width)
        top, left = (height - self.height) // 2, (width - self.width) // 2
        return images[..., top : top + self.height, left : left + self.width]

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return self.inference(images)

    def inference_boxes(self, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return center_crop_boxes(self, boxes, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["seed"]
        config.update(height=self.height, width=self.width)
        return config
