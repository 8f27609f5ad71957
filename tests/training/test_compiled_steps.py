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


def fit(jit_compile, policy="float32", **compile_options):
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
        **compile_options,
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


def test_cuda_graphs_needs_compiled_steps_and_a_boolean():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="cuda_graphs=True .* needs jit_compile=True or 'auto'"):
        model.compile("sgd", "mse", jit_compile=False, cuda_graphs=True)
    with pytest.raises(ValueError, match="cuda_graphs must be True or False"):
        model.compile("sgd", "mse", cuda_graphs="yes")
    model.compile("sgd", "mse", cuda_graphs=True)  # 'auto' + CUDA graphs: compiled steps
    assert model._compile_state.use_compile(torch.device("cpu"))
    assert model._compile_state.use_cuda_graphs(torch.device("cuda"))
    assert not model._compile_state.use_cuda_graphs(torch.device("cpu"))


def test_cuda_graphs_is_kept_in_the_model_file(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse", cuda_graphs=True)
    model.save(tmp_path / "m.keras")
    assert lamina.saving.load_model(tmp_path / "m.keras")._compile_state.cuda_graphs
    model.compile("sgd", "mse")  # unset: not written (Keras' compile has no such argument)
    assert "cuda_graphs" not in model._compile_state.compile_arguments


@pytest.mark.slow
def test_cuda_graphs_on_the_cpu_warns_and_compiles_without_them():
    with pytest.warns(UserWarning, match=r"cuda_graphs=True\) has no effect on the cpu"):
        model, history = fit("auto", cuda_graphs=True)
    assert model._trainer._compiled_steps is not None and not model._trainer._cuda_graphs
    _, eager = fit(False)
    np.testing.assert_allclose(history["loss"], eager["loss"], rtol=1e-4)


@pytest.mark.slow
def test_the_cuda_graph_step_path_gives_the_eager_results(monkeypatch):
    # The CUDA-graph path (mode='reduce-overhead', accumulators marked static, a step begun
    # before each replay, outputs copied out of the graph pool) run on the CPU, where torch
    # skips the graphs themselves: the bookkeeping around them must not change any number.
    from lamina.training.compile import CompileState

    monkeypatch.setattr(CompileState, "use_cuda_graphs", lambda self, device: True)
    begun = []
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: begun.append(1))
    _, eager = fit(False)
    model, graphs = fit(True, cuda_graphs=True)
    trainer = model._trainer
    assert trainer._cuda_graphs and len(begun) > 0
    assert {id(t) for t in trainer.accumulator_state().values()} <= trainer._static_marked
    for key in eager:
        np.testing.assert_allclose(graphs[key], eager[key], rtol=1e-4, atol=1e-6)
    expected = model(torch.from_numpy(X), training=False).detach().numpy()
    np.testing.assert_allclose(model.predict(X, batch_size=32, verbose=0), expected, atol=1e-5)


def test_cudnn_autotuning_is_switched_on_for_conv_models_unless_deterministic(monkeypatch):
    from lamina.training.jit import cudnn_autotune

    conv = lamina.Sequential([lamina.Input((8, 8, 1)), layers.Conv2D(2, 3)])
    dense = lamina.Sequential([lamina.Input((4,)), layers.Dense(2)])
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    assert not cudnn_autotune(dense)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    assert not cudnn_autotune(conv)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.setattr(torch, "are_deterministic_algorithms_enabled", lambda: True)
    assert not cudnn_autotune(conv)
    monkeypatch.undo()
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    assert cudnn_autotune(conv) and torch.backends.cudnn.benchmark


