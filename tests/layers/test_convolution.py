"""Convolution layers: the contract, numerics against torch.nn.functional and Keras, shapes, errors.

Reference outputs marked "Keras" were computed once with Keras 3.15 (torch backend) from the same
deterministic weights and inputs (`_det`), and pasted as literals.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lamina import config
from lamina.layers import Input
from lamina.layers._conv_utils import (
    conv_output_size,
    conv_transpose_output_size,
    same_padding,
    to_channels_first,
)
from lamina.layers.convolution import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution2D,
)
from lamina.layers.depthwise import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from lamina.layers.layer import Layer
from lamina.testing import check_layer

_TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_CLASSES = {1: Conv1D, 2: Conv2D, 3: Conv3D}


def _det(shape: tuple[int, ...], phase: float) -> np.ndarray:
    """Deterministic values in [-0.5, 0.5], the same formula as the Keras reference script."""
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.37 + phase) * 0.5).reshape(shape).astype("float32")


def _set_det_weights(layer: Layer) -> None:
    layer.set_weights([_det(w.shape, 0.1 + i) for i, w in enumerate(layer.get_weights())])


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, *range(2, x.ndim), 1)


def _expected_size(n: int, k: int, s: int, padding: object, d: int) -> int:
    if padding == "same":
        return math.ceil(n / s)
    return conv_output_size(n, k, s, 0 if padding == "valid" else padding, d)


# ---------------------------------------------------------------- the layer contract


def _conv2d_grid() -> list:
    cases = []
    for strides in (1, 2):
        for padding in ("valid", "same", 1):
            for dilation in (1, 2):
                for groups in (1, 2):
                    size = _expected_size(9, 3, strides, padding, dilation)
                    kwargs = {
                        "filters": 4,
                        "kernel_size": 3,
                        "strides": strides,
                        "padding": padding,
                        "dilation_rate": dilation,
                        "groups": groups,
                    }
                    cases.append(
                        pytest.param(
                            Conv2D,
                            kwargs,
                            (2, 9, 9, 4),
                            (2, size, size, 4),
                            id=f"conv2d-s{strides}-{padding}-d{dilation}-g{groups}",
                        )
                    )
    return cases


CONTRACT_CASES = [
    *_conv2d_grid(),
    pytest.param(Conv1D, {"filters": 3, "kernel_size": 3}, (2, 10, 4), (2, 8, 3), id="conv1d"),
    pytest.param(
        Conv1D,
        {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (2, 10, 4),
        (2, 10, 3),
        id="conv1d-causal",
    ),
    pytest.param(
        Conv3D,
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 2},
        (2, 5, 6, 7, 4),
        (2, 3, 3, 4, 2),
        id="conv3d-same-s2-g2",
    ),
    pytest.param(
        Conv2D,
        {"filters": 5, "kernel_size": (3, 2), "strides": (2, 1), "data_format": "channels_first"},
        (2, 3, 9, 8),
        (2, 5, 4, 7),
        id="conv2d-channels-first",
    ),
    pytest.param(
        Conv2D,
        {"filters": 3, "kernel_size": 3, "use_bias": False, "activation": "relu"},
        (2, 6, 6, 2),
        (2, 4, 4, 3),
        id="conv2d-no-bias-relu",
    ),
    pytest.param(
        Conv1DTranspose,
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 5, 4),
        (2, 10, 3),
        id="conv1d-transpose-same",
    ),
    pytest.param(
        Conv2DTranspose,
        {"filters": 3, "kernel_size": 3, "strides": 2},
        (2, 4, 5, 2),
        (2, 9, 11, 3),
        id="conv2d-transpose-valid",
    ),
    pytest.param(
        Conv2DTranspose,
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": 1, "output_padding": 1},
        (2, 4, 4, 2),
        (2, 8, 8, 3),
        id="conv2d-transpose-int-padding",
    ),
    pytest.param(
        Conv2DTranspose,
        {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1},
        (2, 4, 4, 2),
        (2, 7, 7, 3),
        id="conv2d-transpose-same-output-padding",
    ),
    pytest.param(
        Conv2DTranspose,
        {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "data_format": "channels_first"},
        (2, 2, 4, 4),
        (2, 3, 8, 8),
        id="conv2d-transpose-channels-first",
    ),
    pytest.param(
        Conv3DTranspose,
        {"filters": 2, "kernel_size": 2, "strides": 2},
        (1, 2, 3, 2, 3),
        (1, 4, 6, 4, 2),
        id="conv3d-transpose",
    ),
    pytest.param(
        DepthwiseConv1D,
        {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
        (2, 7, 3),
        (2, 7, 6),
        id="depthwise1d",
    ),
    pytest.param(
        DepthwiseConv2D,
        {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
        (2, 6, 6, 3),
        (2, 3, 3, 6),
        id="depthwise2d-same-s2",
    ),
    pytest.param(
        DepthwiseConv2D,
        {"kernel_size": 3, "dilation_rate": 2, "data_format": "channels_first"},
        (2, 3, 7, 7),
        (2, 3, 3, 3),
        id="depthwise2d-channels-first",
    ),
    pytest.param(
        SeparableConv1D,
        {"filters": 4, "kernel_size": 3, "depth_multiplier": 2},
        (2, 7, 3),
        (2, 5, 4),
        id="separable1d",
    ),
    pytest.param(
        SeparableConv2D,
        {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 7, 7, 3),
        (2, 4, 4, 4),
        id="separable2d-same-s2",
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "input_shape", "output_shape"), CONTRACT_CASES)
def test_layer_contract(cls, kwargs, input_shape, output_shape):
    separable = cls in (SeparableConv1D, SeparableConv2D)
    use_bias = kwargs.get("use_bias", True)
    check_layer(
        cls,
        kwargs,
        input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=(2 if separable else 1) + use_bias,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(("cls", "kwargs", "input_shape", "output_shape"), CONTRACT_CASES)
def test_compute_output_shape_agrees_with_meta_inference(cls, kwargs, input_shape, output_shape):
    layer = cls(**kwargs)
    shape = (None, *input_shape[1:])
    assert tuple(layer.compute_output_shape(shape)) == (None, *output_shape[1:])
    assert Layer.compute_output_shape(layer, shape) == (None, *output_shape[1:])


def test_unknown_spatial_sizes_give_unknown_output_sizes():
    layer = Conv2D(4, 3, strides=2, padding="same")
    assert layer.compute_output_shape((None, None, 9, 3)) == (None, None, 5, 4)


def test_symbolic_call_infers_shape_and_builds():
    layer = Conv2D(6, 5)
    out = layer(Input((32, 32, 3)))
    assert out.shape == (None, 28, 28, 6)
    assert layer.built and layer.count_params() == 456


# ---------------------------------------------------------------- the lecture's arithmetic


def test_lecture_seven_by_seven_input_three_by_three_filter():
    x = torch.randn(1, 7, 7, 1)
    assert Conv2D(1, 3)(x).shape == (1, 5, 5, 1)
    assert Conv2D(1, 3, strides=2)(x).shape == (1, 3, 3, 1)


def test_lecture_six_five_by_five_filters_on_32x32x3():
    layer = Conv2D(6, 5)
    assert layer(torch.randn(2, 32, 32, 3)).shape == (2, 28, 28, 6)
    assert layer.count_params() == 456  # 6 * (5 * 5 * 3 + 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((7, 3), 5),
        ((7, 3, 2), 3),
        ((7, 3, 3), 2),  # floor((7 - 3) / 3) + 1: the last column is never visited
        ((32, 5), 28),
        ((32, 5, 1, 2), 32),  # p = (f - 1) / 2 keeps the size
        ((7, 3, 1, 0, 2), 3),  # dilation 2: the 3-tap filter spans 5 inputs
        ((227, 11, 4), 55),  # AlexNet's first layer
        ((2, 3), 0),  # does not fit
    ],
)
def test_conv_output_size(args, expected):
    assert conv_output_size(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((6, 3, 2), (0, 1)),  # odd total: the extra pixel goes after (bottom/right)
        ((7, 3, 2), (1, 1)),
        ((5, 3, 1), (1, 1)),
        ((5, 4, 1), (1, 2)),
        ((5, 3, 1, 2), (2, 2)),
        ((8, 1, 2), (0, 0)),
        ((4, 2, 3), (0, 1)),  # stride larger than the kernel
    ],
)
def test_same_padding(args, expected):
    assert same_padding(*args) == expected


def test_same_padding_keeps_ceil_n_over_s_outputs():
    for n in range(1, 12):
        for f in range(1, 5):
            for s in range(1, 4):
                before, after = same_padding(n, f, s)
                assert conv_output_size(n + before + after, f, s) == math.ceil(n / s)


def test_conv_transpose_output_size_inverts_conv_output_size():
    assert conv_transpose_output_size(3, 3, s=2) == 7
    assert conv_output_size(7, 3, s=2) == 3
    assert conv_transpose_output_size(4, 3, s=2, p=1, output_padding=1) == 8


# ---------------------------------------------------------------- numerics vs torch


def _torch_grid() -> list:
    cases = []
    for rank in (1, 2, 3):
        for strides in (1, 2):
            for padding in ("valid", 1, 2):
                for dilation in (1, 2):
                    for groups in (1, 2):
                        if rank == 3 and (padding == 2 or dilation == 2):
                            continue  # keep the 3-D part small
                        cases.append(
                            pytest.param(
                                rank,
                                strides,
                                padding,
                                dilation,
                                groups,
                                id=f"{rank}d-s{strides}-{padding}-d{dilation}-g{groups}",
                            )
                        )
    return cases


@pytest.mark.parametrize(("rank", "strides", "padding", "dilation", "groups"), _torch_grid())
def test_conv_matches_torch_functional(rank, strides, padding, dilation, groups):
    torch.manual_seed(0)
    layer = _CONV_CLASSES[rank](
        6, 3, strides=strides, padding=padding, dilation_rate=dilation, groups=groups
    )
    x = torch.randn(2, *(8,) * rank, 4)
    y = layer(x)
    torch_padding = 0 if padding == "valid" else padding
    expected = _TORCH_CONV[rank](
        _nchw(x), layer.weight, layer.bias, strides, torch_padding, dilation, groups
    )
    torch.testing.assert_close(y, _nhwc(expected))


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_stride_one_matches_torch_same(rank, dilation):
    torch.manual_seed(0)
    layer = _CONV_CLASSES[rank](3, 3, padding="same", dilation_rate=dilation)
    x = torch.randn(2, *(6,) * rank, 2)
    y = layer(x)
    expected = _TORCH_CONV[rank](_nchw(x), layer.weight, layer.bias, 1, "same", dilation)
    torch.testing.assert_close(y, _nhwc(expected))


@pytest.mark.parametrize("size", [6, 7])
def test_same_stride_two_pads_bottom_right(size):
    torch.manual_seed(0)
    layer = Conv2D(3, 3, strides=2, padding="same")
    x = torch.randn(1, size, size, 2)
    before, after = same_padding(size, 3, 2)
    padded = F.pad(_nchw(x), (before, after, before, after))
    y = layer(x)
    expected = F.conv2d(padded, layer.weight, layer.bias, 2)
    torch.testing.assert_close(y, _nhwc(expected))


def test_asymmetric_padding_alone_pays_for_an_explicit_pad(monkeypatch):
    from lamina.layers import _conv_utils, convolution

    calls = []

    def counting_pad(x, pad):
        calls.append(pad)
        return _conv_utils.zero_pad(x, pad)

    monkeypatch.setattr(convolution, "zero_pad", counting_pad)
    layer = Conv2D(3, 3, strides=2, padding="same")
    layer(torch.zeros(1, 7, 7, 2))  # total padding 2: symmetric, handed to torch's conv
    assert calls == []
    layer(torch.zeros(1, 6, 6, 2))  # total padding 1: the extra row/column after
    assert calls == [(0, 1, 0, 1)]


def test_conv_transpose_output_sizes_follow_keras():
    for k in range(1, 5):
        for s in range(1, 4):
            for n in range(1, 5):
                same = Conv1DTranspose(1, k, strides=s, padding="same")
                valid = Conv1DTranspose(1, k, strides=s)
                x = torch.zeros(1, n, 1)
                assert same(x).shape[1] == n * s
                assert valid(x).shape[1] == (n - 1) * s + max(k, s)


@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_transpose_int_padding_matches_torch(strides, padding, dilation):
    torch.manual_seed(0)
    output_padding = strides - 1
    layer = Conv2DTranspose(
        3,
        3,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation,
    )
    x = torch.randn(2, 5, 4, 2)
    y = layer(x)
    expected = F.conv_transpose2d(
        _nchw(x), layer.weight, layer.bias, strides, padding, output_padding, 1, dilation
    )
    torch.testing.assert_close(y, _nhwc(expected))
    size = conv_transpose_output_size(5, 3, strides, padding, dilation, output_padding)
    assert y.shape[1] == size


@pytest.mark.parametrize("rank", [1, 3])
def test_conv_transpose_valid_matches_torch(rank):
    torch.manual_seed(0)
    layer = {1: Conv1DTranspose, 3: Conv3DTranspose}[rank](2, 3, strides=2)
    x = torch.randn(1, *(3,) * rank, 2)
    y = layer(x)
    torch_fn = {1: F.conv_transpose1d, 3: F.conv_transpose3d}[rank]
    expected = torch_fn(_nchw(x), layer.weight, layer.bias, 2)
    torch.testing.assert_close(y, _nhwc(expected))


@pytest.mark.parametrize("padding", ["valid", "same", 1])
@pytest.mark.parametrize("strides", [1, 2])
def test_depthwise_matches_grouped_torch_conv(padding, strides):
    torch.manual_seed(0)
    layer = DepthwiseConv2D(3, strides=strides, padding=padding, depth_multiplier=2)
    x = torch.randn(2, 7, 7, 3)
    y = layer(x)
    if padding == "same":
        before, after = same_padding(7, 3, strides)
        xp, torch_padding = F.pad(_nchw(x), (before, after, before, after)), 0
    else:
        xp, torch_padding = _nchw(x), 0 if padding == "valid" else padding
    expected = F.conv2d(xp, layer.weight, layer.bias, strides, torch_padding, groups=3)
    torch.testing.assert_close(y, _nhwc(expected))


def test_separable_is_depthwise_then_pointwise():
    torch.manual_seed(0)
    layer = SeparableConv2D(5, 3, depth_multiplier=2, dilation_rate=2)
    x = torch.randn(2, 8, 8, 3)
    y = layer(x)
    depthwise = F.conv2d(_nchw(x), layer.depthwise_weight, None, dilation=2, groups=3)
    expected = F.conv2d(depthwise, layer.pointwise_weight, layer.bias)
    torch.testing.assert_close(y, _nhwc(expected))


def test_channels_first_matches_channels_last():
    torch.manual_seed(0)
    last = Conv2D(4, 3, strides=2, padding="same")
    first = Conv2D(4, 3, strides=2, padding="same", data_format="channels_first")
    x = torch.randn(2, 6, 6, 3)
    y = last(x)
    first(_nchw(x))
    first.load_state_dict(last.state_dict())
    torch.testing.assert_close(first(_nchw(x)), _nchw(y))


def test_image_data_format_is_the_default():
    config.set_image_data_format("channels_first")
    try:
        layer = Conv2D(4, 3)
        assert layer.data_format == "channels_first"
        assert layer(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 6, 6)
    finally:
        config.set_image_data_format("channels_last")
    assert Conv2D(4, 3).data_format == "channels_last"


def test_channels_last_input_reaches_torch_as_a_channels_last_view():
    x = torch.randn(2, 5, 6, 3)
    view = to_channels_first(x)
    assert view.shape == (2, 3, 5, 6)
    assert view.data_ptr() == x.data_ptr()
    assert view.is_contiguous(memory_format=torch.channels_last)


# ---------------------------------------------------------------- numerics vs Keras

# Keras 3.15 (torch backend): the layer built on `input_shape`, weights
# [_det(w.shape, 0.1 + i) for i, w in enumerate(get_weights())], input _det(input_shape, 1.3).
# fmt: off
KERAS_OUTPUTS = [
    pytest.param(
        lambda: Conv2D(2, 3, strides=2, padding="same"),
        (1, 6, 6, 2),
        [
            2.17512, 2.2946, 0.12338, 0.8567, -0.8773, -0.99304, -1.28284, -0.93739, -0.19401,
            -0.72801, 1.84538, 1.80945, 1.27322, 0.95703, 1.42505, 1.68593, -0.39851, -0.09714
        ],
        id="conv2d_same_s2_even",
    ),
    pytest.param(
        lambda: Conv2D(2, 3, strides=2, padding="same"),
        (1, 7, 7, 2),
        [
            0.5968, 0.95422, -0.68534, -0.59557, 0.43219, 0.07435, 1.30301, 1.37672, 1.01871,
            0.61827, 1.61644, 1.93156, -0.32663, 0.25014, -0.47727, -0.69581, -0.67573, -0.37621,
            0.46035, -0.04895, 1.90672, 1.82123, 0.37369, 0.80023, 1.2895, 1.36767, -0.18194,
            0.2581, -0.54827, -0.6208, 1.00439, 0.79364
        ],
        id="conv2d_same_s2_odd",
    ),
    pytest.param(
        lambda: Conv2D(2, 2, strides=2, padding="same"),
        (1, 5, 5, 1),
        [
            0.58517, 0.79705, 0.25748, 0.49855, 0.20529, 0.30606, 0.55605, 0.41637, 0.82398,
            0.73132, 0.67268, 0.72602, 0.52682, 0.65378, 0.37527, 0.40785, 0.4285, 0.41985
        ],
        id="conv2d_same_k2_s2_odd",
    ),
    pytest.param(
        lambda: Conv2D(1, 4, padding="same"),
        (1, 5, 5, 1),
        [
            1.63002, 2.04114, 1.78325, 1.21934, 0.74181, 0.66041, 0.06639, -0.51628, -0.64914,
            -0.43417, -0.80888, -1.06701, -0.66518, 0.06118, 0.53029, 0.34929, 0.87367, 1.298,
            1.21583, 0.95953, 1.09808, 1.16516, 0.90776, 0.5312, 0.31793
        ],
        id="conv2d_same_k4_s1",
    ),
    pytest.param(
        lambda: Conv1D(2, 3, padding="causal", dilation_rate=2),
        (1, 8, 2),
        [
            0.31302, 0.21588, 0.36159, 0.291, 0.87713, 0.80645, 0.88743, 0.94946, 0.87592, 1.1979,
            0.47683, 0.83232, 0.06142, 0.29159, -0.15305, -0.14146
        ],
        id="conv1d_causal_d2",
    ),
    pytest.param(
        lambda: Conv3D(2, 2, strides=2, padding="same"),
        (1, 3, 3, 3, 1),
        [
            1.17666, 1.46144, 0.40147, 0.60484, 0.19741, 0.08578, 0.44283, 0.32699, 0.71994,
            0.89696, 0.36821, 0.48526, 0.26051, 0.20879, 0.42072, 0.38456
        ],
        id="conv3d_same_s2",
    ),
    pytest.param(
        lambda: Conv2DTranspose(2, 3, strides=2, padding="same"),
        (1, 3, 3, 2),
        [
            0.58232, 0.90959, 0.91758, 0.78241, 0.49238, 0.45931, 0.82373, 0.73362, 0.42415,
            0.28188, 0.53209, 0.5613, -0.03564, 0.14715, 0.40946, 0.79439, 0.53686, 0.61478,
            0.4054, 0.72492, 0.73668, 0.75222, 0.42237, 0.53648, 0.48157, 0.04588, -0.25731,
            -0.08912, 0.2553, 0.27416, -0.36718, -0.13446, 0.24943, 0.5633, -0.05191, 0.15074,
            0.7034, 0.676, 0.4515, 0.32763, 0.6547, 0.62514, 0.47754, 0.20761, 0.41576, 0.4271,
            0.48688, 0.2392, 0.36075, 0.49281, 0.52359, 0.6173, 0.49492, 0.90505, 1.0583, 1.02117,
            0.61787, 0.7789, 1.27253, 1.15111, 0.61515, 0.63191, 0.47463, 0.40588, 0.10154,
            0.22576, 0.4472, 0.62047, 0.1906, 0.32778, 0.41893, 0.77071
        ],
        id="conv2dt_same_s2",
    ),
    pytest.param(
        lambda: Conv2DTranspose(1, 2, strides=3),
        (1, 2, 2, 2),
        [
            0.58232, 0.85773, 0.4456, 0.5435, 0.76791, 0.4456, 0.91758, 0.73055, 0.4456, 0.82373,
            0.68176, 0.4456, 0.4456, 0.4456, 0.4456, 0.4456, 0.4456, 0.4456, 0.45348, 0.50949,
            0.4456, 0.35934, 0.21766, 0.4456, 0.53209, 0.50945, 0.4456, 0.19521, 0.30374, 0.4456,
            0.4456, 0.4456, 0.4456, 0.4456, 0.4456, 0.4456
        ],
        id="conv2dt_valid_k2_s3",
    ),
    pytest.param(
        lambda: Conv2DTranspose(1, 4, strides=2, padding="same", output_padding=1),
        (1, 3, 3, 1),
        [
            0.66938, 0.87075, 0.78183, 0.85073, 0.76131, 0.45273, 0.45168, 0.36484, 0.37721,
            0.25091, 0.36455, 0.20814, 0.21418, 0.07882, 0.1164, 0.35627, 0.26486, 0.11395,
            0.24219, 0.10946, 0.19604, -0.02009, 0.06172, 0.02369, 0.11222
        ],
        id="conv2dt_same_k4_s2_op1",
    ),
    pytest.param(
        lambda: Conv2DTranspose(1, 2, dilation_rate=2, padding="same"),
        (1, 3, 3, 1),
        [
            0.45443, 0.52103, 0.48566, 0.61387, 0.77275, 0.60131, 0.51146, 0.6003, 0.52835
        ],
        id="conv2dt_same_k2_d2",
    ),
    pytest.param(
        lambda: Conv1DTranspose(2, 3, strides=2, padding="same"),
        (1, 4, 2),
        [
            0.58232, 0.90959, 0.91758, 0.78241, 0.49238, 0.45931, 0.82373, 0.73362, 0.42415,
            0.28188, 0.53209, 0.5613, 0.36714, 0.21721, 0.19521, 0.35559
        ],
        id="conv1dt_same_s2",
    ),
    pytest.param(
        lambda: Conv3DTranspose(1, 3, strides=2, padding="same"),
        (1, 2, 2, 2, 1),
        [
            0.46965, 0.5547, 0.64982, 0.55827, 0.67098, 0.68648, 0.90213, 0.69436, 0.64425,
            0.65171, 0.83011, 0.62981, 0.65423, 0.66858, 0.80901, 0.61261, 0.37709, 0.29821,
            0.16853, 0.29339, 0.20828, 0.2094, -0.00259, 0.20167, 0.23964, 0.2465, 0.0856, 0.2787,
            0.22593, 0.22696, 0.09305, 0.28184, 0.56499, 0.66613, 0.85138, 0.63102, 0.76921,
            0.7572, 0.9498, 0.67397, 0.70712, 0.62742, 0.68827, 0.51135, 0.58214, 0.55982,
            0.52987, 0.43022, 0.42045, 0.39149, 0.37045, 0.44689, 0.35847, 0.35888, 0.3731,
            0.44766, 0.41954, 0.47911, 0.58377, 0.55024, 0.53659, 0.53617, 0.69108, 0.61241
        ],
        id="conv3dt_same_s2",
    ),
    pytest.param(
        lambda: DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same"),
        (1, 6, 6, 2),
        [
            1.25937, 1.40483, 1.39774, 1.29106, 0.1075, 0.50212, 0.49787, 0.75586, -0.12841,
            -0.21833, -0.26689, -0.37342, -0.4647, -0.31895, -0.33614, -0.21715, 0.29535, 0.02152,
            -0.00737, -0.34825, 1.11536, 1.17505, 1.21201, 1.03569, 0.93525, 0.82536, 0.81995,
            0.53296, 0.86198, 1.05817, 1.04506, 1.02905, -0.02515, 0.11825, 0.10863, 0.1859
        ],
        id="depthwise2d_same_s2",
    ),
    pytest.param(
        lambda: DepthwiseConv1D(3, depth_multiplier=2),
        (1, 5, 2),
        [
            0.69983, 0.78854, 0.79082, 0.70872, 0.54877, 0.70688, 0.70891, 0.70233, 0.34375,
            0.51567, 0.50831, 0.53847
        ],
        id="depthwise1d",
    ),
    pytest.param(
        lambda: SeparableConv2D(3, 3, depth_multiplier=2, strides=2, padding="same"),
        (1, 4, 4, 2),
        [
            0.55114, 0.41062, 0.21452, 0.48024, 0.34346, 0.16018, 0.59239, 0.41425, 0.18004,
            0.54779, 0.3789, 0.15874
        ],
        id="separable2d_same_s2",
    ),
    pytest.param(
        lambda: SeparableConv1D(3, 2, depth_multiplier=2),
        (1, 4, 2),
        [
            0.49452, 0.28581, 0.03841, 0.46893, 0.30556, 0.10083, 0.42381, 0.32822, 0.1882
        ],
        id="separable1d",
    ),
]
# fmt: on


@pytest.mark.parametrize(("factory", "input_shape", "expected"), KERAS_OUTPUTS)
def test_matches_keras_reference_outputs(factory, input_shape, expected):
    layer = factory()
    x = torch.from_numpy(_det(input_shape, 1.3))
    layer(x)
    _set_det_weights(layer)
    y = layer(x).detach().numpy().ravel()
    np.testing.assert_allclose(y, expected, atol=2e-5)


# ---------------------------------------------------------------- PyTorch and Keras layouts


def test_torch_conv2d_state_dict_loads_into_conv2d():
    torch.manual_seed(0)
    reference = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, groups=1)
    layer = Conv2D(8, 3, strides=2, padding=1)
    layer(torch.zeros(1, 16, 16, 3))
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(layer(_nhwc(x)), _nhwc(reference(x)))


def test_conv2d_state_dict_loads_into_torch_conv2d():
    torch.manual_seed(0)
    layer = Conv2D(8, 3, dilation_rate=2, groups=2)
    x = torch.randn(2, 12, 12, 4)
    y = layer(x)
    reference = torch.nn.Conv2d(4, 8, 3, dilation=2, groups=2)
    reference.load_state_dict(layer.state_dict())
    assert set(layer.state_dict()) == {"weight", "bias"}
    torch.testing.assert_close(_nhwc(reference(_nchw(x))), y)


def test_transpose_and_depthwise_state_dicts_match_torch_modules():
    torch.manual_seed(0)
    transpose = Conv2DTranspose(4, 3, strides=2, padding=1, output_padding=1)
    x = torch.randn(1, 5, 5, 6)
    y = transpose(x)
    reference = torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
    reference.load_state_dict(transpose.state_dict())
    torch.testing.assert_close(_nhwc(reference(_nchw(x))), y)

    depthwise = DepthwiseConv2D(3, depth_multiplier=2)
    y = depthwise(x)
    reference = torch.nn.Conv2d(6, 12, 3, groups=6)
    reference.load_state_dict(depthwise.state_dict())
    torch.testing.assert_close(_nhwc(reference(_nchw(x))), y)


# Keras 3.15: [w.shape for w in layer.get_weights()] after build(input_shape).
KERAS_WEIGHT_SHAPES = [
    (Conv1D(4, 3, groups=2), (None, 10, 6), [(3, 3, 4), (4,)]),
    (Conv2D(4, 3, groups=2), (None, 10, 10, 6), [(3, 3, 3, 4), (4,)]),
    (Conv3D(4, 3), (None, 10, 10, 10, 6), [(3, 3, 3, 6, 4), (4,)]),
    (Conv1DTranspose(4, 3), (None, 10, 6), [(3, 4, 6), (4,)]),
    (Conv2DTranspose(4, 3), (None, 10, 10, 6), [(3, 3, 4, 6), (4,)]),
    (Conv3DTranspose(4, 3), (None, 10, 10, 10, 6), [(3, 3, 3, 4, 6), (4,)]),
    (DepthwiseConv1D(3, depth_multiplier=2), (None, 10, 6), [(3, 6, 2), (12,)]),
    (DepthwiseConv2D(3, depth_multiplier=2), (None, 10, 10, 6), [(3, 3, 6, 2), (12,)]),
    (SeparableConv1D(4, 3, depth_multiplier=2), (None, 10, 6), [(3, 6, 2), (1, 12, 4), (4,)]),
    (
        SeparableConv2D(4, 3, depth_multiplier=2),
        (None, 10, 10, 6),
        [(3, 3, 6, 2), (1, 1, 12, 4), (4,)],
    ),
]


@pytest.mark.parametrize(
    ("layer", "input_shape", "shapes"),
    KERAS_WEIGHT_SHAPES,
    ids=[type(case[0]).__name__ for case in KERAS_WEIGHT_SHAPES],
)
def test_get_weights_shapes_equal_keras(layer, input_shape, shapes):
    layer(torch.zeros((1, *input_shape[1:])))
    assert [w.shape for w in layer.get_weights()] == shapes


def test_depthwise_keras_kernel_maps_channel_and_multiplier():
    layer = DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    layer(torch.zeros(1, 2, 2, 3))
    kernel = np.arange(6, dtype="float32").reshape(1, 1, 3, 2)  # [..., channel, multiplier]
    layer.set_weights([kernel])
    # torch's output channel c * 2 + m is kernel[..., c, m]
    assert layer.weight.flatten().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


def test_depthwise_initializer_uses_keras_fans():
    torch.manual_seed(0)
    layer = DepthwiseConv2D(3, depth_multiplier=1)
    layer(torch.zeros(1, 5, 5, 64))
    # Keras' glorot_uniform on (3, 3, 64, 1): limit sqrt(6 / (9 * 64 + 9 * 1))
    limit = math.sqrt(6 / (9 * 64 + 9))
    largest = float(layer.weight.detach().abs().max())
    assert 0.9 * limit < largest <= limit


# ---------------------------------------------------------------- config and activation


def test_get_config_matches_keras_format():
    config_ = Conv2D(4, 3, padding="SAME").get_config()
    assert config_["kernel_size"] == (3, 3)
    assert config_["strides"] == (1, 1)
    assert config_["dilation_rate"] == (1, 1)
    assert config_["padding"] == "same"
    assert config_["data_format"] == "channels_last"
    assert config_["activation"] == "linear"
    assert config_["groups"] == 1
    restored = Conv2D.from_config(json.loads(json.dumps(config_)))
    assert restored.get_config() == config_
    transpose_config = Conv2DTranspose(4, 3).get_config()
    assert "groups" not in transpose_config
    assert transpose_config["output_padding"] is None


def test_explicit_padding_round_trips_through_json():
    layer = Conv2D(4, 3, padding=(1, 2))
    restored = Conv2D.from_config(json.loads(json.dumps(layer.get_config())))
    assert restored.padding == (1, 2)
    assert restored(torch.zeros(1, 5, 5, 1)).shape == (1, 5, 7, 4)


def test_keras_long_names_are_aliases():
    assert Convolution2D is Conv2D


def test_softmax_output_activation_and_logits():
    torch.manual_seed(0)
    layer = Conv2D(4, 1, activation="softmax")
    x = torch.randn(1, 3, 3, 2)
    assert layer.output_activation == "softmax"
    y = layer(x)
    logits = layer.call_pre_activation(x)
    torch.testing.assert_close(y, torch.softmax(logits, dim=-1))
    assert Conv2D(4, 1).output_activation is None


# ---------------------------------------------------------------- errors


def test_wrong_rank_names_layer_and_shape():
    layer = Conv2D(4, 3, name="conv_a")
    with pytest.raises(
        ValueError, match=r"Conv2D 'conv_a' expects 4-D input \(batch, height, width, channels\)"
    ):
        layer(torch.zeros(32, 28, 28))
    layer(torch.zeros(1, 28, 28, 1))
    with pytest.raises(ValueError, match=r"'conv_a' expects 4-D input .*got shape \(32, 28, 28\)"):
        layer(torch.zeros(32, 28, 28))


def test_channels_first_description_in_rank_error():
    layer = Conv1D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"expects 3-D input \(batch, channels, steps\)"):
        layer(torch.zeros(2, 3, 5, 5))


def test_wrong_channel_count():
    layer = Conv2D(4, 3, name="conv_b")
    layer(torch.zeros(1, 8, 8, 3))
    with pytest.raises(ValueError, match=r"'conv_b' was built for .*size 3 on axis -1.*8, 8, 4\)"):
        layer(torch.zeros(1, 8, 8, 4))
    with pytest.raises(ValueError, match=r"'conv_b' was built for .*size 3 on axis -1"):
        layer(Input((8, 8, 4)))


def test_groups_must_divide_filters_and_channels():
    with pytest.raises(
        ValueError, match=r"Conv2D 'conv_c': filters \(5\) must be divisible by groups \(2\)"
    ):
        Conv2D(5, 3, groups=2, name="conv_c")
    with pytest.raises(
        ValueError,
        match=r"Conv2D 'conv_d': the input's 3 channels must be divisible by groups \(2\)",
    ):
        Conv2D(4, 3, groups=2, name="conv_d")(torch.zeros(1, 8, 8, 3))


def test_output_size_not_positive():
    with pytest.raises(
        ValueError,
        match=r"Conv2D 'conv_e': input shape \(1, 3, 3, 1\) is too small for kernel_size "
        r"\(5, 5\), strides \(1, 1\), padding 'valid'",
    ):
        Conv2D(4, 5, name="conv_e")(torch.zeros(1, 3, 3, 1))
    with pytest.raises(ValueError, match=r"too small .*dilation_rate \(3,\)"):
        Conv1D(4, 3, dilation_rate=3)(Input((6, 2)))
    with pytest.raises(ValueError, match=r"Conv2DTranspose .*too small"):
        Conv2DTranspose(4, 3, padding=3)(torch.zeros(1, 2, 2, 1))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Conv2D(4, 3, padding="causal"), r"padding must be one of 'valid', 'same'"),
        (lambda: Conv2D(4, 3, padding="full"), r"got padding='full'"),
        (lambda: Conv2D(4, (3, 3, 3)), r"kernel_size must be a positive int or a tuple of 2"),
        (lambda: Conv2D(4, 3, strides=0), r"strides must be a positive"),
        (lambda: Conv2D(0, 3), r"filters must be a positive int; got 0"),
        (lambda: Conv2D(4, 3, data_format="NHWC"), r"data_format must be 'channels_last'"),
        (lambda: Conv2DTranspose(4, 3, strides=2, output_padding=2), r"smaller than its stride"),
        (lambda: Conv2DTranspose(4, 3, padding="causal"), r"padding must be one of"),
        (lambda: DepthwiseConv2D(3, depth_multiplier=0), r"depth_multiplier must be a positive"),
    ],
)
def test_invalid_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_constraints_are_kept_in_the_config():
    # Numerics and training with constraints: tests/test_constraints.py.
    non_neg = {"module": "keras.constraints", "class_name": "NonNeg", "config": {},
               "registered_name": None}  # fmt: skip
    config = Conv2D(4, 3, kernel_constraint="non_neg").get_config()
    assert config["kernel_constraint"] == non_neg
    config = SeparableConv2D(4, 3, pointwise_constraint="non_neg").get_config()
    assert config["pointwise_constraint"] == non_neg


def test_weights_before_build_give_a_clear_error():
    with pytest.raises(AttributeError, match=r"has no 'kernel' yet"):
        _ = Conv2D(4, 3).kernel


@pytest.mark.parametrize(
    ("shape", "permutation", "pad"),
    [
        ((4, 9, 10, 3), (0, 3, 1, 2), (0, 1, 2, 1)),  # channels_last memory, asymmetric
        ((2, 5, 7), (0, 1, 2), (1, 0)),
        ((2, 4, 5, 6, 3), (0, 4, 1, 2, 3), (1, 2, 0, 1, 2, 0)),
    ],
)
def test_zero_pad_matches_numpy_and_keeps_the_memory_layout(shape, permutation, pad):
    from lamina.layers._conv_utils import zero_pad

    x = torch.randn(shape).permute(permutation).requires_grad_()
    got = zero_pad(x, pad)
    widths = [(0, 0)] * (x.ndim - len(pad) // 2)
    widths += [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))]
    np.testing.assert_array_equal(got.detach().numpy(), np.pad(x.detach().numpy(), widths))
    # The dimensions keep their memory order (channels_last stays channels_last).
    order = sorted(range(x.ndim), key=lambda d: x.stride(d))
    assert sorted(range(got.ndim), key=lambda d: got.stride(d)) == order
    weights = torch.randn(got.shape)
    interior = weights[tuple(slice(a, weights.shape[d] - b) for d, (a, b) in enumerate(widths))]
    assert torch.equal(torch.autograd.grad((got * weights).sum(), x)[0], interior)
