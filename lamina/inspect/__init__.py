"""Seeing the network: summary tables, receptive fields, operation counts, graph drawings.

>>> from lamina import Input, Sequential, layers, inspect
>>> model = Sequential([Input((32, 32, 3)), layers.Conv2D(8, 3), layers.MaxPooling2D(2)])
>>> inspect.receptive_field(model)[-1].size
(4, 4)
>>> inspect.flops(model).total_macs    # 30 * 30 positions * 8 filters * 3 channels * 3 * 3
194400
"""

from .conv_arithmetic import (
    TilingWarning,
    conv_output_size,
    conv_transpose_output_size,
    same_padding,
    tiling_remainder,
)
from .flops import FlopsReport, LayerFlops, flops
from .plot import plot_model
from .receptive_field import ReceptiveField, receptive_field
from .summary import print_summary, summary_text

__all__ = [
    "FlopsReport",
    "LayerFlops",
    "ReceptiveField",
    "TilingWarning",
    "conv_output_size",
    "conv_transpose_output_size",
    "flops",
    "plot_model",
    "print_summary",
    "receptive_field",
    "same_padding",
    "summary_text",
    "tiling_remainder",
]
