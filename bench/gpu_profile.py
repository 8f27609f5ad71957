"""Where a training step's time goes on one GPU: lamina `fit` (eager and compiled) against the
hand-written loop (eager and compiled), same network, bf16 autocast/policy, channels_last.

For each variant: seconds per step over an epoch of --steps batches (device synchronised,
after a warm-up epoch), the GPU time its kernels take per step (torch.profiler), how many
kernels it launches, its top kernels, host-synchronising CUDA calls, and for compiled lamina
the graph count and graph breaks torch._dynamo reports. A step whose wall time is well above
its kernel time is bound by the host (Python, launches, synchronisation), not by the GPU.

    python bench/gpu_profile.py                  # one GPU: about 2 minutes
    python bench/gpu_profile.py --tiny           # logic check on the CPU
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _models  # noqa: E402

SYNC_CALLS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")


def device_time(event: Any) -> float:
    """Self time of an event on the device, in microseconds (the attribute's name changed)."""
    for name in ("self_device_time_total", "self_cuda_time_total"):
        if hasattr(event, name):
            return float(getattr(event, name))
    return 0.0


def make(variant: str, name: str, x: torch.Tensor, y: torch.Tensor, batch: int) -> Any:
    if variant.startswith("lamina"):
        runner = _models.LaminaRunner(
            name,
            x,
            y,
            batch,
            jit_compile="compiled" in variant,
            policy="mixed_bfloat16",
            label=variant,
        )
        if "all guards" in variant:  # as before light guards (lamina/training/jit.py)
            runner.model._trainer.guard_passes._supported = False
        return runner
    return _models.TorchLoopRunner(
        name,
        x,
        y,
        batch,
        x.device,
        compile_model="compiled" in variant,
        amp_dtype=torch.bfloat16,
        label=variant,
    )


def report(variant: str, runner: Any, steps: int, cuda: bool) -> None:
    from torch._dynamo.utils import counters

    compiled = {k: v for k, v in counters["stats"].items() if "graph" in k}
    warm_breaks = sum(counters["graph_break"].values())
    counters.clear()
    start = time.perf_counter()
    runner.run(1)
    wall = (time.perf_counter() - start) / steps
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        runner.run(1)
    events = prof.key_averages()
    kernels = [e for e in events if device_time(e) > 0 and not e.key.startswith("aten::")]
    gpu = sum(device_time(e) for e in kernels) / steps / 1e3
    launches = sum(e.count for e in kernels) / steps
    syncs = {e.key: e.count for e in events if e.key in SYNC_CALLS}
    copies = {e.key: e.count for e in events if e.key.startswith("cudaMemcpy")}
    graphs = {k: v for k, v in counters["stats"].items() if "graph" in k}
    breaks = sum(counters["graph_break"].values())
    print(
        f"  {variant:27s} wall {1e3 * wall:7.2f} ms/step  kernels {gpu:7.2f} ms/step  "
        f"{launches:6.0f} kernels/step  syncs/step {sum(syncs.values()) / steps:.1f} "
        f"{syncs}  memcpy {copies}",
        flush=True,
    )
    if "compiled" in variant:
        print(
            f"    dynamo in the warm-up: {compiled}, {warm_breaks} graph breaks; in the timed "
            f"epochs: {graphs}, {breaks} graph breaks"
        )
    top = sorted(kernels, key=device_time, reverse=True)[:8]
    for e in top:
        print(f"      {device_time(e) / steps / 1e3:6.2f} ms {e.count // steps:4d}x  {e.key[:90]}")
    if not cuda:
        cpu = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:5]
        for e in cpu:
            print(f"      cpu {e.self_cpu_time_total / steps / 1e3:6.2f} ms  {e.key[:80]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--models", default="resnet18,airbench94")
    parser.add_argument(
        "--variants",
        default="lamina eager,loop eager,lamina compiled,lamina compiled all guards,loop compiled",
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        raise SystemExit("no CUDA device: add --tiny to check the logic on the CPU")
    steps = args.steps or (2 if args.tiny else 20)
    batch = args.batch or (4 if args.tiny else 1024)
    device = torch.device("cuda" if cuda else "cpu")
    torch.backends.cudnn.benchmark = True
    torch._dynamo.config.cache_size_limit = 64
    warnings.filterwarnings("ignore", message="TensorFloat32 tensor cores")
    print(f"device: {torch.cuda.get_device_name() if cuda else 'CPU'}; torch {torch.__version__}")
    x = torch.randint(0, 256, (steps * batch, 32, 32, 3), dtype=torch.uint8, device=device)
    y = torch.randint(0, 10, (steps * batch,), device=device)
    for name in args.models.split(","):
        print(f"\n{name}: batch {batch}, {steps} steps per epoch", flush=True)
        for variant in args.variants.split(","):
            try:
                runner = make(variant, name, x, y, batch)
                start = time.perf_counter()
                runner.run(1)  # warm-up: compiles, autotunes cuDNN
                print(f"  {variant:27s} warm-up {time.perf_counter() - start:.1f} s", flush=True)
                report(variant, runner, steps, cuda)
            except Exception as error:  # one variant failing must not lose the others
                print(f"  {variant}: failed: {type(error).__name__}: {error}", flush=True)
            runner = None
            if cuda:
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
