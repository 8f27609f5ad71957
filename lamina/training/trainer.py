"""The epoch loops behind fit / evaluate / predict (the steps are in `steps.py`). They hand
batches already on the device to the steps and read the loss and metrics back only when the
progress bar draws, a callback asks, or an epoch ends.

In a distributed run (torchrun, see `lamina.distribution`) the forward pass runs in
DistributedDataParallel, `batch_size` is the global batch, each process steps on its part of
it, and logs are summed over processes at epoch ends, validation ends and in `evaluate`'s
result; batch logs are this process's own running values (global ones would need every
process to read at the same batches).
"""

from __future__ import annotations

from typing import Any

import torch

from .. import config
from ..callbacks.callback import Callback, CallbackList, ProgbarLogger
from ..layers._symbolic import map_structure
from ..layers._variables import discarding_updates
from ..layers._weights import tensors_on
from ..layers.batch_normalization import padding_step
from ..losses import validate_targets
from ..metrics.metric import Mean
from . import distributed
from ._data_adapters import (
    evaluation_batches,
    prediction_batches,
    training_batches,
    validation_batches,
)
from .adapters import ArrayBatches, apply_class_weight, arrays_to_device, concatenate_outputs
from .auto_jit import AutoJit
from .compile import CompileState
from .custom_steps import build_for_fit, whole_batch_data
from .epoch_iterator import EpochIterator, capped_count, validates
from .jit import GuardPasses
from .progbar import LazyLogs as _LazyLogs
from .progbar import keras_log_order
from .steps import ForwardModule, StepFunctions

__all__ = ["Trainer"]


