"""Text in NumPy arrays: which arrays hold strings (they stay on the host, unconverted, for
the layers that take them), and the check that other layers get no symbolic strings.

>>> holds_strings(np.array(["a good movie"])), holds_strings(np.zeros(2))
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._symbolic import KerasTensor

__all__ = ["check_string_inputs", "holds_strings"]


def holds_strings(array: np.ndarray) -> bool:
    """Whether a NumPy array holds text: a str or bytes dtype, or Python objects that are
    strings (the first one is checked; the layer that reads them checks every one)."""
    kind = array.dtype.kind
    if kind == "O":
        return array.size > 0 and isinstance(array.flat[0], (str, bytes))
    return kind in "US"


def check_string_inputs(layer: Any, leaves: list[Any], meta_inference: Any) -> None:
    """Refuse symbolic strings for a layer that infers its output shape by running `call` on
    float `meta` tensors (`meta_inference`, the default `compute_output_shape`), which cannot
    stand for strings; layers that take strings set `_takes_strings`. A layer's own
    `compute_output_shape` marked `_numbers_only` refuses them too."""
    own = type(layer).compute_output_shape
    if layer._takes_strings or (
        own is not meta_inference and not getattr(own, "_numbers_only", False)
    ):
        return
    for leaf in leaves:
        if isinstance(leaf, KerasTensor) and leaf.dtype == "string":
            raise TypeError(
                f"{layer._describe()} cannot take strings; got "
                f"'{getattr(leaf.layer, 'name', leaf.name)}' of dtype "
                f"'string' and shape {leaf.shape}. Turn text into numbers first with "
                "TextVectorization, StringLookup or Hashing."
            )
