"""Where Keras' torch backend fails or departs from NumPy, lamina follows NumPy."""

import numpy as np
import pytest

import lamina.ops as ops
from tests.ops._cases import A, B


@pytest.mark.parametrize(
    "pad_width", [((1, 1), (2, 1)), ((0, 1), (2, 0)), 1, ((2, 2), (3, 3))], ids=str
)
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_matches_numpy(mode, pad_width):
    if mode in ("reflect", "symmetric", "wrap") and pad_width == ((2, 2), (3, 3)):
        pad_width = ((1, 1), (2, 2))
    expected = np.pad(A, pad_width, mode=mode)
    np.testing.assert_array_equal(ops.pad(A, pad_width, mode=mode).numpy(), expected)


def test_pad_constant_value_matches_numpy():
    expected = np.pad(A, 1, constant_values=9.0)
    np.testing.assert_array_equal(ops.pad(A, 1, constant_values=9.0).numpy(), expected)


def test_take_with_negative_indices_on_the_flattened_tensor_matches_numpy():
    indices = np.array([[0, 5], [1, -1]])
    np.testing.assert_array_equal(ops.take(A, indices).numpy(), np.take(A, indices))


def test_vdot_flattens_like_numpy():
    assert float(ops.vdot(A, B)) == pytest.approx(float(np.vdot(A, B)))


def test_pad_rejects_unknown_mode():
    with pytest.raises(ValueError, match="pad mode must be one of"):
        ops.pad(A, 1, mode="mirror")
