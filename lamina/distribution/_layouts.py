"""Keras 3's devices, meshes and layouts on torch.distributed: `list_devices`,
`get_device_count`, `initialize`, `DeviceMesh` (a torch `DeviceMesh` over the processes'
ranks), `TensorLayout` (torch `Shard`/`Replicate` placements) and `LayoutMap`.

lamina runs one process per device (torchrun's model), so in a process group the devices
are the processes: `list_devices()` gives one `"cpu:<rank>"` (or `"cuda:<rank>"`) per
process, and a mesh of those devices is a torch `DeviceMesh` of those ranks. Outside a
process group they are this machine's devices and meshes have no torch counterpart.

>>> list_devices("cpu")
['cpu:0']
>>> mesh = DeviceMesh(shape=(1,), axis_names=["batch"], devices=["cpu:0"])
>>> TensorLayout(("batch", None), mesh).axes
('batch', None)
"""

from __future__ import annotations

import collections.abc
import math
import os
import re
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..training import distributed

__all__ = [
    "DeviceMesh",
    "LayoutMap",
    "TensorLayout",
    "get_device_count",
    "initialize",
    "list_devices",
]

_TYPES = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda"}


def _device_type(device_type: str | None) -> str:
    if device_type is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    found = _TYPES.get(str(device_type).lower())
    if found is None:
        raise ValueError(
            f"list_devices: device_type must be 'cpu', 'gpu' or 'cuda' (or None for the "
            f"default); got {device_type!r}"
        )
    return found


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices available for distributed computation, as `"type:index"` strings.

    Args:
        device_type: 'cpu', 'gpu' (or 'cuda'); None: 'cuda' when available, else 'cpu'.

    In a process group (torchrun, `initialize`) these are the global devices, one per
    process, indexed by rank; otherwise this machine's ('cpu:0', or each GPU).

    >>> list_devices("cpu")
    ['cpu:0']
    """
    kind = _device_type(device_type)
    if distributed.is_distributed():
        if kind == "cuda" and not torch.cuda.is_available():
            return []
        return [f"{kind}:{rank}" for rank in range(distributed.world_size())]
    if kind == "cuda":
        return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    return ["cpu:0"]


def get_device_count(device_type: str | None = None) -> int:
    """The number of devices `list_devices(device_type)` lists.

    >>> get_device_count("cpu")
    1
    """
    return len(list_devices(device_type))


def initialize(
    job_addresses: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> None:
    """Join (or create) the torch.distributed process group of a multi-process job.

    Args:
        job_addresses: comma-separated `host:port` addresses of the job's processes; the
            first (process 0's) is where they meet (torch's `tcp://` init method), so it
            alone is enough. Default: `KERAS_DISTRIBUTION_JOB_ADDRESSES`.
        num_processes: the number of processes (`KERAS_DISTRIBUTION_NUM_PROCESSES`).
        process_id: this process's rank, 0 to num_processes - 1
            (`KERAS_DISTRIBUTION_PROCESS_ID`).

    The backend is NCCL with CUDA (each process on `cuda:<local index>`), else gloo. Called
    with nothing to go on in a torchrun process, it uses torchrun's environment
    (`init_from_environment`); with nothing at all, there is one process and nothing to do.
    A process group that already exists is kept. Then `fit` trains data-parallel (DDP).
    """
    environ = os.environ
    if job_addresses is None:
        job_addresses = environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in environ:
        num_processes = int(environ["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in environ:
        process_id = int(environ["KERAS_DISTRIBUTION_PROCESS_ID"])
    if dist.is_initialized():
        return
    if job_addresses is None and num_processes is None and process_id is None:
        distributed.init_from_environment()
        return
    if not isinstance(num_processes, int) or isinstance(num_processes, bool) or num_processes < 1:
        raise ValueError(f"initialize: num_processes must be a positive int; got {num_processes!r}")
    if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise ValueError(
            f"initialize: process_id must be an int in [0, {num_processes - 1}] for "
            f"num_processes={num_processes}; got {process_id!r}"
        )
    coordinator = (job_addresses or "").split(",")[0].strip()
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            "initialize: job_addresses must start with process 0's 'host:port' (e.g. "
            f"'10.0.0.1:1234,10.0.0.2:2345'); got {job_addresses!r}"
        )
    backend = "gloo"
    if torch.cuda.is_available():
        backend = "nccl"
        torch.cuda.set_device(int(environ.get("LOCAL_RANK", process_id)) % max(
            torch.cuda.device_count(), 1))  # fmt: skip
    dist.init_process_group(
        backend, init_method=f"tcp://{coordinator}", world_size=num_processes, rank=process_id
    )
    distributed.destroy_at_exit()


def _ranks(devices: np.ndarray) -> np.ndarray:
    """The process ranks of `"type:index"` device strings (the index is the rank)."""
    ranks = np.empty(devices.shape, dtype=np.int64)
    for position, device in np.ndenumerate(devices):
        _, _, index = str(device).rpartition(":")
        if not index.isdigit():
            raise ValueError(f"DeviceMesh: devices are 'type:index' strings; got {device!r}")
        ranks[position] = int(index)
    return ranks


class DeviceMesh:
    """A grid of devices with named axes (`("batch", "model")`), as Keras' `DeviceMesh`.

    Args:
        shape: the grid's shape, e.g. `(8,)` or `(2, 4)`.
        axis_names: one name per axis.
        devices: the devices (`list_devices()` by default), as many as the shape holds.

    `backend_mesh` is the torch `DeviceMesh` over these devices' ranks when a process group
    exists (every process must ask for it, as for any collective), else None.

    >>> DeviceMesh((2,), ["batch"], devices=["cpu:0", "cpu:1"]).devices.tolist()
    ['cpu:0', 'cpu:1']
    """

    def __init__(self, shape: Any, axis_names: Any, devices: Any = None) -> None:
        if not shape or not axis_names:
            raise ValueError(
                "Shape and axis_names cannot be empty. Received: "
                f"shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                "Shape and axis_names should have same size. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        devices = np.array(list_devices() if devices is None else devices)
        if math.prod(shape) != math.prod(devices.shape):
            raise ValueError(
                "Shape does not match the number of devices. "
                f"Received: shape={shape}; devices.shape={devices.shape}"
            )
        self._shape = shape
        self._axis_names = axis_names
        self._devices = np.reshape(devices, shape)
        self._backend_mesh: Any = None

    @property
    def shape(self) -> Any:
        return self._shape

    @property
    def axis_names(self) -> Any:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self) -> Any:
        """torch's `DeviceMesh` of these devices' ranks (None outside a process group)."""
        if self._backend_mesh is None and dist.is_available() and dist.is_initialized():
            from torch.distributed.device_mesh import DeviceMesh as TorchMesh

            ranks = _ranks(self._devices)
            world = distributed.world_size()
            if ranks.max() >= world or len(np.unique(ranks)) != ranks.size:
                raise ValueError(
                    f"{self!r}: its devices {self._devices.tolist()} must be distinct "
                    f"processes of the process group (ranks 0 to {world - 1})"
                )
            kind = str(self._devices.flat[0]).rpartition(":")[0]
            self._backend_mesh = TorchMesh(
                _TYPES.get(kind, kind),
                torch.from_numpy(ranks),
                mesh_dim_names=tuple(self._axis_names),
            )
        return self._backend_mesh

    def __repr__(self) -> str:
        return f"<{type(self).__name__} shape={self.shape}, axis_names={self.axis_names}>"

    __str__ = __repr__


class TensorLayout:
    """How a tensor's axes map to a mesh's axes: one mesh axis name (sharded along it) or
    None (not sharded) per tensor axis, as Keras' `TensorLayout`.

    Args:
        axes: the mesh axis name or None for each tensor axis.
        device_mesh: the `DeviceMesh` (may be set once later, e.g. by a `LayoutMap`).

    `backend_layout` is the torch placements, one per mesh axis: `Shard(tensor axis)` where a
    tensor axis names it, `Replicate()` elsewhere.

    >>> mesh = DeviceMesh((1, 1), ["batch", "model"], devices=["cpu:0"])
    >>> TensorLayout((None, "model"), mesh).backend_layout
    (Replicate(), Shard(dim=1))
    """

    def __init__(self, axes: Any, device_mesh: DeviceMesh | None = None) -> None:
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self) -> tuple[Any, ...]:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError(
                f"Cannot override device mesh value. Existing value is {self._device_mesh}"
            )
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def backend_layout(self) -> tuple[Any, ...]:
        """torch placements (`Shard`/`Replicate`), one per axis of the mesh."""
        from torch.distributed.tensor import Replicate, Shard

        if self._device_mesh is None:
            raise ValueError(f"{self!r} has no device_mesh: give one to place a tensor")
        placements: list[Any] = []
        for name in self._device_mesh.axis_names:
            dims = [dim for dim, axis in enumerate(self._axes) if axis == name]
            if len(dims) > 1:
                raise ValueError(
                    f"{self!r}: mesh axis {name!r} shards several tensor axes {dims}; a mesh "
                    "axis can shard one tensor axis"
                )
            placements.append(Shard(dims[0]) if dims else Replicate())
        return tuple(placements)

    def _validate_axes(self) -> None:
        if self._device_mesh:
            valid = set(self._device_mesh.axis_names)
            names = set(self._axes) - {None}
            if names - valid:
                raise ValueError(
                    f"Invalid axis names for Layout. Valid axis names: {valid}, Got {names}"
                )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} axes={self.axes}, device_mesh={self.device_mesh}>"

    __str__ = __repr__


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths (regular expressions) to `TensorLayout`s, as Keras' `LayoutMap`.

    A key found as it is wins; otherwise every key is tried as a regex against the whole
    path, and more than one match is an error. Tuples of axis names are taken as layouts.

    Args:
        device_mesh: the `DeviceMesh` the layouts refer to.

    >>> layout_map = LayoutMap(DeviceMesh((1,), ["model"], devices=["cpu:0"]))
    >>> layout_map[".*dense.*kernel"] = (None, "model")
    >>> layout_map["sequential/dense_1/kernel"].axes
    (None, 'model')
    >>> layout_map["sequential/conv2d/kernel"] is None
    True
    """

    def __init__(self, device_mesh: DeviceMesh | None) -> None:
        self._layout_map: collections.OrderedDict[str, TensorLayout] = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key: str) -> TensorLayout | None:
        if key in self._layout_map:
            return self._layout_map[key]
        matching = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple layout specification keys: {matching}. Please "
                "make sure each tensor/variable path only matches at most one layout "
                "specification key in the LayoutMap."
            )
        return self._layout_map[matching[0]] if matching else None

    def __setitem__(self, key: str, layout: Any) -> None:
        if key in self._layout_map:
            raise ValueError(
                f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. "
                "Please make sure to not use duplicated keys."
            )
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key: str) -> None:
        self._layout_map.pop(key)

    def __len__(self) -> int:
        return len(self._layout_map)

    def __iter__(self) -> Any:
        return iter(self._layout_map)

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """`self[key]` (regex lookup; None when nothing matches)."""
        found = self[key]
        return default if found is None else found
