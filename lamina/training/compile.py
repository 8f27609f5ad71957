"""What `compile(optimizer, loss, metrics, loss_weights)` resolves to, for one or more outputs.

Losses, loss weights and metrics may be given once (one output), as lists in output order, or
as dicts keyed by output name, as in Keras. Log names follow Keras 3: with several outputs,
each output's loss is `{output}_loss` and its metrics `{output}_{metric}`. The string
'accuracy' is resolved on the first batch, when target and prediction shapes are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers
from ..layers._added_losses import in_use as added_losses_in_use
from .custom_steps import overrides_step

__all__ = ["CompileState", "OutputSpec"]

_ACCURACY_NAMES = ("accuracy", "acc")
_CROSSENTROPY_ACTIVATION = {
    "CategoricalCrossentropy": "softmax",
    "SparseCategoricalCrossentropy": "softmax",
    "BinaryCrossentropy": "sigmoid",
}


@dataclass
class OutputSpec:
    """One output's loss, weight and metrics."""

    name: str
    loss: Any = None
    weight: float = 1.0
    metric_identifiers: list[Any] = field(default_factory=list)
    weighted_metric_identifiers: list[Any] = field(default_factory=list)
    # (log key, metric object, weighted?) once built on the first batch.
    metrics: list[tuple[str, Any, bool]] | None = None


def _per_output(value: Any, names: list[str], what: str, *, nested: bool) -> list[Any]:
    """Spread a compile argument over the outputs: one value, a list, or a dict by name."""
    if isinstance(value, dict) and nested and len(names) == 1:
        # Keras 3.15.1 reads a one-output model's metrics dict whatever its keys say
        return [[entry for entries in value.values() for entry in _as_list(entries)]]
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"compile({what}=...) names unknown outputs {unknown}; the model's outputs are "
                f"{names}"
            )
        return [value.get(name) for name in names]
    if len(names) == 1:
        return [value]
    if isinstance(value, (list, tuple)) and (
        not nested or all(isinstance(v, (list, tuple, type(None))) for v in value)
    ):
        if len(value) != len(names):
            raise ValueError(
                f"compile({what}=...) has {len(value)} entries for a model with "
                f"{len(names)} outputs ({', '.join(names)})"
            )
        return list(value)
    if value is None:
        return [None] * len(names)
    if nested:
        raise ValueError(
            f"For a model with several outputs ({', '.join(names)}), {what} must be a dict "
            f"keyed by output name or a list of lists in output order; got {value!r}"
        )
    return [value] * len(names)


