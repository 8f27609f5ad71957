"""EfficientNetV2 B0-B3, S, M, L against Keras 3.15.1's keras.applications.

Reference values are Keras 3.15.1 outputs (KERAS_BACKEND=torch) of the scratch programs
keras_ref.py (`count_params()`, trainable / non-trainable sizes, `len(model.layers)`, layer
names) and keras_numerics.py (the headless B0 on a 64x64 input with the deterministic weights
of `deterministic_weights` below). Counts, names and shapes do not depend on weight values, so
those models are built on the `meta` device (no memory, no initialisation).
"""

import hashlib
import re

import numpy as np
import pytest
import torch

import lamina
from lamina.applications import efficientnet_v2
from lamina.applications.efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)

FACTORIES = [
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2S,
    EfficientNetV2M,
    EfficientNetV2L,
]
# Keras, weights=None: name, default input size, (count_params, trainable, non-trainable)
# with the top, the same without, len(model.layers) with the top, the digest of the headless
# model's layer names (see `names_digest`), channels of the last feature map.
KERAS = {
    "EfficientNetV2B0": ("efficientnetv2-b0", 224, (7_200_312, 7_139_704, 60_608),
                         (5_919_312, 5_858_704, 60_608), 273, "7d94fb904404e736", 1280),
    "EfficientNetV2B1": ("efficientnetv2-b1", 240, (8_212_124, 8_141_052, 71_072),
                         (6_931_124, 6_860_052, 71_072), 337, "43a2c60802a55ab4", 1280),
    "EfficientNetV2B2": ("efficientnetv2-b2", 260, (10_178_374, 10_096_086, 82_288),
                         (8_769_374, 8_687_086, 82_288), 352, "9e118e172a5311ed", 1408),
    "EfficientNetV2B3": ("efficientnetv2-b3", 300, (14_467_622, 14_358_406, 109_216),
                         (12_930_622, 12_821_406, 109_216), 412, "5b6bc63e3facb919", 1536),
    "EfficientNetV2S": ("efficientnetv2-s", 384, (21_612_360, 21_458_488, 153_872),
                        (20_331_360, 20_177_488, 153_872), 516, "3042932ff121d7a5", 1280),
    "EfficientNetV2M": ("efficientnetv2-m", 480, (54_431_388, 54_139_356, 292_032),
                        (53_150_388, 52_858_356, 292_032), 743, "de970fbdfa1ad089", 1280),
    "EfficientNetV2L": ("efficientnetv2-l", 480, (119_027_848, 118_515_272, 512_576),
                        (117_746_848, 117_234_272, 512_576), 1031, "98e133111a741406", 1280),
}  # fmt: skip
# Keras' EfficientNetV2B0(include_top=False, input_shape=(64, 64, 3)) with deterministic
# weights on `IMAGES`: output (2, 2, 2, 1280); 359 weight arrays whose shapes digest to
# "45fe206f73372a4b" (`shapes_digest`); sum, mean |x|, the first five values.
KERAS_B0_NUMERICS = {
    "shapes": (359, "45fe206f73372a4b"),
    "sum": 2393.9962001558997,
    "mean_abs": 0.40563207641682164,
    "first5": [
        -0.2653016746044159,
        -0.25342169404029846,
        -0.2744160294532776,
        -0.24261446297168732,
        0.3407662808895111,
    ],
}
# Layers Keras names automatically (numbered per session): compared by their base name.
AUTO_NAMED = re.compile(
    r"(rescaling|normalization|layer_normalization|global_average_pooling2d"
    r"|global_max_pooling2d)(_\d+)?"
)


def canonical_names(model: lamina.Model) -> list[str]:
    names = [layer.name for layer in model.layers]
    assert names[0].startswith("input_layer")
    return [AUTO_NAMED.fullmatch(n).group(1) if AUTO_NAMED.fullmatch(n) else n for n in names[1:]]


def names_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def shapes_digest(shapes: list[tuple[int, ...]]) -> str:
    return hashlib.sha256(";".join("x".join(map(str, s)) for s in shapes).encode()).hexdigest()[:16]


