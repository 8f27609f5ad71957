"""lamina.datasets.reuters: Keras' arrays from a small archive in Keras' format, read safely.

There is no Reuters copy offline. Each test writes a small `reuters.npz` in the real layout (an
object array of lists of ints `x`, int64 topics `y`) and registers its sums, as the tables hold
the real file's.

The reference values come from Keras 3.15.1 (KERAS_BACKEND=torch) calling
`keras.datasets.reuters.load_data(**kwargs)` on this very file: it was placed in
`$KERAS_HOME/datasets/reuters.npz`, and `get_file` in keras.src.datasets.reuters was wrapped to
drop `file_hash` (the synthetic file has another sum), nothing else changed.
"""

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from lamina.datasets import _sequences, reuters

X = [[2, 7, 1], [5], [9, 4, 4, 1, 3], [1, 2], [6, 11, 2, 8], [3, 3, 10, 1, 5, 2], [12],
     [4, 1, 7], [8, 2, 2, 2, 6, 1, 9], [1, 13], [5, 5, 3], [10, 4, 1, 2], [7, 6],
     [2, 1, 1, 14, 3]]  # fmt: skip
Y = [3, 4, 19, 3, 1, 45, 4, 11, 3, 0, 16, 4, 8, 3]

# keras.datasets.reuters.load_data() on the file above, Keras 3.15.1.
DEFAULT_X = [[1, 9, 14, 5, 11], [1, 4, 5], [1, 4, 16], [1, 11, 5, 5, 5, 9, 4, 12], [1, 8],
             [1, 5, 10, 4], [1, 5, 4, 4, 2, 6], [1, 7, 4, 10], [1, 15], [1, 13, 7, 4, 5],
             [1, 8, 8, 6], [1, 12, 7, 7, 4, 6], [1, 10, 9], [1, 6, 6, 13, 4, 8, 5]]  # fmt: skip
DEFAULT_Y = [1, 3, 0, 3, 4, 3, 3, 11, 4, 4, 16, 19, 8, 45]

# keras.datasets.reuters.load_data(**kwargs) on the same file, Keras 3.15.1:
# kwargs -> (x_train, y_train, x_test, y_test).
KERAS = [
    ({}, DEFAULT_X[:11], DEFAULT_Y[:11], DEFAULT_X[11:], DEFAULT_Y[11:]),
    (
        {"test_split": 0.5, "num_words": 10, "skip_top": 3, "seed": 5},
        [[2, 6, 6, 2, 4, 8, 5], [2, 8], [2, 7, 4, 2], [2, 2, 7, 7, 4, 6], [2, 8, 8, 6],
         [2, 5, 4, 4, 2, 6], [2, 2, 7, 4, 5]],
        [45, 4, 11, 19, 16, 3, 4],
        [[2, 9, 2, 5, 2], [2, 2, 5, 5, 5, 9, 4, 2], [2, 4, 2], [2, 5, 2, 4], [2, 2, 9], [2, 2],
         [2, 4, 5]],
        [1, 3, 0, 3, 8, 4, 3],
    ),
    (
        {"maxlen": 5, "oov_char": None, "test_split": 0.25},
        [[1, 4, 5], [1, 4], [1, 8], [1, 5, 10, 4], [1, 7, 4, 10], [1, 15]],
        [3, 0, 4, 3, 11, 4],
        [[1, 8, 8, 6], [1, 10, 9]],
        [16, 8],
    ),
    (
        {"start_char": None, "index_from": 0, "test_split": 0.0, "seed": 2},
        [[10, 4, 1, 2], [6, 11, 2, 8], [3, 3, 10, 1, 5, 2], [2, 7, 1], [1, 13], [1, 2], [5],
         [5, 5, 3], [4, 1, 7], [7, 6], [9, 4, 4, 1, 3], [12], [2, 1, 1, 2, 3],
         [8, 2, 2, 2, 6, 1, 9]],
        [4, 1, 45, 3, 0, 3, 4, 16, 11, 8, 19, 4, 3, 3],
        [],
        [],
    ),
    ({"test_split": 1.0}, [], [], DEFAULT_X, DEFAULT_Y),
]  # fmt: skip

# keras.datasets.reuters.get_label_names(), Keras 3.15.1: 46 topics; these are a few of them.
LABEL_NAMES = {0: "cocoa", 3: "earn", 4: "acq", 19: "money-fx", 27: "strategic-metal", 45: "lead"}


def objects(sequences):
    """A 1-D object array of lists, as the real archive stores wires."""
    array = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        array[i] = sequence
    return array


def write_reuters(path, x=None, y=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=objects(X) if x is None else x, y=np.array(Y) if y is None else y)
    return path


