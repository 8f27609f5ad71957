"""Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, ActivityRegularization."""

import pytest
import torch

import lamina
from lamina.layers.regularization import (
    ActivityRegularization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shape"),
    [
        (Dropout, {"rate": 0.5}, (3, 4)),
        (Dropout, {"rate": 0.0}, (3, 4, 5)),
        (Dropout, {"rate": 0.2, "noise_shape": [None, 1, 5], "seed": 3}, (3, 4, 5)),
        (Dropout, {"rate": 0.3, "seed": 1}, (2, 6)),
        (SpatialDropout1D, {"rate": 0.5}, (2, 5, 3)),
        (SpatialDropout2D, {"rate": 0.5}, (2, 4, 4, 3)),
        (SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first", "seed": 2}, (2, 3, 4, 4)),
        (SpatialDropout3D, {"rate": 0.25}, (2, 3, 3, 3, 2)),
        (GaussianNoise, {"stddev": 0.1}, (3, 4)),
        (GaussianNoise, {"stddev": 0.5, "seed": 7}, (3, 2, 2)),
        (GaussianDropout, {"rate": 0.3}, (3, 4)),
        (ActivityRegularization, {"l1": 0.01, "l2": 0.02}, (3, 4)),
    ],
)
def test_regularization_layer_contract(cls, kwargs, input_shape):
    check_layer(
        cls,
        kwargs,
        input_shape,
        expected_output_shape=input_shape,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(
    "layer",
    [
        Dropout(0.5),
        Dropout(0.5, noise_shape=(None, 1, 1, None)),
        SpatialDropout2D(0.5),
        GaussianNoise(0.3),
        GaussianDropout(0.4),
        ActivityRegularization(l1=1.0),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_noise_layers_are_the_identity_in_inference(layer):
    x = torch.randn(2, 3, 3, 4)
    assert layer(x) is x or torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)


@pytest.mark.parametrize("seed", [None, 5])
def test_dropout_keeps_one_minus_rate_and_scales_survivors(seed):
    x = torch.ones(50_000)
    y = Dropout(0.3, seed=seed)(x, training=True)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.7))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_dropout_gradient_is_the_mask_scaled(dtype):
    # The CPU fast path (uniform draws) for float32/64, bernoulli_ for the others.
    x = torch.full((20_000,), 3.0, dtype=getattr(torch, dtype), requires_grad=True)
    y = Dropout(0.25, dtype=dtype)(x, training=True)
    assert y.dtype == x.dtype
    y.sum().backward()
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.02
    expected = kept.to(x.dtype) / 0.75
    torch.testing.assert_close(x.grad, expected)
    torch.testing.assert_close(y, x.detach() * expected)


def test_dropout_noise_shape_shares_the_mask_along_size_one_axes():
    y = Dropout(0.5, noise_shape=(None, 1, 8))(torch.ones(4, 6, 8), training=True)
    assert torch.equal(y, y[:, :1, :].expand_as(y))
    assert set(y.unique().tolist()) <= {0.0, 2.0}


def test_dropout_with_a_seed_is_reproducible():
    x = torch.ones(1000)
    first, second = Dropout(0.5, seed=42), Dropout(0.5, seed=42)
    a1, a2 = first(x, training=True), first(x, training=True)
    assert torch.equal(a1, second(x, training=True))
    assert torch.equal(a2, second(x, training=True))
    assert not torch.equal(a1, a2)


@pytest.mark.parametrize(
    ("layer", "shape", "channel_axis"),
    [
        (SpatialDropout1D(0.5), (8, 5, 16), -1),
        (SpatialDropout2D(0.5), (8, 4, 4, 16), -1),
        (SpatialDropout2D(0.5, data_format="channels_first"), (8, 16, 4, 4), 1),
        (SpatialDropout3D(0.5), (8, 2, 3, 3, 16), -1),
    ],
    ids=["1d", "2d", "2d_channels_first", "3d"],
)
def test_spatial_dropout_zeroes_whole_channels_per_sample(layer, shape, channel_axis):
    y = layer(torch.ones(shape), training=True)
    per_channel = y.movedim(channel_axis, -1).reshape(shape[0], -1, shape[channel_axis])
    assert torch.equal(per_channel, per_channel[:, :1, :].expand_as(per_channel))
    values = set(per_channel[:, 0, :].unique().tolist())
    assert values == {0.0, 2.0}
    masks = per_channel[:, 0, :]
    assert not torch.equal(masks[0], masks[1]) or not torch.equal(masks[1], masks[2])


def test_gaussian_noise_adds_noise_of_stddev():
    y = GaussianNoise(0.5, seed=0)(torch.full((100_000,), 3.0), training=True)
    assert abs(y.mean().item() - 3.0) < 0.01
    assert abs(y.std().item() - 0.5) < 0.01


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    rate = 0.2
    y = GaussianDropout(rate, seed=0)(torch.full((100_000,), 2.0), training=True)
    assert abs(y.mean().item() - 2.0) < 0.02
    assert abs(y.std().item() - 2.0 * (rate / (1 - rate)) ** 0.5) < 0.02


def test_activity_regularization_adds_l1_l2_over_batch_size_in_every_call():
    # Keras 3.15.1: a call in inference adds the penalty too; each outermost call starts afresh
    layer = ActivityRegularization(l1=0.1, l2=0.5)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    layer(x)
    assert len(layer.losses) == 1
    y = layer(x, training=True)
    assert torch.equal(y, x)
    (loss,) = layer.losses
    torch.testing.assert_close(loss, torch.tensor((0.1 * 6.0 + 0.5 * 14.0) / 2))
    config = layer.get_config()
    assert (config["l1"], config["l2"]) == (0.1, 0.5)
    assert "activity_regularizer" not in config


def test_config_keys_match_keras():
    assert {"rate", "seed", "noise_shape"} <= set(Dropout(0.5).get_config())
    assert {"rate", "seed", "data_format"} <= set(SpatialDropout2D(0.5).get_config())
    assert "data_format" not in SpatialDropout1D(0.5).get_config()
    assert {"stddev", "seed"} <= set(GaussianNoise(0.1).get_config())
    assert {"rate", "seed"} <= set(GaussianDropout(0.1).get_config())


@pytest.mark.parametrize("cls", [Dropout, SpatialDropout2D, GaussianDropout])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_rate_outside_zero_one_is_rejected(cls, rate):
    if cls is not GaussianDropout and rate == 1.0:
        cls(rate, name="ok")  # Keras 3.15.1 takes Dropout(1.0): everything dropped
        return
    top = r"1\)" if cls is GaussianDropout else r"1\]"
    with pytest.raises(
        ValueError, match=rf"{cls.__name__} 'bad'.*rate must be a number in \[0, {top}"
    ):
        cls(rate, name="bad")


def test_argument_errors():
    with pytest.raises(ValueError, match="GaussianNoise 'noise'.*stddev must be a non-negative"):
        GaussianNoise(-1.0, name="noise")
    with pytest.raises(ValueError, match="noise_shape must hold positive ints or None"):
        Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"noise_shape \(None, 1\) has 2 entries .* \(2, 3, 4\)"):
        Dropout(0.5, noise_shape=(None, 1))(torch.ones(2, 3, 4), training=True)
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or"):
        SpatialDropout2D(0.5, data_format="nhwc")
    with pytest.raises(
        ValueError, match=r"SpatialDropout2D 'sd' expects 4-D input \(batch, height, width"
    ):
        SpatialDropout2D(0.5, name="sd")(torch.ones(2, 3, 4))
    with pytest.raises(TypeError, match="seed must be an int"):
        Dropout(0.5, seed=1.5)


