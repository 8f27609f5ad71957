"""The graph lamina.inspect reads: layer calls, their inputs and shapes, nested models opened."""

import pytest

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.inspect._graph import flatten, model_graph


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def test_sequential_is_a_chain_from_its_input():
    model = Sequential([Input((4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")])
    graph = model_graph(model)
    assert [call.layer.name for call in graph.calls] == ["input_layer", "a", "b"]
    assert [call.is_input for call in graph.calls] == [True, False, False]
    a, b = graph.calls[1:]
    assert b.parents == [(a, 0)]
    assert (b.input_shapes, b.output_shapes) == ([(None, 3)], [(None, 2)])
    assert not graph.functional and graph.sequential_like


def test_functional_graph_records_keras_connections_and_shared_layers():
    x, y = Input((4,), name="x"), Input((4,), name="y")
    shared = layers.Dense(4, name="shared")
    total = layers.Add(name="add")([shared(x), shared(y)])
    graph = model_graph(Model([x, y], total))
    assert [call.layer.name for call in graph.inputs] == ["x", "y"]
    assert len(graph.calls_of(shared)) == 2
    (add,) = graph.calls_of(graph.model.get_layer("add"))
    assert add.connections == ["shared[0][0]", "shared[1][0]"]
    assert graph.functional and not graph.sequential_like


def test_unbuilt_sequential_is_read_as_a_chain_of_unknown_shapes():
    model = Sequential([layers.Dense(3, name="a"), layers.Dense(2, name="b")])
    graph = model_graph(model)
    assert [call.layer.name for call in graph.calls] == ["a", "b"]
    assert graph.calls[1].output_shapes == [None]


def test_flatten_opens_nested_models_and_maps_their_outputs():
    inner = Sequential(
        [Input((4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")], name="inner"
    )
    x = Input((4,), name="x")
    model = Model(x, layers.Dense(1, name="head")(inner(x)))
    flat = flatten(model)
    assert [leaf.layer.name for leaf in flat.calls] == ["x", "a", "b", "head"]
    head = flat.calls[-1]
    b = flat.calls[2]
    assert head.parents == [(b, 0)]
    assert [call.layer.name for call in b.origin] == ["inner", "b"]
    (nested_call,) = flat.graphs[id(model)].calls_of(inner)
    assert flat.exits[id(nested_call)] == [(b, 0)]
