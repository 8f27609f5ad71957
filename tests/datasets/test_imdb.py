"""lamina.datasets.imdb: Keras' arrays from a small archive in Keras' format, read safely.

There is no IMDB copy offline. Each test writes a small `imdb.npz` in the real layout (object
arrays of lists of ints `x_train`/`x_test`, int64 labels `y_train`/`y_test`) and registers its
sums, as the tables hold the real file's.

The reference values come from Keras 3.15.1 (KERAS_BACKEND=torch) calling
`keras.datasets.imdb.load_data(**kwargs)` on this very file: it was placed in
`$KERAS_HOME/datasets/imdb.npz`, and `get_file` in keras.src.datasets.imdb was wrapped to drop
`file_hash` (the synthetic file has another sum), nothing else changed.
"""

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lamina.datasets import _sequences, imdb

X_TRAIN = [[1, 5, 2, 9], [3], [7, 7, 1, 12, 4, 2], [2, 14, 6], [11, 1, 3, 8, 5], [4, 4],
           [13, 2, 10, 1, 6, 9, 3], [5, 8]]  # fmt: skip
Y_TRAIN = [1, 0, 1, 0, 0, 1, 1, 0]
X_TEST = [[6, 1], [9, 3, 15, 2], [1], [8, 12, 2, 5, 7], [3, 3, 3]]
Y_TEST = [0, 1, 1, 0, 1]

# keras.datasets.imdb.load_data(**kwargs) on the file above, Keras 3.15.1:
# kwargs -> (x_train, y_train, x_test, y_test).
KERAS = [
    (
        {},
        [[1, 6], [1, 5, 17, 9], [1, 16, 5, 13, 4, 9, 12, 6], [1, 4, 8, 5, 12], [1, 8, 11],
         [1, 10, 10, 4, 15, 7, 5], [1, 14, 4, 6, 11, 8], [1, 7, 7]],
        [0, 0, 1, 1, 0, 1, 0, 1],
        [[1, 4], [1, 11, 15, 5, 8, 10], [1, 6, 6, 6], [1, 12, 6, 2, 5], [1, 9, 4]],
        [1, 0, 1, 1, 0],
    ),
    (
        {"num_words": 8, "skip_top": 4, "seed": 7},
        [[2, 2, 2, 4, 2, 7, 5], [2, 7, 7], [2, 4, 2, 5, 2], [2, 2, 5, 2, 4, 2, 2, 6],
         [2, 5, 2, 2], [2, 6], [2, 2, 4, 6, 2, 2], [2, 2, 2]],
        [1, 1, 1, 1, 0, 0, 0, 0],
        [[2, 2, 2, 5, 2, 2], [2, 6, 6, 6], [2, 4], [2, 2, 6, 2, 5], [2, 2, 4]],
        [0, 1, 1, 1, 0],
    ),
    (
        {"maxlen": 5, "num_words": 10, "skip_top": 2, "oov_char": None},
        [[6], [5, 9], [8], [7, 7]],
        [0, 0, 0, 1],
        [[4], [6, 6, 6], [9, 4]],
        [1, 1, 0],
    ),
    (
        {"start_char": None, "index_from": 0, "seed": 0},
        [[13, 2, 10, 1, 6, 9, 3], [7, 7, 1, 12, 4, 2], [3], [5, 8], [2, 14, 6], [1, 5, 2, 9],
         [4, 4], [11, 1, 3, 8, 5]],
        [1, 1, 0, 0, 0, 1, 1, 0],
        [[9, 3, 2, 2], [8, 12, 2, 5, 7], [3, 3, 3], [6, 1], [1]],
        [1, 0, 1, 0, 1],
    ),
    (
        {"start_char": None, "index_from": 2, "oov_char": None, "num_words": 9, "seed": 1},
        [[7], [3, 6, 4], [5], [4, 3, 8, 5], [3, 7, 4], [3, 5, 7], [4, 8], [6, 6]],
        [0, 1, 0, 1, 1, 0, 0, 1],
        [[3], [4, 7], [5, 4], [5, 5, 5], [8, 3]],
        [1, 0, 1, 1, 0],
    ),
]  # fmt: skip

