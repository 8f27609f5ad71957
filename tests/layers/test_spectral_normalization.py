"""SpectralNormalization: the kernel divided by its power-iteration spectral norm, as Keras."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.convolution import Conv2D
from lamina.layers.core import Dense, Input
from lamina.layers.embedding import Embedding
from lamina.layers.spectral_normalization import SpectralNormalization
from lamina.testing import check_layer

# The reference values below come from Keras 3.15.1 (torch backend): the same arrays (drawn
# by np.random.default_rng(0) in this order) set with set_weights([kernel, vector_u, ...]),
# then one call with training=True.
KERAS_TRAIN_OUTPUT = {
    1: [[-0.4404112, 1.2728244, -0.7625163], [-0.64516, 1.1210493, -0.4856992]],
    3: [[-0.4394615, 1.2731096, -0.7622199], [-0.6435869, 1.1217966, -0.4862458]],
}
KERAS_KERNEL = {  # Keras' layout (input_dim, units)
    1: [
        [-0.2372665, -0.4266407, -0.2101389],
        [0.0139332, -0.7838911, -0.0737663],
        [-0.4200627, -0.2468862, -0.1834986],
        [-0.1066416, 0.1387825, 0.3514865],
    ],
    3: [
        [-0.236544, -0.4253415, -0.209499],
        [0.0138908, -0.7815042, -0.0735416],
        [-0.4187835, -0.2461344, -0.1829398],
        [-0.1063168, 0.1383599, 0.3504162],
    ],
}
KERAS_U = {1: [[0.2687153, 0.9210137, 0.2820034]], 3: [[0.2519539, 0.9183784, 0.3051234]]}
KERAS_CONV_OUTPUT_CHANNEL_0 = [
    [0.8374575, 0.8904743, 2.0635715],
    [-0.9223101, 2.5667417, -0.3183992],
    [-0.3054015, 1.769429, -0.3621528],
]
KERAS_CONV_U = [[0.0668329, -0.359206, -0.9308622]]
KERAS_EMBEDDINGS = [
    [0.2181567, 0.201115],
    [0.4479879, -0.2611347],
    [0.5845231, -0.0994518],
    [0.544831, -0.1497675],
    [-0.2545173, 0.0864393],
]
KERAS_EMBEDDING_U = [[0.9742659, -0.225402]]
# Keras 3.15.1's output before any training call (the kernel as set).
KERAS_INFERENCE_OUTPUT = [[-1.0535643, 1.088729, -0.9538517], [-1.6608518, 0.63856214, -0.13280886]]


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def keras_arrays():
    """The arrays of the Keras runs, drawn in the same order."""
    rng = np.random.default_rng(0)
    dense = [rng.normal(size=s).astype("float32") for s in [(2, 4), (4, 3), (3,), (1, 3)]]
    conv = [rng.normal(size=s).astype("float32") for s in [(1, 4, 4, 2), (2, 2, 2, 3), (1, 3)]]
    embedding = [rng.normal(size=s).astype("float32") for s in [(5, 2), (1, 2)]]
    return dense, conv, embedding


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-5, atol=1e-6)


def dense_layer(power_iterations=1):
    (x, kernel, bias, u), _, _ = keras_arrays()
    layer = SpectralNormalization(Dense(3), power_iterations=power_iterations)
    layer.build((None, 4))
    layer.set_weights([kernel, u, bias])
    return layer, torch.from_numpy(x)


@pytest.mark.parametrize("power_iterations", [1, 3])
def test_dense_training_call_matches_keras(power_iterations):
    layer, x = dense_layer(power_iterations)
    close(layer(x, training=True).detach(), KERAS_TRAIN_OUTPUT[power_iterations])
    close(layer.get_weights()[0], KERAS_KERNEL[power_iterations])
    close(layer.vector_u, KERAS_U[power_iterations])


def test_inference_uses_the_kernel_as_it_is_and_changes_nothing():
    layer, x = dense_layer()
    before = [w.copy() for w in layer.get_weights()]
    close(layer(x).detach(), KERAS_INFERENCE_OUTPUT)
    for old, new in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    layer(x, training=True)
    # After a training call, inference uses the normalized kernel (Keras: same output).
    close(layer(x, training=False).detach(), KERAS_TRAIN_OUTPUT[1])


def test_conv2d_matches_keras():
    _, (x, kernel, u), _ = keras_arrays()
    layer = SpectralNormalization(Conv2D(3, 2, use_bias=False))
    layer.build((None, 4, 4, 2))
    layer.set_weights([kernel, u])
    output = layer(torch.from_numpy(x), training=True).detach()
    assert output.shape == (1, 3, 3, 3)
    close(output[0, :, :, 0], KERAS_CONV_OUTPUT_CHANNEL_0)
    close(layer.vector_u, KERAS_CONV_U)


def test_embedding_matches_keras():
    _, _, (table, u) = keras_arrays()
    layer = SpectralNormalization(Embedding(5, 2))
    layer.build((None, 3))
    layer.set_weights([table, u])
    output = layer(torch.tensor([[0, 3, 4]]), training=True)
    close(layer.get_weights()[0], KERAS_EMBEDDINGS)
    close(layer.vector_u, KERAS_EMBEDDING_U)
    # lamina keeps the embeddings' float output (Keras 3.15.1 casts it to the int input's
    # type, which rounds the vectors to zeros).
    close(output.detach()[0], np.asarray(KERAS_EMBEDDINGS)[[0, 3, 4]])


def test_normalized_kernel_has_spectral_norm_near_one():
    torch.manual_seed(0)
    layer = SpectralNormalization(Dense(6), power_iterations=1)
    x = torch.randn(3, 5)
    for _ in range(20):  # u converges over training calls, as in training
        layer(x, training=True)
    sigma = torch.linalg.matrix_norm(layer.kernel.detach(), ord=2)
    assert abs(float(sigma) - 1.0) < 1e-3


def test_weights_are_listed_kernel_vector_u_then_bias_as_keras():
    layer = SpectralNormalization(Dense(3))
    layer.build((None, 4))
    assert [tuple(w.shape) for w in layer.get_weights()] == [(4, 3), (1, 3), (3,)]
    assert len(layer.trainable_weights) == 2
    assert layer.non_trainable_weights[0] is layer.vector_u
    assert layer.count_params() == 4 * 3 + 3 + 3


def test_all_zero_kernel_is_left_unchanged():
    layer = SpectralNormalization(Dense(2, kernel_initializer="zeros"))
    x = torch.ones(1, 3)
    layer.build((None, 3))
    u = layer.vector_u.clone()
    output = layer(x, training=True)
    assert torch.isfinite(output).all()
    assert torch.equal(layer.kernel, torch.zeros(2, 3))
    assert torch.equal(layer.vector_u, u)


def test_gradient_reaches_the_normalized_kernel_and_bias():
    layer, x = dense_layer()
    layer(x, training=True).square().sum().backward()
    assert layer.kernel.grad is not None and layer.layer.bias.grad is not None
    # The gradient is taken at the normalized kernel, not through sigma (as in Keras).
    normalized = torch.tensor(KERAS_KERNEL[1]).T
    expected = torch.func.grad(
        lambda w: torch.nn.functional.linear(x, w, layer.layer.bias.detach()).square().sum()
    )(normalized)
    torch.testing.assert_close(layer.kernel.grad, expected, rtol=1e-4, atol=1e-5)


def test_contract():
    check_layer(
        SpectralNormalization,
        {"layer": Dense(3), "power_iterations": 2},
        (2, 5),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=2,
        expected_num_non_trainable_weights=1,
    )


def test_config_round_trip_keeps_the_wrapped_layer():
    layer = SpectralNormalization(Conv2D(4, 3, padding="same"), power_iterations=2)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["power_iterations"] == 2
    assert config["layer"]["class_name"] == "Conv2D"
    clone = SpectralNormalization.from_config(config)
    assert isinstance(clone.layer, Conv2D) and clone.layer.padding == "same"
    assert clone.get_config() == layer.get_config()


def test_fit_updates_u_and_keeps_the_kernel_normalized():
    torch.manual_seed(0)
    wrapped = SpectralNormalization(Dense(4))
    model = lamina.Sequential([Input((3,)), wrapped, Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    u = wrapped.vector_u.clone()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert not torch.equal(wrapped.vector_u, u)
    assert float(torch.linalg.matrix_norm(wrapped.kernel.detach(), ord=2)) < 1.1
    assert model.predict(x, verbose=0).shape == (16, 1)
    assert wrapped.compute_output_shape((None, 3)) == (None, 4)


def test_save_and_load_keeps_u(tmp_path):
    torch.manual_seed(0)
    model = lamina.Sequential([Input((3,)), SpectralNormalization(Dense(2))])
    model(torch.ones(2, 3), training=True)
    path = tmp_path / "model.lamina"
    model.save(path)
    # custom_objects: works whether or not lamina.layers exports the class yet.
    restored = lamina.models.load_model(
        path, custom_objects={"SpectralNormalization": SpectralNormalization}
    )
    for a, b in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    torch.testing.assert_close(restored(torch.ones(2, 3)), model(torch.ones(2, 3)))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="power_iterations must be an int greater than zero"):
        SpectralNormalization(Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="wraps a lamina layer instance"):
        SpectralNormalization(Dense)
    with pytest.raises(ValueError, match="has no 'kernel' nor 'embeddings'"):
        SpectralNormalization(lamina.layers.BatchNormalization())(torch.ones(2, 3))
