"""What Keras' small datasets share: IMDB, Reuters, Boston and California housing.

Keras keeps these four in one `.npz` file each on its storage, plus a JSON word index for the
two text datasets. This module finds those files (`LAMINA_DATASETS` folders, then the cache,
then a download, as `lamina.datasets._download.fetch` does for every dataset), reads them
without trusting them, and applies Keras' sequence encoding (`start_char`, `index_from`,
`maxlen`, `num_words`, `skip_top`, `oov_char`) and seeded shuffle.

Files are data, never code. The IMDB and Reuters archives hold ragged reviews as NumPy object
arrays, which NumPy can only store as a pickle, so `np.load(allow_pickle=False)` refuses them.
They are read in two guarded steps:

1. the file's SHA-256 is checked before a byte of it is parsed (`fetch` refuses a local copy
   or a download with another sum), so a planted or damaged file is never unpickled;
2. the object arrays are then read with an unpickler that resolves only what a pickled NumPy
   array needs (`ndarray`, `dtype` limited to object and integer types, and NumPy's array
   rebuilder); any other name, such as `os.system` or `builtins.eval`, raises
   `pickle.UnpicklingError`. The result must be lists of integers, or it is refused.

Numeric members (labels, the housing tables) are read with pickle disabled altogether.

The word indexes are JSON, parsed by `json.load`, which cannot run code. Keras publishes only
their MD5, so that is the sum they are checked against (`_download.verify` checks SHA-256 only).

>>> values, lengths = ragged(np.array([[4, 5, 6], [7]], dtype=object), "x")
>>> (values, lengths, kept), = encode_sequences(
...     [(values, lengths)], num_words=7, start_char=1, oov_char=2, index_from=0
... )
>>> to_object_array(values, lengths).tolist()
[[1, 4, 5, 6], [1, 2]]
"""

from __future__ import annotations

import io
import itertools
import json
import numbers
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lamina.datasets._download import (
    KERAS_STORAGE,
    DataFile,
    _not_found,
    cache_dir,
    dataset_folders,
    fetch,
)
from lamina.utils._file import get_file, hash_file

__all__ = [
    "MD5",
    "ORIGIN",
    "SHA256",
    "check_file_name",
    "check_integer",
    "check_test_split",
    "encode_sequences",
    "fetch_keras_npz",
    "load_npz",
    "load_regression",
    "ragged",
    "read_word_index",
    "split_index",
    "to_object_array",
]

# Where Keras downloads these files from; read at call time, so a test can point it elsewhere.
ORIGIN = KERAS_STORAGE

# SHA-256 of Keras' files, as keras/src/datasets/{imdb,reuters,boston_housing,
# california_housing}.py verify them.
SHA256: dict[str, str] = {
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    "boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
    "california_housing.npz": "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
}

# MD5 of the word indexes: Keras publishes no other sum for them (keras/src/datasets/imdb.py
# and reuters.py). The imdb one is 1,641,221 bytes.
MD5: dict[str, str] = {
    "imdb_word_index.json": "bfafd718b763782e994055a2d397834f",
    "reuters_word_index.json": "4d44cc38712099c9e383dc6e5f11a921",
}


# ---------------------------------------------------------------------------------------------
# Arguments.


def check_file_name(path: str, function: str) -> str:
    """`path` if it is a plain file name, as the datasets folders hold them; else ValueError."""
    if not isinstance(path, str) or "/" in path or "\\" in path or path in ("", ".", ".."):
        raise ValueError(
            f"{function}: path must be a file name, looked for in the folders of "
            f"LAMINA_DATASETS and in the cache; got {path!r}. To use a file elsewhere, add its "
            "folder to LAMINA_DATASETS."
        )
    return path


def check_integer(value, name: str, function: str, allow_none: bool = True) -> None:
    """Raise TypeError unless `value` is an integer (or None where allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        expected = "an integer or None" if allow_none else "an integer"
        raise TypeError(f"{function}: {name} must be {expected}; got {value!r}.")


def check_test_split(test_split: float, function: str, allow_one: bool = False) -> None:
    """Raise ValueError unless 0 <= test_split < 1 (<= 1 where `allow_one`)."""
    is_real = isinstance(test_split, numbers.Real) and not isinstance(test_split, bool)
    if not is_real or not (test_split >= 0 and (test_split <= 1 if allow_one else test_split < 1)):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(
            f"{function}: test_split is the fraction of the data kept for testing, in "
            f"{interval}; got {test_split!r}."
        )


def split_index(count: int, test_split: float) -> int:
    """How many of `count` shuffled samples go to training: Keras' `int(n * (1 - split))`."""
    return int(count * (1 - test_split))


