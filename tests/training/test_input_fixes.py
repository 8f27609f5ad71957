"""Inputs Keras accepts: read-only arrays, columns given as lists of strings, and the dtypes
of symbolic outputs (Keras 3.15.1's values)."""

import warnings

import numpy as np
import pytest

import lamina
from lamina import layers


def test_read_only_arrays_train_and_predict_without_warnings():
    x = np.ones((4, 3), "float32")
    y = np.zeros((4, 1), "float32")
    x.flags.writeable = False
    y.flags.writeable = False
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0)
        assert model.predict(x, verbose=0).shape == (4, 1)


def test_a_dataset_column_given_as_a_list_of_strings_is_one_array():
    ds = lamina.data.Dataset.from_tensor_slices(
        {"text": ["a b", "c", "d e f"], "n": [1.0, 2.0, 3.0]}
    )
    first, second = list(ds.batch(2))
    assert first["text"].tolist() == ["a b", "c"] and second["text"].tolist() == ["d e f"]
    assert first["n"].tolist() == [1.0, 2.0]


def test_symbolic_dtypes_follow_the_eager_results():
    ints, floats = lamina.Input((2,), dtype="int64"), lamina.Input((2,))
    assert layers.Concatenate()([ints, floats]).dtype == "float32"  # Keras: float32
    assert layers.Add()([ints, floats]).dtype == "float32"
    bins = layers.Discretization(bin_boundaries=[0.0, 1.0])
    assert bins(lamina.Input((2,))).dtype == "int32"  # Keras: int32
    assert str(bins(np.array([[0.5, 2.0]], "float32")).dtype) == "torch.int32"


@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")  # Keras warns too
def test_outputs_without_a_loss_need_no_targets():
    # Keras 3.15.1: History ['loss'] for both models, ['loss', 'out_mae'] with a metric
    inputs = lamina.Input((3,))
    hidden = layers.Dense(4)(inputs)
    model = lamina.Model(inputs, {"a": layers.Dense(2)(hidden), "b": layers.Dense(1)(hidden)})
    model.compile("sgd", loss={"a": "mse"})
    history = model.fit(np.ones((4, 3)), {"a": np.ones((4, 2))}, verbose=0)
    assert sorted(history.history) == ["loss"]
    two = lamina.Model(inputs, [layers.Dense(1)(hidden), layers.Dense(1)(hidden)])
    two.compile("sgd", loss=["mse", None])
    assert sorted(two.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0).history) == ["loss"]
    named = lamina.Model(
        inputs, [layers.Dense(1, name="out")(hidden), layers.Dense(1, name="aux")(hidden)]
    )
    named.compile("sgd", loss=["mse", None], metrics=[["mae"], []])
    y = [np.ones((4, 1)), np.ones((4, 1))]
    assert sorted(named.fit(np.ones((4, 3)), y, verbose=0).history) == ["loss", "out_mae"]
    logs = named.evaluate(np.ones((4, 3)), y, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "out_mae"]