WORD_INDEX = {"the": 1, "of": 2, "to": 3, "caf\u00e9": 4}


def objects(sequences):
    """A 1-D object array of lists, as the real archives store reviews."""
    array = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        array[i] = sequence
    return array


def write_imdb(path, x_train=None, **overrides):
    arrays = {
        "x_train": objects(X_TRAIN) if x_train is None else x_train,
        "y_train": np.array(Y_TRAIN),
        "x_test": objects(X_TEST),
        "y_test": np.array(Y_TEST),
        **overrides,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def register(monkeypatch, path, name="imdb.npz"):
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    monkeypatch.setitem(_sequences.SHA256, name, digest)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh cache per test; LAMINA_DATASETS is the folder `copies`, empty at first."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_DATASETS", str(tmp_path / "copies"))
    # Downloads go to a folder that does not exist unless a test fills it.
    monkeypatch.setattr(_sequences, "ORIGIN", (tmp_path / "storage").as_uri() + "/")
    return tmp_path / "home" / "datasets"


@pytest.fixture
def archive(monkeypatch, tmp_path):
    path = write_imdb(tmp_path / "copies" / "imdb.npz")
    register(monkeypatch, path)
    return path


# --- Keras' arrays ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "x_train", "y_train", "x_test", "y_test"), KERAS, ids=[str(c[0]) for c in KERAS]
)
def test_imdb_gives_keras_arrays(archive, kwargs, x_train, y_train, x_test, y_test):
    (xa, ya), (xb, yb) = imdb.load_data(**kwargs)
    assert xa.tolist() == x_train
    assert xb.tolist() == x_test
    assert ya.tolist() == y_train
    assert yb.tolist() == y_test


def test_imdb_returns_object_arrays_of_int_lists_and_int64_labels(archive):
    (xa, ya), (xb, yb) = imdb.load_data()
    assert (xa.dtype, xa.shape, xb.dtype, xb.shape) == (object, (8,), object, (5,))
    assert all(type(row) is list for row in [*xa, *xb])
    assert {type(word) for row in [*xa, *xb] for word in row} == {int}
    assert (ya.dtype, yb.dtype) == (np.int64, np.int64)


def test_imdb_refuses_a_maxlen_that_keeps_nothing_as_keras(archive):
    # Keras 3.15.1 raises ValueError too: no sequence is shorter than maxlen=2 with the start.
    with pytest.raises(ValueError, match="shorter than maxlen=2.*Increase maxlen"):
        imdb.load_data(maxlen=2)


def test_imdb_loads_an_empty_split_without_maxlen(monkeypatch, tmp_path):
    path = write_imdb(
        tmp_path / "copies" / "imdb.npz", x_test=objects([]), y_test=np.zeros(0, np.int64)
    )
    register(monkeypatch, path)
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    # keras.datasets.imdb.load_data() on the same file, Keras 3.15.1: the largest index is now
    # 17 (training set only), which becomes oov_char.
    assert x_train.tolist() == [[1, 6], [1, 5, 2, 9], [1, 16, 5, 13, 4, 9, 12, 6],
                                [1, 4, 8, 5, 12], [1, 8, 11], [1, 10, 10, 4, 15, 7, 5],
                                [1, 14, 4, 6, 11, 8], [1, 7, 7]]  # fmt: skip
    assert y_train.tolist() == [0, 0, 1, 1, 0, 1, 0, 1]
    assert (x_test.dtype, x_test.shape, y_test.dtype, y_test.shape) == (
        object,
        (0,),
        np.int64,
        (0,),
    )


