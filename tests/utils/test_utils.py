"""lamina.utils: get_file (download, hashes, safe extraction), to_categorical, normalize."""

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lamina.utils import get_file, normalize, to_categorical
from lamina.utils._file import extract_archive


@pytest.fixture
def served(tmp_path):
    """A file to download through a file:// URL, and its SHA-256."""
    source = tmp_path / "server" / "data.bin"
    source.parent.mkdir()
    source.write_bytes(b"lamina" * 1000)
    return source, hashlib.sha256(source.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


# --- get_file ------------------------------------------------------------------------------------


def test_get_file_downloads_to_a_part_file_and_renames_it_once_verified(monkeypatch, served, cache):
    source, digest = served
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = get_file(origin=source.as_uri(), file_hash=digest, cache_dir=cache)
    assert path == str(cache / "datasets" / "data.bin")
    assert Path(path).read_bytes() == source.read_bytes()
    assert len(renames) == 1
    assert renames[0][0].endswith(".part") and renames[0][1] == path
    assert os.listdir(cache / "datasets") == ["data.bin"]


def test_get_file_wrong_hash_raises_and_leaves_no_file_behind(served, cache):
    source, _ = served
    with pytest.raises(ValueError, match=f"expected {'a' * 64}"):
        get_file("data.bin", source.as_uri(), file_hash="a" * 64, cache_dir=cache)
    assert os.listdir(cache / "datasets") == []


def test_get_file_uses_the_cached_copy_without_downloading(served, cache):
    source, digest = served
    first = get_file(origin=source.as_uri(), file_hash=digest, cache_dir=cache)
    source.unlink()
    assert get_file(origin=source.as_uri(), file_hash=digest, cache_dir=cache) == first


def test_get_file_downloads_again_over_a_cached_copy_with_the_wrong_hash(served, cache, capsys):
    source, digest = served
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "data.bin").write_bytes(b"stale")
    path = get_file(origin=source.as_uri(), file_hash=digest, cache_dir=cache)
    assert Path(path).read_bytes() == source.read_bytes()
    assert "downloading it again" in capsys.readouterr().out


def test_get_file_detects_md5_and_force_downloads(served, cache):
    source, _ = served
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    path = get_file("copy.bin", source.as_uri(), file_hash=md5, cache_dir=cache)
    source.write_bytes(b"new contents")
    cached = get_file("copy.bin", source.as_uri(), cache_dir=cache)  # no hash: any copy will do
    assert Path(cached).read_bytes() != b"new contents"
    get_file("copy.bin", source.as_uri(), cache_dir=cache, force_download=True)
    assert Path(path).read_bytes() == b"new contents"


def test_get_file_unreachable_url_names_the_url(tmp_path, cache):
    url = (tmp_path / "nowhere.bin").as_uri()
    with pytest.raises(OSError, match=f"URL fetch failure on {url}"):
        get_file(origin=url, cache_dir=cache)
    assert os.listdir(cache / "datasets") == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "needs origin"),
        ({"origin": "ftp://example.com/x.bin"}, "http://, https:// and file://"),
        ({"fname": "a/b.bin", "origin": "file:///x.bin"}, "plain file name"),
        ({"origin": "file:///x.bin", "file_hash": "abc"}, "Cannot tell the hash algorithm"),
    ],
)
def test_get_file_rejects_bad_arguments(kwargs, match, cache):
    with pytest.raises(ValueError, match=match):
        get_file(cache_dir=cache, **kwargs)


