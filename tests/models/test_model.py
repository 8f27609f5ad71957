"""Model subclasses (`__init__` + `call`) train with compile / fit like Sequential."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


class SmallConvNet(lamina.Model):
    def __init__(self):
        super().__init__(name="small_conv_net")
        self.conv = layers.Conv2D(4, 3, activation="relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.head(self.pool(self.conv(x)))


def test_subclassed_model_builds_from_data_and_trains():
    rng = np.random.default_rng(0)
    x = rng.random((32, 8, 8, 2), dtype=np.float32)
    y = np.arange(32) % 3
    model = SmallConvNet()
    assert not model.built
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert model.count_params() == (3 * 3 * 2 * 4 + 4) + (4 * 3 + 3)
    assert [layer.name for layer in model.layers] == ["conv2d", "global_average_pooling2d", "dense"]
    assert model.predict(x, verbose=0).shape == (32, 3)


def test_subclassed_model_is_a_plain_torch_module():
    model = SmallConvNet()
    model(torch.zeros(1, 8, 8, 2))
    assert sorted(model.state_dict()) == ["conv.bias", "conv.weight", "head.bias", "head.weight"]


def test_steps_per_epoch_beyond_the_data_ends_each_epoch_at_its_end():
    x = np.zeros((20, 4), dtype="float32")
    y = np.zeros((20, 1), dtype="float32")
    seen = []

    class Count(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.params["steps"])

    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(x, y, batch_size=8, epochs=2, steps_per_epoch=5, verbose=0, callbacks=[Count()])
    assert seen == [5, 5]  # Keras 3.15.1: params["steps"] stays, each epoch has the 3 batches
    assert model.optimizer.iterations == 6


def test_validation_freq_runs_validation_every_n_epochs():
    x = np.zeros((16, 4), dtype="float32")
    y = np.zeros((16, 1), dtype="float32")
    logged = []

    class Keys(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logged.append("val_loss" in logs)

    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(
        x, y, epochs=4, validation_data=(x, y), validation_freq=2, verbose=0, callbacks=[Keys()]
    )
    assert logged == [False, True, False, True]
