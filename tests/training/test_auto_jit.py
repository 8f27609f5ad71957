"""jit_compile='auto' (the default): eager unless the rest of the run is long enough, then a
timed trial of the compiled train step that keeps the faster of the two
(lamina.training.auto_jit)."""

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.training import auto_jit
from lamina.training import steps as steps_module

RNG = np.random.RandomState(0)
X = RNG.rand(160, 8, 8, 2).astype("float32")  # 10 batches of 16
Y = RNG.randint(0, 3, 160)


def make_model(pooling=layers.GlobalAveragePooling2D, **compile_options):
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((8, 8, 2)),
            layers.Conv2D(4, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            pooling(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        lamina.optimizers.Adam(0.01),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **compile_options,
    )
    return model


def train(model, epochs=3):
    return model.fit(X, Y, batch_size=16, epochs=epochs, verbose=0, shuffle=False).history


def messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "lamina.training"]


@pytest.fixture
def quick(monkeypatch):
    """Short timing windows, and a trial for any run length."""
    monkeypatch.setattr(auto_jit, "WINDOW", 3)
    monkeypatch.setattr(auto_jit, "SETTLE", 1)
    monkeypatch.setenv("LAMINA_AUTO_JIT_SECONDS", "0")


@pytest.fixture
def fake_compile(monkeypatch):
    """'Compiling' returns the eager train forward itself; counts the calls."""
    calls = []

    def compile_step(step, options, device):
        calls.append(step)
        return step

    monkeypatch.setattr(steps_module, "compile_step", compile_step)
    return calls


def test_a_short_run_stays_eager_as_in_keras(caplog):
    model = make_model()
    with caplog.at_level(logging.INFO, logger="lamina.training"):
        train(model, epochs=2)
    trainer = model._trainer
    assert trainer._compiled_steps is None and trainer.auto_jit.verdict is None
    assert model.jit_compile is False  # Keras resolves 'auto' to eager on torch
    assert any("jit_compile='auto' runs eagerly" in m for m in messages(caplog))


@pytest.mark.slow
def test_a_long_run_compiles_when_faster_with_the_eager_results(quick, monkeypatch, caplog):
    monkeypatch.setattr(auto_jit, "KEEP_RATIO", 1e9)  # whatever the timing, keep it
    eager = train(make_model(jit_compile=False))
    model = make_model()
    with caplog.at_level(logging.INFO, logger="lamina.training"):
        auto = train(model)
    trainer = model._trainer
    assert trainer.auto_jit.verdict == "compiled"
    assert trainer._compiled_steps is not None and trainer._compiled_steps[1:] == (None, None)
    assert trainer.auto_jit.compile_seconds > 0 and trainer.auto_jit.compiled_step > 0
    assert any("trying torch.compile" in m for m in messages(caplog))
    assert any("compiled from now on" in m for m in messages(caplog))
    for key in eager:  # eager first epoch, then compiled steps: the same curve
        np.testing.assert_allclose(auto[key], eager[key], rtol=1e-4, atol=1e-6)
    compiled = trainer._compiled_steps
    train(model, epochs=1)  # the verdict holds: no new trial, the same compiled step
    assert trainer._compiled_steps is compiled
    model.jit_compile = "auto"  # setting it forgets the verdict, as compile() would
    assert trainer.auto_jit.verdict is None and trainer._compiled_steps is None


def test_a_slower_compiled_step_is_dropped(quick, fake_compile, monkeypatch, caplog):
    monkeypatch.setattr(auto_jit, "KEEP_RATIO", 0.0)  # no compiled step is fast enough
    model = make_model()
    with caplog.at_level(logging.INFO, logger="lamina.training"):
        history = train(model)
    trainer = model._trainer
    assert len(fake_compile) == 1
    assert trainer.auto_jit.verdict == "eager" and trainer._compiled_steps is None
    assert any("eager from now on" in m for m in messages(caplog))
    assert np.all(np.isfinite(history["loss"]))
    train(model, epochs=2)  # decided: never tried again
    assert len(fake_compile) == 1


def test_a_step_that_fails_to_compile_trains_eagerly(quick, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("inductor: no working C++ compiler")

    monkeypatch.setattr(steps_module, "compile_step", lambda step, options, device: broken)
    eager = train(make_model(jit_compile=False))
    model = make_model()
    with caplog.at_level(logging.WARNING, logger="lamina.training"):
        auto = train(model)
    assert model._trainer.auto_jit.verdict == "eager"
    assert model._trainer._compiled_steps is None
    warning = [m for m in messages(caplog) if "did not compile" in m]
    assert warning and "RuntimeError: inductor: no working C++ compiler" in warning[0]
    for key in eager:  # the failed step ran eagerly: nothing lost, nothing counted twice
        np.testing.assert_allclose(auto[key], eager[key], rtol=1e-6)


def test_an_error_of_a_decided_compiled_step_is_raised(quick, fake_compile, monkeypatch):
    monkeypatch.setattr(auto_jit, "KEEP_RATIO", 1e9)
    model = make_model()
    train(model)
    assert model._trainer.auto_jit.verdict == "compiled"

    def broken(*args):
        raise RuntimeError("a user's error")

    model._trainer._compiled_steps = (broken, None, None)
    with pytest.raises(RuntimeError, match="a user's error"):
        train(model, epochs=1)


@pytest.mark.parametrize("case", ["max pooling", "own train_step", "jit_compile=False"])
def test_not_tried_where_it_does_not_apply(quick, fake_compile, case):
    if case == "max pooling":  # on the CPU inductor's max-pooling backward is slower
        model = make_model(layers.MaxPooling2D)
    elif case == "jit_compile=False":
        model = make_model(jit_compile=False)
    else:

        class Own(lamina.Model):
            def train_step(self, data):
                return super().train_step(data)

        inputs = lamina.Input((8, 8, 2))
        model = Own(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(inputs)))
        model.compile("adam", "sparse_categorical_crossentropy")
    train(model)
    assert fake_compile == [] and model._trainer._compiled_steps is None


