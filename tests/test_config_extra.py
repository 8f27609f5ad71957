"""The keras.config and keras.backend functions added for Keras 3.15.1 parity.

Expected values are Keras 3.15.1 outputs (KERAS_BACKEND=torch) of the scratch program
probe_misc.py, which made the same calls on keras.config and keras.backend.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import backend, config


@pytest.fixture
def restore_settings():
    yield
    config.set_dtype_policy("float32")
    config.enable_flash_attention()
    config.enable_traceback_filtering()
    config.enable_interactive_logging()
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    config.set_floatx("float32")


def test_flag_defaults_match_keras():
    assert config.is_flash_attention_enabled() is None
    assert config.is_traceback_filtering_enabled() is True
    assert config.is_interactive_logging_enabled() is True
    assert (config.max_epochs(), config.max_steps_per_epoch()) == (None, None)
    assert config.dtype_policy().name == "float32"


def test_flash_attention_enable_restores_none_as_keras(restore_settings):
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is None


def test_traceback_filtering_flag_switches(restore_settings):
    config.disable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is False


def test_interactive_logging_is_one_flag_for_config_and_utils(restore_settings):
    config.disable_interactive_logging()
    assert lamina.utils.is_interactive_logging_enabled() is False
    lamina.utils.enable_interactive_logging()
    assert config.is_interactive_logging_enabled() is True


def test_max_epochs_and_steps_are_set_and_read(restore_settings):
    config.set_max_epochs(3)
    config.set_max_steps_per_epoch(2)
    assert (config.max_epochs(), config.max_steps_per_epoch()) == (3, 2)


@pytest.mark.parametrize("value", ["x", 0, 1.5, True])
def test_max_epochs_rejects_non_positive_ints(value):
    # Keras 3.15.1 stores anything; lamina refuses what fit could not use.
    with pytest.raises(TypeError, match="positive int or None"):
        config.set_max_epochs(value)


def test_dtype_policy_is_the_mixed_precision_global_policy(restore_settings):
    config.set_dtype_policy("mixed_float16")
    assert config.dtype_policy() is lamina.mixed_precision.global_policy()
    assert config.dtype_policy().name == "mixed_float16"
    assert lamina.layers.Dense(2).dtype_policy.name == "mixed_float16"


def test_set_dtype_policy_rejects_non_policies(restore_settings):
    with pytest.raises(ValueError, match="DTypePolicy"):
        config.set_dtype_policy(3)


def test_get_uid_counts_per_prefix_as_keras():
    lamina.clear_session()
    assert [backend.get_uid("dense"), backend.get_uid("dense"), backend.get_uid()] == [1, 2, 1]


def test_get_uid_shares_the_layer_name_counter_as_keras():
    lamina.clear_session()
    first = lamina.layers.Dense(2)
    assert (first.name, backend.get_uid("dense"), lamina.layers.Dense(2).name) == (
        "dense",
        2,
        "dense_2",
    )


def test_backend_is_keras_tensor():
    assert backend.is_keras_tensor(lamina.Input((2,)))
    assert not backend.is_keras_tensor(torch.ones(1))


@pytest.mark.parametrize(
    ("dtype", "is_float", "is_int"),
    [
        (None, True, False),
        ("float64", True, False),
        ("bfloat16", True, False),
        ("float8_e4m3fn", True, False),
        (int, False, True),
        (torch.int64, False, True),
        ("uint16", False, True),
        (bool, False, False),
        (torch.complex64, False, False),
        (np.float16, True, False),
    ],
)
def test_is_float_and_is_int_dtype_match_keras(dtype, is_float, is_int):
    assert backend.is_float_dtype(dtype) is is_float
    assert backend.is_int_dtype(dtype) is is_int


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((), "float32"),
        (("int32", "float32"), "float32"),
        (("bfloat16", int), "bfloat16"),
        (("complex64", int), "complex64"),
        (("int8", "uint8"), "int16"),
        (("uint8", "uint16"), "uint16"),
        (("int32", "uint32"), "int32"),
        (("int64", "uint64"), "float32"),
        (("int64",), "int32"),
        (("float64",), "float32"),
        (("float16", "bfloat16"), "float32"),
        ((int, float), "float32"),
        ((int,), "int32"),
        ((bool,), "bool"),
        (("bool", int), "int32"),
        (("int8", float), "float32"),
        (("float16", float), "float16"),
        (("float16", int), "float16"),
        (("uint8", int), "uint8"),
        (("uint64", "int8"), "float32"),
        (("int32", "float16"), "float16"),
        (("complex64", "float64"), "complex64"),
        (("complex128", "float32"), "complex64"),
        (("bool", "float16"), "float16"),
        ((None, "int32"), "float32"),
        (("string", "string"), "string"),
        ((int, bool), "int32"),
        ((float, bool), "float32"),
        (("int16", "uint32"), "int32"),
        (("uint32", "float16"), "float16"),
        ((complex, int), "complex64"),
        (("float32", "float32", "int8"), "float32"),
        ((torch.float16, np.int32), "float16"),
        (("float64", int), "float32"),
    ],
)
def test_result_type_matches_keras(dtypes, expected):
    assert backend.result_type(*dtypes) == expected


@pytest.mark.parametrize(
    ("floatx", "dtypes", "expected"),
    [
        ("float16", (int, float), "float16"),
        ("float16", (), "float16"),
        ("float16", ("int8", float), "float16"),
        ("float16", (int,), "int16"),
        ("float64", (int, float), "float32"),
        ("float64", ("int8", int), "int8"),
        ("float64", (int,), "int32"),
    ],
)
def test_result_type_weak_types_follow_floatx_as_keras(restore_settings, floatx, dtypes, expected):
    config.set_floatx(floatx)
    assert backend.result_type(*dtypes) == expected


def test_result_type_refuses_float8():
    with pytest.raises(ValueError, match="float8"):
        backend.result_type("float8_e4m3fn", "float32")


def test_result_type_refuses_string_with_numbers():
    with pytest.raises(ValueError, match="not a valid dtype for Keras type promotion"):
        backend.result_type("string", "int32")


def test_backend_standardize_dtype_is_the_utils_one():
    assert backend.standardize_dtype is lamina.utils.standardize_dtype
    assert backend.standardize_dtype(torch.bfloat16) == "bfloat16"


def test_device_scope_is_keras_device_and_restores_the_training_device():
    before = lamina.config.device()
    with lamina.device("cpu:0") as chosen:
        assert str(chosen) == "cpu:0" and str(lamina.config.device()) == "cpu:0"
        assert torch.empty(1).device.type == "cpu"
        layer = lamina.layers.Dense(2)
        layer.build((None, 3))
        assert layer.kernel.device.type == "cpu"
    assert lamina.config.device() == before
    with pytest.raises(ValueError, match="unknown device 'tpu:0'"), lamina.device("tpu:0"):
        pass
