"""The keras.utils functions added for Keras 3.15.1 parity: object serialization, registry
look-ups, symbolic-tensor helpers, standardize_dtype, Config, interactive logging.

Expected dicts and values are Keras 3.15.1 outputs (KERAS_BACKEND=torch) of the scratch
programs probe_ser.py and probe_misc.py, which made the same calls on keras.utils.
"""

import logging

import numpy as np
import pytest
import torch

import lamina
from lamina.utils import (
    Config,
    deserialize_keras_object,
    get_registered_name,
    get_registered_object,
    get_source_inputs,
    is_keras_tensor,
    serialize_keras_object,
    standardize_dtype,
)
from lamina.utils._logging import print_msg


@lamina.saving.register_keras_serializable(package="UtilsExtra")
def utils_extra_doubled(x):
    return 2 * x


@lamina.saving.register_keras_serializable(package="UtilsExtra")
class UtilsExtraSettings:
    def __init__(self, a=1):
        self.a = a

    def get_config(self):
        return {"a": self.a}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Unregistered(UtilsExtraSettings):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (1.5, 1.5),
        ([1, (2, 3)], [1, (2, 3)]),
        ({"a": np.float32(1.5), "b": [np.int64(2)]}, {"a": 1.5, "b": [2]}),
        (b"ab", {"class_name": "__bytes__", "config": {"value": "ab"}}),
        (
            slice(1, None, 2),
            {"class_name": "__slice__", "config": {"start": 1, "stop": None, "step": 2}},
        ),
        (..., {"class_name": "__ellipsis__", "config": {}}),
        (
            np.array([[1, 2]], dtype="int32"),
            {"class_name": "__numpy__", "config": {"value": [[1, 2]], "dtype": "int32"}},
        ),
        (np.array(3.0), 3.0),
        (
            torch.tensor([1, 2]),
            {"class_name": "__tensor__", "config": {"value": [1, 2], "dtype": "int64"}},
        ),
    ],
)
def test_serialize_keras_object_plain_and_special_values_match_keras(value, expected):
    result = serialize_keras_object(value)
    assert result == expected and type(result) is type(expected)


def test_serialize_keras_object_builtin_classes_match_keras():
    assert serialize_keras_object(lamina.regularizers.L2(0.1)) == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.1},
        "registered_name": None,
    }
    assert serialize_keras_object(lamina.initializers.GlorotUniform(seed=1)) == {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": 1, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }
    assert serialize_keras_object(lamina.losses.MeanSquaredError()) == {
        "module": "keras.losses",
        "class_name": "MeanSquaredError",
        "config": {"name": "mean_squared_error", "reduction": "sum_over_batch_size"},
        "registered_name": None,
    }
    assert serialize_keras_object(lamina.DTypePolicy("mixed_float16")) == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }


def test_serialize_keras_object_schedule_and_metric_modules_match_keras():
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    assert serialize_keras_object(schedule)["module"] == "keras.optimizers.schedules"
    assert serialize_keras_object(lamina.metrics.BinaryAccuracy())["config"] == {
        "name": "binary_accuracy",
        "dtype": "float32",
        "threshold": 0.5,
    }
    assert serialize_keras_object(lamina.constraints.NonNeg())["module"] == "keras.constraints"


