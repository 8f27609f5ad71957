"""The Layer base: naming, building, config, trainable, weights in Keras layout, regularizers."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina import initializers, regularizers
from lamina.layers import Activation, Dense, Input, Layer
from lamina.layers.layer import to_snake_case


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


@pytest.mark.parametrize(
    ("cls_name", "expected"),
    [
        ("Dense", "dense"),
        ("Conv2D", "conv2d"),
        ("MaxPooling2D", "max_pooling2d"),
        ("BatchNormalization", "batch_normalization"),
        ("GlobalAveragePooling2D", "global_average_pooling2d"),
        ("InputLayer", "input_layer"),
    ],
)
def test_snake_case_names_match_keras(cls_name, expected):
    assert to_snake_case(cls_name) == expected


def test_automatic_names_are_unique_and_numbered():
    names = [Dense(2).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]


def test_clear_session_restarts_numbering():
    Dense(2)
    lamina.clear_session()
    assert Dense(2).name == "dense"


def test_layer_builds_lazily_on_first_call():
    layer = Dense(4)
    assert not layer.built
    layer(torch.zeros(3, 5))
    assert layer.built
    assert tuple(layer.kernel.shape) == (4, 5)  # PyTorch layout (out, in)


def test_touching_a_weight_before_build_explains_how_to_build():
    with pytest.raises(AttributeError, match="created on the first call.*build"):
        _ = Dense(3).kernel


def test_unknown_constructor_argument_is_a_value_error():
    # Keras 3.15.1: "ValueError: Unrecognized keyword arguments passed to Dense: {'unitz': 4}"
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: "):
        Dense(3, unitz=4)


def test_layer_name_not_a_string_is_a_value_error():
    # Keras 3.15.1: "ValueError: Argument `name` must be a string and cannot contain
    # character `/`. Received: name=3 (of type <class 'int'>)"
    with pytest.raises(ValueError, match=r"Argument `name` must be a string and cannot"):
        Dense(3, name=3)


def test_get_weights_uses_keras_layout_and_set_weights_round_trips():
    layer = Dense(4)
    layer(torch.zeros(1, 3))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4)
    assert bias.shape == (4,)
    np.testing.assert_array_equal(kernel, layer.weight.detach().numpy().T)
    new_kernel = np.arange(12, dtype="float32").reshape(3, 4)
    layer.set_weights([new_kernel, np.ones(4, dtype="float32")])
    np.testing.assert_array_equal(layer.weight.detach().numpy(), new_kernel.T)


def test_set_weights_rejects_wrong_shapes_with_keras_shape_in_message():
    layer = Dense(4)
    layer(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"kernel.*\(3, 4\).*\(4, 3\)"):
        layer.set_weights([np.zeros((4, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match="expects a list of 2 weight arrays"):
        layer.set_weights([np.zeros((3, 4))])


def test_count_params_requires_build():
    with pytest.raises(ValueError, match="not built"):
        Dense(2).count_params()


def test_trainable_false_freezes_parameters():
    layer = Dense(2)
    layer(torch.zeros(1, 3))
    layer.trainable = False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in layer.parameters())
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_config_round_trip_is_json_and_rebuilds_the_same_layer():
    layer = Dense(
        5,
        activation="tanh",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizers.L2(1e-3),
    )
    config = json.loads(json.dumps(layer.get_config()))
    clone = Dense.from_config(config)
    assert clone.get_config() == layer.get_config()
    assert clone.units == 5 and clone.use_bias is False


def test_regularizer_penalty_matches_keras():
    # Keras 3.15: Dense(3, kernel_regularizer=L2(0.1)) with an all-ones (2, 3) kernel -> 0.6
    layer = Dense(3, kernel_regularizer=regularizers.L2(0.1))
    layer(torch.zeros(1, 2))
    layer.set_weights([np.ones((2, 3)), np.zeros(3)])
    assert [round(float(p.detach()), 6) for p in layer.losses] == [0.6]


def test_regularizers_by_name_use_keras_defaults():
    assert regularizers.get("l2").l2 == 0.01
    assert regularizers.get("l1").l1 == 0.01
    both = regularizers.get("l1_l2")
    assert (both.l1, both.l2) == (0.01, 0.01)
    with pytest.raises(ValueError, match="Valid names"):
        regularizers.get("l3")


def test_input_is_symbolic_and_layers_infer_shapes_on_meta():
    x = Input((28, 28, 1))
    assert x.shape == (None, 28, 28, 1)
    y = Dense(7)(x)
    assert y.shape == (None, 28, 28, 7)


def test_inputs_are_cast_to_the_layer_dtype():
    layer = Dense(2)
    out = layer(torch.zeros(1, 3, dtype=torch.float64))
    assert out.dtype == torch.float32


def test_layer_is_a_torch_module_with_inference_by_default():
    layer = Dense(2)
    assert isinstance(layer, torch.nn.Module)
    assert layer.training is False


def test_training_flag_propagates_to_nested_layers():
    seen = []

    class Probe(Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.inner = Probe()

        def call(self, inputs):
            return self.inner(inputs)

    outer = Outer()
    outer(torch.zeros(1, 2), training=True)
    outer(torch.zeros(1, 2))
    assert seen == [True, False]


KERAS_CONV_SHAPE = (3, 3, 16, 400)  # (kh, kw, in, out): fan_in 144, fan_out 3600
FAN_IN, FAN_AVG = 3 * 3 * 16, (3 * 3 * 16 + 3 * 3 * 400) / 2


@pytest.mark.parametrize(
    ("name", "expected_std"),
    [
        ("he_normal", np.sqrt(2.0 / FAN_IN)),
        ("he_uniform", np.sqrt(2.0 / FAN_IN)),
        ("lecun_normal", np.sqrt(1.0 / FAN_IN)),
        ("glorot_uniform", np.sqrt(1.0 / FAN_AVG)),
        ("glorot_normal", np.sqrt(1.0 / FAN_AVG)),
    ],
)
def test_initializers_use_keras_fans(name, expected_std):
    values = initializers.get(name)(KERAS_CONV_SHAPE)
    assert values.shape == KERAS_CONV_SHAPE
    assert abs(float(values.std()) - expected_std) / expected_std < 0.05


def test_initializers_are_resolved_by_keras_names():
    for name in ["zeros", "ones", "he_uniform", "lecun_normal", "orthogonal", "truncated_normal"]:
        assert initializers.get(name)((4, 4)).shape == (4, 4)
    with pytest.raises(ValueError, match="Valid names"):
        initializers.get("glorot")


def test_activation_layer_config():
    assert Activation("relu").get_config()["activation"] == "relu"


def test_weights_list_the_trainable_ones_first_as_keras():
    """Keras 3 keeps a layer's weights in two lists by their trainability at creation: `weights`,
    `get_weights()` and .weights.h5's vars/N are the trainable ones, then the others (values
    printed by Keras 3.15.1, torch backend, for this layer)."""

    class Counting(lamina.layers.Layer):
        def build(self, input_shape):
            self.count = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="count"
            )
            self.k = self.add_weight(shape=(input_shape[-1], 2), initializer="ones", name="k")
            self.c2 = self.add_weight(shape=(2,), initializer="zeros", trainable=False, name="c2")
            self.b = self.add_weight(shape=(2,), initializer="zeros", name="b")

        def call(self, x):
            return x @ self.k + self.b

    layer = Counting()
    layer.build((None, 3))
    assert [w.name for w in layer.weights] == ["k", "b", "count", "c2"]
    assert [np.shape(w) for w in layer.get_weights()] == [(3, 2), (2,), (), (2,)]
    assert [w.name for w in layer.non_trainable_weights] == ["count", "c2"]
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, Counting()(lamina.layers.Dense(3)(inputs)))
    assert [w.name for w in model.weights] == ["kernel", "bias", "k", "b", "count", "c2"]
    model.set_weights(
        [np.full(np.shape(w), i, "float32") for i, w in enumerate(model.get_weights())]
    )
    assert float(model.layers[-1].count) == 4.0 and model.layers[-1].c2.numpy().tolist() == [5, 5]


def test_input_shape_argument_gives_keras_advice():
    # Keras 3.15.1 warns (UserWarning) on `input_shape=` and `input_dim=`, not on Input().
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`/`input_dim` argument"):
        Dense(2, input_shape=(3,))
    with pytest.warns(UserWarning, match="prefer using an `Input\\(shape\\)` object"):
        Dense(2, input_dim=3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lamina.Sequential([Input((3,)), Dense(2)])


def test_input_shape_advice_points_at_the_layer_class_as_keras():
    # Keras 3.15.1 warns from the layer class's own __init__ line (dense.py, base_conv.py), so
    # Python's default filter shows it once per class, not once per line of the user's script.
    import warnings

    from lamina.layers import Conv2D

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Dense(2, input_shape=(3,))
        Conv2D(2, 3, input_shape=(8, 8, 1))
    files = [w.filename for w in caught]
    assert files[0].endswith("lamina/layers/core.py")
    assert files[1].endswith(("lamina/layers/_conv_base.py", "lamina/layers/convolution.py"))
    assert __file__ not in files


def test_a_symbolic_call_passes_every_argument_to_shape_inference():
    # The Siamese triplet example's DistanceLayer(anchor, positive, negative); Keras 3.15.1
    # gives outputs of shape (None,) twice and [10, 10], [20, 20] below.
    class DistanceLayer(Layer):
        def call(self, anchor, positive, negative=None, scale=1.0):
            ap = lamina.ops.sum(lamina.ops.square(anchor - positive), -1) * scale
            return ap, lamina.ops.sum(lamina.ops.square(anchor - negative), -1)

    a, p, n = Input((5,)), Input((5,)), Input((5,))
    outputs = DistanceLayer()(a, p, negative=n, scale=2.0)
    assert [tuple(t.shape) for t in outputs] == [(None,), (None,)]
    model = lamina.Model([a, p, n], outputs)
    x = np.ones((2, 5), "float32")
    ap, an = model([x, x * 2, x * 3])
    assert ap.tolist() == [10.0, 10.0] and an.tolist() == [20.0, 20.0]


class _Distance(Layer):
    """build / compute_output_shape take the shapes of call's arguments by name (Keras)."""

    def build(self, anchor_shape, positive_shape, negative_shape):
        self.shapes = (anchor_shape, positive_shape, negative_shape)
        self.w = self.add_weight(shape=(anchor_shape[-1],), initializer="ones")

    def call(self, anchor, positive, negative):
        ap = lamina.ops.sum(lamina.ops.square(anchor - positive) * self.w, -1)
        an = lamina.ops.sum(lamina.ops.square(anchor - negative) * self.w, -1)
        return (ap, an)

    def compute_output_shape(self, anchor_shape, positive_shape, negative_shape):
        return (anchor_shape[:-1], anchor_shape[:-1])


