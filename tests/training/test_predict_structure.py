"""`predict` keeps the structure of a model's outputs, as Keras 3.15.1 (torch backend)."""

import collections

import numpy as np

import lamina as keras
from lamina.training.adapters import concatenate_outputs


def test_predict_keeps_tuple_outputs():
    inp = keras.Input((3,))
    a = keras.layers.Dense(2)(inp)
    b = keras.layers.Dense(1)(a)
    x = np.ones((2, 3), "float32")
    # Keras 3.15.1: tuple list tuple tuple tuple (output, outputs, call, predict, on_batch)
    m = keras.Model(inp, (a, b))
    assert type(m.predict(x, verbose=0)) is tuple
    assert type(m.predict_on_batch(x)) is tuple
    assert type(m.outputs) is list
    # Keras 3.15.1: a tuple nested in a list stays a tuple
    m2 = keras.Model(inp, [a, (b, a)])
    out = m2.predict(x, verbose=0, batch_size=1)
    assert type(out) is list and type(out[1]) is tuple
    assert [o.shape for o in out[1]] == [(2, 1), (2, 2)]


def test_concatenate_outputs_keeps_namedtuples():
    pair = collections.namedtuple("pair", "p q")
    batches = [pair(np.zeros((1, 2)), np.ones((1,))), pair(np.zeros((2, 2)), np.ones((2,)))]
    joined = concatenate_outputs(batches)
    assert type(joined) is pair and joined.p.shape == (3, 2) and joined.q.shape == (3,)
