"""StringLookup and IntegerLookup against Keras.

Keras 3.15.1 on the torch backend cannot run these layers without TensorFlow (their
constructors raise "Layer StringLookup requires TensorFlow"), so the reference values are the
outputs Keras records in its docstrings (keras/src/layers/preprocessing/string_lookup.py and
integer_lookup.py, computed by TensorFlow), or follow from Keras' documented rules (index
layout, adapt order, idf = log(1 + documents / (1 + document count))), as each test says.
Keras returns int64 for one_hot/multi_hot/count when run eagerly; lamina returns floats, the
dtype Keras declares for these modes (compute_output_spec), so that Dense can follow.
"""

import math

import numpy as np
import pytest
import torch

from lamina import Model
from lamina.layers import Input
from lamina.layers.hashing import Hashing
from lamina.layers.lookup import IntegerLookup, StringLookup
from lamina.testing import check_layer

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DATA4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
IVOCAB = [12, 36, 1138, 42]
IDATA = np.array([[12, 1138, 42], [42, 1000, 36]])
IDATA4 = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])


def test_string_lookup_with_a_vocabulary():
    out = StringLookup(vocabulary=VOCAB)(DATA)
    assert out.dtype == torch.int64
    assert out.tolist() == [[1, 3, 4], [4, 0, 2]]


def test_string_lookup_adapt_orders_by_count_then_token_descending():
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(DATA).tolist() == [[5, 3, 1], [1, 2, 4]]


def test_string_lookup_hashes_oov_strings_to_several_indices():
    out = StringLookup(vocabulary=VOCAB, num_oov_indices=2)([["a", "c", "d"], ["m", "z", "b"]])
    assert out.tolist() == [[2, 4, 5], [0, 1, 3]]


def test_string_lookup_salt_hashes_oov_strings_with_siphash():
    # Hashing(num_bins=3, salt=133)'s docstring bins for A..E: the same to_hash_bucket_strong.
    layer = StringLookup(vocabulary=["z"], num_oov_indices=3, salt=133)
    assert layer(["A", "B", "C", "D", "E"]).tolist() == [0, 0, 2, 1, 0]


def test_string_lookup_one_hot():
    out = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(np.array(["a", "b", "c", "d", "z"]))
    assert out.tolist() == np.eye(5)[[1, 2, 3, 4, 0]].tolist()


def test_string_lookup_multi_hot_and_count():
    multi_hot = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DATA4)
    assert multi_hot.dtype == torch.float32
    assert multi_hot.tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = StringLookup(vocabulary=VOCAB, output_mode="count")(DATA4)
    assert count.tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]


def test_string_lookup_tf_idf_gives_oov_the_mean_weight():
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    expected = [[0.0, 0.25, 0.0, 0.6, 0.8], [1.0, 0.0, 0.75, 0.0, 0.4]]
    torch.testing.assert_close(layer(DATA4), torch.tensor(expected))


def test_string_lookup_tf_idf_with_the_oov_weight_given():
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]", *VOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    expected = [[0.0, 0.25, 0.0, 0.6, 0.8], [1.8, 0.0, 0.75, 0.0, 0.4]]
    torch.testing.assert_close(layer(DATA4), torch.tensor(expected))


def test_string_lookup_adapt_learns_idf_weights():
    # Keras' rule: idf = log(1 + documents / (1 + document count)); OOV gets the mean.
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "b"], ["a", "c"], ["a", "a"]])
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    a, bc = math.log(1 + 3 / 4), math.log(1 + 3 / 2)
    expected = torch.tensor([(a + 2 * bc) / 3, a, bc, bc])
    torch.testing.assert_close(layer.idf_weights, expected)


def test_string_lookup_invert_maps_indices_to_strings():
    out = StringLookup(vocabulary=VOCAB, invert=True)(torch.tensor([[1, 3, 4], [4, 0, 2]]))
    assert isinstance(out, np.ndarray) and out.dtype == object
    assert out.tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_mask_token_is_index_zero_in_int_mode():
    layer = StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", *VOCAB]
    assert layer([["a", "", "z"]]).tolist() == [[2, 0, 1]]


def test_string_lookup_mask_token_is_dropped_in_encoded_modes():
    layer = StringLookup(vocabulary=VOCAB, mask_token="", output_mode="count")
    assert layer.vocabulary_size() == 5
    assert layer([["a", "", "", "z"]]).tolist() == [[1, 1, 0, 0, 0]]


