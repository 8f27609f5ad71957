"""BackupAndRestore: Keras' behaviour (epochs left after an interruption), exact resume in
process, callback state, double checkpoints and errors. The SIGKILL test is in tests/saving."""

import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks, layers

X = np.random.RandomState(0).rand(40, 6).astype("float32")
Y = np.random.RandomState(1).randint(0, 3, 40)


def model():
    lamina.utils.set_random_seed(0)
    net = lamina.Sequential(
        [
            lamina.Input((6,)),
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.5, seed=7),
            layers.Dense(3, activation="softmax"),
        ]
    )
    net.compile(lamina.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    return net


class Interrupt(callbacks.Callback):
    def __init__(self, epoch=None, batches=None):
        super().__init__()
        self.epoch, self.batches, self.seen = epoch, batches, 0

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("Interrupting!")

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            raise RuntimeError("Interrupting!")


def fit(net, epochs=6, extra=(), **kwargs):
    return net.fit(X, Y, epochs=epochs, batch_size=8, verbose=0, callbacks=list(extra), **kwargs)


def test_keras_docstring_example_runs_the_remaining_epochs(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    net = model()
    with pytest.raises(RuntimeError, match="Interrupting"):
        fit(net, 10, [backup, Interrupt(epoch=4)])
    history = fit(net, 10, [backup])
    assert len(history.history["loss"]) == 6
    assert history.epoch == [4, 5, 6, 7, 8, 9]
    assert not (tmp_path / "backup").exists()


@pytest.mark.parametrize(("save_freq", "batches"), [("epoch", 13), (1, 13), (4, 22)])
def test_resume_in_process_is_bit_identical(tmp_path, save_freq, batches):
    straight = model()
    expected = fit(straight).history
    net = model()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)
    with pytest.raises(RuntimeError):
        fit(net, extra=[backup, Interrupt(batches=batches)])
    net = model()  # a fresh process would build the model again
    got = fit(net, extra=[callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)])
    for key, value in straight.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    assert got.history["loss"] == expected["loss"][-len(got.history["loss"]) :]


def test_other_callbacks_state_is_restored(tmp_path):
    net = model()
    stopper = callbacks.EarlyStopping("loss", patience=100, restore_best_weights=True)
    with pytest.raises(RuntimeError):
        fit(net, extra=[callbacks.BackupAndRestore(tmp_path), stopper, Interrupt(epoch=3)])
    saved = (stopper.best, stopper.best_epoch, stopper.wait)
    best_weights = [w.copy() for w in stopper.best_weights]
    fresh = callbacks.EarlyStopping("loss", patience=100, restore_best_weights=True)

    class Check(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                assert (fresh.best, fresh.best_epoch, fresh.wait) == saved
                for a, b in zip(fresh.best_weights, best_weights, strict=True):
                    np.testing.assert_array_equal(a, b)

    fit(model(), extra=[fresh, callbacks.BackupAndRestore(tmp_path), Check()])


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    net = model()
    backup = callbacks.BackupAndRestore(tmp_path, double_checkpoint=True, delete_checkpoint=False)
    with pytest.raises(RuntimeError):
        fit(net, extra=[backup, Interrupt(epoch=3)])
    latest = tmp_path / "training_state.lamina"
    assert (tmp_path / "training_state.lamina.bkp").exists()
    latest.write_bytes(latest.read_bytes()[:100])  # the latest backup got damaged
    history = fit(model(), extra=[backup])
    assert history.epoch == [2, 3, 4, 5]  # resumed from the previous backup (after epoch 2)
    single = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    latest.write_bytes(latest.read_bytes()[:100])
    with pytest.raises(ValueError, match="training_state.lamina"):
        fit(model(), extra=[single])


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    net = model()
    with pytest.raises(RuntimeError):
        fit(net, extra=[callbacks.BackupAndRestore(tmp_path), Interrupt(epoch=1)])
    other = lamina.Sequential([lamina.Input((6,)), layers.Dense(3, activation="softmax")])
    other.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="different model"):
        fit(other, extra=[callbacks.BackupAndRestore(tmp_path)])