def register(monkeypatch, path):
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    monkeypatch.setitem(_sequences.SHA256, "reuters.npz", digest)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh cache per test; LAMINA_DATASETS is the folder `copies`, empty at first."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_DATASETS", str(tmp_path / "copies"))
    monkeypatch.setattr(_sequences, "ORIGIN", (tmp_path / "storage").as_uri() + "/")
    return tmp_path / "home" / "datasets"


@pytest.fixture
def archive(monkeypatch, tmp_path):
    path = write_reuters(tmp_path / "copies" / "reuters.npz")
    register(monkeypatch, path)
    return path


@pytest.mark.parametrize(
    ("kwargs", "x_train", "y_train", "x_test", "y_test"), KERAS, ids=[str(c[0]) for c in KERAS]
)
def test_reuters_gives_keras_arrays(archive, kwargs, x_train, y_train, x_test, y_test):
    (xa, ya), (xb, yb) = reuters.load_data(**kwargs)
    assert xa.tolist() == x_train
    assert xb.tolist() == x_test
    assert ya.tolist() == y_train
    assert yb.tolist() == y_test
    # Keras 3.15.1 gives these dtypes and 1-D shapes, empty splits included.
    assert (xa.dtype, xb.dtype, ya.dtype, yb.dtype) == (object, object, np.int64, np.int64)
    assert (xa.shape, ya.shape) == ((len(x_train),), (len(x_train),))


def test_reuters_splits_do_not_share_memory(archive):
    (xa, ya), (xb, yb) = reuters.load_data(test_split=0.5)
    assert not np.shares_memory(ya, yb)
    assert xa.base is None and xb.base is None


@pytest.mark.parametrize("test_split", [-0.1, 1.5, float("nan"), "0.2"])
def test_reuters_refuses_a_test_split_outside_0_1(archive, test_split):
    with pytest.raises(ValueError, match=r"reuters.load_data: test_split .* in \[0, 1\]"):
        reuters.load_data(test_split=test_split)


def test_reuters_label_names_are_keras_46_topics():
    names = reuters.get_label_names()
    assert isinstance(names, tuple) and len(names) == 46 and len(set(names)) == 46
    assert {label: names[label] for label in LABEL_NAMES} == LABEL_NAMES


def test_reuters_refuses_a_malicious_pickle_with_a_wrong_checksum(monkeypatch, tmp_path):
    class CreatesMarker:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    write_reuters(tmp_path / "copies" / "reuters.npz", x=objects([CreatesMarker()]), y=[0])
    with pytest.raises(ValueError, match="wrong SHA-256"):
        reuters.load_data()
    assert not (tmp_path / "pwned").exists()


def test_reuters_refuses_an_array_of_another_type_in_the_pickle(monkeypatch, tmp_path):
    # A pickled float array inside the object array: only object and integer dtypes pass.
    x = objects([[1, 2]] * len(Y))
    x[0] = np.array([1.5, 2.5])
    register(monkeypatch, write_reuters(tmp_path / "copies" / "reuters.npz", x=x))
    with pytest.raises(pickle.UnpicklingError, match="objects or integers; got dtype"):
        reuters.load_data()


def test_reuters_accepts_wires_stored_as_integer_arrays(monkeypatch, tmp_path):
    x = objects([np.array(wire, dtype=np.int32) for wire in X])
    register(monkeypatch, write_reuters(tmp_path / "copies" / "reuters.npz", x=x))
    (x_train, _), (x_test, _) = reuters.load_data()
    assert x_train.tolist() + x_test.tolist() == DEFAULT_X


def test_reuters_word_index_reads_the_file_checked_against_its_md5(monkeypatch, tmp_path):
    # keras.datasets.reuters.get_word_index() on the same file gave this dict (Keras 3.15.1).
    index = {"the": 1, "of": 2, "to": 3, "caf\u00e9": 4}
    path = tmp_path / "copies" / "reuters_word_index.json"
    path.parent.mkdir()
    path.write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(ValueError, match="wrong MD5.*\n.*4d44cc38712099c9e383dc6e5f11a921"):
        reuters.get_word_index()
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(_sequences.MD5, "reuters_word_index.json", digest)
    assert reuters.get_word_index() == index


def test_reuters_word_index_refuses_a_file_that_is_not_an_index(monkeypatch, tmp_path):
    path = tmp_path / "copies" / "reuters_word_index.json"
    path.parent.mkdir()
    path.write_text('["the", "of"]', encoding="utf-8")
    monkeypatch.setitem(
        _sequences.MD5, "reuters_word_index.json", hashlib.md5(path.read_bytes()).hexdigest()
    )
    with pytest.raises(ValueError, match="is not a word index"):
        reuters.get_word_index()