def test_the_recurrent_layers_are_not_tried_on_the_cpu(quick, fake_compile):
    model = lamina.Sequential([lamina.Input((5, 3)), layers.LSTM(4), layers.Dense(3)])
    model.compile("adam", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(RNG.rand(64, 5, 3), RNG.randint(0, 3, 64), batch_size=8, epochs=2, verbose=0)
    assert fake_compile == []


# ---------------------------------------------------------------------- the state machine


class FakeSteps:
    """A `StepFunctions` stand-in: records compile/drop calls."""

    def __init__(self):
        self.device = torch.device("cpu")
        self.state = SimpleNamespace(jit_compile="auto", cuda_graphs=False)
        self.model = lamina.Sequential([layers.Dense(2)])
        self._compiled_steps = None
        self.calls = []

    def compile_train_step(self):
        self.calls.append("compile")
        self._compiled_steps = ("step", None, None)

    def drop_compiled_steps(self):
        self.calls.append("drop")
        self._compiled_steps = None


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run_epoch(auto, clock, durations, size=16):
    for duration in durations:
        auto.tick(torch.zeros(size, 1))
        clock.now += duration


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(auto_jit.time, "perf_counter", clock)
    monkeypatch.setattr(auto_jit, "WINDOW", 3)
    monkeypatch.setattr(auto_jit, "SETTLE", 1)
    monkeypatch.setenv("LAMINA_AUTO_JIT_SECONDS", "100")
    return clock


def test_the_trial_starts_when_the_eager_time_left_reaches_the_threshold(clock):
    steps = FakeSteps()
    auto = auto_jit.AutoJit(steps)
    auto.epoch_begin(epochs_left=10, steps_per_epoch=20)  # 200 steps
    # the first step (left out), then 3 timed ones: median 1.0 s, 195 steps (195 s) left;
    # the fifth step is the first compiled one (it compiles: 30 s)
    run_epoch(auto, clock, [5.0, 0.9, 1.0, 1.2, 30.0])
    assert auto.eager_step == pytest.approx(1.0) and steps.calls == ["compile"]
    assert auto.trying
    # one settling step, then 3 timed compiled steps
    run_epoch(auto, clock, [0.8, 0.5, 0.6, 0.7, 0.1])
    assert auto.compile_seconds == pytest.approx(30.0)
    assert auto.compiled_step == pytest.approx(0.6)
    assert auto.verdict == "compiled" and steps.calls == ["compile"]


def test_no_trial_when_the_run_is_too_short_and_smaller_batches_are_not_timed(clock):
    steps = FakeSteps()
    auto = auto_jit.AutoJit(steps)
    auto.epoch_begin(epochs_left=2, steps_per_epoch=20)  # 40 steps of 1 s: 36 s left
    run_epoch(auto, clock, [5.0, 1.0])
    run_epoch(auto, clock, [9.0], size=4)  # a smaller batch: its time is not counted
    run_epoch(auto, clock, [1.0, 1.0, 1.0])
    assert auto.eager_step == pytest.approx(1.0)
    assert steps.calls == [] and auto.verdict is None and not auto.trying
    auto.fit_end()
    auto.epoch_begin(epochs_left=200, steps_per_epoch=20)  # a later, long fit measures anew
    run_epoch(auto, clock, [5.0, 1.0, 1.0, 1.0, 1.0])
    assert steps.calls == ["compile"]


def test_an_epoch_of_unknown_length_decides_at_the_next_epoch(clock):
    steps = FakeSteps()
    auto = auto_jit.AutoJit(steps)
    auto.epoch_begin(epochs_left=50, steps_per_epoch=None)
    run_epoch(auto, clock, [5.0, 1.0, 1.0, 1.0, 1.0, 1.0])  # measured, length unknown
    assert steps.calls == []
    auto.epoch_begin(epochs_left=49, steps_per_epoch=None)  # 6 steps per epoch: 294 s left
    assert steps.calls == ["compile"]
    run_epoch(auto, clock, [40.0, 2.0, 2.0, 2.0, 2.0, 2.0])  # slower compiled: dropped
    assert auto.verdict == "eager" and steps.calls == ["compile", "drop"]


def test_the_threshold_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LAMINA_AUTO_JIT_SECONDS", "12.5")
    assert auto_jit.AutoJit.threshold_seconds() == 12.5
    monkeypatch.setenv("LAMINA_AUTO_JIT_SECONDS", "ten")
    with pytest.raises(ValueError, match="LAMINA_AUTO_JIT_SECONDS must be a number"):
        auto_jit.AutoJit.threshold_seconds()
    monkeypatch.delenv("LAMINA_AUTO_JIT_SECONDS")
    assert auto_jit.AutoJit.threshold_seconds() == 600.0
