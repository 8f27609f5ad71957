"""Claim: lamina's `fit` trains the Keras MNIST convnet at least as fast as a hand-written eager
PyTorch loop (>= 1.0x) and at least 1.3x as fast as Keras 3 on its torch backend, on CPU.

Method: one epoch of the classic MNIST convnet (batch 128, Adam, real MNIST) per measurement;
lamina, the hand-written loop and Keras take turns, round after round, in one invocation; each
framework's first epoch is a warm-up that is not counted; the medians of the images per second
and their ratios are printed. Keras runs in a worker process of its own Python (it is never a
lamina dependency): set KERAS_PYTHON to a Python with keras and torch installed
(e.g. `python3 -m venv /tmp/kenv && /tmp/kenv/bin/pip install torch==2.13.0 keras`); without
it, the Keras column is skipped and the script says so.

    python bench/cpu_fit.py --rounds 3 --samples 60000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lamina  # noqa: E402
from lamina.cli import mnist_convnet  # noqa: E402
from lamina.datasets import mnist  # noqa: E402

BATCH = 128

KERAS_WORKER = r"""
import json, os, sys, time
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np, torch, keras
from keras import layers
torch.set_num_threads(int(sys.argv[2]))
data = np.load(sys.argv[1])
x, y = data["x"], data["y"]
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
print(json.dumps({"ready": keras.__version__}), flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    model.fit(x, y, batch_size=int(line), epochs=1, verbose=0)
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
"""


def load(samples: int) -> tuple[np.ndarray, np.ndarray]:
    (x, y), _ = mnist.load_data()
    x = (x[:samples].astype("float32") / 255.0)[..., None]
    return x, y[:samples].astype("int64")


class LaminaRunner:
    name = "lamina fit"

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y
        self.model = mnist_convnet()
        self.model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=BATCH, epochs=1, verbose=0)
        return time.perf_counter() - start


class TorchLoopRunner:
    """What a careful PyTorch user writes: NCHW tensors in memory, randperm, eager steps."""

    name = "hand-written torch loop"

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        device = lamina.config.device()
        self.x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
        self.y = torch.from_numpy(y).to(device)
        self.model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Dropout(0.5),
            torch.nn.Linear(1600, 10),
        ).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.loss = torch.nn.CrossEntropyLoss()

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.train()
        order = torch.randperm(len(self.x), device=self.x.device)
        correct = torch.zeros((), device=self.x.device)
        for i in range(0, len(self.x), BATCH):
            index = order[i : i + BATCH]
            xb, yb = self.x[index], self.y[index]
            logits = self.model(xb)
            loss = self.loss(logits, yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            correct += (logits.argmax(1) == yb).sum()
        float(correct)
        return time.perf_counter() - start


class KerasRunner:
    name = "keras 3 (torch backend)"

    def __init__(self, python: str, x: np.ndarray, y: np.ndarray, threads: int) -> None:
        self.data = Path(os.environ.get("TMPDIR", "/tmp")) / "lamina_bench_mnist.npz"
        np.savez(self.data, x=x, y=y)
        self.process = subprocess.Popen(
            [python, "-c", KERAS_WORKER, str(self.data), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = json.loads(self._read())["ready"]

    def _read(self) -> str:
        if self.process.stdout is None:
            raise RuntimeError("the Keras worker has no stdout")
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the Keras worker stopped")
            if line.startswith("{"):
                return line

    def epoch(self) -> float:
        if self.process.stdin is None:
            raise RuntimeError("the Keras worker has no stdin")
        self.process.stdin.write(f"{BATCH}\n")
        self.process.stdin.flush()
        return json.loads(self._read())["seconds"]

    def close(self) -> None:
        self.process.kill()
        self.data.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lamina.config.set_random_seed(0)
    x, y = load(args.samples)
    runners: list = [LaminaRunner(x, y), TorchLoopRunner(x, y)]
    keras_python = os.environ.get("KERAS_PYTHON")
    if keras_python:
        runners.append(KerasRunner(keras_python, x, y, args.threads))
    else:
        print("KERAS_PYTHON is not set: the Keras 3 column is skipped")
    print(
        f"torch {torch.__version__} on {lamina.config.device()}, {args.threads} threads, "
        f"{len(x)} images per epoch, "
        f"batch {BATCH}, {args.rounds} timed rounds after one warm-up"
    )
    times: dict[str, list[float]] = {r.name: [] for r in runners}
    for round_index in range(args.rounds + 1):
        for runner in runners:
            seconds = runner.epoch()
            if round_index > 0:
                times[runner.name].append(seconds)
            label = "warm-up" if round_index == 0 else f"round {round_index}"
            print(f"  {label:8s} {runner.name:26s} {len(x) / seconds:8.0f} img/s", flush=True)
    for runner in runners:
        if isinstance(runner, KerasRunner):
            runner.close()
    rates = {name: len(x) / statistics.median(values) for name, values in times.items()}
    base = rates["lamina fit"]
    print("\nmedian images/second and lamina's speed ratio against each:")
    for name, rate in rates.items():
        print(f"  {name:26s} {rate:8.0f} img/s   lamina / this = {base / rate:.2f}x")


if __name__ == "__main__":
    main()
