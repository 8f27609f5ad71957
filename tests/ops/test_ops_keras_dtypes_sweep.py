"""Dtype rules and resize options from the Keras-vs-lamina sweep (sweep 5).

Expected values were printed by Keras 3 (torch backend) and are pasted here as literals.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamina import ops


def _full(dtype: str, shape: tuple[int, ...], value: float = 1.0) -> torch.Tensor:
    return ops.cast(ops.convert_to_tensor(np.full(shape, value, "float32")), dtype)


# --- repro_03: int8 products accumulate in int32 ------------------------------------------


def test_matmul_int8_returns_int32_without_overflow() -> None:
    result = ops.matmul(np.ones((1, 200), "int8"), np.ones((200, 1), "int8"))
    assert result.dtype == torch.int32
    assert result.tolist() == [[200]]


def test_einsum_int8_returns_int32_without_overflow() -> None:
    a, b = np.ones((1, 200), "int8"), np.ones((200, 1), "int8")
    result = ops.einsum("ij,jk->ik", a, b)
    assert result.dtype == torch.int32
    assert result.tolist() == [[200]]
    three = ops.einsum("ij,jk,kl->il", a, b, np.ones((1, 1), "int8"))
    assert three.dtype == torch.int32 and three.tolist() == [[200]]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("uint8", "uint8", torch.uint8),
        ("int16", "int16", torch.int16),
        ("int8", "uint8", torch.int16),
        ("int8", "int16", torch.int16),
        ("int8", "int32", torch.int32),
        ("bool", "int8", torch.int8),
        ("int8", "float16", torch.float16),
    ],
)
def test_matmul_other_small_int_pairs_follow_promotion(
    left: str, right: str, expected: torch.dtype
) -> None:
    result = ops.matmul(_full(left, (2, 2)), _full(right, (2, 2)))
    assert result.dtype == expected
    assert result.float().tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_matmul_bool_returns_bool() -> None:
    x = ops.convert_to_tensor([[True, False]])
    assert ops.matmul(x, ops.convert_to_tensor([[True], [False]])).tolist() == [[True]]
    assert ops.matmul(ops.logical_not(x), ops.convert_to_tensor([[True], [False]])).tolist() == [
        [False]
    ]
    assert ops.matmul(_full("bool", (2, 2)), _full("bool", (2, 2))).dtype == torch.bool


# --- repro_06: half-precision quantiles -----------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_median_and_quantile_keep_half_dtypes(dtype: torch.dtype) -> None:
    x = ops.cast(ops.convert_to_tensor([1.0, 3.0, 2.0, 4.0]), dtype)
    for result in (ops.median(x), ops.quantile(x, 0.5), ops.nanmedian(x)):
        assert result.dtype == dtype
        assert result.float().item() == 2.5


def test_half_quantile_values_match_keras() -> None:
    x = ops.convert_to_tensor([1.0, 3.0, 2.0, 4.0])
    assert ops.quantile(ops.cast(x, "float16"), 0.3).item() == 1.900390625
    assert ops.quantile(ops.cast(x, "bfloat16"), 0.3).item() == 1.8984375
    vector = ops.quantile(ops.cast(x, "bfloat16"), [0.25, 0.7])
    assert vector.dtype == torch.bfloat16 and vector.float().tolist() == [1.75, 3.09375]
    by_axis = ops.median(ops.cast(ops.convert_to_tensor([[1.0, 3.0], [2.0, 5.0]]), "float16"), 0)
    assert by_axis.dtype == torch.float16 and by_axis.float().tolist() == [1.5, 4.0]
    nan = ops.cast(ops.convert_to_tensor([1.0, float("nan"), 2.0, 4.0]), "float16")
    assert ops.nanquantile(nan, 0.3).item() == pytest.approx(1.5996, abs=1e-3)
    assert ops.percentile(ops.cast(x, "float16"), 30).dtype == torch.float16


def test_int_median_is_float32() -> None:
    result = ops.median(ops.convert_to_tensor([1, 3, 2, 4], "int8"))
    assert result.dtype == torch.float32 and result.item() == 2.5


# --- repro_10: scans, where, abs on small dtypes --------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_cumsum_cumprod_keep_small_int_dtypes(dtype: str) -> None:
    x = _full(dtype, (3,), 2.0)
    total, product = ops.cumsum(x), ops.cumprod(x)
    assert total.dtype == x.dtype and total.tolist() == [2, 4, 6]
    assert product.dtype == x.dtype and product.tolist() == [2, 4, 8]


def test_cumsum_int8_wraps_like_keras_and_dtype_argument_widens() -> None:
    x = ops.convert_to_tensor([100, 100], "int8")
    assert ops.cumsum(x).tolist() == [100, -56]
    widened = ops.cumsum(ops.convert_to_tensor([1, 1], "int8"), dtype="int32")
    assert widened.dtype == torch.int32 and widened.tolist() == [1, 2]


def test_cumsum_cumprod_of_bool_are_int32() -> None:
    x = _full("bool", (3,))
    assert ops.cumsum(x).dtype == torch.int32 and ops.cumsum(x).tolist() == [1, 2, 3]
    assert ops.cumprod(x).dtype == torch.int32 and ops.cumprod(x).tolist() == [1, 1, 1]


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16"])
def test_sum_prod_of_small_ints_are_int32(dtype: str) -> None:
    x = _full(dtype, (3,), 2.0)
    assert ops.sum(x).dtype == torch.int32
    assert ops.prod(x).dtype == torch.int32


def test_where_condition_only_gives_int64_indices() -> None:
    rows, cols = ops.where(np.array([[0, 1], [2, 0]]))
    assert rows.dtype == torch.int64 and cols.dtype == torch.int64
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert ops.nonzero(np.array([[0, 1], [2, 0]]))[0].dtype == torch.int32


def test_abs_of_bool_is_bool() -> None:
    result = ops.abs(ops.convert_to_tensor([True, False]))
    assert result.dtype == torch.bool and result.tolist() == [True, False]
    assert ops.absolute(_full("uint8", (2,), 2.0)).dtype == torch.uint8


# --- repro_04: resize to an aspect ratio ----------------------------------------------------


def test_resize_crop_to_aspect_ratio() -> None:
    img = np.arange(2 * 4 * 6, dtype="float32").reshape(2, 4, 6, 1)
    result = ops.image.resize(img, (2, 2), crop_to_aspect_ratio=True)
    assert result[0, :, :, 0].tolist() == [[4.5, 6.5], [16.5, 18.5]]
    tall = np.arange(6 * 3, dtype="float32").reshape(1, 6, 3, 1)
    result = ops.image.resize(tall, (2, 2), crop_to_aspect_ratio=True)
    assert result[0, :, :, 0].tolist() == [[4.0, 5.5], [8.5, 10.0]]


def test_resize_pad_to_aspect_ratio_with_fill_value() -> None:
    img = np.arange(2 * 4 * 6, dtype="float32").reshape(2, 4, 6, 1)
    result = ops.image.resize(img, (2, 2), pad_to_aspect_ratio=True, fill_value=5.0)
    assert result[0, :, :, 0].tolist() == [[1.0, 4.0], [19.0, 22.0]]
    tall = np.arange(6 * 3, dtype="float32").reshape(1, 6, 3, 1)
    result = ops.image.resize(tall, (2, 2), pad_to_aspect_ratio=True, fill_value=-1.0)
    assert result[0, :, :, 0].tolist() == [[2.0, 3.5], [8.75, 10.25]]
    single = ops.image.resize(tall[0], (3, 2), pad_to_aspect_ratio=True, interpolation="nearest")
    assert single[:, :, 0].tolist() == [[3.0, 5.0], [9.0, 11.0], [15.0, 17.0]]


def test_resize_aspect_ratio_uint8_channels_first() -> None:
    u = (np.arange(2 * 4 * 5) * 7 % 256).astype("uint8").reshape(1, 2, 4, 5)
    crop = ops.image.resize(u, (2, 2), crop_to_aspect_ratio=True, data_format="channels_first")
    assert crop.dtype == torch.uint8 and crop[0, 0].tolist() == [[21, 35], [91, 105]]
    pad = ops.image.resize(
        u, (2, 2), pad_to_aspect_ratio=True, fill_value=9, data_format="channels_first"
    )
    assert pad.dtype == torch.uint8 and pad[0, 1].tolist() == [[163, 180], [233, 122]]


def test_resize_aspect_ratio_argument_errors() -> None:
    img = np.zeros((1, 4, 6, 1), "float32")
    with pytest.raises(ValueError):
        ops.image.resize(img, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError):
        ops.image.resize(img, (2, 2), pad_to_aspect_ratio=True, fill_mode="reflect")
