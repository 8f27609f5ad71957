"""lamina.dtype_policies against Keras 3.15.1's keras.dtype_policies.

The expected dicts are what Keras 3.15.1 (torch backend) printed for the same calls in the
scratch program ref_dp.py.
"""

import pytest
import torch

from lamina import mixed_precision
from lamina.dtype_policies import (
    AWQDTypePolicy,
    DTypePolicy,
    DTypePolicyMap,
    FloatDTypePolicy,
    QuantizedDTypePolicy,
    deserialize,
    get,
    serialize,
)


def test_dtype_policy_is_the_mixed_precision_policy():
    assert DTypePolicy is mixed_precision.DTypePolicy


def test_get_a_name_gives_keras_dtypes():
    policy = get("mixed_float16")
    assert (type(policy).__name__, policy.name) == ("DTypePolicy", "mixed_float16")
    assert (policy.compute_dtype, policy.variable_dtype) == ("float16", "float32")
    assert repr(policy) == '<DTypePolicy "mixed_float16">'


def test_get_none_float64_and_torch_dtype():
    assert get(None).name == mixed_precision.global_policy().name
    assert get("float64").name == "float64"
    assert get(torch.bfloat16).name == "bfloat16"


def test_serialize_is_keras_form():
    assert serialize(get("mixed_float16")) == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    assert serialize(FloatDTypePolicy("bfloat16"))["class_name"] == "FloatDTypePolicy"


def test_deserialize_keeps_the_class():
    policy = deserialize({"class_name": "FloatDTypePolicy", "config": {"name": "float16"}})
    assert type(policy) is FloatDTypePolicy and policy == DTypePolicy("float16")


def test_policy_map_looks_up_paths_as_keras():
    policies = DTypePolicyMap("mixed_bfloat16", {"enc/.*": DTypePolicy("float32")})
    assert (policies["enc/x"].name, policies["dec"].name) == ("float32", "mixed_bfloat16")
    assert (policies.default_policy.name, len(policies)) == ("mixed_bfloat16", 1)


def test_policy_map_serializes_as_keras():
    policies = DTypePolicyMap("mixed_bfloat16", {"enc/.*": DTypePolicy("float32")})
    entry = serialize(policies)
    assert entry == {
        "module": "keras.dtype_policies",
        "class_name": "DTypePolicyMap",
        "config": {
            "default_policy": "mixed_bfloat16",
            "policy_map": {
                "enc/.*": {
                    "module": "keras",
                    "class_name": "DTypePolicy",
                    "config": {"name": "float32"},
                    "registered_name": None,
                }
            },
        },
        "registered_name": None,
    }
    assert deserialize(entry)["enc/a"].name == "float32"


def test_policy_map_refuses_duplicate_and_ambiguous_keys():
    policies = DTypePolicyMap(None, {"a.*": "float32", ".*b": "float16"})
    with pytest.raises(ValueError, match="several keys match"):
        policies["ab"]
    with pytest.raises(ValueError, match="already mapped"):
        policies["a.*"] = "float64"


def test_quantized_policies_are_keras_ones_and_gptq_awq_are_refused():
    policy = get("int8_from_float32")
    assert isinstance(policy, QuantizedDTypePolicy) and policy.quantization_mode == "int8"
    assert serialize(policy) == {
        "module": "keras.dtype_policies",
        "class_name": "QuantizedDTypePolicy",
        "config": {"mode": "int8", "source_name": "float32"},
        "registered_name": None,
    }
    assert deserialize(serialize(policy)) == policy
    assert get("int4/128_from_float32").block_size == 128
    with pytest.raises(ValueError, match="no GPTQ or AWQ layers"):
        AWQDTypePolicy("awq")
    with pytest.raises(ValueError, match="no GPTQ or AWQ layers"):
        get("gptq/4/128_from_float32")
