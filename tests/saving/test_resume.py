"""Exact resume: a training killed with SIGKILL and resumed with BackupAndRestore ends with
the same weights, bit for bit, as one that was never interrupted."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import lamina
    from lamina import callbacks, layers

    backup, output, save_freq, slow = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential([
        lamina.Input((8, 8, 1)),
        layers.Conv2D(6, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(4, activation="softmax"),
    ])
    # A float learning rate: ReduceLROnPlateau (as in Keras) cannot set a schedule's.
    model.compile(lamina.optimizers.AdamW(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.RandomState(1)
    x = rng.rand(90, 8, 8, 1).astype("float32")
    y = rng.randint(0, 4, 90)

    class Progress(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print("batch", flush=True)
            time.sleep(0.05)

    used = [callbacks.BackupAndRestore(backup, save_freq=save_freq),
            callbacks.EarlyStopping("val_loss", patience=50),
            callbacks.ReduceLROnPlateau("loss", patience=1, factor=0.9)]
    if slow:
        used.append(Progress())
    history = model.fit(x, y, batch_size=16, epochs=6, validation_split=0.2, callbacks=used,
                        verbose=0)
    model.save_weights(output)
    print("epochs run:", len(history.history["loss"]), flush=True)
    """
)


def run(script, backup, output, save_freq, slow=False):
    return subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(backup),
            str(output),
            str(save_freq),
            "1" if slow else "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The weights of the run that is never interrupted (the backup is written, not used)."""
    folder = tmp_path_factory.mktemp("straight")
    script = folder / "train.py"
    script.write_text(SCRIPT)
    straight = run(script, folder / "backup", folder / "straight.safetensors", "epoch")
    output, errors = straight.communicate(timeout=300)
    assert straight.returncode == 0, errors
    assert "epochs run: 6" in output
    return load_file(folder / "straight.safetensors")


@pytest.mark.parametrize(("save_freq", "kill_after"), [("epoch", 11), (2, 13)])
def test_sigkill_then_resume_gives_bit_identical_weights(
    tmp_path, uninterrupted, save_freq, kill_after
):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)

    backup = tmp_path / "backup"
    victim = run(script, backup, tmp_path / "never.safetensors", save_freq, slow=True)
    try:
        for _ in range(kill_after):  # 5 batches per epoch: killed in the middle of epoch 3
            assert victim.stdout.readline() == "batch\n"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert (backup / "training_state.lamina").exists()
    assert not (tmp_path / "never.safetensors").exists()

    resumed = run(script, backup, tmp_path / "resumed.safetensors", save_freq)
    output, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors
    # It went on from the backup (epoch 3 of 6, or batch 3 of epoch 3), not from scratch.
    assert "epochs run: 4" in output
    assert not backup.exists()  # deleted once training finished

    expected = uninterrupted
    got = load_file(tmp_path / "resumed.safetensors")
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert (got[key] == value).all(), f"{key} differs after resuming"
