"""MaxNumBoundingBoxes: pads or truncates the boxes of each image to a fixed number.

>>> import torch
>>> layer = MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")
>>> data = {"images": torch.zeros(1, 8, 8, 3),
...         "bounding_boxes": {"boxes": torch.tensor([[[0.0, 0, 4, 4]]]),
...                            "labels": torch.tensor([[2]])}}
>>> layer(data)["bounding_boxes"]["labels"].tolist()
[[2, -1, -1]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._conv_utils import normalize_data_format
from .layer import Layer

__all__ = ["MaxNumBoundingBoxes"]


class MaxNumBoundingBoxes(Layer):
    """Makes every image have exactly `max_number` bounding boxes, as Keras' layer: extra
    boxes (and their labels) are dropped, missing ones are filled with `fill_value`.

    The input is a dict `{"images": ..., "bounding_boxes": {"boxes": (batch, num, 4),
    "labels": (batch, num)}}` (other keys pass through; one image with (num, 4) boxes works
    too), or a tensor of images, returned as it is.

    Args:
        max_number: the number of boxes per image in the output.
        fill_value: the value of the added boxes and labels (default -1).
        bounding_box_format: the boxes' format ('xyxy', ...); required for dict inputs, as in
            Keras (the boxes are not converted, so any format works the same).
        data_format: 'channels_last' (default) or 'channels_first'; the images are untouched.

    >>> import torch
    >>> MaxNumBoundingBoxes(2)(torch.zeros(1, 4, 4, 3)).shape
    torch.Size([1, 4, 4, 3])
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "data_format bounding_box_format max_number"

    def __init__(
        self,
        max_number: int,
        fill_value: int = -1,
        bounding_box_format: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or not isinstance(max_number, (int, np.integer)):
            raise ValueError(f"{self._describe()}: max_number must be an int; got {max_number!r}")
        if max_number < 1:
            raise ValueError(f"{self._describe()}: max_number must be >= 1; got {max_number}")
        if bounding_box_format is not None and not isinstance(bounding_box_format, str):
            raise TypeError(
                f"{self._describe()}: bounding_box_format must be a string such as 'xyxy'; got "
                f"{bounding_box_format!r}"
            )
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format
        self.data_format = normalize_data_format(data_format, self._describe())
        self.built = True

    def _fit(self, values: torch.Tensor) -> torch.Tensor:
        """Truncate or pad axis 1 (the boxes) to max_number."""
        values = values[:, : self.max_number]
        missing = self.max_number - values.shape[1]
        if missing > 0:
            pad = [0, 0] * (values.ndim - 2) + [0, missing]
            values = F.pad(values, pad, value=self.fill_value)
        return values

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not isinstance(inputs, dict):
            return inputs
        if "bounding_boxes" not in inputs:
            return dict(inputs)
        if not self.bounding_box_format:
            raise ValueError(
                "You passed an input with a 'bounding_boxes' key, but you didn't specify a "
                f"bounding box format. Pass a `bounding_box_format` argument to your "
                f"{self._describe()}, e.g. `bounding_box_format='xyxy'`."
            )
        boxes_in = inputs["bounding_boxes"]
        if not isinstance(boxes_in, dict) or not {"boxes", "labels"} <= set(boxes_in):
            raise ValueError(
                f"{self._describe()}: bounding_boxes must be a dict with 'boxes' (batch, num, "
                f"4) and 'labels' (batch, num); got {boxes_in!r}"
            )
        extra = set(boxes_in) - {"boxes", "labels"}
        if extra:
            raise KeyError(
                f"{self._describe()}: unsupported keys in bounding_boxes: {sorted(extra)}; "
                "only 'boxes' and 'labels' are supported"
            )
        boxes, labels = torch.as_tensor(boxes_in["boxes"]), torch.as_tensor(boxes_in["labels"])
        unbatched = boxes.ndim == 2
        if unbatched:
            boxes, labels = boxes[None], labels[None]
        if boxes.ndim != 3 or boxes.shape[-1] != 4 or labels.shape != boxes.shape[:2]:
            raise ValueError(
                f"{self._describe()} expects boxes (batch, num, 4) and labels (batch, num); got "
                f"{tuple(boxes.shape)} and {tuple(labels.shape)}"
            )
        boxes, labels = self._fit(boxes), self._fit(labels)
        if unbatched:
            boxes, labels = boxes[0], labels[0]
        outputs = dict(inputs)
        outputs["bounding_boxes"] = {**boxes_in, "boxes": boxes, "labels": labels}
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, dict) or "bounding_boxes" not in input_shape:
            return input_shape
        shapes = dict(input_shape)
        boxes = dict(shapes["bounding_boxes"])
        for key in ("boxes", "labels"):
            shape = list(boxes[key])
            shape[-2 if key == "boxes" else -1] = self.max_number
            boxes[key] = tuple(shape)
        shapes["bounding_boxes"] = boxes
        return shapes

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(max_number=self.max_number, data_format=self.data_format)
        if self.fill_value != -1:  # lamina's additions: in the config only when set
            config["fill_value"] = self.fill_value
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config
