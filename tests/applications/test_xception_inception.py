"""Xception and InceptionV3 against Keras 3.15.1's keras.applications (KERAS_BACKEND=torch).

The reference numbers are Keras' outputs of a scratch program that, for each model, ran
`keras.backend.clear_session()`, built it with `weights=None` and printed `model.name`,
`len(model.layers)`, `count_params()`, the sizes of `trainable_weights` and
`non_trainable_weights`, `output_shape`, and `sha256(text)[:16]` of the layer names joined by
newlines and of `repr([w.shape for w in model.get_weights()])` (as tuples of ints). The numeric
reference set every array of `get_weights()` by `rule(index, shape, gain)` below through
`set_weights`, then printed statistics of `predict` on the seeded input below.
"""

import hashlib

import numpy as np
import pytest

import lamina
from lamina.applications import imagenet_utils, inception_v3, xception
from lamina.applications.inception_v3 import InceptionV3
from lamina.applications.xception import Xception


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def names_sha(model: lamina.Model) -> str:
    return sha("\n".join(layer.name for layer in model.layers))


def shapes_sha(model: lamina.Model) -> str:
    return sha(repr([tuple(int(s) for s in w.shape) for w in model.get_weights()]))


def trainable_count(model: lamina.Model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def rule(index: int, shape: tuple[int, ...], gain: float) -> np.ndarray:
    """The deterministic weights both libraries were given: 1-D arrays (BatchNormalization's
    gamma, beta, moving mean and variance) near 1, kernels He-scaled normals (the fan-in of a
    depthwise kernel (kh, kw, in, 1) is kh * kw)."""
    rng = np.random.default_rng(index)
    if len(shape) == 1:
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype("float32")
    fan_in = int(np.prod(shape[:-2] if shape[-1] == 1 else shape[:-1]))
    return (rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype("float32")


def seeded_images(size: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")


# Keras 3.15.1, rule weights: sum, mean |y|, mean |y[0] - y[1]|, and flat values at indices.
XCEPTION_80 = {
    "sum": 9969.762988239527,
    "mean_abs": 0.27044712967229617,
    "sample_diff": 0.08174767548431798,
    "indices": [2, 9261, 18420, 27696, 36862],
    "values": [0.42124730348587036, 1.2485905885696411, 0.27831894159317017,
               0.024101972579956055, 0.467746376991272],
}  # fmt: skip
INCEPTION_75_MAX = {
    "sum": 443.4646461904049,
    "mean_abs": 0.10826773588632932,
    "sample_diff": 0.005896581322303973,
    "indices": [3, 1014, 2058, 3061, 4094],
    "values": [0.5193523168563843, 0.14255625009536743, 0.034502625465393066,
               0.15826666355133057, 0.17075753211975098],
}  # fmt: skip


def check_keras_numbers(output: np.ndarray, reference: dict) -> None:
    output = np.asarray(output, dtype=np.float64)
    flat = output.ravel()
    assert flat.sum() == pytest.approx(reference["sum"], rel=1e-4)
    assert np.abs(flat).mean() == pytest.approx(reference["mean_abs"], rel=1e-4)
    assert np.abs(output[0] - output[1]).mean() == pytest.approx(reference["sample_diff"], rel=1e-3)
    np.testing.assert_allclose(flat[reference["indices"]], reference["values"], rtol=1e-4)


@pytest.fixture(scope="module")
def xception_features() -> lamina.Model:
    """Xception(include_top=False), flexible input, with the rule's weights (gain 1)."""
    lamina.clear_session()
    model = Xception(include_top=False)
    model.set_weights([rule(i, w.shape, 1.0) for i, w in enumerate(model.get_weights())])
    return model


@pytest.fixture(scope="module")
def xception_features_output(xception_features) -> np.ndarray:
    return xception_features.predict(seeded_images(80), verbose=0)


@pytest.fixture(scope="module")
def xception_avg_from_file(xception_features, tmp_path_factory) -> lamina.Model:
    path = tmp_path_factory.mktemp("xception") / "xception_features.safetensors"
    xception_features.save_weights(str(path))
    lamina.clear_session()
    return Xception(include_top=False, pooling="avg", weights=path)


@pytest.fixture(scope="module")
def inception_max() -> lamina.Model:
    """InceptionV3(include_top=False, pooling="max", input_shape=(75, 75, 3)) with the rule's
    weights (gain 2)."""
    lamina.clear_session()
    model = InceptionV3(include_top=False, pooling="max", input_shape=(75, 75, 3))
    model.set_weights([rule(i, w.shape, 2.0) for i, w in enumerate(model.get_weights())])
    return model


def test_xception_with_top_matches_keras():
    lamina.clear_session()
    model = Xception()
    assert model.name == "xception"
    assert len(model.layers) == 134
    assert names_sha(model) == "a65ec06ca9bedd25"
    assert [layer.name for layer in model.layers[7:16]] == [
        "block2_sepconv1",
        "block2_sepconv1_bn",
        "block2_sepconv2_act",
        "block2_sepconv2",
        "block2_sepconv2_bn",
        "conv2d",
        "block2_pool",
        "batch_normalization",
        "add",
    ]
    assert model.count_params() == 22_910_480
    assert trainable_count(model) == 22_855_952
    assert model.count_params() - trainable_count(model) == 54_528
    assert model.input_shape == (None, 299, 299, 3)
    assert model.output_shape == (None, 1000)
    assert len(model.get_weights()) == 236
    assert shapes_sha(model) == "de87f9df3c21ad1e"


def test_xception_headless_matches_keras_structure(xception_features):
    model = xception_features
    assert len(model.layers) == 132
    assert names_sha(model) == "0aeee124379ccf8e"
    assert model.count_params() == 20_861_480
    assert trainable_count(model) == 20_806_952
    assert model.output_shape == (None, None, None, 2048)
    assert len(model.get_weights()) == 234
    assert shapes_sha(model) == "a658c755c3c90a0b"


def test_xception_with_rule_weights_predicts_keras_numbers(xception_features_output):
    assert xception_features_output.shape == (2, 3, 3, 2048)
    check_keras_numbers(xception_features_output, XCEPTION_80)


def test_xception_avg_pooling_matches_keras_structure(xception_avg_from_file):
    model = xception_avg_from_file
    assert len(model.layers) == 133
    assert names_sha(model) == "d00f9146010a2518"
    assert model.layers[-1].name == "global_average_pooling2d"
    assert model.count_params() == 20_861_480
    assert model.output_shape == (None, 2048)


def test_xception_loads_a_weights_file_path(xception_avg_from_file, xception_features_output):
    pooled = xception_avg_from_file.predict(seeded_images(80), verbose=0)
    np.testing.assert_allclose(pooled, xception_features_output.mean(axis=(1, 2)), rtol=1e-5)
    # The average over the 3x3 map of Keras' output sums to a ninth of its sum.
    assert pooled.astype(np.float64).sum() == pytest.approx(XCEPTION_80["sum"] / 9, rel=1e-4)


def test_inception_v3_with_top_matches_keras():
    lamina.clear_session()
    model = InceptionV3()
    assert model.name == "inception_v3"
    assert len(model.layers) == 313
    assert names_sha(model) == "21d32daafca798d9"
    assert [layer.name for layer in model.layers[:4]] == [
        "input_layer",
        "conv2d",
        "batch_normalization",
        "activation",
    ]
    assert [layer.name for layer in model.layers[-6:]] == [
        "mixed9_1",
        "concatenate_1",
        "activation_93",
        "mixed10",
        "avg_pool",
        "predictions",
    ]
    assert model.count_params() == 23_851_784
    assert trainable_count(model) == 23_817_352
    assert model.count_params() - trainable_count(model) == 34_432
    assert model.input_shape == (None, 299, 299, 3)
    assert model.output_shape == (None, 1000)
    assert len(model.get_weights()) == 378
    assert shapes_sha(model) == "91451398aa254333"


def test_inception_v3_max_pooling_matches_keras_structure(inception_max):
    model = inception_max
    assert len(model.layers) == 312
    assert names_sha(model) == "115ba9e495650394"
    assert model.layers[-1].name == "global_max_pooling2d"
    assert model.count_params() == 21_802_784
    assert trainable_count(model) == 21_768_352
    assert model.output_shape == (None, 2048)
    assert len(model.get_weights()) == 376
    assert shapes_sha(model) == "7a1a9a3511c41f6d"


def test_inception_v3_with_rule_weights_predicts_keras_numbers(inception_max):
    output = inception_max.predict(seeded_images(75), verbose=0)
    assert output.shape == (2, 2048)
    check_keras_numbers(output, INCEPTION_75_MAX)


@pytest.mark.parametrize("factory", [Xception, InceptionV3])
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match="no pretrained 'imagenet' weights file"):
        factory(weights="imagenet")


@pytest.mark.parametrize(("factory", "min_size"), [(Xception, 71), (InceptionV3, 75)])
def test_input_size_checks_as_keras(factory, min_size):
    name = factory.__name__
    with pytest.raises(ValueError, match=f"{name}: .*at least {min_size}x{min_size}"):
        factory(include_top=False, input_shape=(min_size - 1, 128, 3))
    with pytest.raises(ValueError, match=f"{name}: .*include_top=True the input size"):
        factory(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        factory(include_top=False, pooling="mean")


@pytest.mark.parametrize("module", [xception, inception_v3])
def test_preprocess_input_is_keras_tf_mode(module):
    pixels = np.array([[[[0.0, 127.5, 255.0], [10.0, 200.0, 30.0]]]], dtype="float32")
    # Keras 3.15.1: keras.applications.xception (and inception_v3).preprocess_input(pixels).
    expected = [[[[-1.0, 0.0, 1.0], [-0.9215686321258545, 0.5686274766921997,
                                     -0.7647058963775635]]]]  # fmt: skip
    np.testing.assert_allclose(module.preprocess_input(pixels), expected, rtol=1e-6)
    assert module.decode_predictions is imagenet_utils.decode_predictions
