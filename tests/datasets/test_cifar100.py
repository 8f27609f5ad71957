"""lamina.datasets.cifar100: Keras' shapes and labels from a small fake archive, read safely.

There is no CIFAR-100 copy offline: every test builds a small `cifar-100-python.tar.gz` with the
real layout (`cifar-100-python/{train,test,meta}`, pickled dicts with byte keys) and registers
its SHA-256, as the hash table would the real one's.
"""

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from lamina import config
from lamina.datasets import _download, cifar100

TRAIN_COUNT, TEST_COUNT = 6, 4


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh cache per test and no LAMINA_DATASETS folders unless a test sets them."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAMINA_DATASETS", "")
    return tmp_path / "home" / "datasets"


def make_split(rng, count, name):
    """One pickled split as in the real files: byte keys, uint8 data, lists of labels."""
    images = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
    fine = rng.integers(0, 100, count).tolist()
    coarse = [label // 5 for label in fine]
    batch = {
        b"filenames": [f"image_{i}.png".encode() for i in range(count)],
        b"batch_label": name.encode(),
        b"fine_labels": fine,
        b"coarse_labels": coarse,
        b"data": images,
    }
    # Protocol 4 writes bytes as bytes; the real files are Python 2 pickles, which the shared
    # reader's own test covers (test_datasets.py).
    return pickle.dumps(batch, protocol=4), images, np.array(fine), np.array(coarse)


def add_member(tar, name, data=None, **attributes):
    info = tarfile.TarInfo(name)
    for key, value in attributes.items():
        setattr(info, key, value)
    if data is None:
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def write_archive(path, members, extra=()):
    """A cifar-100-python.tar.gz with `members` ({name: bytes}) and `extra` (name, attributes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        add_member(tar, cifar100.BATCH_FOLDER, type=tarfile.DIRTYPE)
        for name, data in members.items():
            add_member(tar, f"{cifar100.BATCH_FOLDER}/{name}", data)
        for name, attributes in extra:
            add_member(tar, name, **attributes)
    return path


def fake_members(seed=0):
    rng = np.random.default_rng(seed)
    train, x_train, fine_train, coarse_train = make_split(rng, TRAIN_COUNT, "training")
    test, x_test, fine_test, coarse_test = make_split(rng, TEST_COUNT, "testing")
    meta = pickle.dumps(
        {
            b"fine_label_names": [f"fine_{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"coarse_{i}".encode() for i in range(20)],
        },
        protocol=4,
    )
    members = {"meta": meta, "test": test, "train": train}
    expected = {
        "x_train": x_train.reshape(-1, 3, 32, 32),
        "x_test": x_test.reshape(-1, 3, 32, 32),
        "fine": (fine_train, fine_test),
        "coarse": (coarse_train, coarse_test),
    }
    return members, expected


def register(monkeypatch, archive):
    monkeypatch.setitem(_download.KNOWN_SHA256, cifar100.ARCHIVE, (sha256(archive),))


@pytest.fixture
def fake_archive(monkeypatch, tmp_path):
    """A small valid archive in a LAMINA_DATASETS folder; returns the expected arrays."""
    members, expected = fake_members()
    archive = write_archive(tmp_path / "copies" / cifar100.ARCHIVE, members)
    register(monkeypatch, archive)
    monkeypatch.setenv("LAMINA_DATASETS", str(archive.parent))
    expected["archive"] = archive
    return expected


# --- Keras' return value --------------------------------------------------------------------


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_has_keras_shapes_dtypes_and_labels(fake_archive, label_mode):
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert (x_train.shape, y_train.shape) == ((TRAIN_COUNT, 32, 32, 3), (TRAIN_COUNT, 1))
    assert (x_test.shape, y_test.shape) == ((TEST_COUNT, 32, 32, 3), (TEST_COUNT, 1))
    assert (x_train.dtype, x_test.dtype) == (np.uint8, np.uint8)
    # Keras 3 returns the labels as int64: it reshapes the pickled lists.
    assert (y_train.dtype, y_test.dtype) == (np.int64, np.int64)
    expected_train, expected_test = fake_archive[label_mode]
    np.testing.assert_array_equal(y_train.ravel(), expected_train)
    np.testing.assert_array_equal(y_test.ravel(), expected_test)


def test_cifar100_images_are_the_stored_ones_transposed_to_channels_last(fake_archive):
    (x_train, _), (x_test, _) = cifar100.load_data()
    np.testing.assert_array_equal(x_train, fake_archive["x_train"].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(x_test, fake_archive["x_test"].transpose(0, 2, 3, 1))
    # Pixel (row 1, column 2) of channel c is byte c * 1024 + 1 * 32 + 2 of the stored row.
    stored = fake_archive["x_train"].reshape(TRAIN_COUNT, 3072)
    assert x_train[0, 1, 2].tolist() == [stored[0, c * 1024 + 34] for c in range(3)]
    assert x_train.flags.c_contiguous and x_train.flags.writeable


def test_cifar100_follows_channels_first(fake_archive):
    config.set_image_data_format("channels_first")
    try:
        (x_train, _), (x_test, _) = cifar100.load_data()
    finally:
        config.set_image_data_format("channels_last")
    assert (x_train.shape, x_test.shape) == ((TRAIN_COUNT, 3, 32, 32), (TEST_COUNT, 3, 32, 32))
    np.testing.assert_array_equal(x_train, fake_archive["x_train"])


def test_cifar100_coarse_labels_group_the_fine_ones(fake_archive):
    (_, fine), _ = cifar100.load_data("fine")
    (_, coarse), _ = cifar100.load_data("coarse")
    np.testing.assert_array_equal(coarse, fine // 5)  # as the fake archive groups them


@pytest.mark.parametrize("label_mode", ["Fine", "medium", None])
def test_cifar100_refuses_an_unknown_label_mode_as_keras(fake_archive, label_mode):
    expected = (
        f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
    )
    with pytest.raises(ValueError) as error:
        cifar100.load_data(label_mode=label_mode)
    assert str(error.value) == expected


# --- Where it comes from --------------------------------------------------------------------


def test_cifar100_reads_the_archive_in_place_leaving_no_files(fake_archive, isolated_cache):
    folder = fake_archive["archive"].parent
    cifar100.load_data()
    assert sorted(os.listdir(folder)) == [cifar100.ARCHIVE]
    assert not isolated_cache.exists()


def test_cifar100_reads_an_extracted_folder_before_the_archive(monkeypatch, tmp_path):
    members, expected = fake_members(seed=1)
    folder = tmp_path / "extracted" / cifar100.BATCH_FOLDER
    folder.mkdir(parents=True)
    for name, data in members.items():
        (folder / name).write_bytes(data)
    # A corrupted archive in a later folder is never opened: the folder comes first.
    corrupted = tmp_path / "later" / cifar100.ARCHIVE
    corrupted.parent.mkdir()
    corrupted.write_bytes(b"not an archive")
    monkeypatch.setenv("LAMINA_DATASETS", f"{folder.parent}{os.pathsep}{corrupted.parent}")
    (x_train, _), (_, y_test) = cifar100.load_data("coarse")
    np.testing.assert_array_equal(x_train, expected["x_train"].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test.ravel(), expected["coarse"][1])


def test_cifar100_downloads_the_archive_into_the_cache_once(
    monkeypatch, tmp_path, isolated_cache, capsys
):
    members, expected = fake_members()
    served = write_archive(tmp_path / "server" / cifar100.ARCHIVE, members)
    monkeypatch.setitem(_download.SOURCES, cifar100.ARCHIVE, (served.as_uri(), sha256(served)))
    register(monkeypatch, served)
    (x_train, _), _ = cifar100.load_data()
    assert "Downloading data from file://" in capsys.readouterr().out
    assert sorted(os.listdir(isolated_cache)) == [cifar100.ARCHIVE]  # no .part, nothing extracted
    served.unlink()  # the second load reads the cache
    (x_again, _), _ = cifar100.load_data()
    np.testing.assert_array_equal(x_again, x_train)
    assert capsys.readouterr().out == ""


def test_cifar100_refuses_a_corrupted_download_and_saves_nothing(
    monkeypatch, tmp_path, isolated_cache
):
    members, _ = fake_members()
    served = write_archive(tmp_path / "server" / cifar100.ARCHIVE, members)
    good_sum = sha256(served)
    monkeypatch.setitem(_download.SOURCES, cifar100.ARCHIVE, (served.as_uri(), good_sum))
    register(monkeypatch, served)
    data = bytearray(served.read_bytes())
    data[len(data) // 2] ^= 0xFF
    served.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted or not the expected one") as error:
        cifar100.load_data()
    assert good_sum in str(error.value)
    assert not any(isolated_cache.iterdir())


def test_cifar100_refuses_a_corrupted_archive_in_the_cache(monkeypatch, isolated_cache):
    members, _ = fake_members()
    cached = write_archive(isolated_cache / cifar100.ARCHIVE, members)
    register(monkeypatch, cached)
    data = bytearray(cached.read_bytes())
    data[-10] ^= 0xFF
    cached.write_bytes(bytes(data))
    unreachable = (isolated_cache.parent / "nowhere" / cifar100.ARCHIVE).as_uri()
    monkeypatch.setitem(_download.SOURCES, cifar100.ARCHIVE, (unreachable, "0" * 64))
    with pytest.raises(ValueError, match="wrong SHA-256") as error:
        cifar100.load_data()
    assert str(cached) in str(error.value) and sha256(cached) in str(error.value)


def test_cifar100_offline_error_names_the_folders_and_the_fix(monkeypatch, tmp_path):
    unreachable = (tmp_path / "nowhere" / cifar100.ARCHIVE).as_uri()
    monkeypatch.setitem(_download.SOURCES, cifar100.ARCHIVE, (unreachable, "0" * 64))
    empty, missing = tmp_path / "empty", tmp_path / "missing"
    empty.mkdir()
    monkeypatch.setenv("LAMINA_DATASETS", f"{empty}{os.pathsep}{missing}")
    with pytest.raises(FileNotFoundError) as error:
        cifar100.load_data()
    message = str(error.value)
    assert "CIFAR-100" in message and cifar100.ARCHIVE in message
    for folder in (empty, missing, tmp_path / "home" / "datasets"):
        assert str(folder) in message
    assert unreachable in message
    assert "LAMINA_DATASETS" in message.splitlines()[-1]


# --- Refusing planted files -----------------------------------------------------------------


class CreatesMarker:
    """Unpickling this creates a file: what a planted batch could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_cifar100_refuses_a_malicious_pickle_in_the_archive(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    members, _ = fake_members()
    members["train"] = pickle.dumps(
        {b"data": CreatesMarker(marker), b"fine_labels": [0], b"coarse_labels": [0]}
    )
    archive = write_archive(tmp_path / "copies" / cifar100.ARCHIVE, members)
    register(monkeypatch, archive)
    monkeypatch.setenv("LAMINA_DATASETS", str(archive.parent))
    with pytest.raises(pickle.UnpicklingError, match=r"refers to pathlib.*touch"):
        cifar100.load_data()
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "attributes", "why"),
    [
        ("cifar-100-python/../../escape", {"size": 0}, "contains '..'"),
        ("/tmp/absolute", {"size": 0}, "absolute path"),
        ("cifar-100-python/link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "link"),
        ("cifar-100-python/hard", {"type": tarfile.LNKTYPE, "linkname": "../x"}, "link"),
        ("cifar-100-python/fifo", {"type": tarfile.FIFOTYPE}, "device or pipe"),
    ],
)
def test_cifar100_refuses_an_archive_with_a_dangerous_member(
    monkeypatch, tmp_path, name, attributes, why
):
    members, _ = fake_members()
    archive = write_archive(
        tmp_path / "copies" / cifar100.ARCHIVE, members, extra=[(name, attributes)]
    )
    register(monkeypatch, archive)
    monkeypatch.setenv("LAMINA_DATASETS", str(archive.parent))
    with pytest.raises(ValueError, match=f"Refusing to read .*{name!r}.*{why}"):
        cifar100.load_data()
    assert sorted(os.listdir(archive.parent)) == [cifar100.ARCHIVE]


def test_cifar100_names_the_missing_batch_of_an_incomplete_archive(monkeypatch, tmp_path):
    members, _ = fake_members()
    del members["test"]
    archive = write_archive(tmp_path / "copies" / cifar100.ARCHIVE, members)
    register(monkeypatch, archive)
    monkeypatch.setenv("LAMINA_DATASETS", str(archive.parent))
    with pytest.raises(ValueError, match="lacks the CIFAR-100 files.*cifar-100-python/test"):
        cifar100.load_data()
