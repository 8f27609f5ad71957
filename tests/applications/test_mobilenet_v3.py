"""MobileNetV3Small / MobileNetV3Large against Keras 3.15.1's keras.applications.

Reference values are outputs of Keras 3.15.1 (torch backend) scratch programs:
- names, counts, shapes and get_weights() shapes: `keras.utils.clear_session();
  m = keras.applications.MobileNetV3Small(weights=None, ...)`, then `[l.name for l in m.layers]`,
  `m.count_params()`, the sizes of `m.trainable_weights` / `m.non_trainable_weights`,
  `m.input_shape`, `m.output_shape` and `[w.shape for w in m.get_weights()]`;
- numbers: the same models with `set_weights(deterministic_weights(...))` (the rule below) and
  `predict` of `np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))` float32.

Keras' squeeze-excite gate computes `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)` with operations on
symbolic tensors, which are not in `model.layers`; lamina's are not either.
"""

import math

import numpy as np
import pytest

import lamina
from lamina.applications.mobilenet_v3 import (
    MobileNetV3Large,
    MobileNetV3Small,
    decode_predictions,
    preprocess_input,
)


def words(text: str) -> list[str]:
    """The whitespace-separated words of `text` (long Keras listings kept compact)."""
    return text.split()


# Keras' `[layer.name for layer in model.layers][1:]` after clear_session(), with the top.
SMALL_NAMES = words(
    """
    rescaling conv conv_bn activation expanded_conv_depthwise_pad expanded_conv_depthwise
    expanded_conv_depthwise_bn re_lu expanded_conv_squeeze_excite_avg_pool
    expanded_conv_squeeze_excite_conv expanded_conv_squeeze_excite_relu
    expanded_conv_squeeze_excite_conv_1 re_lu_1 expanded_conv_squeeze_excite_mul
    expanded_conv_project expanded_conv_project_bn expanded_conv_1_expand
    expanded_conv_1_expand_bn re_lu_2 expanded_conv_1_depthwise_pad
    expanded_conv_1_depthwise expanded_conv_1_depthwise_bn re_lu_3 expanded_conv_1_project
    expanded_conv_1_project_bn expanded_conv_2_expand expanded_conv_2_expand_bn re_lu_4
    expanded_conv_2_depthwise expanded_conv_2_depthwise_bn re_lu_5 expanded_conv_2_project
    expanded_conv_2_project_bn expanded_conv_2_add expanded_conv_3_expand
    expanded_conv_3_expand_bn activation_1 expanded_conv_3_depthwise_pad
    expanded_conv_3_depthwise expanded_conv_3_depthwise_bn activation_2
    expanded_conv_3_squeeze_excite_avg_pool expanded_conv_3_squeeze_excite_conv
    expanded_conv_3_squeeze_excite_relu expanded_conv_3_squeeze_excite_conv_1 re_lu_6
    expanded_conv_3_squeeze_excite_mul expanded_conv_3_project expanded_conv_3_project_bn
    expanded_conv_4_expand expanded_conv_4_expand_bn activation_3 expanded_conv_4_depthwise
    expanded_conv_4_depthwise_bn activation_4 expanded_conv_4_squeeze_excite_avg_pool
    expanded_conv_4_squeeze_excite_conv expanded_conv_4_squeeze_excite_relu
    expanded_conv_4_squeeze_excite_conv_1 re_lu_7 expanded_conv_4_squeeze_excite_mul
    expanded_conv_4_project expanded_conv_4_project_bn expanded_conv_4_add
    expanded_conv_5_expand expanded_conv_5_expand_bn activation_5 expanded_conv_5_depthwise
    expanded_conv_5_depthwise_bn activation_6 expanded_conv_5_squeeze_excite_avg_pool
    expanded_conv_5_squeeze_excite_conv expanded_conv_5_squeeze_excite_relu
    expanded_conv_5_squeeze_excite_conv_1 re_lu_8 expanded_conv_5_squeeze_excite_mul
    expanded_conv_5_project expanded_conv_5_project_bn expanded_conv_5_add
    expanded_conv_6_expand expanded_conv_6_expand_bn activation_7 expanded_conv_6_depthwise
    expanded_conv_6_depthwise_bn activation_8 expanded_conv_6_squeeze_excite_avg_pool
    expanded_conv_6_squeeze_excite_conv expanded_conv_6_squeeze_excite_relu
    expanded_conv_6_squeeze_excite_conv_1 re_lu_9 expanded_conv_6_squeeze_excite_mul
    expanded_conv_6_project expanded_conv_6_project_bn expanded_conv_7_expand
    expanded_conv_7_expand_bn activation_9 expanded_conv_7_depthwise
    expanded_conv_7_depthwise_bn activation_10 expanded_conv_7_squeeze_excite_avg_pool
    expanded_conv_7_squeeze_excite_conv expanded_conv_7_squeeze_excite_relu
    expanded_conv_7_squeeze_excite_conv_1 re_lu_10 expanded_conv_7_squeeze_excite_mul
    expanded_conv_7_project expanded_conv_7_project_bn expanded_conv_7_add
    expanded_conv_8_expand expanded_conv_8_expand_bn activation_11
    expanded_conv_8_depthwise_pad expanded_conv_8_depthwise expanded_conv_8_depthwise_bn
    activation_12 expanded_conv_8_squeeze_excite_avg_pool
    expanded_conv_8_squeeze_excite_conv expanded_conv_8_squeeze_excite_relu
    expanded_conv_8_squeeze_excite_conv_1 re_lu_11 expanded_conv_8_squeeze_excite_mul
    expanded_conv_8_project expanded_conv_8_project_bn expanded_conv_9_expand
    expanded_conv_9_expand_bn activation_13 expanded_conv_9_depthwise
    expanded_conv_9_depthwise_bn activation_14 expanded_conv_9_squeeze_excite_avg_pool
    expanded_conv_9_squeeze_excite_conv expanded_conv_9_squeeze_excite_relu
    expanded_conv_9_squeeze_excite_conv_1 re_lu_12 expanded_conv_9_squeeze_excite_mul
    expanded_conv_9_project expanded_conv_9_project_bn expanded_conv_9_add
    expanded_conv_10_expand expanded_conv_10_expand_bn activation_15
    expanded_conv_10_depthwise expanded_conv_10_depthwise_bn activation_16
    expanded_conv_10_squeeze_excite_avg_pool expanded_conv_10_squeeze_excite_conv
    expanded_conv_10_squeeze_excite_relu expanded_conv_10_squeeze_excite_conv_1 re_lu_13
    expanded_conv_10_squeeze_excite_mul expanded_conv_10_project expanded_conv_10_project_bn
    expanded_conv_10_add conv_1 conv_1_bn activation_17 global_average_pooling2d conv_2
    activation_18 dropout logits flatten predictions
    """
)
LARGE_NAMES = words(
    """
    rescaling conv conv_bn activation expanded_conv_depthwise expanded_conv_depthwise_bn
    re_lu expanded_conv_project expanded_conv_project_bn expanded_conv_add
    expanded_conv_1_expand expanded_conv_1_expand_bn re_lu_1 expanded_conv_1_depthwise_pad
    expanded_conv_1_depthwise expanded_conv_1_depthwise_bn re_lu_2 expanded_conv_1_project
    expanded_conv_1_project_bn expanded_conv_2_expand expanded_conv_2_expand_bn re_lu_3
    expanded_conv_2_depthwise expanded_conv_2_depthwise_bn re_lu_4 expanded_conv_2_project
    expanded_conv_2_project_bn expanded_conv_2_add expanded_conv_3_expand
    expanded_conv_3_expand_bn re_lu_5 expanded_conv_3_depthwise_pad
    expanded_conv_3_depthwise expanded_conv_3_depthwise_bn re_lu_6
    expanded_conv_3_squeeze_excite_avg_pool expanded_conv_3_squeeze_excite_conv
    expanded_conv_3_squeeze_excite_relu expanded_conv_3_squeeze_excite_conv_1 re_lu_7
    expanded_conv_3_squeeze_excite_mul expanded_conv_3_project expanded_conv_3_project_bn
    expanded_conv_4_expand expanded_conv_4_expand_bn re_lu_8 expanded_conv_4_depthwise
    expanded_conv_4_depthwise_bn re_lu_9 expanded_conv_4_squeeze_excite_avg_pool
    expanded_conv_4_squeeze_excite_conv expanded_conv_4_squeeze_excite_relu
    expanded_conv_4_squeeze_excite_conv_1 re_lu_10 expanded_conv_4_squeeze_excite_mul
    expanded_conv_4_project expanded_conv_4_project_bn expanded_conv_4_add
    expanded_conv_5_expand expanded_conv_5_expand_bn re_lu_11 expanded_conv_5_depthwise
    expanded_conv_5_depthwise_bn re_lu_12 expanded_conv_5_squeeze_excite_avg_pool
    expanded_conv_5_squeeze_excite_conv expanded_conv_5_squeeze_excite_relu
    expanded_conv_5_squeeze_excite_conv_1 re_lu_13 expanded_conv_5_squeeze_excite_mul
    expanded_conv_5_project expanded_conv_5_project_bn expanded_conv_5_add
    expanded_conv_6_expand expanded_conv_6_expand_bn activation_1
    expanded_conv_6_depthwise_pad expanded_conv_6_depthwise expanded_conv_6_depthwise_bn
    activation_2 expanded_conv_6_project expanded_conv_6_project_bn expanded_conv_7_expand
    expanded_conv_7_expand_bn activation_3 expanded_conv_7_depthwise
    expanded_conv_7_depthwise_bn activation_4 expanded_conv_7_project
    expanded_conv_7_project_bn expanded_conv_7_add expanded_conv_8_expand
    expanded_conv_8_expand_bn activation_5 expanded_conv_8_depthwise
    expanded_conv_8_depthwise_bn activation_6 expanded_conv_8_project
    expanded_conv_8_project_bn expanded_conv_8_add expanded_conv_9_expand
    expanded_conv_9_expand_bn activation_7 expanded_conv_9_depthwise
    expanded_conv_9_depthwise_bn activation_8 expanded_conv_9_project
    expanded_conv_9_project_bn expanded_conv_9_add expanded_conv_10_expand
    expanded_conv_10_expand_bn activation_9 expanded_conv_10_depthwise
    expanded_conv_10_depthwise_bn activation_10 expanded_conv_10_squeeze_excite_avg_pool
    expanded_conv_10_squeeze_excite_conv expanded_conv_10_squeeze_excite_relu
    expanded_conv_10_squeeze_excite_conv_1 re_lu_14 expanded_conv_10_squeeze_excite_mul
    expanded_conv_10_project expanded_conv_10_project_bn expanded_conv_11_expand
    expanded_conv_11_expand_bn activation_11 expanded_conv_11_depthwise
    expanded_conv_11_depthwise_bn activation_12 expanded_conv_11_squeeze_excite_avg_pool
    expanded_conv_11_squeeze_excite_conv expanded_conv_11_squeeze_excite_relu
    expanded_conv_11_squeeze_excite_conv_1 re_lu_15 expanded_conv_11_squeeze_excite_mul
    expanded_conv_11_project expanded_conv_11_project_bn expanded_conv_11_add
    expanded_conv_12_expand expanded_conv_12_expand_bn activation_13
    expanded_conv_12_depthwise_pad expanded_conv_12_depthwise expanded_conv_12_depthwise_bn
    activation_14 expanded_conv_12_squeeze_excite_avg_pool
    expanded_conv_12_squeeze_excite_conv expanded_conv_12_squeeze_excite_relu
    expanded_conv_12_squeeze_excite_conv_1 re_lu_16 expanded_conv_12_squeeze_excite_mul
    expanded_conv_12_project expanded_conv_12_project_bn expanded_conv_13_expand
    expanded_conv_13_expand_bn activation_15 expanded_conv_13_depthwise
    expanded_conv_13_depthwise_bn activation_16 expanded_conv_13_squeeze_excite_avg_pool
    expanded_conv_13_squeeze_excite_conv expanded_conv_13_squeeze_excite_relu
    expanded_conv_13_squeeze_excite_conv_1 re_lu_17 expanded_conv_13_squeeze_excite_mul
    expanded_conv_13_project expanded_conv_13_project_bn expanded_conv_13_add
    expanded_conv_14_expand expanded_conv_14_expand_bn activation_17
    expanded_conv_14_depthwise expanded_conv_14_depthwise_bn activation_18
    expanded_conv_14_squeeze_excite_avg_pool expanded_conv_14_squeeze_excite_conv
    expanded_conv_14_squeeze_excite_relu expanded_conv_14_squeeze_excite_conv_1 re_lu_18
    expanded_conv_14_squeeze_excite_mul expanded_conv_14_project expanded_conv_14_project_bn
    expanded_conv_14_add conv_1 conv_1_bn activation_19 global_average_pooling2d conv_2
    activation_20 dropout logits flatten predictions
    """
)
SMALL_WEIGHT_SHAPES = words(
    """
    3x3x3x16 16 16 16 16 3x3x16x1 16 16 16 16 1x1x16x8 8 1x1x8x16 16 1x1x16x16 16 16 16 16
    1x1x16x72 72 72 72 72 3x3x72x1 72 72 72 72 1x1x72x24 24 24 24 24 1x1x24x88 88 88 88 88
    3x3x88x1 88 88 88 88 1x1x88x24 24 24 24 24 1x1x24x96 96 96 96 96 5x5x96x1 96 96 96 96
    1x1x96x24 24 1x1x24x96 96 1x1x96x40 40 40 40 40 1x1x40x240 240 240 240 240 5x5x240x1 240
    240 240 240 1x1x240x64 64 1x1x64x240 240 1x1x240x40 40 40 40 40 1x1x40x240 240 240 240
    240 5x5x240x1 240 240 240 240 1x1x240x64 64 1x1x64x240 240 1x1x240x40 40 40 40 40
    1x1x40x120 120 120 120 120 5x5x120x1 120 120 120 120 1x1x120x32 32 1x1x32x120 120
    1x1x120x48 48 48 48 48 1x1x48x144 144 144 144 144 5x5x144x1 144 144 144 144 1x1x144x40
    40 1x1x40x144 144 1x1x144x48 48 48 48 48 1x1x48x288 288 288 288 288 5x5x288x1 288 288
    288 288 1x1x288x72 72 1x1x72x288 288 1x1x288x96 96 96 96 96 1x1x96x576 576 576 576 576
    5x5x576x1 576 576 576 576 1x1x576x144 144 1x1x144x576 576 1x1x576x96 96 96 96 96
    1x1x96x576 576 576 576 576 5x5x576x1 576 576 576 576 1x1x576x144 144 1x1x144x576 576
    1x1x576x96 96 96 96 96 1x1x96x576 576 576 576 576 1x1x576x1024 1024 1x1x1024x1000 1000
    """
)
LARGE_NOTOP_WEIGHT_SHAPES = words(
    """
    3x3x3x16 16 16 16 16 3x3x16x1 16 16 16 16 1x1x16x16 16 16 16 16 1x1x16x64 64 64 64 64
    3x3x64x1 64 64 64 64 1x1x64x24 24 24 24 24 1x1x24x72 72 72 72 72 3x3x72x1 72 72 72 72
    1x1x72x24 24 24 24 24 1x1x24x72 72 72 72 72 5x5x72x1 72 72 72 72 1x1x72x24 24 1x1x24x72
    72 1x1x72x40 40 40 40 40 1x1x40x120 120 120 120 120 5x5x120x1 120 120 120 120 1x1x120x32
    32 1x1x32x120 120 1x1x120x40 40 40 40 40 1x1x40x120 120 120 120 120 5x5x120x1 120 120
    120 120 1x1x120x32 32 1x1x32x120 120 1x1x120x40 40 40 40 40 1x1x40x240 240 240 240 240
    3x3x240x1 240 240 240 240 1x1x240x80 80 80 80 80 1x1x80x200 200 200 200 200 3x3x200x1
    200 200 200 200 1x1x200x80 80 80 80 80 1x1x80x184 184 184 184 184 3x3x184x1 184 184 184
    184 1x1x184x80 80 80 80 80 1x1x80x184 184 184 184 184 3x3x184x1 184 184 184 184
    1x1x184x80 80 80 80 80 1x1x80x480 480 480 480 480 3x3x480x1 480 480 480 480 1x1x480x120
    120 1x1x120x480 480 1x1x480x112 112 112 112 112 1x1x112x672 672 672 672 672 3x3x672x1
    672 672 672 672 1x1x672x168 168 1x1x168x672 672 1x1x672x112 112 112 112 112 1x1x112x672
    672 672 672 672 5x5x672x1 672 672 672 672 1x1x672x168 168 1x1x168x672 672 1x1x672x160
    160 160 160 160 1x1x160x960 960 960 960 960 5x5x960x1 960 960 960 960 1x1x960x240 240
    1x1x240x960 960 1x1x960x160 160 160 160 160 1x1x160x960 960 960 960 960 5x5x960x1 960
    960 960 960 1x1x960x240 240 1x1x240x960 960 1x1x960x160 160 160 160 160 1x1x160x960 960
    960 960 960
    """
)

