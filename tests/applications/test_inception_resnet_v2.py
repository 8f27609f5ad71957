"""InceptionResNetV2 against Keras 3.15.1's keras.applications.inception_resnet_v2.

The reference numbers are the outputs of /work/scratch/s18/apps4/keras_ref.py (Keras 3.15.1,
`KERAS_BACKEND=torch`, `weights=None`, `keras.backend.clear_session()` before each model):
`count_params()`, the sizes of `trainable_weights` / `non_trainable_weights`, the layer names
in `model.layers` order (auto-named ones included: `conv2d`, `batch_normalization`,
`activation`, `custom_scale_layer`, numbered) and the shapes of `get_weights()` (both as a
SHA-256 digest of one item per line, see `digest`), and the output of the headless model on
a seeded 2x75x75x3 batch after `set_weights(rule_weights(...))`.
"""

import hashlib

import numpy as np
import pytest
import torch

import lamina
from lamina.applications import imagenet_utils, inception_resnet_v2
from lamina.applications.inception_resnet_v2 import CustomScaleLayer, InceptionResNetV2

# Keras: count_params with and without the top; trainable / non-trainable without it.
KERAS_PARAMS = {True: 55_873_736, False: 54_336_736}
KERAS_WEIGHT_COUNTS = (54_276_192, 60_544)
# Keras: (len(model.layers), digest of the names) by (include_top, pooling).
KERAS_NAMES = {
    (True, None): (782, "45e8663620a51f78"),
    (False, None): (780, "9900c58ce1ad8724"),
    (False, "avg"): (781, "6ffc07bf4e2b7536"),  # matched in the scratch comparison
    (False, "max"): (781, "688e9fc05dba332c"),
}
# Keras: (len(get_weights()), digest of their shapes) by include_top.
KERAS_WEIGHT_SHAPES = {True: (898, "ae630af180d7fe8d"), False: (896, "896d44e8de81a50d")}
# Keras: InceptionResNetV2(include_top=False, input_shape=(75, 75, 3)) with rule_weights, on
# default_rng(0).standard_normal((2, 75, 75, 3)): output (2, 1, 1, 1536).
KERAS_OUTPUT = {
    "sum": 7164.6263990700245,
    "mean_abs": 2.3322351559472736,
    "indices": [364, 462, 1900, 1998, 2940],  # the five largest magnitudes
    "values": [
        17.902976989746094,
        20.83335304260254,
        17.94510269165039,
        20.848499298095703,
        17.651988983154297,
    ],
}
FIRST_NAMES = ["input_layer", "conv2d", "batch_normalization", "activation", "conv2d_1"]
# Keras 3.15.1's keras.saving.serialize_keras_object(CustomScaleLayer(0.17)).
KERAS_SCALE_LAYER_ENTRY = {
    "module": "keras.src.applications.inception_resnet_v2",
    "class_name": "CustomScaleLayer",
    "config": {
        "name": "custom_scale_layer",
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
        "scale": 0.17,
    },
    "registered_name": "CustomScaleLayer",
}


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


@pytest.fixture(scope="module")
def features() -> lamina.Model:
    lamina.clear_session()
    return InceptionResNetV2(include_top=False)


