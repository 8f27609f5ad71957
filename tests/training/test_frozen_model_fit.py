"""fit on a frozen model trains nothing, as Keras 3.15.1 (torch backend)."""

import warnings

import numpy as np

import lamina as keras


def test_fit_of_a_frozen_model_leaves_a_child_set_trainable_again_alone():
    i = keras.Input((3,))
    h = keras.layers.Dense(2, name="a")(i)
    base = keras.Model(i, keras.layers.Dense(1, name="b")(h))
    base.trainable = False
    base.get_layer("b").trainable = True
    before = base.get_layer("b").get_weights()[0].copy()
    base.compile(keras.optimizers.SGD(0.1), "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        base.fit(np.ones((4, 3)), np.zeros((4, 1)), verbose=0)
    # Keras 3.15.1: "The model does not have any trainable weights." and b unchanged
    assert any("does not have any trainable weights" in str(w.message) for w in caught)
    np.testing.assert_array_equal(before, base.get_layer("b").get_weights()[0])
    # Inside a trainable parent, the child set trainable again trains (Keras 3.15.1).
    oi = keras.Input((3,))
    outer = keras.Model(oi, keras.layers.Dense(1, name="head")(base(oi)))
    outer.compile(keras.optimizers.SGD(0.1), "mse")
    outer.fit(np.ones((4, 3)), np.zeros((4, 1)), verbose=0)
    assert not np.allclose(before, base.get_layer("b").get_weights()[0])
