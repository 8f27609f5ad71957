"""ResNet50V2/101V2/152V2 against Keras 3.15.1's keras.applications.resnet_v2.

The reference numbers are the outputs of /work/scratch/s18/apps4/keras_ref.py (Keras 3.15.1,
`KERAS_BACKEND=torch`, `weights=None`, `keras.backend.clear_session()` before each model):
`count_params()`, the sizes of `trainable_weights` / `non_trainable_weights`, the layer names
in `model.layers` order and the shapes of `get_weights()` (both as a SHA-256 digest of one
item per line, see `digest`), and the output of the headless ResNet50V2 on a seeded 2x32x32x3
batch after `set_weights(rule_weights(...))`.
"""

import hashlib

import numpy as np
import pytest

import lamina
from lamina.applications import imagenet_utils, resnet_v2
from lamina.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2

# Keras: (count_params with the top, without, trainable / non-trainable without the top,
# len(model.layers) with the top).
KERAS_COUNTS = {
    "ResNet50V2": (25_613_800, 23_564_800, 23_519_360, 45_440, 192),
    "ResNet101V2": (44_675_560, 42_626_560, 42_528_896, 97_664, 379),
    "ResNet152V2": (60_380_648, 58_331_648, 58_187_904, 143_744, 566),
}
# Keras: digest of [layer.name for layer in model.layers] after clear_session, by
# (include_top, pooling); the auto-named layers are input_layer and max_pooling2d(_1, _2).
KERAS_NAMES = {
    ("ResNet50V2", True, None): "cef3fe1280b548c1",
    ("ResNet50V2", False, None): "53968e6b9a3012f5",
    ("ResNet50V2", False, "avg"): "87bc3f4bada7b2cb",
    ("ResNet50V2", False, "max"): "e7e72b756f08c2cb",
    ("ResNet101V2", True, None): "abf91098868253b8",
    ("ResNet152V2", True, None): "38caa8bfcf8f36fc",
}
# Keras: (len(get_weights()), digest of their shapes) without and with the top.
KERAS_WEIGHT_SHAPES = {
    ("ResNet50V2", False): (270, "09e7f1a0332577ac"),
    ("ResNet50V2", True): (272, "2b14965deb8fc519"),
    ("ResNet101V2", True): (544, "cfc403aa085beb32"),
    ("ResNet152V2", True): (816, "80d6e0112e2412ec"),
}
# Keras: ResNet50V2(include_top=False, input_shape=(32, 32, 3)) with rule_weights, on
# default_rng(0).standard_normal((2, 32, 32, 3)): output (2, 1, 1, 2048).
KERAS_OUTPUT = {
    "sum": 38871.81059065461,
    "mean_abs": 9.490188132484036,
    "indices": [441, 672, 2489, 2720, 4094],  # the five largest magnitudes
    "values": [
        82.88289642333984,
        80.22351837158203,
        81.73382568359375,
        82.31659698486328,
        80.7683334350586,
    ],
}
FIRST_NAMES = [
    "conv1_pad",
    "conv1_conv",
    "pool1_pad",
    "pool1_pool",
    "conv2_block1_preact_bn",
    "conv2_block1_preact_relu",
    "conv2_block1_1_conv",
]


def digest(items: list) -> str:
    return hashlib.sha256("\n".join(str(item) for item in items).encode()).hexdigest()[:16]