def test_spatial_dropout_configs_are_keras_short_ones():
    # Keras 3.15.1 prints these (its SpatialDropout get_config: no trainable, dtype a string).
    from lamina.layers import SpatialDropout1D, SpatialDropout2D

    assert SpatialDropout1D(0.1, name="s1").get_config() == {
        "rate": 0.1,
        "seed": None,
        "name": "s1",
        "dtype": "float32",
    }
    config = SpatialDropout2D(0.2, seed=3, name="s2").get_config()
    assert list(config) == ["rate", "seed", "name", "dtype", "data_format"]
    assert SpatialDropout2D.from_config(config).get_config() == config


def test_configs_hold_no_keys_keras_lacks_unless_used():
    # Keras 3.15.1: no seed in SimpleRNN's or RandomGrayscale's config, no padding in
    # RandomCrop's, no fill_value/bounding_box_format in MaxNumBoundingBoxes'.
    from lamina import layers

    assert "seed" not in layers.SimpleRNN(2).get_config()
    assert layers.SimpleRNN(2, seed=4).get_config()["seed"] == 4  # kept when set
    assert "seed" in layers.LSTM(2).get_config()
    assert "seed" not in layers.RandomGrayscale().get_config()
    assert "padding" not in layers.RandomCrop(2, 2).get_config()
    assert layers.RandomCrop(2, 2, padding=1).get_config()["padding"] == 1
    config = layers.MaxNumBoundingBoxes(3).get_config()
    assert "fill_value" not in config and "bounding_box_format" not in config