def test_serialize_keras_object_functions_match_keras():
    assert serialize_keras_object(lamina.activations.relu) == {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    assert serialize_keras_object(utils_extra_doubled)["config"] == "UtilsExtra>utils_extra_doubled"


def test_serialize_keras_object_custom_classes_match_keras():
    registered = serialize_keras_object(UtilsExtraSettings(3))
    assert registered["registered_name"] == "UtilsExtra>UtilsExtraSettings"
    assert registered["config"] == {"a": 3}
    unregistered = serialize_keras_object(Unregistered(2))
    assert unregistered["registered_name"] == "Unregistered"
    assert unregistered["module"] == __name__


def test_serialize_keras_object_built_layer_has_build_config():
    layer = lamina.layers.Dense(2, name="d2")
    layer.build((None, 3))
    entry = serialize_keras_object(layer)
    assert (entry["module"], entry["class_name"], entry["registered_name"]) == (
        "keras.layers",
        "Dense",
        None,
    )
    assert entry["build_config"] == {"input_shape": (None, 3)}


def test_serialize_keras_object_keras_tensor_matches_keras():
    entry = serialize_keras_object(lamina.Input((3,), name="inp"))
    assert entry == {
        "class_name": "__keras_tensor__",
        "config": {"shape": (None, 3), "dtype": "float32", "keras_history": ["inp", 0, 0]},
    }


def test_serialize_keras_object_refuses_lambdas():
    with pytest.raises(ValueError, match="lambda"):
        serialize_keras_object(lambda x: x)


def test_serialize_keras_object_without_get_config_raises_type_error():
    with pytest.raises(TypeError, match="get_config"):
        serialize_keras_object({1})


@pytest.mark.parametrize(
    "value",
    [b"ab", slice(1, None, 2), ..., np.array([[1, 2]], dtype="int32"), 2.5, [1, [2, 3]]],
)
def test_deserialize_keras_object_round_trips_values(value):
    restored = deserialize_keras_object(serialize_keras_object(value))
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(restored, value)
        assert restored.dtype == value.dtype
    else:
        assert restored == value


def test_deserialize_keras_object_tensor_keeps_dtype():
    restored = deserialize_keras_object(
        {"class_name": "__tensor__", "config": {"value": [1, 2], "dtype": "int32"}}
    )
    assert torch.equal(restored, torch.tensor([1, 2], dtype=torch.int32))


def test_deserialize_keras_object_rebuilds_builtin_objects():
    optimizer = deserialize_keras_object(serialize_keras_object(lamina.optimizers.Adam(0.01)))
    assert isinstance(optimizer, lamina.optimizers.Adam)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    layer = deserialize_keras_object(
        {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"units": 3},
            "build_config": {"input_shape": [None, 4]},
        }
    )
    assert layer.built and layer.count_params() == 15


def test_deserialize_keras_object_reads_keras_internal_module_paths():
    # Keras 3.15.1 on torch writes Adam with its backend module and registered_name 'Adam'.
    config = {
        "module": "keras.src.backend.torch.optimizers.torch_adam",
        "class_name": "Adam",
        "config": {"learning_rate": 0.5},
        "registered_name": "Adam",
    }
    assert isinstance(deserialize_keras_object(config), lamina.optimizers.Adam)


def test_deserialize_keras_object_functions_and_names():
    relu = {"module": "builtins", "class_name": "function", "config": "relu"}
    assert deserialize_keras_object(relu) is lamina.activations.relu
    assert (
        deserialize_keras_object(serialize_keras_object(utils_extra_doubled)) is utils_extra_doubled
    )
    assert deserialize_keras_object("relu") == "relu"  # Keras returns unknown strings as is
    assert deserialize_keras_object("UtilsExtra>utils_extra_doubled") is utils_extra_doubled


def test_deserialize_keras_object_custom_objects_resolve_unregistered_classes():
    entry = serialize_keras_object(Unregistered(5))
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        deserialize_keras_object(entry)
    restored = deserialize_keras_object(entry, custom_objects={"Unregistered": Unregistered})
    assert isinstance(restored, Unregistered) and restored.a == 5


def test_deserialize_keras_object_plain_dict_is_deserialized_per_value():
    config = {"a": 1, "b": {"class_name": "__bytes__", "config": {"value": "x"}}}
    assert deserialize_keras_object(config) == {"a": 1, "b": b"x"}


def test_deserialize_keras_object_refuses_non_modeling_apis():
    config = {"class_name": "function", "config": "get_file", "module": "keras.utils"}
    with pytest.raises(ValueError, match="not a modeling function"):
        deserialize_keras_object(config)


def test_deserialize_keras_object_refuses_lambdas_even_without_safe_mode():
    config = {"class_name": "__lambda__", "config": {"value": "bytecode"}}
    with pytest.raises(ValueError, match="never runs code"):
        deserialize_keras_object(config, safe_mode=False)


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"class_name": "Nope", "config": {}, "module": "keras.layers"}, ValueError, "Unknown"),
        ({"class_name": "function", "config": 3}, TypeError, "function's name"),
        ({"class_name": "Dense", "config": 3, "module": "keras.layers"}, TypeError, "is a dict"),
        ({"class_name": "Dense", "config": None, "module": "keras.layers"}, TypeError, "units"),
        (
            {
                "class_name": "Dense",
                "config": {"units": 3},
                "module": "keras.layers",
                "registered_name": "X>Y",
            },
            ValueError,
            "registered_name='X>Y'",
        ),  # fmt: skip
        ({1}, TypeError, "Could not parse config"),
    ],
)
def test_deserialize_keras_object_errors_match_keras_types(config, error, match):
    with pytest.raises(error, match=match):
        deserialize_keras_object(config)