def _check_loss_weights(loss: Any, loss_weights: Any) -> None:
    """Keras' error for a list of loss weights whose length is not the number of losses."""
    if not isinstance(loss_weights, (list, tuple)):
        return
    count = len(loss) if isinstance(loss, (list, tuple, dict)) else 1
    if count != len(loss_weights):
        raise ValueError(
            f"`loss_weights` must match the number of losses, got {count} losses and "
            f"{len(loss_weights)} weights."
        )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class CompileState:
    """Everything `compile` was given, resolved to objects, per output."""

    def __init__(
        self,
        optimizer: Any,
        loss: Any,
        loss_weights: Any,
        metrics: Any,
        weighted_metrics: Any,
        jit_compile: bool | str,
        steps_per_execution: int,
        output_names: list[str] | None = None,
        auto_scale_loss: bool = True,
        cuda_graphs: bool = False,
        dict_outputs: bool = False,
    ) -> None:
        self.optimizer = optimizers.get(optimizer)
        self.loss_identifier = loss
        # What compile() was given, for model files (the optimizer is saved separately).
        self.compile_arguments = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": False,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }
        if not auto_scale_loss:  # Keras writes no entry for it; lamina only when not default
            self.compile_arguments["auto_scale_loss"] = False
        if cuda_graphs:  # lamina's own argument: written only when set, as Keras knows none
            self.compile_arguments["cuda_graphs"] = True
        names = list(output_names or ["output"])
        self.multi_output = len(names) > 1
        for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):  # Keras' check and words
                raise ValueError(
                    f"Expected `{what}` argument to be a list, tuple, or dict. Received "
                    f"instead: {what}={value} of type {type(value)}"
                )
        if not self.multi_output and isinstance(loss, (list, tuple)) and len(loss) == 1:
            loss = loss[0]  # [loss] for the one output, as Keras takes it
        if not self.multi_output:
            _check_loss_weights(loss, loss_weights)
        # Keras lists the outputs' losses in its loss dict's order (else the outputs' order).
        self.loss_order = [k for k in loss if k in names] if isinstance(loss, dict) else names
        # Keras' errors for a graph model's targets, raised at the first step (not compile):
        # a loss dict must name every output of a model whose outputs are not a dict, and
        # compiled metrics read a y dict by every output's name.
        self.loss_keys_error = None
        if output_names and not dict_outputs and isinstance(loss, dict) and set(loss) != set(names):
            self.loss_keys_error = (
                f"Expected keys {names} in loss dict, but found loss.keys()={list(loss)}"
            )
            loss = {k: v for k, v in loss.items() if k in names}
        self.metrics_read_y = len(names) > 1 and (
            metrics is not None or weighted_metrics is not None
        )
        losses = _per_output(loss, names, "loss", nested=False)
        weights = _per_output(loss_weights, names, "loss_weights", nested=False)
        metric_lists = _per_output(metrics, names, "metrics", nested=True)
        weighted_lists = _per_output(weighted_metrics, names, "weighted_metrics", nested=True)
        self.outputs = [
            OutputSpec(
                name=name,
                loss=None if spec_loss is None else losses_module.to_loss(spec_loss),
                weight=1.0 if weight is None else float(weight),
                metric_identifiers=_as_list(metric_list),
                weighted_metric_identifiers=_as_list(weighted_list),
            )
            for name, spec_loss, weight, metric_list, weighted_list in zip(
                names, losses, weights, metric_lists, weighted_lists, strict=True
            )
        ]
        # Resolve names now so that a typo fails at compile time, not after the first batch.
        for spec in self.outputs:
            for identifier in spec.metric_identifiers + spec.weighted_metric_identifiers:
                if not (isinstance(identifier, str) and identifier in _ACCURACY_NAMES):
                    metrics_module.compile_metric(identifier)
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}")
        if cuda_graphs not in (True, False):
            raise ValueError(f"cuda_graphs must be True or False; got {cuda_graphs!r}")
        if cuda_graphs and jit_compile is False:
            raise ValueError(
                "cuda_graphs=True replays the compiled steps as CUDA graphs, so it needs "
                "jit_compile=True or 'auto'; got jit_compile=False"
            )
        self.jit_compile = jit_compile
        self.cuda_graphs = bool(cuda_graphs)
        self.steps_per_execution = steps_per_execution
        self.auto_scale_loss = bool(auto_scale_loss)

    def check_has_loss(self, model: Any) -> None:
        """Keras' error for fit or evaluate with nothing to minimise: no compiled loss, weight
        penalty, activity penalty or `add_loss` term (a step of the model's own may need none)."""
        if any(spec.loss is not None for spec in self.outputs) or added_losses_in_use():
            return
        if self.loss_keys_error is not None:  # a loss dict naming no output: Keras says that
            raise ValueError(self.loss_keys_error)
        if any(overrides_step(model, n) for n in ("train_step", "test_step", "compute_loss")):
            return
        if any(info.regularizer is not None for *_, info in model._all_weights()) or any(
            getattr(m, "activity_regularizer", None) is not None for m in model.modules()
        ):
            return
        raise ValueError(
            "No loss to compute. Provide a `loss` argument in `compile()` (model "
            f"'{model.name}' has no compiled loss, weight penalty or added loss)."
        )

    def check_targets(self, y: Any, what: str) -> None:
        """Keras' errors for `y` (`what` == 'y') at the first step: a y dict's keys that name
        no output; for one output, a y list of several arrays; a KeyError naming the first
        output a y dict lacks when metrics were compiled, else a loss dict's missing keys."""
        if what != "y":
            return
        if self.multi_output and isinstance(y, dict):
            names = [spec.name for spec in self.outputs]
            extra = [key for key in y if key not in names]
            if extra:  # Keras: "y_true and y_pred have different structures"
                raise ValueError(
                    f"y_true and y_pred have different structures: y names outputs {extra} "
                    f"that the model lacks; its outputs are {names}"
                )
        if not self.multi_output and isinstance(y, (list, tuple)) and len(y) > 1:
            raise ValueError(
                "y_true and y_pred have different structures: the model has one output "
                f"('{self.outputs[0].name}'), but y is a {type(y).__name__} of {len(y)} arrays "
                f"of shapes {[tuple(getattr(v, 'shape', ())) for v in y]}"
            )
        if self.metrics_read_y and isinstance(y, dict):
            missing = [spec.name for spec in self.outputs if spec.name not in y]
            if missing:
                raise KeyError(missing[0])
        if self.loss_keys_error is not None:
            raise ValueError(self.loss_keys_error)

    def use_compile(self, device: torch.device) -> bool:
        """Whether every step goes through `torch.compile` from the start: True, or
        `cuda_graphs=True`. 'auto' starts eagerly, as Keras 3 on torch; in long runs `fit`
        may switch its train step to a compiled one (training.auto_jit)."""
        del device
        return self.jit_compile is True or self.cuda_graphs

    def use_cuda_graphs(self, device: torch.device) -> bool:
        """Whether the compiled steps replay as CUDA graphs (`cuda_graphs=True` on CUDA)."""
        return self.cuda_graphs and device.type == "cuda"

    @property
    def loss(self) -> Any:
        """The loss of a single-output model (None with several outputs)."""
        return None if self.multi_output else self.outputs[0].loss

    @property
    def metrics_built(self) -> bool:
        return all(spec.metrics is not None for spec in self.outputs)

    def logits_activation(self, model_activation: str | None) -> str | None:
        """The activation whose logits the loss should read, when that is stable and equal."""
        loss = self.loss
        if model_activation is None or loss is None:
            return None
        expected = _CROSSENTROPY_ACTIVATION.get(type(loss).__name__)
        if expected != model_activation or getattr(loss, "from_logits", True):
            return None
        return expected

    def build_metrics(self, y_true: list[Any], y_pred: list[Any], device: torch.device) -> None:
        """Create the metric objects once the first batch shows the shapes."""
        for spec, target, prediction in zip(self.outputs, y_true, y_pred, strict=True):
            if spec.metrics is not None:
                continue

            def make(
                identifier: Any,
                spec: OutputSpec = spec,
                target: Any = target,
                prediction: Any = prediction,
            ) -> Any:
                if isinstance(identifier, str) and identifier in _ACCURACY_NAMES:
                    return metrics_module.resolve_accuracy(
                        identifier, spec.loss, tuple(target.shape), tuple(prediction.shape)
                    )
                return metrics_module.compile_metric(identifier)

            built = []
            unweighted_names = set()
            for weighted, identifiers in (
                (False, spec.metric_identifiers),
                (True, spec.weighted_metric_identifiers),
            ):
                for identifier in identifiers:
                    metric = make(identifier).to(device)
                    if not weighted:
                        unweighted_names.add(metric.name)
                    elif metric.name in unweighted_names:  # as Keras: 'weighted_accuracy'
                        metric.name = f"weighted_{metric.name}"
                    key = f"{spec.name}_{metric.name}" if self.multi_output else metric.name
                    built.append((key, metric, weighted))
            spec.metrics = built

    def all_metrics(self) -> list[tuple[str, Any, bool]]:
        return [entry for spec in self.outputs for entry in (spec.metrics or [])]

    def logs_output_losses(self) -> bool:
        """Keras logs `{output}_loss` when several outputs have a loss (not for one)."""
        return self.multi_output and sum(spec.loss is not None for spec in self.outputs) > 1

    def result_names(self) -> list[str]:
        """The log names of evaluate()'s list: the loss, each output's loss, then the metrics
        (Keras' order; the metrics are known once made, on the first batch)."""
        names = ["loss"]
        if self.logs_output_losses():
            specs = {spec.name: spec for spec in self.outputs}
            order = self.loss_order
            names += [f"{name}_loss" for name in order if specs[name].loss is not None]
        metrics = [key for spec in self.outputs for key, _, _ in spec.metrics or []]
        # Keras lists a model's compiled metrics in compile order for one output, sorted by
        # their log names ('a_mean_absolute_error', 'a_mean_...', 'b_mse') for several.
        return names + (sorted(metrics) if self.multi_output else metrics)

    def results_in_order(self, logs: dict[str, float]) -> list[float]:
        """evaluate()'s list of values, in `result_names()`' order."""
        names = self.result_names()
        if set(names) != set(logs):  # a custom test_step's own logs: loss first, as Keras
            names = [*(["loss"] if "loss" in logs else []), *(k for k in logs if k != "loss")]
        elif not self.multi_output:
            # Keras lists a weighted metric that shares an unweighted one's name under that
            # name (its value repeated), then adds the 'weighted_' log after: 5 values for
            # metrics=['accuracy', 'mae'], weighted_metrics=['accuracy'].
            renamed = [
                key
                for key, _, weighted in self.all_metrics()
                if weighted and key.startswith("weighted_") and key[9:] in logs
            ]
            if renamed:
                names = [key[9:] if key in renamed else key for key in names] + renamed
        return [logs[name] for name in names]
