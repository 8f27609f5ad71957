"""Claim (issue 6's goals): on CPU, lamina's `fit` trains the Keras MNIST convnet and a small
CIFAR ResNet (ResNet-8: 16/32/64 channels) at >= 1.1x the speed of a hand-written eager PyTorch
loop and >= 1.4x Keras 3 on its torch backend, with a peak memory <= 1.1x the loop's. It also
measures `jit_compile=True` (torch.compile of the steps) against lamina's eager default on CPU,
and lamina with its CPU memory caching switched off (lamina/training/host_memory.py), to show
that setting's share.

lamina's default, `jit_compile='auto'`, runs eagerly unless the rest of a `fit` would take
600 s or more; then it times a trial of the compiled train step and keeps the faster one
(lamina/training/auto_jit.py). The rows "lamina fit" (a short run: eager) and "lamina fit,
long run" (the threshold set to 0 in its worker, standing for a run longer than this bench can
afford per variant: its warm-up epoch holds the trial and the compilation) show both cases;
the script prints the trial's measurements and verdict.

Method: for each model (bench/_models.py; the same Keras-API code builds lamina's and Keras'
model), lamina (eager and jit_compile=True), the hand-written loop (the torch.nn twin, eager,
randperm batches of one tensor, foreach optimizer), Keras and PyTorch Lightning, each in a
worker process of its own (so no one's process-wide settings reach another), take turns,
round after round, one epoch each per turn; each one's first epoch is a
warm-up (for jit_compile: compilation) reported apart; the medians of the images per second
and lamina's ratios are printed. For ResNet-8 a second loop runs the twin with torch's
symmetric padding=1 where Keras pads a stride-2 convolution asymmetrically (a cheaper,
different network; see bench/_models.py); the goals are against the exact twin.
MNIST: the real data set, Adam, batch 128. ResNet-8: synthetic CIFAR-shaped uint8 images
(rescaled by the model), SGD with Nesterov momentum, batch 128.

Peak memory: each variant trains one epoch (--memory-samples images) in a fresh process of its
own; the growth of the process's peak resident set (VmHWM, reset after the imports and the data
load through /proc/self/clear_refs) over the resident set at that point is reported, so
framework import footprints are not counted.

Keras runs in a worker process of its own Python (it is never a lamina dependency): set
KERAS_PYTHON to a Python with keras and torch installed (e.g. `python3 -m venv /tmp/kenv &&
/tmp/kenv/bin/pip install torch==2.13.0 keras`); without it, the Keras column is skipped and
the script says so. PyTorch Lightning is optional too (`pip install lightning` into the same
environment as lamina); without it, its column is skipped.

    python bench/cpu_fit.py --rounds 3 --samples 60000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _models  # noqa: E402

import lamina  # noqa: E402
from lamina.datasets import mnist  # noqa: E402

BATCH = 128
LAMINA, JIT, LOOP = "lamina fit", "lamina fit (jit_compile)", "hand-written torch loop"
AUTO = "lamina fit, long run"  # jit_compile='auto' as in a run of > 600 s (see variants)
LAMINA_UNTUNED = "lamina fit, malloc untuned"  # set_cpu_memory_caching(False): its share
LOOP_TORCH_PAD = "torch loop, padding=1"  # symmetric padding: not Keras' function (_models)
KERAS, LIGHTNING = "keras 3 (torch backend)", "pytorch lightning"
GOALS = {"mnist": {LOOP: 1.1, KERAS: 1.4}, "resnet8": {LOOP: 1.1, KERAS: 1.4}}
MEMORY_GOAL = 1.1


def load(model: str, samples: int) -> tuple[np.ndarray, np.ndarray]:
    if model == "mnist":
        (x, y), _ = mnist.load_data()
        x = (x[:samples].astype("float32") / 255.0)[..., None]
        return x, y[:samples].astype("int64")
    generator = np.random.default_rng(0)
    x = generator.integers(0, 256, (samples, 32, 32, 3), dtype=np.uint8)
    return x, generator.integers(0, 10, samples).astype("int64")


def make_runner(
    variant: str, model: str, x: np.ndarray, y: np.ndarray, threads: int, keras_python: str
) -> Any:
    device = lamina.config.device()
    if variant == LAMINA:
        return _models.LaminaRunner(model, x, y, BATCH)
    if variant == JIT:
        return _models.LaminaRunner(model, x, y, BATCH, jit_compile=True, label=JIT)
    if variant == AUTO:
        os.environ["LAMINA_AUTO_JIT_SECONDS"] = "0"  # this worker process only
        return _models.LaminaRunner(model, x, y, BATCH, label=AUTO)
    if variant == LAMINA_UNTUNED:
        lamina.config.set_cpu_memory_caching(False)  # this worker process only
        return _models.LaminaRunner(model, x, y, BATCH, label=LAMINA_UNTUNED)
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    if variant == LOOP:
        return _models.TorchLoopRunner(model, xt, yt, BATCH, device)
    if variant == LOOP_TORCH_PAD:
        return _models.TorchLoopRunner(
            model, xt, yt, BATCH, device, label=LOOP_TORCH_PAD, keras_padding=False
        )
    if variant == LIGHTNING:
        return _models.LightningRunner(model, xt, yt, BATCH, device)
    return _models.KerasRunner(keras_python, model, x, y, BATCH, threads)


def variants(keras_python: str, model: str) -> list[str]:
    names = [LAMINA, AUTO, LAMINA_UNTUNED, JIT, LOOP]
    if model != "mnist":  # the ResNets have stride-2 'same' convolutions
        names.append(LOOP_TORCH_PAD)
    if keras_python:
        names.append(KERAS)
    if _models.lightning_available():
        names.append(LIGHTNING)
    return names


def memory_worker(args: argparse.Namespace) -> None:
    """One variant, one epoch, in this fresh process: print the peak-memory growth (KiB)."""
    with np.load(args.memory_worker[2]) as data:
        x, y = data["x"], data["y"]
    variant, model = args.memory_worker[:2]
    _models.reset_peak_rss()
    base = _models.maxrss_kb()
    runner = make_runner(variant, model, x, y, args.threads, os.environ.get("KERAS_PYTHON", ""))
    runner.run(1)
    if isinstance(runner, _models.KerasRunner):
        growth = runner.maxrss_kb - runner.base_kb
        runner.close()
    else:
        growth = _models.maxrss_kb() - base
    print(json.dumps({"growth_kb": growth}), flush=True)


class ProcessRunner(_models.JsonWorker):
    """One variant in a fresh process of its own (this script, `--runner-worker`), so that
    no framework's process-wide settings reach another's: lamina's malloc tuning during fit
    (lamina/training/host_memory.py), thread pools, compile caches."""

    def __init__(self, variant: str, model: str, data: Path, threads: int) -> None:
        self.name = variant
        command = [sys.executable, __file__, "--threads", str(threads)]
        super().__init__(command + ["--runner-worker", variant, model, str(data)])

    def run(self, epochs: int) -> float:
        answer = self.ask(str(epochs))
        self.auto = answer.get("auto")
        return answer["seconds"]


def runner_worker(args: argparse.Namespace) -> None:
    """The worker side of ProcessRunner: each stdin line 'epochs' trains and answers."""
    variant, model, path = args.runner_worker
    with np.load(path) as data:
        x, y = data["x"], data["y"]
    runner = make_runner(variant, model, x, y, args.threads, os.environ.get("KERAS_PYTHON", ""))
    print(json.dumps({"ready": variant}), flush=True)
    for line in sys.stdin:
        answer: dict[str, Any] = {"seconds": runner.run(int(line))}
        trainer = getattr(getattr(runner, "model", None), "_trainer", None)
        if variant == AUTO and trainer is not None:
            auto = trainer.auto_jit
            answer["auto"] = [auto.verdict, auto.eager_step, auto.compiled_step]
            answer["auto"].append(auto.compile_seconds)
        print(json.dumps(answer), flush=True)


def peak_memory(model: str, x: np.ndarray, y: np.ndarray, args: Any, names: list[str]) -> dict:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"lamina_bench_memory_{os.getpid()}.npz"
    np.savez(path, x=x, y=y)
    growth = {}
    try:
        for variant in names:
            command = [sys.executable, __file__, "--threads", str(args.threads)]
            command += ["--memory-worker", variant, model, str(path)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if not lines:
                print(f"  memory of {variant}: the worker failed\n{done.stderr[-2000:]}")
                continue
            growth[variant] = json.loads(lines[-1])["growth_kb"] / 1024
            print(f"  peak memory growth {variant:26s} {growth[variant]:8.1f} MiB", flush=True)
    finally:
        path.unlink(missing_ok=True)
    return growth


def bench_model(model: str, args: Any, keras_python: str) -> None:
    samples = args.samples if model == "mnist" else args.cifar_samples
    x, y = load(model, samples)
    names = variants(keras_python, model)
    print(f"\n{model}: {len(x)} images per epoch, batch {BATCH}, {args.rounds} timed rounds")
    data = Path(os.environ.get("TMPDIR", "/tmp")) / f"lamina_bench_runners_{os.getpid()}.npz"
    np.savez(data, x=x, y=y)
    runners = [
        make_runner(n, model, x, y, args.threads, keras_python)
        if n == KERAS  # Keras has a process of its own already
        else ProcessRunner(n, model, data, args.threads)
        for n in names
    ]
    times: dict[str, list[float]] = {r.name: [] for r in runners}
    trial = None
    warmup: dict[str, float] = {}
    for round_index in range(args.rounds + 1):
        for runner in runners:
            seconds = runner.run(1)
            if round_index == 0:
                warmup[runner.name] = seconds
            else:
                times[runner.name].append(seconds)
            trial = getattr(runner, "auto", None) or trial
            label = "warm-up" if round_index == 0 else f"round {round_index}"
            print(f"  {label:8s} {runner.name:26s} {len(x) / seconds:8.0f} img/s", flush=True)
    for runner in runners:
        runner.close()
    data.unlink(missing_ok=True)
    del runners
    memory_x, memory_y = x[: args.memory_samples], y[: args.memory_samples]
    growth = peak_memory(model, memory_x, memory_y, args, names) if args.memory_samples else {}
    rates = {name: len(x) / statistics.median(values) for name, values in times.items()}
    base = rates[LAMINA]
    print(f"\n  {model}: median images/second, lamina's (eager) speed ratio against each,")
    print(f"  warm-up epoch, peak memory growth over {len(memory_x)} images (fresh processes)")
    print(f"  {'variant':26s} {'img/s':>8s} {'lamina/this':>11s} {'warm-up s':>9s} {'MiB':>7s}")
    for name, rate in rates.items():
        memory = f"{growth[name]:7.1f}" if name in growth else "      -"
        print(f"  {name:26s} {rate:8.0f} {base / rate:10.2f}x {warmup[name]:9.1f} {memory}")
    for name, goal in GOALS[model].items():
        for mine in (LAMINA, AUTO):
            if name in rates and mine in rates:
                ratio = rates[mine] / rates[name]
                print(f"  goal {mine} >= {goal}x {name}: {ratio:.2f}x, {_verdict(ratio >= goal)}")
    if LAMINA in growth and LOOP in growth:
        ratio = growth[LAMINA] / max(growth[LOOP], 1e-9)
        print(
            f"  goal lamina peak memory <= {MEMORY_GOAL}x the loop's: {ratio:.2f}x, "
            f"{_verdict(ratio <= MEMORY_GOAL)}"
        )
    print(
        f"  jit_compile=True on CPU: {rates[JIT] / base:.2f}x eager's speed "
        f"({'faster' if rates[JIT] > base else 'slower'}), "
        f"{warmup[JIT] - len(x) / rates[JIT]:.1f} s of compilation in the warm-up"
    )
    if trial:
        verdict, eager, compiled, compiling = trial
        if verdict is None:
            print("  jit_compile='auto' in a long run: not tried for this model (see auto_jit)")
        else:
            print(
                f"  jit_compile='auto' in a long run: eager step {1e3 * eager:.1f} ms, compiled "
                f"{1e3 * (compiled or 0):.1f} ms, compiling {compiling or 0:.1f} s: {verdict}"
            )
    if LOOP in rates:  # for reference: the long-run row above is 'auto''s choice
        print(f"  jit_compile=True against the hand-written loop: {rates[JIT] / rates[LOOP]:.2f}x")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60000, help="MNIST images per epoch")
    parser.add_argument("--cifar-samples", type=int, default=4096, help="ResNet-8 images")
    parser.add_argument(
        "--memory-samples", type=int, default=4096, help="images per memory run (0: none)"
    )
    parser.add_argument("--models", default="mnist,resnet8")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--memory-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--runner-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lamina.config.set_random_seed(0)
    if args.memory_worker:
        memory_worker(args)
        return
    if args.runner_worker:
        runner_worker(args)
        return
    keras_python = os.environ.get("KERAS_PYTHON", "")
    if not keras_python:
        print("KERAS_PYTHON is not set: the Keras 3 column is skipped")
    if not _models.lightning_available():
        print("lightning is not importable: the PyTorch Lightning column is skipped")
    print(f"torch {torch.__version__} on {lamina.config.device()}, {args.threads} threads")
    for model in args.models.split(","):
        bench_model(model, args, keras_python)


if __name__ == "__main__":
    main()