# Keras' (count_params, trainable, non-trainable, layers without the input) by model.
KERAS_COUNTS = {
    ("small", "top"): (2_554_968, 2_542_856, 12_112, 163),
    ("small", "notop"): (939_120, 927_008, 12_112, 156),
    ("large", "top"): (5_507_432, 5_483_032, 24_400, 193),
    ("large", "notop"): (2_996_352, 2_971_952, 24_400, 186),
}
FACTORIES = {"small": MobileNetV3Small, "large": MobileNetV3Large}
FEATURES = {"small": 576, "large": 960}

# Keras 3.15.1 predictions of the models named in the key with deterministic_weights, on
# the 64x64 input of the module docstring: (sum, mean |y|, flat indices, values there).
KERAS_OUTPUTS = {
    "small_top_logits": (
        945.8661789894104,
        14.872816179394722,
        [0, 7, 100, 1000, 1999],
        [-7.265448570251465, -26.274782180786133, -5.943126201629639, -11.294268608093262,
         16.537771224975586],
    ),
    "small_minimalistic_notop": (
        416497.7395901084,
        90.38579418188117,
        [0, 7, 100, 2304, 4607],
        [0.0, 313.58343505859375, 556.0783081054688, 0.0, 56.78406524658203],
    ),
    "large_notop": (
        804092.2586502512,
        104.70187110993434,
        [0, 7, 100, 3840, 7679],
        [-0.0, 128.97549438476562, -0.0, -0.0, 188.1739959716797],
    ),
}  # fmt: skip


