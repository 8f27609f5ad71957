"""Quantizers, as Keras 3's `keras.quantizers`: quantization arithmetic (`abs_max_quantize`,
`fake_quant_with_min_max_vars`, float8 scaling, int4 packing), `Quantizer` objects, the
configs `layer.quantize(config=...)` takes, and `get` / `serialize` / `deserialize`.

Post-training quantization itself is `layer.quantize("int8")` / `model.quantize("int8")`
(see `lamina.layers._quantization`).

>>> import lamina
>>> quantizer = lamina.quantizers.get("AbsMaxQuantizer")
>>> lamina.quantizers.serialize(quantizer)["config"]
{'value_range': (-127, 127), 'epsilon': 1e-07, 'output_dtype': 'int8'}
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from ._arithmetic import (
    compute_float8_amax_history,
    compute_float8_scale,
    fake_quant_with_min_max_vars,
    pack_int4,
    quantize_and_dequantize,
    unpack_int4,
)
from .quantization_config import (
    AWQConfig,
    Float8QuantizationConfig,
    GPTQConfig,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
)
from .quantizers import (
    AbsMaxQuantizer,
    Quantizer,
    abs_max_quantize,
    abs_max_quantize_grouped_with_zero_point,
)

__all__ = [
    "AWQConfig",
    "AbsMaxQuantizer",
    "Float8QuantizationConfig",
    "GPTQConfig",
    "Int4QuantizationConfig",
    "Int8QuantizationConfig",
    "QuantizationConfig",
    "Quantizer",
    "abs_max_quantize",
    "abs_max_quantize_grouped_with_zero_point",
    "compute_float8_amax_history",
    "compute_float8_scale",
    "deserialize",
    "fake_quant_with_min_max_vars",
    "get",
    "pack_int4",
    "quantize_and_dequantize",
    "serialize",
    "unpack_int4",
]

_CLASSES = (
    Quantizer,
    AbsMaxQuantizer,
    QuantizationConfig,
    Int8QuantizationConfig,
    Int4QuantizationConfig,
    Float8QuantizationConfig,
    GPTQConfig,
    AWQConfig,
)
ALL_OBJECTS = {cls.__name__: cls for cls in _CLASSES}


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


# Keras also accepts the snake-case names ('abs_max_quantizer', 'int8_quantization_config').
ALL_OBJECTS.update({_snake_case(cls.__name__): cls for cls in _CLASSES})


def serialize(quantizer: Any) -> dict[str, Any]:
    """The quantizer (or config) as Keras 3 writes it: `{"module", "class_name", "config",
    "registered_name"}`."""
    if not hasattr(quantizer, "get_config"):
        raise TypeError(f"Cannot serialize {quantizer!r}: it has no get_config()")
    builtin = ALL_OBJECTS.get(type(quantizer).__name__) is type(quantizer)
    registered = None
    if not builtin:
        from ..saving.registry import get_registered_name

        registered = get_registered_name(quantizer)
    return {
        "module": "keras.quantizers" if builtin else type(quantizer).__module__,
        "class_name": type(quantizer).__name__,
        "config": quantizer.get_config(),
        "registered_name": registered,
    }


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """A quantizer or config from `serialize`'s dict; `custom_objects` maps other class
    names to classes, as do registered classes (`register_keras_serializable`)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"quantizers.deserialize expects a dict with 'class_name' and 'config'; got {config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS.get(name)
    if cls is None:
        from ..saving.registry import get_registered_object

        cls = get_registered_object(config.get("registered_name") or name)
    if cls is None:
        raise ValueError(
            f"Unknown quantizer class {name!r}; expected one of "
            f"{sorted(c.__name__ for c in _CLASSES)} or a registered class."
        )
    return cls.from_config(config.get("config") or {})


def get(identifier: Any, **kwargs: Any) -> Any:
    """A quantizer from None (None), a config dict, a class name ('AbsMaxQuantizer' or
    'abs_max_quantizer', built with `kwargs`), a class, or a callable (as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        found = deserialize(identifier)
    elif isinstance(identifier, str):
        found = ALL_OBJECTS.get(identifier)
    else:
        found = identifier
    if callable(found):
        return found(**kwargs) if inspect.isclass(found) else found
    raise ValueError(f"Could not interpret quantizer identifier: {identifier}")
