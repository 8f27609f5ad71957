"""SwapEMAWeights: evaluation with the optimizer's EMA weights, against Keras 3.15.1."""

import numpy as np
import pytest
import torch

import lamina
from lamina.callbacks.callback import Callback
from lamina.callbacks.ema import SwapEMAWeights
from lamina.layers import Dense, Input

# From Keras 3.15.1 (torch backend): Dense(1) on the arrays below (np.random.default_rng(0),
# drawn in this order), SGD(0.1, use_ema=True, ema_momentum=0.5), fit(batch_size=4,
# epochs=3, shuffle=False, validation_data=(xv, yv)).
KERAS_LOSS = [6.1359501, 1.7863985, 0.7972983]
KERAS_VAL_LOSS_WITH_SWAP = [0.488978, 0.0376763, 0.3348925]  # the same with swap_on_epoch
KERAS_VAL_LOSS_WITHOUT_CALLBACK = [0.1243495, 0.1747067, 0.6660249]
KERAS_FINAL_WEIGHTS = [0.2086103, 0.5195577, 0.3254139, 0.0007581]  # kernel then bias
# After fit(epochs=1) then train_on_batch(x, y): the raw weights and their EMA, and
# evaluate(xv, yv) with and without the callback.
KERAS_RAW = [0.69990903, 0.78458977, 0.36102644, 0.05830121]
KERAS_EMA = [0.8856095, 0.867939, 0.37909108, 0.06482146]
KERAS_EVALUATE_WITH_SWAP = 0.22297602891921997
KERAS_EVALUATE_PLAIN = 0.07532573491334915


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def arrays():
    rng = np.random.default_rng(0)
    shapes = [(8, 3), (8, 1), (4, 3), (4, 1), (3, 1)]
    return [rng.normal(size=s).astype("float32") for s in shapes]


def make_model(use_ema=True):
    *_, kernel = arrays()
    model = lamina.Sequential([Input((3,)), Dense(1)])
    model.set_weights([kernel, np.array([0.1], "float32")])
    optimizer = lamina.optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=0.5)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def flat_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_validation_uses_ema_weights_as_keras(swap_on_epoch):
    x, y, xv, yv, _ = arrays()
    model = make_model()
    history = model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        shuffle=False,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[SwapEMAWeights(swap_on_epoch=swap_on_epoch)],
    )
    close(history.history["loss"], KERAS_LOSS)
    close(history.history["val_loss"], KERAS_VAL_LOSS_WITH_SWAP)
    close(flat_weights(model), KERAS_FINAL_WEIGHTS)


def test_without_the_callback_validation_uses_the_raw_weights():
    x, y, xv, yv, _ = arrays()
    model = make_model()
    history = model.fit(
        x, y, batch_size=4, epochs=3, shuffle=False, validation_data=(xv, yv), verbose=0
    )
    close(history.history["val_loss"], KERAS_VAL_LOSS_WITHOUT_CALLBACK)
    close(flat_weights(model), KERAS_FINAL_WEIGHTS)  # fit ends with the EMA in the model


def trained_apart():
    """A model whose weights differ from their EMA (as in the Keras run)."""
    x, y, xv, yv, _ = arrays()
    model = make_model()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.train_on_batch(x, y)
    close(flat_weights(model), KERAS_RAW)
    return model, xv, yv


def test_evaluate_swaps_in_the_ema_and_back():
    model, xv, yv = trained_apart()
    loss = model.evaluate(xv, yv, verbose=0, callbacks=[SwapEMAWeights()])
    close(loss, KERAS_EVALUATE_WITH_SWAP)
    close(flat_weights(model), KERAS_RAW)
    close(model.evaluate(xv, yv, verbose=0), KERAS_EVALUATE_PLAIN)
    average = model.optimizer._slots["average"]
    close(np.concatenate([a.detach().numpy().ravel() for a in average]), KERAS_EMA)


def test_predict_uses_the_ema_and_restores_the_weights():
    model, xv, _ = trained_apart()
    kernel, bias = KERAS_EMA[:3], KERAS_EMA[3]
    expected = xv @ np.asarray(kernel, "float32").reshape(3, 1) + bias
    close(model.predict(xv, verbose=0, callbacks=[SwapEMAWeights()]), expected)
    # Keras 3.15.1 leaves the EMA weights in the model here; lamina restores them.
    close(flat_weights(model), KERAS_RAW)


# From Keras 3.15.1: the weights a callback placed after SwapEMAWeights sees at each epoch end
# (fit(epochs=2), same setup): the EMA with swap_on_epoch=True, the raw weights without it.
KERAS_SEEN_AT_EPOCH_END = {
    True: [
        [1.0713099, 0.9512882, 0.3971558, 0.0713417],
        [0.540481, 0.7162758, 0.3281469, 0.0513323],
    ],
    False: [
        [0.7392207, 0.8636585, 0.2617632, 0.1037721],
        [0.2664507, 0.5956992, 0.2703718, 0.0419492],
    ],
}


@pytest.mark.parametrize("swap_on_epoch", [True, False])
def test_swap_on_epoch_shows_ema_weights_to_later_callbacks(swap_on_epoch):
    x, y, _, _, _ = arrays()
    model = make_model()
    seen = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(flat_weights(self.model))

    callbacks = [SwapEMAWeights(swap_on_epoch=swap_on_epoch), Record()]
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=callbacks)
    close(np.stack(seen), KERAS_SEEN_AT_EPOCH_END[swap_on_epoch])
    # fit ends with the EMA in the model and in the optimizer's average alike.
    average = model.optimizer._slots["average"][0]
    assert torch.equal(average, model.layers[0].weight.detach())


def test_needs_an_optimizer_with_use_ema():
    x, y, xv, yv, _ = arrays()
    model = make_model(use_ema=False)
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(x, y, validation_data=(xv, yv), verbose=0, callbacks=[SwapEMAWeights()])


def test_predict_before_training_needs_a_built_optimizer():
    # Keras 3.15.1 raises here too (its message: "...use_ema=True is set on the optimizer").
    _, _, xv, _, _ = arrays()
    with pytest.raises(ValueError, match="built by the first fit"):
        make_model().predict(xv, verbose=0, callbacks=[SwapEMAWeights()])


def test_evaluate_before_training_leaves_the_weights():
    # evaluate builds the optimizer; lamina's EMA starts at the weights, so evaluation uses
    # them. (Keras 3.15.1's EMA starts at zeros: it evaluates an all-zero model here.)
    _, _, xv, yv, kernel = arrays()
    model = make_model()
    swapped = model.evaluate(xv, yv, verbose=0, callbacks=[SwapEMAWeights()])
    close(swapped, model.evaluate(xv, yv, verbose=0))
    close(flat_weights(model), [*kernel.ravel(), 0.1])