def test_imdb_reads_the_file_named_by_path(monkeypatch, tmp_path):
    write_imdb(tmp_path / "copies" / "imdb_copy.npz")
    register(monkeypatch, tmp_path / "copies" / "imdb_copy.npz")
    (x_train, _), _ = imdb.load_data(path="imdb_copy.npz")
    assert x_train.tolist() == KERAS[0][1]


@pytest.mark.parametrize("path", ["sub/imdb.npz", "..", ""])
def test_imdb_path_must_be_a_file_name(archive, path):
    with pytest.raises(ValueError, match="imdb.load_data: path must be a file name"):
        imdb.load_data(path=path)


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"num_words": "100"}, "num_words"), ({"skip_top": None}, "skip_top")]
)
def test_imdb_names_an_argument_of_the_wrong_type(archive, kwargs, name):
    with pytest.raises(TypeError, match=f"imdb.load_data: {name} must be an integer"):
        imdb.load_data(**kwargs)


# --- Refusing planted or damaged files --------------------------------------------------------


class CreatesMarker:
    """Unpickling this creates a file: what a planted archive could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def malicious_archive(tmp_path, marker):
    path = write_imdb(tmp_path / "copies" / "imdb.npz", x_train=objects([CreatesMarker(marker)]))
    # The payload is live: NumPy's own reader with pickle allowed runs it.
    with zipfile.ZipFile(path) as zipped, zipped.open("x_train.npy") as member:
        np.lib.format.read_array(io.BytesIO(member.read()), allow_pickle=True)
    assert marker.exists()
    marker.unlink()
    return path


def test_imdb_refuses_a_malicious_pickle_with_a_wrong_checksum_before_reading_it(
    monkeypatch, tmp_path
):
    marker = tmp_path / "pwned"
    path = malicious_archive(tmp_path, marker)
    with pytest.raises(ValueError, match="wrong SHA-256") as error:
        imdb.load_data()
    assert str(path) in str(error.value)
    assert _sequences.SHA256["imdb.npz"] in str(error.value)
    assert not marker.exists()


def test_imdb_refuses_a_malicious_pickle_even_with_a_matching_checksum(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    register(monkeypatch, malicious_archive(tmp_path, marker))
    with pytest.raises(pickle.UnpicklingError, match=r"refers to pathlib\.Path\.touch"):
        imdb.load_data()
    assert not marker.exists()


def npy_with_legacy_pickle(array, python2_strings):
    """A .npy of an object array pickled as NumPy 1 wrote them: `numpy.core` names, protocol 3,
    or with Python 2's 8-bit strings where Python 3 writes bytes and str."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, np.lib.format.header_data_from_array_1_0(array))
    data = pickle.dumps(array, protocol=3)
    legacy = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    if python2_strings:
        for new, old in ((b"U\x01b", b"C\x01b"), (b"U\x02O8", b"X\x02\0\0\0O8"),
                         (b"U\x01|", b"X\x01\0\0\0|")):  # fmt: skip
            assert old in legacy
            legacy = legacy.replace(old, new)
    assert legacy != data
    return stream.getvalue() + legacy


@pytest.mark.parametrize("python2_strings", [False, True])
def test_imdb_reads_object_arrays_pickled_by_numpy_1(monkeypatch, tmp_path, python2_strings):
    path = tmp_path / "copies" / "imdb.npz"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zipped:
        for key, sequences in (("x_train", X_TRAIN), ("x_test", X_TEST)):
            zipped.writestr(
                f"{key}.npy", npy_with_legacy_pickle(objects(sequences), python2_strings)
            )
        for key, labels in (("y_train", Y_TRAIN), ("y_test", Y_TEST)):
            stream = io.BytesIO()
            np.save(stream, np.array(labels))
            zipped.writestr(f"{key}.npy", stream.getvalue())
    register(monkeypatch, path)
    (x_train, _), (x_test, _) = imdb.load_data()  # no DeprecationWarning for numpy.core
    assert (x_train.tolist(), x_test.tolist()) == (KERAS[0][1], KERAS[0][3])


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"y_train": objects([[1]] * 8)}, r"\['y_train'\] holds Python objects"),
        ({"x_train": objects(["abc"] * 8)}, r"\['x_train'\] must hold sequences of integers"),
        ({"x_train": objects([[1.5]] * 8)}, r"\['x_train'\] must hold integers"),
        ({"y_train": np.zeros(3)}, r"y_train has shape \(3,\); expected \(8,\)"),
    ],
)
def test_imdb_refuses_an_archive_that_is_not_reviews(monkeypatch, tmp_path, overrides, match):
    register(monkeypatch, write_imdb(tmp_path / "copies" / "imdb.npz", **overrides))
    with pytest.raises(ValueError, match=match):
        imdb.load_data()


