"""Ops are differentiable, and Keras-style custom layers and losses built on them train."""

import numpy as np
import pytest
import torch

import lamina
import lamina.ops as ops


def _double(*shape):
    torch.manual_seed(0)
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize(
    "function",
    [
        lambda x: ops.mean(ops.square(x), axis=-1),
        lambda x: ops.softmax(x, axis=(0, 1)),
        lambda x: ops.logsumexp(x, axis=1),
        lambda x: ops.gelu(x),
        lambda x: ops.categorical_crossentropy(ops.softmax(x), ops.softmax(x * 2)),
        lambda x: ops.sparse_categorical_crossentropy([0, 2], x, from_logits=True),
        lambda x: ops.binary_crossentropy(ops.sigmoid(x), ops.sigmoid(x * 3)),
        lambda x: ops.where(x > 0, x, ops.exp(x)),
        lambda x: ops.pad(x, ((1, 0), (1, 1)), mode="reflect"),
        lambda x: ops.take(x, [2, 0], axis=1),
        lambda x: ops.max(x, axis=0),
        lambda x: ops.std(x, axis=1),
        lambda x: ops.normalize(x),
        lambda x: ops.moments(x, axes=[1])[1],
        lambda x: ops.average_pool(x.reshape(1, 2, 3, 1), 2, strides=1, padding="same"),
        lambda x: ops.conv(x.reshape(1, 2, 3, 1), x.reshape(2, 3, 1, 1)[:, :2], padding="same"),
        lambda x: ops.scatter_update(x, [[0, 1]], ops.ones((1,), "float64") * x[1, 1]),
    ],
)
def test_gradient_matches_finite_differences(function):
    assert torch.autograd.gradcheck(function, (_double(2, 3),))


@pytest.mark.parametrize(
    "function",
    [
        lambda x: ops.norm(x, axis=-1),
        lambda x: ops.matmul(x, ops.transpose(x)),
        lambda x: ops.quantile(x, 0.3, axis=1),
        lambda x: ops.maximum(x, 0.1) * ops.var(x),
    ],
)
def test_gradient_of_ops_keras_computes_in_float32_matches_finite_differences(function):
    # As Keras 3.15.1, these ops give float32 for float64 inputs, so float32 tolerances.
    x = _double(2, 3)
    assert function(x).dtype == torch.float32
    assert torch.autograd.gradcheck(function, (x,), eps=1e-3, atol=1e-3, rtol=1e-3)


class SquaredDistance(lamina.layers.Layer):
    """A custom layer written the Keras way: weights plus keras.ops in call."""

    def build(self, input_shape):
        self.centre = self.add_weight(name="centre", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs):
        distance = ops.sum(ops.square(inputs - self.centre), axis=-1, keepdims=True)
        return ops.concatenate([ops.sqrt(distance + 1e-6), ops.relu(inputs)], axis=-1)


def mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def test_custom_layer_and_loss_on_ops_train_with_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = lamina.Sequential(
        [lamina.Input((4,)), SquaredDistance(), lamina.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss=mean_squared_error)
    before = [w.detach().clone() for w in model.parameters()]
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not torch.equal(b, w) for b, w in zip(before, model.parameters(), strict=True))
