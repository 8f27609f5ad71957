"""Claim: a compiled lamina step costs the host no more than a compiled hand-written loop's, and
light guards (lamina/training/jit.py) cut that cost. On a fast GPU airbench94's step is bound by
the host (3.6 ms of GPU time with CUDA graphs against 6.7 ms for the loop without, on an H200),
so this measures the host's share on the CPU, where no GPU is at hand.

Method: proxies whose kernels are small, so a step's time is mostly the host's:
airbench94 with conv widths 4/8/8 at batch 2, and a ResNet-18-shaped network of width 8 on
16x16 images at batch 4, both uint8 CIFAR-shaped synthetic data, one thread. Three variants
take turns, one epoch each per turn, in one process, after two warm-up epochs: lamina `fit`
with `jit_compile=True` (light guards), the same with every guard checked on every step (as
before light guards), and the compiled hand-written loop (the torch.nn twin under
`torch.compile`, loss and accuracy eager). Then the compiled forward call alone, all
guards against light guards, in alternating pairs, each right after a full train step (so
the caches are as cold as in training). Medians and ratios are printed; this machine's wall
time varies by +-30% from run to run, so compare within a run. On the CPU lamina's compiled
steps recompute views in the backward graph (lamina/training/jit.py: compile_step), so their
kernels match the compiled loop's and the difference is the host's; on a GPU the partition
stays torch's.

    python bench/host_time.py --rounds 15
    python bench/host_time.py --rounds 2 --pairs 20   # logic check
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _models  # noqa: E402

PROXIES = {  # name: (bench model, input side, batch)
    "airbench94": ("airbench94", 32, 2),
    "resnet18": ("tiny18", 16, 4),
}


def proxy_data(name: str, steps: int) -> tuple[str, torch.Tensor, torch.Tensor, int]:
    model, side, batch = PROXIES[name]
    _models.AIRBENCH_WIDTHS = (4, 8, 8)
    _models.RESNETS["tiny18"] = (8, (8, 8, 8, 8), 2)
    _models.INPUT_SHAPES["tiny18"] = (side, side, 3)
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(
        0, 255, (steps * batch, side, side, 3), dtype=torch.uint8, generator=generator
    )
    y = torch.randint(0, 10, (steps * batch,), generator=generator)
    return model, x, y, batch


def epochs(name: str, steps: int, rounds: int) -> dict[str, float]:
    model, x, y, batch = proxy_data(name, steps)
    light = _models.LaminaRunner(model, x, y, batch, jit_compile=True)
    full = _models.LaminaRunner(model, x, y, batch, jit_compile=True)
    full.model._trainer.guard_passes._supported = False  # every guard on every step
    loop = _models.TorchLoopRunner(model, x, y, batch, torch.device("cpu"), compile_model=True)
    runners: dict[str, Any] = {
        "lamina fit, light guards": light,
        "lamina fit, all guards": full,
        "compiled torch loop": loop,
    }
    for runner in runners.values():
        runner.run(1)
        runner.run(1)
    times: dict[str, list[float]] = {key: [] for key in runners}
    for _ in range(rounds):
        for key, runner in runners.items():
            times[key].append(runner.run(1) / steps * 1e3)
    medians = {key: statistics.median(values) for key, values in times.items()}
    for key, values in times.items():
        print(f"  {key:26s} {medians[key]:7.3f} ms/step (min {min(values):.3f})")
    return medians


def forward_pairs(name: str, pairs: int) -> tuple[float, float]:
    model, x, y, batch = proxy_data(name, 4)
    runner = _models.LaminaRunner(model, x, y, batch, jit_compile=True)
    runner.run(1)
    trainer = runner.model._trainer
    compiled = trainer._compiled_steps[0]
    xb, yb = x[:batch], y[:batch]
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(pairs):
        for light in (False, True):
            trainer.run_train_step(xb, yb, None)
            with torch.compiler.set_stance("default", skip_guard_eval_unsafe=light):
                start = time.perf_counter()
                loss, _ = compiled(xb, yb, None)
                times[light].append((time.perf_counter() - start) * 1e3)
            trainer._backward_and_update(loss)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="airbench94,resnet18")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread")
    for name in args.models.split(","):
        print(f"\n{name} proxy: {args.steps} steps per epoch, {args.rounds} rounds")
        medians = epochs(name, args.steps, args.rounds)
        loop = medians["compiled torch loop"]
        light, full = medians["lamina fit, light guards"], medians["lamina fit, all guards"]
        print(
            f"  speed against the compiled loop: light guards {loop / light:.3f}x, "
            f"all guards {loop / full:.3f}x; light against all {full / light:.3f}x"
        )
        every, only_tensors = forward_pairs(name, args.pairs)
        print(
            f"  compiled forward call after a train step ({args.pairs} pairs, medians): "
            f"all guards {every:.3f} ms, light guards {only_tensors:.3f} ms, "
            f"saved {every - only_tensors:.3f} ms"
        )


if __name__ == "__main__":
    main()
