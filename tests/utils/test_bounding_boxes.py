"""keras.utils.bounding_boxes in lamina: every function against Keras 3.15.1's numbers.

The literals in KERAS were recorded from Keras (torch backend) on the inputs built below; lamina
reproduced every one of them exactly, dtypes included.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina.utils import bounding_boxes as bb

FORMATS = [
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
]
# Boxes for the format tables: fractions for relative formats, times 97 for absolute ones, in
# an image of height 37 and width 53. The second box has x2 < x1 (a negative width).
ODD = np.array([[0.13, 0.27, 0.61, 0.93], [0.5, 0.25, 0.125, 0.75]], "float32")
IOU_1 = np.array([[0, 0, 10, 10], [5, 5, 15, 20], [-1, -1, -1, -1]], "float32")
IOU_2 = np.array([[0, 0, 10, 10], [2, 3, 12, 8], [20, 20, 30, 30], [-1, -1, -1, -1]], "float32")
CIOU_1 = np.array([[0, 0, 10, 10], [5, 5, 15, 20], [1, 2, 3, 9]], "float32")
CIOU_2 = np.array([[0, 0, 10, 10], [2, 3, 12, 8], [20, 20, 30, 30]], "float32")
BOXES_3D = np.array(
    [[[10, 20, 30, 40], [0, 0, 50, 60]], [[5, 5, 25, 15], [40, 30, 60, 50]]], "float32"
)
INT_BOXES = np.array([[10, 20, 50, 60], [70, 80, 100, 120]])
ANCHORS = np.array([[0, 0, 10, 10], [10, 20, 40, 50], [5, 5, 8, 30]], "float32")
TARGETS = np.array([[1, 2, 12, 9], [0, 15, 45, 60], [6, 4, 9, 25]], "float32")
DELTAS = np.array([[0.1, -0.2, 0.3, -0.1], [0.0, 0.5, -0.4, 0.2], [1.0, 0.2, 0.0, 0.1]], "float32")
VARIANCE = [0.1, 0.1, 0.2, 0.2]

KERAS = {
    "xyxy->xyxy": [[12.61, 26.19, 59.170002, 90.21], [48.5, 24.25, 12.125, 72.75]],
    "xyxy->yxyx": [[26.19, 12.61, 90.21, 59.170002], [24.25, 48.5, 72.75, 12.125]],
    "xyxy->xywh": [[12.61, 26.19, 46.56, 64.02], [48.5, 24.25, -36.375, 48.5]],
    "xyxy->center_xywh": [[35.89, 58.199997, 46.56, 64.02], [30.3125, 48.5, -36.375, 48.5]],
    "xyxy->center_yxhw": [[58.199997, 35.89, 64.02, 46.56], [48.5, 30.3125, 48.5, -36.375]],
    "xyxy->rel_xyxy": [
        [0.23792452, 0.7078379, 1.1164151, 2.438108],
        [0.9150943, 0.6554054, 0.22877358, 1.9662162],
    ],
    "xyxy->rel_yxyx": [
        [0.7078379, 0.23792452, 2.438108, 1.1164151],
        [0.6554054, 0.9150943, 1.9662162, 0.22877358],
    ],
    "xyxy->rel_xywh": [
        [0.23792452, 0.7078379, 0.87849057, 1.7302701],
        [0.9150943, 0.6554054, -0.6863208, 1.3108108],
    ],
    "xyxy->rel_center_xywh": [
        [0.6771698, 1.5729729, 0.87849057, 1.7302701],
        [0.571934, 1.3108108, -0.6863208, 1.3108108],
    ],
    "yxyx->xyxy": [[26.19, 12.61, 90.21, 59.170002], [24.25, 48.5, 72.75, 12.125]],
    "xywh->xyxy": [[12.61, 26.19, 71.78, 116.4], [48.5, 24.25, 60.625, 97]],
    "center_xywh->xyxy": [
        [-16.975002, -18.914999, 42.195, 71.295],
        [42.4375, -12.125, 54.5625, 60.625],
    ],
    "center_yxhw->xyxy": [
        [-18.914999, -16.975002, 71.295, 42.195],
        [-12.125, 42.4375, 60.625, 54.5625],
    ],
    "rel_xyxy->xyxy": [[6.89, 9.990001, 32.33, 34.41], [26.5, 9.25, 6.625, 27.75]],
    "rel_yxyx->xyxy": [[14.31, 4.81, 49.29, 22.57], [13.25, 18.5, 39.75, 4.625]],
    "rel_xywh->xyxy": [[6.89, 9.990001, 39.22, 44.4], [26.5, 9.25, 33.125, 37]],
    "rel_center_xywh->xyxy": [
        [-9.275001, -7.2149997, 23.055, 27.195],
        [23.1875, -4.625, 29.8125, 23.125],
    ],
    "rel_xywh->rel_center_xywh": [[0.435, 0.735, 0.61, 0.93000007], [0.5625, 0.625, 0.125, 0.75]],
    "center_yxhw->rel_xywh": [
        [-0.35688677, -0.45878384, 1.7020755, 1.5991893],
        [-0.22877358, 1.1469594, 1.3726416, 0.3277027],
    ],
    "clip_int": {
        "boxes": [[0, 0, 120, 100], [50, 40, 70, 80], [120, 10, 120, 20]],
        "labels": [0, 1, -1],
    },  # int64,int64
    "clip_rel": {
        "boxes": [[[0, 0.2, 0.4, 1], [1, 0.1, 1, 0.3]]],
        "labels": [[4, -1]],
    },  # float32,int64
    "clip_float": {
        "boxes": [[[0, 2.25, 30, 8], [5, 5, 5, 8]]],
        "labels": [[1, -1]],
    },  # float32,int64
    "iou": [[1, 0.36363637, 0, 0], [0.11111111, 0.11731844, 0, 0], [0, 0, 0, 0]],
    "iou_mask": [[1, 0.36363637, 0, -7], [0.11111111, 0.11731844, 0, -7], [-7, -7, -7, -7]],
    "iou_b_b": [
        [[1, 0.36363637, 0], [0.11111111, 0.11731844, 0], [-1, -1, -1]],
        [[0.42857143, 0, -1], [0.06382979, 0, -1], [0, 0, -1]],
    ],
    "iou_b_u": [
        [[1, 0.3802817, 0, 0], [0.23076923, 0.26923078, 0.06666667, 0], [0, 0, 0, 0]],
        [[0.25, 0.24, 0.019607844, 0], [0.083333336, 0.08, 0.3125, 0], [0, 0, 0, 0]],
    ],
    "iou_rel": [[1, 0.36363637, 0, 0], [0.11111111, 0.11731844, 0, 0], [0, 0, 0, 0]],
    "ciou": [1, -0.021347463, -0.56937486],
    "ciou_xywh": [[1, 0.051175684, -0.4041129]],
    "affine": [
        [[5.760113, 20.508848, 44.32553, 53.293457], [-21.355042, -12.275763, 82.89096, 80.078064]],
        [[15.034103, -4.953336, 32.00467, 11.522317], [15.034103, 28.492882, 37.661522, 51.1203]],
    ],
    "affine_center": [
        [
            [0.69897175, 17.57529, 25.193869, 42.070187],
            [-14.136667, -6.9196053, 49.688766, 63.976894],
        ],
        [[-20.149998, 4.3499994, 9.850002, 19.349998], [32.350002, 41.85, 62.350002, 71.85]],
    ],
    "crop": [[0, 10, 30, 40], [30, 40, 30, 40]],  # int64
    "crop_f": [[[7, 13, 27, 30], [0, 0, 45, 30]], [[2, 0, 22, 8], [37, 23, 45, 30]]],
    "pad": [[13, 25, 53, 65], [73, 85, 103, 125]],  # int64
    "pad_f": [
        [[11, 22.5, 31, 42.5], [1, 2.5, 51, 62.5]],
        [[6, 7.5, 26, 17.5], [41, 32.5, 61, 52.5]],
    ],
    "enc": [
        [0.05, 0.15, -0.35667497, 0.095310204],
        [0.083333336, -0.083333336, 0.40546513, 0.40546513],
        [-0.12, 0.33333334, -0.17435342, 0],
    ],
    "enc_var": [
        [
            [2, 1.5, 0.911608, -0.52680266],
            [-0.8333334, 3.3333335, 2.0273256, 3.465736],
            [13.333334, -0.39999998, 5.4930615, 0],
        ],
        [
            [3.5, 3, 1.311821, 0],
            [-0.33333334, 3.8333333, 2.13722, 3.5483823],
            [18.333334, 0.19999999, 6.019864, 0.19610338],
        ],
    ],
    "enc_rel": [
        [0.05, 0.15, -0.35667497, 0.095310204],
        [0.083333336, -0.083333336, 0.40546513, 0.40546513],
        [-0.12, 0.33333334, -0.17435342, 0],
    ],
    "dec": [
        [-1.5241871, -0.7492943, 7.524187, 12.749294],
        [21.678959, 24.9452, 58.32104, 45.054802],
        [5.4422436, 30, 8.757756, 55],
    ],
    "dec_var": [
        [[5.1, 4.8, 10.618366, 9.801987], [25, 36.5, 27.69349, 31.224325], [6.8, 18, 3, 25.505033]],
        [
            [4.9, 5.2, 9.417645, 10.202013],
            [25, 33.5, 32.498615, 28.823683],
            [6.2, 17, 3, 24.504967],
        ],
    ],
    "dec_dict": {
        "P3": [
            [-0.011707723, -0.019052338, 0.19920772, 0.09405234],
            [0.38976875, 0.27098697, 0.7039813, 0.729013],
            [0.46875, 0.06802805, 0.859375, 0.109471954],
        ],
        "P4": [
            [-0.0096616, -0.018903684, 0.3534116, 0.21890369],
            [0.70996994, 0.3980609, 1.47753, 1.2269391],
            [0.546875, 0.13057734, 1.328125, 0.20942268],
        ],
    },  # float32,float32
}


def odd_boxes(fmt: str) -> np.ndarray:
    return ODD if fmt.startswith("rel_") else ODD * 97


def check(actual, expected, dtype=torch.float32, atol=1e-6):
    assert isinstance(actual, torch.Tensor)
    assert actual.dtype == dtype
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=dtype), rtol=1e-6, atol=atol)


@pytest.mark.parametrize("target", FORMATS)
def test_convert_format_from_xyxy_gives_keras_numbers(target):
    result = bb.convert_format(ODD * 97, "xyxy", target, height=37, width=53)
    check(result, KERAS[f"xyxy->{target}"])


@pytest.mark.parametrize("source", FORMATS[1:])
def test_convert_format_to_xyxy_gives_keras_numbers(source):
    result = bb.convert_format(odd_boxes(source), source, "xyxy", height=37, width=53)
    check(result, KERAS[f"{source}->xyxy"])


@pytest.mark.parametrize(
    ("source", "target"), [("rel_xywh", "rel_center_xywh"), ("center_yxhw", "rel_xywh")]
)
def test_convert_format_between_other_formats_gives_keras_numbers(source, target):
    result = bb.convert_format(odd_boxes(source), source, target, height=37, width=53)
    check(result, KERAS[f"{source}->{target}"])


@pytest.mark.parametrize("source", FORMATS)
@pytest.mark.parametrize("target", FORMATS)
def test_convert_format_round_trips_between_every_pair(source, target):
    boxes = torch.tensor(odd_boxes(source))
    there = bb.convert_format(boxes, source, target, height=37, width=53)
    back = bb.convert_format(there, target, source, height=37, width=53)
    torch.testing.assert_close(back, boxes, rtol=1e-5, atol=1e-4)


def test_convert_format_is_case_insensitive_and_takes_a_dtype():
    upper = bb.convert_format(ODD, "XYXY", "Center_XYWH")
    check(upper, bb.convert_format(ODD, "xyxy", "center_xywh").tolist())
    wide = bb.convert_format(ODD, "xyxy", "xywh", dtype="float64")
    odd = ODD.astype("float64")  # cast first, then converted: float64 arithmetic
    check(
        wide, np.concatenate([odd[:, :2], odd[:, 2:] - odd[:, :2]], -1).tolist(), torch.float64, 0
    )


def test_convert_format_updates_and_returns_a_keras_dict():
    labels = np.array([[1, 2]])
    data = {"boxes": ODD[None] * 97, "labels": labels}
    result = bb.convert_format(data, "xyxy", "rel_yxyx", height=37, width=53)
    assert result is data  # Keras converts the dict's boxes in place
    check(result["boxes"], [KERAS["xyxy->rel_yxyx"]])
    assert result["labels"] is labels


def test_convert_format_keeps_the_batch_shape_and_device():
    boxes = torch.tensor(BOXES_3D)
    result = bb.convert_format(boxes, "xyxy", "xywh")
    assert result.shape == (2, 2, 4) and result.device == boxes.device
    check(result[1, 1], [40.0, 30.0, 20.0, 20.0])


def test_convert_format_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown target 'xyz'.*supported formats"):
        bb.convert_format(ODD, "xyxy", "xyz")
    with pytest.raises(ValueError, match="needs `height` and `width`.*rel_xyxy"):
        bb.convert_format(ODD, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match=r"4 coordinates on the last axis.*\(2, 3\)"):
        bb.convert_format(np.zeros((2, 3)), "xyxy", "yxyx")


def test_clip_to_image_size_gives_keras_numbers_and_drops_empty_boxes():
    boxes = {
        "boxes": np.array([[-10, -20, 150, 160], [50, 40, 70, 80], [130, 10, 140, 20]]),
        "labels": np.array([0, 1, 2]),
    }
    result = bb.clip_to_image_size(boxes, height=100, width=120)
    check(result["boxes"], KERAS["clip_int"]["boxes"], torch.int64, 0)
    check(result["labels"], KERAS["clip_int"]["labels"], torch.int64, 0)
    floats = {
        "boxes": np.array([[[-3.5, 2.25, 40.75, 9.0], [5.0, 5.0, 5.0, 9.0]]], "float32"),
        "labels": np.array([[1, 2]]),
        "extra": "kept",
    }
    result = bb.clip_to_image_size(floats, height=8, width=30)
    check(result["boxes"], KERAS["clip_float"]["boxes"])
    check(result["labels"], KERAS["clip_float"]["labels"], torch.int64, 0)
    assert result["extra"] == "kept" and floats["boxes"][0, 0, 0] == -3.5  # input untouched


def test_clip_to_image_size_clips_relative_boxes_to_the_unit_square():
    boxes = {
        "boxes": np.array([[[-0.5, 0.2, 0.4, 1.5], [1.2, 0.1, 1.4, 0.3]]], "float32"),
        "labels": np.array([[4, 5]]),
    }
    result = bb.clip_to_image_size(boxes, bounding_box_format="rel_xyxy")
    check(result["boxes"], KERAS["clip_rel"]["boxes"])
    check(result["labels"], KERAS["clip_rel"]["labels"], torch.int64, 0)


def test_clip_to_image_size_refuses_other_formats_and_missing_sizes():
    with pytest.raises(NotImplementedError, match="'xyxy', 'rel_xyxy'.*'yxyx'"):
        bb.clip_to_image_size({"boxes": ODD}, 10, 10, bounding_box_format="yxyx")
    with pytest.raises(ValueError, match="needs `height` and `width`"):
        bb.clip_to_image_size({"boxes": ODD}, height=10)


def test_compute_iou_gives_keras_numbers_unbatched_and_masked():
    check(bb.compute_iou(IOU_1, IOU_2, "xyxy"), KERAS["iou"])
    masked = bb.compute_iou(IOU_1, IOU_2, "xyxy", use_masking=True, mask_val=-7)
    check(masked, KERAS["iou_mask"])


def test_compute_iou_gives_keras_numbers_batched():
    both = bb.compute_iou(
        np.stack([IOU_1, IOU_1 + 1]), np.stack([IOU_2[:3], IOU_2[1:]]), "yxyx", use_masking=True
    )
    check(both, KERAS["iou_b_b"])
    one_batched = bb.compute_iou(np.stack([IOU_1, IOU_1 * 2]), IOU_2, "center_xywh")
    check(one_batched, KERAS["iou_b_u"])


def test_compute_iou_of_relative_boxes_needs_the_image_shape():
    check(
        bb.compute_iou(IOU_1 / 40, IOU_2 / 40, "rel_xyxy", image_shape=(40, 60, 3)),
        KERAS["iou_rel"],
    )
    with pytest.raises(ValueError, match="needs `image_shape`"):
        bb.compute_iou(IOU_1, IOU_2, "rel_xyxy")
    with pytest.raises(
        ValueError, match=r"boxes1 of shape \(N, 4\) or \(batch, N, 4\); got shape \(4,\)"
    ):
        bb.compute_iou(IOU_1[0], IOU_2, "xyxy")


def test_compute_iou_agrees_with_torchvision_formula():
    rng = np.random.default_rng(1)
    corners = rng.uniform(0, 50, (2, 6, 2, 2)).astype("float32")
    boxes = np.concatenate([corners.min(axis=2), corners.max(axis=2)], axis=-1)
    b1, b2 = boxes[0], boxes[1]
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    low = np.maximum(b1[:, None, :2], b2[None, :, :2])
    high = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
    inter = np.clip(high - low, 0, None).prod(-1)
    expected = inter / (area(b1)[:, None] + area(b2)[None] - inter)
    torch.testing.assert_close(
        bb.compute_iou(b1, b2, "xyxy"), torch.tensor(expected), rtol=1e-5, atol=1e-6
    )


def test_compute_ciou_gives_keras_numbers():
    check(bb.compute_ciou(CIOU_1, CIOU_2, "xyxy"), KERAS["ciou"])
    check(bb.compute_ciou(CIOU_1[None], CIOU_2[None], "xywh"), KERAS["ciou_xywh"])


def test_affine_transform_gives_keras_numbers():
    t = torch.tensor
    result = bb.affine_transform(
        BOXES_3D,
        t([30.0, -45.0]),
        t([0.1, -0.2]),
        t([0.0, 0.15]),
        t([1.2, 0.8]),
        t([10.0, 0.0]),
        t([0.0, -5.0]),
        64,
        80,
    )
    check(result, KERAS["affine"], atol=1e-4)
    centred = bb.affine_transform(
        BOXES_3D,
        t([15.0, 0.0]),
        t([0.0, 0.0]),
        t([0.0, 0.0]),
        t([1.0, 1.5]),
        t([0.0, 0.0]),
        t([0.0, 0.0]),
        64,
        80,
        center_x=t([0.2, 0.7]),
        center_y=t([0.9, 0.1]),
    )
    check(centred, KERAS["affine_center"], atol=1e-4)


def test_affine_transform_takes_numbers_and_one_image_of_boxes():
    unbatched = bb.affine_transform(BOXES_3D[1], -45.0, -0.2, 0.15, 0.8, 0.0, -5.0, 64, 80)
    check(unbatched, KERAS["affine"][1], atol=1e-4)
    with pytest.raises(ValueError, match=r"one value per image \(2\).*\(3,\)"):
        bb.affine_transform(BOXES_3D, [1.0, 2.0, 3.0], 0, 0, 1, 0, 0, 64, 80)
    with pytest.raises(NotImplementedError, match="'xyxy'"):
        bb.affine_transform(BOXES_3D, 0, 0, 0, 1, 0, 0, 64, 80, bounding_box_format="yxyx")


def test_crop_and_pad_give_keras_numbers():
    check(bb.crop(INT_BOXES, top=10, left=20, height=40, width=30), KERAS["crop"], torch.int64, 0)
    check(bb.crop(BOXES_3D, 7, 3, 30, 45), KERAS["crop_f"])
    check(bb.pad(INT_BOXES, 5, 3), KERAS["pad"], torch.int64, 0)
    check(bb.pad(BOXES_3D, 2.5, 1), KERAS["pad_f"])


def test_encode_box_to_deltas_gives_keras_numbers():
    check(bb.encode_box_to_deltas(ANCHORS, TARGETS, "xyxy", "xyxy"), KERAS["enc"])
    batched = bb.encode_box_to_deltas(
        ANCHORS,
        np.stack([TARGETS, TARGETS + 1]),
        "xyxy",
        "xywh",
        encoding_format="center_xywh",
        variance=VARIANCE,
    )
    check(batched, KERAS["enc_var"], atol=1e-5)
    relative = bb.encode_box_to_deltas(
        ANCHORS, TARGETS / 64, "xyxy", "rel_xyxy", image_shape=(64, 64, 3)
    )
    check(relative, KERAS["enc_rel"])


def test_decode_deltas_to_boxes_gives_keras_numbers():
    check(bb.decode_deltas_to_boxes(ANCHORS, DELTAS, "xyxy", "xyxy"), KERAS["dec"])
    batched = bb.decode_deltas_to_boxes(
        ANCHORS,
        np.stack([DELTAS, -DELTAS]),
        "xyxy",
        "center_xywh",
        encoded_format="center_xywh",
        variance=VARIANCE,
    )
    check(batched, KERAS["dec_var"], atol=1e-5)
    levels = bb.decode_deltas_to_boxes(
        {"P3": ANCHORS, "P4": ANCHORS * 2},
        {"P3": DELTAS, "P4": DELTAS / 2},
        "xyxy",
        "rel_yxyx",
        image_shape=(64, 80, 3),
    )
    assert sorted(levels) == ["P3", "P4"]
    for level in levels:
        check(levels[level], KERAS["dec_dict"][level])


def test_decode_inverts_encode():
    deltas = bb.encode_box_to_deltas(ANCHORS, TARGETS, "xyxy", "xyxy", variance=VARIANCE)
    boxes = bb.decode_deltas_to_boxes(ANCHORS, deltas, "xyxy", "xyxy", variance=VARIANCE)
    torch.testing.assert_close(boxes, torch.tensor(TARGETS), rtol=1e-5, atol=1e-4)


def test_delta_errors_name_the_argument():
    with pytest.raises(ValueError, match="`variance` must be length 4"):
        bb.encode_box_to_deltas(ANCHORS, TARGETS, "xyxy", "xyxy", variance=[1.0, 2.0])
    with pytest.raises(ValueError, match="`encoding_format` should be one of"):
        bb.encode_box_to_deltas(ANCHORS, TARGETS, "xyxy", "xyxy", encoding_format="xyxy")
    with pytest.raises(ValueError, match="`encoded_format` should be one of"):
        bb.decode_deltas_to_boxes(ANCHORS, DELTAS, "xyxy", "xyxy", encoded_format="xywh")
    with pytest.raises(ValueError, match=r"no deltas for anchor levels \['P4'\]"):
        bb.decode_deltas_to_boxes({"P3": ANCHORS, "P4": ANCHORS}, {"P3": DELTAS}, "xyxy", "xyxy")


def test_keras_public_names_are_all_there():
    names = [
        "affine_transform",
        "clip_to_image_size",
        "compute_ciou",
        "compute_iou",
        "convert_format",
        "crop",
        "decode_deltas_to_boxes",
        "encode_box_to_deltas",
        "pad",
    ]
    assert sorted(bb.__all__) == names
    assert all(callable(getattr(bb, name)) for name in names)