# ---------------------------------------------------------------------------------------------
# Finding the files.


def fetch_keras_npz(path: str, known_as: str, title: str) -> Path:
    """Find or download Keras' archive `known_as` under the file name `path`, SHA-256 checked."""
    sha256 = SHA256[known_as]
    file = DataFile(path, (sha256,), ORIGIN + known_as, sha256)
    _, (found,) = fetch(title, [[file]])
    return found


def _md5_error(path: Path, expected: str, actual: str) -> ValueError:
    return ValueError(
        f"The dataset file {path} has the wrong MD5, so it is corrupted or is not the expected "
        f"word index.\n  expected: {expected}\n  actual:   {actual}\n"
        f"Delete it, or replace it with a good copy (`md5sum {path.name}` shows its sum)."
    )


def read_word_index(path: str, known_as: str, title: str) -> dict[str, int]:
    """Find or download Keras' word index `known_as` (as `path`), check its MD5, parse it."""
    expected = MD5[known_as]
    found = None
    for folder in dataset_folders():
        candidate = folder / path
        if candidate.is_file():
            actual = hash_file(candidate, "md5")
            if actual != expected:
                raise _md5_error(candidate, expected, actual)
            found = candidate
            break
    if found is None:
        origin = ORIGIN + known_as
        try:
            found = Path(
                get_file(
                    fname=path,
                    origin=origin,
                    file_hash=expected,
                    hash_algorithm="md5",
                    cache_dir=cache_dir(),
                    cache_subdir=".",
                )
            )
        except OSError as error:
            message = _not_found(title, [[DataFile(path, ())]], [(origin, error)])
            raise FileNotFoundError(message) from error
    with open(found, encoding="utf-8") as file:
        index = json.load(file)
    if not isinstance(index, dict) or not all(
        isinstance(word, str) and isinstance(rank, int) for word, rank in index.items()
    ):
        raise ValueError(f"{found} is not a word index: a JSON object of words to integers.")
    return index


# ---------------------------------------------------------------------------------------------
# Reading the archives.

# NumPy's array rebuilder, taken from NumPy itself so that its private module (numpy.core in
# NumPy 1, numpy._core in NumPy 2) is never imported by name.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]


def _rebuild_array(subtype, shape, dtype_code):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"a dataset array is a plain ndarray; got {subtype!r}")
    return _RECONSTRUCT(subtype, shape, dtype_code)


def _sequence_dtype(name, align=False, copy=False):
    if not isinstance(name, str | bytes) or np.dtype(name).kind not in "Oiu":
        raise pickle.UnpicklingError(
            f"a dataset's sequences are objects or integers; got dtype {name!r}"
        )
    return np.dtype(name, align, copy)


class _SequenceUnpickler(pickle.Unpickler):
    """Resolves only the names a pickled NumPy array of object or integer type needs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _rebuild_array,
        ("numpy._core.multiarray", "_reconstruct"): _rebuild_array,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _sequence_dtype,
    }

    def find_class(self, module: str, name: str):
        allowed = self._ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"Refusing to load a dataset array that refers to {module}.{name}: these "
                "archives hold only NumPy arrays of integer lists. The file is corrupted or "
                "malicious; delete it and download it again."
            )
        return allowed


def _read_npy(stream: io.BytesIO, where: str, allow_objects: bool) -> np.ndarray:
    """One `.npy` member: numbers without pickle; object arrays with `_SequenceUnpickler`."""
    version = np.lib.format.read_magic(stream)
    # Format 3.0 differs from 2.0 only in the header's text encoding; its layout is the same.
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read_header(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    if not allow_objects:
        raise ValueError(f"{where} holds Python objects; a numeric array was expected.")
    array = _SequenceUnpickler(stream).load()
    if not isinstance(array, np.ndarray) or array.dtype != object or array.shape != shape:
        raise ValueError(f"{where} is not the object array its header announces.")
    return array


def load_npz(
    path: Path, keys: Sequence[str], object_keys: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """The arrays `keys` of a `.npz` archive; only `object_keys` may be (restricted) pickles."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        for key in keys:
            if f"{key}.npy" not in members:
                held = sorted(name.removesuffix(".npy") for name in members)
                raise ValueError(f"{path} has no array {key!r}; it holds {held}.")
            with archive.open(f"{key}.npy") as member:
                stream = io.BytesIO(member.read())
            arrays[key] = _read_npy(stream, f"{path}[{key!r}]", key in object_keys)
    return arrays


