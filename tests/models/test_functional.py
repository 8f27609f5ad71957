"""The functional API: graphs, shared layers, nested models, several inputs and outputs."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina import Input, Model, layers, optimizers
from lamina.models import Functional, Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def two_headed():
    """Two inputs, a shared layer applied to both branches, two outputs (Keras-named)."""
    a, b = Input((4,), name="a"), Input((3,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    h1 = shared(layers.Dense(4, name="da")(a))
    h2 = shared(layers.Dense(4, name="db")(b))
    cls = layers.Dense(2, activation="softmax", name="cls")(h1)
    reg = layers.Dense(1, name="reg")(h2)
    model = Model([a, b], [cls, reg])
    model.set_weights(
        [
            np.cos(np.arange(np.prod(w.shape)).reshape(w.shape) * 0.3 + i).astype("float32") * 0.5
            for i, w in enumerate(model.get_weights())
        ]
    )
    return model


X1 = np.sin(np.arange(16 * 4).reshape(16, 4) * 0.7).astype("float32")
X2 = np.cos(np.arange(16 * 3).reshape(16, 3) * 0.4).astype("float32")
Y1 = np.arange(16) % 2
Y2 = np.sin(np.arange(16) * 0.5).astype("float32").reshape(16, 1)


def test_model_of_inputs_and_outputs_is_functional_with_keras_layer_order():
    model = two_headed()
    assert isinstance(model, Functional)
    # Keras 3.15.1 on the same definition: these names, 71 parameters, these weight shapes.
    assert [layer.name for layer in model.layers] == ["a", "b", "da", "db", "shared", "cls", "reg"]
    assert model.count_params() == 71
    assert [w.shape for w in model.get_weights()] == [
        (4, 4), (4,), (3, 4), (4,), (4, 4), (4,), (4, 2), (2,), (4, 1), (1,)
    ]  # fmt: skip
    assert model.output_names == ["cls", "reg"]


def test_multi_output_fit_history_and_evaluate_equal_keras():
    model = two_headed()
    model.compile(
        optimizers.SGD(0.1),
        loss=["sparse_categorical_crossentropy", "mse"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )
    history = model.fit([X1, X2], [Y1, Y2], batch_size=4, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15.1 (torch backend), same weights, data and order.
    expected = {
        "cls_accuracy": [0.5, 0.5],
        "cls_loss": [0.711048, 0.705548],
        "loss": [1.200562, 1.035984],
        "reg_loss": [0.979027, 0.660872],
        "reg_mae": [0.844348, 0.706469],
    }
    assert list(history.history) == list(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, atol=2e-6, err_msg=key)
    result = model.evaluate([X1, X2], [Y1, Y2], verbose=0)
    np.testing.assert_allclose(result, [0.965004, 0.694245, 0.541519, 0.5, 0.645583], atol=2e-6)


def test_dict_inputs_outputs_and_losses_by_name():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = layers.Dense(4, activation="relu")(a)
    g = layers.Dense(4, activation="relu")(b)
    model = Model(
        {"a": a, "b": b},
        {"cls": layers.Dense(2, activation="softmax", name="cls")(h), "reg": layers.Dense(1)(g)},
    )
    model.compile(
        "adam",
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        metrics={"cls": "accuracy"},
    )
    history = model.fit({"a": X1, "b": X2}, {"cls": Y1, "reg": Y2}, epochs=1, verbose=0)
    assert sorted(history.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    prediction = model.predict({"a": X1, "b": X2}, verbose=0)
    assert isinstance(prediction, dict) and sorted(prediction) == ["cls", "reg"]
    assert prediction["cls"].shape == (16, 2) and prediction["reg"].shape == (16, 1)


def test_a_flat_metric_list_for_several_outputs_is_refused_as_in_keras():
    model = two_headed()
    with pytest.raises(ValueError, match="dict keyed by output name or a list of lists"):
        model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"], metrics=["accuracy"])


def test_shared_layer_has_one_set_of_weights_and_gradients_from_both_uses():
    model = two_headed()
    shared = model.get_layer("shared")
    assert sum(1 for name in model.state_dict() if name.startswith("shared.")) == 2
    out_cls, out_reg = model([torch.from_numpy(X1), torch.from_numpy(X2)])
    (grad_cls,) = torch.autograd.grad(out_cls.sum(), shared.kernel, retain_graph=True)
    (grad_reg,) = torch.autograd.grad(out_reg.sum(), shared.kernel, retain_graph=True)
    (grad_both,) = torch.autograd.grad(out_cls.sum() + out_reg.sum(), shared.kernel)
    assert grad_cls.abs().sum() > 0 and grad_reg.abs().sum() > 0
    torch.testing.assert_close(grad_both, grad_cls + grad_reg)


def test_nested_model_is_a_layer_and_trains():
    inner = Sequential([Input((4,)), layers.Dense(6, activation="relu"), layers.Dense(3)])
    x = Input((4,))
    outer = Model(x, layers.Dense(2, activation="softmax")(inner(x)))
    assert outer.count_params() == inner.count_params() + 3 * 2 + 2
    before = [w.copy() for w in inner.get_weights()]
    outer.compile("adam", "sparse_categorical_crossentropy")
    outer.fit(X1, Y1, epochs=2, verbose=0)
    assert any(not np.array_equal(b, a) for b, a in zip(before, inner.get_weights(), strict=True))


def test_feature_extraction_from_an_intermediate_layer():
    base = Sequential(
        [Input((8, 8, 1)), layers.Conv2D(4, 3, name="block1"), layers.Flatten(), layers.Dense(2)]
    )
    features = Model(inputs=base.input, outputs=base.get_layer("block1").output)
    x = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    assert features.predict(x, verbose=0).shape == (3, 6, 6, 4)
    # The same weights: the extractor reuses the base model's layer.
    assert features.get_layer("block1") is base.get_layer("block1")


def test_config_round_trip_gives_identical_predictions():
    model = two_headed()
    clone = Functional.from_config(json.loads(json.dumps(model.get_config())))
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    for got, expected in zip(
        clone.predict([X1, X2], verbose=0), model.predict([X1, X2], verbose=0), strict=True
    ):
        np.testing.assert_array_equal(got, expected)


def test_disconnected_graph_names_the_missing_tensor():
    a, b = Input((4,), name="a"), Input((4,), name="b")
    out = layers.Dense(2, name="head")(b)
    with pytest.raises(ValueError, match=r"disconnected.*'head'.*Input|disconnected.*'b'"):
        Model(a, out)


def test_an_input_given_twice_is_refused():
    a = Input((4,), name="a")
    with pytest.raises(ValueError, match="given twice"):
        Model([a, a], layers.Dense(1)(a))


def test_incompatible_call_names_both_layers_and_shapes():
    x = Input((28, 28, 1))
    flat = layers.Flatten(name="flatten")(x)
    with pytest.raises(
        ValueError, match=r"(?s)Conv2D 'conv'.*\(None, 784\).*'flatten' \(Flatten\)"
    ):
        layers.Conv2D(4, 3, name="conv")(flat)


def test_config_round_trip_of_a_model_nesting_a_sequential():
    inner = Sequential([Input((4,)), layers.Dense(3, activation="relu")], name="inner")
    x = Input((4,), name="x")
    outer = Model(x, layers.Dense(2, name="head")(inner(x)), name="outer")
    clone = Functional.from_config(json.loads(json.dumps(outer.get_config())))
    assert isinstance(clone.get_layer("inner"), Sequential)
    clone.set_weights(outer.get_weights())
    np.testing.assert_array_equal(clone.predict(X1, verbose=0), outer.predict(X1, verbose=0))


def test_sample_weights_per_output():
    model = two_headed()
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"])
    zero, one = np.zeros(16, "float32"), np.ones(16, "float32")
    logs = model.evaluate(
        [X1, X2], [Y1, Y2], sample_weight=[zero, one], verbose=0, return_dict=True
    )
    assert logs["cls_loss"] == 0.0
    assert logs["loss"] == pytest.approx(logs["reg_loss"])
    plain = model.evaluate([X1, X2], [Y1, Y2], verbose=0, return_dict=True)
    assert logs["reg_loss"] == pytest.approx(plain["reg_loss"])


def test_branches_merged_by_concatenate_match_keras_parameter_count():
    # Keras 3.15.1: the same definition has these layers and 78 parameters.
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(5, name="da")(a), layers.Dense(5, name="db")(b)])
    cls = layers.Dense(2, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = Model([a, b], [cls, reg])
    assert [layer.name for layer in model.layers] == [
        "a", "b", "da", "db", "concatenate", "cls", "reg"
    ]  # fmt: skip
    assert model.count_params() == 78
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"])
    history = model.fit([X1, X2], [Y1, Y2], epochs=1, verbose=0)
    assert sorted(history.history) == ["cls_loss", "loss", "reg_loss"]


def test_merging_incompatible_symbolic_tensors_names_both_shapes():
    a, b = Input((4,), name="a"), Input((5,), name="b")
    with pytest.raises(ValueError, match=r"Add 'add'.*\(None, 4\).*\(None, 5\)"):
        layers.Add()([a, b])


def test_call_frees_each_intermediate_after_its_last_reader():
    import weakref

    inputs = Input((4,))
    first = layers.Dense(4, name="first")(inputs)
    second = layers.Dense(4, name="second")(first)
    third = layers.Dense(4, name="third")(second)
    model = Model(inputs, layers.Add(name="add")([third, second]))
    seen = {}

    def keep_weakly(module, args, output):
        seen[module.name] = weakref.ref(output)

    alive_at_add = {}

    def check(module, args):
        alive_at_add.update({name: ref() is not None for name, ref in seen.items()})

    for name in ("first", "second", "third"):
        model.get_layer(name).register_forward_hook(keep_weakly)
    model.get_layer("add").register_forward_pre_hook(check)
    with torch.no_grad():
        out = model(torch.ones(2, 4))
    # 'first' was read only by 'second': freed before 'add'; the others are add's inputs.
    assert alive_at_add == {"first": False, "second": True, "third": True}
    expected = model.get_layer("third")(
        model.get_layer("second")(model.get_layer("first")(torch.ones(2, 4)))
    )
    assert torch.allclose(
        out, expected + model.get_layer("second")(model.get_layer("first")(torch.ones(2, 4)))
    )


def test_a_softmax_output_gives_fit_its_logits_as_in_sequential():
    def network(functional):
        lamina.utils.set_random_seed(3)
        stack = [
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
        if not functional:
            return lamina.Sequential([lamina.Input((6, 6, 1)), *stack])
        x = inputs = lamina.Input((6, 6, 1))
        for layer in stack:
            x = layer(x)
        return lamina.Model(inputs, [x])

    model = network(True)
    assert model.output_activation == "softmax"
    x = torch.randn(5, 6, 6, 1)
    predictions, logits = model.call_with_logits(x, training=False)
    # outputs=[x]: the tensor itself, as Keras' Functional unpacks a one-element list
    assert isinstance(model(x), torch.Tensor)
    torch.testing.assert_close(predictions, model(x))
    torch.testing.assert_close(torch.softmax(logits, -1), predictions)
    assert isinstance(model.predict(x.numpy(), verbose=0), np.ndarray)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((24, 6, 6, 1)).astype("float32"), rng.integers(0, 3, 24)
    histories = []
    for functional in (True, False):
        model = network(functional)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(*data, batch_size=8, epochs=2, verbose=0).history)
        assert model._trainer._logits_activation == "softmax"
    for key, values in histories[1].items():
        np.testing.assert_allclose(histories[0][key], values, rtol=1e-5)


def test_outputs_that_keep_the_probability_path():
    inputs = lamina.Input((4,))
    hidden = layers.Dense(3)(inputs)
    softmax = layers.Dense(3, activation="softmax")
    assert lamina.Model(inputs, [softmax(hidden), hidden]).output_activation is None
    assert lamina.Model(inputs, layers.Dense(3)(hidden)).output_activation is None
    regularized = layers.Dense(3, activation="softmax", activity_regularizer="l2")(hidden)
    assert lamina.Model(inputs, regularized).output_activation is None
    assert lamina.Model(inputs, layers.Activation("sigmoid")(hidden)).output_activation == (
        "sigmoid"
    )


def test_input_of_another_size_on_a_fixed_axis_is_refused_as_keras():
    # Keras 3.15.1: Model(Input((4, 2)), LSTM(2)(...)) refuses a (1, 2, 2) input with this
    # message (predict and call); None axes take any size, and Sequential does not check.
    inputs = lamina.Input((4, 2))
    model = lamina.Model(inputs, layers.LSTM(2)(inputs))
    message = (
        r"Input 0 with name 'input_layer' of layer 'functional' is incompatible with the "
        r"layer: expected shape=\(None, 4, 2\), found shape=\(1, 2, 2\)"
    )
    with pytest.raises(ValueError, match=message):
        model.predict(np.ones((1, 2, 2), "float32"), verbose=0)
    with pytest.raises(ValueError, match=message):
        model(np.ones((1, 2, 2), "float32"))
    free = lamina.Input((None, 2))
    assert lamina.Model(free, layers.LSTM(2)(free))(np.ones((1, 7, 2), "float32")).shape == (1, 2)
