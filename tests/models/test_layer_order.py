"""`model.layers` of functional models in Keras 3.15.1's order (the lists below are what
Keras gave for the same graphs): it decides `model.layers[i]` and `get_weights()`."""

import lamina
from lamina import layers


def names(model):
    return [layer.name for layer in model.layers]


def test_branches_tie_in_the_order_a_walk_from_the_outputs_meets_them():
    a = lamina.Input((4,), name="a")
    d1 = layers.Dense(3, name="d1")(a)
    d2 = layers.Dense(2, name="d2")(d1)
    d3 = layers.Dense(2, name="d3")(a)
    assert names(lamina.Model(a, [d2, d3])) == ["a", "d1", "d2", "d3"]
    assert names(lamina.Model(a, [d3, d2])) == ["a", "d1", "d3", "d2"]


def test_dict_outputs_are_walked_in_key_order():
    a = lamina.Input((4,), name="a")
    hidden = layers.Dense(5, name="hid")(a)
    regression = layers.Dense(1, name="reg")(hidden)
    classes = layers.Dense(3, name="cls")(hidden)
    model = lamina.Model(a, {"r": regression, "c": classes})
    assert names(model) == ["a", "hid", "cls", "reg"]
    assert [w.shape for w in model.get_weights()][-4:] == [(5, 3), (3,), (5, 1), (1,)]


def test_layers_come_by_depth_from_the_outputs():
    a = lamina.Input((4,), name="a")
    s3 = layers.Dense(4, name="s3")(layers.Dense(4, name="s2")(layers.Dense(4, name="s1")(a)))
    merged = layers.Add(name="mm")([layers.Dense(4, name="t")(a), s3])
    assert names(lamina.Model(a, merged)) == ["a", "s1", "s2", "t", "s3", "mm"]
    p = layers.Dense(4, name="p")(a)
    residual = layers.Add(name="add")([p, layers.Dense(4, name="q")(p)])
    assert names(lamina.Model(a, layers.Dense(2, name="w")(residual))) == [
        "a",
        "p",
        "q",
        "add",
        "w",
    ]


def test_inputs_are_ordered_by_the_walk_not_by_the_inputs_list():
    a, b = lamina.Input((4,), name="a"), lamina.Input((3,), name="b")
    d1, e1 = layers.Dense(3, name="d1")(a), layers.Dense(3, name="e1")(b)
    out = layers.Dense(1, name="o")(layers.Concatenate(name="cat")([d1, e1]))
    expected = ["a", "b", "d1", "e1", "cat", "o"]
    assert names(lamina.Model([a, b], out)) == expected
    assert names(lamina.Model([b, a], out)) == expected


def test_an_unused_input_is_kept():
    a, unused = lamina.Input((4,), name="a"), lamina.Input((2,), name="unused")
    model = lamina.Model([a, unused], layers.Dense(1, name="d")(a))
    assert names(model) == ["a", "unused", "d"]


def test_a_dotted_keras_name_nests():
    inputs = lamina.Input((3,))
    inner = lamina.Model(inputs, layers.Dense(2, name="d")(inputs), name="net_0.25_x")
    outer_inputs = lamina.Input((3,))
    outer = lamina.Model(outer_inputs, layers.Dense(1)(inner(outer_inputs)))
    assert outer.layers[1].name == "net_0.25_x"
    assert "net_0_25_x.d.weight" in outer.state_dict()
