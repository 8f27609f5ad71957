"""The `lamina` command: `lamina demo` trains the classic MNIST convnet.

Run `lamina demo --help` for options.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

__all__ = ["main", "mnist_convnet"]


def mnist_convnet() -> object:
    """The classic Keras MNIST convnet (34,826 parameters).

    >>> mnist_convnet().count_params()
    34826
    """
    from . import layers
    from .models import Sequential

    return Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_convnet",
    )


def demo(epochs: int, batch_size: int, output: str, seed: int) -> float:
    """Train the MNIST convnet on real MNIST, print the test accuracy, save the weights."""
    import numpy as np

    from . import config
    from .datasets import mnist

    config.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train.astype("float32") / 255.0)[..., np.newaxis]
    x_test = (x_test.astype("float32") / 255.0)[..., np.newaxis]
    print(f"MNIST: {len(x_train)} training and {len(x_test)} test images on {config.device()}")

    model = mnist_convnet()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"Test loss: {loss:.4f}  Test accuracy: {accuracy:.4f}  (training took {seconds:.0f} s)")
    model.save_weights(output)
    print(f"Weights saved to {output}")
    return accuracy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train the MNIST convnet on real MNIST")
    demo_parser.add_argument("--epochs", type=int, default=5)
    demo_parser.add_argument("--batch-size", type=int, default=128)
    demo_parser.add_argument("--output", default="mnist_convnet.safetensors")
    demo_parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.epochs, args.batch_size, args.output, args.seed)
    return 0
