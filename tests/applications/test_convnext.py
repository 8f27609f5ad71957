"""ConvNeXt Tiny, Small, Base, Large, XLarge and its LayerScale / StochasticDepth layers against
Keras 3.15.1's keras.applications.convnext.

Reference values are Keras 3.15.1 outputs (KERAS_BACKEND=torch) of the scratch programs
keras_ref.py (`count_params()`, `len(model.layers)`, layer names) and keras_numerics.py (the
headless ConvNeXtTiny on a 64x64 input with the deterministic weights of
`deterministic_weights` below). Counts, names and shapes do not depend on weight values, so
those models are built on the `meta` device (no memory: XLarge has 350 M parameters).

Keras adds each block's residual with an op on symbolic tensors (`inputs + x`) that its
`model.layers` omits; so does lamina.
"""

import hashlib
import re

import numpy as np
import pytest
import torch

import lamina
from lamina.applications import convnext
from lamina.applications.convnext import (
    ConvNeXtBase,
    ConvNeXtLarge,
    ConvNeXtSmall,
    ConvNeXtTiny,
    ConvNeXtXLarge,
    LayerScale,
    StochasticDepth,
)
from lamina.testing import check_layer

FACTORIES = [ConvNeXtTiny, ConvNeXtSmall, ConvNeXtBase, ConvNeXtLarge, ConvNeXtXLarge]
# Keras, weights=None: name, count_params() with and without the top (no non-trainable
# weights), len(model.layers) with the top, the digest of the headless model's layer names
# (`names_digest`; its last layer is the auto-named LayerNormalization), last channels.
KERAS = {
    "ConvNeXtTiny": ("convnext_tiny", 28_589_128, 27_820_128, 135, "1ec8051401bd7242", 768),
    "ConvNeXtSmall": ("convnext_small", 50_223_688, 49_454_688, 261, "f655269c797704b9", 768),
    "ConvNeXtBase": ("convnext_base", 88_591_464, 87_566_464, 261, "d1fb63833ed12918", 1024),
    "ConvNeXtLarge": ("convnext_large", 197_767_336, 196_230_336, 261, "5fa852744a9e18d5", 1536),
    "ConvNeXtXLarge": (
        "convnext_xlarge", 350_196_968, 348_147_968, 261, "c102a461a32caa76", 2048
    ),
}  # fmt: skip
# Keras' ConvNeXtTiny(include_top=False, input_shape=(64, 64, 3)) with deterministic weights
# on `IMAGES`: output (2, 2, 2, 768); 180 weight arrays whose shapes digest to
# "c50b77e09d322d48" (`shapes_digest`); sum, mean |x|, the first five values.
KERAS_TINY_NUMERICS = {
    "shapes": (180, "c50b77e09d322d48"),
    "sum": 4586.131796524394,
    "mean_abs": 0.8634844432161041,
    "first5": [
        0.11479877680540085,
        0.6094732880592346,
        0.9167627096176147,
        -0.6370404958724976,
        0.6828794479370117,
    ],
}
ADD = re.compile(r"add(_\d+)?")
AUTO_NAMED = re.compile(
    r"(layer_normalization|global_average_pooling2d|global_max_pooling2d)(_\d+)?"
)
IMAGES = np.random.default_rng(0).uniform(0, 255, size=(2, 64, 64, 3)).astype("float32")


def keras_layers(model: lamina.Model) -> list[lamina.layers.Layer]:
    """model.layers without the input (the residual adds are ops, not layers, as in Keras)."""
    return model.layers[1:]


def canonical_names(model: lamina.Model) -> list[str]:
    names = [layer.name for layer in keras_layers(model)]
    return [AUTO_NAMED.fullmatch(n).group(1) if AUTO_NAMED.fullmatch(n) else n for n in names]


