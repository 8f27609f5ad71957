"""Sequential: construction, shapes, parameter counts, summary, config."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.cli import mnist_convnet
from lamina.layers import Activation, Dense, Input
from lamina.models import Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def test_mnist_convnet_has_keras_parameter_count():
    # keras.Sequential with the same layers: count_params() == 34826 (Keras 3.15.1)
    model = mnist_convnet()
    assert model.count_params() == 34826
    assert [layer.name for layer in model.layers] == [
        "conv2d",
        "max_pooling2d",
        "conv2d_1",
        "max_pooling2d_1",
        "flatten",
        "dropout",
        "dense",
    ]
    assert model.output_shape == (None, 10)


def test_list_and_add_build_the_same_model():
    a = Sequential([Input((100,)), Dense(64), Activation("relu"), Dense(10)])
    b = Sequential()
    b.add(Dense(64, input_dim=100))
    b.add(Activation("relu"))
    b.add(Dense(10))
    assert a.count_params() == b.count_params() == 100 * 64 + 64 + 64 * 10 + 10
    assert a.built and b.built


def test_input_shape_on_first_layer_builds_immediately():
    model = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    assert model.built
    assert model.input_shape == (None, 3)
    assert model.output_shape == (None, 2)


def test_model_without_input_shape_builds_on_first_call():
    model = Sequential([Dense(4), Dense(2)])
    assert not model.built
    out = model(torch.zeros(5, 3))
    assert out.shape == (5, 2)
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_pop_get_layer_and_layers():
    model = Sequential([Input((3,)), Dense(4, name="hidden"), Dense(2, name="out")])
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=-1).name == "out"
    popped = model.pop()
    assert popped.name == "out"
    assert [layer.name for layer in model.layers] == ["hidden"]
    assert model.output_shape == (None, 4)
    with pytest.raises(ValueError, match="No layer named 'nope'.*hidden"):
        model.get_layer("nope")


def test_incompatible_layer_is_refused_and_nothing_is_lost():
    model = Sequential([Input((28, 28, 1)), layers.Flatten()])
    with pytest.raises(
        ValueError, match=r"(?s)Conv2D 'conv2d' expects 4-D input.*\(None, 784\).*'flatten'"
    ):
        model.add(layers.Conv2D(8, 3))
    assert [layer.name for layer in model.layers] == ["flatten"]
    model.add(Dense(3))
    assert model.output_shape == (None, 3)


def test_duplicate_layer_names_are_refused():
    model = Sequential([Input((3,)), Dense(2, name="x")])
    with pytest.raises(ValueError, match="already has a layer named 'x'"):
        model.add(Dense(2, name="x"))


def test_state_dict_keys_are_positions_like_torch_sequential():
    model = Sequential([Input((3,)), Dense(4), Activation("relu"), Dense(2)])
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(model.state_dict()) == list(torch_model.state_dict())
    model.load_state_dict(torch_model.state_dict())
    x = torch.randn(5, 3)
    torch.testing.assert_close(model(x), torch_model(x))


def test_summary_has_keras_columns_and_totals():
    model = Sequential([Input((100,)), Dense(64, activation="relu"), Dense(10)], name="mlp")
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert text.startswith('Model: "mlp"')
    for expected in ["Layer (type)", "Output Shape", "Param #", "dense (Dense)", "(None, 64)"]:
        assert expected in text
    assert "6,464" in text and "650" in text
    assert " Total params: 7,114 (27.79 KB)" in text
    assert " Trainable params: 7,114 (27.79 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text


def test_summary_counts_frozen_layers_as_non_trainable():
    model = Sequential([Input((4,)), Dense(3), Dense(2)])
    model.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True)
    assert " Non-trainable params: 15 (60.00 B)" in lines[0]
    assert " Trainable params: 8 (32.00 B)" in lines[0]


def test_config_round_trip_rebuilds_an_equal_model():
    model = mnist_convnet()
    config = json.loads(json.dumps(model.get_config()))
    clone = Sequential.from_config(config)
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = torch.rand(2, 28, 28, 1)
    torch.testing.assert_close(clone(x), model(x))


def test_from_config_refuses_unknown_classes():
    config = {"name": "m", "layers": [{"class_name": "os.system", "config": {}}]}
    with pytest.raises(ValueError, match="Unknown layer class"):
        Sequential.from_config(config)


def test_get_weights_of_model_are_keras_ordered():
    model = Sequential([Input((3,)), Dense(4), Dense(2)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4, 2), (2,)]
    model.set_weights([np.ones(s, dtype="float32") for s in shapes])
    assert float(model(torch.ones(1, 3)).detach().sum()) == pytest.approx(2 * (4 * 4 + 1))


def test_from_config_builds_each_layer_from_its_build_config_as_keras(tmp_path):
    # Keras 3.15.1: a loaded Sequential's layers are built before they join the model, so
    # their weights' paths have no model prefix; an adapted layer keeps its build shape.
    model = Sequential([Input((3,)), Dense(2)])
    assert [w.path for w in model.weights] == ["sequential/dense/kernel", "sequential/dense/bias"]
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert [w.path for w in loaded.weights] == ["dense/kernel", "dense/bias"]
    norm = layers.Normalization()
    norm.adapt(np.arange(12, dtype="float32").reshape(4, 3))
    Sequential([Input((3,)), norm]).save(tmp_path / "n.keras")
    loaded = lamina.models.load_model(tmp_path / "n.keras")
    assert loaded.layers[0].get_build_config()["input_shape"] == (4, 3)
    assert [w.path for w in loaded.weights][0] == "normalization/mean"