def test_build_and_compute_output_shape_take_shapes_by_call_argument_name():
    a, p, n = (Input((5,), name=name) for name in ("anchor", "positive", "negative"))
    layer = _Distance()
    outputs = layer(a, p, n)
    assert layer.shapes == ((None, 5), (None, 5), (None, 5))  # Keras 3.15.1
    assert isinstance(outputs, tuple) and [o.shape for o in outputs] == [(None,), (None,)]
    assert layer.get_build_config() == {  # Keras 3.15.1
        "shapes_dict": {
            "anchor_shape": (None, 5),
            "positive_shape": (None, 5),
            "negative_shape": (None, 5),
        }
    }
    model = lamina.Model([a, p, n], outputs)
    x = np.arange(10, dtype="float32").reshape(2, 5)
    values = [lamina.ops.convert_to_numpy(t).tolist() for t in model([x, x + 1, x - 2])]
    assert values == [[5.0, 5.0], [20.0, 20.0]]  # Keras 3.15.1


def test_build_by_name_on_an_eager_call():
    layer = _Distance()
    x = torch.arange(10, dtype=torch.float32).reshape(2, 5)
    ap, an = layer(x, x + 1, negative=x * 2)
    assert layer.shapes == ((2, 5), (2, 5), (2, 5))  # Keras 3.15.1
    assert (ap.tolist(), an.tolist(), len(layer.weights)) == ([5.0, 5.0], [30.0, 255.0], 1)


