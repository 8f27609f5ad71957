"""Pooling layers: the contract, numerics against torch.nn.functional and Keras, shapes, errors.

Reference outputs marked "Keras" were computed once with Keras 3.15 (torch backend) from the same
deterministic input (`_det`), and pasted as literals.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina import config
from lamina.layers import Input
from lamina.layers._conv_utils import same_padding
from lamina.layers.layer import Layer
from lamina.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from lamina.testing import check_layer

_POOLING = {
    ("max", 1): MaxPooling1D,
    ("max", 2): MaxPooling2D,
    ("max", 3): MaxPooling3D,
    ("average", 1): AveragePooling1D,
    ("average", 2): AveragePooling2D,
    ("average", 3): AveragePooling3D,
}
_TORCH_POOL = {
    ("max", 1): F.max_pool1d,
    ("max", 2): F.max_pool2d,
    ("max", 3): F.max_pool3d,
    ("average", 1): F.avg_pool1d,
    ("average", 2): F.avg_pool2d,
    ("average", 3): F.avg_pool3d,
}
_GLOBAL = [
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
]


def _det(shape: tuple[int, ...], phase: float) -> np.ndarray:
    """Deterministic values in [-0.5, 0.5], the same formula as the Keras reference script."""
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.37 + phase) * 0.5).reshape(shape).astype("float32")


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, *range(2, x.ndim), 1)


def _size(n: int, pool: int, strides: int, padding: str) -> int:
    return math.ceil(n / strides) if padding == "same" else (n - pool) // strides + 1


# ---------------------------------------------------------------- the layer contract


def _contract_grid() -> list:
    cases = []
    for (mode, rank), cls in _POOLING.items():
        for pool, strides in ((2, None), (3, 2), (3, 1)):
            for padding in ("valid", "same"):
                if rank == 3 and pool == 3 and strides == 1:
                    continue  # keep the 3-D part small
                size = _size(7, pool, strides or pool, padding)
                cases.append(
                    pytest.param(
                        cls,
                        {"pool_size": pool, "strides": strides, "padding": padding},
                        (2, *(7,) * rank, 3),
                        (2, *(size,) * rank, 3),
                        id=f"{mode}{rank}d-p{pool}-s{strides}-{padding}",
                    )
                )
    cases.append(
        pytest.param(
            MaxPooling2D,
            {"pool_size": (2, 3), "strides": (1, 2), "data_format": "channels_first"},
            (2, 3, 6, 7),
            (2, 3, 5, 3),
            id="max2d-channels-first",
        )
    )
    cases.append(
        pytest.param(
            AveragePooling2D,
            {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"},
            (2, 3, 6, 7),
            (2, 3, 3, 4),
            id="average2d-same-channels-first",
        )
    )
    for cls in _GLOBAL:
        rank = int(cls.__name__[-2])
        for keepdims in (False, True):
            out = (2, *(1,) * rank, 3) if keepdims else (2, 3)
            cases.append(
                pytest.param(
                    cls,
                    {"keepdims": keepdims},
                    (2, *(4,) * rank, 3),
                    out,
                    id=f"{cls.__name__}-keepdims{keepdims}",
                )
            )
    cases.append(
        pytest.param(
            GlobalAveragePooling2D,
            {"data_format": "channels_first", "keepdims": True},
            (2, 3, 4, 5),
            (2, 3, 1, 1),
            id="GlobalAveragePooling2D-channels-first",
        )
    )
    return cases


CONTRACT_CASES = _contract_grid()


@pytest.mark.parametrize(("cls", "kwargs", "input_shape", "output_shape"), CONTRACT_CASES)
def test_layer_contract(cls, kwargs, input_shape, output_shape):
    check_layer(
        cls,
        kwargs,
        input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(("cls", "kwargs", "input_shape", "output_shape"), CONTRACT_CASES)
def test_compute_output_shape_agrees_with_meta_inference(cls, kwargs, input_shape, output_shape):
    layer = cls(**kwargs)
    shape = (None, *input_shape[1:])
    assert layer.compute_output_shape(shape) == (None, *output_shape[1:])
    assert Layer.compute_output_shape(layer, shape) == (None, *output_shape[1:])


def test_symbolic_call():
    assert MaxPooling2D()(Input((28, 28, 6))).shape == (None, 14, 14, 6)
    assert AveragePooling2D(3, 2, "same")(Input((None, 9, 6))).shape == (None, None, 5, 6)
    assert GlobalAveragePooling2D()(Input((7, 7, 32))).shape == (None, 32)


# ---------------------------------------------------------------- numerics vs torch


def _torch_grid() -> list:
    cases = []
    for mode, rank in _POOLING:
        for pool, strides in ((2, 2), (3, 1), (3, 2), (2, 3)):
            for padding in ("valid", "same"):
                cases.append(
                    pytest.param(
                        mode,
                        rank,
                        pool,
                        strides,
                        padding,
                        id=f"{mode}{rank}d-p{pool}-s{strides}-{padding}",
                    )
                )
    return cases


@pytest.mark.parametrize(("mode", "rank", "pool", "strides", "padding"), _torch_grid())
def test_pooling_matches_torch_functional(mode, rank, pool, strides, padding):
    torch.manual_seed(0)
    n = 7
    x = torch.randn(2, *(n,) * rank, 3)
    y = _POOLING[mode, rank](pool, strides, padding)(x)
    before, after = same_padding(n, pool, strides) if padding == "same" else (0, 0)
    if before == after:
        # torch's own padding: -inf for max, excluded from the count for average
        kwargs = {} if mode == "max" else {"count_include_pad": False}
        expected = _TORCH_POOL[mode, rank](_nchw(x), pool, strides, before, **kwargs)
    elif mode == "max":
        padded = F.pad(_nchw(x), (before, after) * rank, value=-math.inf)
        expected = _TORCH_POOL[mode, rank](padded, pool, strides)
    else:
        # uneven: the edge values repeated into the padding, counted (Keras 3's torch backend)
        padded = F.pad(_nchw(x), (before, after) * rank, mode="replicate")
        expected = _TORCH_POOL[mode, rank](padded, pool, strides)
    torch.testing.assert_close(y, _nhwc(expected))


def test_same_average_pooling_with_uneven_padding_counts_repeated_edges():
    # 6x6, pool 3, stride 2: padding (0, 1), so the last row and column of windows hang over.
    # Keras 3's torch backend pads unevenly by repeating the edge values, which then count.
    x = _det((1, 6, 6, 1), 1.3)
    padded = np.pad(x[0, :, :, 0], ((0, 1), (0, 1)), mode="edge")
    expected = [[np.mean(padded[i : i + 3, j : j + 3]) for j in (0, 2, 4)] for i in (0, 2, 4)]
    y = AveragePooling2D(3, strides=2, padding="same")(torch.from_numpy(x))
    np.testing.assert_allclose(y[0, :, :, 0].numpy(), expected, rtol=1e-6, atol=1e-7)
    assert AveragePooling2D(3, strides=2, padding="same")(torch.ones(1, 6, 6, 1)).eq(1).all()
    # Keras 3.15.1 (torch backend) printed these for this input:
    x = (np.arange(36, dtype="float32").reshape(1, 6, 6, 1) % 7) / 10
    keras_values = [
        [0.23333331942558289, 0.20000000298023224, 0.36666667461395264],
        [0.42222222685813904, 0.23333331942558289, 0.1666666865348816],
        [0.3333333730697632, 0.4555555582046509, 0.15555556118488312],
    ]
    y = AveragePooling2D(3, strides=2, padding="same")(torch.from_numpy(x))
    np.testing.assert_allclose(y[0, :, :, 0].numpy(), keras_values, rtol=1e-6)
    y = lamina.ops.average_pool(x, 3, 2, "same")
    np.testing.assert_allclose(y[0, :, :, 0].numpy(), keras_values, rtol=1e-6)


def test_same_max_pooling_ignores_padding():
    y = MaxPooling2D(2, strides=2, padding="same")(-torch.ones(1, 3, 3, 1))
    assert y.eq(-1).all()


@pytest.mark.parametrize("cls", _GLOBAL)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_matches_torch(cls, data_format):
    torch.manual_seed(0)
    rank = int(cls.__name__[-2])
    x = torch.randn(2, *(4,) * rank, 3)
    if data_format == "channels_first":
        x = _nchw(x)
    axes = (
        tuple(range(1, rank + 1)) if data_format == "channels_last" else tuple(range(2, rank + 2))
    )
    reduce = torch.amax if "Max" in cls.__name__ else torch.mean
    layer = cls(data_format=data_format, keepdims=True)
    torch.testing.assert_close(layer(x), reduce(x, dim=axes, keepdim=True))


def test_image_data_format_is_the_default():
    config.set_image_data_format("channels_first")
    try:
        assert MaxPooling2D()(torch.zeros(1, 3, 8, 6)).shape == (1, 3, 4, 3)
        assert GlobalMaxPooling2D()(torch.zeros(1, 3, 8, 6)).shape == (1, 3)
    finally:
        config.set_image_data_format("channels_last")


# ---------------------------------------------------------------- numerics vs Keras

# Keras 3.15, torch backend; input _det(shape, 1.3).
# fmt: off
MAXPOOL2D_SAME_S2_EVEN = [
    0.48178, 0.49754, 0.49719, 0.48268, 0.48356, 0.49682, 0.49643, 0.48441, 0.49643, 0.44125,
    0.48356, 0.49682, 0.49643, 0.48441, 0.49643, 0.49601, 0.48525, 0.49601
]
AVGPOOL2D_SAME_S2_ODD = [
    0.35709, 0.39568, 0.27827, 0.18173, -0.18879, -0.28327, -0.3948, -0.35289, -0.15099, -0.04893,
    0.142, 0.21187, 0.23175, 0.17214, -0.00651, -0.11289, -0.11475, -0.20544, -0.26116, -0.24934,
    -0.03981, 0.0564, 0.24158, 0.28675, 0.37751, 0.3075, 0.05113, -0.07813, -0.34179, -0.34848,
    -0.25502, -0.12772
]
# fmt: on


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        pytest.param(
            MaxPooling2D(3, strides=2, padding="same"),
            (1, 6, 6, 2),
            MAXPOOL2D_SAME_S2_EVEN,
            id="max-same-s2-even",
        ),
        pytest.param(
            AveragePooling2D(3, strides=2, padding="same"),
            (1, 7, 7, 2),
            AVGPOOL2D_SAME_S2_ODD,
            id="average-same-s2-odd",
        ),
    ],
)
def test_matches_keras_reference_outputs(layer, input_shape, expected):
    y = layer(torch.from_numpy(_det(input_shape, 1.3)))
    np.testing.assert_allclose(y.numpy().ravel(), expected, atol=2e-5)


def test_lecture_max_pooling_halves_28x28x6():
    assert MaxPooling2D()(torch.zeros(1, 28, 28, 6)).shape == (1, 14, 14, 6)
    assert MaxPooling2D().count_params() == 0


# ---------------------------------------------------------------- config and names


def test_get_config_matches_keras_format():
    config_ = MaxPooling2D().get_config()
    assert {k: config_[k] for k in ("pool_size", "padding", "strides", "data_format")} == {
        "pool_size": (2, 2),
        "padding": "valid",
        "strides": (2, 2),
        "data_format": "channels_last",
    }
    assert AveragePooling1D(2, padding="SAME").get_config()["padding"] == "same"
    restored = MaxPooling2D.from_config(json.loads(json.dumps(config_)))
    assert restored.get_config() == config_
    assert GlobalAveragePooling2D().get_config()["keepdims"] is False


def test_keras_short_names_are_aliases():
    assert (MaxPool1D, MaxPool2D, MaxPool3D) == (MaxPooling1D, MaxPooling2D, MaxPooling3D)
    assert (AvgPool1D, AvgPool2D, AvgPool3D) == (
        AveragePooling1D,
        AveragePooling2D,
        AveragePooling3D,
    )
    assert (GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D) == tuple(_GLOBAL[:3])
    assert (GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D) == tuple(_GLOBAL[3:])


def test_default_names():
    assert MaxPooling2D().name.startswith("max_pooling2d")
    assert GlobalAveragePooling1D().name.startswith("global_average_pooling1d")


# ---------------------------------------------------------------- errors


def test_wrong_rank_names_layer_and_shape():
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D 'pool_a' expects 4-D input \(batch, height, width, channels\); "
        r"got shape \(32, 28, 28\)",
    ):
        MaxPooling2D(name="pool_a")(torch.zeros(32, 28, 28))
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D 'pool_b' expects 3-D input"):
        GlobalAveragePooling1D(name="pool_b")(Input((4, 4, 4)))


def test_pool_larger_than_input():
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D 'pool_c': input shape \(1, 2, 2, 1\) is smaller than "
        r"pool_size \(3, 3\)",
    ):
        MaxPooling2D(3, name="pool_c")(torch.zeros(1, 2, 2, 1))
    with pytest.raises(ValueError, match=r"is smaller than pool_size"):
        AveragePooling1D(5)(Input((3, 2)))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: MaxPooling2D(padding="causal"), r"padding must be one of 'valid', 'same'"),
        (lambda: MaxPooling2D(padding=1), r"padding must be one of"),
        (lambda: MaxPooling2D((2, 2, 2)), r"pool_size must be a positive int or a tuple of 2"),
        (lambda: AveragePooling1D(2, strides=0), r"strides must be a positive"),
        (lambda: GlobalMaxPooling2D(data_format="NCHW"), r"data_format must be 'channels_last'"),
    ],
)
def test_invalid_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