def deterministic_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Array i from NumPy's default_rng(1000 + i): 1-D arrays uniform in [0.5, 1) (positive
    variances), others normal / sqrt(fan-in), fan-in = all axes but the last (kh * kw for a
    depthwise kernel, whose last axis is 1). The same rule ran in Keras."""
    arrays = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(1000 + index)
        if len(shape) <= 1:
            arrays.append(rng.uniform(0.5, 1.0, size=shape).astype("float32"))
            continue
        depthwise = len(shape) == 4 and shape[-1] == 1
        fan_in = shape[0] * shape[1] if depthwise else int(np.prod(shape[:-1]))
        arrays.append((rng.normal(size=shape) / np.sqrt(fan_in)).astype("float32"))
    return arrays


IMAGES = np.random.default_rng(0).uniform(0, 255, size=(2, 64, 64, 3)).astype("float32")


def on_meta(factory, **kwargs) -> lamina.Model:
    with torch.device("meta"):
        return factory(**kwargs)


def sizes(model: lamina.Model) -> tuple[int, int, int]:
    trainable = sum(w.numel() for w in model.trainable_weights)
    frozen = sum(w.numel() for w in model.non_trainable_weights)
    return model.count_params(), trainable, frozen


@pytest.fixture
def b0_with_keras_weights() -> lamina.Model:
    model = EfficientNetV2B0(include_top=False, input_shape=(64, 64, 3))
    model.set_weights(deterministic_weights([tuple(w.shape) for w in model.get_weights()]))
    return model


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_variant_matches_keras_counts_names_and_shapes(factory):
    name, size, counts, headless_counts, layer_count, digest, channels = KERAS[factory.__name__]
    model = on_meta(factory)
    assert model.name == name
    assert model.input_shape == (None, size, size, 3)
    assert model.output_shape == (None, 1000)
    assert sizes(model) == counts
    assert len(model.layers) == layer_count
    # Keras' headless model is this one up to top_activation (its recorded names end there).
    head = [layer.name for layer in model.layers[-4:]]
    assert head == ["top_activation", "avg_pool", "top_dropout", "predictions"]
    assert names_digest(canonical_names(model)[:-3]) == digest
    classifier = model.get_layer("predictions").count_params()
    assert (counts[0] - classifier, counts[1] - classifier, counts[2]) == headless_counts
    feature_size = -(-size // 32)  # "same" padding: stride-2 sizes round up
    assert model.get_layer("top_activation").output.shape == (
        None,
        feature_size,
        feature_size,
        channels,
    )


@pytest.mark.parametrize(
    ("pooling", "last_name", "output_shape"),
    [
        (None, "top_activation", (None, None, None, 1280)),
        ("avg", "avg_pool", (None, 1280)),
        ("max", "max_pool", (None, 1280)),
    ],
)
def test_b0_pooling_matches_keras(pooling, last_name, output_shape):
    model = on_meta(EfficientNetV2B0, include_top=False, pooling=pooling)
    assert model.layers[-1].name == last_name
    assert model.output_shape == output_shape
    assert model.count_params() == KERAS["EfficientNetV2B0"][3][0]


def test_b0_block_layers_are_keras_names_in_keras_order():
    names = canonical_names(on_meta(EfficientNetV2B0, include_top=False))
    stem = ["rescaling", "normalization", "stem_conv", "stem_bn", "stem_activation"]
    assert names[:6] == [*stem, "block1a_project_conv"]
    fused = ["expand_conv", "expand_bn", "expand_activation", "project_conv", "project_bn"]
    assert [n for n in names if n.startswith("block2b_")] == [
        f"block2b_{part}" for part in [*fused, "drop", "add"]
    ]
    squeeze_excite = ["se_squeeze", "se_reshape", "se_reduce", "se_expand", "se_excite"]
    mbconv = [*fused[:3], "dwconv2", "bn", "activation", *squeeze_excite, *fused[3:]]
    assert [n for n in names if n.startswith("block4b_")] == [
        f"block4b_{part}" for part in [*mbconv, "drop", "add"]
    ]


def test_b0_numerics_match_keras_with_the_same_weights(b0_with_keras_weights):
    shapes = [tuple(w.shape) for w in b0_with_keras_weights.get_weights()]
    assert (len(shapes), shapes_digest(shapes)) == KERAS_B0_NUMERICS["shapes"]
    output = b0_with_keras_weights.predict(IMAGES, verbose=0).astype("float64")
    assert output.shape == (2, 2, 2, 1280)
    assert output.sum() == pytest.approx(KERAS_B0_NUMERICS["sum"], rel=1e-4)
    assert np.abs(output).mean() == pytest.approx(KERAS_B0_NUMERICS["mean_abs"], rel=1e-4)
    np.testing.assert_allclose(output.ravel()[:5], KERAS_B0_NUMERICS["first5"], rtol=1e-4)


def test_weights_path_loads_into_the_model(b0_with_keras_weights, tmp_path):
    path = tmp_path / "b0_notop.safetensors"
    b0_with_keras_weights.save_weights(str(path))
    restored = EfficientNetV2B0(include_top=False, input_shape=(64, 64, 3), weights=path)
    for restored_weight, saved_weight in zip(
        restored.get_weights(), b0_with_keras_weights.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(restored_weight, saved_weight)


def test_drop_connect_rates_match_keras():
    # Keras' EfficientNetV2B1: 21 Dropout layers; block1b_drop 0.009523809523809525,
    # block2b_drop 0.028571428571428574, ..., block6i_drop 0.24761904761904763 (0.2 * block
    # index / 21, the number of blocks before depth scaling).
    model = on_meta(EfficientNetV2B1, include_top=False)
    drops = [layer for layer in model.layers if isinstance(layer, lamina.layers.Dropout)]
    assert len(drops) == 21
    assert [(d.name, d.rate) for d in (drops[0], drops[1], drops[-1])] == [
        ("block1b_drop", pytest.approx(0.009523809523809525, rel=1e-12)),
        ("block2b_drop", pytest.approx(0.028571428571428574, rel=1e-12)),
        ("block6i_drop", pytest.approx(0.24761904761904763, rel=1e-12)),
    ]
    assert drops[-1].noise_shape == (None, 1, 1, 1)


def test_b_variants_normalize_with_imagenet_statistics():
    model = on_meta(EfficientNetV2B0, include_top=False)
    rescaling, normalization = model.layers[1], model.layers[2]
    assert isinstance(rescaling, lamina.layers.Rescaling)
    assert rescaling.scale == pytest.approx(1 / 255) and rescaling.offset == 0.0
    assert isinstance(normalization, lamina.layers.Normalization)
    config = normalization.get_config()
    assert config["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert config["variance"] == pytest.approx([0.229**2, 0.224**2, 0.225**2])


@pytest.mark.parametrize(
    ("factory", "name"),
    [(EfficientNetV2S, "efficientnetv2-s"), (EfficientNetV2B0, "renamed")],
    ids=["S", "B0-renamed"],
)
def test_other_names_rescale_to_minus_one_one_as_keras(factory, name):
    # Keras picks the preprocessing from the model's name: "renamed" is not a "-b" variant.
    model = on_meta(factory, include_top=False, name=name)
    assert model.name == name
    rescaling = model.layers[1]
    assert (rescaling.scale, rescaling.offset) == (pytest.approx(1 / 128), -1)
    assert model.layers[2].name == "stem_conv"


def test_include_preprocessing_false_starts_with_the_stem():
    model = on_meta(EfficientNetV2B0, include_top=False, include_preprocessing=False)
    assert model.layers[1].name == "stem_conv"
    assert model.count_params() == KERAS["EfficientNetV2B0"][3][0]


def test_input_tensor_and_classes():
    inputs = lamina.Input((32, 32, 3))
    with torch.device("meta"):
        model = EfficientNetV2S(input_tensor=inputs, classes=7, classifier_activation=None)
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] in (None, "linear")


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match=f"{factory.__name__}: no pretrained 'imagenet'"):
        factory(weights="imagenet")


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        EfficientNetV2B0(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="at least 32"):
        EfficientNetV2B0(include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="include_top=True the input size must be known"):
        EfficientNetV2B0(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="no such file"):
        EfficientNetV2B0(weights="missing.weights.h5")


def test_preprocess_input_is_the_identity_and_decode_predictions_checks_shape():
    images = np.full((1, 4, 4, 3), 200.0, "float32")
    assert efficientnet_v2.preprocess_input(images) is images
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        efficientnet_v2.decode_predictions(np.zeros((1, 10)))
