"""keras.distribution's API in one process: Keras' constructor arguments, validation and
error messages for DeviceMesh, TensorLayout, LayoutMap, DataParallel and ModelParallel;
layouts by weight path; the current distribution; distribute_tensor without a process
group; initialize's argument checks. (2 processes: test_two_processes.py.)"""

import warnings

import numpy as np
import pytest
import torch

import lamina as keras
from lamina import distribution
from lamina.distribution import (
    DataParallel,
    DeviceMesh,
    LayoutMap,
    ModelParallel,
    TensorLayout,
)

CPUS = [f"cpu:{i}" for i in range(8)]


@pytest.fixture(autouse=True)
def no_distribution():
    distribution.set_distribution(None)
    yield
    distribution.set_distribution(None)


def test_the_names_of_keras_distribution_are_there():
    keras_names = [
        "DataParallel", "DeviceMesh", "LayoutMap", "ModelParallel", "TensorLayout",
        "distribute_tensor", "distribution", "get_device_count", "initialize", "list_devices",
        "set_distribution",
    ]  # fmt: skip
    for name in keras_names:
        assert name in distribution.__all__ and hasattr(keras.distribution, name)
    for name in ("init_from_environment", "is_distributed", "rank", "world_size"):
        assert hasattr(distribution, name)  # lamina's own, kept


def test_list_devices_in_one_process():
    assert distribution.list_devices("cpu") == ["cpu:0"]
    assert distribution.get_device_count("cpu") == 1
    gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    assert distribution.list_devices("gpu") == distribution.list_devices("cuda") == gpus
    assert distribution.list_devices() == (gpus or ["cpu:0"])
    with pytest.raises(ValueError, match="device_type must be 'cpu', 'gpu' or 'cuda'"):
        distribution.list_devices("tpu")


def test_device_mesh_keeps_keras_arguments_and_errors():
    mesh = DeviceMesh((2, 4), ["batch", "model"], devices=CPUS)
    assert mesh.shape == (2, 4) and mesh.axis_names == ["batch", "model"]
    assert mesh.devices.shape == (2, 4) and mesh.devices[1, 0] == "cpu:4"
    assert repr(mesh) == "<DeviceMesh shape=(2, 4), axis_names=['batch', 'model']>"
    assert mesh.backend_mesh is None  # no process group
    with pytest.raises(ValueError, match="Shape and axis_names cannot be empty"):
        DeviceMesh((), ["batch"], devices=CPUS)
    with pytest.raises(ValueError, match="Shape and axis_names should have same size"):
        DeviceMesh((8,), ["batch", "model"], devices=CPUS)
    with pytest.raises(ValueError, match=r"Shape does not match the number of devices.*\(8,\)"):
        DeviceMesh((2, 2), ["batch", "model"], devices=CPUS)


def test_tensor_layout_validates_axes_and_gives_torch_placements():
    from torch.distributed.tensor import Replicate, Shard

    mesh = DeviceMesh((2, 4), ["batch", "model"], devices=CPUS)
    layout = TensorLayout(["model", None])
    assert layout.axes == ("model", None) and layout.device_mesh is None
    layout.device_mesh = mesh
    assert layout.backend_layout == (Replicate(), Shard(0))
    with pytest.raises(ValueError, match="Cannot override device mesh value"):
        layout.device_mesh = mesh
    with pytest.raises(ValueError, match="Invalid axis names for Layout"):
        TensorLayout(("data", None), mesh)
    with pytest.raises(ValueError, match="shards several tensor axes"):
        _ = TensorLayout(("model", "model"), mesh).backend_layout
    with pytest.raises(ValueError, match="has no device_mesh"):
        _ = TensorLayout((None,)).backend_layout


def test_layout_map_matches_paths_as_keras():
    mesh = DeviceMesh((2, 4), ["batch", "model"], devices=CPUS)
    layout_map = LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*dense.*bias"] = ("model",)
    layout_map["exact/kernel"] = TensorLayout(("model", None))
    assert layout_map["dense_1/kernel"].axes == (None, "model")
    assert layout_map["my_model/dense_2/bias"].axes == ("model",)
    assert layout_map["dense_1/kernel"].device_mesh is mesh
    assert layout_map["exact/kernel"].axes == ("model", None)
    assert layout_map["my_model/conv3d_1/kernel"] is None
    assert len(layout_map) == 3 and list(layout_map)[0] == ".*dense.*kernel"
    with pytest.raises(ValueError, match="already exist in the LayoutMap"):
        layout_map[".*dense.*bias"] = ("model",)
    with pytest.raises(ValueError, match="should be a TensorLayout type"):
        layout_map["other"] = ["model"]
    layout_map[".*_1/kernel"] = (None, None)
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        _ = layout_map["dense_1/kernel"]
    del layout_map[".*_1/kernel"]
    assert len(layout_map) == 3


