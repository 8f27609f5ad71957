"""TextVectorization against Keras.

Keras 3.15.1 on the torch backend cannot run TextVectorization without TensorFlow (its
constructor raises "Layer TextVectorization requires TensorFlow"), so the reference values are
the outputs Keras records in its docstring (keras/src/layers/preprocessing/
text_vectorization.py, computed by TensorFlow), or follow from the TensorFlow ops Keras
documents using: `tf.strings.lower` (ASCII only), the punctuation regex of string.punctuation,
`tf.strings.split` (whitespace runs), `tf.strings.unicode_split`, `tf.strings.ngrams` (widths in
turn, joined by a space) and StringLookup's adapt order (count, then token, both descending).
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.layers.text_vectorization import TextVectorization

CORPUS = ["foo bar", "bar baz", "baz bada boom"]


def test_adapt_then_int_sequences_as_keras_docstring():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == torch.int64
    assert out.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]


def test_vocabulary_argument_adds_mask_and_oov_tokens():
    layer = TextVectorization(vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert layer.vocabulary_size() == 6
    assert layer.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]


def test_default_standardize_lowercases_ascii_and_strips_punctuation():
    layer = TextVectorization(vocabulary=["hello", "world", "école"])
    # tf.strings.lower is ASCII-only: 'É' stays, so 'École' is not 'école'.
    assert layer(np.array(["Hello, WORLD!! école École"])).tolist() == [[2, 3, 4, 1]]


def test_sequences_pad_to_the_longest_without_output_sequence_length():
    layer = TextVectorization(vocabulary=["a", "b"])
    assert layer(["a b a", "b"]).tolist() == [[2, 3, 2], [3, 0, 0]]


def test_output_sequence_length_truncates():
    layer = TextVectorization(vocabulary=["a", "b"], output_sequence_length=2)
    assert layer(["a b a b", "b"]).tolist() == [[2, 3], [3, 0]]
    assert layer.compute_output_shape((None,)) == (None, 2)


def test_whitespace_split_takes_runs_of_ascii_whitespace():
    layer = TextVectorization(vocabulary=["a", "b"], standardize=None)
    assert layer(["  a\t\tb\n a  "]).tolist() == [[2, 3, 2]]


def test_character_split_and_no_standardization():
    layer = TextVectorization(split="character", standardize=None)
    layer.adapt(["abcab", "aé"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "é", "c"]
    assert layer(["éa!"]).tolist() == [[4, 2, 1]]


def test_ngrams_come_width_by_width():
    layer = TextVectorization(ngrams=2)
    layer.adapt(["The cat sat.", "the CAT ran!"])
    assert layer.get_vocabulary() == [
        "",
        "[UNK]",
        "the cat",
        "the",
        "cat",
        "sat",
        "ran",
        "cat sat",
        "cat ran",
    ]
    assert layer(["the cat"]).tolist() == [[3, 4, 2]]


def test_ngrams_tuple_keeps_only_those_widths():
    layer = TextVectorization(ngrams=(2,), vocabulary=["a b", "b c"])
    assert layer(["a b c"]).tolist() == [[2, 3]]


def test_multi_hot_and_count_outputs():
    multi_hot = TextVectorization(output_mode="multi_hot")
    multi_hot.adapt(["a b c", "a a"])
    assert multi_hot.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    out = multi_hot(["a a z", "c"])
    assert out.dtype == torch.float32
    assert out.tolist() == [[1, 1, 0, 0], [0, 0, 1, 0]]
    count = TextVectorization(output_mode="count", vocabulary=["a", "c", "b"])
    assert count(["a a z", "c"]).tolist() == [[1, 2, 0, 0], [0, 0, 1, 0]]


def test_tf_idf_output():
    layer = TextVectorization(output_mode="tf_idf")
    layer.adapt(["a b c", "a a", "b"])
    # Keras' rule: idf = log(1 + 3 / (1 + document count)); '[UNK]' gets the mean.
    a, b, c = np.log(1 + 3 / 3), np.log(1 + 3 / 3), np.log(1 + 3 / 2)
    oov = (a + b + c) / 3
    expected = torch.tensor([[oov, 2 * a, 0, 0], [0, 0, 0, c]], dtype=torch.float32)
    torch.testing.assert_close(layer(["a a z", "c"]), expected)


def test_callable_standardize_gets_a_numpy_array_of_strings():
    def upper(texts):
        assert isinstance(texts, np.ndarray)
        return np.char.upper(texts)

    layer = TextVectorization(standardize=upper, vocabulary=["A", "B"])
    assert layer(["a b"]).tolist() == [[2, 3]]


def test_adapted_config_round_trip():
    layer = TextVectorization(max_tokens=10, output_sequence_length=3, ngrams=2)
    layer.adapt(CORPUS)
    config = layer.get_config()
    assert config["vocabulary"] == layer.get_vocabulary()
    clone = TextVectorization.from_config(config)
    assert clone.get_config() | {"name": None} == config | {"name": None}
    assert torch.equal(clone(["foo bar qux"]), layer(["foo bar qux"]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"output_mode": "multi_hot", "output_sequence_length": 3}, "output_sequence_length"),
        ({"standardize": "upper"}, "standardize"),
        ({"split": "comma"}, "split"),
        ({"ngrams": "2"}, "ngrams"),
        ({"ragged": True}, "ragged"),
    ],
)
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TextVectorization(**kwargs)


def test_split_needs_one_string_per_sample():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match=r"\(batch, 1\)"):
        layer([["a", "a"]])


def _sentiment_model():
    texts = ["good movie", "great film", "bad movie", "awful film", "good great", "bad awful"]
    labels = np.array([1, 1, 0, 0, 1, 0], dtype="float32")
    vectorize = TextVectorization(max_tokens=20, output_mode="int", output_sequence_length=4)
    vectorize.adapt(texts)
    model = lamina.Sequential(
        [
            vectorize,
            layers.Embedding(20, 8),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    return model, texts, labels


def test_sequential_model_trains_on_raw_strings():
    torch.manual_seed(0)
    model, texts, labels = _sentiment_model()
    model(texts)  # builds the layers after the first (a Sequential without an Input)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    target = torch.tensor(labels).unsqueeze(-1)
    losses = []
    for _ in range(20):
        loss = torch.nn.functional.binary_cross_entropy(model(texts, training=True), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]
    assert ((model(texts) > 0.5).float() == target).all()


def test_fit_on_raw_strings():
    torch.manual_seed(0)
    model, texts, labels = _sentiment_model()
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(np.array(texts), labels, epochs=8, batch_size=2, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.inputs[0].shape == (2,)  # built from the first batch, as Keras' Sequential
    predictions = model.predict(np.array(["good film", "awful movie"]), verbose=0)
    assert predictions.shape == (2, 1)
    assert predictions[0, 0] > 0.5 > predictions[1, 0]


def test_fit_evaluate_predict_take_lists_of_strings():
    model, texts, labels = _sentiment_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(texts, labels, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(model.evaluate(texts, labels, verbose=0))
    assert model.predict(["good movie"], verbose=0).shape == (1, 1)


def test_shuffled_string_batches_keep_each_text_with_its_label():
    from lamina.training.adapters import ArrayBatches, arrays_to_device

    texts = np.array([f"text {i}" for i in range(10)])
    x, y, _ = arrays_to_device(torch.device("cpu"), texts, np.arange(10), None, "fit")
    assert isinstance(x, np.ndarray) and isinstance(y, torch.Tensor)
    torch.manual_seed(0)
    seen = []
    for batch_x, batch_y, _ in ArrayBatches(x, y, batch_size=3, shuffle=True):
        assert isinstance(batch_x, np.ndarray)
        assert batch_x.tolist() == [f"text {i}" for i in batch_y.tolist()]
        seen += batch_y.tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))


def test_string_input_is_a_keras_string_tensor():
    # Keras 3.15.1: Input(shape=(1,), dtype="string") is a KerasTensor of shape (None, 1) and
    # dtype 'string'; its InputLayer's config has dtype 'string'.
    inputs = lamina.Input(shape=(1,), dtype="string")
    assert (inputs.shape, inputs.dtype) == ((None, 1), "string")
    assert inputs.node.layer.get_config()["dtype"] == "string"
    assert lamina.Input(shape=(), dtype=str).dtype == "string"


@pytest.mark.parametrize(
    ("kwargs", "shape", "dtype"),
    [
        ({"output_sequence_length": 5}, (None, 5), "int64"),
        ({}, (None, None), "int64"),
        ({"output_mode": "multi_hot"}, (None, 4), "float32"),
        ({"output_mode": "tf_idf"}, (None, 4), "float32"),
    ],
)
def test_symbolic_output_shape_and_dtype(kwargs, shape, dtype):
    # Keras' compute_output_spec: int64 ids in 'int' mode, floatx otherwise. (For a (None, 1)
    # input in the vector modes Keras' compute_output_shape says (None, 1, depth); the output
    # TensorFlow computes, and lamina's, is (None, depth).)
    idf = [1.0, 1.0, 1.0] if kwargs.get("output_mode") == "tf_idf" else None
    layer = TextVectorization(vocabulary=["a", "b", "c"], idf_weights=idf, **kwargs)
    out = layer(lamina.Input(shape=(1,), dtype="string"))
    assert (out.shape, out.dtype) == (shape, dtype)


def test_string_input_to_a_numeric_layer_names_the_layers_that_take_text():
    inputs = lamina.Input(shape=(1,), dtype="string", name="review")
    with pytest.raises(TypeError, match=r"Dense 'dense\w*' cannot take strings; got 'review'"):
        layers.Dense(2)(inputs)


def test_functional_model_on_raw_strings_predicts_as_its_layers():
    vectorize = TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=3)
    embedding = layers.Embedding(5, 2)
    inputs = lamina.Input(shape=(1,), dtype="string")
    model = lamina.Model(inputs, embedding(vectorize(inputs)))
    texts = np.array([["a c"], ["b b b b"]])
    expected = embedding(vectorize(texts)).detach().numpy()
    np.testing.assert_array_equal(model.predict(texts, verbose=0), expected)
    np.testing.assert_array_equal(model(texts).detach().numpy(), expected)
