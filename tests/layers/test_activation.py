"""ReLU, LeakyReLU, PReLU, ELU, Softmax layers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "num_weights"),
    [
        (ReLU, {}, (3, 4), 0),
        (ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}, (3, 4, 2), 0),
        (LeakyReLU, {}, (3, 4), 0),
        (LeakyReLU, {"negative_slope": 0.01}, (2, 3, 3, 2), 0),
        # alpha starts at 0 by default, where the harness' squared loss has no gradient for it.
        (PReLU, {"alpha_initializer": "random_uniform"}, (3, 4), 1),
        (PReLU, {"alpha_initializer": "ones", "shared_axes": [1, 2]}, (2, 4, 4, 3), 1),
        (
            PReLU,
            {"shared_axes": 1, "alpha_initializer": "ones", "alpha_regularizer": "l2"},
            (2, 5, 3),
            1,
        ),
        (ELU, {}, (3, 4), 0),
        (ELU, {"alpha": 0.5}, (3, 4, 5), 0),
        (Softmax, {}, (3, 4), 0),
        (Softmax, {"axis": 1}, (3, 4, 5), 0),
        (Softmax, {"axis": [1, 2]}, (3, 4, 5), 0),
    ],
)
def test_activation_layer_contract(cls, kwargs, input_shape, num_weights):
    check_layer(
        cls,
        kwargs,
        input_shape,
        expected_output_shape=input_shape,
        expected_num_trainable_weights=num_weights,
        expected_num_non_trainable_weights=0,
    )


V = torch.tensor([-3.0, -1.0, 0.5, 2.0, 7.0])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Keras 3.15: keras.layers.ReLU(**kwargs) on V.
        ({}, [0.0, 0.0, 0.5, 2.0, 7.0]),
        ({"max_value": 6.0}, [0.0, 0.0, 0.5, 2.0, 6.0]),
        ({"negative_slope": 0.1}, [-0.3, -0.1, 0.5, 2.0, 7.0]),
        ({"threshold": 1.0}, [0.0, 0.0, 0.0, 2.0, 7.0]),
        ({"max_value": 5.0, "negative_slope": 0.2, "threshold": 0.4}, [-0.68, -0.28, 0.5, 2, 5]),
    ],
)
def test_relu_matches_keras(kwargs, expected):
    torch.testing.assert_close(ReLU(**kwargs)(V), torch.tensor(expected))


def test_relu_at_exactly_the_threshold_matches_keras():
    # Keras 3.15: ReLU(max_value=5, negative_slope=0.2, threshold=0.5)([0.5]) == [0.0].
    layer = ReLU(max_value=5.0, negative_slope=0.2, threshold=0.5)
    torch.testing.assert_close(layer(torch.tensor([0.5])), torch.tensor([0.0]))


def test_leaky_relu_default_slope_is_keras_layer_default():
    # Keras 3.15: LeakyReLU()(V); the layer's default slope is 0.3 (the function's is 0.2).
    expected = torch.tensor([-0.90000004, -0.3, 0.5, 2.0, 7.0])
    torch.testing.assert_close(LeakyReLU()(V), expected)
    with pytest.warns(UserWarning, match="alpha.*deprecated"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.get_config()["negative_slope"] == 0.1


def test_elu_matches_torch():
    torch.testing.assert_close(ELU(alpha=0.5)(V), F.elu(V, alpha=0.5))


def test_prelu_matches_numpy_with_copied_alpha():
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype("float32")
    alpha = np.array([[[0.1, 0.2, 0.3]]], "float32")
    layer = PReLU(shared_axes=[1, 2])
    layer(torch.from_numpy(x))
    assert [w.shape for w in layer.get_weights()] == [(1, 1, 3)]
    layer.set_weights([alpha])
    expected = np.where(x >= 0, x, alpha * x)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach(), expected, rtol=1e-6)


def test_prelu_needs_known_unshared_sizes_and_checks_them():
    with pytest.raises(ValueError, match=r"PReLU 'p' needs known sizes on the axes that are not"):
        PReLU(name="p").build((None, None, 3))
    layer = PReLU(shared_axes=[1], name="p2")
    layer(torch.zeros(2, 5, 3))
    layer(torch.zeros(2, 7, 3))  # the shared axis may change size
    with pytest.raises(ValueError, match=r"PReLU 'p2' was built for inputs"):
        layer(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="shared_axes must be axes counted from 1"):
        PReLU(shared_axes=[0])


def test_softmax_matches_torch_and_keras_multi_axis():
    x = torch.linspace(-1, 2, 24).reshape(2, 3, 4) ** 3
    torch.testing.assert_close(Softmax(axis=1)(x), torch.softmax(x, dim=1))
    # Keras 3.15: Softmax(axis=[1, 2]) on linspace(-1, 2, 24).reshape(2, 3, 4) ** 3, sample 0.
    expected = [
        [0.03566178, 0.05022753, 0.06473372, 0.07736631],
        [0.08689366, 0.09294411, 0.09594794, 0.09687503],
        [0.09694673, 0.09745002, 0.09971045, 0.10524268],
    ]
    np.testing.assert_allclose(Softmax(axis=[1, 2])(x)[0], expected, rtol=1e-5)


def test_softmax_mask_gives_masked_entries_zero_probability():
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    # Keras 3.15: Softmax()(logits, mask=[[True, False, True, False]]).
    expected = torch.tensor([[0.11920291, 0.0, 0.880797, 0.0]])
    mask = torch.tensor([[True, False, True, False]])
    torch.testing.assert_close(Softmax()(logits, mask=mask), expected)
    torch.testing.assert_close(Softmax()(logits, mask=mask.float()), expected)


def test_config_keys_match_keras():
    assert {"max_value", "negative_slope", "threshold"} <= set(ReLU().get_config())
    assert LeakyReLU().get_config()["negative_slope"] == 0.3
    assert {"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"} <= set(
        PReLU().get_config()
    )
    assert ELU().get_config()["alpha"] == 1.0
    assert Softmax().get_config()["axis"] == -1


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: ReLU(max_value=-1.0, name="r"), "ReLU 'r': max_value must be a non-negative"),
        (lambda: ReLU(negative_slope=-0.1), "negative_slope must be a non-negative"),
        (lambda: ReLU(threshold=None), "threshold must be a non-negative"),
        (lambda: LeakyReLU(negative_slope=-1), "negative_slope must be a non-negative"),
        (lambda: Softmax(axis="last"), "axis must be an int or a list of ints"),
    ],
)
def test_argument_errors(factory, message):
    with pytest.raises((ValueError, TypeError), match=message):
        factory()
