"""EinsumDense: contract, shapes and numbers from Keras 3.15.1, initialization, training."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.einsum_dense import EinsumDense
from lamina.layers.reshaping import Flatten
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


# (equation, output_shape, bias_axes, input shape, activation, Keras' weight shapes, Keras'
# parameter count, Keras' output for the weights and inputs below)
KERAS_CASES = [
    (
        "ab,bc->ac",
        4,
        "c",
        (2, 3),
        None,
        [(3, 4), (4,)],
        16,
        [[1.141219, 1.39684, 0.3682131, -0.9989471], [0.9000054, -0.4597592, -1.396823, -1.049655]],
    ),
    (
        "abc,cde->abde",
        (None, 2, 2),
        "de",
        (2, 3, 2),
        "tanh",
        [(2, 2, 2), (2, 2)],
        12,
        [
            [
                [[0.8649621, 0.8244154], [-0.04789304, -0.8403137]],
                [[0.9199207, 0.3007432], [-0.8491672, -0.9308217]],
                [[0.1657813, -0.2556957], [-0.4218176, -0.2209623]],
            ],
            [
                [[0.7911052, 0.7911681], [0.08656466, -0.7533991]],
                [[0.9402996, 0.488737], [-0.8220652, -0.9458986]],
                [[0.2720349, -0.3382222], [-0.578046, -0.3457426]],
            ],
        ],
    ),
    (
        "...b,bc->...c",
        2,
        None,
        (2, 2, 3),
        None,
        [(3, 2)],
        6,
        [
            [[1.316772, 0.6166732], [-1.197303, -0.4847781]],
            [[1.05387, 0.3431802], [-0.8893434, -0.1947135]],
        ],
    ),
    (
        "abc,cd->abd",
        (3, 2),
        "bd",
        (1, 3, 2),
        None,
        [(2, 2), (3, 2)],
        10,
        [[[1.907077, 0.9125137], [-1.033904, -0.6291627], [-1.046565, -0.3888656]]],
    ),
    (
        "ab...,bc->ac...",
        2,
        "c",
        (1, 3, 2),
        None,
        [(3, 2), (2, 1)],
        8,
        [[[2.398897, 1.032289], [1.818995, 1.573383]]],
    ),
]


@pytest.mark.parametrize(
    (
        "equation",
        "output_shape",
        "bias_axes",
        "input_shape",
        "activation",
        "shapes",
        "params",
        "expected",
    ),
    KERAS_CASES,
)
def test_matches_keras(
    equation, output_shape, bias_axes, input_shape, activation, shapes, params, expected
):
    layer = EinsumDense(equation, output_shape, activation=activation, bias_axes=bias_axes)
    layer.build((None, *input_shape[1:]))
    assert [w.shape for w in layer.get_weights()] == shapes
    assert layer.count_params() == params
    weights = [
        np.sin(np.arange(int(np.prod(s)), dtype="float32") + 1 + 7 * k).reshape(s)
        for k, s in enumerate(shapes)
    ]
    layer.set_weights(weights)
    x = torch.cos(torch.arange(int(np.prod(input_shape)), dtype=torch.float32)).reshape(input_shape)
    y = layer(x)
    np.testing.assert_allclose(y.detach().numpy(), np.array(expected), rtol=2e-6, atol=2e-6)
    inferred = layer.compute_output_shape((None, *input_shape[1:]))[1:]
    assert all(d in (None, e) for d, e in zip(inferred, tuple(y.shape)[1:], strict=True))


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape", "trainable"),
    [
        ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (2, 3), (2, 4), 2),
        ({"equation": "abc,cde->abde", "output_shape": (None, 2, 3)}, (2, 4, 5), (2, 4, 2, 3), 1),
        (
            {"equation": "...b,bc->...c", "output_shape": 3, "activation": "relu"},
            (2, 2, 4),
            (2, 2, 3),
            1,
        ),
    ],
)
def test_contract(kwargs, input_shape, output_shape, trainable):
    check_layer(
        EinsumDense, kwargs, input_shape, output_shape, expected_num_trainable_weights=trainable
    )


def test_glorot_fans_come_from_the_equation_axes():
    # Keras: std 0.03031784 with fans 128 and 64 * 32 (uniform limit sqrt(6 / (128 + 2048))).
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 64, 32), bias_axes="de")
    layer.build((None, 5, 128))
    limit = np.sqrt(6 / (128 + 64 * 32))
    kernel = layer.kernel.detach()
    assert kernel.abs().max().item() <= limit
    assert abs(kernel.std().item() - limit / np.sqrt(3)) < 1e-3


def test_config_matches_keras():
    config = EinsumDense("ab,bc->ac", 4).get_config()
    assert config["output_shape"] == (4,)
    assert (config["equation"], config["activation"], config["bias_axes"]) == (
        "ab,bc->ac",
        "linear",
        None,
    )
    assert config["quantization_config"] is None
    assert EinsumDense.from_config(config).partial_output_shape == (4,)
    assert not EinsumDense.supports_masking


def test_symbolic_call():
    # Keras 3.15.1 keeps output_shape's None (a Dense after a Flatten then cannot build)
    assert EinsumDense("abc,cd->abd", (None, 6))(Input((5, 3))).shape == (None, None, 6)
    assert EinsumDense("abc,cd->abd", (5, 6))(Input((5, 3))).shape == (None, 5, 6)


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match="EinsumDense 'e'.*equation must read"):
        EinsumDense("ab.bc->ac", 4, name="e")(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="EinsumDense 'f'.*bias_axes"):
        EinsumDense("ab,bc->ac", 4, bias_axes="x", name="f")(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="EinsumDense 'g'.*shared axis 'b'"):
        EinsumDense("abc,cd->abd", (4, 2), name="g")(torch.zeros(2, 3, 5))
    with pytest.raises(NotImplementedError, match="LoRA"):
        EinsumDense("ab,bc->ac", 4, lora_rank=2)


def test_trains_in_a_sequential_model():
    model = lamina.Sequential(
        [
            Input((3, 4)),
            EinsumDense("abc,cde->abde", (3, 2, 2), bias_axes="de"),
            Flatten(),
            Dense(1),
        ]
    )
    assert model.count_params() == 4 * 2 * 2 + 4 + 12 + 1  # Keras: 33
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.random.rand(16, 3, 4), np.random.rand(16, 1), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
