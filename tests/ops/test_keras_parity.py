"""Every case of _cases.py gives Keras' values and dtypes (literals in keras_reference_*.py)."""

import numpy as np
import pytest
import torch

import lamina.ops as ops
from tests.ops._cases import CASES
from tests.ops.keras_reference_numpy import REFERENCE as NUMPY_REFERENCE
from tests.ops.keras_reference_other import REFERENCE as OTHER_REFERENCE

REFERENCE = {**NUMPY_REFERENCE, **OTHER_REFERENCE}
# Keras' torch backend fails on these or departs from NumPy (negative indices in take with
# axis=None, pad with an int width, 'symmetric' padding); lamina follows NumPy, checked in
# test_numpy_parity.py.
KERAS_FAILS = {"pad_edge", "pad_wrap", "vdot", "take_none", "pad_value", "pad_symmetric"}


def resolve(path):
    target = ops
    for part in path.split("."):
        target = getattr(target, part)
    return target


def assert_matches(result, expected, case_id):
    if isinstance(expected, list):
        assert isinstance(result, tuple | list), f"{case_id}: expected several outputs"
        assert len(result) == len(expected), case_id
        for part, part_expected in zip(result, expected, strict=True):
            assert_matches(part, part_expected, case_id)
        return
    values, dtype = expected
    if not isinstance(result, torch.Tensor) and dtype in ("int", "float", "bool"):
        assert type(result).__name__ == dtype, case_id
        assert result == values, case_id
        return
    assert isinstance(result, torch.Tensor), f"{case_id}: got {type(result).__name__}"
    assert str(result.dtype).removeprefix("torch.") == dtype, case_id
    expected_array = np.asarray(values, dtype=dtype)
    got = result.detach().cpu().numpy()
    assert got.shape == expected_array.shape, case_id
    np.testing.assert_allclose(got, expected_array, rtol=1e-5, atol=1e-6, err_msg=case_id)


@pytest.mark.parametrize(
    ("case_id", "path", "args", "kwargs"),
    [case for case in CASES if case[0] not in KERAS_FAILS],
    ids=[case[0] for case in CASES if case[0] not in KERAS_FAILS],
)
def test_op_matches_keras(case_id, path, args, kwargs):
    assert_matches(resolve(path)(*args, **kwargs), REFERENCE[case_id], case_id)


def test_every_case_has_a_reference():
    assert {case[0] for case in CASES} == set(REFERENCE)