def test_string_lookup_without_oov_indices_refuses_unknown_tokens():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=0)
    assert layer(["a", "d"]).tolist() == [0, 3]
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layer(["a", "q"])


def test_string_lookup_adapt_keeps_the_most_frequent_tokens():
    layer = StringLookup(max_tokens=3)
    layer.adapt(np.array(["x", "y", "y", "z", "z", "z"]))
    assert layer.get_vocabulary() == ["[UNK]", "z", "y"]


def test_string_lookup_pad_to_max_tokens():
    layer = StringLookup(
        vocabulary=VOCAB, max_tokens=8, pad_to_max_tokens=True, output_mode="multi_hot"
    )
    assert layer(DATA).shape == (2, 8)
    assert layer.compute_output_shape((None, 3)) == (None, 8)


def test_string_lookup_vocabulary_with_special_tokens_is_recognised():
    layer = StringLookup(vocabulary=["[UNK]", *VOCAB])
    assert layer.get_vocabulary() == ["[UNK]", *VOCAB]
    assert layer.get_vocabulary(include_special_tokens=False) == VOCAB
    assert layer.vocabulary_size() == 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vocabulary": ["a", "a"]}, "repeats"),
        ({"vocabulary": ["a", ""], "mask_token": ""}, "mask token"),
        ({"vocabulary": VOCAB, "max_tokens": 3}, "max_tokens"),
        ({"output_mode": "count", "invert": True}, "invert"),
        ({"output_mode": "tf_idf", "vocabulary": VOCAB}, "idf_weights"),
        ({"pad_to_max_tokens": True}, "max_tokens"),
    ],
)
def test_string_lookup_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StringLookup(**kwargs)


def test_encoded_modes_need_a_vocabulary_before_the_call():
    with pytest.raises(RuntimeError, match="vocabulary"):
        StringLookup(output_mode="multi_hot")(["a"])


def test_string_lookup_adapted_config_round_trip():
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "b"], ["a", "c"]])
    config = layer.get_config()
    assert config["vocabulary"] == ["[UNK]", "a", "c", "b"]
    assert config["has_input_vocabulary"] is False
    clone = StringLookup.from_config(config)
    assert torch.equal(clone([["a", "c", "q"]]), layer([["a", "c", "q"]]))
    clone.adapt([["a", "b"], ["a", "c"]])  # an adapted layer may be adapted again
    assert clone.get_vocabulary() == layer.get_vocabulary()


def test_integer_lookup_with_a_vocabulary():
    assert IntegerLookup(vocabulary=IVOCAB)(IDATA).tolist() == [[1, 3, 4], [4, 0, 2]]


def test_integer_lookup_adapt_orders_by_count_then_value_descending():
    layer = IntegerLookup()
    layer.adapt(IDATA)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert layer(torch.tensor(IDATA)).tolist() == [[5, 2, 1], [1, 3, 4]]


def test_integer_lookup_floormod_oov_indices():
    out = IntegerLookup(vocabulary=IVOCAB, num_oov_indices=2)(
        np.array([[12, 1138, 42], [37, 1000, 36]])
    )
    assert out.tolist() == [[2, 4, 5], [1, 0, 3]]


def test_integer_lookup_farmhash_oov_indices():
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)
    farmhash = IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    assert floormod(oov).tolist() == [0, 0, 0, 0, 0, 0]
    assert farmhash(oov).tolist() == [3, 3, 2, 2, 0, 1]


def test_integer_lookup_encoded_modes():
    one_hot = IntegerLookup(vocabulary=IVOCAB, output_mode="one_hot")(
        np.array([12, 36, 1138, 42, 7])
    )
    assert one_hot.tolist() == np.eye(5)[[1, 2, 3, 4, 0]].tolist()
    multi_hot = IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot")(IDATA4)
    assert multi_hot.tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = IntegerLookup(vocabulary=IVOCAB, output_mode="count")(IDATA4)
    assert count.tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]


def test_integer_lookup_tf_idf():
    layer = IntegerLookup(
        output_mode="tf_idf", vocabulary=[-1, *IVOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4]
    )
    expected = [[0.0, 0.25, 0.0, 0.6, 0.8], [1.8, 0.0, 0.75, 0.0, 0.4]]
    torch.testing.assert_close(layer(IDATA4), torch.tensor(expected))


