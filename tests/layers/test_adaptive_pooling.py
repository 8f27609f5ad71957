"""Adaptive average / max pooling 1D-3D: contract, numbers from Keras 3.15.1, training."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from lamina.layers.core import Dense, Input
from lamina.layers.reshaping import Flatten
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def sines(*shape):
    return torch.sin(torch.arange(int(np.prod(shape)), dtype=torch.float32)).reshape(shape)


def assert_close(actual, expected):
    np.testing.assert_allclose(actual.numpy(), np.array(expected), rtol=2e-6, atol=2e-6)


# Keras 3.15.1 (torch backend) outputs on sines(...); sizes that do not divide evenly.
AVG_1D = [
    [
        [-0.0460985, 0.2472184, 0.3132438],
        [-0.1346233, 0.1777108, 0.3266585],
        [-0.2124241, 0.09404697, 0.3140517],
    ],
    [
        [0.2958177, 0.04323424, -0.2490986],
        [0.3227521, 0.1319836, -0.1801299],
        [0.3239761, 0.2102193, -0.09681225],
    ],
]
MAX_1D = [
    [
        [0.14112, 0.841471, 0.9893582],
        [0.4121185, 0.6569866, 0.9906074],
        [0.6502879, 0.4201671, 0.9906074],
    ],
    [
        [0.956376, 0.2709058, 0.7625584],
        [0.9999118, 0.5290827, 0.5514267],
        [0.9999118, 0.7451132, 0.2963686],
    ],
]
AVG_2D = [
    [
        [[0.006780433, -0.00530945], [0.003638108, 0.01214874]],
        [[-0.006968114, -0.01263543], [0.01253266, 0.0081321]],
        [[-0.01246757, -0.005003121], [0.006590605, -0.005511612]],
    ]
]
MAX_2D = [
    [
        [[0.9906074, 0.841471], [0.9906074, 0.956376]],
        [[0.9129453, 0.9999118], [0.9017884, 0.9637954]],
        [[0.9866276, 0.8509035], [0.9928727, 0.8509035]],
    ]
]
# channels_first on the same (1, 7, 5, 2) array: 7 channels of 5 x 2 pooled to 3 x 2.
AVG_2D_CF_FIRST_CHANNELS = [
    [[0.4546487, 0.4912955], [-0.04230686, -0.0536059], [0.3549714, 0.5345525]],
    [[-0.540297, -0.2899116], [0.05537704, 0.0363525], [-0.5194453, -0.4057601]],
]
MAX_2D_CF_LAST_CHANNEL = [
    [-0.3048106, 0.1673557],
    [0.9200261, 0.8268287],
    [-0.02655116, -0.1147848],
]
AVG_3D = [
    [
        [
            [[-0.08927953, 0.2187067], [0.325615, 0.1331543]],
            [[-0.1743641, 0.1411116], [0.32685, 0.212084]],
            [[-0.245559, 0.05227557], [0.3020482, 0.2741191]],
        ],
        [
            [[-0.186566, -0.3294012], [-0.1693864, 0.1463615]],
            [[-0.1032275, -0.3191335], [-0.2416297, 0.05802737]],
            [[-0.01166582, -0.2834438], [-0.2946249, -0.03492919]],
        ],
    ]
]
MAX_3D = [
    [
        [
            [[0.9893582, 0.9999118], [0.9928727, 0.9999118]],
            [[0.9906074, 0.9999118], [0.9928727, 0.9999118]],
            [[0.9906074, 0.9637954], [0.9906074, 0.9637954]],
        ],
        [
            [[0.9948268, 0.6702291], [0.9928727, 0.9995202]],
            [[0.9948268, 0.8167426], [0.9928727, 0.9683645]],
            [[0.9268185, 0.9454353], [0.9200261, 0.9510546]],
        ],
    ]
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape", "output_shape"),
    [
        (AdaptiveAveragePooling1D, {"output_size": 3}, (2, 7, 3), (2, 3, 3)),
        (AdaptiveMaxPooling1D, {"output_size": 3}, (2, 7, 3), (2, 3, 3)),
        (AdaptiveAveragePooling2D, {"output_size": (3, 2)}, (2, 7, 5, 2), (2, 3, 2, 2)),
        (AdaptiveMaxPooling2D, {"output_size": 2}, (2, 7, 5, 2), (2, 2, 2, 2)),
        (
            AdaptiveMaxPooling2D,
            {"output_size": 2, "data_format": "channels_first"},
            (2, 3, 7, 5),
            (2, 3, 2, 2),
        ),
        (AdaptiveAveragePooling3D, {"output_size": (2, 3, 2)}, (1, 5, 4, 3, 2), (1, 2, 3, 2, 2)),
        (AdaptiveMaxPooling3D, {"output_size": 2}, (1, 5, 4, 3, 2), (1, 2, 2, 2, 2)),
    ],
)
def test_contract(cls, kwargs, input_shape, output_shape):
    check_layer(cls, kwargs, input_shape, output_shape, expected_num_trainable_weights=0)


def test_1d_matches_keras_on_uneven_bins():
    x = sines(2, 7, 3)
    assert_close(AdaptiveAveragePooling1D(3)(x), AVG_1D)
    assert_close(AdaptiveMaxPooling1D(3)(x), MAX_1D)


def test_2d_matches_keras():
    x = sines(1, 7, 5, 2)
    assert_close(AdaptiveAveragePooling2D((3, 2))(x), AVG_2D)
    assert_close(AdaptiveMaxPooling2D((3, 2))(x), MAX_2D)
    cf = AdaptiveAveragePooling2D((3, 2), data_format="channels_first")(x)
    assert tuple(cf.shape) == (1, 7, 3, 2)
    assert_close(cf[0, :2], AVG_2D_CF_FIRST_CHANNELS)
    cf = AdaptiveMaxPooling2D((3, 2), data_format="channels_first")(x)
    assert_close(cf[0, -1], MAX_2D_CF_LAST_CHANNEL)


def test_3d_matches_keras():
    x = sines(1, 5, 4, 3, 2)
    assert_close(AdaptiveAveragePooling3D((2, 3, 2))(x), AVG_3D)
    assert_close(AdaptiveMaxPooling3D((2, 3, 2))(x), MAX_3D)


def test_config_matches_keras():
    config = AdaptiveAveragePooling1D(3).get_config()
    assert (config["output_size"], config["data_format"]) == ((3,), "channels_last")
    assert AdaptiveMaxPooling2D(2).get_config()["output_size"] == (2, 2)
    clone = AdaptiveMaxPooling3D.from_config(AdaptiveMaxPooling3D((1, 2, 3)).get_config())
    assert clone.output_size == (1, 2, 3)


def test_symbolic_call_and_unknown_sizes():
    assert AdaptiveAveragePooling2D(3)(Input((None, None, 4))).shape == (None, 3, 3, 4)
    layer = AdaptiveMaxPooling1D(2, data_format="channels_first")
    assert layer(Input((4, 9))).shape == (None, 4, 2)


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match="AdaptiveAveragePooling2D 'p'.*output_size"):
        AdaptiveAveragePooling2D((2, 2, 2), name="p")
    with pytest.raises(ValueError, match="AdaptiveMaxPooling1D 'q'.*data_format"):
        AdaptiveMaxPooling1D(2, data_format="nhwc", name="q")
    with pytest.raises(ValueError, match="AdaptiveMaxPooling2D 'r' expects 4-D input"):
        AdaptiveMaxPooling2D(2, name="r")(torch.zeros(2, 5, 3))


@pytest.mark.parametrize("layer_cls", [AdaptiveAveragePooling2D, AdaptiveMaxPooling2D])
def test_trains_in_a_sequential_model(layer_cls):
    model = lamina.Sequential([Input((7, 7, 2)), Dense(3), layer_cls(3), Flatten(), Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.random.rand(8, 7, 7, 2), np.random.rand(8, 1), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
