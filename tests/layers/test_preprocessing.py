"""Rescaling, Normalization, Resizing, CenterCrop: contracts and numerics.

Reference numbers marked "Keras" were produced by Keras 3.15.1 (torch backend) in /work/kenv.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers import CenterCrop, Normalization, Rescaling, Resizing
from lamina.testing import check_layer

# Keras' Normalization.adapt on this data (float32), and its output's first sample.
ADAPT_DATA = np.arange(24, dtype="float32").reshape(4, 3, 2) ** 1.5
KERAS_ADAPT = {
    -1: ([42.22727966, 46.98305130], [1120.856689, 1236.592773]),
    None: ([44.60516357], [1184.379028]),
}
KERAS_NORMALIZED_FIRST_SAMPLE_AXIS_LAST = [
    [-1.2612990, -1.3076286],
    [-1.1768159, -1.1883019],
    [-1.0223447, -1.0181284],
]
ARANGE_4X4 = torch.arange(16.0).reshape(1, 4, 4, 1)


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "output_shape"),
    [
        (Rescaling, {"scale": 1 / 255}, (2, 4, 4, 3), (2, 4, 4, 3)),
        (Normalization, {}, (2, 5), (2, 5)),
        (Normalization, {"axis": None, "mean": 2.0, "variance": 9.0}, (2, 3, 4), (2, 3, 4)),
        (Normalization, {"axis": [1, 2], "invert": True}, (2, 3, 4), (2, 3, 4)),
        (
            Resizing,
            {"height": 5, "width": 3, "interpolation": "bicubic"},
            (2, 8, 6, 2),
            (2, 5, 3, 2),
        ),
        (
            Resizing,
            {"height": 4, "width": 4, "pad_to_aspect_ratio": True},
            (2, 8, 4, 1),
            (2, 4, 4, 1),
        ),
        (
            Resizing,
            {"height": 3, "width": 3, "data_format": "channels_first"},
            (2, 2, 6, 6),
            (2, 2, 3, 3),
        ),
        (CenterCrop, {"height": 10, "width": 4}, (2, 8, 8, 3), (2, 10, 4, 3)),
    ],
)
def test_preprocessing_layer_contract(cls, kwargs, input_shape, output_shape):
    check_layer(cls, kwargs, input_shape, expected_output_shape=output_shape)


def test_rescaling_matches_numpy_per_channel():
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 3, 3)).astype("float32")
    y = Rescaling([1.0, 0.5, 0.25], offset=-1.0)(torch.from_numpy(x))
    np.testing.assert_allclose(y.numpy(), x * np.array([1.0, 0.5, 0.25]) - 1.0, rtol=1e-6)


def test_rescaling_casts_integer_images_to_float():
    y = Rescaling(1 / 255)(torch.full((1, 2, 2, 1), 255, dtype=torch.uint8))
    assert y.dtype == torch.float32 and torch.allclose(y, torch.ones_like(y))


@pytest.mark.parametrize("axis", [-1, None, (1, 2)])
def test_normalization_adapt_equals_numpy_mean_and_variance(axis):
    layer = Normalization(axis=axis)
    layer.adapt(ADAPT_DATA)
    reduce = {-1: (0, 1), None: (0, 1, 2), (1, 2): (0,)}[axis]
    # Keras' `mean` and `variance` attributes broadcast against the inputs (keepdims), the
    # weights named "mean" and "variance" (adapt_mean, adapt_variance) hold the kept axes
    expected_mean, expected_variance = ADAPT_DATA.mean(reduce), ADAPT_DATA.var(reduce)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), expected_mean, rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), expected_variance, rtol=1e-6)
    keepdims = ADAPT_DATA.mean(reduce, keepdims=True)
    np.testing.assert_allclose(layer.mean.numpy(), keepdims, rtol=1e-6)
    assert layer.variance.shape == keepdims.shape
    assert [(w.name, tuple(w.shape)) for w in layer.weights][:2] == [
        ("mean", expected_mean.shape),
        ("variance", expected_mean.shape),
    ]


@pytest.mark.parametrize("axis", [-1, None])
def test_normalization_adapt_matches_keras(axis):
    layer = Normalization(axis=axis)
    layer.adapt(torch.from_numpy(ADAPT_DATA))
    mean, variance = KERAS_ADAPT[axis]
    np.testing.assert_allclose(layer.mean.numpy().ravel(), mean, rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy().ravel(), variance, rtol=1e-6)


def test_normalization_output_matches_keras():
    layer = Normalization()
    layer.adapt(ADAPT_DATA)
    y = layer(torch.from_numpy(ADAPT_DATA))
    np.testing.assert_allclose(y[0].numpy(), KERAS_NORMALIZED_FIRST_SAMPLE_AXIS_LAST, rtol=1e-5)


def test_normalization_adapt_combines_batches_exactly():
    data = np.random.default_rng(1).normal(3, 2, (50, 4, 3)).astype("float32")
    batches = (
        (torch.from_numpy(data[i : i + 7]), torch.zeros(len(data[i : i + 7])))
        for i in range(0, 50, 7)
    )
    layer = Normalization()
    layer.adapt(batches)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean((0, 1)), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var((0, 1)), rtol=1e-5)
    assert layer.count.item() == 0  # Keras 3.15.1's adapt() leaves its int32 count at 0


def test_normalization_mean_attribute_has_keras_broadcast_shape():
    """Keras 3.15.1 (torch backend): `layer.mean` is (1, 1, 4) for (batch, 2, 4) inputs,
    adapted or given; a given mean makes no weights."""
    layer = Normalization(mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 1.0, 1.0, 1.0])
    layer.build((None, 2, 4))
    assert tuple(layer.mean.shape) == (1, 1, 4) and layer.weights == []
    adapted = Normalization()
    adapted.adapt(np.arange(24, dtype="float32").reshape(3, 2, 4))
    assert tuple(adapted.mean.shape) == (1, 1, 4)
    np.testing.assert_allclose(adapted.mean.numpy().ravel(), [10.0, 11.0, 12.0, 13.0])
    adapted.set_weights([np.ones(4), np.full(4, 4.0), np.array(6.0)])  # a live view
    np.testing.assert_allclose(adapted.variance.numpy(), np.full((1, 1, 4), 4.0))
    assert Normalization().mean is None and Normalization().variance is None  # as Keras


def test_normalization_weights_build_and_masking_match_keras():
    """Keras 3.15.1 (torch backend): count is an int32 weight left at 0 by adapt(); adapt()
    builds with the data's whole shape (batch size too), so axis=0 and 1-D data work; a mask
    passes through."""
    data = np.arange(12, dtype="float32").reshape(4, 3)
    layer = Normalization()
    layer.adapt(data)
    weights = layer.get_weights()
    assert [w.dtype.name for w in weights] == ["float32", "float32", "int32"]
    assert weights[2].tolist() == 0
    assert layer.get_build_config() == {"input_shape": (4, 3)}
    assert layer.supports_masking
    first = Normalization(axis=0)
    first.adapt(data)
    assert first.mean.numpy().tolist() == [[1.0], [4.0], [7.0], [10.0]]
    vector = Normalization()
    vector.adapt(np.array([1.0, 2.0, 3.0, 4.0], "float32"))
    assert vector.mean.numpy().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert vector.variance.numpy().tolist() == [0.0, 0.0, 0.0, 0.0]


def test_normalization_with_given_statistics_and_invert_round_trip():
    x = torch.randn(5, 3)
    kwargs = {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 0.25]}
    y = Normalization(**kwargs)(x)
    np.testing.assert_allclose(y.numpy(), (x.numpy() - [1, 2, 3]) / [2, 1, 0.5], rtol=1e-6)
    torch.testing.assert_close(Normalization(invert=True, **kwargs)(y), x)


def test_normalization_divides_by_epsilon_where_the_variance_is_zero():
    y = Normalization(mean=[0.0], variance=[0.0])(torch.tensor([[1e-7]]))
    assert y.item() == pytest.approx(1.0)


def test_normalization_errors_name_the_layer():
    with pytest.raises(ValueError, match="give both mean and variance"):
        Normalization(mean=[1.0])
    layer = Normalization(mean=[1.0], variance=[1.0])
    with pytest.raises(ValueError, match="cannot replace them"):
        layer.adapt(np.zeros((2, 1)))
    adapted = Normalization(name="norm")
    adapted.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Normalization 'norm' was built .* got shape \(2, 5\)"):
        adapted(torch.zeros(2, 5))


def test_resizing_bilinear_matches_keras():
    expected = [
        [0.8333334, 2.1666667, 3.5],
        [6.1666665, 7.5, 8.833333],
        [11.500001, 12.833334, 14.166667],
    ]
    y = Resizing(3, 3)(ARANGE_4X4)
    np.testing.assert_allclose(y[0, :, :, 0].numpy(), expected, rtol=1e-6)


def test_resizing_pad_to_aspect_ratio_matches_keras():
    y = Resizing(2, 4, pad_to_aspect_ratio=True, fill_value=-1)(ARANGE_4X4)
    assert y[0, :, :, 0].tolist() == [[-1.0, 2.5, 4.5, -1.0], [-1.0, 10.5, 12.5, -1.0]]


def test_resizing_crop_to_aspect_ratio_crops_the_centre_first():
    x = torch.arange(48.0).reshape(1, 4, 12, 1)
    y = Resizing(2, 2, crop_to_aspect_ratio=True, interpolation="nearest")(x)
    torch.testing.assert_close(y, Resizing(2, 2, interpolation="nearest")(x[:, :, 4:8]))


def test_resizing_keeps_integer_dtype_and_accepts_one_image():
    x = torch.randint(0, 256, (6, 6, 3), dtype=torch.uint8)
    y = Resizing(3, 3)(x)
    assert y.dtype == torch.uint8 and y.shape == (3, 3, 3)


def test_resizing_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Resizing 'r': interpolation must be one of"):
        Resizing(2, 2, interpolation="lanczos3", name="r")
    with pytest.raises(ValueError, match="only one of"):
        Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"Resizing '.*' expects 4-D input .* got shape \(4, 4\)"):
        Resizing(2, 2)(torch.zeros(4, 4))


def test_center_crop_equals_numpy_slicing():
    x = np.random.default_rng(0).normal(size=(2, 7, 9, 3)).astype("float32")
    y = CenterCrop(4, 5)(torch.from_numpy(x))
    np.testing.assert_array_equal(y.numpy(), x[:, 1:5, 2:7])


def test_center_crop_of_a_smaller_image_resizes_as_keras():
    expected = [
        [4.0, 4.5, 5.1666667, 5.833333, 6.5, 7.0],
        [6.0, 6.5, 7.1666667, 7.833333, 8.5, 9.0],
        [8.0, 8.5, 9.166666, 9.833333, 10.5, 11.000001],
    ]
    y = CenterCrop(3, 6)(ARANGE_4X4)
    np.testing.assert_allclose(y[0, :, :, 0].numpy(), expected, rtol=1e-6)


def test_channels_first_resizing_equals_channels_last():
    x = torch.randn(2, 6, 5, 3)
    last = Resizing(4, 3)(x)
    first = Resizing(4, 3, data_format="channels_first")(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


def test_preprocessing_layers_build_a_model_and_infer_shapes():
    inputs = lamina.Input((32, 40, 3))
    x = Resizing(16, 16, crop_to_aspect_ratio=True)(inputs)
    x = CenterCrop(12, 12)(x)
    outputs = Rescaling(1 / 255)(x)
    assert outputs.shape == (None, 12, 12, 3)