def names_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def shapes_digest(shapes: list[tuple[int, ...]]) -> str:
    joined = ";".join("x".join(map(str, s)) for s in shapes)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def deterministic_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Array i from NumPy's default_rng(1000 + i): 1-D arrays uniform in [0.5, 1), others
    normal / sqrt(fan-in), fan-in = all axes but the last (kh * kw for a depthwise kernel,
    whose last axis is 1). The same rule ran in Keras."""
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


def on_meta(factory, **kwargs) -> lamina.Model:
    with torch.device("meta"):
        return factory(**kwargs)


@pytest.fixture(scope="module")
def tiny_with_keras_weights() -> lamina.Model:
    model = ConvNeXtTiny(include_top=False, input_shape=(64, 64, 3))
    model.set_weights(deterministic_weights([tuple(w.shape) for w in model.get_weights()]))
    return model


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_variant_matches_keras_counts_names_and_shapes(factory):
    name, params, headless_params, layer_count, digest, channels = KERAS[factory.__name__]
    model = on_meta(factory)
    assert model.name == name
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    assert model.count_params() == params
    assert sum(w.numel() for w in model.non_trainable_weights) == 0
    layers = keras_layers(model)
    assert len(layers) + 1 == layer_count
    assert [layer.name for layer in layers[-3:]] == [
        f"{name}_head_gap",
        f"{name}_head_layernorm",
        f"{name}_head_dense",
    ]
    # Keras' headless model: the same layers up to the last block, then a LayerNormalization
    # (as many parameters as the head's).
    assert names_digest([*canonical_names(model)[:-3], "layer_normalization"]) == digest
    assert params - model.get_layer(f"{name}_head_dense").count_params() == headless_params
    assert layers[-4].output.shape == (None, 7, 7, channels)


@pytest.mark.parametrize(
    ("pooling", "pool_name", "output_shape"),
    [
        (None, None, (None, None, None, 768)),
        ("avg", "global_average_pooling2d", (None, 768)),
        ("max", "global_max_pooling2d", (None, 768)),
    ],
)
def test_tiny_without_top_ends_with_keras_pooling_and_layer_normalization(
    pooling, pool_name, output_shape
):
    model = on_meta(ConvNeXtTiny, include_top=False, pooling=pooling)
    names = canonical_names(model)
    assert names[-1] == "layer_normalization"
    expected_before = pool_name or "convnext_tiny_stage_3_block_2_identity"
    assert names[-2] == expected_before
    assert model.layers[-1].epsilon == pytest.approx(1e-6)
    assert model.output_shape == output_shape
    assert model.count_params() == KERAS["ConvNeXtTiny"][2]


def test_tiny_layers_are_keras_names_and_kinds_in_keras_order():
    model = on_meta(ConvNeXtTiny, include_top=False)
    names = canonical_names(model)
    assert names[:2] == ["convnext_tiny_prestem_normalization", "convnext_tiny_stem"]
    block = [n for n in names if n.startswith("convnext_tiny_stage_1_block_2_")]
    parts = ["depthwise_conv", "layernorm", "pointwise_conv_1", "gelu", "pointwise_conv_2"]
    assert block == [f"convnext_tiny_stage_1_block_2_{p}" for p in [*parts, "layer_scale"]] + [
        "convnext_tiny_stage_1_block_2_identity"
    ]
    after_stage_1 = names.index("convnext_tiny_stage_1_block_2_identity") + 1
    assert names[after_stage_1] == "convnext_tiny_downsampling_block_1"
    stem = model.get_layer("convnext_tiny_stem")
    assert isinstance(stem, lamina.Sequential)
    assert [layer.name for layer in stem.layers] == [
        "convnext_tiny_stem_conv",
        "convnext_tiny_stem_layernorm",
    ]
    downsampling = model.get_layer("convnext_tiny_downsampling_block_0")
    assert [layer.name for layer in downsampling.layers] == [
        "convnext_tiny_downsampling_layernorm_0",
        "convnext_tiny_downsampling_conv_0",
    ]
    # Keras 3.15.1: 18 residual adds, ops in model.operations and not in model.layers
    adds = [op for op in model.operations if ADD.fullmatch(op.name)]
    assert len(adds) == 18 and not any(op in model.layers for op in adds)


def test_tiny_numerics_match_keras_with_the_same_weights(tiny_with_keras_weights):
    shapes = [tuple(w.shape) for w in tiny_with_keras_weights.get_weights()]
    assert (len(shapes), shapes_digest(shapes)) == KERAS_TINY_NUMERICS["shapes"]
    output = tiny_with_keras_weights.predict(IMAGES, verbose=0).astype("float64")
    assert output.shape == (2, 2, 2, 768)
    assert output.sum() == pytest.approx(KERAS_TINY_NUMERICS["sum"], rel=1e-4)
    assert np.abs(output).mean() == pytest.approx(KERAS_TINY_NUMERICS["mean_abs"], rel=1e-4)
    np.testing.assert_allclose(output.ravel()[:5], KERAS_TINY_NUMERICS["first5"], rtol=1e-4)


def test_weights_path_loads_into_the_model(tiny_with_keras_weights, tmp_path):
    # A .weights.h5 file locates weights by position, as Keras'; a .safetensors file by layer
    # name, which the headless model's auto-named LayerNormalization changes within a session.
    path = tmp_path / "tiny_notop.weights.h5"
    tiny_with_keras_weights.save_weights(str(path))
    restored = ConvNeXtTiny(include_top=False, input_shape=(64, 64, 3), weights=path)
    np.testing.assert_allclose(
        restored.predict(IMAGES, verbose=0),
        tiny_with_keras_weights.predict(IMAGES, verbose=0),
        rtol=1e-6,
    )


def test_prestem_normalization_uses_imagenet_statistics_on_0_255_pixels():
    model = on_meta(ConvNeXtTiny, include_top=False)
    config = model.get_layer("convnext_tiny_prestem_normalization").get_config()
    assert config["mean"] == pytest.approx([0.485 * 255, 0.456 * 255, 0.406 * 255])
    assert config["variance"] == pytest.approx([(s * 255) ** 2 for s in (0.229, 0.224, 0.225)])


def test_include_preprocessing_false_and_one_channel_skip_the_normalization():
    for kwargs in ({"include_preprocessing": False}, {"input_shape": (32, 32, 1)}):
        model = on_meta(ConvNeXtTiny, include_top=False, **kwargs)
        assert model.layers[1].name == "convnext_tiny_stem"


def test_name_prefixes_every_layer_and_input_tensor_is_used():
    inputs = lamina.Input((32, 32, 3))
    model = on_meta(ConvNeXtTiny, input_tensor=inputs, name="mine", classes=5)
    assert model.inputs[0] is inputs
    assert model.name == "mine"
    assert model.layers[-1].name == "mine_head_dense"
    assert model.output_shape == (None, 5)
    assert all(layer.name.startswith("mine_") for layer in keras_layers(model))


def test_layer_scale_matches_keras_weight_and_config():
    layer = check_layer(
        LayerScale,
        {"init_values": 1e-6, "projection_dim": 4},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 4),
        expected_num_trainable_weights=1,
        expected_num_non_trainable_weights=0,
    )
    assert layer.get_config()["init_values"] == 1e-6
    assert layer.get_config()["projection_dim"] == 4
    # Keras' weight has no name of its own: 'variable', read as `gamma`.
    assert layer.variable is layer.gamma
    np.testing.assert_allclose(LayerScale(0.5, 4)(torch.ones(1, 4)).detach().numpy(), 0.5)


def test_layer_scale_rejects_other_channel_counts():
    with pytest.raises(ValueError, match="LayerScale 'scale' has projection_dim=4; got an input"):
        LayerScale(1e-6, 4, name="scale")(torch.ones(2, 3))


def test_stochastic_depth_drops_whole_samples_only_in_training():
    layer = StochasticDepth(0.5)
    x = torch.ones(64, 3, 3, 2)
    assert torch.equal(layer(x), x)
    torch.manual_seed(0)
    dropped = layer(x, training=True)
    per_sample = dropped.reshape(64, -1)
    # Each sample is all zeros or all 1 / (1 - 0.5) = 2.
    assert all(set(row.tolist()) in ({0.0}, {2.0}) for row in per_sample)
    kept = int((per_sample[:, 0] == 2.0).sum())
    assert 16 < kept < 48
    assert StochasticDepth.from_config(layer.get_config()).drop_path_rate == 0.5


def test_stochastic_depth_rejects_rates_outside_zero_one():
    with pytest.raises(ValueError, match=r"drop_path_rate must be in \[0, 1\)"):
        StochasticDepth(1.0)


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match=f"{factory.__name__}: no pretrained 'imagenet'"):
        factory(weights="imagenet")


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        ConvNeXtTiny(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="at least 32"):
        ConvNeXtTiny(include_top=False, input_shape=(16, 16, 3))


def test_channels_first_raises_as_in_keras():
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="ConvNeXtTiny works on channels_last images only"):
            ConvNeXtTiny(include_top=False)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_preprocess_input_is_the_identity_and_decode_predictions_checks_shape():
    images = np.full((1, 4, 4, 3), 200.0, "float32")
    assert convnext.preprocess_input(images) is images
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        convnext.decode_predictions(np.zeros((1, 10)))
