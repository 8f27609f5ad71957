"""Hashing and HashedCrossing against Keras' bin numbers.

Keras 3.15.1 on the torch backend cannot run these layers without TensorFlow (its constructors
raise "Layer Hashing requires TensorFlow"), so the reference values are (a) the outputs Keras
records in its docstrings (keras/src/layers/preprocessing/hashing.py, hashed_crossing.py,
integer_lookup.py), which TensorFlow computed, and (b) published FarmHash Fingerprint64 and
SipHash-2-4 test vectors.
"""

import numpy as np
import pytest
import torch

from lamina.layers.hashing import HashedCrossing, Hashing, fingerprint64, siphash64
from lamina.testing import check_layer

# FarmHash Fingerprint64 (farmhashna::Hash64) test vectors, one per length class of the algorithm.
FARMHASH_VECTORS = [
    ("", 0x9AE16A3B2F90404F),
    ("a", 0xB3454265B6DF75E3),
    ("abcde", 0xC22F4663E54E04D4),
    ("abcdefghi", 0x332C8ED4DAE5BA42),
    ("0123456789=012345", 0x46A7416ED4861E3B),
    ("size:  a.out:  bad magic", 0x80D73B843BA57DB8),
    ("C is as portable as Stonehedge!!", 0xB944F8A16261E414),
    ("Discard medicine more than two years old.", 0xE8F89AB6DF9BDD25),
    ("How can you write a big system without C++?  -Paul Glick", 0x5A0A6EFD52E84E2A),
    ("For every action there is an equal and opposite government program.", 0x55182F8859ECA4CE),
    (
        "The fugacity of a constituent in a mixture of gases at a given temperature is "
        "proportional to its mole fraction.  Lewis-Randall Rule",
        0x098EFF6958C5E91A,
    ),
]
LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize(("text", "expected"), FARMHASH_VECTORS)
def test_fingerprint64_matches_farmhash_vectors(text, expected):
    assert fingerprint64(text.encode()) == expected


def test_siphash64_matches_the_reference_vector():
    # SipHash paper, appendix A: key 00..0f, message 00..0e.
    key = [0x0706050403020100, 0x0F0E0D0C0B0A0908]
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_hashing_strings_gives_keras_bins():
    assert Hashing(num_bins=3)(LETTERS).tolist() == [[1], [0], [1], [1], [2]]


def test_hashing_mask_value_takes_bin_zero():
    out = Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])
    assert out.tolist() == [[1], [1], [0], [2], [2]]


def test_hashing_salt_pair_uses_siphash():
    assert Hashing(num_bins=3, salt=[133, 137])(LETTERS).tolist() == [[1], [2], [1], [0], [2]]


def test_hashing_single_salt_is_used_twice():
    layer = Hashing(num_bins=3, salt=133)
    assert layer.salt == [133, 133]
    assert layer(np.array(LETTERS)).tolist() == [[0], [0], [2], [1], [0]]


def test_hashing_integers_hashes_their_decimal_strings():
    # The bins of IntegerLookup(oov_method="farmhash")'s docstring: the same TF op on as_string.
    values = torch.tensor([100, 300, 700, 1100, 1700, 2000])
    out = Hashing(num_bins=4)(values)
    assert out.dtype == torch.int64
    assert out.tolist() == [3, 3, 2, 2, 0, 1]


def test_hashing_floats_are_truncated_first():
    assert Hashing(num_bins=4)(np.array([100.7, 300.2])).tolist() == [3, 3]


def test_hashing_one_hot_replaces_last_axis_of_one():
    out = Hashing(num_bins=3, output_mode="one_hot")(LETTERS[:2])
    assert out.dtype == torch.float32
    assert out.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_hashing_multi_hot_and_count_reduce_each_sample():
    data = [["A", "C", "D"], ["B", "B", "E"]]  # bins [1, 1, 1] and [0, 0, 2]
    assert Hashing(3, output_mode="multi_hot")(data).tolist() == [[0, 1, 0], [1, 0, 1]]
    assert Hashing(3, output_mode="count")(data).tolist() == [[0, 3, 0], [2, 0, 1]]


