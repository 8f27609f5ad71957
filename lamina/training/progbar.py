"""What fit's progress bar and callbacks see of the logs: Keras' number and time formats, the
order of the log names, and batch logs read from the device only when someone looks.

The bar itself is `lamina.utils.Progbar` (Keras' output, byte for byte), driven by
`lamina.callbacks.ProgbarLogger`; it reads a batch's logs only when it draws a line (at most
every `interval` seconds), so the bar adds no host synchronisation per step.

>>> keras_log_order({"mae": 1, "loss": 2, "compile_metrics": {"b": 3, "a": 4}})
['a', 'b', 'loss', 'mae']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["LazyLogs", "format_logs", "keras_log_order"]


def _format_time(seconds: float) -> str:
    """Keras' estimated time left: h:mm:ss past an hour, m:ss past a minute, else seconds."""
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds: float, unit_name: str = "step") -> str:
    """Keras' time per step: '0s/step' for none at all, else s, ms or us."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_value(value: Any, signed: bool = False) -> str:
    """Keras' number format: 4 decimals above 1e-3, scientific notation otherwise (zero is
    '0.0000e+00'); `signed` compares the value itself, as Keras' verbose=2 summary does, so
    negative values print in scientific notation there."""
    value = float(value)
    return f"{value:.4f}" if (value if signed else abs(value)) > 1e-3 else f"{value:.4e}"


def format_logs(logs: Mapping[str, Any], signed: bool = False) -> str:
    """' - accuracy: 0.9100 - loss: 0.2900': the logs in sorted order, as Keras' bar shows
    a compiled model's logs."""
    return "".join(f" - {key}: {_format_value(logs[key], signed)}" for key in sorted(logs))


def keras_log_order(logs: Mapping[str, Any]) -> list[str]:
    """The order in which Keras hands a step's logs to callbacks, the bar and History: names
    sorted, a nested dict (a custom `train_step` returning `{m.name: m.result() ...}`, where
    'compile_metrics' is a dict) flattened where its own name sorts, each name once."""
    order: dict[str, None] = {}
    for key in sorted(logs):
        value = logs[key]
        if isinstance(value, Mapping):
            order.update(dict.fromkeys(keras_log_order(value)))
        else:
            order[key] = None
    return list(order)


class LazyLogs(Mapping[str, float]):
    """Batch logs whose values are read from the device only if a callback looks at them.

    Args:
        read: returns the logs as floats (one device read); called at most once per batch.
    """

    def __init__(self, read: Any) -> None:
        self._read_logs = read
        self._values: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._values is None:
            self._values = self._read_logs()
        return self._values

    def __getitem__(self, key: str) -> float:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())
