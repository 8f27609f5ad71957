"""lamina.quantizers: the functions, quantizers and configs against Keras 3.15.1's numbers
(literals from running the same calls with KERAS_BACKEND=torch)."""

import numpy as np
import pytest
import torch

from lamina import quantizers


def sine(*shape, k=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.7 + k) * 0.5).reshape(shape).astype("float32")


KERNEL_Q = [[127, 127, 87, 8], [-92, -125, -113, -72], [47, 109, 127, 127]]
KERNEL_SCALE = [[301.8523, 256.1349, 256.73203, 383.12476]]


def test_public_names_are_keras_names():
    keras_names = [
        "AWQConfig", "AbsMaxQuantizer", "Float8QuantizationConfig", "GPTQConfig",
        "Int4QuantizationConfig", "Int8QuantizationConfig", "QuantizationConfig", "Quantizer",
        "abs_max_quantize", "abs_max_quantize_grouped_with_zero_point",
        "compute_float8_amax_history", "compute_float8_scale", "deserialize",
        "fake_quant_with_min_max_vars", "get", "pack_int4", "quantize_and_dequantize",
        "serialize", "unpack_int4",
    ]  # fmt: skip
    assert sorted(quantizers.__all__) == sorted(keras_names)
    assert all(hasattr(quantizers, name) for name in keras_names)


@pytest.mark.parametrize("to_numpy", [False, True])
def test_abs_max_quantize_matches_keras(to_numpy):
    values, scale = quantizers.abs_max_quantize(sine(3, 4), axis=0, to_numpy=to_numpy)
    assert values.dtype == torch.int8 and scale.dtype == torch.float32
    assert values.tolist() == KERNEL_Q
    np.testing.assert_array_equal(scale.numpy(), np.float32(KERNEL_SCALE))


def test_abs_max_quantize_over_several_axes_and_int4_range():
    values, scale = quantizers.abs_max_quantize(torch.tensor(sine(3, 4)), (0, 1), (-8, 7))
    assert values.tolist() == [[6, 7, 5, 0], [-4, -7, -6, -3], [2, 6, 7, 5]]
    np.testing.assert_allclose(scale.numpy(), [[14.117671]], rtol=1e-7)


def test_abs_max_quantize_rejects_a_bad_axis():
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        quantizers.abs_max_quantize(np.ones((2, 2), "float32"), axis=2)


@pytest.mark.parametrize("to_numpy", [False, True])
def test_grouped_quantization_with_zero_point_matches_keras(to_numpy):
    values, scale, zero = quantizers.abs_max_quantize_grouped_with_zero_point(
        sine(5, 3, k=2.0), block_size=2, to_numpy=to_numpy
    )
    assert values.tolist() == [[7, 7, -2], [-8, -8, -8], [-8, 7, 7], [7, 7, -8], [-8, -8, -8]]
    np.testing.assert_allclose(
        scale.numpy(),
        [
            [0.05758583, 0.04745149, 0.01499998],
            [0.03284205, 0.00554405, 0.04132269],
            [0.02759422, 0.03315176, 0.02311751],
        ],
        rtol=1e-6,
    )
    assert zero.dtype == torch.int8
    assert zero.tolist() == [[-1, 2, 7], [-7, -8, -5], [7, 7, 7]]


def test_fake_quant_per_tensor_values_and_keras_gradient():
    x = torch.tensor(np.linspace(-1.5, 1.7, 9).astype("float32").reshape(3, 3), requires_grad=True)
    low = torch.tensor(-1.0, requires_grad=True)
    high = torch.tensor(1.2, requires_grad=True)
    y = quantizers.fake_quant_with_min_max_vars(x, low, high, num_bits=4)
    np.testing.assert_allclose(
        y.detach().numpy(),
        [
            [-1.0266668, -1.0266668, -0.73333335],
            [-0.29333335, 0.14666668, 0.44000003],
            [0.88000005, 1.1733334, 1.1733334],
        ],
        rtol=1e-6,
    )
    (y * torch.arange(9.0).reshape(3, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 2.0], [3.0, 4.0, 5.0], [6.0, 0.0, 0.0]]
    assert low.grad.item() == 1.0 and high.grad.item() == 15.0


