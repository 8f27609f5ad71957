"""The train and test steps: forward, loss, backward, optimizer step, metric updates.

The train step is one function that runs entirely on the device: the loss and metrics
accumulate in device tensors and are read back only when asked (`results`). It is what
`jit_compile=True` hands to `torch.compile`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import torch

from ..layers._added_losses import collect_added_losses
from ..layers._added_losses import in_use as added_losses_in_use
from ..layers._symbolic import flatten_structure, map_structure
from ..optimizers._clipping import warn_missing_gradients_once
from ..optimizers.loss_scale import LossScaleOptimizer
from . import distributed
from .custom_steps import CustomSteps, overrides_step, step_data
from .jit import (
    GuardPasses,
    compile_step,
    conv_layers,
    cudnn_autotune,
    inductor_options,
    with_own_code,
)

_LOG = logging.getLogger("lamina.training")

__all__ = ["ForwardModule", "StepFunctions"]


def _batch_size_of(x: Any) -> int:
    return int(flatten_structure(x)[0].shape[0])


class ForwardModule(torch.nn.Module):
    """The model's forward pass as the train step needs it: predictions, and the logits when
    the loss reads them (a softmax output with a crossentropy on probabilities). One module,
    so that DistributedDataParallel and torch.compile see every forward call."""

    def __init__(self, model: torch.nn.Module, logits_activation: str | None) -> None:
        super().__init__()
        self.model = model
        self.logits_activation = logits_activation

    def forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if self.logits_activation is not None:
            return self.model.call_with_logits(x, training=training)
        return self.model(x, training=training), None


class StepFunctions(CustomSteps):
    """Losses, metrics and steps of a `Trainer` (which sets `model`, `state`, `device`, the
    accumulators and `forward_module` up)."""

    model: Any
    state: Any
    device: torch.device
    forward_module: Any
    _logits_activation: str | None
    _regularized: list[Any]
    _activity_layers: list[Any]
    _loss_sum: torch.Tensor
    _count: torch.Tensor
    _output_loss_sums: torch.Tensor
    _pending_metric_state: dict[str, torch.Tensor]
    _train_step_fn: Any
    _scaler: Any = None
    _share: Any = None
    _compiled_steps: tuple[Any, Any, Any] | None = None
    _compiled_batch_size: int | None = None
    _cuda_graphs: bool = False
    _static_marked: set[int]
    guard_passes: GuardPasses
    auto_jit: Any  # training.auto_jit.AutoJit

    def per_output(self, value: Any, what: str) -> list[Any]:
        """A target or prediction structure as a list in the order of the compiled outputs."""
        specs = self.state.outputs
        self.state.check_targets(value, what)
        if not self.state.multi_output:
            if isinstance(value, (list, tuple, dict)):  # Model(inputs, [output]): one output
                flat = flatten_structure(value)
                if len(flat) == 1:
                    return flat
            return [value]
        names = [spec.name for spec in specs]
        # Outputs with no loss and no metric need no target (Keras: loss={"a": ...} alone).
        needed = [
            what == "predictions"
            or spec.loss is not None
            or bool(spec.metric_identifiers or spec.weighted_metric_identifiers)
            for spec in specs
        ]
        if isinstance(value, dict):
            missing = sorted(
                n for n, need in zip(names, needed, strict=True) if need and n not in value
            )
            if missing:
                raise ValueError(f"{what} has no entry for the outputs {missing}; outputs: {names}")
            return [value.get(name) for name in names]
        flat = flatten_structure(value)
        if len(flat) != len(names) and 0 < len(flat) == sum(needed):
            given = iter(flat)  # one target per output that has a loss or metrics, in order
            return [next(given) if need else None for need in needed]
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
        return self.forward_module(x, training)

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
            if target is None:
                loss_name = getattr(spec.loss, "name", spec.loss)
                raise ValueError(
                    f"Output '{spec.name}' has a loss ({loss_name}) but no "
                    "targets were given: pass y to fit() / evaluate() / train_on_batch(), or "
                    "compile() that output with no loss"
                )
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
        if added_losses_in_use():  # layer.add_loss terms of this forward pass
            for term in collect_added_losses(self.model):
                total = total + term
        if self._activity_layers:  # evaluation counts them too, as Keras
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
        self.reset_custom_metrics()

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
        """Current loss and metric values as floats (this reads from the device). In a
        distributed run the sums and metric states of every process are combined first
        (`_global_totals`), so every process reports the global values. After a model's own
        `train_step` / `test_step`: the logs it returned."""
        custom = self.custom_results()
        if custom is not None:
            return custom
        loss_sum, count, output_loss_sums, metric_states = self._global_totals()
        count = count.clamp(min=1)
        values = {"loss": float(loss_sum / count)}
        if self._logs_output_losses():
            losses = (output_loss_sums / count).tolist()
            named = [spec.name for spec in self.state.outputs if spec.loss is not None]
            values.update(
                {f"{name}_loss": value for name, value in zip(named, losses, strict=False)}
            )
        for key, metric, _ in self.state.all_metrics():
            values[key] = float(_result_with_state(metric, metric_states.get(key)))
        return dict(sorted(values.items()))

    def _logs_output_losses(self) -> bool:
        return self.state.logs_output_losses()

    def _global_totals(
        self,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, list[torch.Tensor]]]:
        """The loss sums, sample count, per-output loss sums and each metric's state tensors
        over all processes; a single process returns its own (metric states: {} = as is)."""
        return self._loss_sum, self._count, self._output_loss_sums, {}

    def result_names(self) -> list[str]:
        return self.state.result_names()

    def results_in_order(self, logs: dict[str, float]) -> list[float]:
        return self.state.results_in_order(logs)

    # ------------------------------------------------------------------ steps

    def _train_step(self, x: Any, y: Any, sample_weight: Any) -> torch.Tensor:
        """One eager training step; returns the loss (detached)."""
        loss, value = self._train_forward(x, y, sample_weight)
        self._backward_and_update(loss)
        return value

    def _train_forward(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, torch.Tensor]:
        """The step up to the backward pass: forward, loss, and the metric updates, which
        read this step's predictions (the values Keras' metrics see after its update too).
        This is what `jit_compile=True` compiles, as one graph: the backward pass (the
        compiled graph's own backward) and the optimizer update run after it, outside, as
        in a hand-written loop around a compiled model. Returns (loss, detached loss)."""
        outputs, logits = self._forward(x, training=True)
        y_list = self.per_output(y, "y")
        y_pred = [_float32(p) for p in self.per_output(outputs, "predictions")]
        loss, parts = self.step_loss(
            x, y, outputs, y_list, y_pred, _float32(logits), sample_weight, training=True
        )
        value, parts = loss.detach(), [p.detach() for p in parts]
        y_pred = [p.detach() for p in y_pred]
        if not self.state.metrics_built:
            self.state.build_metrics(y_list, y_pred, self.device)
            if self._pending_metric_state:
                self._apply_metric_state()
        with torch.no_grad():
            self._update_metrics(value, parts, y_list, y_pred, sample_weight, _batch_size_of(x))
        return loss, value

    def _backward_and_update(self, loss: torch.Tensor) -> None:
        """Backward pass (a compiled forward's backward graph runs here) and optimizer step,
        with loss scaling for float16 (steps with inf gradients are skipped)."""
        if not (loss.requires_grad and self.model.trainable):  # nothing to train, as Keras
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
            return
        optimizer = self.state.optimizer
        optimizer.zero_grad()
        if self._share is not None:  # distributed: see GradientShare.loss_scale
            scale = self._share.loss_scale()
            if scale != 1.0:
                loss = loss * scale
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.step(optimizer)
            self._scaler.update()
        else:
            optimizer.scale_loss(loss).backward()  # loss_scale_factor / LossScaleOptimizer
            warn_missing_gradients_once(optimizer)
            if self._accumulates_locally() == "update":  # the other processes' sums join in
                distributed.average_in_place(optimizer._slots["accumulated_gradient"])
            optimizer.step()

    def _accumulates_locally(self) -> str | None:
        """With gradient accumulation in a distributed run, the steps that only add to the
        optimizer's accumulators skip DDP's all-reduce: 'add' for those (the trainer runs
        them under `no_sync`), 'update' for the step that applies the update (DDP averages
        its gradient, and the accumulators are averaged over processes first), None
        otherwise. Exact: the update averages the same gradients, in another order. With
        float16 loss scaling every step synchronises, so that all processes skip the same
        steps."""
        optimizer = self.state.optimizer
        steps = getattr(optimizer, "gradient_accumulation_steps", None)
        if self._share is None or not steps or self._scaler is not None:
            return None
        if isinstance(optimizer, LossScaleOptimizer):  # its inner optimizer accumulates
            return None
        return "add" if (optimizer._iterations + 1) % steps else "update"

    def _test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        outputs, logits = self._forward(x, training=False)
        y_list = self.per_output(y, "y")
        y_pred = [_float32(p) for p in self.per_output(outputs, "predictions")]
        loss, parts = self.step_loss(
            x, y, outputs, y_list, y_pred, _float32(logits), sample_weight, training=False
        )
        if not self.state.metrics_built:
            self.state.build_metrics(y_list, y_pred, self.device)
        self._update_metrics(loss, parts, y_list, y_pred, sample_weight, _batch_size_of(x))

    # ------------------------------------------------------------------ compiled steps

    def setup_steps(self) -> None:
        """Once the model is on the device, before the optimizer is built: memory format,
        loss scaling for float16, and `torch.compile` of the steps (`jit_compile`)."""
        model = self.model
        if self.device.type == "cuda" and conv_layers(model):
            # cuDNN's fastest convolutions read NHWC; activations already are (see convolution).
            model.to(memory_format=torch.channels_last)
        float16 = any(
            getattr(getattr(m, "_dtype_policy", None), "compute_dtype", None) == "float16"
            for m in model.modules()
        )
        self._scaler = (
            torch.amp.GradScaler(self.device.type)
            if float16
            and self.state.auto_scale_loss
            and not isinstance(self.state.optimizer, LossScaleOptimizer)  # it scales itself
            else None
        )
        if self.device.type == "cuda":
            cudnn_autotune(model)
        if self._compiled_steps is None and self.state.use_compile(self.device):
            self._cuda_graphs = self.state.use_cuda_graphs(self.device)
            if self.state.cuda_graphs and not self._cuda_graphs:
                warnings.warn(
                    f"compile(cuda_graphs=True) has no effect on the {self.device.type} device: "
                    "CUDA graphs need a CUDA device; the steps are compiled without them",
                    stacklevel=4,
                )
            options = inductor_options(model, self._cuda_graphs)
            self._compiled_steps = tuple(
                compile_step(with_own_code(step), options, self.device)
                for step in (self._train_forward, self._test_step, self._predict_step)
            )
        self._train_step_fn = self.run_train_step
        if overrides_step(model, "train_step"):
            self._train_step_fn = self.custom_train_step  # the model's own, eagerly

    def compile_train_step(self) -> None:
        """Compile the train step alone: jit_compile='auto' tries it (training.auto_jit)."""
        step = compile_step(
            with_own_code(self._train_forward), inductor_options(self.model, False), self.device
        )
        self._compiled_steps, self._compiled_batch_size = (step, None, None), None

    def drop_compiled_steps(self) -> None:
        self._compiled_steps, self._compiled_batch_size = None, None

    def _compiled_for(self, index: int, x: Any, needs_metrics: bool = True) -> Any:
        """The compiled step for this batch, or None to run it eagerly: the first step (it
        builds the metrics) and batches of another size than the first one (the last,
        smaller batch of an epoch), which would otherwise recompile the graph."""
        if self._compiled_steps is None or self._compiled_steps[index] is None:
            return None
        size = _batch_size_of(x)
        if self._compiled_batch_size is None:  # the first batch has the full batch size
            self._compiled_batch_size = size
        if needs_metrics and not self.state.metrics_built:
            return None
        if size != self._compiled_batch_size:
            _LOG.debug(
                "lamina: a batch of %d samples runs eagerly; the steps are compiled for %d",
                size,
                self._compiled_batch_size,
            )
            return None
        if self._cuda_graphs:
            self._begin_graph_step()
        return self._compiled_steps[index]

    def _begin_graph_step(self) -> None:
        """Before each replay: the running sums and metric states that the compiled graphs
        update in place are marked static (a graph may mutate only static inputs, else it
        runs without CUDA graphs), and torch is told a new step begins, so the previous
        replay's outputs may be overwritten."""
        marked = self._static_marked
        for tensor in self.accumulator_state().values():
            if id(tensor) not in marked:
                torch._dynamo.mark_static_address(tensor)
                marked.add(id(tensor))
        torch.compiler.cudagraph_mark_step_begin()

    def run_train_step(self, x: Any, y: Any, sample_weight: Any) -> torch.Tensor:
        compiled = self._compiled_for(0, x)
        if compiled is None:
            return self._train_step(x, y, sample_weight)
        try:
            loss, value = self.guard_passes.call(0, compiled, x, y, sample_weight)
        except Exception as error:
            if not self.auto_jit.trying:
                raise
            self.auto_jit.failed(error)  # jit_compile='auto' goes on eagerly
            return self._train_step(x, y, sample_weight)
        if self._cuda_graphs:
            # A CUDA graph's output lives in its memory pool, which later replays reuse:
            # copied out before the backward graph replays.
            value = value.clone()
        self._backward_and_update(loss)
        return value

    def test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        if overrides_step(self.model, "test_step"):
            self.custom_test_step(x, y, sample_weight)
            return
        compiled = self._compiled_for(1, x)
        if compiled is None:
            self._test_step(x, y, sample_weight)
        else:
            self.guard_passes.call(1, compiled, x, y, sample_weight)

    def _predict_step(self, x: Any) -> Any:
        return self.model(x, training=False)

    def predict_step(self, x: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """The model's outputs for one batch (compiled with `jit_compile=True`)."""
        if overrides_step(self.model, "predict_step"):
            return self.model.predict_step(step_data(x, y, sample_weight, predict=True))
        compiled = self._compiled_for(2, x, needs_metrics=False)
        if compiled is None:
            return self._predict_step(x)
        outputs = self.guard_passes.call(2, compiled, x)
        if self._cuda_graphs:  # predict keeps every batch's outputs: copy them out of the pool
            outputs = map_structure(
                lambda t: t.clone() if isinstance(t, torch.Tensor) else t, outputs
            )
        return outputs


def _float32(value: Any) -> Any:
    """Losses and metrics compute in float32, whatever the layers' compute dtype."""
    if isinstance(value, torch.Tensor) and value.dtype in (torch.float16, torch.bfloat16):
        return value.float()
    return value


def _result_with_state(metric: Any, state: list[torch.Tensor] | None) -> torch.Tensor:
    """`metric.result()` computed from `state` (tensors in `metric._state_names` order)
    instead of the metric's own state, which is left unchanged."""
    if state is None:
        return metric.result()
    own = [getattr(metric, name).clone() for name in metric._state_names]
    with torch.no_grad():
        for name, value in zip(metric._state_names, state, strict=True):
            getattr(metric, name).copy_(value)
        try:
            value = metric.result()
            return value.clone() if isinstance(value, torch.Tensor) else value
        finally:
            for name, value in zip(metric._state_names, own, strict=True):
                getattr(metric, name).copy_(value)
