"""Quantization configs, as Keras 3's `keras.quantizers.*QuantizationConfig`, `GPTQConfig`
and `AWQConfig`: which quantizers `layer.quantize(config=...)` uses.

>>> config = Int8QuantizationConfig()
>>> config.mode, type(config.activation_quantizer).__name__
('int8', 'AbsMaxQuantizer')
>>> validate_and_resolve_config("int4", None).block_size
128
"""

from __future__ import annotations

from typing import Any

from .quantizers import AbsMaxQuantizer, Quantizer

__all__ = [
    "AWQConfig",
    "Float8QuantizationConfig",
    "GPTQConfig",
    "Int4QuantizationConfig",
    "Int8QuantizationConfig",
    "QUANTIZATION_MODES",
    "QuantizationConfig",
    "validate_and_resolve_config",
]

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")


def _serialize(obj: Any) -> Any:
    from . import serialize

    return None if obj is None else serialize(obj)


def _deserialize(config: Any) -> Any:
    from . import deserialize

    return None if config is None else deserialize(config)


class QuantizationConfig:
    """Base class of quantization configs: a weight and an activation quantizer (None: the
    layer's default). Subclasses define `mode`.

    Args:
        weight_quantizer: the `Quantizer` of the weights.
        activation_quantizer: the `Quantizer` of the inputs (None: weight-only).
    """

    def __init__(
        self, weight_quantizer: Quantizer | None = None, activation_quantizer: Any = None
    ) -> None:
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self) -> str:
        raise NotImplementedError(
            "Subclasses must implement this property. Do not instantiate QuantizationConfig "
            "directly."
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "weight_quantizer": _serialize(self.weight_quantizer),
            "activation_quantizer": _serialize(self.activation_quantizer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> QuantizationConfig:
        return cls(
            weight_quantizer=_deserialize(config.get("weight_quantizer")),
            activation_quantizer=_deserialize(config.get("activation_quantizer")),
        )

    @staticmethod
    def weight_quantizer_or_default(config: Any, default: Any) -> Any:
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config: Any, default: Any) -> Any:
        return config.activation_quantizer if config is not None else default


class Int8QuantizationConfig(QuantizationConfig):
    """int8 weights; inputs quantized by `activation_quantizer` ('default': an
    `AbsMaxQuantizer` over the last axis; None: weight-only)."""

    def __init__(
        self, weight_quantizer: Quantizer | None = None, activation_quantizer: Any = "default"
    ) -> None:
        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if weight_quantizer is not None and weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={weight_quantizer.output_dtype}"
            )

    @property
    def mode(self) -> str:
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """int4 weights (packed two per byte), weight-only by default.

    Args:
        weight_quantizer: the weights' quantizer (per-channel only), value_range (-8, 7).
        activation_quantizer: the inputs' quantizer ('default': None, weight-only).
        block_size: rows per group of the sub-channel (asymmetric, zero-point) scheme; None
            or -1 for one scale per output channel.
    """

    def __init__(
        self,
        weight_quantizer: Quantizer | None = None,
        activation_quantizer: Any = "default",
        block_size: int | None = 128,
    ) -> None:
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError(
                "block_size must be None, -1, or a positive integer. Received: "
                f"block_size={block_size}"
            )
        self.block_size = block_size
        custom = weight_quantizer is not None or activation_quantizer is not None
        if block_size is not None and block_size > 0 and custom:
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel "
                f"quantization, or remove the custom quantizer arguments. Received: "
                f"block_size={block_size}"
            )
        if weight_quantizer is not None:
            if tuple(getattr(weight_quantizer, "value_range", ())) != (-8, 7):
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with value_range="
                    f"(-8, 7). Received: value_range={weight_quantizer.value_range}"
                )
            if weight_quantizer.output_dtype != "int8":
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with output_dtype="
                    f"'int8'. Received: output_dtype={weight_quantizer.output_dtype}"
                )

    @property
    def mode(self) -> str:
        return "int4"

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Int4QuantizationConfig:
        return cls(
            weight_quantizer=_deserialize(config.get("weight_quantizer")),
            activation_quantizer=_deserialize(config.get("activation_quantizer")),
            block_size=config.get("block_size"),
        )


class Float8QuantizationConfig(QuantizationConfig):
    """float8 (e4m3 forward, e5m2 gradients) with delayed scaling; takes no quantizers."""

    def __init__(self) -> None:
        super().__init__(None, None)

    @property
    def mode(self) -> str:
        return "float8"

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Float8QuantizationConfig:
        return cls()


def _check_positive(owner: str, **values: int) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{owner}: {name} must be a positive integer; got {value!r}")


def _check_group_size(owner: str, group_size: int) -> None:
    if group_size < -1 or group_size == 0:
        raise ValueError(
            f"{owner}: invalid group_size {group_size}. Supported values are -1 (one group) or "
            "a positive integer."
        )


