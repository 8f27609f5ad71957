"""The train, test and predict steps and the epoch loop behind fit / evaluate / predict.

The train step is one function (forward, loss, backward, optimizer step, metric updates) that
runs entirely on the device: the loss and metrics accumulate in device tensors and are read
back only when the progress bar draws or an epoch ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from .. import config
from ..callbacks.callback import Callback, CallbackList
from ..layers._symbolic import flatten_structure, map_structure
from ..losses import validate_targets
from ._data_adapters import (
    evaluation_batches,
    prediction_batches,
    training_batches,
    validation_batches,
)
from .adapters import apply_class_weight, arrays_to_device, concatenate_outputs
from .compile import CompileState

__all__ = ["Trainer"]


class _LazyLogs(Mapping[str, float]):
    """Batch logs whose values are read from the device only if a callback looks at them."""

    def __init__(self, trainer: Trainer) -> None:
        self._trainer = trainer
        self._values: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._values is None:
            self._values = self._trainer.results()
        return self._values

    def __getitem__(self, key: str) -> float:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def _batch_size_of(x: Any) -> int:
    return int(flatten_structure(x)[0].shape[0])


class Trainer:
    """Runs the steps for one compiled model."""

    def __init__(self, model: Any, state: CompileState) -> None:
        self.model = model
        self.state = state
        self.device = config.device()
        self._loss_sum = torch.zeros((), device=self.device)
        self._count = torch.zeros((), device=self.device)
        outputs = 1 if state is None else sum(spec.loss is not None for spec in state.outputs)
        self._output_loss_sums = torch.zeros(max(outputs, 1), device=self.device)
        self._logits_activation: str | None = None
        self._regularized: list[Any] = []
        self._activity_layers: list[Any] = []
        self._train_step_fn = self._train_step
        self._compiled = False
        self._pending_metric_state: dict[str, torch.Tensor] = {}
        # Set during fit, for callbacks that save the training state (BackupAndRestore).
        self.callback_list: CallbackList | None = None
        self.epoch_rng: Any = None

    # ------------------------------------------------------------------ setup

    def prepare(self, x: Any) -> None:
        """Build the model from the data's shape, move it to the device, set the optimizer up."""
        model = self.model
        if not model.built:
            model.build(model._shapes_of(x))
        model.to(self.device)
        self._loss_sum = self._loss_sum.to(self.device)
        self._count = self._count.to(self.device)
        self._output_loss_sums = self._output_loss_sums.to(self.device)
        params = [p for p in model.parameters() if p.requires_grad]
        self.state.optimizer.build(params)
        self._logits_activation = self.state.logits_activation(
            getattr(model, "output_activation", None)
        )
        self._regularized = [
            (info.regularizer, tensor)
            for owner, _, tensor, info in model._all_weights()
            if info.regularizer is not None and owner.trainable
        ]
        self._activity_layers = [
            m for m in model.modules() if getattr(m, "activity_regularizer", None) is not None
        ]
        if self.state.jit_compile is True and not self._compiled:
            self._train_step_fn = torch.compile(self._train_step)
            self._compiled = True

    def validate_targets(self, x: Any, y: Any) -> None:
        """Check the labels against each output's loss and shape once per fit."""
        if y is None or all(spec.loss is None for spec in self.state.outputs):
            return
        with torch.no_grad():
            sample_x = map_structure(lambda t: None if t is None else t[:2], x)
            predictions = self.per_output(self.model(sample_x, training=False), "predictions")
        targets = self.per_output(y, "y")
        for spec, target, prediction in zip(self.state.outputs, targets, predictions, strict=True):
            if spec.loss is not None and isinstance(target, torch.Tensor):
                validate_targets(spec.loss, target, tuple(prediction.shape))

    def per_output(self, value: Any, what: str) -> list[Any]:
        """A target or prediction structure as a list in the order of the compiled outputs."""
        specs = self.state.outputs
        if not self.state.multi_output:
            return [value]
        names = [spec.name for spec in specs]
        if isinstance(value, dict):
            missing = sorted(set(names) - set(value))
            if missing:
                raise ValueError(f"{what} has no entry for the outputs {missing}; outputs: {names}")
            return [value[name] for name in names]
        flat = flatten_structure(value)
        if len(flat) != len(names):
            raise ValueError(
                f"The model has {len(names)} outputs ({', '.join(names)}); {what} holds "
                f"{len(flat)} array(s). Pass a list in output order or a dict by output name."
            )
        return flat

    def _per_output_weights(self, sample_weight: Any) -> list[Any]:
        """One sample-weight array for all outputs, or a list/dict with one per output."""
        if self.state.multi_output and isinstance(sample_weight, (list, tuple, dict)):
            return self.per_output(sample_weight, "sample_weight")
        return [sample_weight] * len(self.state.outputs)

    # ------------------------------------------------------------------ losses and metrics

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if self._logits_activation is not None:
            return self.model.call_with_logits(x, training=training)
        return self.model(x, training=training), None

    def compute_loss(
        self, y: list[Any], y_pred: list[Any], logits: Any, sample_weight: Any, training: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The total loss and each output's unweighted loss (Keras logs those as
        `{output}_loss`); loss weights and penalties go in the total."""
        parts = []
        weights = self._per_output_weights(sample_weight)
        for spec, target, prediction, weight in zip(
            self.state.outputs, y, y_pred, weights, strict=True
        ):
            if spec.loss is None:
                continue
            if logits is not None:
                part = spec.loss.compute_on_logits(target, logits, self._logits_activation, weight)
            else:
                part = spec.loss(target, prediction, sample_weight=weight)
            parts.append(part)
        weights = [spec.weight for spec in self.state.outputs if spec.loss is not None]
        weighted = [p if w == 1.0 else p * w for p, w in zip(parts, weights, strict=True)]
        total = weighted[0] if len(weighted) == 1 else sum(weighted, y_pred[0].new_zeros(()))
        # Keras adds the weight penalties to the loss in evaluation too.
        for regularizer, tensor in self._regularized:
            total = total + regularizer(tensor)
        if training and self._activity_layers:
            for layer in self._activity_layers:
                for penalty in layer._activity_losses:
                    total = total + penalty
                layer._activity_losses.clear()
        return total, parts

    def accumulator_state(self) -> dict[str, torch.Tensor]:
        """The running loss sums and metric states of the current epoch (for exact resume)."""
        state = {
            "loss_sum": self._loss_sum,
            "count": self._count,
            "output_loss_sums": self._output_loss_sums,
        }
        for key, metric, _ in self.state.all_metrics():
            for name in metric._state_names:
                state[f"metric.{key}.{name}"] = getattr(metric, name)
        return state

    def restore_accumulators(self, state: dict[str, torch.Tensor]) -> None:
        """Inverse of `accumulator_state`; metric states wait for the metrics to be built."""
        with torch.no_grad():
            for name in ("loss_sum", "count", "output_loss_sums"):
                getattr(self, "_" + name).copy_(state[name])
        self._pending_metric_state = {k: v for k, v in state.items() if k.startswith("metric.")}
        if self.state.metrics_built:
            self._apply_metric_state()

    def _apply_metric_state(self) -> None:
        pending, self._pending_metric_state = self._pending_metric_state, {}
        with torch.no_grad():
            for key, metric, _ in self.state.all_metrics():
                for name in metric._state_names:
                    value = pending.get(f"metric.{key}.{name}")
                    if value is not None:
                        getattr(metric, name).copy_(value)

    def reset_metrics(self) -> None:
        self._loss_sum.zero_()
        self._count.zero_()
        self._output_loss_sums.zero_()
        for _, metric, _ in self.state.all_metrics():
            metric.reset_state()

    def _update_metrics(
        self,
        loss: torch.Tensor,
        parts: list[torch.Tensor],
        y: list[Any],
        y_pred: list[Any],
        sample_weight: Any,
        batch: int,
    ) -> None:
        self._loss_sum += loss.detach() * batch
        self._count += batch
        if self.state.multi_output and parts:
            self._output_loss_sums += torch.stack([p.detach() for p in parts]) * batch
        weights = self._per_output_weights(sample_weight)
        for spec, target, prediction, weight in zip(
            self.state.outputs, y, y_pred, weights, strict=True
        ):
            if target is None:
                continue
            prediction = prediction.detach()
            for _, metric, weighted in spec.metrics or []:
                if weighted:
                    metric.update_state(target, prediction, sample_weight=weight)
                else:
                    metric.update_state(target, prediction)

    def results(self) -> dict[str, float]:
        """Current loss and metric values as floats (this reads from the device)."""
        count = self._count.clamp(min=1)
        values = {"loss": float(self._loss_sum / count)}
        if self.state.multi_output:
            losses = (self._output_loss_sums / count).tolist()
            named = [spec.name for spec in self.state.outputs if spec.loss is not None]
            values.update(
                {f"{name}_loss": value for name, value in zip(named, losses, strict=False)}
            )
        for key, metric, _ in self.state.all_metrics():
            values[key] = float(metric.result())
        return dict(sorted(values.items()))

    def results_in_order(self, logs: dict[str, float]) -> list[float]:
        """evaluate()'s list: the loss, each output's loss, then the metrics (Keras' order)."""
        ordered = [logs["loss"]]
        if self.state.multi_output:
            ordered += [
                logs[f"{spec.name}_loss"] for spec in self.state.outputs if spec.loss is not None
            ]
        ordered += [logs[key] for key, _, _ in self.state.all_metrics()]
        return ordered

    # ------------------------------------------------------------------ steps

    def _train_step(self, x: Any, y: Any, sample_weight: Any) -> torch.Tensor:
        outputs, logits = self._forward(x, training=True)
        y_list, y_pred = self.per_output(y, "y"), self.per_output(outputs, "predictions")
        loss, parts = self.compute_loss(y_list, y_pred, logits, sample_weight, training=True)
        optimizer = self.state.optimizer
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not self.state.metrics_built:
            self.state.build_metrics(y_list, y_pred, self.device)
            if self._pending_metric_state:
                self._apply_metric_state()
        with torch.no_grad():
            self._update_metrics(loss, parts, y_list, y_pred, sample_weight, _batch_size_of(x))
        return loss

    def test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        outputs, logits = self._forward(x, training=False)
        y_list, y_pred = self.per_output(y, "y"), self.per_output(outputs, "predictions")
        loss, parts = self.compute_loss(y_list, y_pred, logits, sample_weight, training=False)
        if not self.state.metrics_built:
            self.state.build_metrics(y_list, y_pred, self.device)
        self._update_metrics(loss, parts, y_list, y_pred, sample_weight, _batch_size_of(x))

    # ------------------------------------------------------------------ loops

    def fit(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        epochs: int,
        verbose: int,
        callbacks: list[Callback],
        validation_split: float,
        validation_data: Any,
        shuffle: bool,
        class_weight: dict[int, float] | None,
        sample_weight: Any,
        initial_epoch: int,
        steps_per_epoch: int | None,
        validation_steps: int | None,
        validation_batch_size: int | None,
        validation_freq: int,
    ) -> Any:
        batches, (sample_x, sample_y), validation_data = training_batches(
            self.device,
            x,
            y,
            sample_weight,
            batch_size,
            shuffle,
            steps_per_epoch,
            class_weight,
            validation_split,
            validation_data,
        )
        self.prepare(sample_x)
        self.validate_targets(sample_x, sample_y)
        validation = validation_batches(
            self.device,
            validation_data,
            validation_batch_size or batch_size,
            validation_steps,
            runs=(epochs - initial_epoch) // validation_freq,
        )

        model = self.model
        model.stop_training = False
        callback_list = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=model,
            verbose=verbose,
            epochs=epochs,
            steps=batches.steps,
        )
        self.callback_list = callback_list
        model._initial_epoch = None
        model._resume_position = None
        callback_list.on_train_begin()
        # A callback (BackupAndRestore) may have restored an interrupted run.
        initial_epoch = model._initial_epoch or initial_epoch
        resume, model._resume_position = model._resume_position, None
        getattr(batches, "release_peek", lambda: None)()
        epoch_logs: dict[str, float] = {}
        lazy = _LazyLogs(self)
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            model.train()
            callback_list.on_epoch_begin(epoch)
            iterator = self._epoch_batches(batches, resume if epoch == initial_epoch else None)
            for step, (bx, by, bw) in iterator:
                callback_list.on_train_batch_begin(step)
                self._train_step_fn(bx, by, bw)
                lazy._values = None
                callback_list.on_train_batch_end(step, lazy)
                if model.stop_training:
                    break
            model.eval()
            if batches.empty_pass:  # a generator ran dry (IteratorBatches warned)
                break
            epoch_logs = self.results()
            if validation is not None and (epoch + 1) % validation_freq == 0:
                validation.rewind()
                val_logs = self.evaluate(callbacks=callback_list, _batches=validation)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                epoch_logs = dict(sorted(epoch_logs.items()))
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        finalize = getattr(self.state.optimizer, "finalize_variable_values", None)
        if finalize is not None:
            finalize([p for p in model.parameters() if p.requires_grad])
        callback_list.on_train_end(epoch_logs)
        return callback_list.history

    def _epoch_batches(self, batches: Any, resume: dict[str, Any] | None) -> Any:
        """The epoch's (step, batch) pairs; when resuming mid-epoch, the same order as the
        interrupted run (drawn again from the epoch's starting random state), from the
        first batch it had not done."""
        from ..saving.training_state import capture_rng, restore_rng

        if not resume or not resume.get("step"):
            self.epoch_rng = capture_rng(self.model)
            return enumerate(batches)
        self.epoch_rng = resume["epoch_rng"]
        restore_rng(*self.epoch_rng, model=self.model)
        iterator = enumerate(batches)
        for _ in range(resume["step"]):
            next(iterator)
        restore_rng(*resume["rng"], model=self.model)
        self.restore_accumulators(resume["accumulators"])
        return iterator

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int = 32,
        verbose: int = 0,
        callbacks: list[Callback] | CallbackList | None = None,
        steps: int | None = None,
        _batches: Any = None,
    ) -> dict[str, float]:
        batches = _batches
        if batches is None:
            batches, sample_x = evaluation_batches(
                self.device, x, y, sample_weight, batch_size, steps
            )
            self.prepare(sample_x)
        if isinstance(callbacks, CallbackList):
            callback_list = callbacks  # validation inside fit: fit's callbacks and params
        else:
            callback_list = CallbackList(
                callbacks,
                add_progbar=verbose != 0,
                model=self.model,
                verbose=verbose,
                steps=batches.steps,
            )
        self.reset_metrics()
        self.model.eval()
        callback_list.on_test_begin()
        lazy = _LazyLogs(self)
        with torch.no_grad():
            for step, (bx, by, bw) in enumerate(batches):
                callback_list.on_test_batch_begin(step)
                self.test_step(bx, by, bw)
                lazy._values = None
                callback_list.on_test_batch_end(step, lazy)
        if batches.empty_pass:
            raise ValueError(
                "evaluate() got no batches: the generator is exhausted. Pass a new generator, "
                "or a re-iterable input (a lamina.data.Dataset, a torch DataLoader)."
            )
        logs = self.results()
        callback_list.on_test_end(logs)
        return logs

    def predict(
        self,
        x: Any,
        batch_size: int,
        verbose: int,
        callbacks: list[Callback] | None,
        steps: int | None,
    ) -> Any:
        batches, sample_x = prediction_batches(self.device, x, batch_size, steps)
        model = self.model
        if not model.built:
            model.build(model._shapes_of(sample_x))
        model.to(self.device)
        model.eval()
        callback_list = CallbackList(
            callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, steps=batches.steps
        )
        callback_list.on_predict_begin()
        outputs: list[Any] = []
        with torch.inference_mode():
            for step, (bx, _, _) in enumerate(batches):
                callback_list.on_predict_batch_begin(step)
                outputs.append(model(bx, training=False))
                callback_list.on_predict_batch_end(step)
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict() got no batches: the generator is exhausted")
        return concatenate_outputs(outputs)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any, class_weight: dict[int, float] | None
    ) -> dict[str, float]:
        x, y, sample_weight = arrays_to_device(self.device, x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sample_weight = apply_class_weight(y, class_weight, sample_weight)
        self.prepare(x)
        self.model.train()
        self._train_step_fn(x, y, sample_weight)
        self.model.eval()
        return self.results()

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any) -> dict[str, float]:
        x, y, sample_weight = arrays_to_device(self.device, x, y, sample_weight, "test_on_batch")
        self.prepare(x)
        self.reset_metrics()
        self.model.eval()
        with torch.no_grad():
            self.test_step(x, y, sample_weight)
        return self.results()
