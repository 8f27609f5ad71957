"""EfficientNetB0..B7 against Keras 3.15.1's keras.applications.

Reference values are outputs of Keras 3.15.1 (torch backend) scratch programs:
- names, counts, shapes and get_weights() shapes: `keras.utils.clear_session();
  m = keras.applications.EfficientNetB0(weights=None, ...)`, then `[l.name for l in m.layers]`,
  `m.count_params()`, the sizes of `m.trainable_weights` / `m.non_trainable_weights`,
  `m.input_shape`, `m.output_shape` and `[w.shape for w in m.get_weights()]`;
- numbers: EfficientNetB0(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
  with `set_weights(deterministic_weights(...))` (the rule below) and `predict` of
  `np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))` float32.

Structure and counts are checked on models built on PyTorch's meta device (no memory, no
initialisation: B7's truncated-normal initialisation alone takes tens of seconds on a CPU).
"""

import hashlib
import math

import numpy as np
import pytest
import torch

import lamina
from lamina.applications import efficientnet
from lamina.applications.efficientnet import EfficientNetB0, preprocess_input


def words(text: str) -> list[str]:
    """The whitespace-separated words of `text` (long Keras listings kept compact)."""
    return text.split()


# Keras' `[layer.name for layer in model.layers][1:]` of EfficientNetB0() after clear_session().
B0_NAMES = words(
    """
    rescaling normalization stem_conv_pad stem_conv stem_bn stem_activation block1a_dwconv
    block1a_bn block1a_activation block1a_se_squeeze block1a_se_reshape block1a_se_reduce
    block1a_se_expand block1a_se_excite block1a_project_conv block1a_project_bn
    block2a_expand_conv block2a_expand_bn block2a_expand_activation block2a_dwconv_pad
    block2a_dwconv block2a_bn block2a_activation block2a_se_squeeze block2a_se_reshape
    block2a_se_reduce block2a_se_expand block2a_se_excite block2a_project_conv
    block2a_project_bn block2b_expand_conv block2b_expand_bn block2b_expand_activation
    block2b_dwconv block2b_bn block2b_activation block2b_se_squeeze block2b_se_reshape
    block2b_se_reduce block2b_se_expand block2b_se_excite block2b_project_conv
    block2b_project_bn block2b_drop block2b_add block3a_expand_conv block3a_expand_bn
    block3a_expand_activation block3a_dwconv_pad block3a_dwconv block3a_bn
    block3a_activation block3a_se_squeeze block3a_se_reshape block3a_se_reduce
    block3a_se_expand block3a_se_excite block3a_project_conv block3a_project_bn
    block3b_expand_conv block3b_expand_bn block3b_expand_activation block3b_dwconv
    block3b_bn block3b_activation block3b_se_squeeze block3b_se_reshape block3b_se_reduce
    block3b_se_expand block3b_se_excite block3b_project_conv block3b_project_bn block3b_drop
    block3b_add block4a_expand_conv block4a_expand_bn block4a_expand_activation
    block4a_dwconv_pad block4a_dwconv block4a_bn block4a_activation block4a_se_squeeze
    block4a_se_reshape block4a_se_reduce block4a_se_expand block4a_se_excite
    block4a_project_conv block4a_project_bn block4b_expand_conv block4b_expand_bn
    block4b_expand_activation block4b_dwconv block4b_bn block4b_activation
    block4b_se_squeeze block4b_se_reshape block4b_se_reduce block4b_se_expand
    block4b_se_excite block4b_project_conv block4b_project_bn block4b_drop block4b_add
    block4c_expand_conv block4c_expand_bn block4c_expand_activation block4c_dwconv
    block4c_bn block4c_activation block4c_se_squeeze block4c_se_reshape block4c_se_reduce
    block4c_se_expand block4c_se_excite block4c_project_conv block4c_project_bn block4c_drop
    block4c_add block5a_expand_conv block5a_expand_bn block5a_expand_activation
    block5a_dwconv block5a_bn block5a_activation block5a_se_squeeze block5a_se_reshape
    block5a_se_reduce block5a_se_expand block5a_se_excite block5a_project_conv
    block5a_project_bn block5b_expand_conv block5b_expand_bn block5b_expand_activation
    block5b_dwconv block5b_bn block5b_activation block5b_se_squeeze block5b_se_reshape
    block5b_se_reduce block5b_se_expand block5b_se_excite block5b_project_conv
    block5b_project_bn block5b_drop block5b_add block5c_expand_conv block5c_expand_bn
    block5c_expand_activation block5c_dwconv block5c_bn block5c_activation
    block5c_se_squeeze block5c_se_reshape block5c_se_reduce block5c_se_expand
    block5c_se_excite block5c_project_conv block5c_project_bn block5c_drop block5c_add
    block6a_expand_conv block6a_expand_bn block6a_expand_activation block6a_dwconv_pad
    block6a_dwconv block6a_bn block6a_activation block6a_se_squeeze block6a_se_reshape
    block6a_se_reduce block6a_se_expand block6a_se_excite block6a_project_conv
    block6a_project_bn block6b_expand_conv block6b_expand_bn block6b_expand_activation
    block6b_dwconv block6b_bn block6b_activation block6b_se_squeeze block6b_se_reshape
    block6b_se_reduce block6b_se_expand block6b_se_excite block6b_project_conv
    block6b_project_bn block6b_drop block6b_add block6c_expand_conv block6c_expand_bn
    block6c_expand_activation block6c_dwconv block6c_bn block6c_activation
    block6c_se_squeeze block6c_se_reshape block6c_se_reduce block6c_se_expand
    block6c_se_excite block6c_project_conv block6c_project_bn block6c_drop block6c_add
    block6d_expand_conv block6d_expand_bn block6d_expand_activation block6d_dwconv
    block6d_bn block6d_activation block6d_se_squeeze block6d_se_reshape block6d_se_reduce
    block6d_se_expand block6d_se_excite block6d_project_conv block6d_project_bn block6d_drop
    block6d_add block7a_expand_conv block7a_expand_bn block7a_expand_activation
    block7a_dwconv block7a_bn block7a_activation block7a_se_squeeze block7a_se_reshape
    block7a_se_reduce block7a_se_expand block7a_se_excite block7a_project_conv
    block7a_project_bn top_conv top_bn top_activation avg_pool top_dropout predictions
    """
)
B0_WEIGHT_SHAPES = words(
    """
    3 3 () 3x3x3x32 32 32 32 32 3x3x32x1 32 32 32 32 1x1x32x8 8 1x1x8x32 32 1x1x32x16 16 16
    16 16 1x1x16x96 96 96 96 96 3x3x96x1 96 96 96 96 1x1x96x4 4 1x1x4x96 96 1x1x96x24 24 24
    24 24 1x1x24x144 144 144 144 144 3x3x144x1 144 144 144 144 1x1x144x6 6 1x1x6x144 144
    1x1x144x24 24 24 24 24 1x1x24x144 144 144 144 144 5x5x144x1 144 144 144 144 1x1x144x6 6
    1x1x6x144 144 1x1x144x40 40 40 40 40 1x1x40x240 240 240 240 240 5x5x240x1 240 240 240
    240 1x1x240x10 10 1x1x10x240 240 1x1x240x40 40 40 40 40 1x1x40x240 240 240 240 240
    3x3x240x1 240 240 240 240 1x1x240x10 10 1x1x10x240 240 1x1x240x80 80 80 80 80 1x1x80x480
    480 480 480 480 3x3x480x1 480 480 480 480 1x1x480x20 20 1x1x20x480 480 1x1x480x80 80 80
    80 80 1x1x80x480 480 480 480 480 3x3x480x1 480 480 480 480 1x1x480x20 20 1x1x20x480 480
    1x1x480x80 80 80 80 80 1x1x80x480 480 480 480 480 5x5x480x1 480 480 480 480 1x1x480x20
    20 1x1x20x480 480 1x1x480x112 112 112 112 112 1x1x112x672 672 672 672 672 5x5x672x1 672
    672 672 672 1x1x672x28 28 1x1x28x672 672 1x1x672x112 112 112 112 112 1x1x112x672 672 672
    672 672 5x5x672x1 672 672 672 672 1x1x672x28 28 1x1x28x672 672 1x1x672x112 112 112 112
    112 1x1x112x672 672 672 672 672 5x5x672x1 672 672 672 672 1x1x672x28 28 1x1x28x672 672
    1x1x672x192 192 192 192 192 1x1x192x1152 1152 1152 1152 1152 5x5x1152x1 1152 1152 1152
    1152 1x1x1152x48 48 1x1x48x1152 1152 1x1x1152x192 192 192 192 192 1x1x192x1152 1152 1152
    1152 1152 5x5x1152x1 1152 1152 1152 1152 1x1x1152x48 48 1x1x48x1152 1152 1x1x1152x192
    192 192 192 192 1x1x192x1152 1152 1152 1152 1152 5x5x1152x1 1152 1152 1152 1152
    1x1x1152x48 48 1x1x48x1152 1152 1x1x1152x192 192 192 192 192 1x1x192x1152 1152 1152 1152
    1152 3x3x1152x1 1152 1152 1152 1152 1x1x1152x48 48 1x1x48x1152 1152 1x1x1152x320 320 320
    320 320 1x1x320x1280 1280 1280 1280 1280 1280x1000 1000
    """
)

