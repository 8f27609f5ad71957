"""Depthwise kernels seen from Keras: `numpy()`, `assign`, regularizers, constraints and
gradients all use Keras' layout (*kernel_size, in, depth_multiplier), while the parameter
keeps torch's grouped layout (in * depth_multiplier, 1, *kernel_size).

The literals were printed by Keras 3 (torch backend) running the same code."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


def reg(w: torch.Tensor) -> torch.Tensor:
    """Layout-dependent: the mean over Keras' last axis, and a position-weighted sum."""
    positions = torch.arange(w.numel(), dtype=w.dtype).reshape(w.shape)
    return (w.mean(-1) ** 2).sum() + (w * positions).sum() / w.numel()


def con(w: torch.Tensor) -> torch.Tensor:
    """Layout-dependent: Keras' last axis scaled by 1, 2, ..."""
    return w * (torch.arange(w.shape[-1], dtype=w.dtype) + 1.0)


def ramp(shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape))
    return np.arange(size, dtype="float32").reshape(shape) / size - 0.3


def weighted_sum(value: np.ndarray) -> float:
    return float((value * np.arange(value.size).reshape(value.shape)).sum())


# Keras' regularization loss of `reg` on the ramp kernel, by (rank, depth_multiplier).
KERAS_LOSS = {(1, 1): 2.247037, (1, 2): 3.966944, (2, 1): 7.742346, (2, 2): 12.782314}
CLASSES = [
    (layers.DepthwiseConv1D, 1),
    (layers.DepthwiseConv2D, 2),
    (layers.SeparableConv1D, 1),
    (layers.SeparableConv2D, 2),
]


def make(cls, rank, depth_multiplier, data_format):
    kw = dict(
        depth_multiplier=depth_multiplier,
        data_format=data_format,
        depthwise_regularizer=reg,
        depthwise_constraint=con,
    )
    layer = cls(4, 3, **kw) if cls.__name__.startswith("Separable") else cls(3, **kw)
    shape = (7, 3) if rank == 1 else (5, 5, 3)
    if data_format == "channels_first":
        shape = (shape[-1], *shape[:-1])
    layer.build((None, *shape))
    layer.set_weights([ramp(w.shape) for w in layer.get_weights()])
    return layer, shape


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("depth_multiplier", [1, 2])
@pytest.mark.parametrize(("cls", "rank"), CLASSES, ids=lambda c: getattr(c, "__name__", ""))
def test_depthwise_kernel_views_are_in_keras_layout(cls, rank, depth_multiplier, data_format):
    layer, _ = make(cls, rank, depth_multiplier, data_format)
    kernel = layer.weights[0]
    keras_shape = (*(3,) * rank, 3, depth_multiplier)
    torch_shape = (3 * depth_multiplier, 1, *(3,) * rank)
    assert tuple(kernel.shape) == torch_shape  # documented: `shape` is PyTorch's layout
    np.testing.assert_array_equal(kernel.numpy(), ramp(keras_shape))
    np.testing.assert_array_equal(layer.get_weights()[0], ramp(keras_shape))
    np.testing.assert_allclose(
        layer.losses[0].item(), KERAS_LOSS[(rank, depth_multiplier)], rtol=1e-6
    )

    new = np.cos(np.arange(int(np.prod(keras_shape)), dtype="float32")).reshape(keras_shape)
    kernel.assign(new)
    np.testing.assert_array_equal(layer.get_weights()[0], new)
    np.testing.assert_array_equal(kernel.numpy(), new)
    kernel.assign_add(np.ones(keras_shape, "float32"))
    np.testing.assert_allclose(kernel.numpy(), new + 1, rtol=1e-6)
    kernel.assign(torch.zeros(torch_shape))  # a tensor of the weight's own shape: as it is
    assert not kernel.numpy().any()
    with pytest.raises(ValueError, match=r"Keras' layout"):
        kernel.assign(np.zeros((*keras_shape, 1), "float32"))


def test_depthwise_constraint_sees_keras_layout():
    layer, _ = make(layers.DepthwiseConv2D, 2, 2, "channels_last")
    kernel = layer.weights[0]
    with torch.no_grad():
        kernel.copy_(kernel.constraint(kernel))
    np.testing.assert_allclose(kernel.numpy(), ramp((3, 3, 3, 2)) * [1.0, 2.0], rtol=1e-6)


@pytest.mark.parametrize(
    ("cls", "rank", "data_format", "grad_sum"),
    [
        (layers.DepthwiseConv2D, 2, "channels_last", 1460.783315),
        (layers.SeparableConv1D, 1, "channels_first", 152.183336),
    ],
)
def test_penalty_gradient_reaches_the_torch_parameter(cls, rank, data_format, grad_sum):
    layer, _ = make(cls, rank, 2, data_format)
    layer.losses[0].backward()
    parameter = layer.weights[0]
    assert parameter.grad is not None and parameter.grad.shape == parameter.shape
    info = next(iter(layer._weight_info.values()))
    grad = info.to_keras(parameter.grad).numpy()
    np.testing.assert_allclose(weighted_sum(grad), grad_sum, rtol=1e-5)


@pytest.mark.parametrize(
    ("cls", "rank", "data_format", "history", "kernel_sum", "kernel_head"),
    [
        (
            layers.DepthwiseConv2D,
            2,
            "channels_last",
            [124.365891, 12.599571, 24.03157],
            859.999734,
            [-0.424872, -3.528525, -0.426561, -3.540719],
        ),
        (
            layers.SeparableConv1D,
            1,
            "channels_first",
            [10.920551, 10.949919, 15.608257],
            207.795215,
            [-0.257143, -1.911101, -0.2141, -1.398199],
        ),
    ],
)
def test_fit_with_layout_dependent_penalty_and_constraint_matches_keras(
    cls, rank, data_format, history, kernel_sum, kernel_head
):
    layer, shape = make(cls, rank, 2, data_format)
    model = lamina.Sequential([lamina.Input(shape), layer, layers.Flatten(), layers.Dense(1)])
    model.set_weights([ramp(w.shape) for w in model.get_weights()])
    x = np.linspace(-1, 1, 8 * int(np.prod(shape)), dtype="float32").reshape(8, *shape)
    y = np.linspace(0, 1, 8, dtype="float32").reshape(8, 1)
    model.compile(lamina.optimizers.SGD(0.01), "mse")
    fitted = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(fitted.history["loss"], history, rtol=1e-5)
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(weighted_sum(kernel), kernel_sum, rtol=1e-5)
    np.testing.assert_allclose(kernel.ravel()[:4], kernel_head, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.weights[0].numpy(), kernel)


def test_pointwise_and_bias_views_unchanged():
    layer, _ = make(layers.SeparableConv2D, 2, 2, "channels_last")
    for weight, value in zip(layer.weights, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)
    assert layer.weights[1].numpy().shape == (1, 1, 6, 4)


def test_recurrent_kernels_share_the_layout_path():
    # The same path serves the GRU's transposed, gate-reordered kernels (Keras: numpy() and
    # assign in (in, 3 * units) with Keras' z, r, h gate order).
    layer = layers.GRU(2)
    layer.build((None, 3, 4))
    values = [ramp(w.shape) for w in layer.get_weights()]
    layer.set_weights(values)
    assert [w.numpy().shape for w in layer.weights] == [(4, 6), (2, 6), (2, 6)]
    for weight, value in zip(layer.weights, values, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)
    layer.weights[0].assign(values[0] * 2)
    np.testing.assert_array_equal(layer.get_weights()[0], values[0] * 2)
