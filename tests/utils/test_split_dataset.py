"""split_dataset against Keras 3.15.1.

Shuffled splits were printed by Keras 3.15.1 with the torch backend (torch.randperm from the
seed); unshuffled ones follow Keras' documented rule (left = the first samples, right = the
last), which is what its TensorFlow backend gives: its torch backend shuffles even then.
"""

import numpy as np
import pytest
import torch

from lamina.data import Dataset
from lamina.utils._split_dataset import split_dataset

X = np.arange(20).reshape(10, 2)
Y = np.arange(10)


def _labels(ds):
    return [int(element[1]) for element in ds]


@pytest.mark.parametrize(
    ("kwargs", "left", "right"),
    [  # Keras 3.15.1, torch backend
        ({"left_size": 7, "seed": 5}, [1, 4, 9, 6, 3, 5, 0], [2, 8, 7]),
        ({"left_size": 0.6, "seed": 1}, [5, 6, 1, 2, 0, 8], [9, 3, 7, 4]),
    ],
)
def test_shuffled_splits_match_keras(kwargs, left, right):
    left_ds, right_ds = split_dataset((X, Y), shuffle=True, **kwargs)
    assert isinstance(left_ds, Dataset) and isinstance(right_ds, Dataset)
    assert (_labels(left_ds), _labels(right_ds)) == (left, right)
    x, y = next(iter(left_ds))
    assert x.tolist() == X[left[0]].tolist() and y.dtype == torch.int64


@pytest.mark.parametrize(
    ("kwargs", "sizes"),
    [  # split sizes from Keras 3.15.1
        ({"left_size": 0.8}, (8, 2)),
        ({"right_size": 3}, (7, 3)),
        ({"left_size": 0.25}, (2, 8)),  # round(2.5) == 2, Python's rounding, as Keras
        ({"left_size": 0.3, "right_size": 0.7}, (3, 7)),
    ],
)
def test_sizes_match_keras_and_order_is_kept_without_shuffle(kwargs, sizes):
    left, right = split_dataset((X, Y), **kwargs)
    assert (len(left), len(right)) == sizes
    assert _labels(left) == list(range(sizes[0]))
    assert _labels(right) == list(range(10 - sizes[1], 10))


def test_sizes_that_do_not_cover_the_data_take_first_and_last():
    left, right = split_dataset((X, Y), left_size=3, right_size=3)
    assert (_labels(left), _labels(right)) == ([0, 1, 2], [7, 8, 9])


def test_single_array_and_list_of_arrays():
    left, right = split_dataset(np.arange(10.0), left_size=0.5)
    assert [float(x) for x in right] == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert next(iter(left)).dtype == torch.float32  # floatx, as every lamina dataset
    left, right = split_dataset([X, Y], left_size=4)
    assert isinstance(next(iter(left)), tuple) and _labels(right) == [4, 5, 6, 7, 8, 9]
    left, _ = split_dataset(torch.arange(6), right_size=2)
    assert [int(x) for x in left] == [0, 1, 2, 3]


def test_shuffle_without_seed_follows_torch_global_generator():
    torch.manual_seed(0)
    first = _labels(split_dataset((X, Y), left_size=5, shuffle=True)[0])
    torch.manual_seed(0)
    assert _labels(split_dataset((X, Y), left_size=5, shuffle=True)[0]) == first
    assert first != [0, 1, 2, 3, 4]  # drawn, not the first five


def test_lamina_datasets_are_read_whole_and_split_batched_the_same():
    source = Dataset.from_tensor_slices((X, Y)).batch(3)
    source.class_names = ["a", "b"]
    left, right = split_dataset(source, left_size=0.6)
    assert [tuple(x.shape) for x, y in left] == [(3, 2), (3, 2)]
    assert [y.tolist() for x, y in right] == [[6, 7, 8], [9]]
    assert left.class_names == ["a", "b"]
    unbatched_left, _ = split_dataset(Dataset.from_tensor_slices({"x": X}), left_size=2)
    assert [element["x"].tolist() for element in unbatched_left] == [[0, 1], [2, 3]]


def test_text_batches_stay_strings(tmp_path):
    from lamina.utils._text_dataset import text_dataset_from_directory

    for name in ("neg", "pos"):
        for i in range(3):
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / f"{i}.txt").write_text(f"{name} {i}", encoding="utf-8")
    texts = text_dataset_from_directory(tmp_path, batch_size=4, shuffle=False, verbose=False)
    left, right = split_dataset(texts, right_size=2)
    [(batch, labels)] = list(right)
    assert list(batch) == ["pos 1", "pos 2"] and labels.tolist() == [1, 1]
    assert [list(b) for b, _ in left] == [["neg 0", "neg 1", "neg 2", "pos 0"]]
    strings = np.array(["a", "b", "c", "d"])
    _, right = split_dataset((strings, np.arange(4)), left_size=1)
    assert [str(text) for text, _ in right] == ["b", "c", "d"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [  # the cases where Keras 3.15.1 raises, with the same exception types
        ({}, ValueError, "give left_size, right_size or both"),
        ({"left_size": 0.6, "right_size": 0.6}, ValueError, "left_size \\+ right_size is 1.2"),
        ({"left_size": 10}, ValueError, "left_size must be an int between 1 and 9"),
        ({"left_size": 0}, ValueError, "left_size must be an int between 1 and 9"),
        ({"left_size": 1.0}, ValueError, "or a float strictly between 0 and 1; got left_size=1.0"),
        ({"right_size": -1}, ValueError, "right_size must be an int between 1 and 9"),
        ({"left_size": 0, "right_size": 0}, ValueError, "both 0"),
        ({"left_size": "a"}, TypeError, "left_size must be an int .* got str"),
        ({"left_size": True}, TypeError, "left_size must be an int .* got bool"),
        ({"left_size": 0.01}, ValueError, "leave the left split empty"),
        ({"left_size": 8, "right_size": 5}, ValueError, "is 13, more than the 10 samples"),
    ],
)
def test_size_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset((X, Y), **kwargs)


def test_dataset_errors():
    with pytest.raises(TypeError, match="got dict"):
        split_dataset({"a": X}, left_size=0.5)
    with pytest.raises(TypeError, match="got int"):
        split_dataset(5, left_size=0.5)
    with pytest.raises(ValueError, match=r"same length .*got lengths \[10, 5\]"):
        split_dataset((X, Y[:5]), left_size=0.5)
    with pytest.raises(ValueError, match="received an empty list"):
        split_dataset([], left_size=0.5)
