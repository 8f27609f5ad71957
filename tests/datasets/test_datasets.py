"""lamina.datasets: Keras' shapes from the offline copies, the search order, hashes, safe readers.

The offline copies are found through LAMINA_DATASETS, as CI sets it; without it, in
../shared/datasets beside the repository, where CI keeps them.
"""

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from lamina import config
from lamina.datasets import _download, cifar10, fashion_mnist, mnist

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASETS = os.environ.get("LAMINA_DATASETS") or str(REPO_ROOT.parent / "shared" / "datasets")


def shared_file(name):
    for folder in DATASETS.split(os.pathsep):
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


needs_offline_copies = pytest.mark.skipif(
    shared_file("mnist.npz") is None,
    reason=f"the offline datasets are not in {DATASETS}; set LAMINA_DATASETS",
)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh cache per test, the offline copies in LAMINA_DATASETS, the warning not yet shown."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_DATASETS", DATASETS)
    monkeypatch.setattr(cifar10, "_lossy_warning_shown", False)
    return tmp_path / "home" / "datasets"


# --- MNIST and Fashion-MNIST from the offline copies ------------------------------------------


@needs_offline_copies
def test_mnist_has_keras_shapes_dtypes_and_class_counts(monkeypatch, tmp_path):
    # The first listed folder does not exist: the search goes on to the next one.
    monkeypatch.setenv("LAMINA_DATASETS", f"{tmp_path / 'missing'}{os.pathsep}{DATASETS}")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert (x_train.shape, y_train.shape) == ((60000, 28, 28), (60000,))
    assert (x_test.shape, y_test.shape) == ((10000, 28, 28), (10000,))
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(y_train).tolist() == train_counts
    assert np.bincount(y_test).tolist() == test_counts
    assert x_train.mean() == pytest.approx(33.318, abs=1e-3)


@needs_offline_copies
def test_fashion_mnist_has_keras_shapes_dtypes_and_class_counts():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert (x_train.shape, y_train.shape) == ((60000, 28, 28), (60000,))
    assert (x_test.shape, y_test.shape) == ((10000, 28, 28), (10000,))
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_test.mean() == pytest.approx(73.147, abs=1e-3)


def write_idx_gz(path, array):
    """An IDX file of unsigned bytes, as MNIST's: magic, big-endian sizes, raw bytes."""
    header = np.array([0x0800 + array.ndim, *array.shape], dtype=">u4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_fashion_mnist_reads_keras_idx_files(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3),
    }
    for name, array in arrays.items():
        write_idx_gz(tmp_path / "keras" / "fashion-mnist" / name, array)
        sums = (sha256(tmp_path / "keras" / "fashion-mnist" / name),)
        monkeypatch.setitem(_download.KNOWN_SHA256, f"fashion-mnist/{name}", sums)
    monkeypatch.setenv("LAMINA_DATASETS", str(tmp_path / "keras"))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert (x_test.shape, y_train.shape, x_train.dtype) == ((3, 28, 28), (6,), np.uint8)
    assert x_train.flags.writeable


# --- Hashes, the offline error, downloads -----------------------------------------------------


