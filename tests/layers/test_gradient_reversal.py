"""GradientReversal: identity forward, gradient times -scale backward."""

import json
import math

import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.gradient_reversal import GradientReversal
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def test_gradient_reversal_contract():
    check_layer(
        GradientReversal,
        {"scale": 0.5},
        (2, 3, 4),
        expected_output_shape=(2, 3, 4),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


def test_forward_returns_the_input_unchanged():
    x = torch.randn(4, 5)
    torch.testing.assert_close(GradientReversal(scale=3.0)(x), x, rtol=0, atol=0)
    assert GradientReversal()(Input((7, 3))).shape == (None, 7, 3)


@pytest.mark.parametrize("scale", [1.0, 0.25, 0.0, 2])
def test_gradient_is_minus_scale_times_upstream(scale):
    x = torch.randn(3, 4, requires_grad=True)
    upstream = torch.randn(3, 4)
    (grad,) = torch.autograd.grad(GradientReversal(scale)(x), x, upstream)
    torch.testing.assert_close(grad, -scale * upstream)


def test_changing_scale_between_calls_takes_effect():
    layer = GradientReversal()
    x = torch.randn(2, 3, requires_grad=True)
    upstream = torch.ones(2, 3)
    # The DANN schedule: lambda = 2 / (1 + exp(-10 p)) - 1 as training progress p goes 0 -> 1.
    for progress in (0.0, 0.1, 0.5, 1.0):
        layer.scale = 2 / (1 + math.exp(-10 * progress)) - 1
        (grad,) = torch.autograd.grad(layer(x), x, upstream)
        torch.testing.assert_close(grad, torch.full((2, 3), -layer.scale))
    assert layer.get_config()["scale"] == pytest.approx(0.9999092)


def test_weights_before_the_layer_get_the_reversed_gradient():
    torch.manual_seed(0)
    features, head = Dense(3), Dense(1)
    x = torch.randn(8, 4)
    head(features(x))

    def feature_grads(middle):
        features.zero_grad()
        head.zero_grad()
        head(middle(features(x))).square().mean().backward()
        return features.weight.grad.clone(), head.weight.grad.clone()

    plain_features, plain_head = feature_grads(lambda h: h)
    reversed_features, reversed_head = feature_grads(GradientReversal(scale=0.3))
    torch.testing.assert_close(reversed_features, -0.3 * plain_features)
    # The layers after it are trained as usual.
    torch.testing.assert_close(reversed_head, plain_head)


def test_config_round_trip():
    layer = GradientReversal(scale=0.7, name="grl")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["scale"] == 0.7
    clone = GradientReversal.from_config(config)
    assert clone.scale == 0.7
    assert clone.get_config() == config


@pytest.mark.parametrize("bad", ["1", None, float("nan"), float("inf"), True])
def test_scale_must_be_a_finite_number(bad):
    with pytest.raises(ValueError, match=r"GradientReversal 'gradient_reversal': scale must be"):
        GradientReversal(scale=bad)
    layer = GradientReversal()
    with pytest.raises(ValueError, match=r"scale must be a finite number"):
        layer.scale = bad
    assert layer.scale == 1.0
