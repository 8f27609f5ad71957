"""compute_output_shape / compute_output_spec / symbolic calls of keras.layers classes, against
the values (and Python types: tuple or list) Keras 3.15.1 (torch backend) prints for them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import KerasTensor
from lamina import layers as L
from lamina.layers import Input

# (layer factory, input shape, Keras 3.15.1's compute_output_shape, type and value)
COMPUTE_OUTPUT_SHAPE = [
    # Keras returns lists from these
    (lambda: L.Conv1DTranspose(4, 3), (None, 10, 2), [None, 12, 4]),
    (lambda: L.Conv1DTranspose(4, 3, strides=2, output_padding=1), (2, 10, 2), [2, 22, 4]),
    (
        lambda: L.Conv2DTranspose(4, (3, 2), strides=(2, 3), padding="same"),
        (2, 10, 9, 2),
        [2, 20, 27, 4],
    ),
    (
        lambda: L.Conv3DTranspose(4, 3, data_format="channels_first"),
        (None, 2, 6, 7, 8),
        [None, 4, 8, 9, 10],
    ),
    (lambda: L.UpSampling1D(2), (None, 6, 3), [None, 12, 3]),
    (lambda: L.UpSampling1D(2), (2, None, 3), [2, None, 3]),
    (
        lambda: L.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10),
        (None, 256),
        [None, 10, 17],
    ),
    (
        lambda: L.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10),
        (2, None),
        [2, 10, None],
    ),
    (lambda: L.ReversibleEmbedding(10, 4), (None, 5), [None, 5, 4]),
    # tuples from the recurrent layers with return_state
    (lambda: L.LSTM(4, return_state=True), (None, 5, 3), ((None, 4), (None, 4), (None, 4))),
    (
        lambda: L.GRU(4, return_sequences=True, return_state=True),
        (2, 5, 3),
        ((2, 5, 4), (2, 4)),
    ),
    (
        lambda: L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True),
        (None, 5, 3),
        ((None, 5, 4), (None, 4), (None, 4)),
    ),
    (
        lambda: L.Bidirectional(L.LSTM(4, return_state=True)),
        (None, 5, 3),
        ((None, 8), (None, 4), (None, 4), (None, 4), (None, 4)),
    ),
    (
        lambda: L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode=None),
        (None, 5, 3),
        ((None, 5, 4), (None, 5, 4)),
    ),
    (
        lambda: L.ConvLSTM1D(4, 3, strides=2, return_state=True),
        (None, 5, 8, 2),
        ((None, 3, 4), (None, 3, 4), (None, 3, 4)),
    ),
    # sizes
    (lambda: L.EinsumDense("abc,cd->abd", output_shape=(None, 4)), (None, 5, 3), (None, None, 4)),
    (
        lambda: L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4)),
        (2, 5, 3),
        (2, None, 2, 4),
    ),
    (lambda: L.Lambda(lambda x: x[:, :2], output_shape=(2, 3)), (2, 4, 3), (2, 2, 3)),
    (
        lambda: L.Lambda(lambda x: x[:, :2], output_shape=lambda s: (s[0], 2, 3)),
        (None, 4, 3),
        (None, 2, 3),
    ),
    (lambda: L.Add(), [(None, None, 3), (None, 4, 3)], (None, None, 3)),
    (lambda: L.Maximum(), [(2, None, 3), (2, 4, 3)], (2, None, 3)),
    (lambda: L.Add(), [(2, 1, 3), (2, None, 3), (2, 4, 3)], (2, None, 3)),
    (lambda: L.CategoryEncoding(5, output_mode="multi_hot"), (None,), (5,)),
    (lambda: L.CategoryEncoding(5, output_mode="count"), (), (5,)),
    (lambda: L.CategoryEncoding(5, output_mode="one_hot"), (None,), (None, 5)),
    (lambda: L.CategoryEncoding(5, output_mode="one_hot"), (None, 1), (None, 5)),
    # one image (no batch axis)
    (lambda: L.Resizing(4, 5), (None, None, 3), (4, 5, 3)),
    (lambda: L.CenterCrop(3, 4), (None, None, 3), (3, 4, 3)),
    (lambda: L.RandomCrop(3, 4), (None, None, 3), (3, 4, 3)),
    (lambda: L.Resizing(4, 5, data_format="channels_first"), (3, 8, 8), (3, 4, 5)),
    (lambda: L.SpatialDropout2D(0.5), (4, 5, 3), (4, 5, 3)),
]


def _typed(value: object) -> object:
    """The value with its list/tuple types spelled out, so that == compares them too."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_typed(v) for v in value])
    return value


