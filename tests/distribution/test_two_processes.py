"""keras.distribution's API in a job of 2 gloo processes on the CPU, started by
`initialize(job_addresses, num_processes, process_id)` (no torchrun): the devices are the
processes, a mesh is a torch DeviceMesh, distribute_tensor gives DTensors, and `fit` under
DataParallel trains as one process with the same global batch (DDP; the one-process
reference runs in the test's own process)."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

FIT = textwrap.dedent(
    """
    def FIT(keras, layers):
        rs = np.random.RandomState(0)
        features, labels = rs.randn(60, 6).astype("float32"), rs.randint(0, 3, 60)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="tanh"),
                                  layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(features, labels, batch_size=16, epochs=2, verbose=0)
        return {
            "history": history.history,
            "weights": [w.tolist() for w in model.get_weights()],
            "wrapped": type(model._trainer.forward_module).__name__,
        }
    """
)

SCRIPT = FIT + textwrap.dedent(
    """
    import json, sys

    import numpy as np
    import torch

    import lamina as keras
    from lamina import distribution, layers

    out, rank, world, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if world > 1:
        distribution.initialize(
            job_addresses=f"127.0.0.1:{port},127.0.0.1:0", num_processes=world, process_id=rank
        )
    result = {
        "devices": distribution.list_devices(),
        "count": distribution.get_device_count(),
        "gpus": distribution.list_devices("gpu"),
    }
    data_parallel = distribution.DataParallel()
    distribution.set_distribution(data_parallel)
    result["mesh"] = [list(data_parallel.device_mesh.shape),
                      data_parallel.device_mesh.devices.tolist()]
    mesh = distribution.DeviceMesh((world,), ["batch"])
    backend = mesh.backend_mesh
    result["backend_mesh"] = None if backend is None else [
        backend.device_type, backend.mesh.tolist(), list(backend.mesh_dim_names)]
    x = torch.arange(8.0).reshape(4, 2) + 100 * rank  # process 0's values are scattered
    sharded = distribution.distribute_tensor(x, distribution.TensorLayout(("batch", None), mesh))
    replicated = distribution.distribute_tensor(x, distribution.TensorLayout((None, None), mesh))
    result["sharded_type"] = type(sharded).__name__
    result["sharded_local"] = (sharded.to_local() if world > 1 else sharded).tolist()
    result["sharded_full"] = (sharded.full_tensor() if world > 1 else sharded).tolist()
    result["replicated_local"] = (replicated.to_local() if world > 1 else replicated).tolist()

    two_d = distribution.DeviceMesh((1, world), ["batch", "model"])
    layout_map = distribution.LayoutMap(two_d)
    layout_map[".*kernel"] = (None, "model")
    try:
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
        result["model_parallel"] = "accepted"
    except NotImplementedError as error:
        result["model_parallel"] = str(error)
    distribution.set_distribution(data_parallel)

    with data_parallel.scope():
        result.update(FIT(keras, layers))
    with open(f"{out}/result_{rank}.json", "w") as f:
        json.dump(result, f)
    """
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("distribution")
    script = root / "job.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", LAMINA_DEVICE="cpu", PYTHONPATH=os.getcwd())
    for attempt in range(2):
        port = str(_free_port())
        commands = [[sys.executable, str(script), str(root), str(r), "2", port] for r in (0, 1)]
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
        processes = [subprocess.Popen(c, env=env, **pipes) for c in commands]
        outputs = [p.communicate(timeout=120)[0] for p in processes]
        # torch 2.13's gloo teardown aborts a process now and then (SIGABRT, 'terminate
        # called without an active exception', no Python frame left): one more try then.
        aborted = any(p.returncode == -signal.SIGABRT for p in processes)
        if not (aborted and attempt == 0):
            break
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output

    def load(rank):
        with open(root / f"result_{rank}.json") as f:
            return json.load(f)

    return [load(0), load(1)]


def _reference():
    """The same fit in this process (no process group)."""
    import lamina as keras
    from lamina import layers

    namespace = {"np": np}
    exec(FIT, namespace)  # noqa: S102 - the test's own code, shared with the job's script
    return namespace["FIT"](keras, layers)


def test_devices_are_the_processes(runs):
    for result in runs:
        assert result["devices"] == ["cpu:0", "cpu:1"]
        assert result["count"] == 2
        assert result["gpus"] == []
        assert result["mesh"] == [[2], ["cpu:0", "cpu:1"]]
        assert result["backend_mesh"] == ["cpu", [0, 1], ["batch"]]


def test_distribute_tensor_shards_and_replicates_with_dtensor(runs):
    full = np.arange(8.0).reshape(4, 2).tolist()  # process 0's values, on every process
    for rank, result in enumerate(runs):
        assert result["sharded_type"] == "DTensor"
        assert result["sharded_local"] == full[2 * rank : 2 * rank + 2]
        assert result["sharded_full"] == full
        assert result["replicated_local"] == full


def test_model_parallel_sharding_weights_is_refused_with_what_works(runs):
    for result in runs:
        message = result["model_parallel"]
        assert "does not shard a model's weights" in message
        assert "DataParallel" in message and "fully_shard" in message


def test_data_parallel_fit_trains_as_one_process(runs):
    reference, (first, second) = _reference(), runs
    assert (first["wrapped"], reference["wrapped"]) == ("DistributedDataParallel", "ForwardModule")
    for key, values in reference["history"].items():
        np.testing.assert_allclose(first["history"][key], values, rtol=1e-5, atol=1e-6)
    assert first["history"] == second["history"]
    for got, other, expected in zip(
        first["weights"], second["weights"], reference["weights"], strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        assert got == other
