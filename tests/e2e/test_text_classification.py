"""An ordinary Keras 3 text-classification program, run unchanged with `import lamina as
keras`: pad_sequences, Embedding(mask_zero=True), a bidirectional LSTM, LayerNormalization,
MultiHeadAttention, masked pooling, a custom layer written with keras.ops, Adam and a
validation split. The History and predictions are Keras 3.15.1's (torch backend) for the same
program and weights."""

import numpy as np

import lamina as keras

layers = keras.layers


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, t):
        return keras.ops.multiply(t, self.factor)


def test_text_classifier_trains_as_in_keras():
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(1, 50, rng.integers(3, 12))) for _ in range(64)]
    x = keras.utils.pad_sequences(seqs, maxlen=10)
    y = (np.array([len(s) for s in seqs]) > 7).astype("float32")
    inputs = keras.Input((10,), dtype="int32")
    h = layers.Embedding(50, 8, mask_zero=True)(inputs)
    h = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(h)
    h = layers.LayerNormalization()(h)
    h = layers.GlobalAveragePooling1D()(layers.MultiHeadAttention(2, 4)(h, h))
    h = Scale(0.5)(layers.Dense(8, activation="relu")(h))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))
    model.set_weights(
        [
            (np.sin(np.arange(w.size) * 0.71 + i) * 0.2).reshape(w.shape).astype("float32")
            for i, w in enumerate(model.get_weights())
        ]
    )
    assert model.count_params() == 1677
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_split=0.25
    ).history
    expected = {
        "accuracy": [0.45833, 0.45833, 0.45833],
        "loss": [0.7118, 0.70593, 0.70253],
        "val_accuracy": [0.4375, 0.4375, 0.4375],
        "val_loss": [0.71003, 0.70588, 0.70258],
    }
    assert sorted(history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, atol=1e-5)
    np.testing.assert_allclose(
        model.predict(x[:3], verbose=0).ravel(), [0.53009, 0.53073, 0.52949], atol=1e-5
    )