def keras_layer_names(model: lamina.Model) -> list[str]:
    return [layer.name for layer in model.layers]


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


def shape_strings(model: lamina.Model) -> list[str]:
    return ["x".join(map(str, w.shape)) if w.ndim else "()" for w in model.get_weights()]


def predict_with_deterministic_weights(model: lamina.Model) -> np.ndarray:
    model.set_weights(deterministic_weights([w.shape for w in model.get_weights()]))
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    return np.asarray(model.predict(images, verbose=0), dtype="float64")


def assert_matches_keras(output: np.ndarray, key: str) -> None:
    total, mean_abs, indices, values = KERAS_OUTPUTS[key]
    flat = output.ravel()
    assert np.abs(flat).mean() == pytest.approx(mean_abs, rel=1e-4)
    assert flat.sum() == pytest.approx(total, rel=1e-4, abs=1e-4 * mean_abs * flat.size)
    np.testing.assert_allclose(flat[indices], values, rtol=1e-4, atol=1e-4 * mean_abs)


@pytest.mark.parametrize(
    ("family", "expected_names"), [("small", SMALL_NAMES), ("large", LARGE_NAMES)]
)
def test_with_top_matches_keras_names_counts_and_shapes(family, expected_names):
    lamina.clear_session()
    model = FACTORIES[family](weights=None)
    params, trainable, non_trainable, layer_count = KERAS_COUNTS[(family, "top")]
    names = keras_layer_names(model)
    assert names[0] == "input_layer"
    assert names[1:] == expected_names
    assert len(expected_names) == layer_count
    assert model.name == {"small": "MobileNetV3Small", "large": "MobileNetV3Large"}[family]
    assert model.count_params() == params
    assert trainable_count(model) == trainable
    assert model.count_params() - trainable_count(model) == non_trainable
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("family", ["small", "large"])
@pytest.mark.parametrize(
    ("pooling", "last_name", "spatial"),
    [(None, None, (None, None)), ("avg", "avg_pool", ()), ("max", "max_pool", ())],
)
def test_without_top_matches_keras(family, pooling, last_name, spatial):
    lamina.clear_session()
    model = FACTORIES[family](weights=None, include_top=False, pooling=pooling)
    params, trainable, non_trainable, layer_count = KERAS_COUNTS[(family, "notop")]
    names = keras_layer_names(model)[1:]
    top_names = SMALL_NAMES if family == "small" else LARGE_NAMES
    features = top_names[: top_names.index("conv_1_bn") + 2]  # through the last activation
    assert names == (features if pooling is None else [*features, last_name])
    assert len(features) == layer_count
    assert model.count_params() == params
    assert trainable_count(model) == trainable
    assert model.output_shape == (None, *spatial, FEATURES[family])