def _residual_model():
    """ResNet's parts: uint8 rescaling, a stride-2 'same' convolution (zero pre-padding),
    batch norm, an activation deferred past max pooling, a residual Add, a softmax head."""
    inputs = lamina.Input((8, 8, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(scale=False)(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    y = layers.Conv2D(4, 1)(x)
    x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return lamina.Model(inputs, layers.Dense(3, activation="softmax")(x))


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_a_residual_model_traces_as_one_graph(policy):
    # Each graph break splits the step into graphs that inductor plans apart (on an H200
    # with torch 2.11, breaks in every layer made compiled ResNet-18 steps 2.9x slower).
    lamina.mixed_precision.set_global_policy(policy)
    try:
        model = _residual_model()
    finally:
        lamina.mixed_precision.set_global_policy(None)
    x = torch.randint(0, 256, (4, 8, 8, 3), dtype=torch.uint8)
    expected = model(x, training=True)
    torch._dynamo.reset()
    compiled = torch.compile(lambda t: model(t, training=True), fullgraph=True)
    torch.testing.assert_close(compiled(x), expected, rtol=2e-2, atol=2e-2)


def test_compiled_forward_guards_nothing_per_node_of_the_release_plan():
    # Every guard is checked before every compiled step. Eagerly the graph frees each tensor
    # after its last reader; compiled, that walk only added guards on every node's list.
    model = _residual_model()
    x = torch.randint(0, 256, (4, 8, 8, 3), dtype=torch.uint8)
    expected = model(x, training=False)
    names = []
    torch._dynamo.reset()
    compiled = torch._dynamo.optimize(
        "eager", guard_export_fn=lambda guards: names.extend(g.name for g in guards)
    )(lambda t: model(t, training=False))
    torch.testing.assert_close(compiled(x), expected)
    assert any("_single_keys[" in name for name in names)  # the guards were seen
    assert not [name for name in names if "_release_after[" in name]


def test_a_compiled_fit_traces_its_step_as_one_graph_without_breaks():
    # The compiled part of a train step is forward, loss and metric updates; the backward
    # pass and the optimizer update run after it (as around a compiled model in a loop), so
    # dynamo has no break to make and no resume function to guard on every step.
    from torch._dynamo.utils import counters

    lamina.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _residual_model()
    finally:
        lamina.mixed_precision.set_global_policy(None)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (48, 8, 8, 3)).astype(np.uint8)
    torch._dynamo.reset()
    counters.clear()
    model.fit(x, rng.integers(0, 3, 48), batch_size=16, epochs=2, verbose=0)
    assert not counters["graph_break"], dict(counters["graph_break"])
    assert counters["stats"]["unique_graphs"] == 1, dict(counters["stats"])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_compiled_steps_keep_the_eager_strides_of_channels_last_images(monkeypatch, data_format):
    # inductor's layout optimization gives 4-D tensors next to a convolution NCHW's
    # channels_last strides; for lamina's (N, H, W, C) tensors that is an (N, W, C, H) memory
    # order and a copy before each convolution (on an H200, compiled ResNet-18 took 24 ms of
    # kernels per step against 15.5 ms eager). lamina turns it off for channels_last layers
    # only; channels_first models keep torch's default (on for convolutions on this CPU).
    from torch._inductor.graph import GraphLowering

    decide = GraphLowering.decide_layout_opt
    decisions = []

    def recording(gm, *, is_inference):
        decision = decide(gm, is_inference=is_inference)
        if any(n.target is torch.ops.aten.convolution.default for n in gm.graph.nodes):
            decisions.append(decision)  # the forward graphs; backward graphs follow them
        return decision

    monkeypatch.setattr(GraphLowering, "decide_layout_opt", staticmethod(recording))
    shape = (8, 8, 2) if data_format == "channels_last" else (2, 8, 8)
    model = lamina.Sequential(
        [
            lamina.Input(shape),
            layers.Conv2D(4, 3, data_format=data_format, activation="relu"),
            layers.Conv2D(4, 3, data_format=data_format),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    model.compile("sgd", "mse", jit_compile=True)
    rng = np.random.default_rng(0)
    torch._dynamo.reset()
    x, y = rng.random((96, *shape), dtype=np.float32), rng.random((96, 3))
    with torch._inductor.config.patch(fx_graph_cache=False):  # lower every graph
        model.fit(x, y, batch_size=32, verbose=0)  # the first step runs eagerly
    assert decisions and all(d == (data_format == "channels_first") for d in decisions)


def test_each_model_compiles_its_own_steps():
    # dynamo keeps graphs per code object, up to its recompile limit (8): with one code
    # object for every model, the ninth model of another structure trained eagerly. The
    # limit is 1 here, so a second model would already run eagerly.
    from torch._dynamo.utils import counters

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4), dtype=np.float32), rng.integers(0, 3, 64)
    torch._dynamo.reset()
    counters.clear()
    with torch._dynamo.config.patch(recompile_limit=1):
        for width in (2, 5):
            model = lamina.Sequential([lamina.Input((4,)), layers.Dense(width), layers.Dense(3)])
            model.compile("sgd", "mse", jit_compile=True)
            model.fit(x, np.eye(3)[y], batch_size=16, verbose=0)
    assert counters["stats"]["unique_graphs"] == 2, dict(counters["stats"])