class GPTQConfig(QuantizationConfig):
    """Keras' GPTQ settings (calibration data, bits, groups). lamina keeps the config so
    that it round-trips; quantizing with it is not supported (see `Dense.quantize`)."""

    def __init__(
        self,
        dataset: Any,
        tokenizer: Any,
        *,
        weight_bits: int = 4,
        num_samples: int = 128,
        per_channel: bool = True,
        sequence_length: int = 512,
        hessian_damping: float = 0.01,
        group_size: int = 128,
        symmetric: bool = False,
        activation_order: bool = False,
        quantization_layer_structure: dict | None = None,
    ) -> None:
        super().__init__()
        if weight_bits not in (2, 3, 4, 8):
            raise ValueError(
                f"Unsupported weight_bits {weight_bits}. Supported values are 2, 3, 4, and 8."
            )
        _check_positive("GPTQConfig", num_samples=num_samples, sequence_length=sequence_length)
        if not 0 <= hessian_damping <= 1:
            raise ValueError("hessian_damping must be between 0 and 1.")
        _check_group_size("GPTQConfig", group_size)
        self.dataset, self.tokenizer = dataset, tokenizer
        self.weight_bits, self.num_samples = weight_bits, num_samples
        self.per_channel, self.sequence_length = per_channel, sequence_length
        self.hessian_damping, self.group_size = hessian_damping, group_size
        self.symmetric, self.activation_order = symmetric, activation_order
        self.quantization_layer_structure = quantization_layer_structure

    @property
    def mode(self) -> str:
        return "gptq"

    def dtype_policy_string(self) -> str:
        return f"gptq/{self.weight_bits}/{self.group_size}"

    def get_config(self) -> dict[str, Any]:
        keys = [
            "weight_bits",
            "num_samples",
            "per_channel",
            "sequence_length",
            "hessian_damping",
            "group_size",
            "symmetric",
            "activation_order",
            "quantization_layer_structure",
        ]
        return {"dataset": None, "tokenizer": None, **{k: getattr(self, k) for k in keys}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GPTQConfig:
        return cls(**config)


class AWQConfig(QuantizationConfig):
    """Keras' AWQ settings (4-bit only). Kept so that it round-trips; quantizing with it is
    not supported."""

    def __init__(
        self,
        dataset: Any,
        tokenizer: Any,
        *,
        weight_bits: int = 4,
        num_samples: int = 128,
        sequence_length: int = 512,
        group_size: int = 128,
        num_grid_points: int = 20,
        quantization_layer_structure: dict | None = None,
    ) -> None:
        super().__init__()
        if weight_bits != 4:
            raise ValueError(
                f"AWQ only supports 4-bit quantization. Received weight_bits={weight_bits}."
            )
        _check_positive(
            "AWQConfig",
            num_samples=num_samples,
            sequence_length=sequence_length,
            num_grid_points=num_grid_points,
        )
        _check_group_size("AWQConfig", group_size)
        self.dataset, self.tokenizer = dataset, tokenizer
        self.weight_bits, self.num_samples = weight_bits, num_samples
        self.sequence_length, self.group_size = sequence_length, group_size
        self.num_grid_points = num_grid_points
        self.quantization_layer_structure = quantization_layer_structure

    @property
    def mode(self) -> str:
        return "awq"

    def dtype_policy_string(self) -> str:
        return f"awq/{self.weight_bits}/{self.group_size}"

    def get_config(self) -> dict[str, Any]:
        keys = [
            "weight_bits",
            "num_samples",
            "sequence_length",
            "group_size",
            "num_grid_points",
            "quantization_layer_structure",
        ]
        return {"dataset": None, "tokenizer": None, **{k: getattr(self, k) for k in keys}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AWQConfig:
        return cls(**config)


def _check_mode(mode: Any) -> None:
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError(
            f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. Received: "
            f"mode={mode}"
        )


def validate_and_resolve_config(mode: str | None, config: Any) -> QuantizationConfig:
    """The config `quantize(mode, config)` uses: the mode's default config when `config` is
    None; a string `config` is read as the mode; contradictions raise."""
    if isinstance(config, str):
        mode, config = config, None
    _check_mode(mode)
    if config is None:
        defaults = {
            "int8": Int8QuantizationConfig,
            "int4": Int4QuantizationConfig,
            "float8": Float8QuantizationConfig,
        }
        if mode in ("gptq", "awq"):
            name = "GPTQConfig" if mode == "gptq" else "AWQConfig"
            raise ValueError(f"For {mode.upper()}, you must pass a `{name}` object in `config`.")
        if mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        return defaults[mode]()
    if not isinstance(config, QuantizationConfig):
        raise ValueError(
            "Argument `config` must be an instance of `QuantizationConfig`. Received: "
            f"config={config} (of type {type(config)})"
        )
    if mode is not None and config.mode != mode:
        raise ValueError(f"Contradictory arguments: mode='{mode}' but config.mode='{config.mode}'")
    _check_mode(config.mode)
    return config
