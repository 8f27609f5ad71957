"""IMDB movie reviews: 25,000 training and 25,000 test reviews, labelled by sentiment.

Each review is a list of word ranks (1 is the most frequent word of the training set), as in
Keras' `imdb.npz`; `load_data` encodes them as Keras does (a start mark, an offset, an
out-of-vocabulary mark) and `get_word_index` maps words to their ranks.

The archive is found in the folders of `LAMINA_DATASETS`, then the cache
(`~/.lamina/datasets`), then downloaded from Keras' storage; its SHA-256 is checked before it
is read. The reviews are pickled object arrays: they are read with an unpickler that builds
only NumPy arrays of integer lists, never code (see `lamina.datasets._sequences`).

>>> import numpy as np
>>> from lamina.datasets._sequences import encode_sequences, ragged, to_object_array
>>> reviews = ragged(np.array([[1, 5, 2], [9, 3]], dtype=object), "x")
>>> (values, lengths, _), = encode_sequences([reviews], num_words=8, skip_top=4)
>>> to_object_array(values, lengths).tolist()  # what load_data(num_words=8, skip_top=4) does
[[2, 4, 2, 5], [2, 2, 6]]
"""

from __future__ import annotations

import numpy as np

from lamina.datasets._sequences import (
    check_file_name,
    check_integer,
    encode_sequences,
    fetch_keras_npz,
    load_npz,
    ragged,
    read_word_index,
    to_object_array,
)
from lamina.datasets.mnist import Arrays

__all__ = ["get_word_index", "load_data"]

ARCHIVE = "imdb.npz"
WORD_INDEX = "imdb_word_index.json"
KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int | None = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> Arrays:
    """Load IMDB as Keras does: `(x_train, y_train), (x_test, y_test)`.

    Both splits are shuffled with `np.random.RandomState(seed)` (training first), then each
    review becomes `[start_char] + [rank + index_from, ...]`; words outside
    `skip_top <= index < num_words` become `oov_char`. The same seed gives Keras' arrays.

    Args:
        path: file name of the archive in the datasets folders (Keras: relative to its cache).
        num_words: keep the indexes below this (after `index_from`); None keeps all but, as in
            Keras, the largest index, which becomes `oov_char`.
        skip_top: indexes below this become `oov_char` (the start mark included, as in Keras).
        maxlen: keep only the reviews strictly shorter than this, counting the start mark;
            None or 0 keeps all.
        seed: seed of the shuffle.
        start_char: index put at the start of every review; None puts none.
        oov_char: index replacing the words cut by `num_words` and `skip_top`; None drops them.
        index_from: offset added to every word rank.

    Returns:
        `x_train`, `x_test`: 1-D object arrays of lists of ints (25,000 each with no `maxlen`);
        `y_train`, `y_test`: 1-D integer arrays of 0 (negative) and 1 (positive).

    Raises:
        ValueError: `maxlen` leaves no review in a split.

    Citation: Andrew L. Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011.
    """
    function = "imdb.load_data"
    check_file_name(path, function)
    for name, value in (
        ("num_words", num_words),
        ("maxlen", maxlen),
        ("start_char", start_char),
        ("oov_char", oov_char),
        ("seed", seed),
    ):
        check_integer(value, name, function)
    check_integer(skip_top, "skip_top", function, allow_none=False)
    check_integer(index_from, "index_from", function, allow_none=False)
    archive = fetch_keras_npz(path, ARCHIVE, "IMDB")
    stored = load_npz(archive, KEYS, object_keys=("x_train", "x_test"))

    rng = np.random.RandomState(seed)
    parts, labels = [], []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = stored[x_key], stored[y_key]
        if y.shape != (len(x),):
            raise ValueError(f"{archive}: {y_key} has shape {y.shape}; expected ({len(x)},).")
        order = rng.permutation(len(x))
        parts.append(ragged(x[order], f"{archive}[{x_key!r}]"))
        labels.append(y[order])
    encoded = encode_sequences(
        parts,
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    if maxlen and any(not kept.any() for _, _, kept in encoded):
        raise ValueError(
            f"{function}: no review is shorter than maxlen={maxlen} in the training or the test "
            "split (the start mark counts). Increase maxlen."
        )
    (train_values, train_lengths, train_kept), (test_values, test_lengths, test_kept) = encoded
    return (
        (to_object_array(train_values, train_lengths), labels[0][train_kept]),
        (to_object_array(test_values, test_lengths), labels[1][test_kept]),
    )


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The words of IMDB and their frequency ranks: `{'the': 1, 'and': 2, ...}`.

    A review's index `i` from `load_data` (default arguments) is the word of rank
    `i - index_from`; 0 pads, 1 is `start_char` and 2 `oov_char`.

    Args:
        path: file name of the JSON index in the datasets folders; it is found or downloaded
            as the archive is, and checked against the MD5 Keras publishes (Keras gives no
            SHA-256 for it; JSON is only parsed, never run).
    """
    check_file_name(path, "imdb.get_word_index")
    return read_word_index(path, WORD_INDEX, "IMDB word index")
