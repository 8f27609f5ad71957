"""lamina.utils.model_to_dot: the pydot graph of plot_model's boxes and arrows. pydot is an
optional dependency not installed here, so a stand-in module records what is built (the same
classes and calls as pydot's API)."""

import sys
import types

import pytest

from lamina import Input, Model, Sequential, layers
from lamina.utils.plot_model import model_to_dot


class _Graph:
    def __init__(self, graph_name="G", **attributes):
        self.name, self.attributes = graph_name, attributes
        self.nodes, self.edges, self.subgraphs, self.node_defaults = [], [], [], {}

    def set_node_defaults(self, **attributes):
        self.node_defaults = attributes

    def add_node(self, node):
        self.nodes.append(node)

    def add_edge(self, edge):
        self.edges.append(edge)

    def add_subgraph(self, graph):
        self.subgraphs.append(graph)


class _Node:
    def __init__(self, name, **attributes):
        self.name, self.attributes = name, attributes


class _Edge:
    def __init__(self, source, target):
        self.pair = (source, target)


@pytest.fixture
def pydot(monkeypatch):
    module = types.ModuleType("pydot")
    module.Dot = type("Dot", (_Graph,), {})
    module.Cluster = type("Cluster", (_Graph,), {})
    module.Node, module.Edge = _Node, _Edge
    monkeypatch.setitem(sys.modules, "pydot", module)
    return module


def _branches():
    inputs = Input((4,), name="x")
    a = layers.Dense(3, name="a")(inputs)
    b = layers.Dense(3, activation="relu", name="b")(inputs)
    return Model(inputs, layers.Add(name="sum")([a, b]))


def test_functional_model_nodes_and_edges(pydot):
    dot = model_to_dot(_branches(), show_shapes=True, show_layer_activations=True, rankdir="LR")
    assert isinstance(dot, pydot.Dot)
    assert dot.attributes == {
        "graph_type": "digraph",
        "rankdir": "LR",
        "dpi": 200,
        "concentrate": True,
    }
    labels = {node.name: node.attributes["label"] for node in dot.nodes}
    names = {label.split("\n")[0]: name for name, label in labels.items()}
    assert set(names) == {"x (InputLayer)", "a (Dense)", "b (Dense)", "sum (Add)"}
    assert labels[names["b (Dense)"]].split("\n") == [
        "b (Dense)",
        "Activation: relu",
        "Input shape: (None, 4)",
        "Output shape: (None, 3)",
    ]
    edges = {
        (labels[s].split("\n")[0], labels[t].split("\n")[0]) for s, t in (e.pair for e in dot.edges)
    }
    assert edges == {
        ("x (InputLayer)", "a (Dense)"),
        ("x (InputLayer)", "b (Dense)"),
        ("a (Dense)", "sum (Add)"),
        ("b (Dense)", "sum (Add)"),
    }


def test_nested_models_become_clusters_and_subgraph_a_cluster(pydot):
    inner = Sequential([Input((4,)), layers.Dense(2, name="d")], name="block")
    inputs = Input((4,))
    model = Model(inputs, layers.Dense(1, name="head")(inner(inputs)))
    flat = model_to_dot(model, show_layer_names=False)
    assert [node.attributes["label"] for node in flat.nodes] == [
        "InputLayer",
        "Sequential",
        "Dense",
    ]
    expanded = model_to_dot(model, expand_nested=True)
    assert [c.attributes["label"] for c in expanded.subgraphs] == ["block (Sequential)"]
    assert [n.attributes["label"] for n in expanded.subgraphs[0].nodes] == ["d (Dense)"]
    cluster = model_to_dot(inner, subgraph=True)
    assert isinstance(cluster, pydot.Cluster) and cluster.attributes["label"] == "block"


def test_errors_and_missing_pydot(monkeypatch):
    model = _branches()
    monkeypatch.setitem(sys.modules, "pydot", None)  # `import pydot` raises ImportError
    with pytest.raises(ImportError, match=r"model_to_dot needs pydot \(`pip install pydot`\)"):
        model_to_dot(model)
    with pytest.raises(ValueError, match="unrecognized keyword arguments"):
        model_to_dot(model, colour="red")
    with pytest.raises(ValueError, match="layer_range is not supported"):
        model_to_dot(model, layer_range=["a", "b"])
    unbuilt = Sequential([layers.Dense(2)], name="lazy")
    with pytest.raises(ValueError, match="model 'lazy' is not built yet"):
        model_to_dot(unbuilt)
