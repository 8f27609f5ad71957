"""Keras 3's overridable steps: a `Model` subclass that defines `train_step(data)`,
`test_step(data)` or `predict_step(data)` has `fit`, `evaluate` and `predict` call it for
each batch, as Keras does, and the logs its steps return become the progress bar's, the
callbacks' and History's values.

The steps run eagerly (Keras' torch backend runs them eagerly too, by default). `data` is
what Keras 3's torch backend hands them:

* batches of in-memory arrays: `x` alone, `(x, y)` or `(x, y, sample_weight)`, and `x` for
  `predict_step`;
* a pipeline's batches (a generator, PyDataset or DataLoader), collated by torch: lists,
  `[x, y]` or `[x, y, sample_weight]`, also for `predict_step`, which gets the whole batch;
* in `train_on_batch` / `test_on_batch`: `(x, y, sample_weight)` with its Nones, and in
  `predict_on_batch`: `(x,)`.

>>> overrides_step(object(), "train_step")
False
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from ..layers._symbolic import flatten_structure
from ..layers._variables import discarding_updates
from .adapters import to_tensor_structure
from .data_packing import pack_x_y_sample_weight

__all__ = [
    "CustomSteps",
    "batches_collate_lists",
    "build_for_fit",
    "logs_as_floats",
    "overrides_step",
    "step_data",
    "whole_batch_data",
]

_WHOLE_DATA = contextvars.ContextVar("lamina_whole_batch_data", default=False)
_LISTS = contextvars.ContextVar("lamina_batches_collate_lists", default=False)


def batches_collate_lists(lists: bool) -> None:
    """Say whether the batch about to be stepped on comes from a pipeline (Keras hands its
    steps lists) or from arrays (tuples); `EpochIterator` says it before every batch."""
    _LISTS.set(lists)


@contextlib.contextmanager
def whole_batch_data() -> Iterator[None]:
    """Within: a model's own steps get what Keras' `*_on_batch` hand them, `(x, y,
    sample_weight)` with its Nones for train_step and test_step and `(x,)` for predict_step."""
    token = _WHOLE_DATA.set(True)
    try:
        yield
    finally:
        _WHOLE_DATA.reset(token)


def step_data(x: Any, y: Any = None, sample_weight: Any = None, predict: bool = False) -> Any:
    """The `data` a model's own step gets (see the module's docstring).

    >>> step_data(1, 2), step_data(1, 2, predict=True)
    ((1, 2), 1)
    """
    if _WHOLE_DATA.get():
        return (x,) if predict else (x, y, sample_weight)
    if not _LISTS.get():
        return pack_x_y_sample_weight(x) if predict else pack_x_y_sample_weight(x, y, sample_weight)
    if predict:  # predict's batches leave y and weights on the host: moved for this step only
        y, sample_weight = (_on_device_of(x, value) for value in (y, sample_weight))
    data = pack_x_y_sample_weight(x, y, sample_weight)
    return list(data) if isinstance(data, tuple) else data


def _on_device_of(x: Any, data: Any) -> Any:
    """`data` as tensors on `x`'s device (as it is where it does not convert)."""
    tensors = [t for t in flatten_structure(x) if isinstance(t, torch.Tensor)]
    try:
        return to_tensor_structure(data, tensors[0].device if tensors else "cpu", "y")
    except (TypeError, ValueError):
        return data


def overrides_step(model: Any, name: str) -> bool:
    """Whether `model`'s class defines its own `name` ('train_step', 'test_step',
    'predict_step', 'compute_loss' or the `metrics` property) instead of lamina's `Model`'s."""
    key = (type(model), name)
    found = _OVERRIDES.get(key)
    if found is None:  # once per class and step: evaluate and predict ask for every batch
        from ..models.model import Model

        found = isinstance(model, Model) and getattr(type(model), name) is not getattr(Model, name)
        _OVERRIDES[key] = found
    return found


_OVERRIDES: dict[tuple[type, str], bool] = {}


def logs_as_floats(logs: Any, where: str) -> dict[str, float]:
    """A step's returned logs as floats; nested dicts (Keras' 'compile_metrics') flattened.

    >>> logs_as_floats({"loss": torch.tensor(0.5), "m": {"acc": 1}}, "train_step")
    {'loss': 0.5, 'acc': 1.0}
    """
    if not isinstance(logs, Mapping):
        raise TypeError(
            f"{where} must return a dict of log values (name -> number), as in Keras; "
            f"got {type(logs).__name__}"
        )
    values: dict[str, float] = {}
    for key, value in logs.items():
        if isinstance(value, Mapping):
            values.update(logs_as_floats(value, where))
        elif isinstance(value, torch.Tensor):
            values[key] = float(value.detach().float().mean()) if value.numel() else 0.0
        else:
            values[key] = float(value)
    return values


