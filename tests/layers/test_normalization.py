"""BatchNormalization, LayerNormalization, GroupNormalization: contract, Keras numerics, torch
state_dict compatibility."""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.batch_normalization import BatchNormalization
from lamina.layers.core import Input
from lamina.layers.normalization import (
    GroupNormalization,
    LayerNormalization,
)
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


# ---------------------------------------------------------------- contract


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "trainable", "non_trainable"),
    [
        ({}, (4, 5), 2, 2),
        ({}, (4, 3, 3, 2), 2, 2),
        ({"axis": 1}, (4, 3, 5, 5), 2, 2),
        ({"momentum": 0.9, "center": False}, (4, 6, 3), 1, 2),
        ({"scale": False, "gamma_regularizer": "l2"}, (4, 2, 2, 2, 3), 1, 2),
        ({"beta_initializer": "ones", "moving_variance_initializer": "zeros"}, (8, 3), 2, 2),
    ],
)
def test_batch_normalization_contract(kwargs, input_shape, trainable, non_trainable):
    check_layer(
        BatchNormalization,
        kwargs,
        input_shape,
        expected_output_shape=input_shape,
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=non_trainable,
    )


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "num_weights"),
    [
        ({}, (2, 5), 2),
        ({}, (2, 3, 4), 2),
        ({"axis": [1, 2]}, (2, 3, 4), 2),
        ({"axis": 1}, (2, 3, 4), 2),
        ({"axis": [1, 3]}, (2, 3, 4, 5), 2),
        ({"center": False, "epsilon": 1e-5}, (2, 4, 6), 1),
        ({"scale": False, "center": False}, (2, 4, 6), 0),
    ],
)
def test_layer_normalization_contract(kwargs, input_shape, num_weights):
    check_layer(
        LayerNormalization,
        kwargs,
        input_shape,
        expected_output_shape=input_shape,
        expected_num_trainable_weights=num_weights,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "num_weights"),
    [
        ({"groups": 2}, (2, 4), 2),
        ({"groups": 2}, (2, 5, 5, 4), 2),
        ({"groups": -1, "center": False}, (2, 3, 6), 1),
        ({"groups": 3, "axis": 1}, (2, 6, 4, 4), 2),
    ],
)
def test_group_normalization_contract(kwargs, input_shape, num_weights):
    check_layer(
        GroupNormalization,
        kwargs,
        input_shape,
        expected_output_shape=input_shape,
        expected_num_trainable_weights=num_weights,
    )


def test_config_keys_match_keras():
    assert set(BatchNormalization().get_config()) >= {
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
        "synchronized", "renorm", "renorm_clipping", "renorm_momentum",
    }  # fmt: skip
    assert set(LayerNormalization().get_config()) >= {"axis", "epsilon", "rms_scaling"}
    assert set(GroupNormalization().get_config()) >= {"groups", "axis", "epsilon"}


# ---------------------------------------------------------------- BatchNormalization numerics

# Keras 3.15 (torch backend): BatchNormalization(momentum=0.9), called with training=True on X1
# then on X2, then in inference on X1.
X1 = np.linspace(-3, 5, 72, dtype="float32").reshape(4, 3, 3, 2)
X2 = (X1**2 / 4).astype("float32")
KERAS_TRAIN_OUTPUT_0_0 = [
    [-1.6844347, -1.6844345],
    [-1.5881813, -1.5881813],
    [-1.4919277, -1.4919277],
]
KERAS_MOVING_MEAN = [0.24420187, 0.2599765]
KERAS_MOVING_VARIANCE = [1.5750681, 1.6059434]
KERAS_INFERENCE_OUTPUT_1_1 = [
    [-0.43011773, -0.34952402],
    [-0.25061375, -0.17175286],
    [-0.07110976, 0.00601831],
]


def test_batch_normalization_matches_keras_after_training_steps():
    layer = BatchNormalization(momentum=0.9)
    train_output = layer(torch.from_numpy(X1), training=True)
    layer(torch.from_numpy(X2), training=True)
    np.testing.assert_allclose(train_output[0, 0].detach(), KERAS_TRAIN_OUTPUT_0_0, atol=1e-5)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    np.testing.assert_allclose(moving_mean, KERAS_MOVING_MEAN, rtol=1e-5)
    np.testing.assert_allclose(moving_variance, KERAS_MOVING_VARIANCE, rtol=1e-5)
    with torch.no_grad():
        inference = layer(torch.from_numpy(X1))
    np.testing.assert_allclose(inference[1, 1], KERAS_INFERENCE_OUTPUT_1_1, atol=1e-5)