@needs_offline_copies
def test_corrupted_copy_is_rejected_with_the_hash_error(monkeypatch, tmp_path):
    corrupted = tmp_path / "copies" / "mnist.npz"
    corrupted.parent.mkdir()
    shutil.copyfile(shared_file("mnist.npz"), corrupted)
    with open(corrupted, "r+b") as file:
        file.seek(5_000_000)
        byte = file.read(1)
        file.seek(5_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("LAMINA_DATASETS", str(corrupted.parent))
    expected = _download.KNOWN_SHA256["mnist.npz"][0]
    with pytest.raises(ValueError, match="wrong SHA-256") as error:
        mnist.load_data()
    message = str(error.value)
    assert str(corrupted) in message
    assert expected in message
    assert sha256(corrupted) in message
    assert "Delete it, or replace it" in message


def test_offline_error_lists_the_folders_searched_and_the_url_tried(monkeypatch, tmp_path):
    unreachable = (tmp_path / "nowhere" / "mnist.npz").as_uri()
    monkeypatch.setitem(_download.SOURCES, "mnist.npz", (unreachable, "0" * 64))
    monkeypatch.delenv("LAMINA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    empty, missing = tmp_path / "empty", tmp_path / "missing"
    empty.mkdir()
    monkeypatch.setenv("LAMINA_DATASETS", f"{empty}{os.pathsep}{missing}")
    with pytest.raises(FileNotFoundError) as error:
        mnist.load_data()
    message = str(error.value)
    for folder in (empty, missing, tmp_path / ".lamina" / "datasets"):
        assert str(folder) in message
    assert f"{missing} (from LAMINA_DATASETS, does not exist)" in message
    assert unreachable in message
    assert "LAMINA_DATASETS" in message.splitlines()[-1]


def test_mnist_downloads_through_get_file_into_the_cache(monkeypatch, tmp_path, isolated_cache):
    arrays = {
        key: np.full((2, 28, 28) if key[0] == "x" else (2,), 7, np.uint8)
        for key in ("x_train", "y_train", "x_test", "y_test")
    }
    served = tmp_path / "server" / "mnist.npz"
    served.parent.mkdir()
    np.savez(served, **arrays)
    monkeypatch.setitem(_download.SOURCES, "mnist.npz", (served.as_uri(), sha256(served)))
    monkeypatch.setitem(_download.KNOWN_SHA256, "mnist.npz", (sha256(served),))
    monkeypatch.setenv("LAMINA_DATASETS", "")
    (x_train, _), (_, y_test) = mnist.load_data()
    assert x_train.shape == (2, 28, 28) and y_test.tolist() == [7, 7]
    assert sorted(os.listdir(isolated_cache)) == ["mnist.npz"]
    served.unlink()  # the second load reads the cache
    assert mnist.load_data()[0][0].shape == (2, 28, 28)


# --- CIFAR-10 ----------------------------------------------------------------------------------


# Decoding 60,000 JPEGs takes about 10 s (13 s with the checks), most of the 20 s budget of the
# fast suite; the next test runs the same path on 96 images.
@pytest.mark.slow
@needs_offline_copies
def test_cifar10_loads_the_full_jpeg_copy_with_keras_shapes(isolated_cache):
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="NOT the original ones"):
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    decode_seconds = time.perf_counter() - start
    assert (x_train.shape, y_train.shape) == ((50000, 32, 32, 3), (50000, 1))
    assert (x_test.shape, y_test.shape) == ((10000, 32, 32, 3), (10000, 1))
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    assert np.bincount(y_train.ravel()).tolist() == [5000] * 10
    assert np.bincount(y_test.ravel()).tolist() == [1000] * 10
    assert y_train[:10].ravel().tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    # Decoded means from the README; another JPEG decoder may differ by 1 on a few pixels.
    np.testing.assert_allclose(x_test.mean(axis=(0, 1, 2)), [125.987, 123.691, 114.847], atol=0.05)
    assert (isolated_cache / cifar10.LOSSY_DECODED).is_file()

    start = time.perf_counter()
    (x_cached, _), _ = cifar10.load_data()  # from the cache, and no second warning
    assert time.perf_counter() - start < decode_seconds / 3
    np.testing.assert_array_equal(x_cached, x_train)


@pytest.fixture
def small_jpeg_copy(monkeypatch, tmp_path):
    """The first 64 training and 32 test images of the JPEG copy, as a known file."""
    source = shared_file(cifar10.LOSSY_BYTES)
    if source is None:
        pytest.skip(f"{cifar10.LOSSY_BYTES} is not in {DATASETS}")
    small = tmp_path / "small" / cifar10.LOSSY_BYTES
    small.parent.mkdir()
    with np.load(source) as stored:
        parts = {}
        for split, count in (("train", 64), ("test", 32)):
            offsets = stored[f"x_{split}_offsets"][: count + 1]
            parts[f"x_{split}_jpeg"] = stored[f"x_{split}_jpeg"][: offsets[-1]]
            parts[f"x_{split}_offsets"] = offsets
            parts[f"y_{split}"] = stored[f"y_{split}"][:count]
    np.savez(small, **parts)
    monkeypatch.setitem(_download.KNOWN_SHA256, cifar10.LOSSY_BYTES, (sha256(small),))
    monkeypatch.setenv("LAMINA_DATASETS", str(small.parent))
    return small


def test_cifar10_decodes_the_jpeg_copy_once_into_the_cache(
    monkeypatch, small_jpeg_copy, isolated_cache
):
    with pytest.warns(UserWarning, match="lossy|JPEG"):
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert (x_train.shape, y_train.shape) == ((64, 32, 32, 3), (64, 1))
    assert (x_test.shape, y_test.shape) == ((32, 32, 32, 3), (32, 1))
    exact = shared_file("cifar10_exact_subset.npz")
    if exact is not None:  # aligned with the exact pixels, within JPEG's error (5.8 on average)
        with np.load(exact) as stored:
            difference = np.abs(x_train.astype(int) - stored["x_train"][:64]).mean()
            np.testing.assert_array_equal(y_train.ravel(), stored["y_train"][:64])
        assert difference < 10
    assert (isolated_cache / cifar10.LOSSY_DECODED).is_file()

    def no_second_decode(path):
        raise AssertionError("decoded twice")

    monkeypatch.setattr(cifar10, "decode_jpeg_archive", no_second_decode)
    (x_cached, _), _ = cifar10.load_data()  # warned once per process: no warning now
    np.testing.assert_array_equal(x_cached, x_train)


class RunsShellCommand:
    """Unpickling this calls os.system: what a planted CIFAR batch could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.marker}",))


def test_cifar_batch_reader_refuses_a_pickle_that_runs_a_command(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": RunsShellCommand(marker), b"labels": [0]})
    with pytest.raises(pickle.UnpicklingError, match=r"refers to (posix|nt|os)\.system"):
        cifar10.load_batch(payload)
    assert not marker.exists()


def test_cifar_batch_reader_refuses_object_arrays():
    payload = pickle.dumps({b"data": np.array([[None] * 3072], dtype=object), b"labels": [0]})
    with pytest.raises(pickle.UnpicklingError, match="uint8"):
        cifar10.load_batch(payload)


class Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2's str, as in the original CIFAR files (cPickle, 2009)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_python2_str
    dispatch[bytes] = save_python2_str


def test_cifar_batch_reader_reads_python2_pickles_as_the_original_files_are():
    images = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    batch = {"batch_label": "training batch 1 of 5", "labels": [3, 7], "data": images}
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(batch)
    # NumPy 1's module path, as the original files name it.
    payload = buffer.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert b"numpy.core.multiarray\n_reconstruct" in payload
    x, y = cifar10.load_batch(payload)
    assert (x.shape, x.dtype, y.dtype, y.tolist()) == ((2, 3, 32, 32), np.uint8, np.uint8, [3, 7])
    np.testing.assert_array_equal(x.reshape(2, -1), images)


def make_batch(rng, count, protocol=4):
    images = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, count).tolist()
    batch = {b"batch_label": b"fake", b"data": images, b"labels": labels, b"filenames": []}
    return pickle.dumps(batch, protocol=protocol), images, labels


@pytest.fixture
def fake_original_archive(monkeypatch, tmp_path):
    """A small cifar-10-python.tar.gz (4 images per batch), known to the hash table."""
    rng = np.random.default_rng(1)
    archive = tmp_path / "original" / cifar10.ARCHIVE
    archive.parent.mkdir()
    images, labels = [], []
    with tarfile.open(archive, "w:gz") as tar:
        for name in (*cifar10.BATCH_FILES, cifar10.TEST_FILE):
            data, batch_images, batch_labels = make_batch(rng, 4)
            info = tarfile.TarInfo(f"{cifar10.BATCH_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            images.append(batch_images)
            labels.append(batch_labels)
    monkeypatch.setitem(_download.KNOWN_SHA256, cifar10.ARCHIVE, (sha256(archive),))
    # The original archive comes before the JPEG copy, wherever each is.
    monkeypatch.setenv("LAMINA_DATASETS", f"{DATASETS}{os.pathsep}{archive.parent}")
    return np.concatenate(images).reshape(-1, 3, 32, 32), np.concatenate(labels)


def test_cifar10_reads_the_original_archive_in_place(fake_original_archive, isolated_cache):
    expected_x, expected_y = fake_original_archive
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # exact: no warning
    assert (x_train.shape, y_train.shape, y_train.dtype) == ((20, 32, 32, 3), (20, 1), np.uint8)
    assert (x_test.shape, y_test.shape) == ((4, 32, 32, 3), (4, 1))
    np.testing.assert_array_equal(x_train, expected_x[:20].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test.ravel(), expected_y[20:])
    assert not isolated_cache.exists()  # read in memory, nothing extracted


def test_cifar10_follows_channels_first(fake_original_archive):
    config.set_image_data_format("channels_first")
    try:
        (x_train, _), (x_test, _) = cifar10.load_data()
    finally:
        config.set_image_data_format("channels_last")
    assert (x_train.shape, x_test.shape) == ((20, 3, 32, 32), (4, 3, 32, 32))
    np.testing.assert_array_equal(x_train, fake_original_archive[0][:20])
