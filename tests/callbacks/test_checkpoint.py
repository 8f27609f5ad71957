"""ModelCheckpoint (weights only): file names, best-only, save_freq, messages."""

import io
import os
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


def tiny():
    model = lamina.Sequential([Input((4,)), Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_every_epoch_with_templated_names(tmp_path):
    model = tiny()
    path = str(tmp_path / "sub" / "ckpt-{epoch:02d}-{val_loss:.2f}.weights.safetensors")
    ckpt = callbacks.ModelCheckpoint(path, save_weights_only=True)
    history = model.fit(X, Y, epochs=3, verbose=0, validation_data=(X, Y), callbacks=[ckpt])
    expected = sorted(
        f"ckpt-{e + 1:02d}-{v:.2f}.weights.safetensors"
        for e, v in enumerate(history.history["val_loss"])
    )
    assert sorted(os.listdir(tmp_path / "sub")) == expected
    assert expected[-1].startswith("ckpt-03-")
    other = tiny()
    other.load_weights(str(tmp_path / "sub" / expected[-1]))
    for a, b in zip(other.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_save_best_only_messages_match_keras(tmp_path):
    model = tiny()
    path = str(tmp_path / "best.weights.safetensors")
    ckpt = callbacks.ModelCheckpoint(
        path, monitor="val_loss", save_best_only=True, save_weights_only=True, verbose=1
    )
    ckpt.set_model(model)
    model.fit(X, Y, epochs=1, verbose=0)  # builds the model
    out = io.StringIO()
    with redirect_stdout(out):
        ckpt.on_train_begin()
        for epoch, value in enumerate([0.5, 0.6, 0.4]):
            ckpt.on_epoch_begin(epoch)
            ckpt.on_epoch_end(epoch, {"loss": 1.0, "val_loss": value})
    assert out.getvalue() == (
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.50000\n"
        f"\nEpoch 3: val_loss improved from 0.50000 to 0.40000, saving model to {path}\n"
        f"\nEpoch 3: finished saving model to {path}\n"
    )
    assert ckpt.best == 0.4 and os.path.exists(path)


def test_initial_value_threshold_and_max_mode(tmp_path):
    model = tiny()
    model.fit(X, Y, epochs=1, verbose=0)
    path = str(tmp_path / "e{epoch}.safetensors")
    ckpt = callbacks.ModelCheckpoint(
        path,
        monitor="val_acc",
        mode="max",
        save_best_only=True,
        save_weights_only=True,
        initial_value_threshold=0.7,
    )
    ckpt.set_model(model)
    for epoch, value in enumerate([0.6, 0.8, 0.75, 0.9]):
        ckpt.on_epoch_end(epoch, {"val_acc": value})
    assert sorted(os.listdir(tmp_path)) == ["e2.safetensors", "e4.safetensors"]


def test_missing_monitor_warns_and_saves(tmp_path):
    model = tiny()
    path = str(tmp_path / "w.safetensors")
    ckpt = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ckpt])
    assert os.path.exists(path)


def test_save_freq_in_batches(tmp_path):
    model = tiny()
    path = str(tmp_path / "e{epoch}-b{batch}-{loss:.1f}.safetensors")
    ckpt = callbacks.ModelCheckpoint(path, save_weights_only=True, save_freq=3)
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[ckpt])  # 4 batches/epoch
    names = sorted(n.split("-")[0] + "-" + n.split("-")[1] for n in os.listdir(tmp_path))
    # batches seen: 3 -> e1 b3; 6 -> e2 b2 (counting carries over epochs, as Keras does)
    assert names == ["e1-b3", "e2-b2"]


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="must end in `.lamina`"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="must end in `.safetensors`"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(
            str(tmp_path / "w.safetensors"), save_weights_only=True, save_freq="batch"
        )
    model = tiny()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "{nope}.safetensors"), save_weights_only=True)
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ckpt])


def test_full_model_checkpoints_load_and_keep_training(tmp_path):
    model = tiny()
    path = str(tmp_path / "model-{epoch:02d}.lamina")
    ckpt = callbacks.ModelCheckpoint(path, save_best_only=False)
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[ckpt])
    assert sorted(os.listdir(tmp_path)) == ["model-01.lamina", "model-02.lamina"]
    restored = lamina.models.load_model(str(tmp_path / "model-02.lamina"))
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))
    assert restored.optimizer.iterations == model.optimizer.iterations == 8
    before = model.evaluate(X, Y, verbose=0)
    assert restored.evaluate(X, Y, verbose=0) == pytest.approx(before, rel=1e-6)


def test_keras_weights_file_name_is_accepted(tmp_path):
    """Keras 3 asks for '.weights.h5'; lamina writes its safetensors data under that name."""
    model = tiny()
    path = str(tmp_path / "best.weights.h5")
    ckpt = callbacks.ModelCheckpoint(path, save_weights_only=True)
    model.fit(X, Y, epochs=1, batch_size=4, verbose=0, callbacks=[ckpt])
    other = tiny()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
