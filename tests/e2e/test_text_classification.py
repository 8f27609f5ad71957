"""Ordinary Keras 3 text-classification programs, run unchanged with `import lamina as keras`.

The first: pad_sequences, Embedding(mask_zero=True), a bidirectional LSTM, LayerNormalization,
MultiHeadAttention, masked pooling, a custom layer written with keras.ops, Adam and a
validation split. The History and predictions are Keras 3.15.1's (torch backend) for the same
program and weights.

The second is keras.io's "Text classification from scratch" on raw strings:
Input(dtype="string") -> TextVectorization -> Embedding -> pooling -> Dense, fit, evaluate and
predict on NumPy arrays of str, then saved and loaded. Keras 3.15.1 cannot run
TextVectorization without TensorFlow, so its reference numbers come from the same model taking
the token ids Keras documents for that TextVectorization (lower-case, strip punctuation, split
on whitespace, vocabulary by count then token, both descending), computed in the reference
script by those rules: /work/scratch/s18/strings/keras_ref.py.
"""

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


POSITIVE = ["good", "great", "fine", "superb"]
NEGATIVE = ["bad", "awful", "poor", "dull"]
NOUNS = ["movie", "film", "plot", "cast"]


def _reviews():
    texts, labels = [], []
    for i in range(24):
        adjective = (POSITIVE if i % 2 == 0 else NEGATIVE)[(i // 2) % 4]
        noun = NOUNS[(i // 3) % 4]
        texts.append(f"The {noun} was {adjective.upper() if i % 5 == 0 else adjective}!")
        labels.append(1.0 if i % 2 == 0 else 0.0)
    return np.array(texts), np.array(labels, dtype="float32")


def test_raw_string_classifier_trains_saves_and_loads_as_in_keras(tmp_path):
    texts, labels = _reviews()
    vectorize_layer = layers.TextVectorization(max_tokens=30, output_sequence_length=6)
    vectorize_layer.adapt(texts)
    assert vectorize_layer.get_vocabulary() == [
        *["", "[UNK]", "was", "the", "plot", "movie", "film", "cast", "superb", "poor"],
        *["great", "good", "fine", "dull", "bad", "awful"],
    ]
    inputs = keras.Input(shape=(1,), dtype="string")
    x = vectorize_layer(inputs)
    assert (x.shape, x.dtype) == ((None, 6), "int64")
    x = layers.Embedding(30, 8)(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.set_weights(
        [
            (np.sin(np.arange(w.size) * 0.37 + i) * 0.1).reshape(w.shape).astype("float32")
            for i, w in enumerate(model.get_weights())
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(texts, labels, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history["loss"], [0.69333, 0.68013], atol=1e-5)
    np.testing.assert_allclose(history["accuracy"], [0.5, 0.5])
    np.testing.assert_allclose(
        model.evaluate(texts, labels, verbose=0), [0.65711, 0.83333], atol=1e-5
    )
    new = np.array(["A great movie", "an awful, dull plot"])
    assert vectorize_layer(new).tolist() == [[1, 10, 5, 0, 0, 0], [1, 15, 13, 4, 0, 0]]
    predictions = model.predict(new, verbose=0)
    np.testing.assert_allclose(predictions.ravel(), [0.52438, 0.47514], atol=1e-5)

    model.save(tmp_path / "text.keras")
    loaded = keras.models.load_model(tmp_path / "text.keras")
    assert loaded.inputs[0].dtype == "string"
    np.testing.assert_array_equal(loaded.predict(new, verbose=0), predictions)


def test_end_to_end_model_wraps_a_model_trained_on_vectorized_text():
    # keras.io's other path: adapt, train a model of token ids, then export a model of strings.
    texts, labels = _reviews()
    vectorize_layer = layers.TextVectorization(max_tokens=30, output_sequence_length=6)
    vectorize_layer.adapt(texts)
    ids = vectorize_layer(texts)
    token_inputs = keras.Input(shape=(6,), dtype="int64")
    x = layers.GlobalAveragePooling1D()(layers.Embedding(30, 8)(token_inputs))
    model = keras.Model(token_inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(ids, labels, batch_size=8, epochs=1, verbose=0)

    inputs = keras.Input(shape=(1,), dtype="string")
    end_to_end_model = keras.Model(inputs, model(vectorize_layer(inputs)))
    end_to_end_model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(
        end_to_end_model.evaluate(texts, labels, verbose=0),
        model.evaluate(ids, labels, verbose=0),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        end_to_end_model.predict(texts[:3], verbose=0), model.predict(ids[:3], verbose=0)
    )
