"""A model file is never lost and never runs code: crashes, write errors, damaged and
malicious files."""

import errno
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks, layers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def small_model():
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [lamina.Input((8,)), layers.Dense(16, activation="relu"), layers.Dense(2)]
    )
    model.compile("adam", "mse")
    model.fit(np.ones((4, 8), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    return model


def same_weights(path, model):
    restored = lamina.models.load_model(path)
    return all(torch.equal(restored.state_dict()[k], v) for k, v in model.state_dict().items())


def members_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, members, fix_metadata=True, deflate=()):
    """Write `members` (list of (name, bytes)) as a zip; optionally recompute metadata.json's
    hashes, as an attacker would, so that only lamina's other checks can stop the file."""
    members = list(members)
    if fix_metadata:
        names = [n for n, _ in members]
        metadata = json.loads(dict(members)["metadata.json"])
        metadata["files"] = {
            n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
            for n, d in members
            if n != "metadata.json"
        }
        members[names.index("metadata.json")] = ("metadata.json", json.dumps(metadata).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members:
                method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)


@pytest.fixture
def saved(tmp_path):
    model = small_model()
    path = tmp_path / "good.lamina"
    model.save(path)
    return model, path


# ---------------------------------------------------------------------- crashes and disk errors


def test_kill_during_save_leaves_the_previous_file_loadable(tmp_path):
    path = tmp_path / "big.lamina"
    script = textwrap.dedent(
        f"""
        import lamina, sys
        from lamina import layers
        model = lamina.Sequential([lamina.Input((512,)), layers.Dense(4096), layers.Dense(512)])
        model.save({str(path)!r})
        print("saved", flush=True)
        while True:
            model.save({str(path)!r})
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    try:
        assert child.stdout.readline().strip() == "saved"
        time.sleep(1.0)  # several saves (each ~17 MB) are under way
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    restored = lamina.models.load_model(path)
    assert restored.count_params() == 512 * 4096 + 4096 + 4096 * 512 + 512


def test_injected_write_error_raises_clearly_and_keeps_the_old_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr
    calls = []

    def failing(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 3:
            raise OSError(errno.EIO, "Input/output error")
        return original(self, info, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    model.layers[0].kernel.data += 1.0
    with pytest.raises(OSError, match="Could not write .*good.lamina.*previous file"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["good.lamina"]  # no temporary file left


def test_full_disk_raises_clearly_and_keeps_the_old_file(saved):
    _, path = saved
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal, lamina
        from lamina import layers
        model = lamina.Sequential([lamina.Input((256,)), layers.Dense(1024)])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            model.save({str(path)!r})
        except OSError as error:
            print("OSError:", error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert "OSError: [Errno 27] Could not write" in result.stdout, result.stderr
    assert "previous file, if any, is unchanged" in result.stdout
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["good.lamina"]


def test_nan_batch_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    model = small_model()
    x = np.random.RandomState(0).rand(32, 8).astype("float32")
    y = np.zeros((32, 2), "float32")
    path = tmp_path / "ckpt.lamina"
    poison = x.copy()

    class Poison(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:  # from the third epoch on, a batch is NaN
                poison[8:16] = np.nan

    good = {}

    class Remember(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if np.isfinite(logs["loss"]):
                good.update({k: v.clone() for k, v in self.model.state_dict().items()})

    checkpoint = callbacks.ModelCheckpoint(path, monitor="loss")
    with pytest.warns(UserWarning, match="not saving .* the loss is nan"):
        history = model.fit(
            poison,
            y,
            epochs=5,
            batch_size=8,
            shuffle=False,
            verbose=0,
            callbacks=[Poison(), Remember(), checkpoint, callbacks.TerminateOnNaN()],
        )
    assert len(history.history["loss"]) == 3 and np.isnan(history.history["loss"][-1])
    restored = lamina.models.load_model(path)
    for key, value in good.items():
        assert torch.equal(restored.state_dict()[key], value)
    assert all(torch.isfinite(v).all() for v in restored.state_dict().values())


# ---------------------------------------------------------------------- damaged files


def test_truncated_files_are_refused(saved):
    _, path = saved
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="good.lamina"):
            lamina.models.load_model(path)


def test_bit_flips_are_refused_or_harmless(saved):
    model, path = saved
    data = bytearray(path.read_bytes())
    rng = np.random.RandomState(0)
    refused = 0
    positions = sorted(set(rng.randint(0, len(data), 150).tolist()))
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 1 << rng.randint(8)
        path.write_bytes(bytes(flipped))
        try:
            ok = same_weights(path, model)
        except ValueError as error:
            assert "good.lamina" in str(error)
            refused += 1
        else:  # a flip in a field nothing reads (e.g. a timestamp) changes nothing
            assert ok, f"a flip at byte {position} gave different weights silently"
    assert refused >= 0.9 * len(positions)
    # every byte of the weights' data is covered by a checksum
    start = bytes(data).index(b"model.safetensors") + len("model.safetensors") + 200
    flipped = bytearray(data)
    flipped[start] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupted"):
        lamina.models.load_model(path)


# ---------------------------------------------------------------------- malicious files


class Payload:
    """Unpickling this creates the marker folder: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def assert_refused(path, marker, match, **kwargs):
    files_before = sorted(os.listdir(path.parent))
    with pytest.raises(ValueError, match=match):
        lamina.models.load_model(path, **kwargs)
    assert not os.path.exists(marker), "code from the file ran"
    assert sorted(os.listdir(path.parent)) == files_before, "loading created files"


def test_pickle_payloads_never_run(tmp_path):
    marker = str(tmp_path / "pwned")
    weights = tmp_path / "evil.pt"
    with open(weights, "wb") as handle:
        pickle.dump({"0.weight": Payload(marker)}, handle)
    model = lamina.Sequential([lamina.Input((8,)), layers.Dense(16)])
    with pytest.raises(ValueError, match="weights_only=True"):
        model.load_weights(weights)
    assert not os.path.exists(marker)
    # a pickle where the weights belong in a model file
    good = tmp_path / "good.lamina"
    small_model().save(good)
    members = members_of(good)
    members["model.safetensors"] = pickle.dumps({"w": Payload(marker)})
    evil = tmp_path / "evil.lamina"
    write_zip(evil, members.items())
    assert_refused(evil, marker, "safetensors")
    # an extra member holding a pickle
    write_zip(evil, [*members_of(good).items(), ("model.pkl", pickle.dumps(Payload(marker)))])
    assert_refused(evil, marker, "unexpected members")


def rewrite_config(good, evil, change):
    members = members_of(good)
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    write_zip(evil, members.items())


def test_configs_naming_modules_or_functions_are_refused(saved, tmp_path):
    _, good = saved
    evil = tmp_path / "evil.lamina"
    marker = str(tmp_path / "pwned")

    def system_call(config):
        config["module"] = "os"
        config["class_name"] = "system"
        config["config"] = {"command": f"mkdir {marker}"}

    rewrite_config(good, evil, system_call)
    assert_refused(evil, marker, "Unknown layer class 'system'")

    def os_activation(config):
        config["config"]["layers"][1]["config"]["activation"] = "os.system"

    rewrite_config(good, evil, os_activation)
    assert_refused(evil, marker, "Unknown activation 'os.system'")

    def builtin_loss(config):
        config["compile_config"]["loss"] = {"__function__": "builtins.exec"}

    rewrite_config(good, evil, builtin_loss)
    assert_refused(evil, marker, "neither lamina's nor registered")


def test_lambda_and_attempts_to_turn_safe_mode_off_are_refused(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Lambda(lambda x: x * 2)])
    good = tmp_path / "lambda.lamina"
    model.save(good)
    marker = str(tmp_path / "pwned")
    assert_refused(good, marker, "refused in safe mode")
    evil = tmp_path / "evil.lamina"
    rewrite_config(good, evil, lambda config: config.update(safe_mode=False))
    assert_refused(evil, marker, "unexpected keys")

    def nested(config):
        config["config"]["layers"][1]["config"]["safe_mode"] = False

    rewrite_config(good, evil, nested)
    assert_refused(evil, marker, "cannot change safe mode")


def test_duplicate_traversal_and_bomb_members_are_refused(saved, tmp_path):
    _, good = saved
    members = list(members_of(good).items())
    evil = tmp_path / "evil.lamina"
    marker = str(tmp_path / "pwned")
    write_zip(evil, [*members, ("config.json", b"{}")], fix_metadata=False)
    assert_refused(evil, marker, "duplicate members")
    write_zip(evil, [*members, ("../escape.json", b"{}")], fix_metadata=False)
    assert_refused(evil, marker, "refusing archive member '../escape.json'")
    write_zip(evil, [*members, ("/etc/passwd", b"x")], fix_metadata=False)
    assert_refused(evil, marker, "refusing archive member")
    assert not (tmp_path.parent / "escape.json").exists()
    bomb = [(n, b" " * 200_000_000 if n == "config.json" else d) for n, d in members]
    write_zip(evil, bomb, fix_metadata=False, deflate=("config.json",))
    assert os.path.getsize(evil) < 1_000_000
    assert_refused(evil, marker, "zip bomb")


def test_safetensors_declaring_more_bytes_than_present_is_refused(saved, tmp_path):
    _, good = saved
    members = members_of(good)
    data = members["model.safetensors"]
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    first = next(k for k in header if k != "__metadata__")
    header[first]["shape"] = [1_000_000, 1_000]
    header[first]["data_offsets"] = [0, 4_000_000_000]
    encoded = json.dumps(header).encode()
    members["model.safetensors"] = len(encoded).to_bytes(8, "little") + encoded + data[8 + size :]
    evil = tmp_path / "evil.lamina"
    write_zip(evil, members.items())
    assert_refused(evil, str(tmp_path / "pwned"), "truncated")
    lying = len(data).to_bytes(8, "little") * 2  # a header size larger than the file
    members["model.safetensors"] = lying
    write_zip(evil, members.items())
    assert_refused(evil, str(tmp_path / "pwned"), "header declares")
    # the same check guards plain weights files
    bad_weights = tmp_path / "w.safetensors"
    bad_weights.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data[8 + size :])
    model = lamina.Sequential([lamina.Input((8,)), layers.Dense(16), layers.Dense(2)])
    with pytest.raises(ValueError, match="truncated"):
        model.load_weights(bad_weights)


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    import torch.distributed as dist

    model = small_model()
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    model.save(tmp_path / "m.lamina")
    model.save_weights(tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(dist, "get_rank", lambda: 0)
    model.save(tmp_path / "m.lamina")
    model.save_weights(tmp_path / "w.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["m.lamina", "w.safetensors"]
