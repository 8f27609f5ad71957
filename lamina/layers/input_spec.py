"""InputSpec: what a layer accepts (rank, dtype, shape, sizes of given axes), and the check.

A layer declares `self.input_spec = InputSpec(...)` (or a list of them, one per input), and
`assert_input_compatibility(layer.input_spec, inputs, layer.name)` raises a ValueError naming
the layer, the input and the broken rule, as Keras checks the first argument of every call.

>>> import torch
>>> spec = InputSpec(ndim=3, axes={-1: 4})
>>> assert_input_compatibility(spec, torch.zeros(2, 5, 4), "lstm")
>>> assert_input_compatibility(spec, torch.zeros(2, 4), "lstm")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
ValueError: Input 0 with name 'None' of layer 'lstm' is incompatible ... found ndim=2. ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._symbolic import flatten_structure

__all__ = ["InputSpec", "assert_input_compatibility"]


def _standardize_dtype(dtype: Any) -> str:
    from ..utils._dtype_utils import standardize_dtype  # lamina.utils imports the layers

    return standardize_dtype(dtype)


def _standardize_shape(shape: Any) -> tuple[int | None, ...]:
    if isinstance(shape, int):
        raise ValueError(f"InputSpec: shape must be a tuple or list; got {shape!r}")
    return tuple(None if dim is None else int(dim) for dim in shape)


class InputSpec:
    """The rank, dtype and shape every input of a layer must have (Keras' `InputSpec`).

    A None in `shape` (or an axis value of None) accepts any size.

    Args:
        dtype: the expected dtype ('float32'), or None for any.
        shape: the expected shape, batch axis included; sets `ndim` too.
        ndim: the exact rank.
        max_ndim: the largest rank accepted.
        min_ndim: the smallest rank accepted.
        axes: `{axis: size}` for axes of a fixed size (negative axes count from the end).
        allow_last_axis_squeeze: accept a rank N+1 input whose last axis is 1, and a rank N-1
            input when the spec's last axis is 1.
        name: the key of this input when the inputs come as a dict.
        optional: whether None is accepted for this input.

    >>> InputSpec(shape=(None, 28, 28, 1))
    InputSpec(shape=(None, 28, 28, 1), ndim=4)
    >>> InputSpec(min_ndim=2, axes={-1: 8}).get_config()["axes"]
    {-1: 8}
    """

    def __init__(
        self,
        dtype: Any = None,
        shape: Sequence[int | None] | None = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: Mapping[int, int | None] | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
        optional: bool = False,
    ) -> None:
        self.dtype = None if dtype is None else _standardize_dtype(dtype)
        if shape is not None:
            self.shape: tuple[int | None, ...] | None = _standardize_shape(shape)
            self.ndim: int | None = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(axis): axes[axis] for axis in axes}
        except (ValueError, TypeError):
            raise TypeError(
                f"InputSpec: axes must be a dict with integer keys; got axes={axes!r}"
            ) from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            largest = (self.ndim if self.ndim else self.max_ndim) - 1  # type: ignore[operator]
            if max(self.axes) > largest:
                raise ValueError(
                    f"InputSpec: axis {max(self.axes)} is greater than the largest axis allowed "
                    f"by the rank, {largest}"
                )

    def __repr__(self) -> str:
        parts = [
            f"dtype={self.dtype}" if self.dtype else "",
            f"shape={self.shape}" if self.shape else "",
            f"ndim={self.ndim}" if self.ndim else "",
            f"max_ndim={self.max_ndim}" if self.max_ndim else "",
            f"min_ndim={self.min_ndim}" if self.min_ndim else "",
            f"axes={self.axes}" if self.axes else "",
        ]
        return f"InputSpec({', '.join(part for part in parts if part)})"

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments Keras saves (name and the squeeze flag are not)."""
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputSpec:
        return cls(**config)


def _specs_and_inputs(input_spec: Any, inputs: Any) -> tuple[list[Any], list[Any]]:
    specs = flatten_structure(input_spec)
    if isinstance(inputs, Mapping):
        names = [getattr(spec, "name", None) for spec in specs]
        if names and all(names):  # a dict of inputs is read in the specs' order
            missing = [name for name in names if name not in inputs]
            if missing:
                raise ValueError(
                    f'Missing data for input "{missing[0]}". You passed a data dictionary with '
                    f"keys {list(inputs.keys())}. Expected the following keys: {names}"
                )
            inputs = [inputs[name] for name in names]
    return specs, flatten_structure(inputs)


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Raise a ValueError naming `layer_name` if `inputs` break `input_spec` (an InputSpec, a
    nested structure of them, or None); with Keras' rules and messages."""
    if not input_spec:
        return
    specs, flat = _specs_and_inputs(input_spec, inputs)
    if len(flat) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):
            raise ValueError(
                f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, '
                f"but it received {len(flat)} input tensors. Pass inputs as a dict, e.g. "
                "`layer({" + ", ".join(f"'{n}': ..." for n in names) + "})`."
            )
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} '
            "input tensors."
        )
    for index, (x, spec) in enumerate(zip(flat, specs, strict=True)):
        if spec is None or (x is None and spec.optional):
            continue
        _check_one(spec, x, index, layer_name)


def _check_one(spec: InputSpec, x: Any, index: int, layer_name: str) -> None:
    if not hasattr(x, "shape"):
        raise ValueError(
            f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input for "
            f"layer '{layer_name}'."
        )
    shape = tuple(None if dim is None else int(dim) for dim in x.shape)
    ndim = len(shape)
    where = f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible with"
    where += " the layer:"
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(
            f"{where} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}"
        )
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{where} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(
            f"{where} expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape "
            f"received: {shape}"
        )
    if spec.dtype is not None:
        dtype = _standardize_dtype(x.dtype)
        if dtype != spec.dtype:
            raise ValueError(f"{where} expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, value in spec.axes.items():
        if value is not None and (not -ndim <= axis < ndim or shape[axis] not in (value, None)):
            raise ValueError(
                f"{where} expected axis {axis} of input shape to have value {value}, but "
                f"received input with shape {shape}"
            )
    if spec.shape is not None:
        expected = spec.shape
        if spec.allow_last_axis_squeeze:
            if shape and shape[-1] == 1:
                shape = shape[:-1]
            if expected and expected[-1] == 1:
                expected = expected[:-1]
        for expected_dim, dim in zip(expected, shape, strict=False):
            if expected_dim is not None and dim is not None and expected_dim != dim:
                raise ValueError(f"{where} expected shape={spec.shape}, found shape={shape}")
