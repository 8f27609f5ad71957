"""NASNetMobile and NASNetLarge against Keras 3.15.1's keras.applications.nasnet.

The reference numbers are the outputs of /work/scratch/s18/apps4/keras_nasnet.py (Keras
3.15.1, `KERAS_BACKEND=torch`, `weights=None`, `keras.backend.clear_session()` before each
model; Keras' NASNetMobile refuses the torch backend, so the script calls the body of
`keras.applications.NASNetMobile`, `nasnet.NASNet(..., penultimate_filters=1056,
num_blocks=4, stem_block_filters=32, skip_reduction=False, default_size=224)`):
`count_params()`, the sizes of `trainable_weights` / `non_trainable_weights`, the layer names
in `model.layers` order and the shapes of `get_weights()` (both as a SHA-256 digest of one
item per line, see `digest`), and the output of the headless NASNetMobile on a seeded
2x32x32x3 batch after `set_weights(rule_weights(...))`.
"""

import hashlib

import numpy as np
import pytest

import lamina
from lamina.applications import imagenet_utils, nasnet
from lamina.applications.nasnet import NASNetLarge, NASNetMobile

# Keras: (count_params, trainable, non-trainable) by (architecture, include_top).
KERAS_COUNTS = {
    ("NASNetMobile", True): (5_326_716, 5_289_978, 36_738),
    ("NASNetMobile", False): (4_269_716, 4_232_978, 36_738),
    ("NASNetLarge", True): (88_949_818, 88_753_150, 196_668),
}
# Keras: (len(model.layers), digest of the names) by (architecture, include_top, pooling).
KERAS_NAMES = {
    ("NASNetMobile", True, None): (771, "726ef9113a330e0a"),
    ("NASNetMobile", False, None): (769, "30673362d79d916b"),
    ("NASNetMobile", False, "avg"): (770, "6f527e7178e5fd6e"),
    ("NASNetMobile", False, "max"): (770, "b281155ddbcc52dc"),
    ("NASNetLarge", True, None): (1041, "430d5cc571d5d878"),
}
# Keras: (len(get_weights()), digest of their shapes).
KERAS_WEIGHT_SHAPES = {
    ("NASNetMobile", True): (1126, "5dd51a6c270f7e12"),
    ("NASNetMobile", False): (1124, "30904d3efaa4d6cf"),
    ("NASNetLarge", True): (1546, "e6e9736b0705e9fa"),
}
# Keras: the headless NASNetMobile, input_shape (32, 32, 3), with rule_weights, on
# default_rng(0).standard_normal((2, 32, 32, 3)): output (2, 1, 1, 1056).
KERAS_OUTPUT = {
    "sum": 944.0861835479736,
    "mean_abs": 0.44701050357385114,
    "indices": [763, 860, 1819, 1870, 1916],  # the five largest magnitudes
    "values": [5.521397590637207, 5.317150115966797, 5.466409683227539, 4.439761161804199,
               5.363105773925781],
}  # fmt: skip
FIRST_NAMES = [
    "input_layer",
    "stem_conv1",
    "stem_bn1",
    "activation",
    "reduction_conv_1_stem_1",
    "reduction_bn_1_stem_1",
    "activation_1",
    "activation_3",
    "separable_conv_1_pad_reduction_left1_stem_1",
]


def digest(items: list) -> str:
    return hashlib.sha256("\n".join(str(item) for item in items).encode()).hexdigest()[:16]


def rule_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Array `index` of `shapes` from default_rng(1000 + index): 1-D (BatchNormalization
    weights and statistics, biases) uniform in [0.5, 1.5]; kernels standard normal /
    sqrt(fan-in), a depthwise kernel's fan-in being its window."""
    arrays = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(1000 + index)
        if len(shape) == 1:
            arrays.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            continue
        fan_in = np.prod(shape[:-1]) if len(shape) != 4 or shape[-1] > 1 else np.prod(shape[:2])
        arrays.append((rng.standard_normal(shape) / np.sqrt(fan_in)).astype("float32"))
    return arrays


def check_against_keras(model: lamina.Model, key: tuple[str, bool, str | None]) -> None:
    architecture, include_top, _ = key
    names = [layer.name for layer in model.layers]
    assert (len(names), digest(names)) == KERAS_NAMES[key]
    trainable = sum(w.numel() for w in model.trainable_weights)
    non_trainable = sum(w.numel() for w in model.non_trainable_weights)
    counts = (model.count_params(), trainable, non_trainable)
    assert counts == KERAS_COUNTS[(architecture, include_top)]
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[(architecture, include_top)]


@pytest.fixture(scope="module")
def mobile_features() -> lamina.Model:
    lamina.clear_session()
    return NASNetMobile(include_top=False, input_shape=(32, 32, 3))


def test_nasnet_mobile_features_match_keras(mobile_features):
    assert mobile_features.name == "nasnet_mobile"
    assert [layer.name for layer in mobile_features.layers][:9] == FIRST_NAMES
    assert mobile_features.output_shape == (None, 1, 1, 1056)
    check_against_keras(mobile_features, ("NASNetMobile", False, None))


def test_nasnet_mobile_outputs_match_keras_with_the_same_weights(mobile_features):
    mobile_features.set_weights(rule_weights([w.shape for w in mobile_features.get_weights()]))
    images = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype("float32")
    output = mobile_features.predict(images, verbose=0).astype("float64")
    assert output.shape == (2, 1, 1, 1056)
    assert output.sum() == pytest.approx(KERAS_OUTPUT["sum"], rel=1e-4)
    assert np.abs(output).mean() == pytest.approx(KERAS_OUTPUT["mean_abs"], rel=1e-4)
    np.testing.assert_allclose(
        output.ravel()[KERAS_OUTPUT["indices"]], KERAS_OUTPUT["values"], rtol=1e-4
    )


def test_nasnet_mobile_with_top_matches_keras():
    lamina.clear_session()
    model = NASNetMobile()
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    check_against_keras(model, ("NASNetMobile", True, None))


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_nasnet_mobile_pooling_matches_keras(pooling):
    lamina.clear_session()
    model = NASNetMobile(include_top=False, pooling=pooling)
    assert model.input_shape == (None, 224, 224, 3)  # Keras fixes the mobile model's size
    assert model.output_shape == (None, 1056)
    check_against_keras(model, ("NASNetMobile", False, pooling))


def test_nasnet_large_matches_keras():
    lamina.clear_session()
    model = NASNetLarge(input_shape=(32, 32, 3))  # the layers do not depend on a fixed size
    assert model.name == "nasnet_large"
    assert model.output_shape == (None, 1000)
    check_against_keras(model, ("NASNetLarge", True, None))


def test_nasnet_preprocess_input_scales_to_minus_one_one():
    images = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    np.testing.assert_allclose(nasnet.preprocess_input(images), [[[[-1.0, 0.0, 1.0]]]])
    assert nasnet.decode_predictions is imagenet_utils.decode_predictions


@pytest.mark.parametrize("factory", [NASNetMobile, NASNetLarge])
def test_nasnet_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match=f"{factory.__name__}: no pretrained 'imagenet'"):
        factory(weights="imagenet")


def test_nasnet_rejects_small_inputs_and_channels_first():
    with pytest.raises(ValueError, match="NASNetMobile: input height and width must be at least"):
        NASNetMobile(include_top=False, input_shape=(16, 16, 3))
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="NASNetLarge supports only image_data_format"):
            NASNetLarge(include_top=False)
    finally:
        lamina.config.set_image_data_format("channels_last")
