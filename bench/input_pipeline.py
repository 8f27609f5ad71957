"""Claim: lamina's augmentation layers (RandomFlip('horizontal') + RandomShift(2)), applied to
whole batches on the device, feed CIFAR-sized images faster (>= 1.5x) than a
torch.utils.data.DataLoader whose Dataset flips and shifts each sample in `__getitem__`, and
cost < 10% of one training step of the ConvNetJS CIFAR-10 network at batch 128 on CPU (the
goal of issue 5).

Method: real CIFAR-10 images (the bit-exact 4,000-image subset, found through LAMINA_DATASETS)
as one uint8 tensor in memory; one pass over them in batches of 128 per measurement for

  (a) lamina: index a shuffled batch, call the two layers with training=True;
  (b) DataLoader: a Dataset whose `__getitem__` flips (p = 1/2) and shifts (pad 2, random
      32x32 window, i.e. torchvision's RandomHorizontalFlip + RandomCrop(32, padding=2)) one
      image, written by hand in torch because torchvision cannot be installed beside this
      torch; default collate, shuffle=True;
  (c) no augmentation: index a shuffled batch, cast to float;

and one epoch of `fit` over the same images at batch 128 for the ConvNetJS network with the two
layers at its front and without them. Every variant runs once as a warm-up, then all take
turns, round after round, in one invocation; medians of the images per second and the ratios
are printed, with the best round beside them (on a shared CPU a neighbour's load slows some
rounds several-fold). The augmentation's share of a training step is measured twice: the time
of (a) minus (c) per batch over the step time without augmentation, and the fit time with the
layers over the fit time without them.

    LAMINA_DATASETS=../shared/datasets python bench/input_pipeline.py --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lamina  # noqa: E402
from lamina import layers  # noqa: E402
from lamina.datasets import _download  # noqa: E402

BATCH = 128
MAX_SHIFT = 2


def load_images() -> tuple[np.ndarray, np.ndarray]:
    """The exact CIFAR-10 subset: 4,000 training images (uint8, N x 32 x 32 x 3) and labels."""
    path = _download.find_local(_download.data_file("cifar10_exact_subset.npz"))
    if path is None:
        raise SystemExit(
            "cifar10_exact_subset.npz was not found: set LAMINA_DATASETS to the folder that "
            "holds it (../shared/datasets)"
        )
    with np.load(path) as stored:
        return stored["x_train"], stored["y_train"].astype("int64")


class PerSampleAugmentation(torch.utils.data.Dataset):
    """torchvision-style per-sample transforms: flip with probability 1/2, then pad by 2 and
    crop a random 32x32 window (a random whole-pixel shift of -2..2, zeros moved in)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].to(torch.float32)  # (H, W, C), as lamina's layers take it
        if torch.rand(()) < 0.5:
            image = image.flip(1)
        height, width = image.shape[:2]
        padded = torch.nn.functional.pad(image, (0, 0, MAX_SHIFT, MAX_SHIFT, MAX_SHIFT, MAX_SHIFT))
        top, left = torch.randint(0, 2 * MAX_SHIFT + 1, (2,)).tolist()
        return padded[top : top + height, left : left + width], self.labels[index]


def lamina_pass(images: torch.Tensor, augment: torch.nn.Module | None) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        order = torch.randperm(len(images))
        checksum = torch.zeros(())
        for i in range(0, len(images), BATCH):
            batch = images[order[i : i + BATCH]].to(torch.float32)
            if augment is not None:
                batch = augment(batch, training=True)
            checksum += batch[:, 0, 0, 0].sum()  # touch the output, as a model would
        float(checksum)
        return time.perf_counter() - start

    return run


def dataloader_pass(images: torch.Tensor, labels: torch.Tensor, workers: int) -> Callable:
    loader = torch.utils.data.DataLoader(
        PerSampleAugmentation(images, labels),
        batch_size=BATCH,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
    )

    def run() -> float:
        start = time.perf_counter()
        checksum = torch.zeros(())
        for batch, _ in loader:
            checksum += batch[:, 0, 0, 0].sum()
        float(checksum)
        return time.perf_counter() - start

    return run