def build_for_fit(model: Any, x: Any) -> None:
    """Build an unbuilt model from the shapes of a batch `x`, as fit/evaluate/predict do.
    Failures other than ValueError become Keras' RuntimeError (a model that only defines
    `train_step` and no `call` cannot be built from data)."""
    try:
        model.build(model._shapes_of(x))
    except ValueError:
        raise
    except Exception as error:
        raise RuntimeError(
            "Unable to automatically build the model. Please build it yourself before "
            "calling fit/evaluate/predict. A model is 'built' when its variables have been "
            "created and its `self.built` attribute is True. Usually, calling the model on a "
            f"batch of data is the right way to build it.\nException encountered:\n'{error}'"
        ) from None  # as Keras, which shows the original error in the message only


def _needs_shapes(spec: Any) -> bool:
    """Whether an output's compiled metrics include 'accuracy', resolved from the shapes."""
    from .compile import _ACCURACY_NAMES

    identifiers = spec.metric_identifiers + spec.weighted_metric_identifiers
    return any(isinstance(i, str) and i in _ACCURACY_NAMES for i in identifiers)


class CustomSteps:
    """The trainer's side: runs a model's own steps and keeps the logs they return."""

    model: Any
    state: Any
    device: torch.device
    _custom_logs: Any = None

    def custom_train_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        """One batch of `fit` through the model's `train_step`."""
        from . import distributed

        if distributed.is_distributed():
            raise NotImplementedError(
                f"{type(self.model).__name__} defines its own train_step, which lamina runs in "
                "one process only: in a torchrun job its gradients would not be averaged "
                "over the processes. Use the standard step (no train_step) to train with DDP."
            )
        self._build_metrics_for_custom_step(x, y)
        self._custom_logs = self.model.train_step(step_data(x, y, sample_weight))

    def step_loss(
        self,
        x: Any,
        y: Any,
        outputs: Any,
        y_list: list[Any],
        y_pred: list[Any],
        logits: Any,
        sample_weight: Any,
        training: bool,
    ) -> tuple[Any, list[Any]]:
        """The standard steps' (loss, per-output losses): the compiled loss, or, where the
        model's class overrides `compute_loss` (Keras' distiller), what that returns, called
        as Keras calls it: `(x, y, y_pred, sample_weight)`, plus `training=` if it takes it."""
        model = self.model
        if not overrides_step(model, "compute_loss"):
            return self.compute_loss(y_list, y_pred, logits, sample_weight, training)  # type: ignore[attr-defined]
        if "training" in inspect.signature(model.compute_loss).parameters:
            return model.compute_loss(x, y, outputs, sample_weight, training=training), []
        return model.compute_loss(x, y, outputs, sample_weight), []

    def custom_test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        """One batch of `evaluate` (or of fit's validation) through the model's `test_step`."""
        self._build_metrics_for_custom_step(x, y)
        self._custom_logs = self.model.test_step(step_data(x, y, sample_weight))

    def custom_results(self) -> dict[str, float] | None:
        """The last custom step's logs as floats, or None when no custom step ran since the
        metrics were last reset."""
        if self._custom_logs is None:
            return None
        return logs_as_floats(self._custom_logs, "train_step / test_step")

    def reset_custom_metrics(self) -> None:
        """Forget the last step's logs; reset the metrics a model's own `metrics` lists."""
        self._custom_logs = None
        if overrides_step(self.model, "metrics"):
            for metric in self.model.metrics:
                metric.reset_state()

    def _build_metrics_for_custom_step(self, x: Any, y: Any) -> None:
        """Compiled metrics are made for the shapes of the targets and predictions (which
        accuracy, for instance). A custom step may loop over `model.metrics` at once, so
        they are made before its first batch, from one forward pass without gradients."""
        state = self.state
        if state is None or state.metrics_built or y is None:
            return
        if not any(_needs_shapes(spec) for spec in state.outputs):
            # Only 'accuracy' depends on the shapes: no forward pass otherwise, as Keras
            # (a GAN's model has no call()).
            state.build_metrics(
                [None] * len(state.outputs), [None] * len(state.outputs), self.device
            )
            return
        with torch.no_grad():
            was_training = self.model.training
            self.model.eval()
            try:
                with discarding_updates():  # a probe for the metrics: no counter moves
                    y_pred = self.model(x, training=False)
            finally:
                self.model.train(was_training)
        self.build_metrics_from(y, y_pred)

    def build_metrics_from(self, y: Any, y_pred: Any) -> None:
        """Build the compiled metrics for these targets and predictions (once)."""
        if self.state.metrics_built:
            return
        y_list = self.per_output(y, "y")  # type: ignore[attr-defined]
        pred_list = self.per_output(y_pred, "predictions")  # type: ignore[attr-defined]
        self.state.build_metrics(y_list, pred_list, self.device)
