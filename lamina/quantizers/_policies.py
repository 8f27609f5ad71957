"""Keras 3's quantized dtype policies: a float source policy plus a quantization mode, named
'<mode>_from_<source>' ('int8_from_float32', 'int4/128_from_mixed_bfloat16').

A quantized layer's `dtype_policy` is one of these; its compute and variable dtypes are the
source policy's (the quantized weights carry their own dtypes).

>>> policy = quantized_policy("int8_from_mixed_bfloat16")
>>> policy.name, policy.quantization_mode, policy.compute_dtype, policy.variable_dtype
('int8_from_mixed_bfloat16', 'int8', 'bfloat16', 'float32')
>>> policy.get_config()
{'mode': 'int8', 'source_name': 'mixed_bfloat16'}
"""

from __future__ import annotations

from typing import Any

from ..mixed_precision import DTypePolicy, global_policy
from .quantization_config import QUANTIZATION_MODES

__all__ = [
    "Int4DTypePolicy",
    "QuantizedDTypePolicy",
    "QuantizedFloat8DTypePolicy",
    "is_quantized_dtype",
    "quantized_policy",
]


class QuantizedDTypePolicy(DTypePolicy):
    """The policy of a layer quantized with `mode` ('int8', 'int4', 'float8') from the
    float policy `source_name` (None: the global policy).

    >>> QuantizedDTypePolicy("int8", "float32").name
    'int8_from_float32'
    """

    def __init__(self, mode: str, source_name: str | None = None) -> None:
        source = DTypePolicy(source_name if source_name is not None else global_policy().name)
        base = mode.split("/")[0] if isinstance(mode, str) else mode
        if base not in QUANTIZATION_MODES:
            raise ValueError(
                f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. Received: "
                f"mode={mode}"
            )
        if base == "int8" and source.compute_dtype == "float16":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'."
            )
        self._name = f"{mode}_from_{source.name}"
        self._compute_dtype = source.compute_dtype
        self._variable_dtype = source.variable_dtype
        self._source_name = source.name
        self._quantization_mode = base

    @property
    def quantization_mode(self) -> str:
        """'int8', 'int4' or 'float8'."""
        return self._quantization_mode

    @property
    def source_name(self) -> str:
        return self._source_name

    def get_config(self) -> dict[str, Any]:
        return {"mode": self._quantization_mode, "source_name": self._source_name}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} "{self._name}">'


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """The float8 policy; `amax_history_length` is the length of the delayed-scaling
    history of maxima."""

    default_amax_history_length = 1024

    def __init__(
        self, mode: str, source_name: str | None = None, amax_history_length: int = 1024
    ) -> None:
        super().__init__(mode, source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError(
                "`amax_history_length` must be an integer. Received: "
                f"amax_history_length={amax_history_length}"
            )
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self) -> int:
        return self._amax_history_length

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "amax_history_length": self._amax_history_length}


class Int4DTypePolicy(QuantizedDTypePolicy):
    """The int4 policy with its group size: mode 'int4/<block_size>', -1 for one scale per
    output channel.

    >>> Int4DTypePolicy("int4/128", "float32").block_size
    128
    """

    def __init__(self, mode: str, source_name: str | None = None) -> None:
        parts = mode.split("/") if isinstance(mode, str) else []
        if len(parts) != 2 or parts[0] != "int4":
            raise ValueError(
                "Invalid mode for Int4DTypePolicy. Expected format 'int4/<block_size>', but "
                f"got '{mode}'."
            )
        try:
            block_size = int(parts[1])
        except ValueError:
            raise ValueError(
                "Invalid mode for Int4DTypePolicy. <block_size> must be an integer, but got "
                f"'{mode}'."
            ) from None
        if block_size < -1 or block_size == 0:
            raise ValueError(
                "Invalid block_size in mode. Supported values are -1 (per-channel) or a "
                f"positive integer (sub-channel), but got {block_size} from '{mode}'."
            )
        super().__init__(mode, source_name)
        self.mode = "int4"
        self.block_size = block_size

    def get_config(self) -> dict[str, Any]:
        return {"mode": f"int4/{self.block_size}", "source_name": self._source_name}


_CLASSES: dict[str, type[QuantizedDTypePolicy]] = {
    cls.__name__: cls for cls in (QuantizedDTypePolicy, QuantizedFloat8DTypePolicy, Int4DTypePolicy)
}


def is_quantized_dtype(dtype: Any) -> bool:
    """Whether a layer's `dtype=` argument names a quantized policy (name, dict or object)."""
    if isinstance(dtype, QuantizedDTypePolicy):
        return True
    if isinstance(dtype, str):
        return "_from_" in dtype and dtype.split("_from_")[0].split("/")[0] in QUANTIZATION_MODES
    return isinstance(dtype, dict) and dtype.get("class_name") in _CLASSES


def quantized_policy(dtype: Any) -> QuantizedDTypePolicy:
    """A quantized policy from its name ('int8_from_float32'), Keras' serialized dict
    (`{"class_name": "QuantizedDTypePolicy", "config": {"mode": ..., "source_name": ...}}`)
    or a policy."""
    if isinstance(dtype, QuantizedDTypePolicy):
        return dtype
    if isinstance(dtype, dict) and dtype.get("class_name") in _CLASSES:
        return _CLASSES[dtype["class_name"]](**dtype.get("config", {}))
    if not is_quantized_dtype(dtype):
        raise ValueError(
            f"{dtype!r} is not a quantized dtype policy: expected '<mode>_from_<source>' with "
            f"mode in {QUANTIZATION_MODES} (e.g. 'int8_from_float32')."
        )
    mode, source = dtype.split("_from_", 1)
    if mode.startswith("int4/"):
        return Int4DTypePolicy(mode, source)
    if mode == "float8":
        return QuantizedFloat8DTypePolicy(mode, source)
    if mode in ("gptq", "awq") or "/" in mode:
        raise ValueError(f"Dtype policy {dtype!r}: lamina does not support {mode!r} layers.")
    return QuantizedDTypePolicy(mode, source)
