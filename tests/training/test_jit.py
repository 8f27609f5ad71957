"""Which of dynamo's guards a compiled step evaluates: all on a pass's first call, then only
the tensors' while nothing but lamina runs between steps (lamina.training.jit)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.layers.batch_normalization import padding_step
from lamina.training.jit import GuardPasses, light_guards_supported

pytestmark = pytest.mark.skipif(
    not light_guards_supported(), reason="torch.compiler.set_stance has no guard skipping"
)


class Scale(layers.Layer):
    """Doubles its inputs once `doubled` is set: a Python bool, which a compiled step reads
    as a constant (dynamo guards its value)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.doubled = False

    def call(self, inputs):
        return inputs * 2.0 if self.doubled else inputs


class Break(layers.Layer):
    """The identity, with a graph break: a compiled step runs as several frames."""

    def call(self, inputs):
        torch._dynamo.graph_break()
        return inputs


def _losses(jit_compile, callbacks=(), split=False):
    """Two epochs of 4 batches of ones with a zero target and a zero learning rate: each
    batch's loss is 1, or 4 once the inputs are doubled. The data generator doubles them
    before it hands out the epoch's last batch: mid-epoch, between two steps, and with no
    callback. With `split`, a graph break splits the compiled step."""
    scale = Scale()
    model = lamina.Sequential(
        [lamina.Input((1,)), *([Break()] if split else []), scale]
        + [layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(lamina.optimizers.SGD(0.0), "mse", jit_compile=jit_compile)

    def batches():
        served = 0
        while True:
            if served == 3:
                scale.doubled = True
            served += 1
            yield np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32)

    torch._dynamo.reset()
    history = model.fit(
        batches(), steps_per_epoch=4, epochs=2, verbose=0, callbacks=list(callbacks)
    )
    return history.history["loss"]


@pytest.mark.slow
def test_python_state_changed_mid_epoch_counts_from_the_next_epoch_when_compiled():
    # Eagerly the last batch of epoch 1 is doubled (loss 4). Compiled, the epoch's later
    # steps check only the tensors' guards, so it runs as traced, undoubled (as Keras' traced
    # train function would); the next epoch's first step checks every guard, recompiles,
    # and doubles.
    eager = _losses(False)
    np.testing.assert_allclose(eager, [(1 + 1 + 1 + 4) / 4, 4.0])
    np.testing.assert_allclose(_losses(True), [1.0, 4.0])


@pytest.mark.slow
def test_a_batch_callback_makes_every_compiled_step_check_all_guards():
    # A user's batch hook may change the model between steps: all guards, eager results.
    hook = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    np.testing.assert_allclose(_losses(True, [hook]), [(1 + 1 + 1 + 4) / 4, 4.0])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_a_step_split_by_graph_breaks_checks_all_guards():
    # A later frame of a split step could need a recompile after the first had run (and
    # updated the metrics): such steps keep every guard, and the eager results.
    np.testing.assert_allclose(_losses(True, split=True), [1.75, 4.0])


@pytest.mark.slow
def test_light_guards_still_check_the_input_shapes():
    # Mid-epoch the images grow from 6x6 to 9x9 at the same batch size: the tensors' guards
    # fail and the step recompiles (a graph for 6x6 would give wrong values or fail).
    def run(jit_compile):
        lamina.utils.set_random_seed(0)
        model = lamina.Sequential(
            [
                lamina.Input((None, None, 1)),
                layers.Conv2D(3, 3),
                layers.GlobalAveragePooling2D(),
                layers.Dense(2),
            ]
        )
        model.compile(lamina.optimizers.SGD(0.1), "mse", jit_compile=jit_compile)
        rng = np.random.default_rng(0)
        data = [
            rng.random((4, 6 if i < 3 else 9, 6 if i < 3 else 9, 1), np.float32) for i in range(6)
        ]
        targets = [rng.random((4, 2), np.float32) for _ in range(6)]
        torch._dynamo.reset()
        history = model.fit(iter(list(zip(data, targets, strict=True))), epochs=1, verbose=0)
        return history.history["loss"], model.get_weights()

    (eager_loss, eager_weights), (loss, weights) = run(False), run(True)
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-5)
    for a, b in zip(weights, eager_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_pass_checks_all_guards_first_then_only_the_tensors():
    passes = GuardPasses()
    seen = []

    def step(value):  # the stance the compiled call runs under
        seen.append(torch._dynamo.eval_frame._stance.skip_guard_eval_unsafe)
        return value

    for _ in range(3):
        passes.call(0, step, 1)  # outside a pass (train_on_batch): always all guards
    passes.begin(0, light=True)
    for _ in range(3):
        passes.call(0, step, 1)
    passes.end(0)
    passes.call(0, step, 1)
    passes.begin(0, light=False)  # a batch hook may change the model
    passes.call(0, step, 1)
    passes.call(0, step, 1)
    assert seen == [False, False, False, False, True, True, False, False, False]


def test_a_step_traced_with_graph_breaks_keeps_all_guards():
    # A split step runs as several frames; a later one could refuse to recompile after the
    # first had run (and counted the batch): such a step never goes light.
    from torch._dynamo.utils import counters

    passes = GuardPasses()

    def traced_with_a_break():
        counters["graph_break"]["a user's break"] += 1

    passes.begin(0, light=True)
    passes.call(0, traced_with_a_break)
    passes.begin(0, light=True)  # the next epoch: still split
    passes.call(0, lambda: None)
    assert not passes.light(0)


def test_a_recompile_with_graph_breaks_mid_pass_ends_the_light_guards():
    # New tensors mid-pass: dynamo refuses to recompile under the light stance (before it
    # runs anything), lamina calls again with every guard, and that trace breaks the graph.
    from torch._dynamo.utils import counters

    passes = GuardPasses()
    calls = []

    def step():
        light = torch._dynamo.eval_frame._stance.skip_guard_eval_unsafe
        calls.append(light)
        if light and len(calls) == 2:
            raise RuntimeError("Recompilation triggered with skip_guard_eval_unsafe stance.")
        if len(calls) == 3:
            counters["graph_break"]["a break in the new trace"] += 1

    passes.begin(0, light=True)
    for _ in range(4):
        passes.call(0, step)
    assert calls == [False, True, False, False, False]  # the refused call ran again, in full


def test_padding_steps_and_a_stance_set_by_the_user_check_all_guards():
    passes = GuardPasses()
    passes.begin(0, light=True)
    passes.call(0, lambda: None)
    assert passes.light(0)
    with padding_step():  # the synchronized batch norm reads this global flag
        assert not passes.light(0)
    with torch.compiler.set_stance("force_eager"):
        assert not passes.light(0)
    assert passes.light(0)


def test_compiled_lstm_step_on_the_cpu_equals_the_eager_one():
    # torch 2.13's inductor fails in the backward of the CPU LSTM kernel (mkldnn_rnn_layer,
    # pytorch/pytorch#158007); lamina runs that op outside the compiled graph.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 3)).astype("float32"), np.ones((16, 1), "float32")
    losses = []
    for jit in (False, True):
        lamina.utils.set_random_seed(1)
        model = lamina.Sequential([lamina.Input((5, 3)), layers.LSTM(4), layers.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