def test_build_with_one_argument_gets_the_first_shape():
    class OneArgument(Layer):
        def build(self, whatever):
            self.seen = whatever

        def call(self, a, b):
            return a * b

    layer = OneArgument()
    assert layer(Input((5,)), Input((5,))).shape == (None, 5)
    assert layer.seen == (None, 5)


def test_build_argument_names_must_match_call_arguments():
    class Bad(Layer):
        def build(self, first, second_shape):
            pass

        def call(self, first, second):
            return first + second

    class Bad2(Layer):
        def build(self, a_shape, z_shape):
            pass

        def call(self, a, b):
            return a + b

    x = torch.ones(2, 5)
    preamble = (
        "For a `build()` method with more than one argument, all arguments should have a "
        "`_shape` suffix and match an argument from `call()`. E.g. `build(self, foo_shape, "
        "bar_shape)`  For layer "
    )
    with pytest.raises(ValueError) as error:  # Keras 3.15.1's words
        Bad()(x, x)
    assert str(error.value) == (
        preamble + "'Bad', Received `build()` argument `first`, which does not end in `_shape`."
    )
    with pytest.raises(ValueError) as error:
        Bad2()(x, x)
    assert str(error.value) == (
        preamble + "'Bad2', received `build()` argument `z_shape`, but `call()` does not have "
        "argument `z`."
    )


def test_nested_call_argument_shapes():
    class Nested(Layer):
        def build(self, pair_shape, extra_shape):
            self.seen = (pair_shape, extra_shape)

        def call(self, pair, extra):
            return pair[0] + pair[1] + extra

    layer = Nested()
    assert layer([Input((5,)), Input((5,))], Input((5,))).shape == (None, 5)
    assert layer.seen == ([(None, 5), (None, 5)], (None, 5))  # Keras 3.15.1
