"""compile / fit / evaluate / predict: Keras' numbers, History keys, errors and callbacks."""

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks, layers, optimizers
from lamina.layers import Activation, Dense, Input
from lamina.models import Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


X = np.sin(np.arange(32 * 5).reshape(32, 5) * 0.37).astype("float32")
Y = (np.arange(32) % 3).astype("int64")


def small_model():
    model = Sequential([Input((5,)), Dense(4, activation="relu"), Dense(3, activation="softmax")])
    model.set_weights(
        [
            np.cos(np.arange(20).reshape(5, 4) * 0.5).astype("float32") * 0.5,
            np.zeros(4, "float32") + 0.1,
            np.sin(np.arange(12).reshape(4, 3) * 0.7).astype("float32") * 0.5,
            np.zeros(3, "float32"),
        ]
    )
    return model


# Keras 3.15.1 (torch backend), same weights and data, shuffle=False, batch 8, 3 epochs,
# validation_data=(X[:8], Y[:8]).
KERAS_HISTORY = {
    "sgd": {
        "accuracy": [0.40625, 0.40625, 0.4375],
        "loss": [1.099834, 1.098447, 1.097054],
        "val_accuracy": [0.75, 0.75, 0.75],
        "val_loss": [1.079172, 1.073448, 1.067801],
    },
    "adam": {
        "accuracy": [0.40625, 0.4375, 0.40625],
        "loss": [1.100154, 1.093505, 1.091049],
        "val_accuracy": [0.75, 0.75, 1.0],
        "val_loss": [1.069074, 1.060018, 1.052011],
    },
    "rmsprop": {
        "accuracy": [0.375, 0.40625, 0.4375],
        "loss": [1.114427, 1.101065, 1.097847],
        "val_accuracy": [0.75, 0.875, 0.875],
        "val_loss": [1.053004, 1.044009, 1.036624],
    },
}


@pytest.mark.parametrize("name", sorted(KERAS_HISTORY))
def test_fit_history_equals_keras(name):
    optimizer = {
        "sgd": lambda: optimizers.SGD(0.1),
        "adam": lambda: optimizers.Adam(0.01),
        "rmsprop": lambda: optimizers.RMSprop(0.01),
    }[name]()
    model = small_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(X[:8], Y[:8])
    )
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key, expected in KERAS_HISTORY[name].items():
        np.testing.assert_allclose(history.history[key], expected, atol=2e-6, err_msg=key)
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 4}


