"""Activation functions against Keras 3.15 reference values on linspace(-3, 3, 7)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import activations
from lamina.layers import Activation

X = torch.linspace(-3, 3, 7)

# Keras 3.15.1 (torch backend): keras.activations.get(name)(np.linspace(-3, 3, 7))
KERAS = {
    "relu": [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0],
    "sigmoid": [0.047426, 0.119203, 0.268941, 0.5, 0.731059, 0.880797, 0.952574],
    "tanh": [-0.995055, -0.964028, -0.761594, 0.0, 0.761594, 0.964028, 0.995055],
    "gelu": [-0.00405, -0.0455, -0.158655, 0.0, 0.841345, 1.9545, 2.99595],
    "elu": [-0.950213, -0.864665, -0.632121, 0.0, 1.0, 2.0, 3.0],
    "selu": [-1.670569, -1.520166, -1.111331, 0.0, 1.050701, 2.101402, 3.152103],
    "leaky_relu": [-0.6, -0.4, -0.2, 0.0, 1.0, 2.0, 3.0],
    "silu": [-0.142278, -0.238406, -0.268941, 0.0, 0.731059, 1.761594, 2.857722],
    "swish": [-0.142278, -0.238406, -0.268941, 0.0, 0.731059, 1.761594, 2.857722],
    "softplus": [0.048587, 0.126928, 0.313262, 0.693147, 1.313262, 2.126928, 3.048587],
    "softsign": [-0.75, -0.666667, -0.5, 0.0, 0.5, 0.666667, 0.75],
    "hard_sigmoid": [0.0, 0.166667, 0.333333, 0.5, 0.666667, 0.833333, 1.0],
    "linear": [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
    "softmax": [0.001568, 0.004263, 0.011588, 0.0315, 0.085626, 0.232756, 0.632698],
    "log_softmax": [-6.457762, -5.457762, -4.457762, -3.457763, -2.457763, -1.457763, -0.457763],
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_activation_matches_keras(name):
    got = activations.get(name)(X)
    np.testing.assert_allclose(got.numpy(), KERAS[name], atol=2e-6)


@pytest.mark.parametrize("name", sorted(KERAS))
def test_activation_layer_matches_function(name):
    out = Activation(name)(X[None])
    np.testing.assert_allclose(out[0].numpy(), KERAS[name], atol=2e-6)


def test_gelu_is_exact_by_default():
    x = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(activations.gelu(x), torch.nn.functional.gelu(x))


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown activation 'relux'.*Valid names:.*relu"):
        activations.get("relux")


# Keras 3.15.1 (torch backend), float32 linspace(-3, 3, 7) (glu: linspace(-3, 3, 8)).
KERAS_NEW = {
    "celu": [-0.950213, -0.864665, -0.632121, 0.0, 1.0, 2.0, 3.0],
    "tanh_shrink": [-2.004945, -1.035972, -0.238406, 0.0, 0.238406, 1.035972, 2.004945],
    "hard_tanh": [-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0],
    "sparsemax": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    "log_sigmoid": [-3.048587, -2.126928, -1.313262, -0.693147, -0.313262, -0.126928, -0.048587],
    "soft_shrink": [-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5],
    "hard_shrink": [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
    "squareplus": [0.302776, 0.414214, 0.618034, 1.0, 1.618034, 2.414214, 3.302776],
    "sparse_plus": [0.0, 0.0, 0.0, 0.25, 1.0, 2.0, 3.0],
}
KERAS_GLU = [-1.816597, -1.678759, -1.150713, -0.408246]


@pytest.mark.parametrize("name", sorted(KERAS_NEW))
def test_new_activation_matches_keras(name):
    np.testing.assert_allclose(activations.get(name)(X).numpy(), KERAS_NEW[name], atol=2e-6)
    out = Activation(name)(X[None])
    np.testing.assert_allclose(out[0].numpy(), KERAS_NEW[name], atol=2e-6)
    assert activations.deserialize(activations.serialize(activations.get(name))) is getattr(
        activations, name
    )


def test_glu_matches_keras():
    x = torch.linspace(-3, 3, 8)
    np.testing.assert_allclose(activations.glu(x).numpy(), KERAS_GLU, atol=2e-6)
    np.testing.assert_allclose(Activation("glu")(x[None])[0].numpy(), KERAS_GLU, atol=2e-6)
    x0 = torch.arange(8.0).reshape(4, 2) / 4 - 1
    np.testing.assert_allclose(
        activations.glu(x0, axis=0).numpy(), [[-0.5, -0.421632], [-0.31123, -0.169795]], atol=2e-6
    )


def test_new_activations_non_default_arguments_match_keras():
    np.testing.assert_allclose(
        activations.celu(X, alpha=2.0).numpy(),
        [-1.55374, -1.264241, -0.786939, 0.0, 1.0, 2.0, 3.0],
        atol=2e-6,
    )
    np.testing.assert_allclose(
        activations.soft_shrink(X, threshold=1.5).numpy(),
        [-1.5, -0.5, 0.0, 0.0, 0.0, 0.5, 1.5],
        atol=2e-6,
    )
    np.testing.assert_allclose(
        activations.hard_shrink(X, threshold=1.5).numpy(),
        [-3.0, -2.0, 0.0, 0.0, 0.0, 2.0, 3.0],
        atol=2e-6,
    )
    np.testing.assert_allclose(
        activations.squareplus(X, b=1).numpy(),
        [0.081139, 0.118034, 0.207107, 0.5, 1.207107, 2.118034, 3.081139],
        atol=2e-6,
    )


def test_sparsemax_matches_keras_formula_on_2d_input():
    # Keras 3's tau sums the cumulative sums over the support: rows need not sum to 1.
    x = torch.tensor([[0.1, 0.2, 0.3], [1.0, 0.5, -2.0]])
    np.testing.assert_allclose(
        activations.sparsemax(x).numpy(), [[0.0, 0.066667, 0.166667], [0.25, 0.0, 0.0]], atol=2e-6
    )
    np.testing.assert_allclose(
        activations.sparsemax(x, axis=0).numpy(), [[0.0, 0.1, 1.0], [0.45, 0.4, 0.0]], atol=2e-6
    )


def test_new_activation_by_name_in_dense():
    from lamina.layers import Dense

    layer = Dense(4, activation="celu")
    out = layer(torch.full((2, 3), -50.0))
    assert out.shape == (2, 4)
    assert layer.get_config()["activation"] == "celu"


def test_threshold_sparse_sigmoid_and_aliases_match_keras():
    # Keras 3.15.1: activations.sparse_sigmoid(x) and threshold(x, 0.5, -1.0) on this x.
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    assert lamina.activations.sparse_sigmoid(x).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert lamina.activations.threshold(x, 0.5, -1.0).tolist() == [-1, -1, -1, -1, 1, 2]
    assert lamina.activations.swish is lamina.activations.silu
    assert lamina.activations.hard_swish is lamina.activations.hard_silu
    # Keras serializes the aliases under the first name.
    assert lamina.activations.serialize(lamina.activations.swish) == "silu"
    assert lamina.activations.get("threshold") is lamina.activations.threshold


def test_lower_case_initializer_and_deserialize_names_are_keras_aliases():
    initializers = lamina.initializers
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert isinstance(initializers.deserialize("he_normal"), initializers.HeNormal)
    regularizer = lamina.regularizers.deserialize({"class_name": "L2", "config": {"l2": 0.1}})
    assert regularizer.get_config() == {"l2": 0.1}


def test_activations_take_numpy_arrays_lists_and_numbers():
    # Keras 3.15.1 (torch backend): NumPy in, torch tensor out; float64 stays float64.
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0, 7.0]], "float32")
    y = activations.relu6(x)
    assert isinstance(y, torch.Tensor) and y.tolist() == [[0.0, 0.0, 0.0, 0.5, 3.0, 6.0]]
    assert activations.relu(np.array([-1.0, 2.0])).dtype == torch.float64
    assert activations.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]
    expected = [[-0.6667, -0.3333, 0.0, 0.3333, 0.75, 0.875]]
    np.testing.assert_allclose(activations.softsign(x).numpy(), expected, atol=1e-4)
    assert activations.get("swish") is activations.silu is activations.swish
    assert activations.serialize(activations.hard_swish) == "hard_silu"
    assert activations.linear(x) is x  # as Keras: its input back


def test_relu_with_a_ceiling_keeps_nan():
    # Keras 3.15.1: relu6 and relu(max_value=6) give nan for nan; a threshold gives 0.
    x = torch.tensor([float("nan"), 1.0])
    assert torch.isnan(activations.relu(x, max_value=6.0)[0])
    assert torch.isnan(activations.relu6(x)[0])
    assert activations.relu(x, threshold=0.5)[0].item() == 0.0
    assert torch.isnan(activations.relu(x, negative_slope=0.2, max_value=6.0, threshold=1.0)[0])
