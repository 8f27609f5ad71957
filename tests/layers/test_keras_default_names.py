"""Default names the layers Keras creates inside others take (values printed by Keras 3.15.1,
torch backend), and Keras' automatic config of a user's layer."""

import json

import pytest
import torch

import lamina
from lamina import layers
from lamina.layers._naming import clear_session


@pytest.fixture(autouse=True)
def _fresh_names():
    clear_session()
    yield
    clear_session()


def test_attention_layers_take_softmax_and_dropout_names_when_built():
    inputs = lamina.Input((5, 8))
    x = layers.MultiHeadAttention(2, 4)(inputs, inputs)
    x = layers.Dropout(0.1)(x)
    x = layers.Softmax()(x)
    # Keras: ['input_layer', 'multi_head_attention', 'dropout_1', 'softmax_1']
    assert [layer.name for layer in lamina.Model(inputs, x).layers][2:] == [
        "dropout_1",
        "softmax_1",
    ]
    gqa = layers.GroupQueryAttention(2, 2, 1)
    assert layers.Softmax().name == "softmax_2"  # not built yet: nothing taken
    gqa(torch.ones(1, 3, 4), torch.ones(1, 3, 4))
    assert (layers.Softmax().name, layers.Dropout(0.1).name) == ("softmax_4", "dropout_3")


def test_augmentation_policies_take_their_operations_names():
    layers.AugMix()
    assert layers.AutoContrast().name == "auto_contrast_1"
    assert layers.RandomBrightness(0.1).name == "random_brightness_1"
    layers.RandAugment()
    assert (layers.RandomContrast(0.1).name, layers.Solarization().name) == (
        "random_contrast_2",
        "solarization_2",
    )
    layers.AugMix(name="named")  # Keras passes the name on: its operations take none
    assert layers.Equalization().name == "equalization_2"
    layers.RandomColorJitter(hue_factor=0.1)
    assert layers.RandomHue(0.1).name == "random_hue_1"


def test_sequential_builds_take_functional_names():
    def functional_name():
        inputs = lamina.Input((3,))
        return lamina.Model(inputs, layers.Dense(1)(inputs)).name

    assert functional_name() == "functional"
    lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    assert functional_name() == "functional_2"
    model = lamina.Sequential([layers.Dense(3)])
    model.build((None, 2))
    assert functional_name() == "functional_4"
    model = lamina.Sequential()
    model.add(lamina.Input((4,)))
    model.add(layers.Dense(2))
    model.add(layers.Dense(2))
    model.pop()
    assert functional_name() == "functional_8"


class _Mine(layers.Layer):
    def __init__(self, units=3, shape=(2, 2), act="relu", **kw):
        super().__init__(**kw)

    def call(self, x):
        return x


class _Named(layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)


def test_automatic_config_holds_defaults_and_drops_name_as_keras():
    config = _Mine().get_config()
    # Keras: {'units': 3, 'shape': (2, 2), 'act': 'relu', 'trainable': True, 'dtype': ...}
    assert list(config) == ["units", "shape", "act", "trainable", "dtype"]
    assert config["shape"] == (2, 2) and config["units"] == 3
    assert list(_Named(units=4).get_config())[:2] == ["name", "units"]
    assert _Named().get_config()["units"] == 3
    base = layers.Layer(name="x").get_config()
    assert (base["activity_regularizer"], base["autocast"]) == (None, True)
    with pytest.raises(NotImplementedError, match="non-serializable"):
        _Mine(units=torch.ones(1)).get_config()


def test_config_tuples_stay_tuples_as_in_keras():
    assert layers.InputLayer(shape=(4,)).get_config()["batch_shape"] == (None, 4)
    assert layers.Cropping2D().get_config()["cropping"] == ((0, 0), (0, 0))
    assert layers.ConvLSTM2D(2, 3).get_config()["kernel_size"] == (3, 3)
    assert layers.AugMix().get_config()["value_range"] == (0, 255)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    assert model.get_config()["build_input_shape"] == (None, 4)
    inputs = lamina.Input((6,))
    functional = lamina.Model(inputs, layers.Dense(2)(inputs))
    entry = functional.get_config()["layers"][1]
    assert entry["build_config"] == {"input_shape": (None, 6)}  # as Keras' get_config
    assert isinstance(entry["inbound_nodes"][0]["args"], tuple)
    rebuilt = lamina.Model.from_config(json.loads(json.dumps(functional.get_config())))
    assert rebuilt.output_shape == (None, 2)
