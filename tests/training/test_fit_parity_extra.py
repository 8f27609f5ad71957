"""fit / evaluate / predict output, logs and flags against Keras 3.15.1 (torch backend).

The KERAS_* values are what Keras 3.15.1 printed or returned for the same programs: a
Dense(1) on 3 inputs with weights W, SGD(0.1), mse, metrics=["mae"], x = linspace(-1, 1, 24)
as (8, 3), y = x.sum(1) / 2, batch_size=4, shuffle=False, epochs=2, stdout redirected (not a
terminal, on Linux). Times per step are replaced by 'T/step' and runs of backspaces by '<BS>'.
"""

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import config, ops

X = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
Y = (X.sum(axis=1, keepdims=True) * 0.5).astype("float32")
W = [np.array([[0.1], [0.2], [-0.3]], "float32"), np.array([0.05], "float32")]


def _bar(count, filled):
    head = f"\r\x1b[1m{count}\x1b[0m \x1b[32m{'━' * filled}\x1b[0m\x1b[37m{'━' * (20 - filled)}"
    return head + "\x1b[0m \x1b[1m0s\x1b[0m T/step"


KERAS_FIT_V1 = (
    "Epoch 1/2\n"
    + _bar("1/2", 10)
    + " - loss: 0.8279 - mae: 0.7978<BS>"
    + _bar("2/2", 20)
    + " - loss: 0.7607 - mae: 0.7785 - val_loss: 0.2743 - val_mae: 0.4571\n"
    + "Epoch 2/2\n"
    + _bar("1/2", 10)
    + " - loss: 0.2810 - mae: 0.4645<BS>"
    + _bar("2/2", 20)
    + " - loss: 0.2595 - mae: 0.4547 - val_loss: 0.0936 - val_mae: 0.2670\n"
)
KERAS_EVALUATE_V1 = (
    _bar("1/2", 10)
    + " - loss: 0.8279 - mae: 0.7978<BS>"
    + _bar("2/2", 20)
    + " - loss: 0.8041 - mae: 0.7826\n"
)
KERAS_PREDICT_V1 = _bar("1/2", 10) + "<BS>" + _bar("2/2", 20) + "\n"
KERAS_HISTORY = {
    "loss": [0.7606844902038574, 0.25949013233184814],
    "mae": [0.7784725427627563, 0.4546724557876587],
    "val_loss": [0.2743109464645386, 0.09357717633247375],
    "val_mae": [0.4571187496185303, 0.2669984996318817],
}


class CompiledMetricsStep(lamina.Sequential):
    """A train_step returning `{m.name: m.result() for m in self.metrics}` (Keras' guide)."""

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        self.zero_grad()
        loss.backward()
        variables = self.trainable_weights
        self.optimizer.apply([v.grad for v in variables], variables)
        # no_grad: lamina's metrics keep the graph of values that require grad (a metrics
        # bug, reported separately; Keras' do not), which this test is not about
        with torch.no_grad():
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}


class MaeThenLossStep(lamina.Sequential):
    """A train_step returning {"mae": ..., "loss": ...} with no compiled metrics."""

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = ops.mean((y - y_pred) ** 2)
        self.zero_grad()
        loss.backward()
        variables = self.trainable_weights
        self.optimizer.apply([v.grad for v in variables], variables)
        return {"mae": ops.mean(ops.abs(y - y_pred)), "loss": loss}


def model(cls=lamina.Sequential, metrics=("mae",)):
    net = cls([lamina.Input((3,)), lamina.layers.Dense(1)])
    net.compile(lamina.optimizers.SGD(0.1), "mse", metrics=list(metrics) or None)
    net.set_weights(W)
    return net


def normalized(text):
    text = re.sub(r"\d+(us|ms|s)/step", "T/step", text)
    text = re.sub(r"\x08+", "<BS>", text)
    return re.sub(r" +(\n|<BS>|$)", r"\1", text)  # padding over a longer previous line


