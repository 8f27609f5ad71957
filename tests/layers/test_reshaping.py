"""Flatten, Reshape, Permute, RepeatVector, ZeroPadding/Cropping/UpSampling 1D/2D/3D."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from lamina.layers.core import Input
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


CASES = [
    (Flatten, {}, (2, 3, 4, 5), (2, 60)),
    (Flatten, {}, (2,), (2, 1)),
    (Flatten, {"data_format": "channels_first"}, (2, 3, 4, 5), (2, 60)),
    (Reshape, {"target_shape": [6, 2]}, (3, 4, 3), (3, 6, 2)),
    (Reshape, {"target_shape": [-1, 3]}, (3, 4, 3), (3, 4, 3)),
    (Reshape, {"target_shape": [12]}, (3, 2, 2, 3), (3, 12)),
    (Permute, {"dims": [2, 1]}, (2, 3, 4), (2, 4, 3)),
    (Permute, {"dims": [3, 1, 2]}, (2, 3, 4, 5), (2, 5, 3, 4)),
    (RepeatVector, {"n": 3}, (2, 4), (2, 3, 4)),
    (ZeroPadding1D, {}, (2, 5, 3), (2, 7, 3)),
    (ZeroPadding1D, {"padding": [2, 0]}, (2, 5, 3), (2, 7, 3)),
    (ZeroPadding2D, {"padding": 2}, (2, 4, 4, 3), (2, 8, 8, 3)),
    (ZeroPadding2D, {"padding": [1, 2]}, (2, 4, 4, 3), (2, 6, 8, 3)),
    (ZeroPadding2D, {"padding": [[1, 0], [0, 3]]}, (2, 4, 4, 3), (2, 5, 7, 3)),
    (ZeroPadding2D, {"padding": 1, "data_format": "channels_first"}, (2, 3, 4, 4), (2, 3, 6, 6)),
    (ZeroPadding3D, {}, (1, 2, 3, 4, 2), (1, 4, 5, 6, 2)),
    (Cropping1D, {}, (2, 5, 3), (2, 3, 3)),
    (Cropping1D, {"cropping": [0, 2]}, (2, 5, 3), (2, 3, 3)),
    (Cropping2D, {}, (2, 4, 4, 3), (2, 4, 4, 3)),
    (Cropping2D, {"cropping": 1}, (2, 4, 5, 3), (2, 2, 3, 3)),
    (Cropping2D, {"cropping": [[1, 0], [0, 2]]}, (2, 4, 5, 3), (2, 3, 3, 3)),
    (Cropping2D, {"cropping": [1, 2], "data_format": "channels_first"}, (2, 3, 4, 5), (2, 3, 2, 1)),
    (Cropping3D, {}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
    (UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3)),
    (UpSampling2D, {}, (2, 3, 4, 3), (2, 6, 8, 3)),
    (UpSampling2D, {"size": [2, 3], "interpolation": "bilinear"}, (2, 3, 4, 3), (2, 6, 12, 3)),
    (UpSampling2D, {"interpolation": "bicubic", "data_format": "channels_first"}, (1, 2, 3, 3),
     (1, 2, 6, 6)),
    (UpSampling3D, {"size": [1, 2, 3]}, (1, 2, 2, 2, 3), (1, 2, 4, 6, 3)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "output_shape"),
    CASES,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)],
)
def test_reshaping_layer_contract(cls, kwargs, input_shape, output_shape):
    check_layer(
        cls,
        kwargs,
        input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        (Flatten(), (None, None, 3), (None, None)),
        (Flatten(), (None, 4, 3), (None, 12)),
        (Reshape((-1, 2)), (None, None, 4), (None, None, 2)),
        (Reshape((-1, 2)), (None, 3, 4), (None, 6, 2)),
        (Permute((2, 1)), (None, None, 5), (None, 5, None)),
        (ZeroPadding2D(((1, 2), (3, 4))), (None, None, 10, 3), (None, None, 17, 3)),
        (Cropping2D(((1, 2), (3, 4))), (None, None, 10, 3), (None, None, 3, 3)),
        (UpSampling2D((2, 3)), (None, 5, None, 3), (None, 10, None, 3)),
        (UpSampling2D(2, data_format="channels_first"), (None, 3, 5, None), (None, 3, 10, None)),
    ],
)
def test_inferred_shapes_keep_unknown_sizes_unknown(layer, input_shape, expected):
    assert layer(Input(input_shape[1:])).shape == expected


# ---------------------------------------------------------------- values


def test_flatten_channels_last_is_a_plain_reshape():
    x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(Flatten()(torch.from_numpy(x)), x.reshape(2, -1))


def test_flatten_channels_first_matches_keras_order():
    # Keras 3.15: Flatten(data_format="channels_first") moves the channels last first.
    x = torch.arange(24.0).reshape(1, 2, 3, 4)
    expected = [
        0,
        12,
        1,
        13,
        2,
        14,
        3,
        15,
        4,
        16,
        5,
        17,
        6,
        18,
        7,
        19,
        8,
        20,
        9,
        21,
        10,
        22,
        11,
        23,
    ]
    assert Flatten(data_format="channels_first")(x).flatten().tolist() == expected


def test_reshape_and_permute_match_numpy():
    x = np.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(Reshape((4, -1))(torch.from_numpy(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(Permute((2, 1))(torch.from_numpy(x)), x.transpose(0, 2, 1))


def test_repeat_vector_repeats_along_a_new_axis():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = RepeatVector(3)(x)
    assert torch.equal(y, x[:, None, :].expand(2, 3, 2))


def test_zero_padding2d_matches_numpy():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2)).astype("float32")
    y = ZeroPadding2D(((1, 2), (0, 3)))(torch.from_numpy(x))
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))))
    y = ZeroPadding2D((1, 2), data_format="channels_first")(torch.from_numpy(x))
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))))


def test_zero_padding_1d_and_3d_match_numpy():
    x = np.ones((1, 2, 3), "float32")
    np.testing.assert_array_equal(
        ZeroPadding1D((2, 1))(torch.from_numpy(x)), np.pad(x, ((0, 0), (2, 1), (0, 0)))
    )
    x = np.ones((1, 2, 2, 2, 1), "float32")
    np.testing.assert_array_equal(
        ZeroPadding3D((1, 0, 2))(torch.from_numpy(x)),
        np.pad(x, ((0, 0), (1, 1), (0, 0), (2, 2), (0, 0))),
    )


def test_cropping2d_matches_numpy():
    x = np.random.default_rng(1).normal(size=(2, 6, 7, 3)).astype("float32")
    y = Cropping2D(((1, 2), (3, 0)))(torch.from_numpy(x))
    np.testing.assert_array_equal(y, x[:, 1:4, 3:, :])
    y = Cropping2D(1, data_format="channels_first")(torch.from_numpy(x))
    np.testing.assert_array_equal(y, x[:, :, 1:-1, 1:-1])


def test_cropping_1d_and_3d_match_numpy():
    x = np.arange(2 * 6 * 2, dtype="float32").reshape(2, 6, 2)
    np.testing.assert_array_equal(Cropping1D((2, 1))(torch.from_numpy(x)), x[:, 2:5, :])
    x = np.arange(4 * 5 * 6, dtype="float32").reshape(1, 4, 5, 6, 1)
    np.testing.assert_array_equal(
        Cropping3D(((1, 0), (0, 2), (1, 1)))(torch.from_numpy(x)), x[:, 1:, :3, 1:5, :]
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling2d_nearest_repeats_exactly(data_format):
    # Sizes where a float source index could round the wrong way (7 * 3 = 21).
    x = np.random.default_rng(2).normal(size=(2, 7, 5, 3)).astype("float32")
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    expected = np.repeat(np.repeat(x, 3, axis=axes[0]), 2, axis=axes[1])
    y = UpSampling2D((3, 2), data_format=data_format)(torch.from_numpy(x))
    np.testing.assert_array_equal(y, expected)


def test_upsampling_1d_and_3d_repeat():
    x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    np.testing.assert_array_equal(UpSampling1D(2)(torch.from_numpy(x)), np.repeat(x, 2, axis=1))
    x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)
    expected = np.repeat(np.repeat(np.repeat(x, 2, axis=1), 3, axis=2), 1, axis=3)
    np.testing.assert_array_equal(UpSampling3D((2, 3, 1))(torch.from_numpy(x)), expected)


def test_upsampling2d_bilinear_matches_keras():
    # Keras 3.15 (torch backend): UpSampling2D(size=(2, 3), interpolation="bilinear") on
    # arange(24).reshape(2, 3, 2, 2) ** 1.5; output[1, :, :, 1]. Half-pixel sampling, as
    # F.interpolate(align_corners=False).
    x = torch.arange(24.0).reshape(2, 3, 2, 2) ** 1.5
    expected = [
        [46.872166, 46.872166, 50.61303, 54.35389, 58.09475, 58.09475],
        [52.677322, 52.677322, 56.543495, 60.40966, 64.27583, 64.27583],
        [64.287636, 64.287636, 68.40443, 72.52121, 76.63799, 76.63799],
        [76.62812, 76.62812, 80.98219, 85.33626, 89.69034, 89.69034],
        [89.69877, 89.69877, 94.2768, 98.85483, 103.43286, 103.43286],
        [96.23409, 96.23409, 100.9241, 105.61411, 110.30412, 110.30412],
    ]
    y = UpSampling2D((2, 3), interpolation="bilinear")(x)
    assert tuple(y.shape) == (2, 6, 6, 2)
    np.testing.assert_allclose(y[1, :, :, 1], expected, rtol=1e-6)


def test_config_keys_match_keras():
    assert UpSampling2D().get_config()["size"] == (2, 2)  # a tuple, as Keras 3.15.1 keeps it
    assert UpSampling2D().get_config()["interpolation"] == "nearest"
    assert UpSampling1D().get_config()["size"] == 2
    assert ZeroPadding1D().get_config()["padding"] == (1, 1)
    assert ZeroPadding2D().get_config()["padding"] == ((1, 1), (1, 1))
    assert Cropping2D().get_config()["cropping"] == ((0, 0), (0, 0))
    assert Cropping3D().get_config()["cropping"] == ((1, 1), (1, 1), (1, 1))
    assert "data_format" not in Cropping1D().get_config()
    assert Reshape((2, 3)).get_config()["target_shape"] == (2, 3)
    assert Permute((2, 1)).get_config()["dims"] == (2, 1)
    assert Flatten().get_config()["data_format"] == "channels_last"


# ---------------------------------------------------------------- errors


def test_reshape_incompatible_size_names_layer_input_and_target():
    layer = Reshape((5, 2), name="rs")
    with pytest.raises(
        ValueError, match=r"Reshape 'rs' cannot reshape inputs of shape \(batch, 3, 4\) .*\(5, 2\)"
    ):
        layer(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"Reshape 'rs' cannot reshape"):
        layer(Input((3, 4)))
    with pytest.raises(ValueError, match=r"Reshape 'rs2' cannot reshape .*\(-1, 5\)"):
        Reshape((-1, 5), name="rs2")(torch.zeros(2, 3, 4))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Reshape((-1, -1)), "at most one -1"),
        (lambda: Reshape((0, 2)), "positive ints"),
        (lambda: Permute((1, 3)), r"dims must be a permutation of 1\.\.n"),
        (lambda: RepeatVector(0), "n must be a positive int"),
        (lambda: ZeroPadding2D((1, 2, 3)), r"padding must be an int, a tuple of 2 ints"),
        (lambda: ZeroPadding1D(-1), r"padding must be an int or a tuple of 2 ints"),
        (lambda: Cropping2D(((1, 2), (3,))), r"cropping must be"),
        (lambda: UpSampling2D(0), "size must be a positive int"),
        (lambda: UpSampling2D(interpolation="lanczos3"), "interpolation must be one of"),
        (lambda: UpSampling3D(interpolation="bilinear"), "interpolation must be one of 'nearest'"),
        (lambda: Flatten(data_format="NHWC"), "data_format must be"),
    ],
)
def test_argument_errors(factory, message):
    with pytest.raises((ValueError, TypeError), match=message):
        factory()


def test_cropping_everything_is_an_error_naming_the_layer():
    with pytest.raises(
        ValueError, match=r"Cropping2D 'crop': cropping \(2, 2\) removes all of axis"
    ):
        Cropping2D(((2, 2), (0, 0)), name="crop")(torch.zeros(1, 4, 5, 3))
    with pytest.raises(ValueError, match=r"Cropping1D 'crop1'"):
        Cropping1D((3, 3), name="crop1")(Input((6, 2)))


def test_wrong_rank_errors_describe_the_axes():
    with pytest.raises(ValueError, match=r"ZeroPadding2D 'pad' expects 4-D input \(batch, height"):
        ZeroPadding2D(name="pad")(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"Permute 'perm' expects 3-D input"):
        Permute((2, 1), name="perm")(torch.zeros(2, 3))
    with pytest.raises(
        ValueError, match=r"RepeatVector 'rep' expects 2-D input \(batch, features\)"
    ):
        RepeatVector(2, name="rep")(torch.zeros(2, 3, 4))