@pytest.mark.parametrize(
    ("factory", "kwargs", "keras_params", "keras_trainable", "keras_layers"),
    # Keras: count_params(), trainable size and len(model.layers) - 1 (no input layer).
    [
        (MobileNetV3Small, {"minimalistic": True}, 2_056_848, 2_044_736, 109),
        (MobileNetV3Small, {"alpha": 0.75}, 2_051_552, 2_041_872, 163),
        (MobileNetV3Small, {"alpha": 1.25}, 3_660_640, 3_645_312, 163),
        (MobileNetV3Small, {"include_preprocessing": False, "dropout_rate": 0.0}, 2_554_968,
         2_542_856, 161),
        (MobileNetV3Large, {"minimalistic": True}, 3_948_688, 3_924_288, 145),
        (MobileNetV3Large, {"alpha": 0.75}, 4_012_616, 3_993_528, 193),
        # alpha 1.25 widens the first block's output, so it loses its residual Add.
        (MobileNetV3Large, {"alpha": 1.25}, 8_286_760, 8_255_784, 192),
        (MobileNetV3Large, {"include_preprocessing": False, "dropout_rate": 0.0}, 5_507_432,
         5_483_032, 191),
    ],
)  # fmt: skip
def test_width_and_options_match_keras_counts(
    factory, kwargs, keras_params, keras_trainable, keras_layers
):
    model = factory(weights=None, input_shape=(32, 32, 3), **kwargs)
    assert model.count_params() == keras_params
    assert trainable_count(model) == keras_trainable
    assert len(keras_layer_names(model)) - 1 == keras_layers


