"""lamina.legacy.saving (and lamina.utils.legacy): Keras 2's serialization format, with the
forms Keras 3.15.1's keras.legacy.saving writes for the same objects as literals."""

import pytest

import lamina
from lamina.legacy import saving
from lamina.legacy.saving import deserialize_keras_object, serialize_keras_object
from lamina.utils import legacy as utils_legacy


class Holder:
    def __init__(self, a=1, init=None, activation=None):
        self.a, self.init, self.activation = a, init, activation

    def get_config(self):
        return {"a": self.a, "init": self.init, "activation": self.activation}


def test_utils_legacy_is_the_same_functions():
    assert utils_legacy.serialize_keras_object is serialize_keras_object
    assert utils_legacy.deserialize_keras_object is deserialize_keras_object
    assert saving.__name__ == "lamina.legacy.saving"


def test_serialize_matches_keras_2_format():
    # Keras: serialize_keras_object(keras.regularizers.L2(0.1)) and of a custom class holding
    # keras.initializers.Ones() and the string "relu".
    assert serialize_keras_object(lamina.regularizers.L2(0.1)) == {
        "class_name": "L2",
        "config": {"l2": 0.1},
    }
    assert serialize_keras_object(Holder(2, lamina.initializers.Ones(), "relu")) == {
        "class_name": "Holder",
        "config": {
            "a": 2,
            "init": {"class_name": "Ones", "config": {}, "__passive_serialization__": True},
            "activation": "relu",
        },
    }
    assert serialize_keras_object(lamina.activations.relu) == "relu"
    assert serialize_keras_object(None) is None


def test_registered_class_uses_its_registered_name():
    @lamina.saving.register_keras_serializable("legacy_test")
    class Registered:
        def __init__(self, a=1):
            self.a = a

        def get_config(self):
            return {"a": self.a}

    entry = serialize_keras_object(Registered(3))
    assert entry == {"class_name": "legacy_test>Registered", "config": {"a": 3}}
    assert deserialize_keras_object(entry).a == 3


def test_deserialize_rebuilds_nested_objects_and_functions():
    entry = serialize_keras_object(Holder(2, lamina.initializers.Ones(), "relu"))
    module_objects = {
        "Holder": Holder,
        "Ones": lamina.initializers.Ones,
        "relu": lamina.activations.relu,
    }
    rebuilt = deserialize_keras_object(entry, module_objects=module_objects)
    assert rebuilt.a == 2
    assert isinstance(rebuilt.init, lamina.initializers.Ones)
    assert rebuilt.activation is lamina.activations.relu
    assert "__passive_serialization__" in entry["config"]["init"]  # the input is not changed
    assert isinstance(deserialize_keras_object("Ones", module_objects), lamina.initializers.Ones)
    assert deserialize_keras_object("relu", module_objects) is lamina.activations.relu
    assert deserialize_keras_object(lamina.activations.relu) is lamina.activations.relu
    scoped = deserialize_keras_object(entry, custom_objects=module_objects)
    assert isinstance(scoped.init, lamina.initializers.Ones)


def test_keras_2_layer_config_builds_a_lamina_layer():
    # A Dense layer as tf.keras 2 wrote it in model JSON.
    entry = {
        "class_name": "Dense",
        "config": {
            "name": "dense",
            "trainable": True,
            "dtype": "float32",
            "units": 3,
            "activation": "relu",
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        },
    }
    layer = deserialize_keras_object(
        entry, {"Dense": lamina.layers.Dense}, printable_module_name="layer"
    )
    assert isinstance(layer, lamina.layers.Dense)
    assert layer.units == 3 and layer.name == "dense"
    assert layer(lamina.ops.ones((2, 4))).shape == (2, 3)


def test_errors_name_the_problem():
    # Keras' messages: "Unknown object: 'X'", "Improper config format", "Could not interpret
    # serialized object: 3", "Cannot serialize 3".
    with pytest.raises(ValueError, match="Unknown layer: 'Nope'"):
        deserialize_keras_object({"class_name": "Nope", "config": {}}, {}, None, "layer")
    with pytest.raises(ValueError, match="'class_name' and 'config' keys"):
        deserialize_keras_object({"class_name": "X"})
    with pytest.raises(ValueError, match="Could not interpret serialized object: 3"):
        deserialize_keras_object(3)
    with pytest.raises(ValueError, match="Cannot serialize 3"):
        serialize_keras_object(3)
    with pytest.raises(ValueError, match="Unknown object: 'missing'"):
        deserialize_keras_object("missing", {})
