"""The course's convolution arithmetic, one function each.

* `conv_output_size(n, f, s, p, d)`: floor((N - F + 2P) / S) + 1 outputs, F = d(f - 1) + 1.
* `same_padding(n, f, s, d)`: the (before, after) padding of 'same' (Keras puts the odd extra
  pixel after).
* `conv_transpose_output_size(n, f, s, p, d, output_padding)`: (N - 1)S - 2P + F + output_padding.
* `tiling_remainder(n, f, s, p, d)`: (N - F + 2P) mod S, the input rows/columns left over after
  the last window when (N - F + 2P) / S is not whole; `untiled_axes` says which axes of a layer
  actually drop input, and `TilingWarning` is what convolution and pooling layers warn with.

The formulas live in `lamina.layers._conv_utils`, which the layers compute their shapes with;
this module is their public home.

>>> conv_output_size(7, 3, s=3)          # 7x7 input, 3x3 filter, stride 3: 2x2 outputs...
2
>>> tiling_remainder(7, 3, s=3)          # ...and (7 - 3) / 3 is not whole: 1 row/column left
1
>>> conv_output_size(32, 5, s=1, p=2)    # 'same' for a 5x5 filter at stride 1
32
"""

from ..layers._conv_utils import (
    TilingWarning,
    UntiledAxis,
    conv_output_size,
    conv_transpose_output_size,
    same_padding,
    tiling_remainder,
    untiled_axes,
)

__all__ = [
    "TilingWarning",
    "UntiledAxis",
    "conv_output_size",
    "conv_transpose_output_size",
    "same_padding",
    "tiling_remainder",
    "untiled_axes",
]
