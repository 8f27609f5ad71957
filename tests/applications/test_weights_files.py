"""How pretrained weights files are found: LAMINA_WEIGHTS folders, the cache, checksums."""

import os
from pathlib import Path

import pytest

from lamina.applications._weights import WeightsFile, find_weights, resolve_weights

RESNET20 = WeightsFile(
    "resnet20_cifar10_pytorch/resnet20-12fca82f.th",
    "12fca82f0bebc4135bf1f32f6e3710e61d5108578464b84fd6d7f5c1b04036c8",
)


def shared_folder():
    listed = os.environ.get("LAMINA_WEIGHTS")
    assert listed, "the tests run with LAMINA_WEIGHTS=../shared/pretrained (README's command)"
    return Path(listed.split(os.pathsep)[0])


def test_found_in_a_lamina_weights_folder_and_checked():
    path = find_weights(RESNET20)
    assert path.is_file() and path.name == "resnet20-12fca82f.th"
    assert resolve_weights("imagenet", RESNET20) == path
    assert resolve_weights(None, RESNET20) is None
    assert resolve_weights(str(path), RESNET20) == path


def test_a_corrupted_copy_is_refused(tmp_path, monkeypatch):
    data = bytearray((shared_folder() / RESNET20.name).read_bytes())
    data[1000] ^= 0xFF
    (tmp_path / "resnet20-12fca82f.th").write_bytes(bytes(data))  # the bare name also counts
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path))
    with pytest.raises(ValueError, match="wrong SHA-256"):
        find_weights(RESNET20)


def test_a_missing_file_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="LAMINA_WEIGHTS") as error:
        find_weights(WeightsFile("nowhere/w.pt", "0" * 64))
    assert str(tmp_path) in str(error.value)
    with pytest.raises(ValueError, match="no such file"):
        resolve_weights(str(tmp_path / "absent.pt"), RESNET20)