# Keras, by model with the top (default input): count_params, trainable and non-trainable
# sizes, len(model.layers), the first 16 hex digits of the SHA-256 of
# "\n".join(names[1:]), default input size and the channels of `top_conv`.
KERAS_SCALED = {
    "EfficientNetB1": (7_856_239, 7_794_184, 62_055, 342, "98b4b7cf002c70d0", 240, 1280),
    "EfficientNetB2": (9_177_569, 9_109_994, 67_575, 342, "98b4b7cf002c70d0", 260, 1408),
    "EfficientNetB3": (12_320_535, 12_233_232, 87_303, 387, "790393ebcdf965cb", 300, 1536),
    "EfficientNetB4": (19_466_823, 19_341_616, 125_207, 477, "478470a4e985e14a", 380, 1792),
    "EfficientNetB5": (30_562_527, 30_389_784, 172_743, 579, "8a90ae3af69a41e3", 456, 2048),
    "EfficientNetB6": (43_265_143, 43_040_704, 224_439, 669, "1183ba437daaf4ae", 528, 2304),
    "EfficientNetB7": (66_658_687, 66_347_960, 310_727, 816, "1451cbe45c035af8", 600, 2560),
}
# Keras 3.15.1's predictions (logits) of the model of the module docstring: sum, mean |y|,
# flat indices and the values there.
KERAS_B0_LOGITS = (
    1851.3485703468323,
    4.336900245666504,
    [0, 7, 100, 1000, 1999],
    [-1.9412370920181274, -0.3058484196662903, 8.646799087524414, 0.0309106707572937,
     -9.672059059143066],
)  # fmt: skip


