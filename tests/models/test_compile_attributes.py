"""Keras' model attributes set by compile(): run_eagerly, jit_compile, steps_per_execution.
Reference values printed by Keras 3.15.1 (torch backend)."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import layers


def _model() -> lamina.Sequential:
    return lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])


def test_compile_sets_keras_attributes_and_config_keys():
    model = _model()
    assert (model.run_eagerly, model.jit_compile, model.steps_per_execution) == (False, False, 1)
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    assert (model.run_eagerly, model.steps_per_execution, model.jit_compile) == (True, 1, False)
    config = model.get_compile_config()
    assert sorted(config) == [
        "jit_compile",
        "loss",
        "loss_weights",
        "metrics",
        "optimizer",
        "run_eagerly",
        "steps_per_execution",
        "weighted_metrics",
    ]
    assert (config["run_eagerly"], config["jit_compile"]) == (True, False)  # 'auto' -> False


def test_run_eagerly_turns_jit_compile_off_with_keras_warning():
    model = _model()
    model.compile("sgd", "mse", jit_compile=True)
    assert (model.run_eagerly, model.jit_compile) == (False, True)
    with pytest.warns(UserWarning, match="Disabling `jit_compile`"):
        model.run_eagerly = True
    assert (model.run_eagerly, model.jit_compile) == (True, False)
    history = model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), verbose=0)
    assert model._trainer._compiled_steps is None and len(history.history["loss"]) == 1


def test_attributes_set_before_compile_are_kept_until_compile():
    model = _model()
    model.run_eagerly = True
    assert model.run_eagerly is True
    model.compile("sgd", "mse")
    assert model.run_eagerly is False  # compile() sets it again, as in Keras
    with pytest.raises(ValueError, match="jit_compile must be"):
        model.jit_compile = "yes"
