"""What a `Distiller` compares between teacher and student: `DistillationLoss` (the base to
subclass), `LogitsDistillation` (the final outputs, softened by a temperature) and
`FeatureDistillation` (the outputs of intermediate layers), with Keras 3's arguments.

A loss given by name resolves as `keras.losses.get` resolves it: a function name
('kl_divergence', 'mse') gives lamina's loss function (applied to the temperature-scaled
values directly, per sample, then averaged), a class name ('KLDivergence') an instance.
As in Keras, `LogitsDistillation` turns the scaled logits into probabilities and multiplies
by `temperature ** 2` only for a `KLDivergence` instance:

>>> import torch
>>> teacher, student = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([[1.0, 0.5, 0.0]])
>>> soft = LogitsDistillation(temperature=2.0, loss=losses.KLDivergence())
>>> round(float(soft.compute_loss(teacher, student)), 6)
0.365228
>>> FeatureDistillation(loss="mse").compute_loss(teacher, student)
tensor(0.7500)
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from .. import losses, tree

__all__ = [
    "DistillationLoss",
    "FeatureDistillation",
    "LogitsDistillation",
    "deserialize_loss",
    "resolve_loss",
    "serialize_loss",
]


def resolve_loss(item: Any) -> Any:
    """A loss name as `keras.losses.get` reads it: a class name ('KLDivergence') gives an
    instance, a function name or alias ('kl_divergence', 'mse') lamina's function. Loss
    objects, functions and None are returned as they are."""
    if item is None or not isinstance(item, str):
        return item
    found = getattr(losses, item, None) if not item.startswith("_") else None
    if isinstance(found, type) and issubclass(found, losses.Loss) and found is not losses.Loss:
        return found()
    if inspect.isfunction(found):
        return found
    raise ValueError(f"Unknown loss function: '{item}'.")


def serialize_loss(loss: Any) -> Any:
    """A (nested) loss in Keras' serialized form: a function as
    `{'module': 'builtins', 'class_name': 'function', 'config': name}`, a Loss object as
    `{'module': 'keras.losses', 'class_name': ..., 'config': ...}`.

    >>> serialize_loss("mse")["config"]
    'mean_squared_error'
    """

    def one(item: Any) -> Any:
        item = resolve_loss(item)
        if item is None:
            return None
        if isinstance(item, losses.Loss):
            return {"module": "keras.losses", "registered_name": None, **losses.serialize(item)}
        if callable(item) and hasattr(item, "__name__"):
            from ..saving import get_registered_name

            return {
                "module": "builtins",
                "class_name": "function",
                "config": get_registered_name(item),
                "registered_name": "function",
            }
        raise TypeError(f"Cannot serialize the distillation loss {item!r}")

    return tree.map_structure(one, loss)


def deserialize_loss(config: Any) -> Any:
    """Inverse of `serialize_loss` (Keras' serialized losses read too)."""
    if config is None or isinstance(config, str):
        return resolve_loss(config)
    if isinstance(config, dict) and "class_name" in config:
        if config["class_name"] == "function":
            name = config.get("config")
            from ..saving import get_registered_object

            function = get_registered_object(name)
            return function if callable(function) else resolve_loss(name)
        return losses.deserialize({k: v for k, v in config.items() if k != "module"})
    if isinstance(config, dict):
        return {key: deserialize_loss(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [deserialize_loss(value) for value in config]
    return config


def _sum_of(values: list[Any], like: torch.Tensor) -> torch.Tensor:
    """The sum of per-output losses (0.0 for a skipped output), as a scalar tensor."""
    return torch.stack([torch.as_tensor(v, dtype=like.dtype, device=like.device) for v in values])


def _first_tensor(structure: Any) -> torch.Tensor:
    for leaf in tree.flatten(structure):
        if isinstance(leaf, torch.Tensor):
            return leaf
    return torch.zeros(())


class DistillationLoss:
    """Base class of distillation losses: subclass it and implement `compute_loss`.

    >>> class Squared(DistillationLoss):
    ...     def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
    ...         return ((teacher_outputs - student_outputs) ** 2).mean()
    >>> Squared().compute_loss(torch.ones(2, 3), torch.zeros(2, 3))
    tensor(1.)
    """

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        """The (scalar) distillation loss between teacher and student outputs (tensors, or
        lists/dicts of them for models with several outputs)."""
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        """Raise ValueError when teacher and student outputs are not the same structure."""
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        """Raise ValueError when this loss cannot be used with these models (nothing here)."""


class FeatureDistillation(DistillationLoss):
    """Distill intermediate features: the teacher layer's output against the student's.

    Args:
        loss: a loss name ('mse', 'cosine_similarity', 'mae'), a Loss object, or a nested
            structure of them (one per output; None skips an output). At least one must
            not be None.
        teacher_layer_name: the teacher layer whose output is distilled (None: the final
            output).
        student_layer_name: the student layer that should reproduce it (None: the final
            output).

    Layer names need functional or Sequential models (their layers' outputs are read in
    one forward pass).

    >>> FeatureDistillation(teacher_layer_name="dense", student_layer_name="dense_1").loss
    <function mean_squared_error at ...>
    """

    def __init__(
        self,
        loss: Any = "mse",
        teacher_layer_name: str | None = None,
        student_layer_name: str | None = None,
    ) -> None:
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = tree.map_structure(resolve_loss, loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError(
                "The `loss` argument in `FeatureDistillation` must contain at least one "
                f"non-`None` value; got loss={loss!r}"
            )

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        """Layer names need symbolic models, and layers of those names."""
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [
                role
                for role, model in (("teacher", teacher), ("student", student))
                if getattr(model, "inputs", None) is None
            ]
            if subclassed:
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(subclassed)} model(s) appear to be "
                    "subclassed (no symbolic inputs/outputs). Either use Functional/Sequential "
                    "models, or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead."
                )
        for role, model, name in (
            ("teacher", teacher, self.teacher_layer_name),
            ("student", student, self.student_layer_name),
        ):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as error:
                    raise ValueError(f"In {role} model: {error}") from error

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        """The outputs must match each other and the structure of `loss`."""
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"Loss structure mismatch. Loss structure: {_structure(self.loss)}, "
                f"Output structure: {_structure(teacher_outputs)}. Error: {error}"
            ) from error

    def compute_loss(
        self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any
    ) -> torch.Tensor:
        """The sum over outputs of each loss's mean (teacher features as the targets)."""

        def apply(loss_fn: Any, teacher: Any, student: Any) -> Any:
            if loss_fn is None:
                return 0.0
            return torch.mean(loss_fn(teacher, student))

        values = tree.map_structure(apply, self.loss, teacher_outputs, student_outputs)
        return torch.sum(_sum_of(tree.flatten(values), _first_tensor(student_outputs)))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, the losses in Keras' serialized form."""
        return {
            "loss": serialize_loss(self.loss),
            "teacher_layer_name": self.teacher_layer_name,
            "student_layer_name": self.student_layer_name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FeatureDistillation:
        """Inverse of `get_config`."""
        return cls(**{**config, "loss": deserialize_loss(config.get("loss", "mse"))})


class LogitsDistillation(DistillationLoss):
    """Distill the final outputs (logits), both divided by a temperature first.

    Args:
        temperature: a positive number; higher values soften the distributions
            (typically 3 to 5).
        loss: a loss name, a Loss object, or a nested structure of them (one per output;
            None skips an output). The default name 'kl_divergence' applies Keras'
            `kl_divergence` function to the scaled logits, as Keras does; a
            `losses.KLDivergence()` object compares the softmax probabilities and
            multiplies by `temperature ** 2` (Hinton et al.).

    >>> LogitsDistillation(temperature=4.0).get_config()["temperature"]
    4.0
    """

    def __init__(self, temperature: float = 3.0, loss: Any = "kl_divergence") -> None:
        self.temperature = temperature
        self.loss = tree.map_structure(resolve_loss, loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError(f"At least one loss must be non-`None`; got loss={loss!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError(f"temperature must be positive; got temperature={temperature}")

    def compute_loss(
        self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any
    ) -> torch.Tensor:
        """The sum over outputs of each loss's mean on the temperature-scaled logits."""
        temperature = self.temperature
        teacher_scaled = tree.map_structure(lambda t: t / temperature, teacher_outputs)
        student_scaled = tree.map_structure(lambda s: s / temperature, student_outputs)

        def apply(loss_fn: Any, teacher: Any, student: Any) -> Any:
            if loss_fn is None:
                return 0.0
            if isinstance(loss_fn, losses.KLDivergence):
                probabilities = torch.softmax(teacher, dim=-1), torch.softmax(student, dim=-1)
                return torch.mean(loss_fn(*probabilities)) * temperature**2
            return torch.mean(loss_fn(teacher, student))

        values = tree.map_structure(apply, self.loss, teacher_scaled, student_scaled)
        return torch.sum(_sum_of(tree.flatten(values), _first_tensor(student_outputs)))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, the losses in Keras' serialized form."""
        return {"temperature": self.temperature, "loss": serialize_loss(self.loss)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LogitsDistillation:
        """Inverse of `get_config`."""
        return cls(**{**config, "loss": deserialize_loss(config.get("loss", "kl_divergence"))})


def _structure(value: Any) -> Any:
    return tree.map_structure(lambda _: "*", value)
