"""Dict inputs of the image layers ({'images', 'labels', 'segmentation_masks',
'bounding_boxes'}); expected values printed by Keras 3.15.1 (torch backend)."""

import numpy as np
import pytest
import torch

from lamina.layers import (
    AugMix,
    CenterCrop,
    CutMix,
    MixUp,
    Pipeline,
    RandAugment,
    RandomContrast,
    RandomCrop,
    RandomElasticTransform,
    RandomFlip,
    RandomPerspective,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Resizing,
)

IMAGES = np.random.default_rng(0).random((2, 8, 6, 3)).astype("float32")
LABELS = np.eye(3, dtype="float32")[[0, 1]]
BOXES = np.array([[[1, 1, 4, 4], [2, 2, 6, 7]], [[0, 0, 3, 3], [-1, 4, 9, 9]]], "float32")
BOX_LABELS = np.array([[1, 2], [3, 0]], "int32")


def _data(fmt="xyxy"):
    boxes = torch.tensor(BOXES)
    if fmt == "rel_xyxy":
        boxes = boxes / torch.tensor([6.0, 8.0, 6.0, 8.0])
    return {"images": IMAGES, "bounding_boxes": {"boxes": boxes, "labels": BOX_LABELS}}


def _mask():
    """A mask that is the images' first channel, quantized (to 0 and 1, which the elastic
    transform's value_range clip keeps): any geometric transform with 'nearest' interpolation
    keeps it equal to the transformed channel, quantized."""
    return np.floor(IMAGES[..., :1] * 2).astype("int32")


GEOMETRIC = [
    lambda: RandomFlip(seed=1),
    lambda: RandomRotation(0.2, interpolation="nearest", seed=1),
    lambda: RandomTranslation(0.3, 0.3, interpolation="nearest", seed=1),
    lambda: RandomZoom(0.4, interpolation="nearest", seed=1),
    lambda: RandomShear(0.3, 0.3, interpolation="nearest", seed=1),
    lambda: RandomCrop(4, 4, seed=1),
    lambda: RandomPerspective(factor=1.0, interpolation="nearest", seed=1),
    lambda: RandomElasticTransform(factor=1.0, interpolation="nearest", seed=1, value_range=(0, 1)),
    lambda: RandAugment(value_range=(0, 1), num_ops=3, factor=0.8, interpolation="nearest", seed=3),
]


@pytest.mark.parametrize("make", GEOMETRIC)
@pytest.mark.parametrize("batched", [True, False])
def test_masks_follow_the_images(make, batched):
    index = slice(None) if batched else 0
    data = {"images": IMAGES[index], "labels": LABELS[index], "segmentation_masks": _mask()[index]}
    layer = make()
    out = layer(data, training=True)
    assert sorted(out) == ["images", "labels", "segmentation_masks"]
    np.testing.assert_array_equal(np.asarray(out["labels"]), LABELS[index])
    images, masks = np.asarray(out["images"]), np.asarray(out["segmentation_masks"])
    assert masks.shape == images.shape[:-1] + (1,)
    if not isinstance(layer, RandAugment):  # its colour operations change the images
        np.testing.assert_array_equal(np.floor(images[..., :1] * 2), masks)
    # The same draws as a call on the images alone, from the same seed.
    alone = make()(IMAGES[index], training=True)
    np.testing.assert_allclose(images, np.asarray(alone), atol=1e-6)


def test_mask_dtypes_and_inference_as_keras():
    mask = _mask()
    # Keras 3.15.1: RandomFlip and the crops return float32 masks, the others the masks' dtype.
    for layer, dtype, shape in [
        (RandomFlip(seed=1), torch.float32, (2, 8, 6, 1)),
        (RandomRotation(0.1, seed=1), torch.int32, (2, 8, 6, 1)),
        (Resizing(4, 4), torch.int32, (2, 4, 4, 1)),
        (CenterCrop(4, 4), torch.float32, (2, 4, 4, 1)),
        (RandomContrast(0.2, seed=1), torch.int32, (2, 8, 6, 1)),
    ]:
        for training in (True, False):
            out = layer({"images": IMAGES, "segmentation_masks": mask}, training=training)
            masks = out["segmentation_masks"]
            assert (masks.dtype, tuple(masks.shape)) == (dtype, shape), layer
    colour = RandomContrast(0.5, seed=1)({"images": IMAGES, "segmentation_masks": mask})
    np.testing.assert_array_equal(np.asarray(colour["segmentation_masks"]), mask)