def rule_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Array `index` of `shapes` from default_rng(1000 + index): 1-D (biases, BatchNormalization
    statistics) uniform in [0.5, 1.5]; kernels standard normal / sqrt(fan-in)."""
    arrays = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(1000 + index)
        if len(shape) == 1:
            arrays.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            continue
        fan_in = np.prod(shape[:-1]) if len(shape) != 4 or shape[-1] > 1 else np.prod(shape[:2])
        arrays.append((rng.standard_normal(shape) / np.sqrt(fan_in)).astype("float32"))
    return arrays


def weight_counts(model: lamina.Model) -> tuple[int, int]:
    return (
        sum(w.numel() for w in model.trainable_weights),
        sum(w.numel() for w in model.non_trainable_weights),
    )


@pytest.fixture(scope="module")
def features() -> lamina.Model:
    lamina.clear_session()
    return ResNet50V2(include_top=False)


def test_resnet50v2_features_match_keras_layers_and_counts(features):
    names = [layer.name for layer in features.layers]
    assert features.name == "resnet50v2"
    assert names[1:8] == FIRST_NAMES
    assert names[-3:] == ["conv5_block3_out", "post_bn", "post_relu"]
    assert digest(names) == KERAS_NAMES[("ResNet50V2", False, None)]
    assert features.output_shape == (None, None, None, 2048)
    assert features.count_params() == KERAS_COUNTS["ResNet50V2"][1]
    assert weight_counts(features) == KERAS_COUNTS["ResNet50V2"][2:4]


def test_resnet50v2_get_weights_shapes_match_keras(features):
    shapes = [tuple(w.shape) for w in features.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[("ResNet50V2", False)]


def test_resnet50v2_outputs_match_keras_with_the_same_weights(features):
    features.set_weights(rule_weights([w.shape for w in features.get_weights()]))
    images = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype("float32")
    output = features.predict(images, verbose=0).astype("float64")
    assert output.shape == (2, 1, 1, 2048)
    assert output.sum() == pytest.approx(KERAS_OUTPUT["sum"], rel=1e-4)
    assert np.abs(output).mean() == pytest.approx(KERAS_OUTPUT["mean_abs"], rel=1e-4)
    np.testing.assert_allclose(
        output.ravel()[KERAS_OUTPUT["indices"]], KERAS_OUTPUT["values"], rtol=1e-4
    )


def test_resnet50v2_with_top_matches_keras():
    lamina.clear_session()
    model = ResNet50V2(input_shape=(32, 32, 3))
    names = [layer.name for layer in model.layers]
    assert names[-2:] == ["avg_pool", "predictions"]
    assert digest(names) == KERAS_NAMES[("ResNet50V2", True, None)]
    assert model.count_params() == KERAS_COUNTS["ResNet50V2"][0]
    assert model.output_shape == (None, 1000)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[("ResNet50V2", True)]


@pytest.mark.parametrize(("pooling", "last_name"), [("avg", "avg_pool"), ("max", "max_pool")])
def test_resnet50v2_pooling_matches_keras(pooling, last_name):
    lamina.clear_session()
    model = ResNet50V2(include_top=False, pooling=pooling)
    names = [layer.name for layer in model.layers]
    assert names[-1] == last_name
    assert digest(names) == KERAS_NAMES[("ResNet50V2", False, pooling)]
    assert model.output_shape == (None, 2048)
    assert model.count_params() == KERAS_COUNTS["ResNet50V2"][1]


@pytest.mark.parametrize(
    ("factory", "name"), [(ResNet101V2, "resnet101v2"), (ResNet152V2, "resnet152v2")]
)
def test_deeper_resnet_v2_match_keras(factory, name):
    lamina.clear_session()
    model = factory(input_shape=(32, 32, 3))
    architecture = factory.__name__
    with_top, without_top, trainable, non_trainable, layer_count = KERAS_COUNTS[architecture]
    names = [layer.name for layer in model.layers]
    assert model.name == name
    assert len(names) == layer_count
    assert digest(names) == KERAS_NAMES[(architecture, True, None)]
    assert model.count_params() == with_top
    # Without the top, Keras' model is this one less avg_pool and predictions.
    head = model.get_layer("predictions")
    assert model.count_params() - head.count_params() == without_top
    assert weight_counts(model) == (trainable + head.count_params(), non_trainable)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[(architecture, True)]


def test_resnet_v2_preprocess_input_scales_to_minus_one_one():
    images = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    np.testing.assert_allclose(resnet_v2.preprocess_input(images), [[[[-1.0, 0.0, 1.0]]]])
    assert resnet_v2.decode_predictions is imagenet_utils.decode_predictions


@pytest.mark.parametrize("factory", [ResNet50V2, ResNet101V2, ResNet152V2])
def test_resnet_v2_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match=f"{factory.__name__}: no pretrained 'imagenet'"):
        factory(weights="imagenet")


def test_resnet_v2_rejects_small_inputs_and_unknown_pooling(tmp_path):
    with pytest.raises(ValueError, match="ResNet50V2: input height and width must be at least 32"):
        ResNet50V2(include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="ResNet50V2: pooling must be None, 'avg' or 'max'"):
        ResNet50V2(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="no such file"):
        ResNet50V2(weights=tmp_path / "missing.weights.h5")
