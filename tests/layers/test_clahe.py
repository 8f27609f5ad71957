"""ContrastLimitedAdaptiveHistogramEqualization against Keras 3.15.1, config, errors.

The reference arrays are Keras 3.15.1 outputs (torch backend) of
/work/scratch/s18/layers2/gen4.py and gen5.py on images from NumPy's default_rng(0),
rounded to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

from lamina.layers.clahe import ContrastLimitedAdaptiveHistogramEqualization as CLAHE

CLAHE_GRID_2X3 = np.array(
    [
        [
            [226.6667, 85.0, 70.83333, 28.33333, 99.16666, 221.5129, 170.1849],
            [255.0, 141.6667, 127.5, 85.0, 236.1111, 152.7633, 188.7163],
            [174.7222, 203.0556, 40.13889, 16.52778, 64.53703, 167.9204, 124.0477],
            [14.16667, 28.33333, 129.8611, 63.75, 231.3889, 123.9676, 224.5028],
            [103.8889, 250.2778, 219.5833, 186.5278, 250.2778, 148.6617, 230.2114],
            [85.0, 141.6667, 198.3333, 42.5, 122.7778, 165.4874, 64.17537],
        ],
        [
            [170.0, 113.3333, 193.6111, 56.66667, 47.22222, 171.3316, 18.19843],
            [56.66667, 85.0, 33.05556, 212.5, 23.61111, 146.4999, 133.6771],
            [226.0187, 249.7959, 148.9356, 199.6026, 119.9543, 255.0, 238.7468],
            [150.5062, 253.6159, 251.2548, 232.1968, 183.1384, 16.06317, 150.5866],
            [125.3696, 216.398, 94.62693, 119.8169, 51.85456, 22.72786, 247.7115],
            [66.54581, 158.7799, 24.06427, 222.0039, 96.55232, 120.9664, 65.06841],
        ],
    ]
)
CLAHE_CHANNELS_FIRST = np.array(
    [
        [
            [233.75, 127.5, 106.25, 33.05902, 58.62964, 201.1584, 159.5308],
            [255.0, 170.0, 148.75, 78.80988, 202.0308, 93.11675, 184.042],
            [194.7917, 216.0417, 63.75, 18.90533, 34.37632, 123.1171, 100.1222],
            [10.625, 21.25, 148.75, 67.80838, 205.0064, 101.6074, 221.5152],
            [123.9583, 251.4583, 226.6667, 182.1318, 240.5113, 141.0721, 227.553],
            [106.25, 148.75, 212.5, 48.9342, 133.8563, 154.4208, 37.47312],
        ],
        [
            [148.75, 106.25, 170.0, 53.06268, 40.2566, 177.5715, 24.26197],
            [63.75, 85.0, 21.25, 209.1868, 23.76344, 154.2494, 142.7468],
            [229.7217, 251.0974, 133.5408, 192.9419, 117.5254, 255.0, 233.8536],
            [134.1255, 253.9621, 253.9621, 228.1746, 186.4006, 21.35514, 164.1302],
            [115.2743, 183.5393, 74.50532, 104.5075, 39.82844, 23.4609, 247.3131],
            [49.90394, 140.3289, 21.58906, 211.6887, 96.04674, 124.6355, 83.11603],
        ],
    ]
)
CLAHE_UNIT_RANGE = np.array(
    [
        [
            [0.5],
            [0.8333333],
            [0.3333333],
            [0.5],
        ],
        [
            [0.3333333],
            [0.6666667],
            [0.6666667],
            [0.8333333],
        ],
        [
            [0.1388889],
            [0.9722223],
            [1.0],
            [0.7222222],
        ],
        [
            [0.25],
            [1.0],
            [0.6666667],
            [0.3333333],
        ],
        [
            [0.7777777],
            [0.4722222],
            [0.5694444],
            [0.8611111],
        ],
    ]
)


def _images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 6, 7, 2)).astype("float32")[..., :1]
    unit = rng.random(size=(5, 4, 1)).astype("float32")
    return torch.tensor(images), torch.tensor(unit)


def _close(output, expected):
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-5, atol=2e-5)


def test_clipped_tiles_with_padding_match_keras():
    images, _ = _images()  # 6 x 7 in 2 x 3 tiles of 3 x 3: two columns of padding
    output = CLAHE(tile_grid_size=(2, 3), clip_limit=40.0)(images)
    _close(output[..., 0], CLAHE_GRID_2X3)


def test_channels_first_matches_keras():
    images, _ = _images()
    layer = CLAHE(tile_grid_size=(2, 2), clip_limit=30.0, data_format="channels_first")
    _close(layer(images.permute(0, 3, 1, 2))[:, 0], CLAHE_CHANNELS_FIRST)


def test_unclipped_unit_range_single_image_matches_keras():
    _, unit = _images()
    output = CLAHE(value_range=(0, 1), tile_grid_size=(2, 2), clip_limit=0.0)(unit)
    _close(output, CLAHE_UNIT_RANGE)


def test_limit_below_one_count_leaves_the_image_as_it_is_as_keras():
    # 3 x 3 tiles: 2.0 * 9 / 256 rounds down to 0, so every level gets the same share.
    images, _ = _images()
    output = CLAHE(tile_grid_size=(2, 3), clip_limit=2.0)(images)
    _close(output, images.numpy())


def test_applied_in_inference_too():
    images, _ = _images()
    layer = CLAHE(tile_grid_size=(2, 3), clip_limit=40.0)
    torch.testing.assert_close(layer(images, training=False), layer(images, training=True))


# Keras 3.15.1 on the uint8 and int32 images of _images(), tile_grid_size=(2, 3),
# clip_limit=40: CLAHE_GRID_2X3 truncated, in the input's dtype.
KERAS_INT_GRID_2X3 = [
    [
        [226, 85, 70, 28, 99, 221, 170],
        [255, 141, 127, 85, 236, 152, 188],
        [174, 203, 40, 16, 64, 167, 124],
        [14, 28, 129, 63, 231, 123, 224],
        [103, 250, 219, 186, 250, 148, 230],
        [85, 141, 198, 42, 122, 165, 64],
    ],
    [
        [170, 113, 193, 56, 47, 171, 18],
        [56, 85, 33, 212, 23, 146, 133],
        [226, 249, 148, 199, 119, 255, 238],
        [150, 253, 251, 232, 183, 16, 150],
        [125, 216, 94, 119, 51, 22, 247],
        [66, 158, 24, 222, 96, 120, 65],
    ],
]


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32])
def test_integer_images_keep_their_dtype_as_keras(dtype):
    images, _ = _images()
    layer = CLAHE(tile_grid_size=(2, 3), clip_limit=40.0)
    for training in (True, False):
        output = layer(images.to(dtype), training=training)
        assert output.dtype == dtype
        assert output[..., 0].tolist() == KERAS_INT_GRID_2X3


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="tile_grid_size"):
        CLAHE(tile_grid_size=(0, 2))
    with pytest.raises(ValueError, match="clip_limit"):
        CLAHE(clip_limit="high")
    with pytest.raises(ValueError, match="value_range"):
        CLAHE(value_range=(0,))
    with pytest.raises(ValueError, match="expects 4-D input"):
        CLAHE()(torch.zeros(2, 3))


def test_config_round_trip():
    layer = CLAHE(value_range=(0, 1), clip_limit=3.0, tile_grid_size=(4, 2))
    config = json.loads(json.dumps(layer.get_config()))
    assert "seed" not in config
    assert (config["value_range"], config["clip_limit"], config["tile_grid_size"]) == (
        [0, 1],
        3.0,
        [4, 2],
    )
    assert CLAHE.from_config(config).get_config() == config
