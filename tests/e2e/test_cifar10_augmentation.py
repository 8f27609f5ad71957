"""End to end on real CIFAR-10: RandomFlip + RandomShift at the front of a small convnet.

The data is the bit-exact subset `cifar10_exact_subset.npz` (CIFAR-10 train[0:4000] and
test[0:1000], original pixels), found through LAMINA_DATASETS. `lamina.datasets.cifar10` does
not expose it (its `load_data()` returns the full set, from the lossy JPEG copy offline), so
the file is located with `lamina.datasets._download`, which also checks its SHA-256.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.datasets import _download

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
EXACT_SUBSET = "cifar10_exact_subset.npz"
EPOCHS = 24
TRAIN_IMAGES = 2000


@pytest.fixture(autouse=True)
def datasets_folder(monkeypatch):
    if not os.environ.get("LAMINA_DATASETS"):
        monkeypatch.setenv("LAMINA_DATASETS", str(SHARED))


def load_exact_subset():
    path = _download.find_local(_download.data_file(EXACT_SUBSET))
    if path is None:
        pytest.skip(f"{EXACT_SUBSET} is not in LAMINA_DATASETS ({os.environ['LAMINA_DATASETS']})")
    with np.load(path, allow_pickle=False) as stored:
        return (stored["x_train"], stored["y_train"]), (stored["x_test"], stored["y_test"])


@pytest.mark.e2e
def test_cifar10_exact_subset_has_shapes_dtypes_class_counts_and_the_full_sets_labels():
    # MNIST, Fashion-MNIST and the full CIFAR-10 are checked in tests/datasets; this file is
    # not reachable through a loader, so it is checked here.
    (x_train, y_train), (x_test, y_test) = load_exact_subset()
    assert (x_train.shape, y_train.shape) == ((4000, 32, 32, 3), (4000,))
    assert (x_test.shape, y_test.shape) == ((1000, 32, 32, 3), (1000,))
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]
    assert np.bincount(y_test).tolist() == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
    assert y_train[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    full = _download.find_local(_download.data_file("cifar10_jpeg_lossy_bytes.npz"))
    if full is not None:  # the first images of the full set, in the original order
        with np.load(full, allow_pickle=False) as stored:
            np.testing.assert_array_equal(stored["y_train"][:4000], y_train)
            np.testing.assert_array_equal(stored["y_test"][:1000], y_test)


def small_convnet(augment: bool) -> lamina.Sequential:
    front = [layers.RandomFlip("horizontal"), layers.RandomShift(2)] if augment else []
    body = []
    for filters in (16, 32, 64):
        body += [
            layers.Conv2D(filters, 3, padding="same", activation="relu"),
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


def train(augment, x_train, y_train, x_test, y_test):
    """Seed 0, EPOCHS epochs of Adam at batch 64: the training accuracy (no augmentation in
    evaluate) and the test accuracy after each epoch."""
    lamina.config.set_random_seed(0)
    model = small_convnet(augment)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=EPOCHS, validation_data=(x_test, y_test), verbose=0
    )
    _, train_accuracy = model.evaluate(x_train, y_train, verbose=0)
    return train_accuracy, history.history["val_accuracy"]


@pytest.mark.e2e
def test_flip_and_shift_beat_no_augmentation_on_held_out_cifar10():
    """The same small convnet (conv 16-32-64 3x3 + pools, Dense 10; 34k weights), the same seed
    and budget (the first 2,000 exact training images, 24 epochs, Adam, batch 64), with and
    without RandomFlip('horizontal') + RandomShift(2) at its front; held out: the 1,000 exact
    test images.

    Measured before writing this test (torch 2.13 CPU, 1 thread, seeds 0 / 1 / 2; "last 4" is
    the mean test accuracy of epochs 21-24, which averages out the epoch-to-epoch wobble of
    1.5-3 points that 1,000 test images and an undecayed Adam give):

        without: test 0.474 / 0.495 / 0.477, last 4 0.489 / 0.482 / 0.482, train-test gap
                 0.356 / 0.322 / 0.353
        with:    test 0.520 / 0.516 / 0.505, last 4 0.514 / 0.512 / 0.507, train-test gap
                 0.138 / 0.131 / 0.128
        gain:    test +4.6 / +2.1 / +2.8 points, last 4 +2.5 / +2.9 / +2.4, gap -0.22 / -0.19
                 / -0.23

    The gap shrinking is the large, reliable effect; the test accuracy gain is small (2-5
    points) but had the same sign for every seed at this budget, so the test checks the
    last-4 mean with no margin. A shorter budget is not enough: with 4,000 images and 12
    epochs the gain was +4.6 / -2.6 / +4.2 points, the augmented net still underfitting.
    With torch's default 2 threads (seed 0, as this test runs): test 0.478 -> 0.512, last 4
    0.491 -> 0.519, gap 0.366 -> 0.147; the two trainings took 83 s on the idle 2-core CPU.
    """
    (x_train, y_train), (x_test, y_test) = load_exact_subset()
    x_train, y_train = x_train[:TRAIN_IMAGES], y_train[:TRAIN_IMAGES].astype("int64")
    y_test = y_test.astype("int64")
    plain_train, plain_test = train(False, x_train, y_train, x_test, y_test)
    augmented_train, augmented_test = train(True, x_train, y_train, x_test, y_test)

    plain_last, augmented_last = np.mean(plain_test[-4:]), np.mean(augmented_test[-4:])
    plain_gap, augmented_gap = plain_train - plain_test[-1], augmented_train - augmented_test[-1]
    print(
        f"CIFAR-10, {TRAIN_IMAGES} exact images, {EPOCHS} epochs, test accuracy (last 4 "
        f"epochs' mean) without augmentation {plain_test[-1]:.3f} ({plain_last:.3f}), with "
        f"{augmented_test[-1]:.3f} ({augmented_last:.3f}); train-test gap {plain_gap:.3f} -> "
        f"{augmented_gap:.3f}"
    )
    assert min(plain_last, augmented_last) > 0.44  # both learned
    assert augmented_gap < plain_gap - 0.1  # measured: 0.19 to 0.23 smaller
    assert augmented_last > plain_last  # measured: 2.4 to 2.9 points higher