def test_options_remove_the_rescaling_and_dropout_layers():
    lamina.clear_session()
    model = MobileNetV3Small(weights=None, include_preprocessing=False, dropout_rate=0.0)
    names = keras_layer_names(model)
    assert "rescaling" not in names
    assert "dropout" not in names
    assert names[1] == "conv"


def test_minimalistic_has_no_squeeze_excite_nor_hard_swish():
    model = MobileNetV3Large(weights=None, minimalistic=True, input_shape=(32, 32, 3))
    names = [layer.name for layer in model.layers]
    assert not any("squeeze_excite" in name for name in names)
    assert not any(isinstance(layer, lamina.layers.Activation) for layer in model.layers[:-1])
    assert model.get_layer("expanded_conv_3_depthwise").kernel_size == (3, 3)


def test_hard_sigmoid_gate_is_ops_outside_model_layers():
    lamina.clear_session()
    model = MobileNetV3Small(weights=None, include_top=False, input_shape=(32, 32, 3))
    ops = [op for op in model.operations if op not in model.layers]
    kinds, names = {type(op).__name__ for op in ops}, [op.name for op in ops]
    # Keras 3.15.1: an add and a multiply op per squeeze-excite block, numbered in turn
    assert kinds == {"OperationLayer"}
    assert names == [f"{op}_{i}" if i else op for i in range(9) for op in ("add", "multiply")]