def test_integer_lookup_invert_returns_integers():
    out = IntegerLookup(vocabulary=IVOCAB, invert=True)(torch.tensor([[1, 3, 4], [4, 0, 9]]))
    assert out.tolist() == [[12, 1138, 42], [42, -1, -1]]


def test_integer_lookup_rejects_floats_and_salt_with_floormod():
    with pytest.raises(TypeError, match="integers"):
        IntegerLookup(vocabulary=IVOCAB)(np.array([1.5]))
    with pytest.raises(ValueError, match="salt"):
        IntegerLookup(salt=3)


def test_integer_lookup_config_keeps_the_vocabulary_dtype():
    # As Keras 3.15.1's IndexLookup.get_config (source): the given vocabulary as given, and
    # vocabulary_dtype right after pad_to_max_tokens.
    config = IntegerLookup(vocabulary=np.array(IVOCAB), mask_token=0).get_config()
    assert config["vocabulary_dtype"] == "int64"
    assert config["vocabulary"] == IVOCAB
    keys = list(config)
    assert keys[keys.index("pad_to_max_tokens") + 1] == "vocabulary_dtype"
    assert IntegerLookup.from_config(config).get_vocabulary() == [0, -1, *IVOCAB]


def test_lookup_config_holds_the_given_vocabulary_and_idf_weights_as_given():
    # Keras 3.15.1 (index_lookup.py): input_vocabulary / input_idf_weights, listified.
    idf = [0.25, 0.75, 0.6, 0.4]
    layer = StringLookup(vocabulary=VOCAB, idf_weights=idf, output_mode="tf_idf")
    config = layer.get_config()
    assert config["vocabulary"] == VOCAB and config["idf_weights"] == idf
    assert config["vocabulary_size"] == 5 and "has_input_vocabulary" not in config
    clone = StringLookup.from_config(config)
    assert torch.equal(clone([["a", "z"]]), layer([["a", "z"]]))


def test_integer_lookup_contract_on_integer_ids():
    check_layer(
        IntegerLookup,
        {"vocabulary": [1, 2, 3, 4, 5]},
        (2, 5),
        expected_output_shape=(2, 5),
        input_dtype=torch.int64,
    )
    check_layer(
        IntegerLookup,
        {"vocabulary": [1, 2, 3, 4, 5], "output_mode": "multi_hot"},
        (2, 5),
        expected_output_shape=(2, 6),
        input_dtype=torch.int64,
    )


@pytest.mark.parametrize(
    ("layer", "input_dtype", "shape", "dtype"),
    [
        (lambda: IntegerLookup(vocabulary=IVOCAB), "int64", (None, 3), "int64"),
        (
            lambda: IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot"),
            "int64",
            (None, 5),
            "float32",
        ),
        (
            lambda: IntegerLookup(vocabulary=IVOCAB, output_mode="one_hot"),
            "int64",
            (None, 3, 5),
            "float32",
        ),
        (lambda: StringLookup(vocabulary=VOCAB), "string", (None, 3), "int64"),
        (
            lambda: StringLookup(vocabulary=VOCAB, output_mode="count"),
            "string",
            (None, 5),
            "float32",
        ),
        (lambda: StringLookup(vocabulary=VOCAB, invert=True), "int64", (None, 3), "string"),
        (lambda: Hashing(num_bins=4), "string", (None, 3), "int64"),
        (lambda: Hashing(num_bins=4, dtype="int32"), "int64", (None, 3), "int32"),
        (lambda: Hashing(num_bins=4, output_mode="multi_hot"), "string", (None, 4), "float32"),
    ],
)
def test_symbolic_outputs_have_keras_dtype_whatever_the_input(layer, input_dtype, shape, dtype):
    # Keras' compute_output_spec: int64 ids in 'int' mode (Hashing: its int dtype), floatx in
    # the others, whatever the input's dtype. An inverted StringLookup gives its tokens
    # (Keras declares int64 there, which its strings are not).
    out = layer()(Input(shape=(3,), dtype=input_dtype))
    assert (out.shape, out.dtype) == (shape, dtype)


def test_lookup_after_a_string_input_in_a_model():
    inputs = Input(shape=(2,), dtype="string")
    model = Model(inputs, StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(inputs))
    out = model.predict(np.array([["a", "z"], ["d", "d"]]), verbose=0)
    np.testing.assert_array_equal(out, [[1, 1, 0, 0, 0], [0, 0, 0, 0, 1]])