def test_categorical_crossentropy_on_one_hot_equals_keras():
    model = small_model()
    model.compile(
        optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    one_hot = np.eye(3, dtype="float32")[Y]
    history = model.fit(X, one_hot, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [1.099834, 1.098447], atol=2e-6)
    logs = model.evaluate(X, one_hot, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(0.4375)
    assert logs["loss"] == pytest.approx(1.0933325, abs=2e-6)


def test_sample_weight_and_class_weight_equal_keras():
    model = small_model()
    model.compile(
        optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    weights = (np.arange(32) % 4).astype("float32")
    loss, _ = model.evaluate(X, Y, sample_weight=weights, verbose=0)
    assert loss == pytest.approx(1.639576, abs=2e-6)
    history = model.fit(
        X,
        Y,
        batch_size=8,
        epochs=1,
        shuffle=False,
        verbose=0,
        class_weight={0: 1.0, 1: 2.0, 2: 0.5},
    )
    assert history.history["loss"][0] == pytest.approx(1.286389, abs=2e-6)
    assert history.history["accuracy"][0] == pytest.approx(0.375)


def test_class_weight_with_sample_weight_is_an_error_as_keras():
    # Keras 3.15.1: ValueError "You cannot `class_weight` and `sample_weight` at the same time."
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    weights, classes = np.ones(32, "float32"), {0: 1.0, 1: 2.0, 2: 0.5}
    with pytest.raises(ValueError, match="`class_weight` and `sample_weight` at the same"):
        model.fit(X, Y, sample_weight=weights, class_weight=classes, verbose=0)
    with pytest.raises(ValueError, match="`class_weight` and `sample_weight` at the same"):
        model.train_on_batch(X, Y, sample_weight=weights, class_weight=classes)


def test_regularization_is_added_to_the_loss_as_keras():
    # Keras 3.15.1: Dense(3, kernel_regularizer=L2(0.1)), ones kernel, mse vs zeros -> 4.6
    model = Sequential([Input((2,)), Dense(3, kernel_regularizer=lamina.regularizers.L2(0.1))])
    model.set_weights([np.ones((2, 3)), np.zeros(3)])
    model.compile("sgd", "mse")
    assert model.evaluate(np.ones((4, 2)), np.zeros((4, 3)), verbose=0) == pytest.approx(4.6)


def test_lecture_snippet_runs_verbatim_and_learns():
    # Ten noisy clusters in 100 dimensions: learnable, but not in one step.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=2000)
    centers = rng.normal(size=(10, 100))
    x_train = (centers[labels] + 3.0 * rng.normal(size=(2000, 100))).astype("float32")
    y_train = np.eye(10, dtype="float32")[labels]

    from lamina.layers import Activation, Dense
    from lamina.models import Sequential

    model = Sequential()
    model.add(Dense(units=64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(units=10))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    accuracy = history.history["accuracy"]
    assert accuracy[-1] > accuracy[0] + 0.2
    assert accuracy[-1] > 0.6


def test_evaluate_and_predict_formats():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    result = model.evaluate(X, Y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert model.metrics_names == ["loss", "accuracy"]
    prediction = model.predict(X, batch_size=5, verbose=0)
    assert isinstance(prediction, np.ndarray) and prediction.shape == (32, 3)
    np.testing.assert_allclose(
        prediction, model(torch.from_numpy(X)).detach().cpu().numpy(), atol=1e-6
    )
    np.testing.assert_allclose(model.predict_on_batch(X), prediction, atol=1e-6)
    plain = small_model()
    plain.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(plain.evaluate(X, Y, verbose=0), float)


def test_train_on_batch_and_test_on_batch():
    model = small_model()
    model.compile(
        optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    before = model.test_on_batch(X[:8], Y[:8])
    loss, accuracy = model.train_on_batch(X[:8], Y[:8])
    assert loss == pytest.approx(before[0])
    assert model.test_on_batch(X[:8], Y[:8], return_dict=True)["loss"] < before[0]


def test_validation_split_takes_the_last_samples():
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    history = model.fit(X, Y, batch_size=8, epochs=1, validation_split=0.25, verbose=0)
    expected = small_model()
    expected.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert history.history["val_loss"][0] == pytest.approx(
        expected.evaluate(X[24:], Y[24:], verbose=0), abs=1e-6
    )


def test_fit_on_torch_tensors():
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(torch.from_numpy(X), torch.from_numpy(Y), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_callbacks_see_hooks_and_can_stop_training():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs)))
            self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch", batch, round(logs["loss"], 3) > 0))

    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(X, Y, batch_size=16, epochs=5, verbose=0, callbacks=[Recorder()])
    assert events == [
        "train_begin",
        ("batch", 0, True),
        ("batch", 1, True),
        ("epoch_end", 0, ["loss"]),
    ]
    assert history.epoch == [0]


def test_progress_bar_verbose_2_prints_one_keras_line_per_epoch():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out = io.StringIO()
    with redirect_stdout(out):
        model.fit(X, Y, batch_size=8, epochs=2, verbose=2)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(
        r"4/4 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[1]
    )


def test_progress_bar_verbose_1_ends_with_the_full_bar():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    out = io.StringIO()
    with redirect_stdout(out):
        model.fit(X, Y, batch_size=8, epochs=1, verbose=1)
    # Keras 3.15.1 colours the bar with ANSI codes even when stdout is not a terminal
    text = re.sub(r"\x1b\[\d+m", "", out.getvalue())
    assert re.search(r"4/4 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4}\n$", text)


# ---------------------------------------------------------------- errors


def test_fit_before_compile_says_to_compile():
    with pytest.raises(ValueError, match=r"compile\(\) before fit\(\)"):
        small_model().fit(X, Y)


def test_x_and_y_of_different_lengths():
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x with 32 and y with 31"):
        model.fit(X, Y[:31], verbose=0)


def test_empty_input():
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="empty input"):
        model.fit(X[:0], Y[:0], verbose=0)


def test_wrong_input_shape_names_the_layer_and_shapes():
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Dense 'dense'.*\(None, 5\).*\(2, 7\)"):
        model.fit(np.zeros((32, 7), "float32"), Y, verbose=0)


def test_integer_labels_for_categorical_crossentropy_suggest_sparse():
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(X, Y, verbose=0)


def test_labels_out_of_range_are_an_error_not_a_nan():
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="7"):
        model.fit(X, np.full(32, 7), verbose=0)


def test_label_checks_of_a_graph_model_read_its_output_shapes_without_a_forward_pass():
    # fit checks the labels once; with inputs of the shape the model was built for, the
    # output shapes come from the graph (no eager pass on two samples per fit call).
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    sizes = []
    model.layers[0].register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])))
    model.fit(X, Y, batch_size=16, verbose=0)
    assert sizes == [16, 16]
    with pytest.raises(ValueError, match="7"):
        model.fit(X, np.full(32, 7), verbose=0)
    # A dict of named outputs keeps the compiled order (sorted names).
    inputs = Input((5,))
    two = lamina.Model(inputs, {"wide": Dense(6)(inputs), "narrow": Dense(2)(inputs)})
    two.compile("sgd", {"wide": "sparse_categorical_crossentropy", "narrow": "mse"})
    two.fit(X, {"wide": np.full(32, 5), "narrow": np.zeros((32, 2), "float32")}, verbose=0)
    with pytest.raises(ValueError, match="6"):
        two.fit(X, {"wide": np.full(32, 6), "narrow": np.zeros((32, 2), "float32")}, verbose=0)