def test_hashing_int32_dtype_gives_int32_bins():
    assert Hashing(num_bins=3, dtype="int32")(LETTERS).dtype == torch.int32


def test_hashing_config_round_trip():
    layer = Hashing(num_bins=5, salt=7, mask_value="x")
    config = layer.get_config()
    # Keras 3.15.1 (Layer.get_config): the int64 policy as a DTypePolicy entry
    assert config["dtype"] == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "int64"},
        "registered_name": None,
    }
    assert config["salt"] == [7, 7]
    clone = Hashing.from_config(config)
    assert torch.equal(clone(LETTERS), layer(LETTERS))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_bins": 0}, "num_bins"),
        ({"num_bins": 3, "output_mode": "tf_idf"}, "output_mode"),
        ({"num_bins": 3, "sparse": True, "output_mode": "count"}, "sparse"),
        ({"num_bins": 3, "dtype": "float32"}, "dtype"),
        ({"num_bins": 3, "salt": "pepper"}, "salt"),
    ],
)
def test_hashing_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Hashing(**kwargs)


def test_hashing_contract_on_integer_ids():
    check_layer(
        Hashing, {"num_bins": 4}, (2, 5), expected_output_shape=(2, 5), input_dtype=torch.int64
    )
    check_layer(
        Hashing,
        {"num_bins": 4, "output_mode": "count"},
        (2, 5),
        expected_output_shape=(2, 4),
        input_dtype=torch.int64,
    )


def test_hashed_crossing_gives_keras_bins():
    features = (np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))
    assert HashedCrossing(num_bins=5)(features).tolist() == [1, 4, 1, 1, 3]


def test_hashed_crossing_one_hot():
    features = (["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])
    out = HashedCrossing(num_bins=5, output_mode="one_hot")(features)
    assert out.argmax(-1).tolist() == [1, 4, 1, 1, 3]
    assert out.shape == (5, 5) and out.dtype == torch.float32


def test_hashed_crossing_keeps_a_last_axis_of_one():
    features = (np.array([["A"], ["B"]]), np.array([[101], [101]]))
    assert HashedCrossing(num_bins=5)(features).tolist() == [[1], [4]]


def test_hashed_crossing_needs_two_features_of_one_shape():
    layer = HashedCrossing(num_bins=5)
    with pytest.raises(ValueError, match="at least 2"):
        layer((["A"],))
    with pytest.raises(ValueError, match="one shape"):
        layer((["A", "B"], [1]))
    with pytest.raises(ValueError, match=r"\(batch, 1\)"):
        layer((np.zeros((2, 2), "int64"), np.zeros((2, 2), "int64")))


def test_hashed_crossing_config_round_trip():
    # Keras 3.15.1's HashedCrossing.get_config (source): its own keys, no trainable entry.
    assert HashedCrossing(num_bins=3, name="hc").get_config() == {
        "num_bins": 3,
        "output_mode": "int",
        "sparse": False,
        "name": "hc",
        "dtype": "int64",
    }
    layer = HashedCrossing(num_bins=7, output_mode="one_hot")
    assert list(layer.get_config()) == ["num_bins", "output_mode", "sparse", "name", "dtype"]
    clone = HashedCrossing.from_config(layer.get_config())
    assert clone.get_config() | {"name": None} == layer.get_config() | {"name": None}
    assert clone.compute_output_shape(((None,), (None,))) == (None, 7)


def test_hashing_takes_a_keras_dtype_policy_entry():
    # Keras writes a layer's dtype as a DTypePolicy entry; its name is what counts.
    def entry(name):
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
                "registered_name": None}  # fmt: skip

    assert Hashing(3, dtype=entry("int32"))(["a", "b"]).dtype == torch.int32
    assert Hashing(3, output_mode="one_hot", dtype=entry("float32"))(["a"]).dtype == torch.float32
