"""text_dataset_from_directory against Keras 3.15.1.

The expected texts, labels, class names and printed lines were given by Keras 3.15.1 (torch
backend, `format="grain"`, the format that needs no TensorFlow) on the tree `corpus` writes.
"""

import os

import numpy as np
import pytest
import torch

from lamina.data import Dataset
from lamina.utils._text_dataset import text_dataset_from_directory as tdd

FILES = {
    "neg/b.txt": "bad movie",
    "neg/a.txt": "awful\r\nplot",
    "neg/sub/c.TXT": "cold",
    "neg/skip.md": "x",
    "pos/z.txt": "great film ünïcode",
    "pos/y.txt": "nice",
    "pos/x.txt": "fine",
    ".hidden/h.txt": "hid",
    "top.txt": "top level",
}
# Keras 3.15.1 order with shuffle=False (universal newlines: "\r\n" is read as "\n")
ORDERED = ["awful\nplot", "bad movie", "cold", "fine", "nice", "great film ünïcode"]


@pytest.fixture
def corpus(tmp_path):
    for relative, text in FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return tmp_path


def _batches(ds):
    return [(list(texts), labels.tolist()) for texts, labels in ds]


def test_inferred_labels_order_and_message_match_keras(corpus, capsys):
    ds = tdd(corpus, batch_size=3, shuffle=False)
    assert capsys.readouterr().out == "Found 6 files belonging to 2 classes.\n"
    assert isinstance(ds, Dataset) and ds.class_names == ["neg", "pos"]
    assert _batches(ds) == [(ORDERED[:3], [0, 0, 0]), (ORDERED[3:], [1, 1, 1])]
    texts, labels = next(iter(ds))
    assert isinstance(texts, np.ndarray) and texts.dtype == object
    assert all(type(text) is str for text in texts)
    assert labels.dtype == torch.int32