def test_resizing_and_center_crop_masks_values():
    mask = np.arange(2 * 8 * 6, dtype="float32").reshape(2, 8, 6, 1)
    out = Resizing(4, 3)({"images": IMAGES, "segmentation_masks": mask})
    expected = mask[:, 1::2, 1::2]  # Keras 3.15.1: [[7, 9, 11], [19, 21, 23], ...]
    np.testing.assert_array_equal(np.asarray(out["segmentation_masks"]), expected)
    out = CenterCrop(4, 4)({"images": IMAGES, "segmentation_masks": mask}, training=False)
    np.testing.assert_array_equal(np.asarray(out["segmentation_masks"]), mask[:, 2:6, 1:5])


def test_flip_boxes_follow_the_images():
    images = np.zeros((4, 8, 6, 1), "float32")
    images[:, 1:4, 2:5] = 1.0  # the box [2, 1, 5, 4] (xyxy)
    boxes = {"boxes": np.tile([[[2.0, 1.0, 5.0, 4.0]]], (4, 1, 1)), "labels": np.ones((4, 1))}
    layer = RandomFlip(seed=3, bounding_box_format="xyxy")
    out = layer({"images": images, "bounding_boxes": boxes}, training=True)
    for image, box in zip(
        np.asarray(out["images"]), np.asarray(out["bounding_boxes"]["boxes"]), strict=True
    ):
        x1, y1, x2, y2 = box[0].astype(int)
        assert image[y1:y2, x1:x2].sum() == image.sum() == 9


@pytest.mark.parametrize("layer", [RandomTranslation(0.4, 0.4, seed=2), RandomZoom(0.5, seed=2)])
def test_affine_boxes_follow_the_images(layer):
    layer.bounding_box_format = "xyxy"
    layer.interpolation, layer.fill_mode = "nearest", "constant"
    images = np.zeros((6, 12, 12, 1), "float32")
    images[:, 4:8, 4:8] = 1.0
    boxes = {"boxes": np.tile([[[4.0, 4.0, 8.0, 8.0]]], (6, 1, 1)), "labels": np.ones((6, 1))}
    out = layer({"images": images, "bounding_boxes": boxes}, training=True)
    for image, box in zip(
        np.asarray(out["images"]), np.asarray(out["bounding_boxes"]["boxes"]), strict=True
    ):
        rows, cols = np.nonzero(image[..., 0])
        if rows.size:  # the box around the moved square, to within a pixel
            np.testing.assert_allclose(
                box[0], [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], atol=1.01
            )