def printed(call, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = call(*args, **kwargs)
    return normalized(out.getvalue()), result


@pytest.fixture
def slow_clock_free_bar(monkeypatch):
    """Every batch draws a line only when 50 ms passed; these steps are faster, so the
    lines Keras drew are the first and last batch's: keep it so on a loaded machine."""
    import lamina.utils.progbar as progbar

    ticks = iter(100.0 + 0.001 * i for i in range(100000))
    monkeypatch.setattr(progbar, "time", type("Clock", (), {"time": lambda: next(ticks)}))


def test_verbose_1_to_a_file_prints_keras_redraws_and_colours(slow_clock_free_bar):
    text, history = printed(
        model().fit, X, Y, batch_size=4, epochs=2, shuffle=False, verbose=1, validation_data=(X, Y)
    )
    assert text == KERAS_FIT_V1
    np.testing.assert_allclose(history.history["loss"], KERAS_HISTORY["loss"], rtol=1e-5)


def test_verbose_1_evaluate_and_predict_print_keras_bars(slow_clock_free_bar):
    net = model()
    assert printed(net.evaluate, X, Y, batch_size=4, verbose=1)[0] == KERAS_EVALUATE_V1
    assert printed(net.predict, X, batch_size=4, verbose=1)[0] == KERAS_PREDICT_V1


def test_verbose_2_prints_one_line_per_epoch_in_keras_order():
    text, history = printed(
        model().fit, X, Y, batch_size=4, epochs=2, shuffle=False, verbose=2, validation_data=(X, Y)
    )
    assert text == (
        "Epoch 1/2\n2/2 - 0s - T/step - loss: 0.7607 - mae: 0.7785 - val_loss: 0.2743"
        " - val_mae: 0.4571\nEpoch 2/2\n2/2 - 0s - T/step - loss: 0.2595 - mae: 0.4547"
        " - val_loss: 0.0936 - val_mae: 0.2670\n"
    )
    assert list(history.history) == list(KERAS_HISTORY)
    for key, values in KERAS_HISTORY.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5)


def test_custom_step_returning_compiled_metrics_logs_them_in_keras_order():
    # Keras sorts the step's logs and flattens the 'compile_metrics' dict where its name
    # sorts: mae before loss (validation logs come after).
    text, history = printed(
        model(CompiledMetricsStep).fit,
        X,
        Y,
        batch_size=4,
        epochs=2,
        shuffle=False,
        verbose=2,
        validation_data=(X, Y),
    )
    assert text == (
        "Epoch 1/2\n2/2 - 0s - T/step - mae: 0.7785 - loss: 0.7607 - val_loss: 0.2743"
        " - val_mae: 0.4571\nEpoch 2/2\n2/2 - 0s - T/step - mae: 0.4547 - loss: 0.2595"
        " - val_loss: 0.0936 - val_mae: 0.2670\n"
    )
    assert list(history.history) == ["mae", "loss", "val_loss", "val_mae"]


class NestedLogsStep(MaeThenLossStep):
    def train_step(self, data):
        logs = super().train_step(data)
        return {"loss": logs["loss"], "zz": {"mae": logs["mae"]}, "acc": logs["loss"] * 0 + 1}


def test_custom_step_nested_logs_are_flattened_where_their_name_sorts():
    net = model(NestedLogsStep, metrics=())
    text, history = printed(net.fit, X, Y, batch_size=4, epochs=1, shuffle=False, verbose=2)
    # Keras 3.15.1: sorted names, 'zz''s dict flattened last
    assert text == "2/2 - 0s - T/step - acc: 1.0000 - loss: 0.6934 - mae: 0.7591\n"
    assert list(history.history) == ["acc", "loss", "mae"]


def test_custom_step_returning_mae_then_loss_logs_loss_first():
    text, history = printed(
        model(MaeThenLossStep, metrics=()).fit,
        X,
        Y,
        batch_size=4,
        epochs=2,
        shuffle=False,
        verbose=2,
    )
    assert text == (  # Keras 3.15.1
        "Epoch 1/2\n2/2 - 0s - T/step - loss: 0.6934 - mae: 0.7591\n"
        "Epoch 2/2\n2/2 - 0s - T/step - loss: 0.2379 - mae: 0.4449\n"
    )
    assert list(history.history) == ["loss", "mae"]
    np.testing.assert_allclose(history.history["mae"], [0.759118914604187, 0.4448673129081726])


