"""Masks that travel with tensors: Embedding(mask_zero=True) and Masking, into recurrent,
attention and pooling layers. Reference values: the same models run on Keras 3.15.1 (torch
backend) with the same weights (a sine of the weight's index)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.testing import check_layer

IDS = np.array([[3, 5, 0, 0], [7, 0, 0, 0], [1, 2, 4, 6]])


def sine_weights(model):
    model.set_weights(
        [
            (np.sin(np.arange(w.size) * 0.37 + i) * 0.5).reshape(w.shape).astype("float32")
            for i, w in enumerate(model.get_weights())
        ]
    )


def predict(build, x=IDS):
    inputs = lamina.Input(x.shape[1:], dtype="int32" if x.dtype.kind == "i" else "float32")
    model = lamina.Model(inputs, build(inputs))
    sine_weights(model)
    return model.predict(x, verbose=0)


def embed(width=3):
    return layers.Embedding(8, width, mask_zero=True)


KERAS = {
    "lstm": [[-0.537527, -0.404058], [-0.319241, -0.265644], [-0.356822, -0.283276]],
    "average": [[0.194534, 0.120257], [1.022405, 0.855518], [0.6306, 0.501028]],
    "dense_gru": [
        [0.081575, 0.146079, 0.189169],
        [0.029217, 0.082225, 0.124199],
        [0.101846, 0.185746, 0.24071],
    ],
    "bidirectional": [
        [-0.132685, -0.124923, 0.230336, 0.247162],
        [-0.071736, -0.081125, 0.076747, 0.103374],
        [-0.139765, -0.135001, 0.187217, 0.239157],
    ],
    "attention": [
        [0.254672, 0.182669, 0.085943, -0.022415],
        [0.232241, 0.16838, 0.081729, -0.015983],
        [0.200944, 0.127829, 0.037412, -0.058068],
    ],
}


def self_attention(inputs):
    embedded = embed(4)(inputs)  # one Embedding (one mask) for the query and the value
    return layers.GlobalAveragePooling1D()(layers.MultiHeadAttention(2, 2)(embedded, embedded))


BUILDERS = {
    "lstm": lambda i: layers.Dense(2)(layers.LSTM(4)(embed()(i))),
    "average": lambda i: layers.Dense(2)(layers.GlobalAveragePooling1D()(embed()(i))),
    "dense_gru": lambda i: layers.GRU(3)(layers.Dense(5, activation="relu")(embed()(i))),
    "bidirectional": lambda i: layers.Bidirectional(layers.LSTM(2))(embed()(i)),
    "attention": self_attention,
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_embedding_mask_reaches_the_layers_after_it(name):
    np.testing.assert_allclose(predict(BUILDERS[name]), KERAS[name], atol=2e-6)


def test_masking_layer_and_lstm():
    x = np.array([[[1, 2], [0, 0], [3, 1]], [[0, 0], [0, 0], [2, 2]]], "float32")
    expected = [[0.193131, 0.156342, 0.089661], [0.136876, 0.137604, 0.121461]]
    got = predict(lambda i: layers.LSTM(3)(layers.Masking(0.0)(i)), x)
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_masked_training_matches_keras():
    inputs = lamina.Input((4,), dtype="int32")
    model = lamina.Model(inputs, layers.Dense(1)(layers.LSTM(3)(embed()(inputs))))
    sine_weights(model)
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    y = np.array([[1.0], [0.0], [0.5]], "float32")
    history = model.fit(IDS, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [0.89886, 0.595522, 0.41026], atol=2e-6)


def test_a_layer_without_mask_support_drops_it_with_keras_warning():
    flatten = layers.Flatten()
    with pytest.warns(UserWarning, match="does not support masking"):
        out = flatten(embed()(torch.as_tensor(IDS)))
    assert getattr(out, "_keras_mask", None) is None


def test_the_mask_follows_returned_sequences_only():
    emb = embed()(torch.as_tensor(IDS))
    assert emb._keras_mask.tolist()[1] == [True, False, False, False]
    assert layers.LSTM(2, return_sequences=True)(emb)._keras_mask is emb._keras_mask
    assert getattr(layers.LSTM(2)(emb), "_keras_mask", None) is None


def test_masking_contract_and_training():
    check_layer(layers.Masking, {"mask_value": 0.0}, (2, 4, 3), expected_output_shape=(2, 4, 3))
    model = lamina.Sequential(
        [lamina.Input((4, 3)), layers.Masking(), layers.LSTM(2), layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(8, 4, 3)).astype("float32")
    x[:, 2:] = 0.0
    history = model.fit(x, np.zeros((8, 1), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_batch_normalization_trains_on_the_unmasked_steps_as_keras():
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], bool)
    layer = layers.BatchNormalization(momentum=0.5)
    out = layer(torch.as_tensor(x), training=True, mask=torch.as_tensor(mask))
    # Keras 3.15.1, the same call: first row, and the moving mean and variance after it
    expected_first = [[0.670854, -0.330456], [1.299427, -0.004582], [-0.136887, 0.348365]]
    np.testing.assert_allclose(out.detach().numpy()[0, :3], expected_first, atol=2e-6)
    np.testing.assert_allclose(layer.get_weights()[2], [-0.211791, 0.054116], atol=2e-6)
    np.testing.assert_allclose(layer.get_weights()[3], [0.834738, 0.763975], atol=2e-6)
    # inference ignores the mask (moving statistics), and the mask must be one rank lower
    frozen = layer(torch.as_tensor(x), training=False, mask=torch.as_tensor(mask))
    np.testing.assert_allclose(frozen.detach().numpy(), layer(torch.as_tensor(x)).detach().numpy())
    with pytest.raises(ValueError, match="one dimension less than its input"):
        layer(torch.as_tensor(x), training=True, mask=torch.ones(3, 4, 2, dtype=torch.bool))


def test_masked_batch_normalization_in_a_model_trains_as_keras():
    inputs = lamina.Input((4,), dtype="int32")
    normalized = layers.BatchNormalization(momentum=0.5)(embed()(inputs))
    model = lamina.Model(inputs, layers.Dense(1)(layers.LSTM(3)(normalized)))
    sine_weights(model)
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    y = np.array([[1.0], [0.0], [0.5]], "float32")
    history = model.fit(IDS, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
    # Keras 3.15.1 on the same program
    np.testing.assert_allclose(history.history["loss"], [0.244026, 0.20342, 0.178414], atol=2e-6)
    expected = [[0.398213], [0.296043], [0.321277]]
    np.testing.assert_allclose(model.predict(IDS, verbose=0), expected, atol=2e-6)


def test_softmax_refuses_a_mask_that_does_not_broadcast_as_keras():
    embedded = embed(3)(torch.as_tensor(IDS))  # (3, 4, 3) with a (3, 4) timesteps mask
    with pytest.raises(ValueError, match=r"Softmax .* mask shape \(3, 4\) for input shape"):
        layers.Softmax()(embedded)
    scores = torch.zeros(3, 4, 4)
    out = layers.Softmax()(scores, mask=torch.as_tensor(IDS != 0)[:, None, :])
    np.testing.assert_allclose(out[1, 0].numpy(), [1.0, 0.0, 0.0, 0.0])


def test_a_layer_returning_a_list_gives_each_output_its_own_mask():
    # The masking guide's TemporalSplit; Keras 3.15.1 printed these two masks.
    class TemporalSplit(layers.Layer):
        def call(self, inputs):
            return lamina.ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else lamina.ops.split(mask, 2, axis=1)

    padded = np.array(
        [[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]]
    )
    x = np.tile(padded[..., None], (1, 1, 10)).astype("float32")
    first, second = TemporalSplit()(layers.Masking()(torch.tensor(x)))
    assert first._keras_mask.tolist() == [[True] * 3] * 3
    assert second._keras_mask.tolist() == [[False] * 3, [True, True, False], [True] * 3]


def test_a_mask_set_in_call_is_kept():
    class OwnMask(layers.Layer):
        supports_masking = True

        def call(self, inputs):
            out = inputs * 1.0
            out._keras_mask = torch.tensor([[False, True]])
            return out

    out = OwnMask()(layers.Embedding(5, 2, mask_zero=True)(torch.tensor([[1, 0]])))
    assert out._keras_mask.tolist() == [[False, True]]
