"""Convolution arithmetic and the TilingWarning of convolution and pooling layers."""

import warnings

import pytest
import torch

import lamina
from lamina import Input, layers
from lamina.inspect.conv_arithmetic import (
    TilingWarning,
    conv_output_size,
    same_padding,
    tiling_remainder,
    untiled_axes,
)


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def test_conv_output_size_gives_the_lecture_sizes():
    assert conv_output_size(32, 5) == 28
    assert conv_output_size(7, 3, s=2) == 3
    assert conv_output_size(7, 3, s=3) == 2
    assert conv_output_size(7, 3, s=1, p=1) == 7
    assert same_padding(7, 3, s=2) == (1, 1)


def test_tiling_remainder_counts_the_rows_left_over():
    # The lecture: 7x7 input, 3x3 filter, stride 3: (7 - 3) / 3 is not whole, 1 row left.
    assert tiling_remainder(7, 3, 3) == 1
    assert tiling_remainder(7, 3, 2) == 0
    assert tiling_remainder(7, 3, 3, p=1) == 0  # (7 - 3 + 2) / 3 = 2
    assert tiling_remainder(10, 3, 4, d=2) == 1  # F = 5: (10 - 5) mod 4


def test_tiling_remainder_refuses_a_filter_that_does_not_fit():
    with pytest.raises(ValueError, match="spans 5 inputs but the padded input has only"):
        tiling_remainder(3, 5, 1)


def test_untiled_axes_ignore_the_rows_strides_skip_anyway():
    # A 1x1 convolution with stride 2 skips every other row; the last one is no exception.
    assert untiled_axes((56, 56), (1, 1), (2, 2), (0, 0)) == []
    # Explicit padding: the rows left over are padding, not input.
    assert untiled_axes((7,), (3,), (3,), (1,)) == []
    (axis,) = untiled_axes((10,), (3,), (4,), (0,))
    assert (axis.remainder, axis.unused) == (3, 3)


def test_convolution_in_a_model_warns_about_dropped_rows():
    with pytest.warns(TilingWarning) as record:
        layers.Conv2D(2, 3, strides=3, name="conv")(Input((7, 7, 1)))
    message = str(record[0].message)
    assert message.startswith("Conv2D 'conv' leaves input unused: along height and width")
    assert "(N - F + 2P) / S = (7 - 3 + 0) / 3 is not whole" in message
    assert "the last row and column of 7 are dropped" in message
    assert "kernel_size (3, 3), strides (3, 3), padding 'valid'" in message


def test_warning_names_each_axis_its_sizes_and_padding():
    with pytest.warns(TilingWarning) as record:
        layers.Conv2D(2, (3, 4), strides=3, padding=1, name="c")(Input((9, 10, 1)))
    message = str(record[0].message)
    # height: (9 - 3 + 2) mod 3 = 2 rows over, 1 of them padding; width: (10 - 4 + 2) mod 3 = 2.
    assert "along height, (N - F + 2P) / S = (9 - 3 + 2*1) / 3 is not whole" in message
    assert "the last row of 9 is dropped" in message
    assert "along width, (N - F + 2P) / S = (10 - 4 + 2*1) / 3" in message
    assert "the last column of 10 is dropped" in message
    assert "padding (1, 1)" in message


def test_warning_comes_once_per_layer_and_input_size():
    conv = layers.Conv1D(2, 3, strides=2, name="c1d")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv(Input((8, 1)))
        conv(Input((8, 1)))
    assert len(caught) == 1
    assert issubclass(caught[0].category, TilingWarning)
    assert issubclass(TilingWarning, UserWarning)
    assert "along steps" in str(caught[0].message)


def test_same_padding_and_whole_tilings_do_not_warn():
    # The suite turns warnings into errors: building these must stay silent.
    layers.Conv2D(2, 3, strides=3, padding="same")(Input((7, 7, 1)))
    layers.Conv2D(2, 3, strides=2)(Input((7, 7, 1)))
    layers.Conv2DTranspose(2, 3, strides=3)(Input((7, 7, 1)))
    layers.Conv1D(2, 3, strides=2, padding="causal")(Input((8, 1)))


def test_pooling_floor_is_not_warned_about():
    # The classic MNIST convnet: 11x11 pooled by 2 drops the last row, by design.
    layers.MaxPooling2D(2)(Input((11, 11, 8)))
    layers.AveragePooling1D(2)(Input((5, 8)))


def test_overlapping_pooling_warns_like_a_convolution():
    with pytest.warns(TilingWarning, match=r"MaxPooling2D 'pool'.*\(10 - 3 \+ 0\) / 2"):
        layers.MaxPooling2D(3, strides=2, name="pool")(Input((10, 10, 1)))


def test_eager_calls_do_not_warn():
    layers.Conv2D(2, 3, strides=3)(torch.zeros(1, 7, 7, 1))
    layers.MaxPooling2D(3, strides=2)(torch.zeros(1, 10, 10, 1))


def test_rows_of_zero_padding_left_over_are_not_warned_about():
    # ResNet's stem: ZeroPadding2D(3), then a 7x7 stride-2 convolution on 230x230 leaves the
    # last padded row unused, and ZeroPadding2D(1) + 3x3 stride-2 pooling on 114 does the same:
    # those rows are zeros, no input is lost.
    x = layers.ZeroPadding2D(3)(Input((224, 224, 3)))
    x = layers.Conv2D(8, 7, strides=2)(x)
    x = layers.ZeroPadding2D(1)(x)
    layers.MaxPooling2D(3, strides=2)(x)
    # Padding before only does not cover the rows after.
    with pytest.warns(TilingWarning, match="the last row and column of 230"):
        layers.Conv2D(8, 7, strides=2)(layers.ZeroPadding2D(((6, 0), (6, 0)))(Input((224, 224, 3))))
