"""jit_compile=True: the steps go through torch.compile and give the eager results; the last,
smaller batch runs eagerly instead of recompiling; speed options never change results beyond
float tolerance."""

import logging

import numpy as np
import pytest
import torch

import lamina
from lamina import layers

RNG = np.random.RandomState(0)
X = RNG.rand(72, 10, 10, 2).astype("float32")  # 72 = 2 batches of 32 and one of 8
Y = RNG.randint(0, 3, 72)


def fit(jit_compile, policy="float32"):
    lamina.mixed_precision.set_global_policy(policy)
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((10, 10, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", dtype="float32"),
        ]
    )
    lamina.mixed_precision.set_global_policy(None)
    model.compile(
        lamina.optimizers.Adam(0.01),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    history = model.fit(X, Y, batch_size=32, epochs=3, verbose=0, validation_split=0.25)
    return model, history.history


@pytest.mark.slow
def test_compiled_steps_match_eager_and_skip_the_smaller_batch(caplog):
    _, eager = fit(False)
    with caplog.at_level(logging.DEBUG, logger="lamina.training"):
        model, compiled = fit(True)
    assert model._trainer._compiled_steps is not None
    for key in eager:
        np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-4, atol=1e-6)
    messages = [r.getMessage() for r in caplog.records if r.name == "lamina.training"]
    assert any("a batch of 22 samples runs eagerly" in m for m in messages)
    # predict goes through the compiled forward too (the last batch of 8 eagerly)
    expected = model(torch.from_numpy(X), training=False).detach().numpy()
    np.testing.assert_allclose(model.predict(X, batch_size=32, verbose=0), expected, atol=1e-5)


@pytest.mark.slow
def test_compiled_mixed_precision_follows_the_float32_eager_curve():
    _, reference = fit(False)
    _, fast = fit(True, "mixed_bfloat16")
    np.testing.assert_allclose(fast["loss"], reference["loss"], rtol=3e-2)
    np.testing.assert_allclose(fast["val_loss"], reference["val_loss"], rtol=3e-2)
