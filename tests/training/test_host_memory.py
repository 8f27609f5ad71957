"""Host memory during CPU training: freed blocks stay in the process while fit/evaluate/predict
run (no page faults for re-allocated activations), and go back to the OS when they end."""

import platform
import subprocess
import sys

import numpy as np
import pytest
import torch

import lamina
from lamina.training import host_memory


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(host_memory, "_libc", fake)
    return fake


def small_model():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
    model.compile("sgd", "mse")
    return model


DATA = (np.zeros((16, 4), "float32"), np.zeros((16, 2), "float32"))


def test_fit_with_validation_tunes_malloc_once_and_trims_once_at_the_end(libc):
    small_model().fit(*DATA, epochs=2, validation_split=0.25, verbose=0)
    assert libc.calls == [
        ("mallopt", -3, 32 * 1024 * 1024),  # M_MMAP_THRESHOLD
        ("mallopt", -1, -1),  # M_TRIM_THRESHOLD: never trim
        ("mallopt", -1, 64 * 1024 * 1024),  # back to a trimming threshold
        ("malloc_trim", 0),
    ]
    assert host_memory._depth == 0


def test_evaluate_and_predict_are_sessions_too(libc):
    model = small_model()
    model.evaluate(*DATA, verbose=0)
    model.predict(DATA[0], verbose=0)
    assert [c[0] for c in libc.calls].count("malloc_trim") == 2


def test_the_depth_is_restored_when_training_raises(libc):
    with pytest.raises(ValueError), host_memory.cached_host_memory(torch.device("cpu")):
        raise ValueError("a failing fit")
    assert host_memory._depth == 0 and libc.calls[-1] == ("malloc_trim", 0)


def test_switched_off_by_config_environment_or_another_device(libc, monkeypatch):
    lamina.config.set_cpu_memory_caching(False)
    try:
        small_model().fit(*DATA, verbose=0)
    finally:
        lamina.config.set_cpu_memory_caching(None)
    monkeypatch.setenv("LAMINA_CPU_MEMORY_CACHING", "0")
    assert not lamina.config.cpu_memory_caching()
    small_model().fit(*DATA, verbose=0)
    monkeypatch.delenv("LAMINA_CPU_MEMORY_CACHING")
    with host_memory.cached_host_memory(torch.device("cuda")) as on:
        assert not on
    assert libc.calls == []
    with pytest.raises(TypeError, match="True, False or None"):
        lamina.config.set_cpu_memory_caching("yes")


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_real_malloc_keeps_freed_blocks_and_gives_them_back_at_the_end():
    # Measured in a fresh process: page faults depend on the state of the process' heap,
    # which the tests run before leave in any state (a suite run once gave 3,599 faults where
    # a fresh process gives some 40,000 per step).
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS_PROGRAM], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outside, inside = (int(v) for v in done.stdout.split())
    # Outside, each step faults in its 160 MiB again (about 41,000 pages of 4 KiB).
    assert outside > 20_000
    # Inside, the freed blocks stay in the process: (almost) no fault.
    assert inside < outside / 4


_FAULTS_PROGRAM = """
import resource
import torch
from lamina.training import host_memory

# 20 blocks of 8 MiB allocated, touched and freed, as a training step's activations.
def step():
    blocks = [torch.ones(2 * 1024 * 1024) for _ in range(20)]
    del blocks

def faults(repeats=5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

# glibc's starting thresholds (128 KiB): outside the context every 8 MiB block is mapped
# and unmapped.
libc = host_memory._glibc()
libc.mallopt(host_memory._M_MMAP_THRESHOLD, 128 * 1024)
libc.mallopt(host_memory._M_TRIM_THRESHOLD, 128 * 1024)
step()
outside = faults()
with host_memory.cached_host_memory(torch.device("cpu")) as on:
    assert on
    step()  # the first step faults its pages in once
    inside = faults()
print(outside, inside)
"""
