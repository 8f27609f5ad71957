"""UnitNormalization, RMSNormalization: contract, numbers from Keras 3.15.1, training."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.normalization_extra import RMSNormalization, UnitNormalization
from lamina.layers.reshaping import Flatten
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


X = (torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) - 11.5) / 5

# Keras 3.15.1 (torch backend) outputs for X.
UNIT_LAST = [
    [
        [-0.5714396, -0.5217491, -0.4720588, -0.4223684],
        [-0.6144239, -0.5325007, -0.4505776, -0.3686544],
        [-0.7637625, -0.5455447, -0.3273268, -0.1091089],
    ],
    [
        [0.1091089, 0.3273269, 0.5455447, 0.7637627],
        [0.3686544, 0.4505776, 0.5325007, 0.6144239],
        [0.4223684, 0.4720588, 0.5217491, 0.5714396],
    ],
]
UNIT_12 = [
    [
        [-0.4795832, -0.4378803, -0.3961774, -0.3544745],
        [-0.3127716, -0.2710688, -0.2293659, -0.187663],
        [-0.1459601, -0.1042572, -0.06255433, -0.02085144],
    ],
    [
        [0.02085144, 0.06255432, 0.1042572, 0.1459601],
        [0.187663, 0.2293659, 0.2710687, 0.3127716],
        [0.3544745, 0.3961774, 0.4378802, 0.4795831],
    ],
]
# scale [0.5, 1, 1.5, 2]
RMS_LAST = [
    [
        [-0.5714395, -1.043498, -1.416176, -1.689473],
        [-0.6144238, -1.065001, -1.351732, -1.474617],
        [-0.7637608, -1.091087, -0.9819782, -0.4364347],
    ],
    [
        [0.1091087, 0.6546521, 1.63663, 3.055043],
        [0.3686543, 0.9011549, 1.597502, 2.457695],
        [0.4223683, 0.9441174, 1.565247, 2.285758],
    ],
]
# axis=[1, 2], scale ones
RMS_12 = [
    [
        [-1.661325, -1.516861, -1.372398, -1.227936],
        [-1.083472, -0.9390095, -0.7945465, -0.6500835],
        [-0.5056205, -0.3611575, -0.2166945, -0.0722315],
    ],
    [
        [0.07223149, 0.2166945, 0.3611575, 0.5056205],
        [0.6500834, 0.7945465, 0.9390094, 1.083472],
        [1.227935, 1.372398, 1.516861, 1.661324],
    ],
]
# axis=1, epsilon=0.1, scale [0.5, 1, 2]: Keras' formula in NumPy (Keras' torch backend fails on
# a non-trailing axis; its JAX and TensorFlow backends compute this).
RMS_AXIS1 = [
    [
        [-0.690138, -0.7052435, -0.720884, -0.7352031],
        [-0.9001801, -0.8731586, -0.8347078, -0.7784504],
        [-0.8401681, -0.6716605, -0.4552951, -0.172989],
    ],
    [
        [0.04324725, 0.1138238, 0.1679151, 0.210042],
        [0.7784504, 0.8347078, 0.8731586, 0.9001801],
        [2.940813, 2.883536, 2.820974, 2.760552],
    ],
]


def assert_close(actual, expected):
    np.testing.assert_allclose(actual.detach().numpy(), np.array(expected), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "trainable"),
    [
        (UnitNormalization, {}, (2, 5), 0),
        (UnitNormalization, {"axis": [1, 2]}, (2, 3, 4), 0),
        (RMSNormalization, {}, (2, 3, 5), 1),
        (RMSNormalization, {"axis": 1, "epsilon": 0.01}, (2, 3, 5), 1),
        (RMSNormalization, {"axis": [1, 2]}, (2, 3, 5), 1),
    ],
)
def test_contract(cls, kwargs, input_shape, trainable):
    check_layer(cls, kwargs, input_shape, input_shape, expected_num_trainable_weights=trainable)


def test_unit_normalization_matches_keras():
    assert_close(UnitNormalization()(X), UNIT_LAST)
    assert_close(UnitNormalization(axis=(1, 2))(X), UNIT_12)


def test_unit_normalization_keeps_zero_vectors_zero():
    assert torch.equal(UnitNormalization()(torch.zeros(2, 3)), torch.zeros(2, 3))


def test_rms_normalization_matches_keras():
    layer = RMSNormalization()
    layer.build((None, 3, 4))
    layer.set_weights([np.array([0.5, 1.0, 1.5, 2.0], "float32")])
    assert_close(layer(X), RMS_LAST)
    assert_close(RMSNormalization(axis=[1, 2])(X), RMS_12)


def test_rms_normalization_on_a_middle_axis():
    layer = RMSNormalization(axis=1, epsilon=0.1)
    layer.build((None, 3, 4))
    layer.set_weights([np.array([0.5, 1.0, 2.0], "float32")])
    assert_close(layer(X), RMS_AXIS1)


def test_parameter_counts_and_names_match_keras():
    layer = RMSNormalization(axis=[1, 2])
    layer.build((None, 3, 4))
    assert layer.count_params() == 12
    assert tuple(layer.scale.shape) == (3, 4)
    assert list(layer.state_dict()) == ["weight"]  # torch.nn.RMSNorm's name
    assert UnitNormalization().count_params() == 0


def test_config_matches_keras():
    layer = RMSNormalization()
    assert layer.get_config()["axis"] == -1
    layer(X)
    config = layer.get_config()
    assert (config["axis"], config["epsilon"]) == ([-1], 1e-6)  # Keras lists the axis once built
    assert RMSNormalization.from_config(config).get_config()["axis"] == [-1]
    assert UnitNormalization(axis=[1, 2]).get_config()["axis"] == [1, 2]


def test_masking_support_matches_keras():
    assert UnitNormalization.supports_masking
    assert not RMSNormalization.supports_masking


def test_symbolic_call():
    assert UnitNormalization(axis=[1, 2])(Input((3, 4))).shape == (None, 3, 4)
    assert RMSNormalization()(Input((3, 4))).shape == (None, 3, 4)


def test_bad_arguments_name_the_layer():
    with pytest.raises(TypeError, match="UnitNormalization 'u'.*axis"):
        UnitNormalization(axis="x", name="u")
    with pytest.raises(ValueError, match="RMSNormalization 'r'.*epsilon"):
        RMSNormalization(epsilon=-1, name="r")
    with pytest.raises(ValueError, match="RMSNormalization 'r2'.*axis 3 is out of range"):
        RMSNormalization(axis=3, name="r2")(X)


@pytest.mark.parametrize("layer_cls", [UnitNormalization, RMSNormalization])
def test_trains_in_a_sequential_model(layer_cls):
    model = lamina.Sequential([Input((3, 4)), Dense(4), layer_cls(), Flatten(), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.random.rand(16, 3, 4), np.random.rand(16, 1), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
