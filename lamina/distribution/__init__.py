"""Training on several processes (GPUs, machines) with torchrun and DistributedDataParallel.

Write the script as for one process and launch it with torchrun (`python -m
torch.distributed.run`); `fit` and `evaluate` see torchrun's environment and do the rest.

One machine, 4 GPUs (or 4 CPU processes)::

    torchrun --nproc_per_node=4 train.py

Several machines: run the same command on each, with torchrun's rendezvous to find the others
(here 2 machines of 8 GPUs; `host:port` is reachable from all of them, usually the first)::

    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_id=job42 \\
        --rdzv_backend=c10d --rdzv_endpoint=host:29400 train.py

(`--node_rank=0/1` with `--master_addr`/`--master_port` in place of the rendezvous options
works too.) Every process must see the same data files; only process 0 writes files.

What lamina does in each process, once `fit` (or `evaluate`) is called:

- creates the process group if the script has not (`init_from_environment`): NCCL when CUDA is
  available, each process on `cuda:LOCAL_RANK`; gloo on CPU. A group created by the script
  (`torch.distributed.init_process_group`) is used as it is.
- wraps the model's forward pass in `torch.nn.parallel.DistributedDataParallel`, which starts
  every process from process 0's weights and all-reduces the gradients during `backward`; the
  optimizer step is lamina's, the same on every process.
- `batch_size` is the global batch (as in Keras' distribution): with NumPy arrays or tensors,
  every process takes its contiguous part of each global batch, in an order process 0 draws at
  each epoch (from torch's global random generator, as in one process). Gradients are weighted
  by each process's share of the batch, so an uneven last batch gives the gradient of the
  global mean loss (each process's loss is scaled by its share before DDP averages the
  gradients); a process left without samples (a last batch smaller than the number of
  processes) steps on padding that counts for nothing. With arrays, training matches one
  process with the same global batch to float rounding.
- other inputs (torch Datasets and DataLoaders, lamina.data.Dataset, generators) are read by
  each process as given, so shard them yourself: a DataLoader with a
  `torch.utils.data.distributed.DistributedSampler` (call its `set_epoch` per epoch, e.g. in
  a callback's `on_epoch_begin`), batches of `global batch / processes`, and the same number of
  batches on every process. Gradients are then averaged over processes (DDP's default).
- with an optimizer's `gradient_accumulation_steps=k`, the k - 1 steps that only accumulate
  run under DDP's `no_sync` (no communication); the update step all-reduces its gradient and
  the accumulated sums, so training still matches one process (with float16 loss scaling
  every step synchronises, so that all processes skip the same overflowing steps).
- the loss and metrics are summed over processes at the end of each epoch, of validation and
  of `evaluate`, so every process logs the global values (History, EarlyStopping,
  ReduceLROnPlateau decide alike everywhere). Logs read during an epoch (the progress bar,
  batch-level callbacks) are the process's own running values.
- only process 0 prints (progress bar, callback messages) and writes files (`save`,
  `save_weights`, ModelCheckpoint, BackupAndRestore, CSVLogger, TensorBoard).

`predict` on NumPy arrays or tensors gives each process a contiguous block of the samples
and joins the blocks (all_gather), so every process returns all the predictions, as in one
process; other inputs (generators, Datasets) are predicted whole by each process.

Keras 3's `keras.distribution` API is here on torch.distributed: `list_devices()` and
`get_device_count()` (one device per process in a process group, indexed by rank);
`initialize(job_addresses, num_processes, process_id)` creates the process group
(`torch.distributed.init_process_group`, gloo or NCCL) where torchrun is not used; a
`DeviceMesh` is a torch `DeviceMesh` of those ranks, a `TensorLayout` torch's
`Shard`/`Replicate` placements, and `distribute_tensor(tensor, layout)` a DTensor.
`DataParallel` (`set_distribution`, `scope()`) is what `fit` does in a process group;
`ModelParallel` and `LayoutMap` compute Keras' layouts, but `fit` does not shard weights, so
`set_distribution` refuses a ModelParallel with a model axis of more than one device (its
error says what works instead). Without torchrun, each process of a job calls::

    lamina.distribution.initialize("10.0.0.1:1234", num_processes=2, process_id=0)  # or 1
    lamina.distribution.set_distribution(lamina.distribution.DataParallel())
    model.fit(x, y, batch_size=64)  # the global batch, split between the processes

BatchNormalization computes its training statistics on each process's part of the batch;
with `BatchNormalization(synchronized=True)` it uses the whole global batch (two all-reduces
per layer and step), so training matches one process with the same global batch.

Limits: a callback stopping training from batch-level logs (TerminateOnNaN) may stop the
processes at different batches; a mid-epoch BackupAndRestore backup holds process 0's running
loss and metrics only, so the resumed epoch's logs are not the global ones.

>>> import lamina
>>> lamina.distribution.is_distributed(), lamina.distribution.world_size()
(False, 1)
"""

from ..training.distributed import (
    init_from_environment,
    is_distributed,
    launched_by_torchrun,
    rank,
    world_size,
)
from ._layouts import (
    DeviceMesh,
    LayoutMap,
    TensorLayout,
    get_device_count,
    initialize,
    list_devices,
)
from ._strategies import (
    DataParallel,
    ModelParallel,
    distribute_tensor,
    distribution,
    set_distribution,
)

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "LayoutMap",
    "ModelParallel",
    "TensorLayout",
    "distribute_tensor",
    "distribution",
    "get_device_count",
    "init_from_environment",
    "initialize",
    "is_distributed",
    "launched_by_torchrun",
    "list_devices",
    "rank",
    "set_distribution",
    "world_size",
]