def on_meta(factory, **kwargs) -> lamina.Model:
    lamina.clear_session()
    with torch.device("meta"):
        return factory(weights=None, **kwargs)


def trainable_count(model: lamina.Model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def deterministic_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Array i from default_rng(1000 + i): kernels 1.4 * normal / sqrt(fan-in) (depthwise
    (kh, kw, in, 1): fan-in kh * kw), vectors uniform in [0.5, 1.5], scalars 0."""
    arrays = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(1000 + index)
        if len(shape) == 0:
            arrays.append(np.zeros(shape, "float32"))
        elif len(shape) == 1:
            arrays.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            fan_in = math.prod(shape[:-2]) if shape[-1] == 1 else math.prod(shape[:-1])
            arrays.append((1.4 * rng.normal(size=shape) / math.sqrt(fan_in)).astype("float32"))
    return arrays


def images() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")


@pytest.fixture(scope="module")
def b0_logits_model() -> lamina.Model:
    model = EfficientNetB0(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
    model.set_weights(deterministic_weights([w.shape for w in model.get_weights()]))
    return model


def test_b0_with_top_matches_keras_names_counts_and_shapes():
    model = on_meta(EfficientNetB0)
    names = [layer.name for layer in model.layers]
    assert names == ["input_layer", *B0_NAMES]
    assert model.name == "efficientnetb0"
    assert model.count_params() == 5_330_571
    assert trainable_count(model) == 5_288_548
    assert model.count_params() - trainable_count(model) == 42_023
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize(
    ("pooling", "last_name", "output_shape"),
    [(None, None, (None, None, None, 1280)), ("avg", "avg_pool", (None, 1280)),
     ("max", "max_pool", (None, 1280))],
)  # fmt: skip
def test_b0_without_top_matches_keras(pooling, last_name, output_shape):
    model = on_meta(EfficientNetB0, include_top=False, pooling=pooling)
    features = B0_NAMES[: B0_NAMES.index("top_activation") + 1]
    names = [layer.name for layer in model.layers][1:]
    assert names == (features if pooling is None else [*features, last_name])
    assert model.count_params() == 4_049_571
    assert trainable_count(model) == 4_007_548
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == output_shape


@pytest.mark.parametrize("architecture", sorted(KERAS_SCALED))
def test_scaled_models_match_keras_counts_and_names(architecture):
    params, trainable, non_trainable, layer_count, names_digest, size, channels = KERAS_SCALED[
        architecture
    ]
    model = on_meta(getattr(efficientnet, architecture))
    names = [layer.name for layer in model.layers]
    assert model.name == architecture.lower()
    assert model.count_params() == params
    assert trainable_count(model) == trainable
    assert model.count_params() - trainable_count(model) == non_trainable
    assert len(names) == layer_count
    assert hashlib.sha256("\n".join(names[1:]).encode()).hexdigest()[:16] == names_digest
    assert model.input_shape == (None, size, size, 3)
    assert model.get_layer("top_conv").filters == channels
    assert model.output_shape == (None, 1000)


def test_stochastic_depth_rate_grows_over_the_blocks_as_keras():
    model = on_meta(EfficientNetB0, include_top=False)
    # Keras: drop_connect_rate 0.2 * block index / 16 blocks, on blocks with a residual.
    assert model.get_layer("block2b_drop").rate == pytest.approx(0.2 * 2 / 16)
    assert model.get_layer("block6d_drop").rate == pytest.approx(0.2 * 14 / 16)
    assert model.get_layer("block2b_drop").noise_shape == (None, 1, 1, 1)
    assert "block7a_drop" not in [layer.name for layer in model.layers]


def test_b0_numbers_and_weight_shapes_match_keras(b0_logits_model):
    shapes = [
        "x".join(map(str, w.shape)) if w.ndim else "()" for w in b0_logits_model.get_weights()
    ]
    assert shapes == B0_WEIGHT_SHAPES
    output = np.asarray(b0_logits_model.predict(images(), verbose=0), dtype="float64")
    total, mean_abs, indices, values = KERAS_B0_LOGITS
    flat = output.ravel()
    assert output.shape == (2, 1000)
    assert np.abs(flat).mean() == pytest.approx(mean_abs, rel=1e-4)
    assert flat.sum() == pytest.approx(total, rel=1e-4)
    np.testing.assert_allclose(flat[indices], values, rtol=1e-4, atol=1e-4 * mean_abs)


def test_weights_path_round_trip(b0_logits_model, tmp_path):
    path = tmp_path / "efficientnetb0.weights.h5"
    b0_logits_model.save_weights(str(path))
    restored = EfficientNetB0(weights=path, input_shape=(64, 64, 3), classifier_activation=None)
    np.testing.assert_allclose(
        restored.predict(images(), verbose=0),
        b0_logits_model.predict(images(), verbose=0),
        rtol=1e-5,
        atol=1e-5,
    )


def test_input_tensor_is_used_as_the_model_input():
    with torch.device("meta"):
        inputs = lamina.Input((48, 48, 3))
        model = efficientnet.EfficientNetB1(input_tensor=inputs, include_top=False)
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 2, 2, 1280)


@pytest.mark.parametrize("architecture", ["EfficientNetB0", *sorted(KERAS_SCALED)])
def test_imagenet_weights_raise_a_clear_error(architecture):
    with pytest.raises(ValueError, match="no pretrained 'imagenet' weights file"):
        getattr(efficientnet, architecture)(weights="imagenet")


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        EfficientNetB0(weights=tmp_path / "missing.weights.h5")
    with pytest.raises(ValueError, match="input size must be known"):
        EfficientNetB0(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        EfficientNetB0(include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        EfficientNetB0(include_top=False, pooling="mean")


def test_preprocess_input_is_a_pass_through():
    pixels = np.random.default_rng(2).uniform(0, 255, (1, 4, 4, 3))
    assert preprocess_input(pixels) is pixels
