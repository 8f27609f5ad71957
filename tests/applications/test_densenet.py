"""DenseNet121/169/201 against Keras 3.15.1's keras.applications.densenet (KERAS_BACKEND=torch).

The reference numbers are Keras' outputs of a scratch program that, for each model, ran
`keras.backend.clear_session()`, built it with `weights=None` and printed `model.name`,
`len(model.layers)`, `count_params()`, the sizes of `trainable_weights` and
`non_trainable_weights`, `output_shape`, and `sha256(text)[:16]` of the layer names joined by
newlines and of `repr([w.shape for w in model.get_weights()])` (as tuples of ints). The numeric
reference set every array of `get_weights()` by `rule(index, shape)` below through
`set_weights`, then printed statistics of `predict` on the seeded input below.
"""

import hashlib

import numpy as np
import pytest

import lamina
from lamina.applications import imagenet_utils
from lamina.applications.densenet import (
    DenseNet121,
    DenseNet169,
    DenseNet201,
    decode_predictions,
    preprocess_input,
)


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


@pytest.fixture(scope="module")
def densenet121_avg() -> lamina.Model:
    """DenseNet121(include_top=False, pooling="avg", input_shape=(64, 64, 3)) with the rule's
    weights (gain 2)."""
    lamina.clear_session()
    model = DenseNet121(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    model.set_weights([rule(i, w.shape, 2.0) for i, w in enumerate(model.get_weights())])
    return model


@pytest.fixture(scope="module")
def densenet169() -> lamina.Model:
    lamina.clear_session()
    return DenseNet169()


@pytest.fixture(scope="module")
def densenet201_max() -> tuple[lamina.Model, object]:
    lamina.clear_session()
    inputs = lamina.Input((None, None, 3))
    return DenseNet201(include_top=False, pooling="max", input_tensor=inputs), inputs


def test_densenet121_headless_matches_keras_structure(densenet121_avg):
    model = densenet121_avg
    assert model.name == "densenet121"
    assert len(model.layers) == 428
    assert names_sha(model) == "4967d7bfe5274f2e"
    assert [layer.name for layer in model.layers[:8]] == [
        "input_layer",
        "zero_padding2d",
        "conv1_conv",
        "conv1_bn",
        "conv1_relu",
        "zero_padding2d_1",
        "pool1",
        "conv2_block1_0_bn",
    ]
    assert [layer.name for layer in model.layers[-3:]] == ["bn", "relu", "avg_pool"]
    assert model.count_params() == 7_037_504
    assert trainable_count(model) == 6_953_856
    assert model.output_shape == (None, 1024)


def test_densenet121_weights_list_matches_keras_shapes(densenet121_avg):
    weights = densenet121_avg.get_weights()
    assert len(weights) == 604
    assert [w.shape for w in weights[:5]] == [(7, 7, 3, 64), (64,), (64,), (64,), (64,)]
    assert shapes_sha(densenet121_avg) == "1e6240d20ce107f9"


def test_densenet121_with_rule_weights_predicts_keras_numbers(densenet121_avg):
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    output = np.asarray(densenet121_avg.predict(images, verbose=0), dtype=np.float64)
    assert output.shape == (2, 1024)
    flat = output.ravel()
    # Keras 3.15.1: sum, mean |y|, mean |y[0] - y[1]|, and flat[[1, 574, 1021, 1597, 2047]].
    assert flat.sum() == pytest.approx(734.3999862372875, rel=1e-4)
    assert np.abs(flat).mean() == pytest.approx(0.35859374327992555, rel=1e-4)
    assert np.abs(output[0] - output[1]).mean() == pytest.approx(0.013878829136956483, rel=1e-3)
    np.testing.assert_allclose(
        flat[[1, 574, 1021, 1597, 2047]],
        [0.13911065459251404, 0.52125483751297, 0.15749111771583557, 1.0667505264282227,
         0.20922498404979706],
        rtol=1e-4,
    )  # fmt: skip


def test_densenet169_with_top_matches_keras(densenet169):
    model = densenet169
    assert model.name == "densenet169"
    assert len(model.layers) == 597
    assert names_sha(model) == "639c81b2afb1b3e7"
    assert [layer.name for layer in model.layers[-4:]] == ["bn", "relu", "avg_pool", "predictions"]
    assert model.count_params() == 14_307_880
    assert trainable_count(model) == 14_149_480
    assert model.count_params() - trainable_count(model) == 158_400
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    assert len(model.get_weights()) == 846
    assert shapes_sha(model) == "5c23fdfc6e30b3e4"


def test_densenet201_max_pooling_matches_keras(densenet201_max):
    model, _ = densenet201_max
    assert model.name == "densenet201"
    assert len(model.layers) == 708
    assert names_sha(model) == "c568b5af25bbf8e0"
    assert model.layers[-1].name == "max_pool"
    assert model.count_params() == 18_321_984
    assert trainable_count(model) == 18_092_928
    assert model.output_shape == (None, 1920)


def test_input_tensor_is_the_model_input(densenet201_max):
    model, inputs = densenet201_max
    assert model.inputs[0] is inputs


@pytest.mark.parametrize("factory", [DenseNet121, DenseNet169, DenseNet201])
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match="no pretrained 'imagenet' weights file"):
        factory(weights="imagenet")


