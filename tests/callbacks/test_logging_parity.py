"""With interactive logging off, lamina sends to the `logging` module (logger 'lamina', INFO)
the messages Keras 3.15.1 sends to absl logging, and prints nothing.

KERAS_RECORDS: the absl INFO records Keras 3.15.1 (torch backend) wrote for this program
with `keras.config.disable_interactive_logging()`: a Dense(1) on 3 inputs with weights W,
SGD(0.1), mse, metrics=["mae"], x = linspace(-1, 1, 24) as (8, 3), y = x.sum(1) / 2,
fit(batch_size=4, epochs=2, shuffle=False, verbose=2, callbacks=[EarlyStopping(monitor="loss",
patience=0, min_delta=10, verbose=1), ModelCheckpoint(path, save_weights_only=True,
verbose=1)]). Times per step are replaced by 'T/step'.
"""

import contextlib
import io
import logging
import re

import numpy as np
import pytest

import lamina
from lamina import config

X = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
Y = (X.sum(axis=1, keepdims=True) * 0.5).astype("float32")
W = [np.array([[0.1], [0.2], [-0.3]], "float32"), np.array([0.05], "float32")]

KERAS_RECORDS = [
    "Epoch 1/2",
    "\nEpoch 1: saving model to {path}",
    "\nEpoch 1: finished saving model to {path}",
    "2/2 - 0s - T/step - loss: 0.7607 - mae: 0.7785\n",
    "Epoch 2/2",
    "\nEpoch 2: saving model to {path}",
    "\nEpoch 2: finished saving model to {path}",
    "2/2 - 0s - T/step - loss: 0.2595 - mae: 0.4547\n",
    "Epoch 2: early stopping",
]


def model():
    net = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)], name="seq")
    net.compile(lamina.optimizers.SGD(0.1), "mse", metrics=["mae"])
    net.set_weights(W)
    return net


@pytest.fixture
def quiet(caplog):
    caplog.set_level(logging.INFO, logger="lamina")
    config.disable_interactive_logging()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        yield caplog, out
    config.enable_interactive_logging()


def messages(caplog):
    return [
        re.sub(r"\d+(us|ms|s)/step", "T/step", r.getMessage())
        for r in caplog.records
        if r.name == "lamina" and r.levelno == logging.INFO
    ]


def test_fit_callbacks_and_bar_log_keras_messages(quiet, tmp_path):
    caplog, out = quiet
    path = str(tmp_path / "m.weights.h5")
    callbacks = [
        lamina.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10, verbose=1),
        lamina.callbacks.ModelCheckpoint(path, save_weights_only=True, verbose=1),
    ]
    model().fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=2, callbacks=callbacks)
    assert messages(caplog) == [m.format(path=path) for m in KERAS_RECORDS]
    assert out.getvalue() == ""


def test_verbose_1_bar_logs_its_redraws_as_keras(quiet):
    caplog, out = quiet
    model().evaluate(X, Y, batch_size=4, verbose=1)
    last = messages(caplog)[-1]
    # Keras 3.15.1 logs the same text it would print: backspaces over the previous line, '\r'
    assert re.fullmatch(r"\x08+\r\x1b\[1m2/2\x1b\[0m .* - loss: 0\.8041 - mae: 0\.7826 *\n", last)
    assert out.getvalue() == ""


def test_summary_is_logged_with_its_newline(quiet):
    caplog, out = quiet
    net = model()
    net.summary()
    (record,) = messages(caplog)
    assert record.startswith('Model: "seq"') and record.endswith(
        " Non-trainable params: 0 (0.00 B)\n"
    )
    assert out.getvalue() == ""
    summary_lines = []
    net.summary(print_fn=summary_lines.append)  # a print_fn is called as it is
    assert summary_lines and messages(caplog) == [record]


def test_utils_progbar_logs_when_interactive_logging_is_off(quiet):
    caplog, out = quiet
    lamina.utils.Progbar(2, verbose=2).update(2, [("a", 1.0)])
    assert messages(caplog) == ["2/2 - 0s - T/step - a: 1.0000\n"]
    assert out.getvalue() == ""


def test_reduce_lr_message_goes_through_print_msg(quiet):
    caplog, _ = quiet
    reduce = lamina.callbacks.ReduceLROnPlateau(
        monitor="loss", patience=0, min_delta=10, factor=0.5, verbose=1
    )
    model().fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[reduce])
    # Keras 3.15.1 (SGD(0.3), same schedule of reductions) printed
    # "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.15000000596046448."
    assert messages(caplog) == [
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05000000074505806."
    ]