def test_fit_moves_the_model_only_when_a_tensor_is_elsewhere(monkeypatch):
    # torch.nn.Module.to walks every tensor even when all are on the device already.
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    moves = []
    original = torch.nn.Module.to
    monkeypatch.setattr(
        torch.nn.Module, "to", lambda self, *a, **k: moves.append(a) or original(self, *a, **k)
    )
    model.fit(X, Y, verbose=0)
    model.fit(X, Y, verbose=0)
    assert moves == []
    from lamina.layers.layer import tensors_on

    assert tensors_on(model, torch.device("cpu"))
    model.layers[0].register_buffer("elsewhere", torch.zeros(1, device="meta"))
    assert not tensors_on(model, torch.device("cpu"))
    assert tensors_on(model.layers[1], torch.device("cpu"))


def test_label_checks_run_the_model_when_its_input_shape_is_open():
    # Input((None,)) does not fix the width: two samples go through the model instead.
    inputs = Input((None,))
    model = lamina.Model(
        inputs, Dense(3)(layers.GlobalAveragePooling1D()(layers.Reshape((-1, 1))(inputs)))
    )
    model.compile("sgd", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    sizes = []
    model.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])))
    with pytest.raises(ValueError, match="3"):
        model.fit(X, np.full(32, 3), verbose=0)
    assert sizes == [2]


def test_one_hot_of_the_wrong_width():
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="4.*3|3.*4"):
        model.fit(X, np.eye(4, dtype="float32")[Y % 4], verbose=0)


def test_unknown_names_list_the_valid_ones():
    model = small_model()
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile(optimizer="sgd", loss="mean_square_error")
    with pytest.raises(ValueError, match="accuracy"):
        model.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])


def test_model_trains_with_conv_layers_and_saves_weights(tmp_path):
    model = Sequential(
        [
            Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    y = np.arange(16) % 2
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "w.safetensors"
    model.save_weights(str(path))
    clone = Sequential.from_config(model.get_config())
    clone.load_weights(str(path))
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    _ = Activation


@pytest.mark.parametrize("loss_order", [("zeta", "alpha"), ("alpha", "zeta")])
def test_evaluate_lists_output_losses_in_the_loss_dict_order_as_keras(loss_order):
    inputs = lamina.Input((4,))
    zeta = lamina.layers.Dense(2, kernel_initializer="zeros")(inputs)
    alpha = lamina.layers.Dense(3, kernel_initializer="zeros")(inputs)
    model = lamina.Model(inputs, {"zeta": zeta, "alpha": alpha})
    model.compile(
        "sgd", {name: "mse" for name in loss_order}, metrics={"zeta": "mae", "alpha": "mse"}
    )
    x, y = np.ones((4, 4), "float32"), {"zeta": np.ones((4, 2)), "alpha": 2 * np.ones((4, 3))}
    # Keras 3.15.1: [5, 1, 4, 4, 1] for the loss dict (zeta, alpha), [5, 4, 1, 4, 1] for
    # (alpha, zeta); metrics follow by sorted output name
    losses = {"zeta": 1.0, "alpha": 4.0}
    expected = [5.0, *(losses[name] for name in loss_order), 4.0, 1.0]
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, atol=1e-6)
    names = ["loss", *(f"{name}_loss" for name in loss_order), "alpha_mse", "zeta_mae"]
    assert model.metrics_names == names  # evaluate()'s labels (Keras 3 lists metric objects)


def test_several_outputs_list_their_metrics_by_name_as_keras():
    # Keras 3.15.1 on this program: [107.0, 53.5, 53.5, 6.5, 650.0, 53.5] (the metrics sorted
    # by log name); one output keeps compile order: [53.5, 650.0, 6.5]
    x = np.ones((4, 3), "float32") * np.arange(1, 5)[:, None].astype("float32")
    inputs = lamina.Input((3,))
    a = lamina.layers.Dense(1, kernel_initializer="ones", name="a")(inputs)
    b = lamina.layers.Dense(1, kernel_initializer="ones", name="b")(inputs)
    model = lamina.Model(inputs, {"a": a, "b": b})
    metrics = {"a": [lamina.metrics.MeanAbsolutePercentageError(), "mae"], "b": ["mse"]}
    model.compile("sgd", {"a": "mse", "b": "mse"}, metrics=metrics)
    y = {"a": np.ones((4, 1)), "b": np.ones((4, 1))}
    expected = [107.0, 53.5, 53.5, 6.5, 650.0, 53.5]
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    single = lamina.Model(inputs, a)
    single.compile("sgd", "mse", metrics=[lamina.metrics.MeanAbsolutePercentageError(), "mae"])
    np.testing.assert_allclose(single.evaluate(x, y["a"], verbose=0), [53.5, 650.0, 6.5], rtol=1e-5)
