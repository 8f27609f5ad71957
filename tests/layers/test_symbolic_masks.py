"""Keras masks on symbolic tensors: `_keras_mask` on KerasTensors, the mask a symbolic call
passes to `call`, and the mask ops recorded in the functional graph. Expected values were
printed by Keras 3.15.1 (torch backend) for the same programs."""

import warnings

import numpy as np
import pytest

import lamina
from lamina import layers, ops


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


class TemporalSoftmax(layers.Layer):
    """The custom layer of Keras' guide "Understanding masking & padding"."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.masks_seen = []

    def call(self, inputs, mask=None):
        self.masks_seen.append(mask is not None)
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


def test_embedding_mask_travels_on_keras_tensors():
    inputs = lamina.Input(shape=(None,), dtype="int32")
    assert not hasattr(inputs, "_keras_mask")  # as Keras: no attribute without a mask
    x = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs)
    mask = x._keras_mask
    assert isinstance(mask, lamina.KerasTensor)
    assert (mask.shape, mask.dtype) == ((None, None), "bool")
    assert layers.Dense(3)(x)._keras_mask is mask  # passed on by a masking-aware layer
    sequence = layers.LSTM(2, return_sequences=True)(x)
    assert sequence._keras_mask is mask
    assert not hasattr(layers.LSTM(2)(x), "_keras_mask")  # the last step only: no mask


def test_guide_temporal_softmax_gets_the_mask_when_the_model_is_built():
    inputs = lamina.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=4, output_dim=2, mask_zero=True)(inputs)
    x = layers.Dense(3)(x)
    softmax = TemporalSoftmax()
    model = lamina.Model(inputs, softmax(x))
    assert softmax.masks_seen and all(softmax.masks_seen)
    model.set_weights(
        [
            np.arange(8, dtype="float32").reshape(4, 2) / 8,
            np.array([[1, -1, 0.5], [0.5, 1, -1]], "float32"),
            np.zeros(3, "float32"),
        ]
    )
    y = model(np.array([[1, 2, 0], [3, 0, 0]]))
    expected = [  # Keras 3.15.1
        [[0.44754, 0.32743, 0.22504], [0.55315, 0.27814, 0.1687], [np.nan] * 3],
        [[0.65335, 0.22579, 0.12086], [np.nan] * 3, [np.nan] * 3],
    ]
    np.testing.assert_allclose(ops.convert_to_numpy(y), expected, atol=1e-5)
    assert ops.convert_to_numpy(y._keras_mask).tolist() == [
        [True, True, False],
        [True, False, False],
    ]
    # Keras 3.15.1: the mask is a `not_equal` op of the graph, the softmax's `mask` argument
    assert [op.name for op in model.operations] == [
        "input_layer",
        "embedding",
        "dense",
        "not_equal",
        "temporal_softmax",
    ]
    node = model.get_config()["layers"][-1]["inbound_nodes"][0]
    assert node["kwargs"]["mask"]["config"]["keras_history"] == ["not_equal", 0, 0]


def test_masking_layer_on_a_symbolic_input():
    inputs = lamina.Input((3, 2))
    masked = layers.Masking()(inputs)
    assert masked._keras_mask.shape == (None, 3)
    model = lamina.Model(inputs, layers.GRU(1)(masked))
    assert [op.name for op in model.operations] == [  # Keras 3.15.1
        "input_layer",
        "not_equal",
        "masking",
        "any",
        "gru",
    ]
    model.set_weights([np.full(w.shape, 0.5, "float32") for w in model.get_weights()])
    x = np.array([[[1, 2], [0, 0], [0, 0]], [[1, 2], [3, 4], [0, 0]]], "float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(x)), [[0.07476], [0.08456]], atol=1e-5
    )  # Keras 3.15.1


def test_a_users_compute_mask_runs_on_symbolic_tensors():
    class NonZero(layers.Layer):
        def call(self, x):
            return x * 1.0

        def compute_mask(self, inputs, mask=None):
            return ops.any(ops.not_equal(inputs, 0), axis=-1)

    inputs = lamina.Input((5, 2))
    x = NonZero()(inputs)
    assert (x._keras_mask.shape, x._keras_mask.dtype) == ((None, 5), "bool")
    model = lamina.Model(inputs, layers.GRU(2)(x))
    assert [op.name for op in model.operations] == [  # Keras 3.15.1
        "input_layer",
        "not_equal",
        "non_zero",
        "any",
        "gru",
    ]


def test_a_layer_without_masking_support_drops_the_mask_with_keras_warning():
    class NoMask(layers.Layer):
        def call(self, x):
            return x * 2

    inputs = lamina.Input((None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=2, mask_zero=True)(inputs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = NoMask()(x)
    assert not hasattr(y, "_keras_mask")
    assert any("does not support masking" in str(w.message) for w in caught)


def test_attention_outputs_keep_the_query_mask():
    inputs = lamina.Input((None,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=True)(inputs)
    mask = x._keras_mask
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=2)(x, x)
    assert attended._keras_mask is mask
    # Keras 3.15.1 records no masks for a call on several tensors: they come with the inputs
    assert attended.node.call_kwargs == {}
    scored = layers.Attention()([x, x])
    assert scored._keras_mask.layer.name == "convert_to_tensor"  # Keras 3.15.1's op


def test_merged_masks_are_graph_ops_as_keras():
    inputs = lamina.Input((None,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=True)(inputs)
    sequence = layers.LSTM(3, return_sequences=True)(x)
    joined = layers.Concatenate()([sequence, x])
    assert joined._keras_mask.shape == (None, None)
    total = layers.Add()([layers.Dense(7)(joined), joined])
    assert total._keras_mask.layer.name == "logical_or_2"  # Keras 3.15.1
    model = lamina.Model(inputs, layers.GlobalAveragePooling1D()(total))
    assert [op.name for op in model.operations] == [  # Keras 3.15.1
        "input_layer",
        "embedding",
        "not_equal",
        "lstm",
        "expand_dims",
        "zeros_like",
        "expand_dims_1",
        "zeros_like_1",
        "logical_or",
        "logical_or_1",
        "concatenate",
        "concatenate_1",
        "dense",
        "any",
        "add",
        "logical_or_2",
        "global_average_pooling1d",
    ]
    config = model.get_config()
    expand = next(e for e in config["layers"] if e["name"] == "expand_dims")
    assert expand["config"]["axis"] == -1  # a constructor argument in Keras' ExpandDims
    rebuilt = lamina.Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    np.testing.assert_allclose(
        ops.convert_to_numpy(rebuilt(ids)), ops.convert_to_numpy(model(ids)), atol=1e-6
    )
