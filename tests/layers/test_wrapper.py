"""Wrapper: the base class of layers holding another (Keras 3.15.1's keras.layers.Wrapper)."""

import json

import pytest
import torch

from lamina.layers.core import Dense
from lamina.layers.wrapper import Wrapper


class _Twice(Wrapper):
    """Applies the wrapped layer twice (a wrapper as a user writes one)."""

    def call(self, inputs):
        return self.layer(self.layer(inputs))


def test_wrapped_layer_is_held_built_and_its_weights_are_the_wrappers():
    inner = Dense(3)
    layer = _Twice(inner)
    assert layer.layer is inner
    layer.build((None, 3))
    assert inner.built
    assert layer.count_params() == 12
    assert [w.shape for w in layer.get_weights()] == [(3, 3), (3,)]
    assert list(layer.state_dict()) == ["layer.weight", "layer.bias"]


def test_call_and_gradients_reach_the_wrapped_weights():
    layer = _Twice(Dense(3))
    layer(torch.ones(2, 3)).sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)


def test_trainable_flag_reaches_the_wrapped_layer():
    layer = _Twice(Dense(3))
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2


def test_config_holds_the_serialized_layer_and_rebuilds_it():
    layer = _Twice(Dense(3, activation="relu", name="inner"))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["layer"]["class_name"] == "Dense"
    assert config["layer"]["config"]["units"] == 3
    clone = _Twice.from_config(config)
    assert isinstance(clone.layer, Dense)
    assert clone.layer.get_config()["activation"] == "relu"
    layer(torch.ones(1, 3))
    clone(torch.ones(1, 3))
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(torch.ones(1, 3)), layer(torch.ones(1, 3)))


def test_a_non_layer_raises():
    with pytest.raises(ValueError, match="wraps a lamina layer instance"):
        Wrapper(3)
    with pytest.raises(ValueError, match="not the class"):
        Wrapper(Dense)


def test_the_base_class_computes_nothing():
    with pytest.raises(NotImplementedError, match="must implement call"):
        Wrapper(Dense(2))(torch.ones(1, 2))