def test_data_parallel_meshes():
    default = DataParallel()
    assert default.device_mesh.devices.tolist() == distribution.list_devices()
    assert default.batch_dim_name == "batch" and default.auto_shard_dataset is True
    from_devices = DataParallel(devices=CPUS[:4], auto_shard_dataset=False)
    assert from_devices.device_mesh.shape == (4,) and from_devices.num_model_replicas == 4
    assert from_devices.auto_shard_dataset is False
    assert (from_devices.num_processes, from_devices.data_shard_id) == (1, 0)
    with pytest.warns(UserWarning, match="Expect the input mesh to be 1D"):
        two_d = DataParallel(device_mesh=DeviceMesh((2, 4), ["data", "model"], devices=CPUS))
    assert two_d.batch_dim_name == "data"
    with pytest.raises(ValueError, match="Expect `mesh` to be an instance of `DeviceMesh`"):
        DataParallel(device_mesh="mesh")
    assert from_devices.get_data_layout((16, 5, 3)).axes == ("batch", None, None)
    assert from_devices.get_tensor_layout("dense/output") is None


def test_model_parallel_layouts_by_weight_path():
    keras.utils.clear_session()  # the automatic names the paths hold
    mesh = DeviceMesh((2, 4), ["batch", "model"], devices=CPUS)
    layout_map = LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    parallel = ModelParallel(layout_map=layout_map)
    assert parallel.batch_dim_name == "batch" and parallel.num_model_replicas == 2
    assert ModelParallel(layout_map=layout_map, batch_dim_name="model").num_model_replicas == 4
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    kernel, bias = model.layers[0].weights
    assert kernel.path == "sequential/dense/kernel"
    assert parallel.get_variable_layout(kernel).axes == (None, "model")
    assert parallel.get_variable_layout(bias).axes == (None,)  # not in the map: replicated
    assert parallel.get_data_layout((8, 3)).axes == ("batch", None)
    with pytest.raises(ValueError, match="You must specify a layout_map argument"):
        ModelParallel()
    with pytest.raises(ValueError, match="must be a `LayoutMap` instance"):
        ModelParallel(layout_map={".*": (None,)})


def test_set_distribution_and_scope():
    data_parallel = DataParallel(devices=["cpu:0"])
    assert distribution.distribution() is None
    with data_parallel.scope():
        assert distribution.distribution() is data_parallel
    assert distribution.distribution() is None
    distribution.set_distribution(data_parallel)
    assert distribution.distribution() is data_parallel
    with pytest.raises(TypeError, match="expects a DataParallel or ModelParallel"):
        distribution.set_distribution("data_parallel")


def test_model_parallel_that_shards_weights_is_refused_with_what_works():
    layout_map = LayoutMap(DeviceMesh((2, 4), ["batch", "model"], devices=CPUS))
    layout_map[".*kernel"] = (None, "model")
    parallel = ModelParallel(layout_map=layout_map)
    with pytest.raises(NotImplementedError, match="does not shard a model's weights") as error:
        distribution.set_distribution(parallel)
    assert "DataParallel" in str(error.value) and "fully_shard" in str(error.value)
    with pytest.raises(NotImplementedError), parallel.scope():
        pass
    assert distribution.distribution() is None
    replicas_only = LayoutMap(DeviceMesh((1, 1), ["batch", "model"], devices=["cpu:0"]))
    distribution.set_distribution(ModelParallel(layout_map=replicas_only))  # shards nothing
    assert isinstance(distribution.distribution(), ModelParallel)


def test_replicas_that_are_not_the_processes_warn():
    with pytest.warns(UserWarning, match="DataParallel over 4 replicas, but this job has 1"):
        distribution.set_distribution(DataParallel(devices=CPUS[:4]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        distribution.set_distribution(DataParallel(devices=["cpu:0"]))


def test_distribute_tensor_without_a_process_group_returns_the_tensor():
    mesh = DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    x = torch.arange(6.0).reshape(3, 2)
    assert distribution.distribute_tensor(x, TensorLayout(("batch", None), mesh)) is x
    symbolic = keras.Input((2,))
    assert distribution.distribute_tensor(symbolic, TensorLayout(("batch", None))) is symbolic
    converted = distribution.distribute_tensor(np.ones((2, 2)), TensorLayout((None, None), mesh))
    assert isinstance(converted, torch.Tensor)
    with pytest.raises(ValueError, match=r"has 1 axes for a tensor of shape \(3, 2\)"):
        distribution.distribute_tensor(x, TensorLayout(("batch",), mesh))
    with pytest.raises(TypeError, match="expects a TensorLayout"):
        distribution.distribute_tensor(x, ("batch", None))


def test_initialize_checks_its_arguments_and_does_nothing_alone(monkeypatch):
    for name in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                 "KERAS_DISTRIBUTION_PROCESS_ID", "RANK", "WORLD_SIZE", "LOCAL_RANK"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    distribution.initialize()  # one process, no torchrun: nothing to join
    assert not torch.distributed.is_initialized()
    with pytest.raises(ValueError, match="num_processes must be a positive int"):
        distribution.initialize("127.0.0.1:1234", num_processes=0, process_id=0)
    with pytest.raises(ValueError, match=r"process_id must be an int in \[0, 1\]"):
        distribution.initialize("127.0.0.1:1234", num_processes=2, process_id=2)
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "1")
    with pytest.raises(ValueError, match="job_addresses must start with process 0's 'host:port'"):
        distribution.initialize(job_addresses="10.0.0.1")
    assert not torch.distributed.is_initialized()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert distribution.get_device_count() >= 1
