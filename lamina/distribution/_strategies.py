"""Keras 3's distributions: `DataParallel` (what `fit` does in a process group: DDP) and
`ModelParallel` (layouts only: lamina does not shard a model's weights in `fit`), the global
`distribution()` / `set_distribution()`, and `distribute_tensor` (a torch DTensor).

>>> distribution() is None
True
>>> data_parallel = DataParallel(devices=["cpu:0"])
>>> with data_parallel.scope():
...     distribution() is data_parallel
True
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ..training import distributed
from ._layouts import DeviceMesh, LayoutMap, TensorLayout, list_devices

__all__ = [
    "DataParallel",
    "Distribution",
    "ModelParallel",
    "distribute_tensor",
    "distribution",
    "set_distribution",
]

DEFAULT_BATCH_DIM_NAME = "batch"
_CURRENT: list[Any] = [None]


class Distribution:
    """Base of the distributions: a device mesh, the name of its batch axis, and whether
    datasets are sharded between processes.

    In lamina `fit` shards NumPy arrays and tensors between processes itself (each takes
    its part of every global batch); DataLoaders, generators and `lamina.data` datasets
    are read as given (shard them, e.g. with a `DistributedSampler`), whatever
    `auto_shard_dataset` says.
    """

    def __init__(
        self,
        device_mesh: DeviceMesh,
        batch_dim_name: str | None = None,
        auto_shard_dataset: bool = True,
    ) -> None:
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes = distributed.world_size()
        self._process_id = distributed.rank()
        self._is_multi_process = self._num_processes > 1

    @property
    def num_processes(self) -> int:
        """The number of processes of the job."""
        return self._num_processes

    @property
    def num_model_replicas(self) -> int:
        raise NotImplementedError()

    @property
    def data_shard_id(self) -> int:
        """Which part of the data this process reads."""
        replicas = self.num_model_replicas
        if replicas >= self.num_processes:
            return self._process_id
        return self._process_id // (self.num_processes // replicas)

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str | None:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, auto_shard_dataset: bool) -> None:
        self._auto_shard_dataset = auto_shard_dataset

    def get_data_layout(self, data_shape: Any) -> TensorLayout:
        """Input batches: sharded along the first axis over the batch axis of the mesh."""
        axes: list[Any] = [None] * len(data_shape)
        axes[0] = self.batch_dim_name
        return TensorLayout(axes, self.device_mesh)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        raise NotImplementedError()

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        raise NotImplementedError()

    def distribute_dataset(self, dataset: Any) -> Any:
        """`dataset` as it is: `fit` shards arrays itself (see the class docstring)."""
        return dataset

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Make this the current distribution inside the `with` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"

    __str__ = __repr__


def _one_dimensional_mesh(devices: Any) -> DeviceMesh:
    devices = np.array(devices)
    return DeviceMesh(shape=devices.shape, axis_names=[DEFAULT_BATCH_DIM_NAME], devices=devices)


class DataParallel(Distribution):
    """Data parallelism: the model replicated on every device, each batch split between them.

    Args:
        device_mesh: a 1-D `DeviceMesh` (for more axes the first is the batch axis).
        devices: the devices of a 1-D mesh (when no `device_mesh`).
        auto_shard_dataset: Keras' flag (see `Distribution`).

    With neither, the mesh holds `list_devices()`. lamina runs one process per device: in a
    process group (torchrun, or `initialize`) `fit` wraps the model in
    DistributedDataParallel and splits each global batch between the processes, set or not;
    in one process it trains on this process's device.

    >>> DataParallel(devices=["cpu:0"]).num_model_replicas
    1
    """

    def __init__(
        self,
        device_mesh: DeviceMesh | None = None,
        devices: Any = None,
        auto_shard_dataset: bool = True,
    ) -> None:
        if device_mesh:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    "Expect `mesh` to be an instance of `DeviceMesh`. "
                    f"Received: mesh={device_mesh} (of type {type(device_mesh)})"
                )
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            if device_mesh.devices.ndim != 1:
                warnings.warn(
                    "Expect the input mesh to be 1D, but received mesh.devices.ndim="
                    f"{device_mesh.devices.ndim}. The first axis will be used for "
                    "data-parallel sharding.",
                    stacklevel=2,
                )
        else:
            mesh = _one_dimensional_mesh(devices if devices else list_devices())
            super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        return int(self.device_mesh.devices.size)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """Weights are replicated (unless the variable carries its own `_layout`)."""
        own = getattr(variable, "_layout", None)
        if own is not None:
            return own
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path: str) -> None:
        """Intermediate tensors keep their layout."""
        return None


class ModelParallel(Distribution):
    """Keras' model parallelism: weights sharded over the mesh as a `LayoutMap` says.

    Args:
        layout_map: `LayoutMap` from weight paths (`v.path`, e.g. 'sequential/dense/kernel')
            to layouts; its mesh is the distribution's.
        batch_dim_name: the mesh axis that splits the data (default: the first).
        auto_shard_dataset: Keras' flag (see `Distribution`).

    The layouts are computed as in Keras (`get_variable_layout`, `get_tensor_layout`), and
    `distribute_tensor` places tensors by them. lamina's `fit` does not shard weights, so
    `set_distribution` (and `scope`) refuse a ModelParallel whose mesh has a model axis of
    more than one device; one whose other axes are of size 1 is data parallelism and works.

    >>> mesh = DeviceMesh((1, 1), ["batch", "model"], devices=["cpu:0"])
    >>> layout_map = LayoutMap(mesh)
    >>> layout_map[".*kernel"] = (None, "model")
    >>> ModelParallel(layout_map=layout_map).num_model_replicas
    1
    """

    def __init__(
        self,
        *,
        layout_map: LayoutMap | None = None,
        batch_dim_name: str | None = None,
        auto_shard_dataset: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise TypeError(f"ModelParallel got unexpected arguments {sorted(kwargs)}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                f"Argument `layout_map` must be a `LayoutMap` instance. Received: "
                f"layout_map={layout_map}"
            )
        mesh = layout_map.device_mesh
        if mesh is None:
            raise ValueError("ModelParallel: the layout_map has no device_mesh")
        batch_dim_name = batch_dim_name or mesh.axis_names[0]
        super().__init__(mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map
        if (
            self._is_multi_process
            and self.num_processes > self.num_model_replicas
            and self.num_processes % self.num_model_replicas != 0
        ):
            raise ValueError(
                "If `num_processes` is greater than `num_model_replicas`, `num_processes` "
                f"must be divisible by `num_model_replicas`. Got num_processes="
                f"{self.num_processes}, num_model_replicas={self.num_model_replicas}."
            )

    @property
    def num_model_replicas(self) -> int:
        index = list(self.device_mesh.axis_names).index(self.batch_dim_name)
        return int(self.device_mesh.shape[index])

    @property
    def shards_weights(self) -> bool:
        """Whether a mesh axis other than the batch axis has more than one device."""
        return self.num_model_replicas != int(self.device_mesh.devices.size)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """The variable's own `_layout`, else the layout map's for its path, else replicated."""
        own = getattr(variable, "_layout", None)
        if own is not None:
            return own
        found = self._layout_map[variable.path]
        if found is not None:
            return found
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        """The layout map's layout for an intermediate tensor's path (or None)."""
        return self._layout_map[path]


def distribution() -> Distribution | None:
    """The current distribution (None until `set_distribution`)."""
    return _CURRENT[0]


def set_distribution(value: Distribution | None) -> None:
    """Make `value` the current distribution (None clears it).

    A `DataParallel` describes what `fit` does in a process group (with a warning when its
    replicas are not the job's processes); a `ModelParallel` that shards weights is refused
    (NotImplementedError), see `ModelParallel`.
    """
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(
            f"set_distribution expects a DataParallel or ModelParallel (or None); got "
            f"{type(value).__name__}"
        )
    if isinstance(value, ModelParallel) and value.shards_weights:
        raise NotImplementedError(
            f"lamina's fit does not shard a model's weights (ModelParallel over mesh "
            f"{value.device_mesh.shape} {value.device_mesh.axis_names}): it trains "
            "data-parallel, one process per device, with DistributedDataParallel. What works "
            "instead: DataParallel (torchrun, or lamina.distribution.initialize, then fit); "
            "for models too large for one device, torch's own sharding on lamina's modules "
            "(they are torch.nn.Modules) in your own training loop: "
            "torch.distributed.fsdp.fully_shard(model), or "
            "torch.distributed.tensor.parallel.parallelize_module(model, "
            "layout.device_mesh.backend_mesh, plan); distribute_tensor(tensor, layout) places "
            "single tensors by a TensorLayout."
        )
    if value is not None and value.num_model_replicas != distributed.world_size():
        warnings.warn(
            f"{type(value).__name__} over {value.num_model_replicas} replicas, but this job "
            f"has {distributed.world_size()} process(es): lamina trains one replica per "
            "process, so fit uses as many replicas as processes. Launch one process per "
            "device (torchrun --nproc_per_node=N, or lamina.distribution.initialize).",
            stacklevel=2,
        )
    _CURRENT[0] = value


def distribute_tensor(tensor: Any, layout: TensorLayout) -> Any:
    """`tensor` placed by `layout`: a torch `DTensor` sharded/replicated over the mesh's
    processes when a process group exists (every process calls it with the same tensor:
    process 0's values are scattered), else `tensor` itself. Symbolic tensors are returned
    as they are.

    >>> x = torch.ones(4, 2)
    >>> mesh = DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    >>> distribute_tensor(x, TensorLayout(("batch", None), mesh)) is x
    True
    """
    from ..layers._symbolic import KerasTensor

    if isinstance(tensor, KerasTensor):
        return tensor
    if not isinstance(layout, TensorLayout):
        raise TypeError(
            f"distribute_tensor expects a TensorLayout as layout; got {type(layout).__name__}"
        )
    if not isinstance(tensor, torch.Tensor):
        tensor = torch.as_tensor(tensor)
    if len(layout.axes) != tensor.ndim:
        raise ValueError(
            f"distribute_tensor: {layout!r} has {len(layout.axes)} axes for a tensor of shape "
            f"{tuple(tensor.shape)} ({tensor.ndim} axes)"
        )
    mesh = layout.device_mesh
    backend = None if mesh is None else mesh.backend_mesh
    if backend is None:
        return tensor
    from torch.distributed.tensor import DTensor
    from torch.distributed.tensor import distribute_tensor as torch_distribute

    placements = layout.backend_layout
    if isinstance(tensor, DTensor):
        return tensor.redistribute(backend, placements)
    device = torch.device(backend.device_type, torch.cuda.current_device()) if (
        backend.device_type == "cuda") else torch.device("cpu")  # fmt: skip
    return torch_distribute(tensor.to(device), backend, placements)
