"""Claim: on one GPU, lamina's `fit` (mixed_bfloat16, channels_last, jit_compile=True) trains
ResNet-18 (CIFAR variant) and the airbench94 network at >= 0.95x the images per second of a
hand-optimised PyTorch loop with the same settings, and >= 2x Keras 3 on its torch backend.

Method: synthetic CIFAR-shaped data (random uint8 images 32x32x3, 10 classes; the number of
samples is cut to a whole number of batches), resident on the GPU as one tensor. Each
framework trains the same network (bench/_models.py) with the same optimizer (SGD, learning
rate 0.01, Nesterov momentum 0.9) and loss:

  (a) lamina: `set_global_policy('mixed_bfloat16')` before building, Dense head in float32,
      `compile(jit_compile=True)`, `fit` on the device tensors (channels_last weights are
      lamina's own doing on CUDA);
  (a') the same with `compile(cuda_graphs=True)` (torch.compile's 'reduce-overhead' mode:
      the compiled graphs replay as CUDA graphs); not run with --no-compile;
  (a'') the same with `jit_compile=False` (eager steps: what 'auto' picks against);
  (b) hand-optimised PyTorch loop: the torch.nn twin, channels_last weights, bf16 autocast,
      `torch.compile(model)`, fused SGD, randperm batches of the device tensor;
  (c) Keras 3, torch backend, in a worker process of KERAS_PYTHON (skipped without it):
      mixed_bfloat16, Keras' default jit_compile ('auto' = eager on torch; --keras-jit to
      change), NumPy arrays given to `fit` (Keras' usual in-memory path);
  (d) PyTorch Lightning if importable (optional, `pip install lightning`): the twin in a
      LightningModule, precision 'bf16-mixed', channels_last, torch.compile, fused SGD, no
      logger/progress bar/checkpointing.

`torch.backends.cudnn.benchmark = True` for the whole process (a hand-optimised loop sets it;
it applies to lamina as well). Every framework first trains one epoch as a warm-up (compiles
its graphs); that time is reported apart. Then the frameworks take turns, round after round,
each training --epochs epochs per turn, timed with the device synchronised; the medians of the
images per second and lamina's ratios are printed. FLOP utilisation = forward FLOPs per image
(torch.utils.flop_counter on the torch twin: convolutions and matrix products) x 3 (forward
and backward) x images per second, over the card's bf16 matmul rate measured in this run
(8192^3 products).

    python bench/gpu.py                     # one H200: about 4 minutes (2026-11-27)
    python bench/gpu.py --tiny              # logic check on CPU in seconds (numbers mean nothing)
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _models  # noqa: E402

import lamina  # noqa: E402

GOALS = {"hand-optimised torch loop": 0.95, "keras 3 (torch backend)": 2.0}


def matmul_rate(device: torch.device, size: int, repeats: int) -> float:
    """FLOP/s of a (size x size) @ (size x size) bf16 product, the card's practical peak."""
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    _models.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _models.synchronize(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def power_limit() -> str:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=power.limit,clocks.max.sm", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return "nvidia-smi not available"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def make_runners(name: str, x: torch.Tensor, y: torch.Tensor, args: Any) -> list[Any]:
    device = x.device
    compile_steps = args.compile

    def lamina_variant(label: str, **options: Any) -> tuple[str, Any]:
        """A lamina variant: mixed_bfloat16, the given compile options."""
        return label, lambda: _models.LaminaRunner(
            name, x, y, args.batch, policy="mixed_bfloat16", label=label, **options
        )

    makers: list[tuple[str, Any]] = [lamina_variant("lamina fit", jit_compile=compile_steps)]
    if compile_steps:
        # CUDA graphs replay compiled graphs (only with compiled steps); eager steps are
        # what jit_compile='auto' would have to choose between on CUDA.
        makers.append(lamina_variant("lamina fit, CUDA graphs", jit_compile=True, cuda_graphs=True))
        makers.append(lamina_variant("lamina fit, eager", jit_compile=False))
    makers.append(
        (
            "hand-optimised torch loop",
            lambda: _models.TorchLoopRunner(
                name,
                x,
                y,
                args.batch,
                device,
                compile_model=compile_steps,
                amp_dtype=torch.bfloat16,
                label="hand-optimised torch loop",
            ),
        )
    )
    keras_python = os.environ.get("KERAS_PYTHON")
    if keras_python:
        makers.append(
            (
                "keras 3 (torch backend)",
                lambda: _models.KerasRunner(
                    keras_python,
                    name,
                    x.cpu().numpy(),
                    y.cpu().numpy(),
                    args.batch,
                    torch.get_num_threads(),
                    jit_compile=args.keras_jit,
                    policy="mixed_bfloat16",
                ),
            )
        )
    else:
        print("  KERAS_PYTHON is not set: the Keras 3 column is skipped")
    if _models.lightning_available():
        makers.append(
            (
                "pytorch lightning",
                lambda: _models.LightningRunner(
                    name, x, y, args.batch, device, compile_model=compile_steps, bf16=True
                ),
            )
        )
    else:
        print("  lightning is not importable: the PyTorch Lightning column is skipped")
    runners = []
    for label, make in makers:
        try:
            runners.append(make())
        except Exception as error:  # one framework failing must not lose the others' numbers
            print(f"  {label}: skipped, it failed to start: {type(error).__name__}: {error}")
    return runners


def bench_model(name: str, x: torch.Tensor, y: torch.Tensor, args: Any, peak: float) -> None:
    images = len(x)
    train_flops = 3 * _models.forward_flops(name)
    print(
        f"\n{name}: {images} images per epoch, batch {args.batch}, {args.epochs} epoch(s) per "
        f"turn, {args.rounds} rounds; {train_flops / 1e9:.3f} GFLOP per training image"
    )
    runners = make_runners(name, x, y, args)
    warmup: dict[str, float] = {}
    for runner in list(runners):
        try:
            warmup[runner.name] = runner.run(1)
        except Exception as error:
            print(f"  {runner.name}: skipped, its warm-up failed: {type(error).__name__}: {error}")
            runners.remove(runner)
            continue
        print(f"  warm-up  {runner.name:26s} {warmup[runner.name]:7.1f} s", flush=True)
    times: dict[str, list[float]] = {r.name: [] for r in runners}
    for round_index in range(1, args.rounds + 1):
        for runner in runners:
            seconds = runner.run(args.epochs)
            times[runner.name].append(seconds)
            rate = images * args.epochs / seconds
            print(f"  round {round_index}  {runner.name:26s} {rate:9.0f} img/s", flush=True)
    for runner in runners:
        if hasattr(runner, "close"):
            runner.close()
    rates = {n: images * args.epochs / statistics.median(v) for n, v in times.items()}
    if "lamina fit" not in rates:
        print("  lamina did not run: no ratios")
        return
    base = rates["lamina fit"]
    print(f"\n  {name}: median of {args.rounds} rounds")
    header = (
        f"  {'framework':26s} {'img/s':>9s} {'lamina/this':>11s} {'TFLOP/s':>8s} "
        f"{'% matmul':>8s} {'warm-up s':>9s} {'epoch s':>8s}"
    )
    print(header)
    for runner_name, rate in rates.items():
        achieved = rate * train_flops
        epoch = images / rate
        print(
            f"  {runner_name:26s} {rate:9.0f} {base / rate:10.2f}x {achieved / 1e12:8.1f} "
            f"{100 * achieved / peak:7.1f}% {warmup[runner_name]:9.1f} {epoch:8.2f}"
        )
    for runner_name, goal in GOALS.items():
        if runner_name in rates:
            ratio = base / rates[runner_name]
            verdict = "met" if ratio >= goal else "NOT met"
            print(f"  goal lamina >= {goal}x {runner_name}: {ratio:.2f}x, {verdict}")
    del runners
    gc.collect()
    if x.device.type == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="few small steps, CPU allowed")
    parser.add_argument("--models", default="resnet18,airbench94")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None, help="epochs per timed turn")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile / jit_compile=True (default: on, off with --tiny)",
    )
    parser.add_argument("--keras-jit", default="auto", choices=("auto", "true", "false"))
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        raise SystemExit(
            "bench/gpu.py measures a CUDA GPU and none is visible here: run it on a machine "
            "with one, or add --tiny to check the script's logic on the CPU."
        )
    tiny = {"rounds": 2, "epochs": 1, "samples": 16, "batch": 8, "compile": False}
    full = {"rounds": 3, "epochs": 1, "samples": 50000, "batch": 1024, "compile": True}
    for key, value in (tiny if args.tiny else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    device = torch.device("cuda" if cuda else "cpu")
    torch.backends.cudnn.benchmark = True
    torch._dynamo.config.cache_size_limit = 64  # several models compile the same code objects
    lamina.config.set_random_seed(0)
    name = torch.cuda.get_device_name() if cuda else "CPU (--tiny: numbers mean nothing)"
    size = 256 if args.tiny else 8192
    peak = matmul_rate(device, size, 3 if args.tiny else 50)
    print(f"device: {name}; power limit, max SM clock: {power_limit() if cuda else '-'}")
    print(
        f"torch {torch.__version__}; bf16 matmul {size}^3: {peak / 1e12:.1f} TFLOP/s "
        f"(the utilisation reference); compile: {args.compile}"
    )
    images = max(args.batch, args.samples // args.batch * args.batch)
    x = torch.randint(0, 256, (images, 32, 32, 3), dtype=torch.uint8, device=device)
    y = torch.randint(0, 10, (images,), device=device)
    for model_name in args.models.split(","):
        bench_model(model_name, x, y, args, peak)


if __name__ == "__main__":
    main()