def test_registry_lookups_are_exported():
    assert get_registered_name(utils_extra_doubled) == "UtilsExtra>utils_extra_doubled"
    assert get_registered_object("UtilsExtra>UtilsExtraSettings") is UtilsExtraSettings
    assert get_registered_object("missing_name") is None


def test_is_keras_tensor_matches_keras():
    assert is_keras_tensor(lamina.Input((2,)))
    assert not is_keras_tensor(torch.ones(1))
    assert not is_keras_tensor(None)


def test_get_source_inputs_matches_keras():
    a, b = lamina.Input((2,), name="a"), lamina.Input((2,), name="b")
    total = lamina.layers.Add()([lamina.layers.Dense(2)(a), b])
    assert [source.name for source in get_source_inputs(total)] == ["a", "b"]
    assert get_source_inputs(a)[0] is a
    tensor = torch.ones(1)
    assert get_source_inputs(tensor) is tensor


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (None, "float32"),
        ("int", "int32"),
        (int, "int32"),
        (float, "float32"),
        (bool, "bool"),
        (str, "string"),
        (complex, "complex64"),
        (np.float16, "float16"),
        (np.dtype("int8"), "int8"),
        (np.dtype("int64"), "int64"),
        (torch.bfloat16, "bfloat16"),
        (torch.uint32, "uint32"),
        (torch.float8_e5m2, "float8_e5m2"),
        ("torch.float32", "float32"),
    ],
)
def test_standardize_dtype_matches_keras(dtype, expected):
    assert standardize_dtype(dtype) == expected


@pytest.mark.parametrize("dtype", ["float", "nope", 3])
def test_standardize_dtype_rejects_unknown_names(dtype):
    with pytest.raises(ValueError, match="Invalid dtype"):
        standardize_dtype(dtype)


def test_config_behaves_like_keras_config():
    config = Config(b=1, a=2)
    config.x = 3
    config["y"] = 4
    assert repr(config) == "<Config {'b': 1, 'a': 2, 'x': 3, 'y': 4}>"
    assert list(config) == ["a", "b", "x", "y"]
    assert (len(config), "a" in config, config.get("zz", 9)) == (4, True, 9)
    assert config.to_json() == '{"b": 1, "a": 2, "x": 3, "y": 4}'
    assert config.pop("a") == 2 and config.as_dict() == {"b": 1, "x": 3, "y": 4}


def test_config_unknown_attribute_suggests_a_close_name():
    config = Config(learning_rate=0.1)
    with pytest.raises(AttributeError, match="Unknown attribute: 'qqq'.$"):
        config.qqq  # noqa: B018
    with pytest.raises(AttributeError, match="Did you mean 'learning_rate'"):
        config.learning_rat  # noqa: B018


def test_config_frozen_refuses_every_change():
    config = Config(a=1)
    config.freeze()
    changes = [
        lambda: setattr(config, "z", 1),
        lambda: config.__setitem__("z", 1),
        lambda: config.pop("a"),
        lambda: config.__delitem__("a"),
        lambda: config.update(a=2),
    ]
    for change in changes:
        with pytest.raises(ValueError, match="the config is frozen"):
            change()
    config.unfreeze()
    config.a = 5
    assert config.a == 5 and not config.frozen


def test_print_msg_goes_to_stdout_when_interactive(capsys):
    print_msg("hello")
    print_msg("no newline", line_break=False)
    assert capsys.readouterr().out == "hello\nno newline"


def test_print_msg_goes_to_logging_when_not_interactive(capsys, caplog):
    lamina.utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="lamina"):
            print_msg("to the log")
    finally:
        lamina.utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert caplog.messages == ["to the log"]
