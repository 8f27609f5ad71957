"""Keras' Variable API on lamina's weights: assign/assign_add/assign_sub, numpy() in Keras'
layout, name/path, `lamina.Variable`, `Metric.add_variable`. Reference values are Keras 3.15.1
outputs of the same programs (the subclassing and custom-metric guides' examples)."""

import copy

import numpy as np
import pytest
import torch

import lamina
from lamina import layers, ops


class ComputeSum(layers.Layer):
    """The subclassing guide's non-trainable weight example."""

    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class CategoricalTruePositives(lamina.metrics.Metric):
    """The custom-metric guide's metric."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(ops.cast(y_true, "int32") == ops.cast(y_pred, "int32"), "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_non_trainable_weight_accumulates_as_in_the_guide():
    layer = ComputeSum(2)
    x = ops.ones((2, 2))
    first = ops.convert_to_numpy(layer(x))
    second = ops.convert_to_numpy(layer(x))
    # Keras 3.15.1: [2. 2.] then [4. 4.]; 1 weight, non-trainable
    assert first.tolist() == [2.0, 2.0] and second.tolist() == [4.0, 4.0]
    assert (len(layer.weights), len(layer.non_trainable_weights)) == (1, 1)
    assert not layer.trainable_weights


def test_custom_metric_with_add_variable_counts_and_resets():
    metric = CategoricalTruePositives()
    metric.update_state(np.array([[1], [2]]), np.eye(3)[[1, 0]])
    assert float(metric.result()) == 1.0  # Keras: 1.0
    assert [v.path for v in metric.variables] == ["categorical_true_positives/ctp"]
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_custom_metric_in_fit_counts_the_correct_predictions():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 3, (64, 1))
    model = lamina.Sequential([lamina.Input((5,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[CategoricalTruePositives()])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert list(history.history) == ["categorical_true_positives", "loss"]  # Keras' order
    counted = model.evaluate(x, y, verbose=0, return_dict=True)["categorical_true_positives"]
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    assert counted == float((predicted == y[:, 0]).sum())


def test_variable_constructor_values_names_and_dtypes():
    lamina.backend.clear_session()
    v = lamina.Variable(1.0)
    assert v.assign_add(2.0) is v
    assert v.numpy() == 3.0 and v.trainable and v.name == "variable"
    assert lamina.Variable(0.0).name == "variable_1"  # numbered as Keras numbers them
    assert isinstance(v, torch.nn.Parameter) and isinstance(v, lamina.Variable)
    # Keras: a float64 NumPy value keeps float64; trainable=False is not trained
    acc = lamina.Variable(np.zeros((2, 2)), trainable=False, name="acc")
    assert (acc.name, str(acc.dtype), acc.trainable) == ("acc", "torch.float64", False)
    made = lamina.Variable("ones", shape=(2, 3))
    assert made.numpy().tolist() == [[1.0] * 3] * 2
    with pytest.raises(ValueError, match="needs a shape"):
        lamina.Variable("zeros")


def test_layer_weights_are_variables_with_keras_names_and_layout():
    dense = layers.Dense(2, name="d")
    dense.build((None, 3))
    kernel = dense.kernel
    assert isinstance(kernel, lamina.Variable) and (kernel.name, kernel.path) == (
        "kernel",
        "d/kernel",
    )
    assert tuple(kernel.shape) == (2, 3) and kernel.numpy().shape == (3, 2)  # Keras layout
    values = np.arange(6, dtype="float32").reshape(3, 2)
    kernel.assign(values)  # NumPy values in Keras' layout, as set_weights
    np.testing.assert_array_equal(dense.get_weights()[0], values)
    kernel.assign(kernel * 2)  # tensors of the weight's own shape as they are
    np.testing.assert_array_equal(kernel.numpy(), values * 2)
    kernel.assign_sub(torch.ones(2, 3))
    np.testing.assert_array_equal(kernel.numpy(), values * 2 - 1)
    with pytest.raises(ValueError, match=r"d/kernel.*shape \(2, 3\)"):
        kernel.assign(np.zeros((4, 4)))


def test_variables_keep_their_identity_through_dtype_moves_and_copies():
    model = lamina.Sequential([lamina.Input((3,)), layers.BatchNormalization()])
    norm = model.layers[0]
    mean = norm.moving_mean
    model.to(torch.float64)
    assert norm.moving_mean is mean and mean.dtype == torch.float64
    model.to(torch.float32)
    clone = copy.deepcopy(model)
    assert clone.layers[0].moving_mean.path == "sequential/batch_normalization/moving_mean"
    assert clone.layers[0].moving_mean is not mean
    assert all(isinstance(w, lamina.Variable) for w in clone.weights)


def test_compiled_training_with_variable_weights_matches_eager():
    def run(jit):
        lamina.utils.set_random_seed(3)
        model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3), layers.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")
        return model.fit(x, x[:, :1], epochs=2, verbose=0).history["loss"]

    np.testing.assert_allclose(run(True), run(False), rtol=1e-5)


def test_add_weight_keeps_aggregation_and_checks_it():
    # Keras 3.15.1: v.aggregation is 'mean' / 'sum' as given, 'none' by default.
    class AllArgs(layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1], 3), initializer="ones",
                                     aggregation="mean", name="kern")  # fmt: skip
            self.c = self.add_weight(shape=(), trainable=False, aggregation="sum", name="cnt")
            self.d = self.add_weight(shape=(), name="plain")

        def call(self, x):
            return x

    layer = AllArgs()
    layer(np.ones((2, 4), "float32"))
    assert [w.aggregation for w in (layer.k, layer.c, layer.d)] == ["mean", "sum", "none"]
    assert lamina.Variable(1.0).synchronization == "auto"
    with pytest.raises(ValueError, match="Invalid value for argument `aggregation`"):
        layers.Dense(2).add_weight(shape=(1,), aggregation="max")
