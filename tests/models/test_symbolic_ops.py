"""Ops and Python operators on symbolic tensors record graph nodes, as in Keras 3: shapes,
dtypes, names, `model.layers` vs `model.operations`, summaries, configs both ways. Reference
values are Keras 3.15.1's for the same programs (KERAS_BACKEND=torch)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina import layers, ops

KERAS_GRAPH = Path(__file__).parent / "data" / "keras_ops_graph.json"
# The inputs and outputs of Keras' model in keras_ops_graph.json (Dense kernel of ones).
INPUTS = [np.arange(8).reshape(2, 4).astype("float32") / 8, np.ones((2, 4), "float32")]
KERAS_OUTPUT = [[-1.40625, -1.40625], [-1.15625, -1.15625]]
KERAS_OPERATIONS = [
    "x", "y", "subtract", "multiply", "concatenate", "get_item", "sum", "dense", "negative",
    "true_divide",
]  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.backend.clear_session()  # automatic names as in a fresh Keras program


def build_graph():
    """The program Keras ran for keras_ops_graph.json."""
    x, y = lamina.Input((4,), name="x"), lamina.Input((4,), name="y")
    a = 3.0 - x
    b = ops.concatenate([a, y * 2], axis=-1)
    c = b[..., None, 1:3]
    d = ops.sum(c, axis=-1)
    e = layers.Dense(2, kernel_initializer="ones", name="dense")(d)
    return lamina.Model([x, y], -e / 4)


def test_operators_and_ops_give_keras_shapes_and_dtypes():
    x = lamina.Input((4, 5))
    ids = lamina.Input((4,), dtype="int32")
    assert (x + 1.0).shape == (None, 4, 5)
    assert x[..., None, 1:3].shape == (None, 4, 1, 2)
    assert x[:, 0].shape == (None, 5)
    assert ops.expand_dims(x, -1).shape == (None, 4, 5, 1)
    assert ops.concatenate([x, x], axis=1).shape == (None, 8, 5)
    assert (x @ ops.ones((5, 3))).shape == (None, 4, 3)
    # Keras: bool for comparisons, float32 for int32 / 2
    assert (ids != 0).dtype == "bool"
    assert (x > 0).dtype == "bool"
    assert (ids / 2).dtype == "float32"


def test_graph_matches_keras_layers_operations_and_numbers():
    model = build_graph()
    assert [layer.name for layer in model.layers] == ["x", "y", "dense"]
    assert [op.name for op in model.operations] == KERAS_OPERATIONS
    assert model.output_shape == (None, 2)
    np.testing.assert_allclose(model.predict(INPUTS, verbose=0), KERAS_OUTPUT, rtol=1e-6)


def test_keras_written_graph_with_ops_loads_and_computes_the_same():
    model = lamina.models.model_from_json(KERAS_GRAPH.read_text())
    assert [op.name for op in model.operations] == KERAS_OPERATIONS
    assert [layer.name for layer in model.layers] == ["x", "y", "dense"]
    model.get_layer("dense").set_weights([np.ones((1, 2)), np.zeros(2)])
    np.testing.assert_allclose(model.predict(INPUTS, verbose=0), KERAS_OUTPUT, rtol=1e-6)


def test_config_writes_ops_as_keras_does_and_round_trips():
    model = build_graph()
    entries = {e["name"]: e for e in json.loads(model.to_json())["config"]["layers"]}
    keras_entries = {e["name"]: e for e in json.loads(KERAS_GRAPH.read_text())["config"]["layers"]}
    for name in ("subtract", "multiply", "concatenate", "get_item", "sum", "negative"):
        for key in ("module", "class_name", "config", "registered_name", "inbound_nodes"):
            assert entries[name][key] == keras_entries[name][key], (name, key)
    again = lamina.models.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(INPUTS, verbose=0), KERAS_OUTPUT, rtol=1e-6)


def test_summary_shows_op_rows_with_keras_class_names(capsys):
    build_graph().summary()
    text = capsys.readouterr().out
    for name, kind in (("subtract", "Subtract"), ("get_item", "GetItem"), ("sum", "Sum")):
        assert f"{name} ({kind})" in text
    assert "(TrueDivide)" in text  # its row wraps


def test_model_with_ops_trains_and_saves(tmp_path):
    inputs = lamina.Input((3,))
    hidden = layers.Dense(4)(inputs)
    outputs = layers.Dense(1)(ops.relu(hidden) * 0.5 + hidden[:, :1])
    model = lamina.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x, y = np.random.default_rng(0).normal(size=(2, 16, 3)).astype("float32")[0], np.ones(16)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = lamina.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_symbolic_tensor_has_no_truth_value():
    with pytest.raises(TypeError, match="no truth value"):
        bool(lamina.Input((2,)))


def test_op_on_incompatible_symbolic_shapes_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add '.*' cannot be applied .*\(None, 3\), \(None, 4\)"):
        lamina.Input((3,)) + lamina.Input((4,))


def test_ops_on_real_tensors_are_unchanged():
    assert ops.add(torch.ones(2), 1.0).tolist() == [2.0, 2.0]
    assert ops.concatenate([np.ones((1, 2)), np.zeros((1, 2))], axis=0).shape == (2, 2)