@pytest.mark.parametrize(("make", "input_shape", "expected"), COMPUTE_OUTPUT_SHAPE)
def test_compute_output_shape_as_keras(make: object, input_shape: object, expected: object) -> None:
    assert _typed(make().compute_output_shape(input_shape)) == _typed(expected)


def test_symbolic_calls_read_list_shapes() -> None:
    """A layer whose compute_output_shape returns a list still gives a KerasTensor (Keras)."""

    class Doubled(L.Layer):
        def call(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, x], dim=-1)

        def compute_output_shape(self, s: tuple) -> list:
            return [s[0], s[1], 2 * s[2]]

    assert Doubled()(Input((4, 3))).shape == (None, 4, 6)
    assert L.Conv2DTranspose(4, 3)(Input((10, 9, 2), batch_size=2)).shape == (2, 12, 11, 4)
    td = L.TimeDistributed(L.Conv2DTranspose(3, 3))
    assert td(Input((5, 8, 7, 2))).shape == (None, 5, 10, 9, 3)
    assert td.compute_output_shape((None, 5, 8, 7, 2)) == (None, 5, 10, 9, 3)


def test_return_state_outputs_are_tuples() -> None:
    out = L.LSTM(4, return_state=True)(np.zeros((2, 5, 3), "float32"))
    assert type(out) is tuple and [tuple(t.shape) for t in out] == [(2, 4)] * 3
    both = L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode=None)
    assert type(both(np.zeros((2, 5, 3), "float32"))) is tuple
    lstm = L.LSTM(4, return_sequences=True, return_state=True)
    symbolic = lstm(Input((5, 3)))
    assert type(symbolic) is tuple
    assert [t.shape for t in symbolic] == [(None, 5, 4), (None, 4), (None, 4)]
    # Keras 3.15.1: layer.output is the flat list of the call's outputs
    assert type(lstm.output) is list and lstm.output == list(symbolic)


def test_input_and_output_are_flat_lists_as_keras() -> None:
    query, value = Input((4, 5)), Input((6, 5))
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)
    mha(query, value)
    assert type(mha.input) is list and mha.input[0] is query and mha.input[1] is value
    q, v = Input((4, 3)), Input((5, 3))
    attention = L.Attention()
    outputs = attention([q, v], return_attention_scores=True)
    assert type(outputs) is tuple
    assert type(attention.output) is list
    assert [t.shape for t in attention.output] == [(None, 4, 3), (None, 4, 5)]
    add = L.Add()
    add((q, q))
    assert type(add.input) is list
    dense = L.Dense(2)
    x = Input((3,))
    assert dense(x) is dense.output and dense.input is x


def test_compute_output_spec_as_keras() -> None:
    dense = L.Dense(5)
    spec = dense.compute_output_spec(KerasTensor((None, 3)))
    assert (spec.shape, spec.dtype) == ((None, 5), "float32")
    with pytest.raises(AttributeError):
        dense.output  # noqa: B018 -- the spec is not a call in a graph (Keras)
    specs = L.LSTM(4, return_state=True).compute_output_spec(KerasTensor((None, 5, 3)))
    assert type(specs) is tuple and [s.shape for s in specs] == [(None, 4)] * 3
    query, value = KerasTensor((None, 4, 5)), KerasTensor((None, 6, 5))
    out = L.MultiHeadAttention(2, 3, output_shape=7).compute_output_spec(query, value)
    assert out.shape == (None, 4, 7)
    merged = L.Concatenate(axis=1).compute_output_spec([KerasTensor((None, 2, 3))] * 2)
    assert merged.shape == (None, 4, 3)
    assert L.Flatten().compute_output_spec(KerasTensor((None, 3, 4))).shape == (None, 12)


def test_category_encoding_symbolic_dtype_is_the_layers() -> None:
    ids = Input((3,), dtype="int32")
    for mode in ("one_hot", "multi_hot", "count"):
        assert L.CategoryEncoding(5, output_mode=mode)(ids).dtype == "float32"
    scalar = L.CategoryEncoding(5, output_mode="multi_hot")(Input((), dtype="int32"))
    assert scalar.shape == (5,)


def test_lambda_output_shape_structures() -> None:
    pair = L.Lambda(lambda x: [x, x], output_shape=[(4, 3), (4, 3)])
    assert pair.compute_output_shape((2, 4, 3)) == [(2, 4, 3), (2, 4, 3)]
    assert lamina.layers.Lambda(lambda x: x, output_shape=(3,)).compute_output_shape((None, 3)) == (
        None,
        3,
    )
