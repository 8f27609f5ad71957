"""MaxNumBoundingBoxes: padding and truncation against Keras 3.15.1, shapes, errors, config.

The expected boxes are Keras 3.15.1's outputs (torch backend) of
/work/scratch/s18/layers2/gen4.py for the same inputs.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.max_num_bounding_boxes import MaxNumBoundingBoxes

BOXES = np.array([[[1, 2, 3, 4], [0, 0, 5, 5]], [[2, 2, 4, 4], [1, 1, 2, 2]]], "float32")
LABELS = np.array([[1, 2], [3, 4]], "float32")


def _data():
    return {
        "images": torch.zeros(2, 8, 8, 3),
        "bounding_boxes": {"boxes": torch.tensor(BOXES), "labels": torch.tensor(LABELS)},
    }


def test_pads_boxes_and_labels_with_fill_value_as_keras():
    output = MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")(_data())
    boxes = output["bounding_boxes"]["boxes"].tolist()
    assert boxes == [
        [[1, 2, 3, 4], [0, 0, 5, 5], [-1, -1, -1, -1]],
        [[2, 2, 4, 4], [1, 1, 2, 2], [-1, -1, -1, -1]],
    ]
    assert output["bounding_boxes"]["labels"].tolist() == [[1, 2, -1], [3, 4, -1]]
    assert tuple(output["images"].shape) == (2, 8, 8, 3)


def test_truncates_extra_boxes_as_keras():
    output = MaxNumBoundingBoxes(max_number=1, bounding_box_format="xyxy")(_data())
    assert output["bounding_boxes"]["boxes"].tolist() == [[[1, 2, 3, 4]], [[2, 2, 4, 4]]]
    assert output["bounding_boxes"]["labels"].tolist() == [[1], [3]]


def test_custom_fill_value_and_one_image():
    layer = MaxNumBoundingBoxes(max_number=2, fill_value=0, bounding_box_format="yxyx")
    boxes = {"boxes": torch.tensor([[1.0, 2, 3, 4]]), "labels": torch.tensor([7])}
    output = layer({"images": torch.zeros(8, 8, 3), "bounding_boxes": boxes})
    assert output["bounding_boxes"]["boxes"].tolist() == [[1, 2, 3, 4], [0, 0, 0, 0]]
    assert output["bounding_boxes"]["labels"].tolist() == [7, 0]


def test_images_alone_pass_through():
    images = torch.rand(2, 4, 4, 3)
    assert MaxNumBoundingBoxes(3)(images) is images


def test_symbolic_dict_shapes():
    layer = MaxNumBoundingBoxes(max_number=5, bounding_box_format="xyxy")
    data = {
        "images": lamina.Input((8, 8, 3)),
        "bounding_boxes": {"boxes": lamina.Input((2, 4)), "labels": lamina.Input((2,))},
    }
    output = layer(data)
    assert output["images"].shape == (None, 8, 8, 3)
    assert output["bounding_boxes"]["boxes"].shape == (None, 5, 4)
    assert output["bounding_boxes"]["labels"].shape == (None, 5)


def test_missing_format_and_bad_boxes_raise():
    with pytest.raises(ValueError, match="bounding_box_format='xyxy'"):
        MaxNumBoundingBoxes(max_number=1)(_data())
    layer = MaxNumBoundingBoxes(max_number=1, bounding_box_format="xyxy")
    with pytest.raises(ValueError, match="must be a dict with 'boxes'"):
        layer({"images": torch.zeros(2, 8, 8, 3), "bounding_boxes": {"boxes": torch.zeros(2, 3)}})
    bad = {"boxes": torch.zeros(2, 3, 5), "labels": torch.zeros(2, 3)}
    with pytest.raises(ValueError, match="expects boxes \\(batch, num, 4\\)"):
        layer({"images": torch.zeros(2, 8, 8, 3), "bounding_boxes": bad})
    with pytest.raises(ValueError, match="max_number must be >= 1"):
        MaxNumBoundingBoxes(max_number=0)


def test_config_round_trip_keeps_fill_value():
    layer = MaxNumBoundingBoxes(max_number=4, fill_value=-2, bounding_box_format="xyxy")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["max_number"] == 4 and config["fill_value"] == -2
    assert config["bounding_box_format"] == "xyxy"
    assert MaxNumBoundingBoxes.from_config(config).get_config() == config