def test_categorical_labels_and_max_length_match_keras(corpus):
    ds = tdd(corpus, batch_size=4, shuffle=False, label_mode="categorical", max_length=4)
    first, second = list(ds)
    assert list(first[0]) == ["awfu", "bad ", "cold", "fine"]
    assert list(second[0]) == ["nice", "grea"]
    assert first[1].dtype == torch.float32
    assert first[1].tolist() == [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def test_binary_labels_match_keras(corpus):
    [(texts, labels)] = list(tdd(corpus, batch_size=10, shuffle=False, label_mode="binary"))
    assert list(texts) == ORDERED
    assert labels.dtype == torch.float32
    assert labels.tolist() == [[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]]


def test_no_labels_takes_every_file_as_keras(corpus, capsys):
    ds = tdd(corpus, batch_size=10, shuffle=False, labels=None)
    assert capsys.readouterr().out == "Found 8 files.\n"
    assert ds.class_names is None
    assert [list(texts) for texts in ds] == [["top level", "hid", *ORDERED]]


def test_class_names_set_the_label_order_as_keras(corpus):
    ds = tdd(corpus, batch_size=10, shuffle=False, class_names=["pos", "neg"])
    assert ds.class_names == ["pos", "neg"]
    assert _batches(ds) == [(ORDERED[3:] + ORDERED[:3], [0, 0, 0, 1, 1, 1])]


def test_explicit_labels_match_keras(corpus, capsys):
    ds = tdd(corpus / "pos", batch_size=10, shuffle=False, labels=[1, 0, 1])
    assert capsys.readouterr().out == "Found 3 files belonging to 2 classes.\n"
    assert ds.class_names == ["0", "1"]
    assert _batches(ds) == [(["fine", "nice", "great film ünïcode"], [1, 0, 1])]


def test_unbatched_elements_are_a_str_and_a_label(corpus):
    elements = list(tdd(corpus, batch_size=None, shuffle=False))
    assert [(text, int(label)) for text, label in elements] == list(
        zip(ORDERED, [0, 0, 0, 1, 1, 1], strict=True)
    )
    assert type(elements[0][0]) is str


def test_validation_split_picks_keras_files_for_a_seed(corpus, capsys):
    training, validation = tdd(
        corpus, batch_size=10, seed=3, validation_split=0.3, subset="both", verbose=True
    )
    assert capsys.readouterr().out.splitlines() == [
        "Found 6 files belonging to 2 classes.",
        "Using 5 files for training.",
        "Using 1 files for validation.",
    ]
    [(texts, labels)] = _batches(training)
    assert sorted(zip(texts, labels, strict=True)) == [  # Keras 3.15.1, seed=3
        ("awful\nplot", 0),
        ("bad movie", 0),
        ("fine", 1),
        ("great film ünïcode", 1),
        ("nice", 1),
    ]
    assert _batches(validation) == [(["cold"], [0])]
    alone = tdd(corpus, seed=3, validation_split=0.3, subset="validation", verbose=False)
    assert _batches(alone) == [(["cold"], [0])]


@pytest.mark.parametrize(
    ("seed", "labels", "expected"),
    [  # Keras 3.15.1's index order for these seeds (before the per-pass shuffle)
        (3, "inferred", ["pos/x", "pos/z", "pos/y", "neg/b", "neg/a", "neg/sub/c"]),
        (11, "inferred", ["pos/y", "neg/sub/c", "pos/z", "pos/x", "neg/a", "neg/b"]),
        (5, None, ["pos/z", "neg/a", "neg/sub/c", ".hidden/h", "top", "pos/x", "pos/y", "neg/b"]),
    ],
)
def test_shuffled_file_order_is_keras(corpus, seed, labels, expected):
    ds = tdd(corpus, labels=labels, seed=seed, verbose=False)
    relative = [os.path.relpath(path, corpus).replace(os.sep, "/") for path in ds.file_paths]
    assert [os.path.splitext(path)[0] for path in relative] == expected


def test_every_shuffled_pass_reads_all_files(corpus):
    ds = tdd(corpus, batch_size=4, seed=3, verbose=False)
    for _ in range(2):
        pairs = [pair for texts, labels in _batches(ds) for pair in zip(texts, labels, strict=True)]
        assert sorted(pairs) == sorted(zip(ORDERED, [0, 0, 0, 1, 1, 1], strict=True))


def test_map_runs_on_text_batches(corpus):
    ds = tdd(corpus, batch_size=6, shuffle=False, verbose=False)
    lengths = ds.map(lambda texts, labels: (torch.tensor([len(t) for t in texts]), labels))
    [(x, y)] = list(lengths)
    assert x.tolist() == [len(text) for text in ORDERED]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [  # the same checks, in the same order, as Keras 3.15.1
        ({"labels": "x"}, "labels must be 'inferred'"),
        ({"labels": [0, 1], "class_names": ["a"]}, "class_names can only be given with labels"),
        ({"label_mode": "sparse"}, "label_mode must be 'int', 'categorical', 'binary' or None"),
        ({"validation_split": 0.2}, "If `subset` is set, `validation_split` must be set"),
        ({"subset": "training"}, "If `subset` is set, `validation_split` must be set"),
        ({"validation_split": 0.2, "subset": "train", "seed": 1}, "`subset` must be either"),
        ({"validation_split": 1.2, "subset": "training"}, "`validation_split` must be between"),
        ({"validation_split": 0.2, "subset": "training"}, "you must provide a `seed`"),
        ({"class_names": ["nope"]}, r"class_names must name subdirectories .*\['neg', 'pos'\]"),
        ({"labels": None, "class_names": ["neg"]}, "class_names can only be given with labels"),
        ({"labels": [0, 1]}, "got 2 labels for the 8 files found"),
        ({"label_mode": "binary", "class_names": ["neg"]}, "needs exactly 2 classes"),
    ],
)
def test_argument_errors(corpus, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tdd(corpus, verbose=False, **kwargs)


def test_empty_directory_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no text files found in directory"):
        tdd(tmp_path, verbose=False)
    with pytest.raises(ValueError, match="is not a directory"):
        tdd(tmp_path / "missing")


def test_texts_stay_on_the_host_and_labels_go_to_the_device(corpus):
    # The meta device stands in for a GPU: only tensors may be moved there.
    ds = tdd(corpus, batch_size=4, shuffle=False, verbose=False)
    texts, labels = next(iter(ds.iterate(torch.device("meta"))))
    assert list(texts) == ORDERED[:4]
    assert labels.device.type == "meta" and tuple(labels.shape) == (4,)
