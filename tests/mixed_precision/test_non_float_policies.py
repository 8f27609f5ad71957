"""Integer, bool and other non-float dtype policies, `autocast=False`, Input's default dtype
and bfloat16 predictions; the expected values are what Keras 3.15.1 (torch backend) printed
(programs in the sweep R notes)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.mixed_precision import DTypePolicy, set_global_policy

X = np.array([[1, 2, 3], [0, 1, 4]])


@pytest.fixture(autouse=True)
def reset_policy():
    yield
    set_global_policy(None)


def _dtype(t):
    return str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize(
    ("name", "compute", "variable"),
    [
        ("int32", "int32", "int32"),
        ("uint8", "uint8", "uint8"),
        ("bool", "bool", "bool"),
        ("complex64", "complex64", "complex64"),
        ("string", "string", "string"),
        ("int", "int32", "int32"),  # Keras 3.15.1 keeps the name 'int'
    ],
)
def test_any_dtype_name_makes_a_policy_as_keras(name, compute, variable):
    policy = DTypePolicy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert repr(policy) == f'<DTypePolicy "{name}">'


def test_bad_policy_names_raise_keras_errors():
    with pytest.raises(ValueError, match="Cannot convert 'foo' to a mixed precision DTypePolicy"):
        DTypePolicy("foo")
    with pytest.raises(TypeError, match="'name' must be a string, such as 'mixed_float16'"):
        DTypePolicy(3)
    with pytest.raises(ValueError, match="Cannot interpret `dtype` argument.*dtype=3"):
        layers.Layer(dtype=3)
    with pytest.raises(ValueError, match=r"Invalid `policy` argument.*policy=3"):
        lamina.config.set_dtype_policy(3)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_layers_without_float_weights_take_an_integer_policy(dtype):
    layer = layers.Activation("linear", dtype=dtype)
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == (dtype, dtype, dtype)
    assert layer.get_config()["dtype"] == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype},
        "registered_name": None,
    }
    clone = layers.Activation.from_config(layer.get_config())
    assert clone.dtype_policy.name == dtype


def test_float_inputs_are_cast_to_an_integer_compute_dtype_int_inputs_are_not():
    # Keras 3.15.1: Lambda(x * 2, dtype=...) on X as float32 and as int32
    assert _dtype(layers.Lambda(lambda x: x * 2, dtype="int32")(X.astype("float32"))) == "int32"
    assert _dtype(layers.Lambda(lambda x: x * 2, dtype="int64")(X.astype("int32"))) == "int32"
    out = layers.Lambda(lambda x: x * 2, dtype="bool")(X.astype("float32"))
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("int64", [2, 2, 2, 0])
    add = layers.Add(dtype="bool")
    assert add([np.ones((2, 3), "float32")] * 2).flatten()[:3].tolist() == [True] * 3
    assert _dtype(add([np.ones((2, 3), "int32")] * 2)) == "int32"


def test_rescaling_casts_scale_to_an_integer_policy():
    # Keras 3.15.1: Rescaling(0.5, dtype=...)(X as float32)
    out = layers.Rescaling(0.5, dtype="int32")(X.astype("float32"))
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("int32", [0, 0, 0, 0])
    out = layers.Rescaling(0.5, dtype="bool")(X.astype("int32"))
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("bool", [True, True, True, False])


def test_category_encoding_with_integer_policies_and_float_ids():
    # Keras 3.15.1: CategoryEncoding(5, "multi_hot", dtype=...)(X)
    out = layers.CategoryEncoding(num_tokens=5, output_mode="multi_hot", dtype="int64")(X)
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("int64", [0, 1, 1, 1])
    # float ids are not cast to the bool compute dtype first (Keras' _convert_input_args)
    layer = layers.CategoryEncoding(num_tokens=5, output_mode="multi_hot", dtype="bool")
    out = layer(X.astype("float32"))
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("bool", [False, True, True, True])


def test_discretization_policies_as_keras():
    # Keras 3.15.1: Discretization(bin_boundaries=[0.5, 1.5], dtype=...)
    layer = layers.Discretization(bin_boundaries=[0.5, 1.5], dtype="int32")
    assert (layer.dtype, layer.compute_dtype) == ("int32", "int32")
    assert layer.get_config()["dtype"] == "int32"
    assert layers.Discretization.from_config(layer.get_config()).dtype_policy.name == "int32"
    out = layers.Discretization(bin_boundaries=[0.5, 1.5], dtype="bool")(X.astype("float32"))
    assert (_dtype(out), out.flatten()[:4].tolist()) == ("int32", [1, 2, 2, 0])
    mixed = layers.Discretization(bin_boundaries=[0.5, 1.5], dtype="mixed_float16")
    assert mixed.get_config()["dtype"] == "float32"  # the variable dtype, as Keras writes it
    assert layers.Discretization.from_config(mixed.get_config()).dtype_policy.name == "float32"
    one_hot = layers.Discretization(bin_boundaries=[0.5], output_mode="one_hot", dtype="int64")
    assert _dtype(one_hot(np.array([0.0, 1.0]))) == "int64"


def test_global_integer_policy_and_its_layers():
    lamina.config.set_dtype_policy("int32")
    assert repr(lamina.config.dtype_policy()) == '<DTypePolicy "int32">'
    assert lamina.config.floatx() == "float32"
    assert layers.Layer().compute_dtype == "int32"
    assert layers.CategoryEncoding(3).dtype == "int32"
    assert layers.Dense(2, dtype="float32").dtype == "float32"
    # Keras 3.15.1: an InputLayer keeps the global policy, its dtype is floatx
    layer = layers.InputLayer(shape=(3,))
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == (
        "float32",
        "int32",
        "int32",
    )
    assert _dtype(layers.Input((3,))) == "float32"


def test_input_dtype_defaults_to_floatx_not_the_policy():
    set_global_policy("float64")
    assert _dtype(layers.Input((3,))) == "float32"  # Keras 3.15.1
    set_global_policy(None)
    lamina.config.set_floatx("float16")
    try:
        assert _dtype(layers.Input((3,))) == "float16"  # Keras 3.15.1
    finally:
        lamina.config.set_floatx("float32")
    with pytest.raises(ValueError, match="Invalid dtype"):
        layers.Input((3,), dtype="mixed_float16")


def test_autocast_false_keeps_float_inputs():
    class Double(layers.Layer):
        def call(self, x):
            return x * 2

    layer = Double(autocast=False)
    assert (layer.autocast, Double().autocast) == (False, True)
    assert _dtype(layer(np.ones((1, 2), "float64"))) == "float64"
    assert _dtype(Double()(np.ones((1, 2), "float64"))) == "float32"
    assert layers.Layer(autocast=False).get_config()["autocast"] is False
    # Keras 3.15.1: a user's layer without __init__ has the base layer's config
    assert Double(name="x").get_config() == {
        "name": "x",
        "activity_regularizer": None,
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
        "autocast": True,
    }
    assert Double.from_config(layer.get_config()).autocast is False


def test_bfloat16_predictions_come_back_as_float32():
    inputs = layers.Input((3,))
    model = lamina.Model(
        inputs, layers.Dense(2, kernel_initializer="ones", dtype="bfloat16")(inputs)
    )
    out = model.predict(np.array([[1.0, 2.0, 3.0]], "float32"), verbose=0)
    # Keras 3.15.1 gives an ml_dtypes bfloat16 array holding [[6.0, 6.0]]
    assert (out.dtype, out.tolist()) == (np.float32, [[6.0, 6.0]])
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize(
    "make",
    [
        lambda: lamina.layers.Dense(2),
        lambda: lamina.layers.Rescaling(2.0),
        lambda: lamina.layers.CategoryEncoding(5),
        lambda: lamina.layers.LayerNormalization(),
        lambda: lamina.layers.Normalization(mean=0.0, variance=1.0),
        lambda: lamina.layers.UnitNormalization(),
    ],
)
@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_symbolic_dtype_of_layers_that_compute_in_floats_on_int_inputs(make, dtype):
    # Keras 3.15.1: symbolic and eager outputs are float32 for these on int32/bool Inputs.
    inputs = lamina.Input((3,), dtype=dtype)
    outputs = make()(inputs)
    eager = lamina.Model(inputs, outputs)(np.ones((1, 3), dtype))
    assert outputs.dtype == "float32" and eager.dtype == torch.float32


@pytest.mark.parametrize("make", [lambda: lamina.layers.Activation("relu"), lamina.layers.Dropout])
def test_symbolic_dtype_of_layers_that_keep_int_inputs_is_their_eager_one(make):
    # Keras 3.15.1's eager output is int32 (its symbolic tensor says float32); lamina's
    # symbolic dtype is its eager one.
    layer = make() if not isinstance(make, type) else make(0.5)
    inputs = lamina.Input((3,), dtype="int32")
    outputs = layer(inputs)
    eager = lamina.Model(inputs, outputs)(np.ones((1, 3), "int32"))
    assert outputs.dtype == "int32" and eager.dtype == torch.int32