def convnetjs_network(augment: bool) -> lamina.Model:
    """The ConvNetJS CIFAR-10 demo network (examples/cifar10_convnetjs.py, without the L2)."""
    front = [layers.RandomFlip("horizontal"), layers.RandomShift(MAX_SHIFT)] if augment else []
    body = []
    for filters in (16, 20, 20):
        body += [
            layers.Conv2D(filters, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
        ]
    return lamina.Sequential(
        [
            lamina.Input((32, 32, 3)),
            layers.Rescaling(1 / 255, offset=-0.5),
            *front,
            *body,
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def fit_pass(x: np.ndarray, y: np.ndarray, augment: bool) -> Callable[[], float]:
    model = convnetjs_network(augment)
    model.compile(
        optimizer=lamina.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-6),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    def run() -> float:
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument(
        "--workers", type=int, default=0, help="DataLoader worker processes (0: in process)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lamina.config.set_random_seed(0)
    x, y = load_images()
    images, labels = torch.from_numpy(x), torch.from_numpy(y)
    augment = lamina.Sequential([layers.RandomFlip("horizontal"), layers.RandomShift(MAX_SHIFT)])

    loader_name = f"(b) DataLoader per-sample, {args.workers} workers"
    passes = {
        "(a) lamina layers, whole batch": lamina_pass(images, augment),
        loader_name: dataloader_pass(images, labels, args.workers),
        "(c) no augmentation": lamina_pass(images, None),
        "fit ConvNetJS net, no augmentation": fit_pass(x, y, augment=False),
        "fit ConvNetJS net, lamina augmentation": fit_pass(x, y, augment=True),
    }
    print(
        "torchvision is not installed (it cannot be installed beside this torch), so (b)'s "
        "per-sample flip and shift are written by hand in torch, as torchvision's "
        "RandomHorizontalFlip + RandomCrop(32, padding=2) compute them."
    )
    print(
        f"torch {torch.__version__} on {lamina.config.device()}, {args.threads} threads, "
        f"{len(x)} CIFAR-10 images per pass, batch {BATCH}, "
        f"{args.rounds} timed rounds after one warm-up"
    )
    times: dict[str, list[float]] = {name: [] for name in passes}
    for round_index in range(args.rounds + 1):
        for name, run in passes.items():
            seconds = run()
            if round_index > 0:
                times[name].append(seconds)
            label = "warm-up" if round_index == 0 else f"round {round_index}"
            print(f"  {label:8s} {name:40s} {len(x) / seconds:9.0f} img/s", flush=True)

    median = {name: statistics.median(values) for name, values in times.items()}
    rate = {name: len(x) / seconds for name, seconds in median.items()}
    lamina_rate = rate["(a) lamina layers, whole batch"]
    best = {name: len(x) / min(values) for name, values in times.items()}
    print("\nimages/second, median (best round), and lamina's median rate over each:")
    for name in passes:
        ratio = f"(a) / this = {lamina_rate / rate[name]:.2f}x" if name[0] == "(" else ""
        print(f"  {name:40s} {rate[name]:9.0f} ({best[name]:6.0f}) img/s   {ratio}".rstrip())

    steps = -(-len(x) // BATCH)
    step = median["fit ConvNetJS net, no augmentation"] / steps
    augment_per_batch = (
        median["(a) lamina layers, whole batch"] - median["(c) no augmentation"]
    ) / steps
    fit_ratio = (
        median["fit ConvNetJS net, lamina augmentation"]
        / (median["fit ConvNetJS net, no augmentation"])
    )
    print(f"\nConvNetJS network, one training step at batch {BATCH}: {step * 1000:.1f} ms")
    print(
        f"lamina augmentation per batch ((a) - (c)): {augment_per_batch * 1000:.2f} ms = "
        f"{augment_per_batch / step:.1%} of a step (goal < 10%)"
    )
    print(
        f"fit with the layers / fit without: {fit_ratio:.3f}x = {fit_ratio - 1:+.1%} per step "
        "(goal < +10%)"
    )


if __name__ == "__main__":
    main()
