"""End to end on real MNIST: the classic convnet learns to >= 97% from 10,000 images."""

import os
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.cli import mnist_convnet
from lamina.datasets import mnist

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def datasets_folder(monkeypatch):
    if not os.environ.get("LAMINA_DATASETS"):
        monkeypatch.setenv("LAMINA_DATASETS", str(SHARED))


@pytest.mark.e2e
def test_mnist_convnet_reaches_97_percent_on_real_data(tmp_path):
    lamina.config.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train[:10000].astype("float32") / 255.0)[..., None]
    x_test = (x_test[:2000].astype("float32") / 255.0)[..., None]
    y_train, y_test = y_train[:10000], y_test[:2000]

    model = mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=12, verbose=0)
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"MNIST convnet, 10k training images, 12 epochs: test accuracy {accuracy:.4f}")
    assert accuracy >= 0.97

    path = tmp_path / "mnist.safetensors"
    model.save_weights(str(path))
    restored = mnist_convnet()
    restored.load_weights(str(path))
    np.testing.assert_allclose(
        restored.predict(x_test[:64], verbose=0), model.predict(x_test[:64], verbose=0), atol=1e-6
    )