def test_features_match_keras_layers_counts_and_weight_shapes(features):
    names = [layer.name for layer in features.layers]
    assert features.name == "inception_resnet_v2"
    assert names[:5] == FIRST_NAMES
    assert names[-3:] == ["conv_7b", "conv_7b_bn", "conv_7b_ac"]
    assert (len(names), digest(names)) == KERAS_NAMES[(False, None)]
    assert features.output_shape == (None, None, None, 1536)
    assert features.count_params() == KERAS_PARAMS[False]
    trainable = sum(w.numel() for w in features.trainable_weights)
    non_trainable = sum(w.numel() for w in features.non_trainable_weights)
    assert (trainable, non_trainable) == KERAS_WEIGHT_COUNTS
    shapes = [tuple(w.shape) for w in features.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[False]


def test_block_layers_follow_keras(features):
    scale_layers = [layer for layer in features.layers if isinstance(layer, CustomScaleLayer)]
    assert [layer.scale for layer in scale_layers] == [0.17] * 10 + [0.1] * 20 + [0.2] * 9 + [1.0]
    assert features.get_layer("block35_1_conv").use_bias
    assert not features.get_layer("conv_7b").use_bias
    assert not features.get_layer("conv_7b_bn").scale
    with pytest.raises(ValueError, match="no layer named 'block8_10_ac'|block8_10_ac"):
        features.get_layer("block8_10_ac")  # the last block has no activation


def test_outputs_match_keras_with_the_same_weights(features):
    features.set_weights(rule_weights([w.shape for w in features.get_weights()]))
    images = np.random.default_rng(0).standard_normal((2, 75, 75, 3)).astype("float32")
    output = features.predict(images, verbose=0).astype("float64")
    assert output.shape == (2, 1, 1, 1536)
    assert output.sum() == pytest.approx(KERAS_OUTPUT["sum"], rel=1e-4)
    assert np.abs(output).mean() == pytest.approx(KERAS_OUTPUT["mean_abs"], rel=1e-4)
    np.testing.assert_allclose(
        output.ravel()[KERAS_OUTPUT["indices"]], KERAS_OUTPUT["values"], rtol=1e-4
    )


def test_with_top_matches_keras():
    lamina.clear_session()
    model = InceptionResNetV2(input_shape=(75, 75, 3))
    names = [layer.name for layer in model.layers]
    assert names[-2:] == ["avg_pool", "predictions"]
    assert (len(names), digest(names)) == KERAS_NAMES[(True, None)]
    assert model.count_params() == KERAS_PARAMS[True]
    assert model.output_shape == (None, 1000)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert (len(shapes), digest(shapes)) == KERAS_WEIGHT_SHAPES[True]


def test_max_pooling_matches_keras():
    # pooling="avg" runs the same code with the other layer (its output shape is checked by
    # InceptionResNetV2's doctest); one build of 54M parameters is spared here.
    lamina.clear_session()
    model = InceptionResNetV2(include_top=False, pooling="max", input_shape=(75, 75, 3))
    names = [layer.name for layer in model.layers]
    assert names[-1] == "global_max_pooling2d"
    assert (len(names), digest(names)) == KERAS_NAMES[(False, "max")]
    assert model.output_shape == (None, 1536)


def test_custom_scale_layer_adds_the_scaled_residual():
    layer = CustomScaleLayer(0.1)
    shortcut, residual = torch.full((2, 3), 1.0), torch.full((2, 3), 5.0)
    torch.testing.assert_close(layer([shortcut, residual]), torch.full((2, 3), 1.5))


def test_custom_scale_layer_config_is_keras():
    lamina.clear_session()
    layer = CustomScaleLayer(0.17)
    config = layer.get_config()
    assert config["name"] == "custom_scale_layer"
    assert set(config) == set(KERAS_SCALE_LAYER_ENTRY["config"])
    assert config["scale"] == 0.17
    rebuilt = CustomScaleLayer.from_config(config)
    assert (rebuilt.name, rebuilt.scale) == ("custom_scale_layer", 0.17)


def test_custom_scale_layer_reads_keras_serialized_entry():
    layer = lamina.layers.deserialize(KERAS_SCALE_LAYER_ENTRY)
    assert isinstance(layer, CustomScaleLayer)
    assert layer.scale == 0.17


def test_model_with_custom_scale_layer_saves_and_loads(tmp_path):
    inputs = lamina.Input((4,))
    outputs = CustomScaleLayer(0.5)([inputs, lamina.layers.Dense(4)(inputs)])
    model = lamina.Model(inputs, outputs)
    path = tmp_path / "scaled.keras"
    model.save(str(path))
    restored = lamina.models.load_model(str(path))
    data = np.random.default_rng(3).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(restored.predict(data, verbose=0), model.predict(data, verbose=0))


def test_custom_scale_layer_rejects_bad_arguments():
    with pytest.raises(TypeError, match="CustomScaleLayer 'scaled': scale must be a number"):
        CustomScaleLayer("big", name="scaled")
    with pytest.raises(ValueError, match="expects a list of two tensors"):
        CustomScaleLayer(0.5, name="scaled_2")(torch.ones(1, 2))


def test_preprocess_input_scales_to_minus_one_one():
    images = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    np.testing.assert_allclose(inception_resnet_v2.preprocess_input(images), [[[[-1.0, 0.0, 1.0]]]])
    assert inception_resnet_v2.decode_predictions is imagenet_utils.decode_predictions


def test_imagenet_weights_small_inputs_and_pooling_raise_clear_errors():
    with pytest.raises(ValueError, match="InceptionResNetV2: no pretrained 'imagenet'"):
        InceptionResNetV2(weights="imagenet")
    with pytest.raises(ValueError, match="at least 75"):
        InceptionResNetV2(include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        InceptionResNetV2(include_top=False, pooling="sum")