def test_batch_normalization_moving_variance_uses_the_biased_batch_variance():
    x = torch.randn(6, 5, 3, dtype=torch.float64)
    layer = BatchNormalization(momentum=0.8, dtype="float64")
    layer(x, training=True)
    biased = x.reshape(-1, 3).var(dim=0, correction=0)
    torch.testing.assert_close(layer.moving_variance, 0.8 + 0.2 * biased)
    torch.testing.assert_close(layer.moving_mean, 0.2 * x.reshape(-1, 3).mean(dim=0))
    assert int(layer.num_batches_tracked) == 1


def test_a_shared_batch_normalization_trains_and_blends_each_call_in_turn():
    # Called twice before one backward pass (a Siamese branch): the moving statistics blend
    # both batches, Keras' way, and the first call's backward still works.
    x1 = torch.randn(6, 4, 3, dtype=torch.float64, requires_grad=True)
    x2 = torch.randn(6, 4, 3, dtype=torch.float64) * 3 + 1
    layer = BatchNormalization(momentum=0.9, dtype="float64")
    (layer(x1, training=True) * layer(x2, training=True)).sum().backward()
    assert x1.grad is not None and layer.gamma.grad is not None
    variance, mean = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    for batch in (x1.detach(), x2):
        flat = batch.reshape(-1, 3)
        variance = 0.9 * variance + 0.1 * flat.var(dim=0, correction=0)
        mean = 0.9 * mean + 0.1 * flat.mean(dim=0)
    torch.testing.assert_close(layer.moving_variance, variance)
    torch.testing.assert_close(layer.moving_mean, mean)


def test_batch_normalization_training_output_equals_torch_batch_norm():
    torch.manual_seed(0)
    x = torch.randn(4, 5, 5, 3)
    reference = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.01)
    with torch.no_grad():
        reference.weight.uniform_(0.5, 1.5)
        reference.bias.uniform_(-1, 1)
    layer = BatchNormalization()
    layer(x)
    layer.load_state_dict(reference.state_dict())
    expected = reference.train()(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x, training=True), expected)
    torch.testing.assert_close(layer.moving_mean, reference.running_mean)


def test_torch_batchnorm2d_state_dict_loads_unchanged():
    torch.manual_seed(1)
    reference = torch.nn.BatchNorm2d(4, eps=1e-3)
    with torch.no_grad():
        for tensor in (reference.weight, reference.bias, reference.running_mean):
            tensor.uniform_(-1, 1)
        reference.running_var.uniform_(0.5, 2.0)
    reference.eval()
    layer = BatchNormalization(axis=-1)
    layer(torch.zeros(1, 6, 6, 4))
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(2, 6, 6, 4)
    with torch.no_grad():
        expected = reference(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        torch.testing.assert_close(layer(x), expected)
    assert [w.shape for w in layer.get_weights()] == [(4,)] * 4
    torch.testing.assert_close(torch.from_numpy(layer.get_weights()[0]), reference.weight.detach())
    torch.testing.assert_close(torch.from_numpy(layer.get_weights()[3]), reference.running_var)


def test_batch_normalization_weights_in_keras_order_and_names():
    layer = BatchNormalization()
    layer(torch.zeros(2, 3))
    assert [info.keras_name for info in layer._weight_info.values()] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]
    assert layer.gamma is layer.weight and layer.moving_variance is layer.running_var
    assert len(layer.weights) == 4  # num_batches_tracked is not a Keras weight


def test_frozen_batch_normalization_uses_moving_statistics_in_training():
    layer = BatchNormalization()
    x = torch.randn(8, 3) * 5 + 2
    layer(x)
    layer.set_weights([np.ones(3), np.zeros(3), np.full(3, 1.0), np.full(3, 4.0)])
    layer.trainable = False
    output = layer(x, training=True)
    torch.testing.assert_close(output, (x - 1.0) / torch.sqrt(torch.tensor(4.0 + 1e-3)))
    np.testing.assert_array_equal(layer.get_weights()[2], np.ones(3))
    assert int(layer.num_batches_tracked) == 0


def test_batch_normalization_inference_uses_moving_statistics():
    layer = BatchNormalization()
    x = torch.randn(8, 3)
    layer(x)
    layer.set_weights([np.full(3, 2.0), np.full(3, 0.5), np.full(3, -1.0), np.full(3, 9.0)])
    with torch.no_grad():
        output = layer(x)
    torch.testing.assert_close(output, 2.0 * (x + 1.0) / torch.sqrt(torch.tensor(9.0 + 1e-3)) + 0.5)


