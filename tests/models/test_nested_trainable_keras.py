"""Feature extraction from nested models and `trainable` on frozen models, as Keras 3.15.1
(torch backend) behaves; the expected values were printed by Keras 3.15.1."""

import numpy as np
import pytest

import lamina as keras
from lamina import layers


def _nested() -> tuple[keras.Model, keras.Sequential]:
    inner = keras.Sequential(
        [keras.Input((6, 6, 2)), layers.Conv2D(3, 3, name="ic1"), layers.GlobalMaxPooling2D()],
        name="inner",
    )
    oin = keras.Input((6, 6, 2), name="oin")
    outer = keras.Model(oin, layers.Dense(2, name="od")(inner(oin)), name="outer")
    return outer, inner


def test_called_sequential_input_and_output_are_its_first_calls():
    outer, inner = _nested()
    # Keras 3.15.1: `input`/`output` of a called Sequential come from its first call;
    # `inputs`/`outputs` stay the model's own.
    assert inner.input is outer.input
    assert inner.output is not inner.outputs[0]
    assert inner.inputs[0] is not outer.input
    extractor = keras.Model(outer.input, [outer.get_layer("inner").output, outer.output])
    x = np.zeros((3, 6, 6, 2), "float32")
    assert [o.shape for o in extractor.predict(x, verbose=0)] == [(3, 3), (3, 2)]
    # An inner layer's output hangs off the inner Input: not connected to the outer one.
    with pytest.raises(ValueError):
        keras.Model(outer.input, inner.get_layer("ic1").output)


def test_sequential_without_input_called_symbolically():
    s = keras.Sequential([layers.Dense(2, name="sd2")])
    oi = keras.Input((4,), name="oi3")
    h = s(oi)
    assert s.input is oi and s.output is h  # Keras 3.15.1: oi3 and the call's output
    assert s.inputs[0] is not oi


def test_functional_trainable_reaches_its_input_layers():
    i = keras.Input((3,))
    m = keras.Model(i, layers.Dense(2)(i))
    m.trainable = False
    assert m.layers[0].trainable is False  # Keras 3.15.1: InputLayer False
    m.trainable = True
    assert m.layers[0].trainable is True


def test_frozen_model_has_no_trainable_weights_even_with_a_trainable_child():
    i = keras.Input((3,))
    base = keras.Model(i, layers.Dense(1, name="b")(layers.Dense(2, name="a")(i)), name="base")
    base.trainable = False
    base.get_layer("b").trainable = True
    # Keras 3.15.1: base 0 trainable, 4 non-trainable, 0 trainable_variables
    assert (len(base.trainable_weights), len(base.non_trainable_weights)) == (0, 4)
    assert len(base.trainable_variables) == 0
    assert [id(w) for w in base.non_trainable_weights] == [id(w) for w in base.weights]
    oi = keras.Input((3,))
    outer = keras.Model(oi, layers.Dense(1, name="head")(base(oi)))
    # Keras 3.15.1: the parent counts the child set trainable again.
    assert [w.path for w in outer.trainable_weights] == [
        "b/kernel",
        "b/bias",
        "head/kernel",
        "head/bias",
    ]
    assert len(outer.non_trainable_weights) == 2


def test_sequential_from_config_keeps_layers_trainable_not_the_models():
    s = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(1)])
    s.trainable = False
    s.layers[1].trainable = True
    s2 = keras.Sequential.from_config(s.get_config())
    # Keras 3.15.1: True [False, True] 2
    assert s2.trainable is True
    assert [layer.trainable for layer in s2.layers] == [False, True]
    assert len(s2.trainable_weights) == 2
