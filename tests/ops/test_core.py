"""Conversion, dtypes, shapes, control flow and scatter ops beyond the Keras value table."""

import numpy as np
import pytest
import torch

import lamina.ops as ops


def test_convert_to_tensor_keeps_a_tensor_as_is():
    x = torch.ones(2)
    assert ops.convert_to_tensor(x) is x


def test_convert_to_tensor_accepts_read_only_and_strided_numpy_arrays():
    array = np.arange(6.0, dtype="float32").reshape(2, 3)[:, ::2]
    array.flags.writeable = False
    assert ops.convert_to_tensor(array).tolist() == [[0.0, 2.0], [3.0, 5.0]]


def test_convert_to_tensor_stacks_a_list_of_tensors():
    assert ops.convert_to_tensor([torch.ones(2), torch.zeros(2)]).shape == (2, 2)


def test_convert_to_tensor_rejects_sparse():
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_convert_to_numpy_detaches_and_handles_bfloat16():
    x = torch.ones(2, dtype=torch.bfloat16, requires_grad=True)
    array = ops.convert_to_numpy(x)
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32


def test_shape_is_a_tuple_of_python_ints():
    shape = ops.shape(np.zeros((2, 3)))
    assert shape == (2, 3)
    assert all(type(d) is int for d in shape)


def test_dtype_and_is_tensor():
    assert ops.dtype(torch.zeros(1, dtype=torch.int32)) == "int32"
    assert ops.is_tensor(torch.zeros(1))
    assert not ops.is_tensor(np.zeros(1))


def test_cast_accepts_keras_names_numpy_and_torch_dtypes():
    x = torch.tensor([1.5])
    assert ops.cast(x, "float16").dtype == torch.float16
    assert ops.cast(x, np.int32).dtype == torch.int32
    assert ops.cast(x, torch.float64).dtype == torch.float64


def test_cast_rejects_an_unknown_dtype():
    with pytest.raises(ValueError, match="Unknown dtype"):
        ops.cast(torch.ones(1), "float33")


def test_saturate_cast_clips_to_the_target_range():
    assert ops.saturate_cast(torch.tensor([-5.0, 300.0]), "uint8").tolist() == [0, 255]


def test_stop_gradient_blocks_the_gradient():
    x = torch.tensor(2.0, requires_grad=True)
    (x * ops.stop_gradient(x)).backward()
    assert x.grad.item() == 2.0


def test_cond_runs_one_branch():
    assert ops.cond(torch.tensor(True), lambda: 1, lambda: 2) == 1
    assert ops.cond(False, lambda: 1, lambda: 2) == 2


def test_switch_clamps_the_index():
    branches = [lambda x: x + 1, lambda x: x * 10]
    assert ops.switch(5, branches, 2) == 20


def test_fori_loop_accumulates():
    assert ops.fori_loop(0, 4, lambda i, total: total + i, 0) == 6


def test_while_loop_keeps_the_structure_and_respects_maximum_iterations():
    assert ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)) == (5, 10)
    assert ops.while_loop(lambda i: i < 100, lambda i: i + 1, 0, maximum_iterations=3) == 3


def test_map_and_vectorized_map_apply_per_row():
    x = torch.arange(6.0).reshape(3, 2)
    assert ops.map(lambda row: row.sum(), x).tolist() == [1.0, 5.0, 9.0]
    assert ops.vectorized_map(lambda row: row * 2, x).tolist() == (x * 2).tolist()


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [(None, 5.0), ("add", 13.5), ("max", 5.0), ("min", 4.0), ("mul", 90.0)],
)
def test_scatter_update_reduces_repeated_indices_with_the_existing_value(reduction, expected):
    inputs = torch.tensor([[1.0, 4.5], [2.0, 3.0]])
    result = ops.scatter_update(inputs, [[0, 1], [0, 1]], [4.0, 5.0], reduction=reduction)
    assert result.tolist() == [[1.0, expected], [2.0, 3.0]]


def test_scatter_update_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be"):
        ops.scatter_update(torch.zeros(2), [[0]], [1.0], reduction="mean")


def test_slice_update_does_not_modify_its_input():
    x = torch.zeros(3)
    ops.slice_update(x, (1,), torch.ones(2))
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_custom_gradient_replaces_the_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(upstream):
            return ops.clip(upstream, -0.5, 0.5)

        return x * 1.0, grad

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (clipped_identity(x) * 3.0).sum().backward()
    assert x.grad.tolist() == [0.5, 0.5]


def test_results_stay_on_the_input_device_and_numpy_goes_to_the_default_device():
    x = torch.ones(2, device="meta")
    assert ops.add(x, np.ones(2, dtype="float32")).device.type == "meta"
    assert ops.add(np.ones(2), 1).device == torch.empty(0).device


def test_python_numbers_alone_follow_keras_dtypes():
    assert ops.add(1, 2).dtype == torch.int32
    assert ops.multiply(1.5, 2).dtype == torch.float32


def test_float16_with_a_python_float_stays_float16():
    assert ops.add(torch.ones(1, dtype=torch.float16), 1.5).dtype == torch.float16


def test_reductions_reject_an_out_of_range_axis():
    with pytest.raises(ValueError, match="out of bounds"):
        ops.sum(torch.ones(2, 3), axis=2)


def test_split_rejects_unequal_sections():
    with pytest.raises(ValueError, match="does not divide"):
        ops.split(torch.ones(5), 2)


def test_crossentropy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(torch.ones(2, 3), torch.ones(2, 4))


def test_conv_rejects_an_unknown_padding():
    with pytest.raises(ValueError, match="padding must be"):
        ops.conv(torch.ones(1, 4, 4, 1), torch.ones(2, 2, 1, 1), padding="full")
