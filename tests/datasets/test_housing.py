"""lamina.datasets.boston_housing and california_housing: Keras' splits of small archives.

There are no copies offline. Each test writes a small archive in the real layout (`x`
(samples, features), `y` (samples,)) and registers its SHA-256, as the table holds the real
file's. Every target is distinct, so a target names its row.

The reference values come from Keras 3.15.1 (KERAS_BACKEND=torch) calling
`keras.datasets.boston_housing.load_data(**kwargs)` and
`keras.datasets.california_housing.load_data(**kwargs)` on these very files, placed in
`$KERAS_HOME/datasets/`, with `get_file` in those Keras modules wrapped to drop `file_hash`
(the synthetic files have other sums), nothing else changed.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from lamina.datasets import _sequences, boston_housing, california_housing


def boston_arrays():
    """10 samples of 13 float64 features; target 10 + 1.5 * row."""
    return np.arange(130).reshape(10, 13) * 0.5, np.arange(10) * 1.5 + 10


def california_arrays():
    """610 samples of 8 float32 features; target 25000 + 100 * row (10 beyond 'small')."""
    x = np.arange(610 * 8, dtype=np.float32).reshape(610, 8)
    return x, (np.arange(610) * 100 + 25000).astype(np.float32)


# keras.datasets.boston_housing.load_data(**kwargs), Keras 3.15.1: kwargs -> y_train, y_test.
BOSTON = [
    ({}, [23.5, 14.5, 19.0, 11.5, 10.0, 20.5, 16.0, 22.0], [13.0, 17.5]),
    ({"test_split": 0.5, "seed": 3}, [17.5, 16.0, 11.5, 13.0, 23.5],
     [19.0, 20.5, 10.0, 14.5, 22.0]),
    ({"test_split": 0.0}, [23.5, 14.5, 19.0, 11.5, 10.0, 20.5, 16.0, 22.0, 13.0, 17.5], []),
]  # fmt: skip

# keras.datasets.california_housing.load_data(**kwargs), Keras 3.15.1: kwargs ->
# (train size, test size, y_train[:6], y_test[:6], y_train.sum(), y_test.sum()).
CALIFORNIA = [
    (
        {},
        488, 122,
        [68900.0, 71400.0, 27900.0, 73300.0, 56800.0, 43700.0],
        [70100.0, 51000.0, 62700.0, 55400.0, 61000.0, 61700.0],
        27178000.0, 6646500.0,
    ),
    (
        {"version": "small"},
        480, 120,
        [81800.0, 75500.0, 30900.0, 32100.0, 54800.0, 45500.0],
        [41300.0, 41100.0, 55100.0, 78800.0, 47600.0, 53300.0],
        26429500.0, 6540500.0,
    ),
    (
        {"version": "small", "test_split": 0.1, "seed": 0},
        540, 60,
        [68400.0, 37200.0, 47400.0, 72900.0, 45500.0, 81900.0],
        [47700.0, 39300.0, 43000.0, 38100.0, 29700.0, 57400.0],
        29786500.0, 3183500.0,
    ),
]  # fmt: skip


def write(path, x, y):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y)
    return path


def register(monkeypatch, path, name):
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    monkeypatch.setitem(_sequences.SHA256, name, digest)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh cache per test; LAMINA_DATASETS is the folder `copies`, empty at first."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_DATASETS", str(tmp_path / "copies"))
    monkeypatch.setattr(_sequences, "ORIGIN", (tmp_path / "storage").as_uri() + "/")
    return tmp_path / "home" / "datasets"


@pytest.fixture
def boston(monkeypatch, tmp_path):
    path = write(tmp_path / "copies" / "boston_housing.npz", *boston_arrays())
    register(monkeypatch, path, "boston_housing.npz")
    return path


@pytest.fixture
def california(monkeypatch, tmp_path):
    path = write(tmp_path / "copies" / "california_housing.npz", *california_arrays())
    register(monkeypatch, path, "california_housing.npz")
    return path


def rows_of(x, y, x_all, y_all):
    """The rows of `x_all` that the targets `y` name, to check x and y stay paired."""
    rows = [int(np.flatnonzero(y_all == target)[0]) for target in y]
    np.testing.assert_array_equal(x, x_all[rows].reshape(x.shape))


# --- Boston -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "y_train", "y_test"), BOSTON, ids=[str(c[0]) for c in BOSTON])
def test_boston_gives_keras_split(boston, kwargs, y_train, y_test):
    (xa, ya), (xb, yb) = boston_housing.load_data(**kwargs)
    assert (ya.tolist(), yb.tolist()) == (y_train, y_test)
    assert (xa.shape, xb.shape) == ((len(y_train), 13), (len(y_test), 13))
    assert (xa.dtype, ya.dtype) == (np.float64, np.float64)
    x_all, y_all = boston_arrays()
    rows_of(xa, ya, x_all, y_all)
    rows_of(xb, yb, x_all, y_all)


def test_boston_first_feature_matches_keras(boston):
    # x_train[:, 0] of keras.datasets.boston_housing.load_data(), Keras 3.15.1.
    (x_train, _), _ = boston_housing.load_data()
    assert x_train[:, 0].tolist() == [58.5, 19.5, 39.0, 6.5, 0.0, 45.5, 26.0, 52.0]


@pytest.mark.parametrize("test_split", [1.0, -0.1])
def test_boston_refuses_a_test_split_keras_refuses(boston, test_split):
    # Keras 3.15.1 raises ValueError for both: test_split must lie in [0, 1).
    with pytest.raises(ValueError, match=r"boston_housing.load_data: test_split .*\[0, 1\)"):
        boston_housing.load_data(test_split=test_split)


def test_boston_refuses_pickled_objects(monkeypatch, tmp_path):
    y = np.empty(10, dtype=object)
    y[:] = list(range(10))
    path = write(tmp_path / "copies" / "boston_housing.npz", boston_arrays()[0], y)
    register(monkeypatch, path, "boston_housing.npz")
    with pytest.raises(ValueError, match=r"\['y'\] holds Python objects"):
        boston_housing.load_data()


def test_boston_refuses_a_table_of_the_wrong_shape(monkeypatch, tmp_path):
    path = write(tmp_path / "copies" / "boston_housing.npz", np.zeros(10), np.zeros(10))
    register(monkeypatch, path, "boston_housing.npz")
    with pytest.raises(ValueError, match=r"x of shape \(samples, features\).*got \(10,\)"):
        boston_housing.load_data()


def test_boston_checks_the_sha256_of_a_local_copy(tmp_path):
    path = write(tmp_path / "copies" / "boston_housing.npz", *boston_arrays())
    with pytest.raises(ValueError, match="wrong SHA-256") as error:
        boston_housing.load_data()
    assert str(path) in str(error.value)
    assert _sequences.SHA256["boston_housing.npz"] in str(error.value)


def test_boston_downloads_into_the_cache_once(monkeypatch, tmp_path, isolated_cache):
    source = write(tmp_path / "storage" / "boston_housing.npz", *boston_arrays())
    register(monkeypatch, source, "boston_housing.npz")
    first = boston_housing.load_data()
    source.unlink()  # the second call reads the cache
    second = boston_housing.load_data()
    np.testing.assert_array_equal(first[0][1], second[0][1])
    assert (isolated_cache / "boston_housing.npz").is_file()


def test_boston_refuses_a_download_with_another_sum(tmp_path, isolated_cache):
    write(tmp_path / "storage" / "boston_housing.npz", *boston_arrays())
    with pytest.raises(ValueError, match=_sequences.SHA256["boston_housing.npz"]):
        boston_housing.load_data()
    assert not (isolated_cache / "boston_housing.npz").exists()


# --- California -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "n_train", "n_test", "head_train", "head_test", "sum_train", "sum_test"),
    CALIFORNIA,
    ids=[str(c[0]) for c in CALIFORNIA],
)
def test_california_gives_keras_split(
    california, kwargs, n_train, n_test, head_train, head_test, sum_train, sum_test
):
    (xa, ya), (xb, yb) = california_housing.load_data(**kwargs)
    assert (xa.shape, ya.shape, xb.shape, yb.shape) == ((n_train, 8), (n_train,), (n_test, 8),
                                                        (n_test,))  # fmt: skip
    assert (ya[:6].tolist(), yb[:6].tolist()) == (head_train, head_test)
    assert (ya.astype(np.float64).sum(), yb.astype(np.float64).sum()) == (sum_train, sum_test)
    assert (xa.dtype, ya.dtype) == (np.float32, np.float32)
    x_all, y_all = california_arrays()
    rows_of(xa, ya, x_all, y_all)
    rows_of(xb, yb, x_all, y_all)


def test_california_small_is_the_first_600_samples(california):
    (_, y_train), (_, y_test) = california_housing.load_data(version="small")
    rows = np.sort((np.concatenate([y_train, y_test]) - 25000) / 100)
    np.testing.assert_array_equal(rows, np.arange(600))


def test_california_refuses_an_unknown_version(california):
    # Keras 3.15.1 raises ValueError too (after reading the file; lamina before).
    with pytest.raises(ValueError, match="version must be 'small' or 'large'; got 'medium'"):
        california_housing.load_data(version="medium")


def test_california_reads_the_file_named_by_path(monkeypatch, tmp_path):
    path = write(tmp_path / "copies" / "housing_copy.npz", *california_arrays())
    register(monkeypatch, path, "california_housing.npz")
    (_, y_train), _ = california_housing.load_data(path="housing_copy.npz")
    assert y_train[:6].tolist() == CALIFORNIA[0][3]


def test_california_offline_error_names_the_folders_and_the_url(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        california_housing.load_data()
    message = str(error.value)
    assert "California housing" in message
    assert str(tmp_path / "copies") in message
    assert (tmp_path / "storage").as_uri() + "/california_housing.npz" in message
