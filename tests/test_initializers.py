"""Initializers' distributions: the truncated normal (sampled by inverse CDF) keeps Keras'
bounds and spread; variance scaling reaches its target variance; seeds repeat."""

import math

import numpy as np
import pytest

from lamina import initializers


def test_truncated_normal_stays_within_two_stddev_with_the_truncated_spread():
    values = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=3)((200_000,)).numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0
    assert values.mean() == pytest.approx(1.0, abs=0.01)
    # a unit normal cut at +-2 has standard deviation 0.8796 (Keras divides by it, too)
    assert values.std() == pytest.approx(0.5 * 0.87962566, rel=0.01)


@pytest.mark.parametrize("name", ["he_normal", "glorot_normal", "lecun_normal"])
def test_variance_scaling_normals_reach_their_target_variance(name):
    shape = (3, 3, 64, 128)  # Keras layout: fan_in 576, fan_out 1152
    values = initializers.get({"class_name": name, "config": {"seed": 1}})(shape).numpy()
    fan_in, fan_out = 3 * 3 * 64, 3 * 3 * 128
    target = {"he_normal": 2 / fan_in, "glorot_normal": 2 / (fan_in + fan_out)}
    variance = target.get(name, 1 / fan_in)
    assert values.var() == pytest.approx(variance, rel=0.02)
    assert np.abs(values).max() <= 2 * math.sqrt(variance) / 0.87962566 + 1e-6


def test_seeded_truncated_normal_repeats_and_dtype_follows():
    first = initializers.TruncatedNormal(seed=7)((4, 5), "float64")
    again = initializers.TruncatedNormal(seed=7)((4, 5), "float64")
    assert str(first.dtype) == "torch.float64"
    np.testing.assert_array_equal(first.numpy(), again.numpy())


# Keras 3.15.1's list(initializer.get_config())
INITIALIZER_KEYS = [
    ("RandomNormal", ["seed", "mean", "stddev"]),
    ("RandomUniform", ["seed", "minval", "maxval"]),
    ("TruncatedNormal", ["seed", "mean", "stddev"]),
    ("VarianceScaling", ["seed", "scale", "mode", "distribution", "input_axes", "output_axes"]),
    ("GlorotUniform", ["seed", "input_axes", "output_axes"]),
    ("Orthogonal", ["seed", "gain"]),
]


@pytest.mark.parametrize(("name", "keys"), INITIALIZER_KEYS)
def test_initializer_config_key_order(name: str, keys: list) -> None:
    assert list(getattr(initializers, name)().get_config()) == keys