# Keras 3.15.1's boxes for _data() (8 x 6 images).
KERAS_BOXES = {
    "resize": (
        lambda f: Resizing(4, 4, bounding_box_format=f),
        [
            [[0.6667, 0.5, 2.6667, 2.0], [1.3333, 1.0, 4.0, 3.5]],
            [[0.0, 0.0, 2.0, 1.5], [0.0, 2.0, 4.0, 4.0]],
        ],
    ),
    "pad": (
        lambda f: Resizing(4, 4, pad_to_aspect_ratio=True, bounding_box_format=f),
        [
            [[0.5, 0.5, 2.0, 2.0], [1.0, 1.0, 3.0, 3.5]],
            [[0.0, 0.0, 1.5, 1.5], [0.0, 2.0, 4.0, 4.0]],
        ],
    ),
    "crop": (
        lambda f: Resizing(4, 4, crop_to_aspect_ratio=True, bounding_box_format=f),
        [
            [[0.6667, 0.6667, 2.6667, 2.6667], [1.3333, 1.3333, 4.0, 4.0]],
            [[0.0, 0.0, 2.0, 2.0], [0.0, 2.6667, 4.0, 4.0]],
        ],
    ),
    "center_crop": (
        lambda f: CenterCrop(4, 4, bounding_box_format=f),
        [
            [[0.0, 0.0, 3.0, 2.0], [1.0, 0.0, 4.0, 4.0]],
            [[0.0, 0.0, 2.0, 1.0], [0.0, 2.0, 4.0, 4.0]],
        ],
    ),
    "center_crop_up": (
        lambda f: CenterCrop(10, 10, bounding_box_format=f),
        [
            [[1.6667, 0.0, 6.6667, 5.0], [3.3333, 1.6667, 10.0, 10.0]],
            [[0.0, 0.0, 5.0, 3.3333], [0.0, 5.0, 10.0, 10.0]],
        ],
    ),
    "translation0": (
        lambda f: RandomTranslation(0.0, 0.0, bounding_box_format=f),
        [
            [[1.0, 1.0, 4.0, 4.0], [2.0, 2.0, 6.0, 7.0]],
            [[0.0, 0.0, 3.0, 3.0], [0.0, 4.0, 6.0, 8.0]],
        ],
    ),
    "zoom0": (
        lambda f: RandomZoom(0.0, bounding_box_format=f),
        [
            [[1.0, 1.0, 4.0, 4.0], [2.0, 2.0, 6.0, 7.0]],
            [[0.0, 0.0, 3.0, 3.0], [0.0, 4.0, 6.0, 8.0]],
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(KERAS_BOXES))
@pytest.mark.parametrize("fmt", ["xyxy", "rel_xyxy"])
def test_boxes_as_keras(case, fmt):
    make, expected = KERAS_BOXES[case]
    out = make(fmt)(_data(fmt), training=True)
    size = out["images"].shape[1:3]
    boxes = np.asarray(out["bounding_boxes"]["boxes"])
    if fmt == "rel_xyxy":
        boxes = boxes * np.array([size[1], size[0], size[1], size[0]])
    np.testing.assert_allclose(boxes, expected, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(out["bounding_boxes"]["labels"]), BOX_LABELS)


def test_boxes_unbatched_and_passed_through():
    data = {"images": IMAGES[0], "bounding_boxes": {"boxes": BOXES[0], "labels": BOX_LABELS[0]}}
    out = Resizing(4, 4, bounding_box_format="xyxy")(data)
    assert tuple(out["images"].shape) == (4, 4, 3)
    np.testing.assert_allclose(  # Keras 3.15.1
        np.asarray(out["bounding_boxes"]["boxes"]),
        [[0.6666667, 0.5, 2.6666667, 2.0], [1.3333334, 1.0, 4.0, 3.5]],
        rtol=1e-6,
    )
    # Colour layers, and geometric ones in inference, return the boxes as given.
    for layer, training in [
        (RandomContrast(0.2, bounding_box_format="xyxy"), True),
        (RandomTranslation(0.2, 0.2, bounding_box_format="xyxy"), False),
    ]:
        out = layer(_data(), training=training)
        np.testing.assert_array_equal(np.asarray(out["bounding_boxes"]["boxes"]), BOXES)


def test_bounding_box_format_config_as_keras():
    config = RandomFlip(bounding_box_format="xyxy").get_config()
    # Keras 3.15.1's keys
    assert list(config) == [
        "name",
        "trainable",
        "dtype",
        "data_format",
        "bounding_box_format",
        "seed",
        "mode",
    ]
    assert list(Resizing(4, 4, bounding_box_format="xyxy").get_config())[3:5] == [
        "data_format",
        "bounding_box_format",
    ]
    assert "bounding_box_format" not in RandomFlip().get_config()
    restored = RandomZoom.from_config(RandomZoom(0.1, bounding_box_format="yxyx").get_config())
    assert restored.bounding_box_format == "yxyx"


def test_errors_as_keras():
    with pytest.raises(KeyError, match="RandomFlip.*'images'"):
        RandomFlip()({"labels": LABELS})
    for layer in (RandomFlip(), Resizing(4, 4), RandomContrast(0.1), MixUp(), CenterCrop(4, 4)):
        with pytest.raises(ValueError, match="bounding_box_format"):
            layer(_data(), training=True)
    for layer in (
        RandomRotation(0.1, bounding_box_format="xyxy"),
        AugMix(bounding_box_format="xyxy"),
        CutMix(bounding_box_format="xyxy"),
    ):
        with pytest.raises(NotImplementedError, match=type(layer).__name__):
            layer(_data(), training=True)
    out = RandomFlip()({"images": IMAGES, "extra": np.ones(3)})  # other keys pass through
    assert sorted(out) == ["extra", "images"]


def test_mixing_layers_and_pipeline_masks():
    mask = _mask()
    out = CutMix(seed=1)({"images": IMAGES, "labels": LABELS, "segmentation_masks": mask})
    np.testing.assert_array_equal(
        np.floor(np.asarray(out["images"])[..., :1] * 2), np.asarray(out["segmentation_masks"])
    )
    out = MixUp(seed=1)({"images": IMAGES, "segmentation_masks": mask.astype("float32")})
    assert out["segmentation_masks"].dtype == torch.float32
    pipeline = Pipeline([RandomFlip(seed=1), RandomContrast(0.2, seed=1)])
    out = pipeline({"images": IMAGES, "labels": LABELS, "segmentation_masks": mask})
    assert sorted(out) == ["images", "labels", "segmentation_masks"]
    assert out["segmentation_masks"].dtype == torch.float32  # Keras 3.15.1 (RandomFlip casts)