# ---------------------------------------------------------------------------------------------
# Ragged sequences: all values in one int64 array, and each sequence's length.


def ragged(sequences: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Flatten an array of integer sequences into `(values, lengths)`, both int64.

    Raises:
        ValueError: an element is not a list, tuple or 1-D array of integers.
    """
    rows = list(sequences)
    if not all(
        isinstance(row, list | tuple) or (isinstance(row, np.ndarray) and row.ndim == 1)
        for row in rows
    ):
        raise ValueError(f"{where} must hold sequences of integers (lists or 1-D arrays).")
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = list(itertools.chain.from_iterable(rows))
    values = np.array(flat) if flat else np.zeros(0, np.int64)
    if values.dtype.kind not in "iu" or (values.size and values.max() > np.iinfo(np.int64).max):
        raise ValueError(f"{where} must hold integers that fit in int64; found {values.dtype}.")
    return values.astype(np.int64, copy=False), lengths


def to_object_array(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 1-D object array of lists of Python ints, as Keras returns sequences."""
    ends = np.cumsum(lengths).tolist()
    flat = values.tolist()
    out = np.empty(len(ends), dtype=object)
    start = 0
    for i, end in enumerate(ends):
        out[i] = flat[start:end]
        start = end
    return out


def _segment_ids(lengths: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(lengths)), lengths)


def _prepend(values: np.ndarray, lengths: np.ndarray, first: int) -> np.ndarray:
    """Every sequence with `first` put in front."""
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    out = np.empty(values.size + len(lengths), dtype=np.int64)
    is_start = np.zeros(out.size, dtype=bool)
    is_start[starts] = True
    out[is_start] = first
    out[~is_start] = values
    return out


def _count_kept(mask: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How many values of each sequence `mask` keeps."""
    kept = np.concatenate(([0], np.cumsum(mask)))
    ends = np.cumsum(lengths)
    return kept[ends] - kept[ends - lengths]


def encode_sequences(
    parts: Sequence[tuple[np.ndarray, np.ndarray]],
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int | None = 3,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Keras' encoding of word-rank sequences, on each ragged part `(values, lengths)`.

    In order, as Keras: add `index_from` to every word and put `start_char` in front (unless
    None); keep the sequences strictly shorter than `maxlen` (if given, counting `start_char`);
    then every value outside `skip_top <= value < num_words` (the start mark too) becomes
    `oov_char`, or is dropped when `oov_char` is None. Without `num_words` the bound is the
    largest value of all parts, so that value itself becomes `oov_char` as in Keras.

    Returns:
        For each part, `(values, lengths, kept)`: the encoded sequences and the boolean mask of
        the input sequences that `maxlen` kept (to select their labels).
    """
    shift = index_from or 0
    filtered = []
    for values, lengths in parts:
        values = values + shift
        if start_char is not None:
            values = _prepend(values, lengths, start_char)
            lengths = lengths + 1
        kept = lengths < maxlen if maxlen else np.ones(len(lengths), dtype=bool)
        values = values[kept[_segment_ids(lengths)]]
        filtered.append((values, lengths[kept], kept))
    if not num_words:
        non_empty = [values.max() for values, _, _ in filtered if values.size]
        num_words = int(max(non_empty)) if non_empty else 0
    encoded = []
    for values, lengths, kept in filtered:
        in_vocabulary = (values >= skip_top) & (values < num_words)
        if oov_char is not None:
            values = np.where(in_vocabulary, values, np.int64(oov_char))
        else:
            values, lengths = values[in_vocabulary], _count_kept(in_vocabulary, lengths)
        encoded.append((values, lengths, kept))
    return encoded


# ---------------------------------------------------------------------------------------------
# The housing tables.


def load_regression(
    path: str, known_as: str, title: str, test_split: float, seed: int | None, rows: int | None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Keras' split of a regression archive with arrays `x` (samples, features) and `y`.

    The first `rows` samples (all if None) are shuffled with `np.random.RandomState(seed)`; the
    first `int(n * (1 - test_split))` are the training set. Pickle is never allowed.
    """
    archive = fetch_keras_npz(path, known_as, title)
    stored = load_npz(archive, ("x", "y"))
    x, y = stored["x"][:rows], stored["y"][:rows]
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(
            f"{archive}: expected x of shape (samples, features) and y of shape (samples,); "
            f"got {x.shape} and {y.shape}."
        )
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    cut = split_index(len(x), test_split)
    return (x[:cut].copy(), y[:cut].copy()), (x[cut:].copy(), y[cut:].copy())
