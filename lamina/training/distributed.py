"""Data-parallel training with torch.distributed: torchrun starts the processes, lamina does
the rest (the user guide is `lamina.distribution`'s docstring).

`fit` and `evaluate` call `setup` first: when the script was launched by torchrun and no
process group exists yet, one is created (NCCL on CUDA, gloo on CPU) and each process trains on
`cuda:LOCAL_RANK`. The model's forward pass is wrapped in `DistributedDataParallel`, which
averages the gradients; each process's loss is scaled by its share of the global batch first
(`GradientShare.loss_scale`), and the loss sums and metric states are summed over processes
when logs are read (`sum_tensors`).

Outside a process group every helper answers for a single process:

>>> is_distributed(), rank(), world_size()
(False, 0, 1)
>>> shard_bounds(5, rank=1, world=2)  # the second process takes samples 3:5 of a batch of 5
(3, 5)
"""

import atexit
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

__all__ = [
    "GradientShare",
    "average_in_place",
    "broadcast_from_rank0",
    "gather_blocks",
    "init_from_environment",
    "is_distributed",
    "launched_by_torchrun",
    "local_device",
    "rank",
    "shard_bounds",
    "sum_tensors",
    "world_size",
    "wrap_module",
]

# What torchrun (torch.distributed.run) sets in every process it starts.
_TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def is_distributed() -> bool:
    """True inside an initialised torch.distributed process group of more than one process."""
    return world_size() > 1


def rank() -> int:
    """This process's rank in the process group (0 without one)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes in the process group (1 without one)."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    try:
        return dist.get_world_size()
    except ValueError:  # is_initialized() patched without a default group (a test double)
        return 1


def launched_by_torchrun() -> bool:
    """True in a process started by torchrun (its environment variables are set)."""
    return all(name in os.environ for name in _TORCHRUN_VARIABLES)


def init_from_environment() -> bool:
    """Create the default process group from torchrun's environment, if there is none yet.

    The backend is NCCL when CUDA is available, else gloo; with CUDA, this process's current
    device becomes `cuda:LOCAL_RANK`. A group the user created is left as it is. Returns
    `is_distributed()`.
    """
    if not dist.is_available() or dist.is_initialized():
        return is_distributed()
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    destroy_at_exit()
    return is_distributed()


def _destroy_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def destroy_at_exit() -> None:
    """Destroy the default process group when the interpreter exits, for groups lamina made.
    Left to the interpreter's teardown, gloo's threads sometimes outlived it and a process
    aborted after its script had finished ('terminate called without an active exception':
    4 jobs in 15 of tests/distribution/test_two_processes.py on torch 2.13; 1 in 37 with this
    hook, so torch's own teardown still aborts now and then); NCCL warns without it."""
    atexit.unregister(_destroy_process_group)  # once, however often it is called
    atexit.register(_destroy_process_group)


def local_device(device: torch.device) -> torch.device:
    """`device` with this process's GPU made explicit: plain 'cuda' becomes
    `cuda:LOCAL_RANK` (an explicit index, as `set_device('cuda:1')`, is kept)."""
    if device.type == "cuda" and device.index is None:
        index = int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))
        return torch.device("cuda", index)
    return device


def shard_bounds(size: int, rank: int, world: int) -> tuple[int, int]:
    """This process's contiguous part [start, stop) of a batch of `size` samples: the first
    `size % world` processes take one sample more than the others."""
    base, extra = divmod(size, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def gather_blocks(arrays: Any, size: int, device: torch.device) -> Any:
    """Every process's block of a result joined in rank order, on every process: `arrays`
    (NumPy arrays, in any nested structure) hold this process's `shard_bounds(size)` part
    of `size` samples along the first axis; blocks are padded to one length for
    `all_gather` (on `device` with NCCL, else on the CPU) and trimmed again."""
    from ..layers._symbolic import map_structure

    world = world_size()
    bounds = [shard_bounds(size, r, world) for r in range(world)]
    longest = max(stop - start for start, stop in bounds)
    where = device if dist.get_backend() == "nccl" else torch.device("cpu")

    def gather(array: Any) -> Any:
        local = torch.as_tensor(np.ascontiguousarray(array)).to(where)
        padded = local.new_zeros((longest, *local.shape[1:]))
        padded[: len(local)] = local
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded)
        joined = [part[: stop - start] for part, (start, stop) in zip(parts, bounds, strict=True)]
        return torch.cat(joined).cpu().numpy()

    return map_structure(gather, arrays)


def broadcast_from_rank0(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` as process 0 has it, on every process (same shape and dtype everywhere)."""
    dist.broadcast(tensor, src=0)
    return tensor


def sum_tensors(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Copies of `tensors` summed over all processes: one all-reduce per dtype."""
    summed: list[torch.Tensor | None] = [None] * len(tensors)
    by_dtype: dict[torch.dtype, list[int]] = {}
    for position, tensor in enumerate(tensors):
        by_dtype.setdefault(tensor.dtype, []).append(position)
    for positions in by_dtype.values():
        flat = torch.cat([tensors[i].detach().reshape(-1) for i in positions])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for i in positions:
            count = tensors[i].numel()
            summed[i] = flat[offset : offset + count].reshape(tensors[i].shape)
            offset += count
    return [tensor for tensor in summed if tensor is not None]


def average_in_place(tensors: list[torch.Tensor]) -> None:
    """Replace each of `tensors` by its mean over all processes (one all-reduce per dtype),
    as DDP averages gradients."""
    world = world_size()
    with torch.no_grad():
        for tensor, summed in zip(tensors, sum_tensors(tensors), strict=True):
            tensor.copy_(summed / world)


@dataclass
class GradientShare:
    """This process's share of the current global batch: its samples over the global batch's
    (1 / world size for equal parts; 0 for a process stepping on padding)."""

    weight: float

    def loss_scale(self) -> float:
        """What this process's mean loss is multiplied by before the backward pass: DDP
        averages the gradients over processes, so `world size x share` makes the average
        the gradient of the global batch's mean loss, also when the parts are unequal (and
        through synchronized batch normalization's statistics, whose gradients cross
        processes)."""
        return self.weight * world_size()


def wrap_module(module: torch.nn.Module, device: torch.device) -> tuple[Any, GradientShare]:
    """`module` in DistributedDataParallel (its parameters and buffers are broadcast from
    process 0 here, so every process starts from process 0's weights), with DDP's own
    gradient averaging; the trainer scales each process's loss by `world size x share` before
    the backward pass, so that the average is the gradient of the global batch's mean loss."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    wrapped = DistributedDataParallel(module, device_ids=device_ids)
    return wrapped, GradientShare(1.0 / world_size())
