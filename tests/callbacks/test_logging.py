"""CSVLogger, LambdaCallback, LearningRateScheduler against Keras 3.15's output."""

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


def tiny(lr=0.01):
    model = lamina.Sequential([Input((4,)), Dense(1)])
    model.compile(lamina.optimizers.SGD(learning_rate=lr), "mse")
    return model


def test_csv_logger_without_validation_matches_keras_layout(tmp_path):
    # Keras 3.15 wrote b'epoch,loss,val_loss\r\n0,1.2275639772415161,NA\r\n1,...,NA\r\n'
    path = tmp_path / "log.csv"
    model = tiny()
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    losses = history.history["loss"]
    assert path.read_bytes() == (
        f"epoch,loss,val_loss\r\n0,{losses[0]!r},NA\r\n1,{losses[1]!r},NA\r\n".encode()
    )
    # append: no second header, epochs restart at 0 as in Keras
    history = model.fit(
        X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path), append=True)]
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and len(lines) == 4
    assert lines[3] == f"0,{history.history['loss'][0]!r},NA"


def test_csv_logger_with_validation_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    model = tiny()
    history = model.fit(
        X,
        Y,
        epochs=2,
        verbose=0,
        validation_data=(X, Y),
        callbacks=[callbacks.CSVLogger(str(path), separator="\t")],
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch\tloss\tval_loss"
    h = history.history
    assert lines[1:] == [f"{e}\t{h['loss'][e]!r}\t{h['val_loss'][e]!r}" for e in range(2)]


def test_csv_logger_overwrites_and_empty_append_file_gets_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    tiny().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path), append=True)])
    assert path.read_text().splitlines()[0] == "epoch,loss,val_loss"
    tiny().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    assert len(path.read_text().splitlines()) == 2


def test_lambda_callback_hooks():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {'loss' in logs}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"),
        tag="mine",
    )
    assert cb.tag == "mine"
    tiny().fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0 True",
        "batch_begin 1",
        "batch_end 1 True",
        "epoch_end 0 ['loss']",
        "epoch_begin 1",
        "batch_begin 0",
        "batch_end 0 True",
        "batch_begin 1",
        "batch_end 1 True",
        "epoch_end 1 ['loss']",
        "train_end",
    ]


def test_learning_rate_scheduler_matches_keras():
    model = tiny(lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[sched])
    # Keras 3.15.1 (same program): the schedule gets and the logs hold the float32
    # variable's value
    assert out.getvalue() == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.05000000074505806.\n"
        "\nEpoch 2: LearningRateScheduler setting learning rate to 0.02500000037252903.\n"
        "\nEpoch 3: LearningRateScheduler setting learning rate to 0.012500000186264515.\n"
    )
    keras_rates = [0.05000000074505806, 0.02500000037252903, 0.012500000186264515]
    assert history.history["learning_rate"] == keras_rates
    assert model.optimizer.learning_rate == 0.0125  # Keras compares its variable in float32


def test_learning_rate_scheduler_epoch_only_schedule_and_errors():
    model = tiny(lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[sched])
    # Keras 3.15.1: [0.009999999776482582, 0.019999999552965164] (float32 values)
    assert history.history["learning_rate"] == [0.009999999776482582, 0.019999999552965164]
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: 1)  # Keras rejects ints too
    with pytest.raises(ValueError, match="should be a float"):
        tiny().fit(X, Y, epochs=1, verbose=0, callbacks=[bad])
    np_float = callbacks.LearningRateScheduler(lambda epoch, lr: np.float32(0.5))
    model = tiny()
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[np_float])
    assert model.optimizer.learning_rate == 0.5
