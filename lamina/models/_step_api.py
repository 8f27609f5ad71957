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
        trainer = self._step_trainer("compute_metrics")
        trainer.build_metrics_from(y, y_pred)
        y_list = trainer.per_output(y, "y")
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
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """The current result of every metric in `metrics`, by its log name."""
        trainer = self._trainer
        if trainer is None or type(self).metrics is not StepAPI.metrics:
            return {metric.name: metric.result() for metric in self.metrics}
        results: dict[str, Any] = {"loss": trainer.loss_tracker.result()}
        for key, metric, _ in trainer.state.all_metrics():
            results[key] = metric.result()
        return results

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker (a `Mean` named 'loss', the running loss of the epoch) and the
        compiled metric objects (made on the first batch), as Keras lists them for a
        custom step to update: `metric.update_state(loss)` for the first,
        `metric.update_state(y, y_pred)` for the others."""
        trainer = self._trainer
        if trainer is None:
            return []
        compiled = [
            metric if weighted else _Unweighted(metric)
            for _, metric, weighted in trainer.state.all_metrics()
        ]
        return [trainer.loss_tracker, *compiled]

    def _step_trainer(self, what: str) -> Any:
        if self._trainer is None:
            raise ValueError(
                f"You must call compile() before {what}(): model '{getattr(self, 'name', '')}' "
                "has no optimizer or loss yet"
            )
        return self._trainer


class _Unweighted:
    """A metric compiled with `metrics=` as a custom step sees it in `model.metrics`:
    `update_state(y, y_pred, sample_weight=...)` ignores the weights, as Keras' compiled
    metrics do (those of `weighted_metrics=` use them); everything else is the metric's."""

    def __init__(self, metric: Any) -> None:
        self.__dict__["_metric"] = metric

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return self._metric.update_state(y_true, y_pred)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._metric, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._metric, name, value)

    def __eq__(self, other: Any) -> bool:
        return other is self or other is self._metric

    def __hash__(self) -> int:
        return hash(self._metric)