def add_member(tar, name, data=b"x", **attributes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attributes.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def test_get_file_extracts_a_tar_archive(tmp_path, cache):
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        add_member(tar, "images/a.txt", b"hello")
    folder = get_file(origin=archive.as_uri(), fname="data.tar.gz", extract=True, cache_dir=cache)
    assert folder == str(cache / "datasets" / "data_extracted")
    assert (cache / "datasets" / "data_extracted" / "images" / "a.txt").read_bytes() == b"hello"
    assert sorted(os.listdir(cache / "datasets")) == ["data.tar.gz", "data_extracted"]


@pytest.mark.parametrize(
    ("member", "attributes", "match"),
    [
        ("../evil", {}, r"contains '\.\.'"),
        ("ok/../../evil", {}, r"contains '\.\.'"),
        ("{tmp}/evil", {}, "absolute path"),
        ("link", {"type": tarfile.SYMTYPE, "linkname": "../../evil"}, "links outside"),
        ("link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "absolute path"),
        ("link", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}, "absolute path"),
        ("device", {"type": tarfile.CHRTYPE}, "device or pipe"),
    ],
)
def test_extract_archive_refuses_members_leaving_the_folder(tmp_path, member, attributes, match):
    member = member.format(tmp=tmp_path)
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        add_member(tar, "fine.txt")
        add_member(tar, member, **attributes)
    with pytest.raises(ValueError, match=match):
        extract_archive(archive, tmp_path / "out" / "extracted")
    assert not (tmp_path / "evil").exists()
    assert os.listdir(tmp_path / "out") == []  # no half-extracted folder either


def test_get_file_refuses_a_tar_with_a_parent_member(tmp_path, cache):
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        add_member(tar, "../evil")
    with pytest.raises(ValueError, match="Refusing to extract"):
        get_file(origin=archive.as_uri(), extract=True, cache_dir=cache)
    assert not (cache / "evil").exists()


def test_extract_archive_refuses_a_zip_with_a_parent_member(tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../evil", b"x")
    with pytest.raises(ValueError, match=r"contains '\.\.'"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil").exists()


# --- to_categorical and normalize ------------------------------------------------------------


def test_to_categorical_is_float64_one_hot_with_the_class_axis_last():
    # Keras 3.15.1: to_categorical([[0, 2], [1, 1], [2, 0]]).dtype -> float64, shape (3, 2, 3)
    one_hot = to_categorical([[0, 2], [1, 1], [2, 0]])
    assert one_hot.dtype == np.float64 and one_hot.shape == (3, 2, 3)
    np.testing.assert_array_equal(one_hot.argmax(-1), [[0, 2], [1, 1], [2, 0]])
    assert one_hot.sum() == 6


def test_to_categorical_drops_a_trailing_axis_of_one_as_keras():
    labels = np.array([[3], [0], [9]], dtype=np.uint8)  # CIFAR's (N, 1)
    one_hot = to_categorical(labels, num_classes=10)
    assert one_hot.shape == (3, 10)
    np.testing.assert_array_equal(one_hot.argmax(-1), [3, 0, 9])
    assert to_categorical(2, num_classes=4).tolist() == [0, 0, 1, 0]


def test_to_categorical_keeps_torch_tensors_as_tensors():
    one_hot = to_categorical(torch.tensor([1, 0]), num_classes=3)
    assert isinstance(one_hot, torch.Tensor) and one_hot.dtype == torch.float32
    assert one_hot.tolist() == [[0, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        ([0, 3], ValueError, "class index 3, outside 0..2"),
        ([0, -1], ValueError, "class index -1"),
        ([0.5], ValueError, "non-integer"),
        (["a"], TypeError, "integer class indices"),
    ],
)
def test_to_categorical_rejects_bad_labels(labels, error, match):
    with pytest.raises(error, match=match):
        to_categorical(labels, num_classes=3)


def test_normalize_gives_unit_vectors_and_leaves_zero_vectors():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0], [-(0.5**0.5), 0.5**0.5]])
    np.testing.assert_allclose(normalize(x, order=1)[0], [3 / 7, 4 / 7])
    np.testing.assert_allclose(np.linalg.norm(normalize(x, axis=0), axis=0), [1, 1])


def test_normalize_keeps_torch_tensors_as_tensors():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    result = normalize(x)
    assert isinstance(result, torch.Tensor)
    torch.testing.assert_close(result, torch.tensor([[0.6, 0.8], [0.0, 0.0]]))
