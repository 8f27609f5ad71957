"""Distributed data parallel: a script run by torchrun on 2 gloo processes trains as it does in
one process with the same global batch, every process reports the same logs, only process 0
prints and writes files."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from lamina.training import distributed

SCRIPT = textwrap.dedent(
    """
    import json, os, sys

    import numpy as np
    import torch
    import torch.distributed as dist

    import lamina as keras
    from lamina import callbacks, layers
    from lamina.training import distributed

    out = sys.argv[1]
    rank = int(os.environ.get("RANK", 0))
    rs = np.random.RandomState(0)
    x = rs.randn(130, 6).astype("float32")
    y = rs.randint(0, 3, 130)


    def model(**optimizer_options):
        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [keras.Input((6,)), layers.Dense(8, activation="tanh"),
             layers.Dense(3, activation="softmax")]
        )
        m.compile(keras.optimizers.Adam(0.02, **optimizer_options),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
        return m


    # 97 samples in global batches of 16: six of 8 + 8 per process, then one sample (process 1
    # holds padding); validation: 23 samples = 16 + 7 (4 and 3 per process).
    m = model()
    first = m.fit(
        x[:97], y[:97], batch_size=16, epochs=3, verbose=1,
        validation_data=(x[97:120], y[97:120]),
        callbacks=[
            callbacks.CSVLogger(f"{out}/log_{rank}.csv"),
            callbacks.ModelCheckpoint(
                f"{out}/ckpt_{rank}.weights.safetensors", save_weights_only=True, verbose=1
            ),
        ],
    )
    # 105 samples in global batches of 20: the last one of 5 splits 3 / 2.
    second = m.fit(x[:105], y[:105], batch_size=20, epochs=2, verbose=2)
    evaluated = m.evaluate(x, y, batch_size=25, verbose=0, return_dict=True)

    # Gradient accumulation over 3 steps, 6 steps per epoch: the steps that only accumulate
    # skip DDP's all-reduce, so its hook runs on the 4 update steps only (one bucket each).
    hook_calls = [0]
    original_wrap = distributed.wrap_module

    def counting_wrap(module, device):  # DDP's own averaging all-reduce, counted
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

        wrapped, share = original_wrap(module, device)

        def counted(state, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
            hook_calls[0] += 1
            return default_hooks.allreduce_hook(state, bucket)

        wrapped.register_comm_hook(None, counted)
        return wrapped, share

    distributed.wrap_module = counting_wrap
    accumulating = model(gradient_accumulation_steps=3)
    accumulated = accumulating.fit(x[:96], y[:96], batch_size=16, epochs=2, verbose=0)
    accumulation_hook_calls = hook_calls[0]

    # BatchNormalization(synchronized=True): statistics over the global batch of 16 (8 per
    # process; the last of 7 splits 4 / 3), so the run matches one process;
    # synchronized=False normalizes each part alone.
    def batch_norm_model(synchronized):
        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [keras.Input((6,)), layers.Dense(8, use_bias=False),  # BN cancels a bias
             layers.BatchNormalization(momentum=0.8, synchronized=synchronized),
             layers.Activation("tanh"), layers.Dense(3, activation="softmax")]
        )
        m.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
        return m

    normalized = {}
    for synchronized in (True, False):
        bn = batch_norm_model(synchronized)
        history = bn.fit(x[:103], y[:103], batch_size=16, epochs=2, verbose=0)
        normalized[str(synchronized)] = {
            "loss": history.history["loss"],
            "weights": [w.tolist() for w in bn.get_weights()],
        }
    # predict: blocks of 65 / 65 and of 49 / 48 samples, joined on every process
    predictions = [m.predict(x, batch_size=25, verbose=0).tolist(),
                   m.predict(x[:97], verbose=0).tolist()]
    result = {
        "predictions": predictions,
        "batch_norm": normalized,
        "accumulated": accumulated.history,
        "accumulated_weights": [w.tolist() for w in accumulating.get_weights()],
        "hook_calls": accumulation_hook_calls,
        "world": distributed.world_size(),
        "first": first.history,
        "second": second.history,
        "evaluate": evaluated,
        "weights": [w.tolist() for w in m.get_weights()],
    }
    if distributed.is_distributed():  # the hook that combines the processes' totals
        trainer = m._trainer
        trainer._loss_sum.fill_(rank + 1.0)
        trainer._count.fill_(rank + 2.0)
        metric = m.metrics[1].metrics[0]  # compile_metrics (after the loss tracker): accuracy
        metric.total.fill_(10.0 * rank)
        loss_sum, count, _, states = trainer._global_totals()
        result["totals"] = [float(loss_sum), float(count), float(states["accuracy"][0])]
        result["own_total"] = float(metric.total)
    with open(f"{out}/result_{rank}.json", "w") as f:
        json.dump(result, f)
    """
)


def _environment():
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", LAMINA_DEVICE="cpu", PYTHONPATH=os.getcwd())
    return env


def _load(folder, rank):
    with open(folder / f"result_{rank}.json") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run the script with torchrun (2 processes) and alone, at the same time."""
    root = tmp_path_factory.mktemp("ddp")
    script = root / "train.py"
    script.write_text(SCRIPT)
    single, ddp = root / "single", root / "ddp"
    single.mkdir()
    ddp.mkdir()
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone"]
    commands = [[*launch, str(script), str(ddp)], [sys.executable, str(script), str(single)]]
    processes = [
        subprocess.Popen(
            command, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
    return {"ddp": ddp, "single": single, "ddp_output": outputs[0], "single_output": outputs[1]}


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def test_two_processes_train_as_one_with_the_same_global_batch(runs):
    reference, result = _load(runs["single"], 0), _load(runs["ddp"], 0)
    assert (reference["world"], result["world"]) == (1, 2)
    for fit in ("first", "second"):
        assert result[fit].keys() == reference[fit].keys()
        for key, values in reference[fit].items():
            _close(result[fit][key], values)
    for key, value in reference["evaluate"].items():
        _close(result["evaluate"][key], value)
    for weight, expected in zip(result["weights"], reference["weights"], strict=True):
        _close(weight, expected)


def test_gradient_accumulation_all_reduces_only_on_update_steps(runs):
    reference, result = _load(runs["single"], 0), _load(runs["ddp"], 0)
    for key, values in reference["accumulated"].items():
        _close(result["accumulated"][key], values)
    for weight, expected in zip(
        result["accumulated_weights"], reference["accumulated_weights"], strict=True
    ):
        _close(weight, expected)
    assert reference["hook_calls"] == 0  # one process: no DDP
    assert result["hook_calls"] == _load(runs["ddp"], 1)["hook_calls"] == 4  # of 12 steps


def test_every_process_reports_the_global_logs_and_holds_the_same_weights(runs):
    first, second = _load(runs["ddp"], 0), _load(runs["ddp"], 1)
    for key in ("first", "second", "evaluate", "weights"):
        assert first[key] == second[key]


def test_global_totals_sum_over_processes(runs):
    for rank in (0, 1):
        result = _load(runs["ddp"], rank)
        assert result["totals"] == [1.0 + 2.0, 2.0 + 3.0, 0.0 + 10.0]
        assert result["own_total"] == 10.0 * rank  # the metric's own state is left as it was


def test_only_process_zero_prints_and_writes_files(runs):
    ddp, output = runs["ddp"], runs["ddp_output"]
    assert (ddp / "log_0.csv").exists() and not (ddp / "log_1.csv").exists()
    assert (ddp / "ckpt_0.weights.safetensors").exists()
    assert not (ddp / "ckpt_1.weights.safetensors").exists()
    for line in ("Epoch 1/3", "saving model to", "Epoch 2/2"):
        assert output.count(line) == runs["single_output"].count(line) > 0, output


def test_outside_a_process_group_everything_is_one_process():
    assert not torch.distributed.is_initialized()
    assert (distributed.is_distributed(), distributed.rank(), distributed.world_size()) == (
        False,
        0,
        1,
    )
    assert not distributed.init_from_environment()
    assert [distributed.shard_bounds(5, r, 2) for r in (0, 1)] == [(0, 3), (3, 5)]
    assert [distributed.shard_bounds(1, r, 2) for r in (0, 1)] == [(0, 1), (1, 1)]


def test_synchronized_batch_norm_uses_the_global_batch(runs):
    reference, result = _load(runs["single"], 0), _load(runs["ddp"], 0)
    expected, synced = reference["batch_norm"]["True"], result["batch_norm"]["True"]
    _close(synced["loss"], expected["loss"])
    for weight, value in zip(synced["weights"], expected["weights"], strict=True):
        _close(weight, value)  # moving mean and variance included
    # Without synchronization each process normalizes its own half: another curve.
    local = result["batch_norm"]["False"]["loss"]
    assert not np.allclose(local, reference["batch_norm"]["False"]["loss"], rtol=1e-4)


def test_predict_shards_the_samples_and_every_process_gets_them_all(runs):
    reference, first, second = (
        _load(runs["single"], 0),
        _load(runs["ddp"], 0),
        _load(runs["ddp"], 1),
    )
    for expected, got, other in zip(
        reference["predictions"], first["predictions"], second["predictions"], strict=True
    ):
        assert np.asarray(got).shape == np.asarray(expected).shape
        _close(got, expected)
        _close(other, expected)
