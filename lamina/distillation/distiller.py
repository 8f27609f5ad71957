"""`Distiller`: train a student model on its labels and on what a frozen teacher model
outputs (knowledge distillation), as Keras 3's `keras.distillation.Distiller`.

The loss of each batch is `student_loss_weight x student loss + (1 - student_loss_weight) x
the weighted sum of the distillation losses`; History holds `loss` (the mean over samples),
`student_loss`, `distillation_loss` and `total_loss` (means over batches), as in Keras.

>>> import lamina, torch
>>> from lamina.distillation import Distiller, LogitsDistillation
>>> def small(units):
...     return lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units),
...                               lamina.layers.Dense(3)])
>>> distiller = Distiller(teacher=small(16), student=small(2),
...                       distillation_losses=LogitsDistillation(temperature=3.0))
>>> distiller.compile(optimizer="sgd",
...     loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
>>> history = distiller.fit(torch.randn(8, 4), torch.randint(0, 3, (8,)), verbose=0)
>>> sorted(history.history)
['distillation_loss', 'loss', 'student_loss', 'total_loss']
>>> distiller.teacher.trainable, len(distiller.trainable_weights)
(False, 4)
"""

from __future__ import annotations

from typing import Any

import torch

from .. import tree
from ..metrics import Mean
from ..models.model import Model
from ..saving.registry import deserialize_layer, register_serializable, serialize_layer
from ..training.data_packing import unpack_x_y_sample_weight
from .distillation_loss import (
    DistillationLoss,
    FeatureDistillation,
    LogitsDistillation,
    resolve_loss,
)

__all__ = ["Distiller"]


def _shapes_compatible(teacher: Any, student: Any, context: str) -> None:
    teacher_shape, student_shape = tuple(teacher), tuple(student)
    if len(teacher_shape) != len(student_shape):
        raise ValueError(
            f"Teacher and student {context} shapes have different dimensions. "
            f"Teacher: {teacher_shape}, Student: {student_shape}."
        )
    for a, b in zip(teacher_shape, student_shape, strict=True):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"Teacher and student {context} shapes are incompatible. Teacher: "
                f"{teacher_shape}, Student: {student_shape}. All dimensions must match."
            )


def _same_dtype(teacher: Any, student: Any, context: str) -> None:
    if teacher != student:
        raise ValueError(
            f"Teacher and student {context} dtypes must match. "
            f"Teacher: {teacher}, Student: {student}."
        )


def _symbolic(model: Any, which: str) -> Any:
    """The model's symbolic `inputs`/`outputs`, None for a subclassed model."""
    try:
        return getattr(model, which, None)
    except (AttributeError, ValueError):
        return None