def test_imdb_names_a_missing_array(monkeypatch, tmp_path):
    path = tmp_path / "copies" / "imdb.npz"
    path.parent.mkdir()
    np.savez(path, x_train=objects(X_TRAIN))
    register(monkeypatch, path)
    with pytest.raises(ValueError, match=r"has no array 'y_train'; it holds \['x_train'\]"):
        imdb.load_data()


def test_imdb_offline_error_names_the_folders_and_the_url(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        imdb.load_data()
    message = str(error.value)
    assert "Could not find the IMDB dataset" in message
    assert str(tmp_path / "copies") in message
    assert (tmp_path / "storage").as_uri() + "/imdb.npz" in message


def test_imdb_downloads_the_archive_into_the_cache(monkeypatch, tmp_path, isolated_cache):
    path = write_imdb(tmp_path / "storage" / "imdb.npz")
    register(monkeypatch, path)
    (x_train, _), _ = imdb.load_data()
    assert x_train.tolist() == KERAS[0][1]
    assert (isolated_cache / "imdb.npz").read_bytes() == path.read_bytes()


# --- The word index -----------------------------------------------------------------------------


def write_word_index(path, index=WORD_INDEX):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index), encoding="utf-8")
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_imdb_word_index_is_the_json_of_the_file(monkeypatch, tmp_path):
    # keras.datasets.imdb.get_word_index() on the same file gave WORD_INDEX (Keras 3.15.1).
    digest = write_word_index(tmp_path / "copies" / "imdb_word_index.json")
    monkeypatch.setitem(_sequences.MD5, "imdb_word_index.json", digest)
    assert imdb.get_word_index() == WORD_INDEX


def test_imdb_word_index_is_checked_against_keras_md5(tmp_path):
    path = tmp_path / "copies" / "imdb_word_index.json"
    digest = write_word_index(path)
    with pytest.raises(ValueError, match="wrong MD5") as error:
        imdb.get_word_index()
    assert "bfafd718b763782e994055a2d397834f" in str(error.value)
    assert digest in str(error.value)


def test_imdb_word_index_is_downloaded_once_with_its_md5_checked(
    monkeypatch, tmp_path, isolated_cache
):
    source = tmp_path / "storage" / "imdb_word_index.json"
    monkeypatch.setitem(_sequences.MD5, "imdb_word_index.json", write_word_index(source))
    assert imdb.get_word_index() == WORD_INDEX
    source.unlink()  # the second call reads the cache
    assert imdb.get_word_index() == WORD_INDEX
    assert (isolated_cache / "imdb_word_index.json").is_file()


def test_imdb_word_index_refuses_a_download_with_another_md5(monkeypatch, tmp_path, isolated_cache):
    write_word_index(tmp_path / "storage" / "imdb_word_index.json")
    with pytest.raises(ValueError, match="bfafd718b763782e994055a2d397834f"):
        imdb.get_word_index()
    assert not (isolated_cache / "imdb_word_index.json").exists()


def test_imdb_word_index_offline_error_names_the_url(tmp_path):
    with pytest.raises(FileNotFoundError, match="IMDB word index") as error:
        imdb.get_word_index()
    assert (tmp_path / "storage").as_uri() + "/imdb_word_index.json" in str(error.value)