class Trainer(StepFunctions):
    """Runs the steps for one compiled model."""

    def __init__(self, model: Any, state: CompileState) -> None:
        self.model = model
        self.state = state
        self.device = config.device()
        self._loss_sum = torch.zeros((), device=self.device)
        self._count = torch.zeros((), device=self.device)
        # model.metrics[0], Keras' loss tracker: a Mean whose state is the running loss sums.
        self.loss_tracker = Mean(name="loss")
        self.loss_tracker.total, self.loss_tracker.count = self._loss_sum, self._count
        outputs = 1 if state is None else sum(spec.loss is not None for spec in state.outputs)
        self._output_loss_sums = torch.zeros(max(outputs, 1), device=self.device)
        self._logits_activation: str | None = None
        self._regularized: list[Any] = []
        self._activity_layers: list[Any] = []
        self.forward_module: Any = None
        self._train_step_fn = self._train_step
        self._static_marked: set[int] = set()  # accumulators marked static for CUDA graphs
        self.guard_passes = GuardPasses()
        self.auto_jit = AutoJit(self)  # jit_compile='auto': measured (training.auto_jit)
        self._pending_metric_state: dict[str, torch.Tensor] = {}
        # Set during fit, for callbacks that save the training state (BackupAndRestore).
        self.callback_list: CallbackList | None = None
        self.epoch_rng: Any = None
        # Distributed runs: the gradient weight of this process, the key of the wrapped
        # forward module (rebuilt when the trainable parameters change), local-logs flag.
        self._share: distributed.GradientShare | None = None
        self._ddp_key: tuple[Any, ...] | None = None
        self._local_totals = False

    def _local_results(self) -> dict[str, float]:
        """`results()` of this process alone (batch logs: read at different times)."""
        self._local_totals = True
        try:
            return self.results()
        finally:
            self._local_totals = False

    def custom_results(self) -> dict[str, float] | None:
        """A model's own step's logs, in the order Keras hands them on (`keras_log_order`)."""
        logs = super().custom_results()
        return None if logs is None else {k: logs[k] for k in keras_log_order(self._custom_logs)}

    def _shard(self) -> tuple[int, int] | None:
        """(rank, world size) under torchrun (its group joined, its GPU the device), else None."""
        if not distributed.init_from_environment():
            return None
        self.device = distributed.local_device(self.device)
        return distributed.rank(), distributed.world_size()

    # ------------------------------------------------------------------ setup

    def prepare(self, x: Any) -> None:
        """Build the model from the data's shape, move it to the device, set the optimizer up."""
        model = self.model
        if not model.built:
            build_for_fit(model, x)
        if not tensors_on(model, self.device):
            model.to(self.device)
        self.state.check_has_loss(model)  # fit/evaluate only: Keras' error at the first step
        self.setup_steps()  # memory format, loss scaling, compiled steps (steps.py)
        self._loss_sum = self._loss_sum.to(self.device)
        self._count = self._count.to(self.device)
        self._output_loss_sums = self._output_loss_sums.to(self.device)
        params = [p for p in model.parameters() if p.requires_grad] if model.trainable else []
        self.state.optimizer.build(params)
        self._logits_activation = self.state.logits_activation(
            getattr(model, "output_activation", None)
        )
        if distributed.is_distributed():
            key = (self._logits_activation, self.device, *map(id, params))
            if key != self._ddp_key:
                forward = ForwardModule(model, self._logits_activation)
                self.forward_module, self._share = distributed.wrap_module(forward, self.device)
                self._ddp_key = key
        else:
            # Kept across fit calls, so compiled steps (which guard on it) are reused.
            current = self.forward_module
            if not (
                isinstance(current, ForwardModule)
                and current.logits_activation == self._logits_activation
            ):
                self.forward_module = ForwardModule(model, self._logits_activation)
            self._share, self._ddp_key = None, None
        self._regularized = [
            (info.regularizer, tensor)
            for owner, _, tensor, info in model._all_weights()
            if info.regularizer is not None and owner.trainable
        ]
        self._activity_layers = [
            m for m in model.modules() if getattr(m, "activity_regularizer", None) is not None
        ]

    def validate_targets(self, x: Any, y: Any) -> None:
        """Check the labels against each output's loss and shape once per fit."""
        if y is None or all(spec.loss is None for spec in self.state.outputs):
            return
        shapes = self._known_output_shapes(x)
        if shapes is None:
            with torch.no_grad(), discarding_updates():  # a probe: no counter moves
                sample_x = map_structure(lambda t: None if t is None else t[:2], x)
                outputs = self.model(sample_x, training=False)
            shapes = [tuple(p.shape) for p in self.per_output(outputs, "predictions")]
        targets = self.per_output(y, "y")
        for spec, target, shape in zip(self.state.outputs, targets, shapes, strict=True):
            if spec.loss is not None and isinstance(target, torch.Tensor):
                validate_targets(spec.loss, target, shape)

    def _known_output_shapes(self, x: Any) -> list[tuple[int | None, ...]] | None:
        """A graph model's output shapes (compiled outputs' order) when its one input has the
        shape it was built for; else None (`validate_targets` then runs two samples)."""
        inputs = getattr(self.model, "inputs", None)
        outputs = getattr(self.model, "outputs", None)
        if not inputs or not outputs or len(inputs) != 1 or not isinstance(x, torch.Tensor):
            return None
        expected = tuple(inputs[0].shape[1:])
        if None in expected or tuple(x.shape[1:]) != expected:
            return None
        try:
            tensors = self.per_output(getattr(self.model, "output", outputs), "outputs")
        except ValueError:
            return None
        shapes = [tuple(t.shape) for t in tensors]
        if any(not shape or shape[-1] is None for shape in shapes):
            return None
        return shapes

    # ------------------------------------------------------------------ loops

    def fit(
        self,
        x: Any,
        y: Any,
        batch_size: int | None,
        epochs: int,
        verbose: int | str,
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
        validation_freq: int | list[int],
    ) -> Any:
        epochs = capped_count(epochs, steps=False)
        steps_per_epoch = capped_count(steps_per_epoch)
        if validation_data is not None or validation_split:
            validation_steps = capped_count(validation_steps)
        shard = self._shard()
        if shard is not None and shard[0] != 0:
            verbose = 0  # only process 0 prints the progress bar
        batches, sample, validation_data = training_batches(
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
            shard,
        )
        if sample is None and self._needs_sample():
            sample = batches.first_batch()[:2]  # Keras reads one batch to build the model
        sample_x, sample_y = sample or (None, None)
        self.prepare(sample_x)
        self.validate_targets(sample_x, sample_y)
        batches.reset()
        validation = None  # made at the first validation run, as Keras does

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
        model._initial_epoch = model._resume_position = None
        callback_list.on_train_begin()
        # A callback (BackupAndRestore) may have restored an interrupted run.
        initial_epoch = model._initial_epoch or initial_epoch
        resume, model._resume_position = model._resume_position, None
        epoch_logs: dict[str, float] = {}
        source = batches.source
        lazy = _LazyLogs(self._local_results)
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            model.train()
            callback_list.on_epoch_begin(epoch)
            self.auto_jit.epoch_begin(epochs - epoch, batches.steps)
            iterator = self._epoch_batches(batches, resume if epoch == initial_epoch else None)
            step = -1
            with self.guard_passes.during("train", callback_list):  # see training.jit
                for step, (bx, by, bw) in iterator:
                    callback_list.on_train_batch_begin(step)
                    self.auto_jit.tick(bx)
                    self._run_step(self._train_step_fn, source, bx, by, bw)
                    lazy._values = None
                    callback_list.on_train_batch_end(step, lazy)
                    if model.stop_training:
                        break
            model.eval()
            # An epoch whose input had run out logs nothing (Keras: no step, no logs).
            epoch_logs = self.results() if step >= 0 else {}
            if validation_data is not None and validates(epoch, validation_freq):
                if validation is None:
                    validation = validation_batches(
                        self.device,
                        validation_data,
                        validation_batch_size or batch_size,
                        validation_steps,
                        shard=shard,
                    )
                step_logs = self._custom_logs or epoch_logs  # evaluate resets them
                logs = self.evaluate(callbacks=callback_list, _batches=validation)
                logs = {**epoch_logs, **{f"val_{k}": v for k, v in logs.items()}}
                epoch_logs = {k: logs[k] for k in keras_log_order({**step_logs, **logs})}
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        self.auto_jit.fit_end()
        finalize = getattr(self.state.optimizer, "finalize_variable_values", None)
        if finalize is not None:
            finalize([p for p in model.parameters() if p.requires_grad])
        callback_list.on_train_end(epoch_logs)
        return callback_list.history

    def _run_step(self, step_fn: Any, batches: Any, x: Any, y: Any, sample_weight: Any) -> None:
        """One train or test step; distributed, with this process's gradient weight set, and
        the loss and metric updates of a padding batch (share 0) undone."""
        share = getattr(batches, "share", None)
        if self._share is None or share is None:
            if self._share is not None:  # each process's own batches: DDP's mean
                self._share.weight = 1.0 / distributed.world_size()
            self._step_maybe_without_sync(step_fn, x, y, sample_weight)
            return
        samples, total = share
        self._share.weight = samples / total
        if samples:
            self._step_maybe_without_sync(step_fn, x, y, sample_weight)
            return
        # An empty part of a batch smaller than the world: the step runs for the collectives,
        # on padding that counts for nothing (loss scale 0, no batch-norm statistics).
        built = self.state.metrics_built
        saved = {name: value.clone() for name, value in self.accumulator_state().items()}
        with padding_step():
            self._step_maybe_without_sync(step_fn, x, y, sample_weight)
        self.restore_accumulators(saved)
        if not built:
            for _, metric, _ in self.state.all_metrics():
                metric.reset_state()

    def _step_maybe_without_sync(self, step_fn: Any, x: Any, y: Any, sample_weight: Any) -> None:
        """A distributed step that only adds to the optimizer's gradient accumulators runs
        under DDP's `no_sync` (no all-reduce); see `StepFunctions._accumulates_locally`."""
        if self._accumulates_locally() == "add":
            with self.forward_module.no_sync():
                step_fn(x, y, sample_weight)
        else:
            step_fn(x, y, sample_weight)

    def _global_totals(
        self,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, list[torch.Tensor]]]:
        """The loss sums, sample count, per-output loss sums and metric states summed over the
        processes (every lamina metric's state is a sum; a max or min would need its own)."""
        if self._local_totals or not distributed.is_distributed():
            return super()._global_totals()
        metrics = [(key, metric) for key, metric, _ in self.state.all_metrics()]
        tensors = [self._loss_sum, self._count, self._output_loss_sums]
        for _, metric in metrics:
            tensors += [getattr(metric, name) for name in metric._state_names]
        summed = distributed.sum_tensors(tensors)
        states, position = {}, 3
        for key, metric in metrics:
            states[key] = summed[position : position + len(metric._state_names)]
            position += len(metric._state_names)
        return summed[0], summed[1], summed[2], states

    def _needs_sample(self) -> bool:
        """Whether a batch must be read before the loop: Keras reads one to build an unbuilt
        model or compiled loss (its symbolic build), and not otherwise."""
        return not self.model.built or (self.state is not None and not self.state.metrics_built)

    def _epoch_batches(self, batches: EpochIterator, resume: dict[str, Any] | None) -> Any:
        """The epoch's (step, batch) pairs; resuming mid-epoch, the interrupted run's order
        (drawn again from the epoch's starting random state) from its first batch not done."""
        from ..saving.training_state import capture_rng, restore_rng

        if not resume or not resume.get("step"):
            self.epoch_rng = capture_rng(self.model)
            return iter(batches)
        self.epoch_rng = resume["epoch_rng"]
        restore_rng(*self.epoch_rng, model=self.model)
        iterator = iter(batches)
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
        batch_size: int | None = None,
        verbose: int | str = 0,
        callbacks: list[Callback] | CallbackList | None = None,
        steps: int | None = None,
        _batches: Any = None,
    ) -> dict[str, float]:
        batches = _batches
        if batches is None:
            steps = capped_count(steps)
            shard = self._shard()
            if shard is not None and shard[0] != 0:
                verbose = 0
            batches, sample_x = evaluation_batches(
                self.device, x, y, sample_weight, batch_size, steps, shard=shard
            )
            if sample_x is None and self._needs_sample():
                sample_x = batches.first_batch()[0]
            self.prepare(sample_x)
        batches.reset()  # Keras resets evaluate's input, fit's validation data at every run
        if isinstance(callbacks, CallbackList):
            callback_list = callbacks  # validation inside fit: fit's callbacks and params
        else:
            callback_list = CallbackList(
                callbacks,
                add_progbar=verbose != 0,
                model=self.model,
                verbose=verbose,
                epochs=1,
                steps=batches.steps,
            )
        self.reset_metrics()
        self.model.eval()
        callback_list.on_test_begin()
        lazy = _LazyLogs(self._local_results)
        source, step = batches.source, -1
        with self.guard_passes.during("test", callback_list), torch.no_grad():
            for step, (bx, by, bw) in batches:
                callback_list.on_test_batch_begin(step)
                self._run_step(self.test_step, source, bx, by, bw)
                lazy._values = None
                callback_list.on_test_batch_end(step, lazy)
        if step < 0:
            raise ValueError("evaluate() got no batches: its input is empty")
        logs = self.results()
        # Keras' callbacks get the logs sorted again (a custom test_step's too); evaluate not.
        callback_list.on_test_end(dict(sorted(logs.items())))
        return logs

    def predict(
        self,
        x: Any,
        batch_size: int | None,
        verbose: int | str,
        callbacks: list[Callback] | None,
        steps: int | None,
    ) -> Any:
        steps = capped_count(steps)
        shard = self._shard()
        if shard is not None and shard[0] != 0:
            verbose = 0
        batches, sample_x = prediction_batches(self.device, x, batch_size, steps)
        source = batches.source
        size = source.size if isinstance(source, ArrayBatches) else 0
        if shard is not None and steps is None and size >= shard[1]:
            # In-memory inputs: each process predicts its block, and the blocks are joined.
            start, stop = distributed.shard_bounds(size, *shard)
            part = map_structure(lambda t: t[start:stop], source.x)
            source = ArrayBatches(part, None, None, source.batch_size, shuffle=False)
            batches = EpochIterator(source, None)
        else:
            shard = None
        model = self.model
        if not model.built:
            if sample_x is None:  # a pipeline's first batch (a generator's is read again)
                sample_x = batches.source.first_batch()[0]
            model.build(model._shapes_of(sample_x))
        model.to(self.device)
        model.eval()
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=model,
            verbose=verbose,
            epochs=1,
            steps=batches.steps,
        )
        callback_list.on_predict_begin()
        outputs: list[Any] = []
        # Keras hands batch hooks NumPy outputs; converting waits for the device, so only
        # when a callback has such a hook.
        as_numpy = any(
            type(c).on_predict_batch_end is not Callback.on_predict_batch_end
            for c in callback_list.callbacks
            if not isinstance(c, ProgbarLogger)
        )
        with self.guard_passes.during("predict", callback_list), torch.inference_mode():
            for step, (bx, by, bw) in batches:
                callback_list.on_predict_batch_begin(step)
                outputs.append(self.predict_step(bx, by, bw))
                batch = outputs[-1]
                if as_numpy:
                    batch = map_structure(_to_numpy, batch)
                callback_list.on_predict_batch_end(step, {"outputs": batch})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict() got no batches: its input is empty")
        if shard is not None:
            return distributed.gather_blocks(concatenate_outputs(outputs), size, self.device)
        return concatenate_outputs(outputs)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any, class_weight: dict[int, float] | None
    ) -> dict[str, float]:
        x, y, sample_weight = arrays_to_device(self.device, x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sample_weight = apply_class_weight(y, class_weight, sample_weight)
        self.prepare(x)
        self.reset_metrics()  # as in Keras 3, each call reports its own batch
        self.model.train()
        with whole_batch_data():  # a model's own train_step gets (x, y, sample_weight)
            self._run_step(self._train_step_fn, None, x, y, sample_weight)
        self.model.eval()
        return self.results()

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any) -> dict[str, float]:
        x, y, sample_weight = arrays_to_device(self.device, x, y, sample_weight, "test_on_batch")
        self.prepare(x)
        self.reset_metrics()
        self.model.eval()
        with torch.no_grad(), whole_batch_data():
            self.test_step(x, y, sample_weight)
        return self.results()


def _to_numpy(value: Any) -> Any:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
