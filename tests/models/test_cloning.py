"""clone_model, Model.to_json / model_from_json and Model.from_config, as in Keras 3."""

import json

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.models import clone_model, model_from_json


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def functional():
    inputs = lamina.Input((4,))
    outputs = layers.Dense(2, name="out")(layers.Dense(3, activation="relu")(inputs))
    return lamina.Model(inputs, outputs, name="orig")


def test_model_from_config_of_a_functional_model():
    model = functional()
    copy = lamina.Model.from_config(model.get_config())
    assert type(copy).__name__ == "Functional"
    assert copy.name == "orig"
    assert [layer.name for layer in copy.layers] == ["input_layer", "dense", "out"]


@pytest.mark.parametrize("kind", ["sequential", "lazy sequential", "functional"])
def test_clone_has_the_architecture_and_new_weights(kind):
    if kind == "functional":
        model = functional()
    else:
        stack = [layers.Dense(3), layers.Dense(1)]
        model = lamina.Sequential(([lamina.Input((5,))] if kind == "sequential" else []) + stack)
        model.build((None, 5))
    copy = clone_model(model)
    assert copy.count_params() == model.count_params()
    assert copy.get_config()["layers"] == model.get_config()["layers"]
    ours = {id(p) for p in model.parameters()}
    assert not ours & {id(p) for p in copy.parameters()}
    x = np.ones((2, model.input_shape[-1]), "float32")
    assert copy.predict(x, verbose=0).shape == model.predict(x, verbose=0).shape


def test_clone_function_on_a_sequential_model():
    model = lamina.Sequential([lamina.Input((5,)), layers.Dense(3), layers.Dropout(0.5)])
    copy = clone_model(
        model,
        clone_function=lambda layer: (
            layers.Dropout(0.1) if isinstance(layer, layers.Dropout) else layer
        ),
    )
    assert copy.layers[0] is model.layers[0]  # kept as is, weights shared
    assert copy.layers[1].rate == 0.1


def test_json_round_trip():
    model = functional()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Functional"
    copy = model_from_json(text)
    assert copy.output_shape == (None, 2) and copy.count_params() == model.count_params()


def test_unsupported_clone_arguments_are_refused():
    with pytest.raises(NotImplementedError, match="input_tensors"):
        clone_model(functional(), input_tensors=[lamina.Input((4,))])
    with pytest.raises(NotImplementedError, match="Sequential models only"):
        clone_model(functional(), clone_function=lambda layer: layer)
