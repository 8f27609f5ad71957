"""lamina.utils.pad_sequences: every expected array is Keras 3.15.1's output for the same call."""

import numpy as np
import pytest

from lamina.utils import pad_sequences

RAGGED = [[1, 2, 3], [4, 5], [6]]


def check(result, expected, dtype):
    assert result.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result, np.asarray(expected, dtype=dtype))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [[1, 2, 3], [0, 4, 5], [0, 0, 6]]),
        ({"padding": "post"}, [[1, 2, 3], [4, 5, 0], [6, 0, 0]]),
        ({"maxlen": 2}, [[2, 3], [4, 5], [0, 6]]),
        ({"maxlen": 2, "truncating": "post"}, [[1, 2], [4, 5], [0, 6]]),
        ({"maxlen": 2, "padding": "post", "truncating": "post"}, [[1, 2], [4, 5], [6, 0]]),
        ({"maxlen": 5}, [[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [0, 0, 0, 0, 6]]),
        ({"value": -1}, [[1, 2, 3], [-1, 4, 5], [-1, -1, 6]]),
        ({"value": 0.5}, [[1, 2, 3], [0, 4, 5], [0, 0, 6]]),
    ],
)
def test_pad_sequences_pads_and_truncates_ragged_lists_as_keras(kwargs, expected):
    check(pad_sequences(RAGGED, **kwargs), expected, "int32")


def test_pad_sequences_int64_dtype():
    check(pad_sequences(RAGGED, dtype="int64"), [[1, 2, 3], [0, 4, 5], [0, 0, 6]], "int64")


def test_pad_sequences_float_value_with_float32_dtype():
    result = pad_sequences([[1.5, 2.5], [3.25]], dtype="float32", value=0.5)
    check(result, [[1.5, 2.5], [0.5, 3.25]], "float32")


def test_pad_sequences_casts_floats_to_the_integer_dtype_by_truncation():
    check(pad_sequences([[1.5, 2.7], [3.25]]), [[1, 2], [0, 3]], "int32")


def test_pad_sequences_nan_value():
    result = pad_sequences([[1.0]], maxlen=2, dtype="float32", value=np.nan)
    check(result, [[np.nan, 1.0]], "float32")


def test_pad_sequences_empty_sequences_are_all_padding():
    check(pad_sequences([[1, 2], [], [3]]), [[1, 2], [0, 0], [0, 3]], "int32")


def test_pad_sequences_only_empty_sequences_give_zero_columns():
    assert pad_sequences([[], []]).shape == (2, 0)


def test_pad_sequences_no_sequences_with_maxlen_is_empty():
    result = pad_sequences([], maxlen=3)
    assert result.shape == (0, 3) and result.dtype == np.int32


def test_pad_sequences_no_sequences_without_maxlen_is_an_error():
    with pytest.raises(ValueError, match="got no sequences.*pass maxlen"):
        pad_sequences([])


def test_pad_sequences_maxlen_zero_gives_zero_columns():
    # Keras 3.15.1 fails here with a broadcasting error (`s[-0:]` keeps the whole sequence).
    assert pad_sequences(RAGGED, maxlen=0).shape == (3, 0)


def test_pad_sequences_of_vectors():
    result = pad_sequences([np.ones((2, 3)), np.full((1, 3), 2.0)], dtype="float32")
    check(result, [[[1, 1, 1], [1, 1, 1]], [[0, 0, 0], [2, 2, 2]]], "float32")


def test_pad_sequences_of_vectors_truncated():
    result = pad_sequences([[[1, 2], [3, 4], [5, 6]], [[7, 8]]], maxlen=2)
    check(result, [[[3, 4], [5, 6]], [[0, 0], [7, 8]]], "int32")


def test_pad_sequences_vectors_of_different_shapes_are_an_error():
    with pytest.raises(ValueError, match=r"Shape of sample \(3,\) of sequence at position 1 is "):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_pad_sequences_of_arrays_and_a_2d_array():
    check(pad_sequences((np.array([1, 2]), np.array([3]))), [[1, 2], [0, 3]], "int32")
    check(pad_sequences(np.array([[1, 2], [3, 4]]), maxlen=3), [[0, 1, 2], [0, 3, 4]], "int32")


def test_pad_sequences_bool_dtype():
    result = pad_sequences([[True], [False, True]], dtype="bool")
    check(result, [[False, True], [False, True]], "bool")


def test_pad_sequences_strings_with_object_dtype():
    result = pad_sequences([["a", "b"], ["c"]], dtype=object, value="x")
    assert result.dtype == object
    assert result.tolist() == [["a", "b"], ["x", "c"]]


def test_pad_sequences_strings_with_a_unicode_dtype():
    result = pad_sequences([["a", "bb"], ["c"]], dtype="<U2", value="-")
    assert result.dtype == np.dtype("<U2")
    assert result.tolist() == [["a", "bb"], ["-", "c"]]


def test_pad_sequences_dtype_str_takes_its_width_from_the_value_as_numpy():
    result = pad_sequences([["a", "bb"], ["c"]], dtype=str, value="-")
    assert result.dtype == np.dtype("<U1")
    assert result.tolist() == [["a", "b"], ["-", "c"]]


def test_pad_sequences_string_value_needs_a_text_dtype():
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with `value`'s type"):
        pad_sequences([["a"]], value="x")


def test_pad_sequences_a_string_as_a_sequence_is_a_type_error():
    with pytest.raises(TypeError, match="position 0 is a str"):
        pad_sequences(["abc", "de"], dtype=object)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"padding": "middle"}, 'Padding type "middle" not understood'),
        ({"truncating": "middle"}, 'Truncating type "middle" not understood'),
        ({"padding": "x", "truncating": "y"}, 'Truncating type "y" not understood'),
    ],
)
def test_pad_sequences_bad_sides_are_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(RAGGED, **kwargs)


def test_pad_sequences_non_iterables_are_errors():
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 1"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="`sequences` must be iterable"):
        pad_sequences(iter([[1]]))


def test_pad_sequences_values_out_of_the_dtype_range_overflow():
    with pytest.raises(OverflowError):
        pad_sequences([[300]], dtype="uint8")