def test_batch_normalization_channels_first_axis():
    x = torch.randn(4, 3, 5, 5)
    layer = BatchNormalization(axis=1)
    output = layer(x, training=True)
    torch.testing.assert_close(output.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    assert tuple(layer.moving_mean.shape) == (3,)


def test_batch_normalization_symbolic_shape():
    assert BatchNormalization()(Input((8, 8, 16))).shape == (None, 8, 8, 16)


def test_batch_normalization_errors():
    with pytest.raises(ValueError, match=r"BatchNormalization 'bn'.*momentum must be in \[0, 1\]"):
        BatchNormalization(momentum=1.5, name="bn")
    with pytest.raises(ValueError, match="more than one value per feature"):
        BatchNormalization()(torch.zeros(1, 3), training=True)
    layer = BatchNormalization(name="bn2")
    layer(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"BatchNormalization 'bn2' .*size 3 on axis 1"):
        layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        BatchNormalization(axis=5)(torch.zeros(2, 3))
    # synchronized=True alone (no process group) is plain batch normalization.
    x = torch.randn(6, 3)
    synced, plain = BatchNormalization(synchronized=True), BatchNormalization()
    torch.testing.assert_close(synced(x, training=True), plain(x, training=True))
    torch.testing.assert_close(synced.running_var, plain.running_var)
    assert synced.get_config()["synchronized"] is True


# ---------------------------------------------------------------- Layer/Group numerics


def _numpy_normalize(x, axes, epsilon=1e-3):
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def test_layer_normalization_matches_numpy_with_copied_weights():
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype("float32")
    gamma = np.linspace(0.5, 1.5, 5, dtype="float32")
    beta = np.linspace(-1, 1, 5, dtype="float32")
    layer = LayerNormalization()
    layer(torch.from_numpy(x))
    layer.set_weights([gamma, beta])
    expected = _numpy_normalize(x, -1) * gamma + beta
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach(), expected, atol=1e-5)


def test_layer_normalization_over_a_middle_axis_matches_numpy():
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    layer = LayerNormalization(axis=1)
    layer(torch.from_numpy(x))
    gamma = np.array([1.0, 2.0, 3.0], "float32")
    layer.set_weights([gamma, np.zeros(3, "float32")])
    expected = _numpy_normalize(x, 1) * gamma[None, :, None]
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach(), expected, atol=1e-5)


def test_layer_normalization_over_two_axes_matches_keras():
    # Keras 3.15: LayerNormalization(axis=[1, 2]) on linspace(-1, 2, 24).reshape(2, 3, 4) ** 3.
    x = torch.linspace(-1, 2, 24).reshape(2, 3, 4) ** 3
    expected = [
        [-1.0907772, -1.0279452, -0.93652594, -0.8111595],
        [-0.64648575, -0.43714473, -0.17777598, 0.13698001],
        [0.51248366, 0.954095, 1.4671745, 2.0570815],
    ]
    layer = LayerNormalization(axis=[1, 2])
    np.testing.assert_allclose(layer(x)[1].detach(), expected, atol=1e-5)
    assert tuple(layer.gamma.shape) == (3, 4)


def test_layer_normalization_rms_scaling_matches_keras_and_warns():
    # Keras 3.15 (deprecated option): x / sqrt(var(x) + epsilon) * gamma, no centering.
    x = torch.linspace(-1, 2, 24).reshape(2, 3, 4) ** 3
    expected = [
        [0.68612736, 1.279189, 2.142079, 3.3253915],
        [1.7629715, 2.476848, 3.3613243, 4.4346776],
        [2.905747, 3.6714075, 4.5609784, 5.583752],
    ]
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = LayerNormalization(rms_scaling=True)
    np.testing.assert_allclose(layer(x)[1].detach(), expected, rtol=1e-5)
    assert [info.keras_name for info in layer._weight_info.values()] == ["gamma"]


def test_group_normalization_matches_keras():
    # Keras 3.15: GroupNormalization(groups=2) on (linspace(-1, 2, 24).reshape(2, 3, 4)) ** 2.
    x = torch.linspace(-1, 2, 24).reshape(2, 3, 4) ** 2
    expected = [
        [-1.1897404, -1.0258331, -1.2231483, -1.0335488],
        [-0.33064055, -0.03108609, -0.29827237, 0.00231218],
        [1.0710487, 1.5062506, 1.0705439, 1.4821135],
    ]
    np.testing.assert_allclose(GroupNormalization(groups=2)(x)[1].detach(), expected, atol=1e-5)