def _as_tensor(value: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(float(value), device=None if like is None else like.device)


@register_serializable(package="lamina")
class Distiller(Model):
    """Train `student` from its labels and from a frozen `teacher`.

    Args:
        teacher: a trained `lamina.Model`, frozen here (`teacher.trainable = False`).
        student: the `lamina.Model` to train; `distiller.student` after `fit`.
        distillation_losses: a `DistillationLoss` (`LogitsDistillation`,
            `FeatureDistillation`, a subclass) or a list of them.
        distillation_loss_weights: one weight per distillation loss (None: all 1.0).
        student_loss_weight: the share of the student's own loss, in [0, 1]; the
            distillation losses get the rest.
        name: the model's name.

    `compile(optimizer, loss, metrics)` takes the student's loss (required) and metrics of the
    student's predictions; `predict` and calling the distiller give the student's outputs.
    """

    def __init__(
        self,
        teacher: Model,
        student: Model,
        distillation_losses: DistillationLoss | list[DistillationLoss],
        distillation_loss_weights: list[float] | None = None,
        student_loss_weight: float = 0.5,
        name: str = "distiller",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self._validate_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if isinstance(student_loss_weight, bool) or not isinstance(
            student_loss_weight, (int, float)
        ):
            raise ValueError(
                f"student_loss_weight must be a number, got {type(student_loss_weight)}"
            )
        if not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError(
                f"student_loss_weight must be between 0.0 and 1.0, got {student_loss_weight}"
            )
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError(
                "'distillation_losses' cannot be `None`. Provide a distillation loss (e.g., "
                "LogitsDistillation or FeatureDistillation) or a list of distillation losses."
            )
        if not isinstance(distillation_losses, (list, tuple)):
            self.distillation_losses = [distillation_losses]
            self.distillation_loss_weights = [1.0]
        else:
            self.distillation_losses = list(distillation_losses)
            if distillation_loss_weights is None:
                self.distillation_loss_weights = [1.0] * len(distillation_losses)
            elif len(distillation_loss_weights) != len(distillation_losses):
                raise ValueError(
                    f"Number of distillation_loss_weights ({len(distillation_loss_weights)}) "
                    f"must match number of distillation_losses ({len(distillation_losses)})"
                )
            else:
                self.distillation_loss_weights = list(distillation_loss_weights)
        for distillation_loss in self.distillation_losses:
            if not hasattr(distillation_loss, "compute_loss"):
                raise TypeError(
                    f"Distiller '{self.name}': each distillation loss must be a "
                    f"DistillationLoss (with compute_loss); got {distillation_loss!r}"
                )
            distillation_loss.validate_model_compatibility(teacher, student)
        # Not registered as submodules: they share the teacher's and student's layers, whose
        # weights must appear once in state_dict.
        object.__setattr__(self, "_teacher_feature_extractor", self._extractor(teacher, True))
        object.__setattr__(self, "_student_feature_extractor", self._extractor(student, False))
        self.teacher.trainable = False
        trackers = tuple(Mean(name=n) for n in ("student_loss", "distillation_loss", "total_loss"))
        object.__setattr__(self, "_trackers", trackers)
        self._student_loss: Any = None

    # ------------------------------------------------------------------ validation

    def _validate_models(self, teacher: Any, student: Any) -> None:
        for role, model in (("Teacher", teacher), ("Student", student)):
            if not isinstance(model, Model):
                raise ValueError(f"{role} must be a lamina.Model, got {type(model)}")
        pairs = []
        for which in ("inputs", "outputs"):
            ours, theirs = _symbolic(teacher, which), _symbolic(student, which)
            if ours is not None and theirs is not None:
                pairs.append((which[:-1], ours, theirs))
        for context, ours, theirs in pairs:
            tree.map_structure(lambda t, s, c=context: _shapes_compatible(t.shape, s.shape, c),
                               ours, theirs)  # fmt: skip
        for context, ours, theirs in pairs:
            tree.map_structure(lambda t, s, c=context: _same_dtype(t.dtype, s.dtype, c),
                               ours, theirs)  # fmt: skip

    def _extractor(self, model: Any, teacher: bool) -> Model | None:
        """A functional model giving the final output and the layers the feature losses
        name, in one forward pass (None when no loss names a layer)."""
        attribute = "teacher_layer_name" if teacher else "student_layer_name"
        names: list[str] = []
        for distillation_loss in self.distillation_losses:
            name = getattr(distillation_loss, attribute, None)
            if name and name not in names:
                names.append(name)
        if not names:
            return None
        inputs = _symbolic(model, "inputs")
        if inputs is None:
            raise ValueError(
                f"Cannot create feature extractor for {model.name}. "
                "The model has no symbolic inputs attribute."
            )
        outputs = _symbolic(model, "outputs")
        final = outputs[0] if len(outputs) == 1 else outputs
        features = {"final_output": final}
        for name in names:
            features[name] = model.get_layer(name=name).output
        return Model(inputs=inputs, outputs=features, name=f"{model.name}_multi_feature_extractor")

    # ------------------------------------------------------------------ metrics

    @property
    def student_loss_tracker(self) -> Mean:
        return self._trackers[0]

    @property
    def distillation_loss_tracker(self) -> Mean:
        return self._trackers[1]

    @property
    def total_loss_tracker(self) -> Mean:
        return self._trackers[2]

    @property
    def metrics(self) -> list[Any]:
        """Keras' order: the loss tracker, the compiled metrics, then the student,
        distillation and total loss trackers."""
        return [*super().metrics, *self._trackers]

    def reset_metrics(self) -> None:
        super().reset_metrics()
        for tracker in self._trackers:
            tracker.reset_state()

    # ------------------------------------------------------------------ training

    def compile(
        self, optimizer: Any = "adam", loss: Any = None, metrics: Any = None, **kwargs: Any
    ) -> None:
        """Set the optimizer, the student's loss (required: a name, function, Loss object,
        or one per output) and metrics (a list) of the student's predictions."""
        if loss is None:
            raise ValueError(f"Distiller '{self.name}': 'loss' cannot be `None`.")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        self._student_loss = tree.map_structure(resolve_loss, loss)
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)
        # Saved with the model, so that load_model compiles the distiller again.
        self._compile_state.compile_arguments["loss"] = loss

    def call(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        """The student's outputs."""
        return self.student(inputs, training=training, **kwargs)

    def train_step(self, data: Any) -> dict[str, Any]:
        """Keras' step on the torch backend: forward, `compute_loss`, backward, the optimizer
        step on the student's weights, metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        self._track_loss(loss, x)
        weights = self.trainable_weights
        if weights:
            loss.backward()
            gradients = [weight.grad for weight in weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Keras' evaluation step: the same losses and metrics, without gradients."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with torch.no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            self._track_loss(loss, x)
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def _track_loss(self, loss: torch.Tensor, x: Any) -> None:
        """The 'loss' log is the mean over samples (each batch weighted by its size)."""
        first = next(item for item in tree.flatten(x) if item is not None)
        self.metrics[0].update_state(loss.detach(), sample_weight=int(first.shape[0]))

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """`student_loss_weight x student loss + (1 - student_loss_weight) x distillation
        loss`; updates the three loss trackers. `sample_weight` is not used (as in Keras)."""
        if self._student_loss is None:
            raise ValueError(
                f"You must call compile() before training Distiller '{self.name}': it has "
                "no student loss yet"
            )
        if y_pred is None:
            y_pred = self(x, training=training)
        like = tree.flatten(y_pred)[0]
        student_loss: Any = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            values = tree.flatten(
                tree.map_structure(lambda fn, t, p: fn(t, p), self._student_loss, y, y_pred)
            )
            student_loss = torch.stack(values).sum() if len(values) > 1 else values[0]
            if student_loss.ndim > 0:
                student_loss = student_loss.mean()
        distillation_loss: Any = 0.0
        if self.student_loss_weight < 1.0:
            distillation_loss = self._distillation_loss(x, y_pred)
        total = self.student_loss_weight * _as_tensor(student_loss, like) + (
            1.0 - self.student_loss_weight
        ) * _as_tensor(distillation_loss, like)
        for tracker, value in zip(
            self._trackers, (student_loss, distillation_loss, total), strict=True
        ):
            tracker.update_state(_as_tensor(value, like).detach())
        return total

    def _distillation_loss(self, x: Any, y_pred: Any) -> Any:
        with torch.no_grad():  # the teacher is frozen: nothing to differentiate
            if self._teacher_feature_extractor is not None:
                teacher = self._teacher_feature_extractor(x, training=False)
            else:
                teacher = {"final_output": self.teacher(x, training=False)}
        if self._student_feature_extractor is not None:
            # training=True also in evaluation, as in Keras
            student = self._student_feature_extractor(x, training=True)
        else:
            student = {"final_output": y_pred}
        total: Any = 0.0
        for loss, weight in zip(
            self.distillation_losses, self.distillation_loss_weights, strict=True
        ):
            if getattr(loss, "teacher_layer_name", None) is not None:
                ours = self._features(loss, teacher, "teacher")
                theirs = self._features(loss, student, "student")
            else:
                ours, theirs = teacher["final_output"], y_pred
            loss.validate_outputs(ours, theirs)
            value = loss.compute_loss(ours, theirs)
            if getattr(value, "ndim", 0) > 0:
                raise ValueError(
                    f"Distillation loss {type(loss).__name__} returned a non-scalar loss with "
                    f"shape {tuple(value.shape)}. The compute_loss method must return a scalar "
                    "tensor."
                )
            total = total + weight * value
        return total

    @staticmethod
    def _features(loss: Any, features: dict[str, Any], role: str) -> Any:
        name = getattr(loss, f"{role}_layer_name", None) or "final_output"
        if name not in features:
            raise RuntimeError(
                f"Failed to extract features for {type(loss).__name__} targeting teacher "
                f"layer '{loss.teacher_layer_name}' and student layer "
                f"'{loss.student_layer_name}'. Original error: Layer '{name}' not found in "
                f"extracted features. Available: {list(features)}"
            )
        return features[name]

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the two models and the distillation losses serialized."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self._dtype_policy.name,
            "teacher": serialize_layer(self.teacher),
            "student": serialize_layer(self.student),
            "distillation_losses": [_serialize(loss) for loss in self.distillation_losses],
            "distillation_loss_weights": list(self.distillation_loss_weights),
            "student_loss_weight": self.student_loss_weight,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Distiller:
        """Inverse of `get_config` (Keras' Distiller configs read too)."""
        from ..saving.registry import CustomObjectScope

        config = dict(config)
        with CustomObjectScope(custom_objects):
            config["teacher"] = deserialize_layer(config["teacher"])
            config["student"] = deserialize_layer(config["student"])
            config["distillation_losses"] = [
                _deserialize(entry) for entry in config["distillation_losses"]
            ]
        return cls(**config)


_LOSS_CLASSES = {cls.__name__: cls for cls in (FeatureDistillation, LogitsDistillation)}


def _serialize(loss: Any) -> dict[str, Any]:
    from ..saving.registry import get_registered_name

    name = type(loss).__name__
    own = _LOSS_CLASSES.get(name) is type(loss)
    if not hasattr(loss, "get_config"):
        raise TypeError(
            f"Cannot save distillation loss {name}: give it get_config() (its constructor "
            "arguments) and register it with lamina.saving.register_serializable"
        )
    return {
        "module": "keras.distillation" if own else type(loss).__module__,
        "class_name": name,
        "config": loss.get_config(),
        "registered_name": None if own else get_registered_name(loss),
    }


def _deserialize(entry: Any) -> Any:
    from ..saving.registry import resolve_class

    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(
            "A serialized distillation loss is a dict {'class_name': ..., 'config': {...}}; "
            f"got {entry!r}"
        )
    cls = resolve_class(entry, _LOSS_CLASSES.get(entry["class_name"]))
    if not (isinstance(cls, type) and issubclass(cls, DistillationLoss)):
        raise ValueError(
            f"Unknown distillation loss {entry['class_name']!r}: register it with "
            "lamina.saving.register_serializable or pass it in custom_objects"
        )
    config = entry.get("config") or {}
    from_config = getattr(cls, "from_config", None)
    return from_config(config) if from_config is not None else cls(**config)
