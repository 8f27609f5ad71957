"""Errors for common mistakes, as Keras 3.15.1 (torch backend) raises them: the same exception
type and the key facts of its message (found by running the same programs on both)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.losses.validation import LabelRangeError


def _dense_model(features: int = 8, units: int = 4) -> lamina.Sequential:
    model = lamina.Sequential([lamina.Input((features,)), layers.Dense(units)])
    model.compile("sgd", "mse")
    return model


def test_sequential_input_rank_is_adjusted_or_refused_as_keras():
    # Keras 3.15.1: "Invalid input shape for input ... Expected shape (None, 8), but input has
    # incompatible shape torch.Size([2, 3, 8])"
    model = _dense_model()
    before = [w.copy() for w in model.get_weights()]
    for shape in ((2, 3, 8), (8,)):
        with pytest.raises(ValueError, match=r"expected shape \(None, 8\).*incompatible shape"):
            model.predict(np.zeros(shape, "float32"), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    # Keras 3.15.1 adds the missing channel axis of size 1: (2, 28, 28) -> (2, 28, 28, 1).
    conv = lamina.Sequential(
        [lamina.Input((28, 28, 1)), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)]
    )
    assert conv.predict(np.zeros((2, 28, 28), "float32"), verbose=0).shape == (2, 2)
    # Keras 3.15.1: "The structure of `inputs` doesn't match the expected structure."
    with pytest.raises(ValueError, match="structure of `inputs` doesn't match"):
        model.predict({"a": np.zeros((2, 8), "float32")}, verbose=0)


def test_python_scalars_and_nested_lists_are_unrecognized_data():
    # Keras 3.15.1: "ValueError: Unrecognized data type: x=3.0 (of type <class 'float'>)"
    model = _dense_model()
    for x in (3.0, "abc", [[0.0] * 8] * 3):
        with pytest.raises(ValueError, match="Unrecognized data type: x"):
            model.predict(x, verbose=0)


def test_generator_items_must_be_tuples():
    # Keras 3.15.1: "When passing a Python generator to a Keras model, the generator must
    # return a tuple, either (input,) or (inputs, targets) or (inputs, targets,
    # sample_weights). Received: 1"
    model = _dense_model()
    x = np.zeros((4, 8), "float32")
    for item in (1, x):
        with pytest.raises(ValueError, match="the generator must return a tuple"):
            model.predict((item for _ in range(2)), verbose=0)
    assert model.predict(((x,) for _ in range(2)), verbose=0).shape == (8, 4)


def test_a_y_list_for_one_output_is_refused():
    # Keras 3.15.1: "ValueError: y_true and y_pred have different structures."
    model = _dense_model()
    x, y = np.zeros((6, 8), "float32"), np.zeros((6, 4), "float32")
    with pytest.raises(ValueError, match="y_true and y_pred have different structures"):
        model.fit(x, [y, y], verbose=0)


def test_fit_and_evaluate_without_a_loss_raise_and_a_weight_penalty_counts(monkeypatch):
    # Keras 3.15.1: "ValueError: No loss to compute. Provide a `loss` argument in `compile()`."
    # (An add_loss anywhere in the process lets the step run: its terms are known only then.)
    monkeypatch.setattr(lamina.training.compile, "added_losses_in_use", lambda: False)
    x, y = np.zeros((6, 8), "float32"), np.zeros((6, 4), "float32")
    model = lamina.Sequential([lamina.Input((8,)), layers.Dense(4)])
    model.compile("sgd")
    for run in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0)):
        with pytest.raises(ValueError, match=r"No loss to compute. Provide a `loss` argument"):
            run()
    penalised = lamina.Sequential(
        [lamina.Input((8,)), layers.Dense(4, use_bias=False, kernel_regularizer="l2")]
    )
    penalised.compile("sgd")
    assert list(penalised.fit(x, y, verbose=0).history) == ["loss"]


def test_compile_argument_errors_as_keras():
    model = lamina.Sequential([lamina.Input((8,)), layers.Dense(4)])
    # Keras 3.15.1: "Expected `metrics` argument to be a list, tuple, or dict. Received instead:
    # metrics=accuracy of type <class 'str'>"
    with pytest.raises(ValueError, match="Expected `metrics` argument to be a list, tuple"):
        model.compile("sgd", "mse", metrics="accuracy")
    # Keras 3.15.1: "`loss_weights` must match the number of losses, got 1 losses and 2 weights."
    with pytest.raises(ValueError, match="`loss_weights` must match the number of losses"):
        model.compile("sgd", "mse", loss_weights=[1.0, 2.0])
    # Keras 3.15.1: "Could not interpret loss identifier: 3"
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        model.compile("sgd", 3)
    model.compile("sgd", ["mse"])  # Keras takes a one-element list for one output
    x, y = np.zeros((6, 8), "float32"), np.zeros((6, 4), "float32")
    assert list(model.fit(x, y, verbose=0, callbacks=lamina.callbacks.History()).history) == [
        "loss"
    ]  # Keras 3.15.1 also takes one callback that is not in a list


def test_layer_argument_errors_as_keras():
    # Keras 3.15.1: "Could not interpret activation function identifier: 3"
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        layers.Dense(2, activation=3)
    # Keras 3.15.1: "Could not interpret initializer identifier: 3" (also regularizer)
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: 3"):
        layers.Dense(2, kernel_initializer=3)
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: 3"):
        layers.Dense(2, kernel_regularizer=3)
    # Keras 3.15.1: "TypeError: <class '...Dense'> could not be deserialized properly."
    with pytest.raises(TypeError, match="Bidirectional 'bidirectional.*' wraps a recurrent"):
        layers.Bidirectional(layers.Dense(3))
    # Keras 3.15.1: "TypeError: 'int' object is not iterable"
    with pytest.raises(TypeError, match="target_shape must be a tuple"):
        layers.Reshape(12)
    # Keras 3.15.1: "Cannot convert '3' to a shape."; "You cannot pass both `shape` and
    # `batch_shape` at the same time."
    with pytest.raises(ValueError, match="Cannot convert '3' to a shape"):
        lamina.Input(3)
    with pytest.raises(ValueError, match="You cannot pass both `shape` and `batch_shape`"):
        lamina.Input((3,), batch_shape=(None, 3))
    # Keras 3.15.1: "Argument `learning_rate` should be float, or an instance of
    # LearningRateSchedule, or a callable ..."
    with pytest.raises(ValueError, match="Argument `learning_rate` should be float"):
        lamina.optimizers.SGD(learning_rate="a")


def test_dropout_takes_rate_one_and_drops_everything():
    # Keras 3.15.1: Dropout(1.0) is accepted; in training its output is all zeros.
    layer = layers.Dropout(1.0)
    y = layer(torch.ones(2, 3), training=True)
    assert torch.equal(y, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\]"):
        layers.Dropout(1.5)


def test_functional_dict_inputs_as_keras():
    a, b = lamina.Input((3,), name="a"), lamina.Input((4,), name="b")
    model = lamina.Model([a, b], layers.Concatenate()([a, b]))
    x = {"a": np.zeros((2, 3), "float32"), "b": np.zeros((2, 4), "float32")}
    # Keras 3.15.1 ignores extra keys, and reports a missing one: 'Missing data for input "b".
    # You passed a data dictionary with keys ['a', 'c']. Expected the following keys: ['a', 'b']'
    assert model.predict({**x, "c": np.zeros((2, 1))}, verbose=0).shape == (2, 7)
    with pytest.raises(ValueError, match=r"issing data for input 'b'.*keys \['a', 'c'\]"):
        model.predict({"a": x["a"], "c": x["b"]}, verbose=0)
    # A dict of inputs with sorted keys takes a list, in that order (Keras 3.15.1).
    by_dict = lamina.Model({"a": a, "b": b}, layers.Concatenate()([a, b]))
    assert by_dict.predict([x["a"], x["b"]], verbose=0).shape == (2, 7)


def test_label_and_pop_errors_are_also_index_errors():
    # Keras 3.15.1 (torch): "IndexError: Target 6 is out of bounds."; "IndexError: list index
    # out of range" for pop() on an empty Sequential. lamina's are ValueErrors and IndexErrors.
    assert issubclass(LabelRangeError, IndexError) and issubclass(LabelRangeError, ValueError)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(IndexError, match="labels must lie in"):
        model.fit(np.zeros((3, 4), "float32"), np.array([0, 1, 6]), verbose=0)
    with pytest.raises(IndexError):
        lamina.Sequential().pop()


def test_missing_model_file_and_unknown_weights_format(tmp_path):
    # Keras 3.15.1: "ValueError: File not found: filepath=... Please ensure the file is an
    # accessible `.keras` zip file."; "ValueError: File format not supported: filepath=..."
    with pytest.raises(ValueError, match="File not found: filepath="):
        lamina.models.load_model(tmp_path / "nope.keras")
    with pytest.raises(ValueError, match="File format not supported: filepath="):
        _dense_model().load_weights(tmp_path / "a.txt")
