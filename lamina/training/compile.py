"""What `compile(optimizer, loss, metrics, loss_weights)` resolves to, for one output.

The loss and metric names are resolved here; 'accuracy' is resolved on the first batch, when
the shapes of the targets and predictions are known (as Keras does).
"""

from __future__ import annotations

from typing import Any

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers

__all__ = ["CompileState"]

_ACCURACY_NAMES = ("accuracy", "acc")
_CROSSENTROPY_ACTIVATION = {
    "CategoricalCrossentropy": "softmax",
    "SparseCategoricalCrossentropy": "softmax",
    "BinaryCrossentropy": "sigmoid",
}


class CompileState:
    """Everything `compile` was given, resolved to objects."""

    def __init__(
        self,
        optimizer: Any,
        loss: Any,
        loss_weights: Any,
        metrics: Any,
        weighted_metrics: Any,
        jit_compile: bool | str,
        steps_per_execution: int,
    ) -> None:
        self.optimizer = optimizers.get(optimizer)
        if isinstance(loss, (list, tuple, dict)):
            raise NotImplementedError(
                "A loss per output (a list or dict of losses) needs a model with several "
                "outputs; lamina's multi-output training is not available yet"
            )
        self.loss_identifier = loss
        self.loss = None if loss is None else losses_module.get(loss)
        if loss_weights is not None and not isinstance(loss_weights, (int, float)):
            raise NotImplementedError("loss_weights per output needs a multi-output model")
        self.loss_weight = 1.0 if loss_weights is None else float(loss_weights)
        self.metric_identifiers = self._as_list(metrics, "metrics")
        self.weighted_metric_identifiers = self._as_list(weighted_metrics, "weighted_metrics")
        # Resolve names now so that a typo fails at compile time, not after the first batch.
        for identifier in self.metric_identifiers + self.weighted_metric_identifiers:
            if not (isinstance(identifier, str) and identifier in _ACCURACY_NAMES):
                metrics_module.get(identifier)
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}")
        self.jit_compile = jit_compile
        self.steps_per_execution = steps_per_execution
        self.metrics: list[Any] | None = None
        self.weighted_metrics: list[Any] | None = None

    @staticmethod
    def _as_list(value: Any, name: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, dict):
            raise NotImplementedError(f"{name} per output needs a multi-output model")
        if isinstance(value, (list, tuple)):
            return list(value)
        return [value]

    def logits_activation(self, model_activation: str | None) -> str | None:
        """The activation whose logits the loss should read, when that is stable and equal."""
        if model_activation is None or self.loss is None:
            return None
        expected = _CROSSENTROPY_ACTIVATION.get(type(self.loss).__name__)
        if expected != model_activation or getattr(self.loss, "from_logits", True):
            return None
        return expected

    def build_metrics(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, device: torch.device
    ) -> None:
        """Create the metric objects once the first batch shows the shapes."""
        if self.metrics is not None:
            return

        def make(identifier: Any) -> Any:
            if isinstance(identifier, str) and identifier in _ACCURACY_NAMES:
                return metrics_module.resolve_accuracy(
                    identifier, self.loss, tuple(y_true.shape), tuple(y_pred.shape)
                )
            return metrics_module.get(identifier)

        self.metrics = [make(m).to(device) for m in self.metric_identifiers]
        self.weighted_metrics = [make(m).to(device) for m in self.weighted_metric_identifiers]

    def all_metrics(self) -> list[Any]:
        return (self.metrics or []) + (self.weighted_metrics or [])
