"""EarlyStopping, ReduceLROnPlateau, TerminateOnNaN: Keras 3.15's outcomes as literals."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import lamina
from lamina import callbacks
from lamina.layers import Dense, Input

X = np.sin(np.arange(16 * 4).reshape(16, 4) * 0.3).astype("float32")
Y = np.cos(np.arange(16) * 0.5).reshape(16, 1).astype("float32")


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def tiny(lr=0.01, metrics=None):
    model = lamina.Sequential([Input((4,)), Dense(1)])
    model.compile(lamina.optimizers.SGD(learning_rate=lr), "mse", metrics=metrics)
    return model


def drive(cb, model, values, key="val_loss"):
    """Feed hand-made epoch logs, stopping as fit does; return the printed text."""
    cb.set_model(model)
    model.stop_training = False
    out = io.StringIO()
    with redirect_stdout(out):
        cb.on_train_begin()
        for epoch, value in enumerate(values):
            cb.on_epoch_end(epoch, {key: value})
            if model.stop_training:
                break
        cb.on_train_end()
    return out.getvalue()


SEQ = [0.5, 0.4, 0.41, 0.39, 0.395, 0.396, 0.397, 0.398]


# (kwargs, stopped_epoch, best, wait, printed) from Keras 3.15 on the same sequence
@pytest.mark.parametrize(
    "kwargs, stopped, best, wait, printed",
    [
        ({"patience": 2}, 5, 0.39, 2, ""),
        ({"patience": 2, "min_delta": 0.02, "verbose": 1}, 3, 0.4, 2, "Epoch 4: early stopping\n"),
        ({"patience": 1, "baseline": 0.3}, 2, 0.4, 3, ""),
        ({"patience": 0, "start_from_epoch": 3}, 4, 0.39, 1, ""),
        ({"patience": 0}, 2, 0.4, 1, ""),
    ],
)
def test_early_stopping_matches_keras(kwargs, stopped, best, wait, printed):
    cb = callbacks.EarlyStopping(monitor="val_loss", **kwargs)
    text = drive(cb, tiny(), SEQ)
    assert (cb.stopped_epoch, cb.best, cb.wait, text) == (stopped, best, wait, printed)


def test_early_stopping_max_mode_and_never_stopping():
    cb = callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=1)
    drive(cb, tiny(), [0.5, 0.6, 0.7], key="val_auc")
    assert (cb.stopped_epoch, cb.best, cb.wait) == (0, 0.7, 0)
    cb = callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=1)
    drive(cb, tiny(), [0.5, 0.4, 0.3], key="val_auc")
    assert (cb.stopped_epoch, cb.best) == (1, 0.5)


def test_auto_mode_direction():
    model = tiny(metrics=["mae", "accuracy"])
    model.fit(X, Y, epochs=1, verbose=0)
    for monitor, greater in [("val_loss", False), ("loss", False), ("val_mae", False)]:
        cb = callbacks.EarlyStopping(monitor=monitor)
        cb.set_model(model)
        cb._ensure_direction()
        assert cb._greater is greater
    cb = callbacks.EarlyStopping(monitor="val_accuracy")
    cb.set_model(model)
    cb._ensure_direction()
    assert cb._greater is True
    cb = callbacks.EarlyStopping(monitor="acc")  # not a log name: Keras raises too
    cb.set_model(model)
    with pytest.raises(ValueError, match="mode='max'"):
        cb._ensure_direction()


def test_unknown_mode_warns():
    with pytest.warns(UserWarning, match="mode 'bogus' is unknown"):
        cb = callbacks.EarlyStopping(mode="bogus")
    assert cb.mode == "auto"


def test_early_stopping_in_fit_stops_and_restores_best_weights():
    model = tiny(lr=0.01)
    seen = []

    class Fake(callbacks.Callback):  # a val_loss that gets worse after epoch 1
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [1.0, 0.5, 0.7, 0.8, 0.9, 1.0][epoch]
            seen.append([w.copy() for w in self.model.get_weights()])

    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(X, Y, epochs=6, verbose=0, callbacks=[Fake(), stop])
    assert len(history.history["loss"]) == 4
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert out.getvalue() == (
        "Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )
    for restored, best in zip(model.get_weights(), seen[1], strict=True):
        np.testing.assert_array_equal(restored, best)


def test_missing_monitor_warns_with_available_keys():
    model = tiny()
    stop = callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[stop])
    assert stop.stopped_epoch == 0


def test_reduce_lr_on_plateau_matches_keras():
    seq = [1.0] + [0.9] * 9
    model = tiny(lr=1.0)
    cb = callbacks.ReduceLROnPlateau(patience=2, factor=0.5, verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    out = io.StringIO()
    with redirect_stdout(out):
        for epoch, value in enumerate(seq):
            logs = {"val_loss": value}
            cb.on_epoch_end(epoch, logs)
            lrs.append(logs["learning_rate"])
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    assert out.getvalue() == (
        "\nEpoch 4: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 6: ReduceLROnPlateau reducing learning rate to 0.25.\n"
        "\nEpoch 8: ReduceLROnPlateau reducing learning rate to 0.125.\n"
        "\nEpoch 10: ReduceLROnPlateau reducing learning rate to 0.0625.\n"
    )
    assert model.optimizer.learning_rate == 0.0625


def test_reduce_lr_cooldown_and_min_lr_match_keras():
    model = tiny(lr=1.0)
    cb = callbacks.ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2, min_lr=0.2)
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    for epoch, value in enumerate([1.0] + [0.9] * 9):
        logs = {"val_loss": value}
        cb.on_epoch_end(epoch, logs)
        lrs.append(logs["learning_rate"])
    # Keras 3.15.1 (same program) logs its float32 variable's value
    keras_min = 0.20000000298023224
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, keras_min, keras_min, keras_min]


def test_reduce_lr_in_fit_logs_learning_rate():
    model = tiny(lr=0.5)
    cb = callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10.0)
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[cb])
    # epoch 0 sets `best`; each later epoch is no improvement (min_delta=10): halve
    assert history.history["learning_rate"] == [0.5, 0.5, 0.25]
    assert model.optimizer.learning_rate == 0.125


def test_reduce_lr_rejects_factor_ge_one():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_terminate_on_nan_stops_fit():
    model = tiny(lr=1e6)  # diverges to inf / nan within a few batches
    Xbig = X * 1e3
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(
            Xbig, Y, epochs=5, batch_size=2, verbose=0, callbacks=[callbacks.TerminateOnNaN()]
        )
    assert len(history.history["loss"]) == 1
    assert "Invalid loss, terminating training" in out.getvalue()
    assert model.stop_training


def test_terminate_on_nan_raise_error_and_finite_losses():
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(tiny())
    cb.on_train_batch_end(0, {"loss": 1.0})
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3"):
        cb.on_train_batch_end(3, {"loss": float("nan")})
