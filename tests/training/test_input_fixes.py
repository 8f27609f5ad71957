"""Inputs Keras accepts: read-only arrays, columns given as lists of strings, and the dtypes
of symbolic outputs (Keras 3.15.1's values)."""

import warnings

import numpy as np

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