def test_group_normalization_state_dict_matches_torch_group_norm():
    reference = torch.nn.GroupNorm(2, 4, eps=1e-3)
    with torch.no_grad():
        reference.weight.uniform_(0.5, 1.5)
        reference.bias.uniform_(-1, 1)
    layer = GroupNormalization(groups=2)
    x = torch.randn(3, 5, 5, 4)
    layer(x)
    layer.load_state_dict(reference.state_dict())
    with torch.no_grad():
        expected = reference(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("input_shape", [(4, 5, 5, 4), (2, 3, 3, 3, 4)])
def test_group_normalization_backward_to_weights_only(input_shape):
    # torch 2.13's CPU group_norm backward on a channels_last view crashed the process when the
    # input needs no gradient (the first layer of a model in fit()).
    layer = GroupNormalization(groups=2)
    layer(torch.randn(input_shape), training=True).square().sum().backward()
    assert layer.gamma.grad is not None and layer.beta.grad is not None


def test_group_normalization_errors():
    with pytest.raises(ValueError, match=r"GroupNormalization 'gn'.*groups=3 must divide .* 4"):
        GroupNormalization(groups=3, name="gn")(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="groups must be a positive int"):
        GroupNormalization(groups=0)


def test_layer_normalization_errors():
    with pytest.raises(TypeError, match="axis must be an int or a non-empty list"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="cannot be the batch axis"):
        LayerNormalization(axis=0)(torch.zeros(2, 3))
    layer = LayerNormalization(name="ln")
    layer(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"LayerNormalization 'ln' expects 2-D input"):
        layer(torch.zeros(2, 3, 3))


def test_synchronized_statistics_path_matches_plain_batch_norm(monkeypatch):
    # One process standing in for a group: the all-reduces return their input, so the
    # synchronized computation must give plain batch normalization's outputs, gradients and
    # Keras' moving statistics; on padding, the process's batch is left out of the counts.
    from lamina.layers import batch_normalization

    monkeypatch.setattr(batch_normalization, "_distributed", lambda: True)
    monkeypatch.setattr(batch_normalization, "_all_reduce_sum", lambda tensor: tensor)
    x = torch.randn(4, 5, 5, 3, dtype=torch.float64)
    synced = BatchNormalization(synchronized=True, momentum=0.7, dtype="float64")
    plain = BatchNormalization(momentum=0.7, dtype="float64")
    for layer in (synced, plain):
        layer.build(x.shape)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
            layer.bias.copy_(torch.tensor([0.1, 0.0, 0.3]))
    xs, xp = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_s, out_p = synced(xs, training=True), plain(xp, training=True)
    torch.testing.assert_close(out_s, out_p)
    (out_s * out_s.detach()).sum().backward()
    (out_p * out_p.detach()).sum().backward()
    torch.testing.assert_close(xs.grad, xp.grad)
    torch.testing.assert_close(synced.weight.grad, plain.weight.grad)
    torch.testing.assert_close(synced.running_mean, plain.running_mean)
    torch.testing.assert_close(synced.running_var, plain.running_var)
    assert int(synced.num_batches_tracked) == 1
    with (
        batch_normalization.padding_step(),
        pytest.raises(ValueError, match="over all processes"),
    ):
        synced(x, training=True)  # alone and on padding: no sample counts


def test_normalization_layers_cast_integer_images_as_keras():
    # Keras casts uint8 images to the compute dtype (its BatchNormalization gives 4.9975 at
    # this element; its Layer/GroupNormalization compute in uint8 and overflow, so the
    # reference for those is the same layer on the float32 copy).
    x = np.arange(2 * 4 * 4 * 3).reshape(2, 4, 4, 3).astype("uint8")
    layers = lamina.layers
    for layer in (
        layers.BatchNormalization(),
        layers.LayerNormalization(),
        layers.GroupNormalization(3),
    ):
        out = layer(x)
        assert out.dtype == torch.float32
        expected = layer(x.astype("float32"))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert float(layers.BatchNormalization()(x).detach().reshape(-1)[5]) == pytest.approx(4.9975019)
    model = lamina.Sequential([lamina.Input((4, 4, 3)), layers.BatchNormalization()])
    assert model.predict(x, verbose=0).reshape(-1)[5] == pytest.approx(4.997502)
