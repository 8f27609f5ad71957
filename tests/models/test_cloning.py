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
    # Keras 3.15.1: the JSON's top-level keys; compile_config is {} until compile(), then
    # model_from_json compiles the copy.
    entry = json.loads(text)
    assert sorted(entry) == [
        "build_config",
        "class_name",
        "compile_config",
        "config",
        "module",
        "registered_name",
    ]
    assert entry["compile_config"] == {} and not copy.compiled
    model.compile("adam", "mse", metrics=["mae"])
    entry = json.loads(model.to_json())
    assert entry["compile_config"]["loss"] == "mse" and entry["compile_config"]["metrics"] == [
        "mae"
    ]
    compiled = model_from_json(model.to_json())
    assert compiled.compiled and type(compiled.optimizer).__name__ == "Adam"
    assert compiled.loss == "mse"


def test_functional_clone_arguments_work_as_in_keras():
    model = functional()
    shared = clone_model(model, clone_function=lambda layer: layer)
    assert [a is b for a, b in zip(shared.layers[1:], model.layers[1:], strict=True)] == [True] * 2
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(shared.predict(x, verbose=0), model.predict(x, verbose=0))
    new_input = lamina.Input((4,), name="fresh")
    copy = clone_model(model, input_tensors=[new_input])
    assert copy.inputs[0] is new_input and copy.count_params() == model.count_params()
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    clone_model(model, call_function=call_function)
    assert calls == ["dense", "out"]
    with pytest.raises(ValueError, match="has 1 input"):
        clone_model(model, input_tensors=[lamina.Input((4,)), lamina.Input((4,))])
    with pytest.raises(ValueError, match="not supported for Sequential"):
        clone_model(lamina.Sequential([lamina.Input((4,)), layers.Dense(1)]), call_function=len)


def test_recursive_clone_and_compiled_clones():
    inner = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)], name="inner")
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.Dense(1)(inner(inputs)))
    model.compile("adam", "mse", metrics=["mae"])
    seen = []

    def clone_function(layer):
        seen.append(type(layer).__name__)
        return type(layer).from_config(layer.get_config())

    copy = clone_model(model, clone_function=clone_function, recursive=True)
    assert seen == ["Dense", "Dense"]  # the nested Sequential's layer, then the head
    assert copy.layers[1] is not inner and copy.layers[1].name == "inner"
    # Keras 3.15: a compiled model's clone is compiled with the same settings
    assert copy.compiled and type(copy.optimizer).__name__ == "Adam"
    assert copy.get_compile_config()["loss"] == model.get_compile_config()["loss"]
    assert lamina.Sequential([layers.Dense(1)]).get_compile_config() is None


def test_intermediate_tensors_as_inputs_and_one_rank_short_inputs():
    inputs = lamina.Input((3,))
    hidden = layers.Dense(4)(inputs)
    head = layers.Dense(1)
    model = lamina.Model(hidden, head(hidden))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 1)
    assert model.layers[1] is head  # the same layer, a new node
    column = lamina.Input((1,))
    doubled = lamina.Model(column, layers.Dense(1, kernel_initializer="ones")(column))
    # Keras adds the missing last axis of size 1
    assert doubled.predict(np.array([1.0, 2.0]), verbose=0).tolist() == [[1.0], [2.0]]
    with pytest.raises(ValueError, match=r"expected shape \(None, 3\)"):
        lamina.Model(inputs, hidden)(np.ones((2, 3, 5), "float32"))


def test_deep_copied_and_pickled_functional_models_predict():
    import copy
    import pickle

    model = functional()
    x = np.ones((2, 4), "float32")
    expected = model.predict(x, verbose=0)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(twin.predict(x, verbose=0), expected)
