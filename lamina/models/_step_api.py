"""Keras 3's step API on `Model`: `train_step`, `test_step` and `predict_step` to override,
and what such a step calls: `compute_loss`, `compute_metrics`, `get_metrics_result`,
`metrics` (the loss tracker first, then the compiled metrics) and `optimizer.apply`.

A subclass written for Keras' torch backend runs unchanged:

>>> import torch, lamina
>>> class Custom(lamina.Model):
...     def __init__(self):
...         super().__init__()
...         self.dense = lamina.layers.Dense(1)
...     def call(self, x):
...         return self.dense(x)
...     def train_step(self, data):
...         x, y = data
...         self.zero_grad()
...         loss = self.compute_loss(y=y, y_pred=self(x, training=True))
...         loss.backward()
...         grads = [v.grad for v in self.trainable_weights]
...         with torch.no_grad():
...             self.optimizer.apply(grads, self.trainable_weights)
...         for metric in self.metrics:
...             metric.update_state(loss) if metric.name == "loss" else None
...         return {m.name: m.result() for m in self.metrics}
>>> model = Custom()
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(torch.ones(8, 2), torch.ones(8, 1), epochs=2, verbose=0)
>>> sorted(history.history)
['loss']
"""

from __future__ import annotations

from typing import Any

import torch

from ..training.data_packing import unpack_x_y_sample_weight

__all__ = ["StepAPI"]


class StepAPI:
    """Mixed into `Model`: Keras' overridable steps and the helpers they use."""

    _trainer: Any
    _compile_state: Any

    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on `data` (`(x, y)` or `(x, y, sample_weight)`); returns the
        logs. Override it to change what `fit` does per batch, as in Keras; lamina's own
        step (this one) is what `fit` runs otherwise, compiled with `jit_compile=True`."""
        trainer = self._step_trainer("train_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        trainer._train_step(x, y, sample_weight)
        return self.get_metrics_result()

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on `data`; returns the logs (override to customize)."""
        trainer = self._step_trainer("test_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        trainer._test_step(x, y, sample_weight)
        return self.get_metrics_result()

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch `data` (`(x,)`, or x); override to customize."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The compiled loss of `y_pred` against `y` (loss weights, weight penalties and, in
        training, activity penalties included), as a tensor to call `backward()` on."""
        trainer = self._step_trainer("compute_loss")
        if y_pred is None:
            y_pred = self(x, training=training)
        y_list = trainer.per_output(y, "y")
        pred_list = trainer.per_output(y_pred, "predictions")
        loss, _ = trainer.compute_loss(y_list, pred_list, None, sample_weight, training)
        return loss

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Update the compiled metrics with this batch; returns `get_metrics_result()`."""
        CompileMetrics(self._step_trainer("compute_metrics")).update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """The current result of every metric in `metrics`, by its log name (a metric whose
        result is a dict, such as 'compile_metrics', gives its entries)."""
        results: dict[str, Any] = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                results.update(result)
            else:
                results[metric.name] = result
        return results

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker (a `Mean` named 'loss', the running loss of the epoch) and, when
        compile() was given metrics, Keras' 'compile_metrics': one object whose
        `update_state(y, y_pred)` updates every compiled metric and whose `result()` is a
        dict by log name. A custom step updates the first with `update_state(loss)`, the
        second with `update_state(y, y_pred)`."""
        trainer = self._trainer
        if trainer is None:
            return []
        configured = any(
            spec.metric_identifiers or spec.weighted_metric_identifiers
            for spec in trainer.state.outputs
        )
        return (
            [trainer.loss_tracker, CompileMetrics(trainer)]
            if configured
            else [trainer.loss_tracker]
        )

    def _step_trainer(self, what: str) -> Any:
        if self._trainer is None:
            raise ValueError(
                f"You must call compile() before {what}(): model '{getattr(self, 'name', '')}' "
                "has no optimizer or loss yet"
            )
        return self._trainer


class CompileMetrics:
    """Keras' 'compile_metrics': the compiled metrics as one metric of `model.metrics`.

    `metrics` lists the metric objects (made on the first batch); `update_state(y_true,
    y_pred, sample_weight=None)` updates them all (those of `weighted_metrics=` with the
    sample weights, the others without), `result()` is a dict by log name, and
    `reset_state()` resets them.
    """

    name = "compile_metrics"

    def __init__(self, trainer: Any) -> None:
        self._trainer = trainer

    @property
    def metrics(self) -> list[Any]:
        return [metric for _, metric, _ in self._trainer.state.all_metrics()]

    @property
    def variables(self) -> list[torch.Tensor]:
        return [v for metric in self.metrics for v in metric.variables]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        trainer = self._trainer
        trainer.build_metrics_from(y_true, y_pred)
        y_list = trainer.per_output(y_true, "y")
        pred_list = trainer.per_output(y_pred, "predictions")
        weights = trainer._per_output_weights(sample_weight)
        for spec, target, prediction, weight in zip(
            trainer.state.outputs, y_list, pred_list, weights, strict=True
        ):
            if target is None:
                continue
            for _, metric, weighted in spec.metrics or []:
                if weighted:
                    metric.update_state(target, prediction.detach(), sample_weight=weight)
                else:
                    metric.update_state(target, prediction.detach())

    def result(self) -> dict[str, Any]:
        return {key: metric.result() for key, metric, _ in self._trainer.state.all_metrics()}

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError("compile_metrics has no config (as in Keras)")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CompileMetrics) and other._trainer is self._trainer

    def __hash__(self) -> int:
        return hash(id(self._trainer))

    def __repr__(self) -> str:
        return "<CompileMetrics name=compile_metrics>"  # as Keras' (its `.metrics` lists them)