def test_small_with_top_numbers_and_weight_shapes_match_keras():
    model = MobileNetV3Small(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
    assert shape_strings(model) == SMALL_WEIGHT_SHAPES
    output = predict_with_deterministic_weights(model)
    assert output.shape == (2, 1000)
    assert_matches_keras(output, "small_top_logits")


def test_small_minimalistic_numbers_match_keras():
    model = MobileNetV3Small(
        weights=None, input_shape=(64, 64, 3), include_top=False, minimalistic=True
    )
    output = predict_with_deterministic_weights(model)
    assert output.shape == (2, 2, 2, 576)
    assert_matches_keras(output, "small_minimalistic_notop")


def test_large_without_top_numbers_and_weight_shapes_match_keras():
    model = MobileNetV3Large(weights=None, input_shape=(64, 64, 3), include_top=False)
    assert shape_strings(model) == LARGE_NOTOP_WEIGHT_SHAPES
    output = predict_with_deterministic_weights(model)
    assert output.shape == (2, 2, 2, 960)
    assert_matches_keras(output, "large_notop")


def test_weights_path_round_trip(tmp_path):
    source = MobileNetV3Small(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    source.set_weights(deterministic_weights([w.shape for w in source.get_weights()]))
    path = tmp_path / "mobilenet_v3_small.weights.h5"
    source.save_weights(str(path))
    restored = MobileNetV3Small(
        include_top=False, input_shape=(32, 32, 3), pooling="avg", weights=path
    )
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        restored.predict(images, verbose=0), source.predict(images, verbose=0), rtol=1e-5
    )


def test_input_tensor_is_used_as_the_model_input():
    inputs = lamina.Input((48, 48, 3))
    model = MobileNetV3Small(input_tensor=inputs, include_top=False, pooling="avg")
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 576)


@pytest.mark.parametrize("factory", [MobileNetV3Small, MobileNetV3Large])
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match="no pretrained 'imagenet' weights file"):
        factory(weights="imagenet")


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        MobileNetV3Small(weights=tmp_path / "missing.weights.h5")
    with pytest.raises(ValueError, match="at least 32x32"):
        MobileNetV3Small(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        MobileNetV3Large(include_top=False, pooling="mean")


def test_preprocess_input_is_a_pass_through_and_decode_predictions_reads_labels():
    images = np.random.default_rng(2).uniform(0, 255, (1, 4, 4, 3))
    assert preprocess_input(images) is images
    scores = np.zeros((1, 1000), "float32")
    scores[0, 3] = 1.0
    (best,) = decode_predictions(scores, top=1)
    assert best[0][2] == 1.0
    assert len(best) == 1
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        decode_predictions(np.zeros((1, 10)))