def test_input_size_and_argument_checks_as_keras():
    with pytest.raises(ValueError, match="DenseNet121: .*at least 32x32"):
        DenseNet121(include_top=False, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match="DenseNet169: .*include_top=True the input size"):
        DenseNet169(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        DenseNet201(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="no such file"):
        DenseNet121(weights="/nonexistent/densenet.weights.h5")


def test_channels_first_is_refused_as_in_keras():
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="does not support the 'channels_first'"):
            DenseNet121(weights=None)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_preprocess_input_is_keras_torch_mode():
    pixels = np.array([[[[0.0, 127.5, 255.0], [10.0, 200.0, 30.0]]]], dtype="float32")
    # Keras 3.15.1: keras.applications.densenet.preprocess_input(pixels).
    expected = [[[[-2.1179039478302, 0.1964285671710968, 2.640000104904175],
                  [-1.9466564655303955, 1.465686321258545, -1.2815686464309692]]]]  # fmt: skip
    np.testing.assert_allclose(preprocess_input(pixels.copy()), expected, rtol=1e-6)
    assert decode_predictions is imagenet_utils.decode_predictions


def test_preprocess_input_numpy_dtypes_and_in_place_as_keras():
    # Keras 3.15.1: float arrays are scaled in place and keep their dtype ('caffe' returns a
    # channel-reversed view of the input); integer arrays give a new float32 array.
    pixels = np.array([[[[0.0, 127.5, 255.0]]]])
    out = imagenet_utils.preprocess_input(pixels, mode="caffe")
    assert out.dtype == np.float64 and np.shares_memory(out, pixels)
    np.testing.assert_allclose(out.ravel(), [151.061, 10.721, -123.68], rtol=1e-6)
    np.testing.assert_allclose(pixels.ravel(), [-123.68, 10.721, 151.061], rtol=1e-6)
    first = np.array([[[[0]], [[127]], [[255]]]], dtype=np.uint8)  # channels first
    out = imagenet_utils.preprocess_input(first, data_format="channels_first", mode="torch")
    assert out.dtype == np.float32 and first.dtype == np.uint8
    np.testing.assert_allclose(out.ravel(), [-2.117904, 0.187675, 2.64], rtol=1e-5)


@pytest.mark.parametrize(
    ("mode", "data_format", "expected"),
    [
        ("tf", "channels_last", [-1.0, 0.0, 1.0, -0.921569, 0.568627, -0.764706]),
        ("torch", "channels_last", [-2.117904, 0.196429, 2.64, -1.946656, 1.465686, -1.281569]),
        ("caffe", "channels_last", [151.061, 10.721, -123.68, -73.939, 83.221, -113.68]),
        ("torch", "channels_first", [-2.117904, -1.946656, 0.196429, 1.465686, 2.64, -1.281569]),
        ("caffe", "channels_first", [151.061, -73.939, 10.721, 83.221, -123.68, -113.68]),
    ],
)
def test_preprocess_input_on_a_symbolic_input_builds_keras_ops(mode, data_format, expected):
    # Keras 3.15.1: preprocess_input(keras.Input(...)) records ops ('true_divide',
    # 'subtract' for 'tf'), so a functional model starts with it; these are its predictions.
    pixels = np.array([[[[0.0, 127.5, 255.0], [10.0, 200.0, 30.0]]]], dtype="float32")
    if data_format == "channels_first":
        pixels = pixels.transpose(0, 3, 1, 2)
    inputs = lamina.Input(pixels.shape[1:])
    outputs = imagenet_utils.preprocess_input(inputs, data_format=data_format, mode=mode)
    model = lamina.Model(inputs, outputs)
    if mode == "tf":  # model.layers lists no ops, as Keras'; the summary shows them
        lines = []
        model.summary(print_fn=lines.append)
        assert "(TrueDivide)" in "".join(lines) and "(Subtract)" in "".join(lines)
    np.testing.assert_allclose(model.predict(pixels, verbose=0).ravel(), expected, rtol=1e-5)