def test_fake_quant_per_channel_narrow_range():
    x = torch.tensor(np.linspace(-1.5, 1.7, 9).astype("float32").reshape(3, 3), requires_grad=True)
    low = torch.tensor([-1.0, -0.5, 0.1], requires_grad=True)
    high = torch.tensor([1.0, 0.6, 1.5], requires_grad=True)
    y = quantizers.fake_quant_with_min_max_vars(x, low, high, 8, narrow_range=True, axis=-1)
    np.testing.assert_allclose(
        y.detach().numpy(),
        [
            [-1.0, -0.4980315, 0.0],
            [-0.2992126, 0.0996063, 0.5015748],
            [0.8976378, 0.6019685, 1.4],
        ],
        rtol=1e-6,
        atol=1e-7,
    )
    (y * torch.arange(9.0).reshape(3, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [3.0, 4.0, 5.0], [6.0, 0.0, 0.0]]
    assert low.grad.tolist() == [0.0, 1.0, 2.0] and high.grad.tolist() == [0.0, 7.0, 8.0]


def test_float8_scale_keeps_the_old_scale_for_zero_or_infinite_amax():
    amax = torch.tensor([2.0, 0.0, float("inf")])
    new = quantizers.compute_float8_scale(amax, torch.tensor(0.5), 448.0, margin=1)
    np.testing.assert_allclose(new.numpy(), [2.0 * 2 / 448.0, 0.5, 0.5], rtol=1e-6)


def test_float8_amax_history_rolls_and_writes_first():
    history = quantizers.compute_float8_amax_history(
        np.array([-3.0, 1.0], "float32"), torch.tensor([1.0, 2.0, 0.0])
    )
    assert history.tolist() == [3.0, 0.0, 1.0]


def test_quantize_and_dequantize_float8():
    e4m3 = quantizers.quantize_and_dequantize(
        torch.tensor([0.3, 1000.0, -0.01]), 1.0, "float8_e4m3fn", "float32"
    )
    np.testing.assert_allclose(e4m3.numpy(), [0.3125, 448.0, -0.009765625])
    e5m2 = quantizers.quantize_and_dequantize(
        torch.tensor([0.3, 1e6, -0.01]), torch.tensor(0.5), "float8_e5m2", "float32"
    )
    np.testing.assert_allclose(e5m2.numpy(), [0.3125, 28672.0, -0.009765625])


INT4 = np.array([[-3, 7, 2], [-8, 1, 0], [5, -1, 3]], dtype=np.int8)


@pytest.mark.parametrize(
    ("axis", "expected"),
    [
        (0, [[-115, 23, 2], [5, 15, 3]]),
        (1, [[125, 2], [24, 0], [-11, 3]]),
        (-1, [[125, 2], [24, 0], [-11, 3]]),
    ],
)
def test_pack_and_unpack_int4_match_keras(axis, expected):
    packed, shape, length = quantizers.pack_int4(INT4, axis=axis)
    assert packed.dtype == torch.int8 and packed.tolist() == expected
    assert shape == tuple(np.shape(expected)) and length == 3
    assert quantizers.unpack_int4(packed, length, axis=axis).tolist() == INT4.tolist()


def test_pack_int4_unsigned_and_type_errors():
    values = np.array([[1, 15], [9, 0], [3, 4]], dtype=np.uint8)
    packed, _, length = quantizers.pack_int4(values, axis=1, dtype="uint8")
    assert packed.tolist() == [[241], [9], [67]]
    assert quantizers.unpack_int4(packed, length, 1, "uint8").tolist() == values.tolist()
    with pytest.raises(TypeError, match="Expected int8 tensor for packing, got int32"):
        quantizers.pack_int4(torch.zeros(2, 2, dtype=torch.int32))
    with pytest.raises(ValueError, match="'int8' or 'uint8'"):
        quantizers.unpack_int4(torch.zeros(2, dtype=torch.int8), 2, dtype="int16")


def test_abs_max_quantizer_object_and_config():
    quantizer = quantizers.AbsMaxQuantizer(axis=0)
    values, _ = quantizer(sine(3, 4))
    assert values.tolist() == KERNEL_Q
    assert quantizer.get_config() == {
        "value_range": (-127, 127),
        "epsilon": 1e-07,
        "output_dtype": "int8",
        "axis": (0,),
    }
    with pytest.raises(ValueError, match=r"within \[-128, 127\]"):
        quantizers.AbsMaxQuantizer(value_range=(-200, 200))


def test_serialize_is_keras_format_and_round_trips():
    config = quantizers.Int8QuantizationConfig()
    data = quantizers.serialize(config)
    assert data == {
        "module": "keras.quantizers",
        "class_name": "Int8QuantizationConfig",
        "config": {
            "weight_quantizer": None,
            "activation_quantizer": {
                "module": "keras.quantizers",
                "class_name": "AbsMaxQuantizer",
                "config": {"value_range": (-127, 127), "epsilon": 1e-07, "output_dtype": "int8"},
                "registered_name": None,
            },
        },
        "registered_name": None,
    }
    again = quantizers.deserialize(data)
    assert isinstance(again.activation_quantizer, quantizers.AbsMaxQuantizer)
    assert quantizers.get("abs_max_quantizer").value_range == (-127, 127)
    assert quantizers.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret quantizer identifier"):
        quantizers.get("no_such_quantizer")


def test_configs_validate_like_keras():
    assert quantizers.Int4QuantizationConfig().block_size == 128
    assert quantizers.Int4QuantizationConfig().activation_quantizer is None
    with pytest.raises(ValueError, match="does not support custom quantizers"):
        quantizers.Int4QuantizationConfig(
            weight_quantizer=quantizers.AbsMaxQuantizer(value_range=(-8, 7))
        )
    with pytest.raises(ValueError, match="value_range=\\(-8, 7\\)"):
        quantizers.Int4QuantizationConfig(
            weight_quantizer=quantizers.AbsMaxQuantizer(), block_size=None
        )
    with pytest.raises(ValueError, match="Unsupported weight_bits 5"):
        quantizers.GPTQConfig(None, None, weight_bits=5)
    gptq = quantizers.GPTQConfig(None, None)
    assert gptq.mode == "gptq" and gptq.dtype_policy_string() == "gptq/4/128"
    assert quantizers.GPTQConfig.from_config(gptq.get_config()).group_size == 128
    assert quantizers.AWQConfig(None, None).dtype_policy_string() == "awq/4/128"
    assert quantizers.Float8QuantizationConfig().get_config() == {}
