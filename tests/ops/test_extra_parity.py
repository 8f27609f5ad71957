"""Every case of _cases_extra.py gives Keras' values and dtypes (keras_reference_extra.py)."""

import numpy as np
import pytest
import torch

import lamina.ops as ops
from lamina.ops import _core_extra, _nn_extra
from tests.ops._cases import A, B, V, ramp
from tests.ops._cases_extra import CASES
from tests.ops.keras_reference_extra import KERAS_FAILS, REFERENCE
from tests.ops.test_keras_parity import assert_matches

# Uninitialised memory: only the shape and dtype can match.
EMPTY = {"empty_like_float", "empty_like_dtype"}
# Keras' torch backend departs from the op's definition here (checked against NumPy or by
# hand below): its sparsemax sums the running sums of the support instead of taking the last
# one, so its outputs need not sum to 1; its argpartition casts floats to int32.
KERAS_WRONG = {"sparsemax_axis0"}


def resolve(path):
    target = ops
    for part in path.split("."):
        found = getattr(target, part, None)
        if found is None and target is ops:
            # nn and core additions until lamina.ops re-exports them.
            found = getattr(_nn_extra, part, None) or getattr(_core_extra, part)
        target = found
    return target


COMPARED = [case for case in CASES if case[0] not in KERAS_FAILS and case[0] not in KERAS_WRONG]


@pytest.mark.parametrize(
    ("case_id", "path", "args", "kwargs"), COMPARED, ids=[case[0] for case in COMPARED]
)
def test_op_matches_keras(case_id, path, args, kwargs):
    result = resolve(path)(*args, **kwargs)
    if case_id in EMPTY:
        values, dtype = REFERENCE[case_id]
        assert str(result.dtype).removeprefix("torch.") == dtype
        assert tuple(result.shape) == np.asarray(values).shape
        return
    assert_matches(result, REFERENCE[case_id], case_id)


def test_every_case_has_a_reference_or_a_recorded_keras_failure():
    assert {case[0] for case in CASES} == set(REFERENCE) | set(KERAS_FAILS)


def test_every_nn_and_core_addition_is_exported_from_lamina_ops():
    missing = [n for n in [*_nn_extra.__all__, *_core_extra.__all__] if not hasattr(ops, n)]
    assert missing == []


# Where Keras' torch backend fails (KERAS_FAILS) or departs from the op's definition, lamina
# follows NumPy.
def test_imag_of_a_real_tensor_is_zero_like_numpy():
    np.testing.assert_array_equal(ops.imag(B).numpy(), np.imag(B))


def test_cross_with_axisa_and_axisb_matches_numpy():
    x1, x2 = np.asarray(ramp(3, 2)), np.asarray(ramp(3, 2) * 2 + 1)
    expected = np.cross(x1, x2, axisa=0, axisb=0)
    np.testing.assert_allclose(ops.cross(x1, x2, axisa=0, axisb=0).numpy(), expected)


def test_cross_of_two_2d_vectors_gives_the_z_component():
    x1, x2 = np.array([[1.0, 2.0]], "float32"), np.array([[3.0, 5.0]], "float32")
    np.testing.assert_allclose(ops.cross(x1, x2).numpy(), [1.0 * 5.0 - 2.0 * 3.0])


def test_bincount_of_a_2d_tensor_counts_each_row():
    x = np.array([[1, 2], [0, 0]], "int32")
    np.testing.assert_array_equal(ops.bincount(x).numpy(), [[0, 1, 1], [2, 0, 0]])


def test_sparsemax_outputs_sum_to_one_along_the_axis():
    # Column 3 of ramp(3, 4) * 3 is (0, -2.25, 0.75): support {0.75, 0}, threshold -0.125.
    result = resolve("sparsemax")(ramp(3, 4) * 3, axis=0).numpy()
    np.testing.assert_allclose(result.sum(axis=0), np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(result[:, 3], [0.125, 0.0, 0.875], rtol=1e-6)


def test_argpartition_puts_the_kth_value_in_its_sorted_place():
    x = np.array([3.5, 1.25, 2.75, 5.5, 4.0], "float32")
    order = ops.argpartition(x, 2).numpy()
    assert x[order[2]] == np.sort(x)[2]
    assert (x[order[:2]] <= x[order[2]]).all() and (x[order[3:]] >= x[order[2]]).all()


def test_view_as_real_inverts_view_as_complex():
    pairs = ramp(2, 3, 2)
    np.testing.assert_array_equal(ops.view_as_real(ops.view_as_complex(pairs)).numpy(), pairs)


def test_vectorize_maps_over_leading_axes():
    dot = ops.vectorize(lambda a, b: (a * b).sum(), signature="(n),(n)->()")
    np.testing.assert_allclose(dot(A, B).numpy(), (A * B).sum(axis=1), rtol=1e-6)


def test_vectorize_without_signature_is_elementwise():
    np.testing.assert_allclose(ops.vectorize(lambda v: v * 2 + 1)(A).numpy(), A * 2 + 1)


def test_rearrange_with_an_ellipsis_keeps_the_unnamed_axes():
    x = ramp(2, 3, 4, 5)
    expected = x.transpose(0, 1, 3, 2)
    np.testing.assert_array_equal(resolve("rearrange")(x, "... h w -> ... w h").numpy(), expected)


def test_rearrange_rejects_a_pattern_without_an_arrow():
    with pytest.raises(ValueError, match="must contain '->'"):
        resolve("rearrange")(A, "a b")


def test_scan_with_length_and_no_xs_counts_steps():
    carry, ys = resolve("scan")(lambda c, x: (c + 1, c * 2), torch.tensor(0), length=3)
    assert int(carry) == 3 and ys.tolist() == [0, 2, 4]


def test_layer_normalization_rms_scaling_divides_by_the_standard_deviation():
    result = resolve("layer_normalization")(A, rms_scaling=True).numpy()
    np.testing.assert_allclose(result, A / np.sqrt(A.var(axis=-1, keepdims=True) + 1e-7), rtol=1e-5)


def test_histogram_counts_match_numpy():
    counts, edges = ops.histogram(V, bins=3)
    expected_counts, expected_edges = np.histogram(V, bins=3)
    np.testing.assert_array_equal(counts.numpy(), expected_counts)
    np.testing.assert_allclose(edges.numpy(), expected_edges, rtol=1e-6)


def test_ctc_decode_rejects_an_unknown_strategy():
    with pytest.raises(ValueError, match="'greedy' or 'beam_search'"):
        resolve("ctc_decode")(ramp(1, 3, 4), np.array([3]), strategy="best")


def test_bitwise_ops_reject_floats():
    with pytest.raises(TypeError, match="bitwise_and expects integer"):
        ops.bitwise_and(A, B)


def test_correlate_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="correlate mode must be one of"):
        ops.correlate(V, V, mode="circular")
