"""Reuters newswires: 11,228 wires labelled over 46 topics, from Reuters-21578.

Each wire is a list of word ranks (1 is the most frequent word), as in Keras' `reuters.npz`;
`load_data` shuffles them, encodes them as Keras does (see `lamina.datasets.imdb`) and splits
them into training and test sets. `get_word_index` maps words to ranks and `get_label_names`
gives the 46 topics.

The archive is found in the folders of `LAMINA_DATASETS`, then the cache
(`~/.lamina/datasets`), then downloaded from Keras' storage; its SHA-256 is checked before it
is read, and its pickled object arrays are read with an unpickler that builds only NumPy arrays
of integer lists (see `lamina.datasets._sequences`).

>>> get_label_names()[:4]
('cocoa', 'grain', 'veg-oil', 'earn')
"""

from __future__ import annotations

import numpy as np

from lamina.datasets._sequences import (
    check_file_name,
    check_integer,
    check_test_split,
    encode_sequences,
    fetch_keras_npz,
    load_npz,
    ragged,
    read_word_index,
    split_index,
    to_object_array,
)
from lamina.datasets.mnist import Arrays

__all__ = ["get_label_names", "get_word_index", "load_data"]

ARCHIVE = "reuters.npz"
WORD_INDEX = "reuters_word_index.json"

# The topics by label, as Keras lists them (after https://martin-thoma.com/nlp-reuters/).
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int | None = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> Arrays:
    """Load Reuters as Keras does: `(x_train, y_train), (x_test, y_test)`.

    The wires are shuffled with `np.random.RandomState(seed)`, encoded (`start_char`,
    `index_from`, `maxlen`, `num_words`, `skip_top`, `oov_char`, exactly as
    `lamina.datasets.imdb.load_data`), and the first `int(n * (1 - test_split))` of the `n`
    kept wires are the training set. The same seed gives Keras' arrays.

    Args:
        path: file name of the archive in the datasets folders (Keras: relative to its cache).
        num_words: keep the indexes below this; None keeps all but, as in Keras, the largest.
        skip_top: indexes below this become `oov_char` (the start mark included, as in Keras).
        maxlen: keep only the wires strictly shorter than this, counting the start mark.
        test_split: fraction of the wires in the test set, in [0, 1].
        seed: seed of the shuffle.
        start_char: index put at the start of every wire; None puts none.
        oov_char: index replacing the words cut by `num_words` and `skip_top`; None drops them.
        index_from: offset added to every word rank.

    Returns:
        `x_train`, `x_test`: 1-D object arrays of lists of ints (8,982 and 2,246 wires with the
        defaults); `y_train`, `y_test`: 1-D integer arrays of topics 0-45 (`get_label_names`).
    """
    function = "reuters.load_data"
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
    check_test_split(test_split, function, allow_one=True)
    archive = fetch_keras_npz(path, ARCHIVE, "Reuters")
    stored = load_npz(archive, ("x", "y"), object_keys=("x",))
    x, y = stored["x"], stored["y"]
    if y.shape != (len(x),):
        raise ValueError(f"{archive}: y has shape {y.shape}; expected ({len(x)},).")

    order = np.random.RandomState(seed).permutation(len(x))
    ((values, lengths, kept),) = encode_sequences(
        [ragged(x[order], f"{archive}['x']")],
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    sequences, labels = to_object_array(values, lengths), y[order][kept]
    cut = split_index(len(sequences), test_split)
    train = (sequences[:cut].copy(), labels[:cut].copy())
    return train, (sequences[cut:].copy(), labels[cut:].copy())


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The words of Reuters and their frequency ranks: `{'the': 1, 'of': 2, ...}`.

    A wire's index `i` from `load_data` (default arguments) is the word of rank
    `i - index_from`; 0 pads, 1 is `start_char` and 2 `oov_char`.

    Args:
        path: file name of the JSON index in the datasets folders; it is found or downloaded
            as the archive is, and checked against the MD5 Keras publishes (Keras gives no
            SHA-256 for it; JSON is only parsed, never run).
    """
    check_file_name(path, "reuters.get_word_index")
    return read_word_index(path, WORD_INDEX, "Reuters word index")


def get_label_names() -> tuple[str, ...]:
    """The 46 topics, by label: `get_label_names()[y]` names label `y`.

    >>> len(get_label_names()), get_label_names()[3]
    (46, 'earn')
    """
    return LABEL_NAMES