def test_history_params_have_keras_keys():
    history = model().fit(X, Y, batch_size=4, epochs=2, verbose=0, steps_per_epoch=1)
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 1}


def test_history_params_keep_verbose_auto_as_keras():
    with contextlib.redirect_stdout(io.StringIO()):
        history = model().fit(X, Y, batch_size=4, epochs=2)
    assert history.params == {"verbose": "auto", "epochs": 2, "steps": 2}  # Keras 3.15.1


@pytest.fixture
def caps():
    config.set_max_epochs(2)
    config.set_max_steps_per_epoch(1)
    yield
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)


class Counter(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test, self.predict = [], 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.train.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.train[-1] += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1

    def on_predict_batch_end(self, batch, logs=None):
        self.predict += 1


def test_max_epochs_and_steps_cap_fit_with_keras_warnings(caps):
    counter = Counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model().fit(
            X, Y, batch_size=4, epochs=5, verbose=0, callbacks=[counter], validation_data=(X, Y)
        )
    # Keras 3.15.1 (max_steps_per_epoch=3 on 4 batches of 4): 'Limiting epochs to 2', then
    # 'Limiting steps_per_epoch to 3' for the training and for the validation data.
    assert [str(w.message) for w in caught] == [
        "Limiting epochs to 2",
        "Limiting steps_per_epoch to 1",
        "Limiting steps_per_epoch to 1",
    ]
    assert all(w.category is UserWarning for w in caught)
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 1}
    assert counter.train == [1, 1] and counter.test == 2


def test_caps_leave_smaller_counts_alone(caps):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model().fit(X, Y, batch_size=4, epochs=1, steps_per_epoch=1, verbose=0)
    assert history.params["steps"] == 1 and len(history.epoch) == 1


def test_max_steps_caps_evaluate_and_predict(caps):
    counter = Counter()
    net = model()
    with pytest.warns(UserWarning, match="^Limiting steps_per_epoch to 1$"):
        net.evaluate(X, Y, batch_size=4, verbose=0, callbacks=[counter])
    with pytest.warns(UserWarning, match="^Limiting steps_per_epoch to 1$"):
        outputs = net.predict(X, batch_size=4, verbose=0, callbacks=[counter])
    assert counter.test == 1 and counter.predict == 1 and outputs.shape == (4, 1)


def test_reduce_lr_logs_the_float32_rate_and_the_bar_prints_it_last():
    reduce = lamina.callbacks.ReduceLROnPlateau(
        monitor="loss", patience=0, min_delta=10, factor=0.5
    )
    text, history = printed(
        model().fit, X, Y, batch_size=4, epochs=2, shuffle=False, verbose=2, callbacks=[reduce]
    )
    assert text == (  # Keras 3.15.1
        "Epoch 1/2\n2/2 - 0s - T/step - loss: 0.7607 - mae: 0.7785 - learning_rate: 0.1000\n"
        "Epoch 2/2\n2/2 - 0s - T/step - loss: 0.2595 - mae: 0.4547 - learning_rate: 0.1000\n"
    )
    assert history.history["learning_rate"] == [0.10000000149011612, 0.10000000149011612]


def test_logged_rate_is_keras_float32_but_updates_use_the_rate_set():
    net = model(metrics=())
    assert float(net.optimizer.learning_rate) == 0.10000000149011612  # Keras 3.15.1
    assert net.optimizer.learning_rate == 0.1  # Keras compares its variable in float32
    kernel = torch.tensor([[1.0]], dtype=torch.float64)
    sgd = lamina.optimizers.SGD(0.1)
    sgd.apply([torch.ones_like(kernel)], [kernel])
    assert kernel.item() == 1.0 - 0.1  # the exact rate, not 0.10000000149011612
