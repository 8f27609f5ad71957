"""AlphaDropout: identity in inference, Keras' statistics and values in training."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.noise_extra import AlphaDropout
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def test_contract():
    check_layer(AlphaDropout, {"rate": 0.3, "seed": 2}, (2, 5), (2, 5))
    check_layer(AlphaDropout, {"rate": 0.2, "noise_shape": (None, 1, 4)}, (2, 3, 4), (2, 3, 4))


def test_inference_is_the_identity():
    x = torch.randn(4, 6)
    assert AlphaDropout(0.5)(x) is x
    assert AlphaDropout(0.0)(x, training=True) is x


def test_training_values_match_keras():
    # Keras 3.15.1 on zeros with rate 0.3: kept units become b, dropped ones a * alpha' + b.
    y = AlphaDropout(0.3, seed=1)(torch.zeros(200000), training=True)
    values = sorted({round(v, 5) for v in y.tolist()})
    np.testing.assert_allclose(values, [-1.059548, 0.454092], atol=1e-5)
    dropped = (y < 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.005
    # Keras: std 0.6928980 of the output on zeros; mean near 0.
    assert abs(y.std().item() - 0.6928980) < 0.005
    assert abs(y.mean().item()) < 0.01


def test_training_keeps_unit_normal_statistics():
    torch.manual_seed(0)
    y = AlphaDropout(0.3, seed=3)(torch.randn(400000), training=True)
    assert abs(y.mean().item()) < 0.01  # Keras: 0.0007243648
    assert abs(y.std().item() - 1.0) < 0.01  # Keras: 1.000173


def test_noise_shape_shares_the_mask():
    y = AlphaDropout(0.5, noise_shape=(None, 1, 5), seed=0)(torch.ones(4, 3, 5), training=True)
    assert bool((y == y[:, :1]).all())


def test_seed_makes_masks_reproducible():
    x = torch.ones(50)
    first = AlphaDropout(0.5, seed=7)(x, training=True)
    assert torch.equal(first, AlphaDropout(0.5, seed=7)(x, training=True))


def test_config_matches_keras():
    config = AlphaDropout(0.2).get_config()
    assert (config["rate"], config["seed"], config["noise_shape"]) == (0.2, None, None)
    assert AlphaDropout.supports_masking
    clone = AlphaDropout.from_config(AlphaDropout(0.1, noise_shape=(None, 1), seed=4).get_config())
    assert (clone.rate, clone.noise_shape, clone.seed) == (0.1, (None, 1), 4)


def test_bad_rate_names_the_layer():
    with pytest.raises(ValueError, match="AlphaDropout 'a'.*rate"):
        AlphaDropout(1.5, name="a")


def test_symbolic_call():
    assert AlphaDropout(0.1)(Input((3, 4))).shape == (None, 3, 4)


def test_trains_in_a_sequential_model():
    model = lamina.Sequential(
        [Input((4,)), Dense(8, activation="selu"), AlphaDropout(0.1), Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.random.rand(16, 4), np.random.rand(16, 1), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
