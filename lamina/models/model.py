"""Model: a Layer that trains. compile / fit / evaluate / predict delegate to `training/`.

Subclass it with `__init__` and `call`, or use `Sequential`.

>>> import numpy as np, lamina
>>> class TwoLayers(lamina.Model):
...     def __init__(self):
...         super().__init__()
...         self.hidden = lamina.layers.Dense(8, activation="relu")
...         self.out = lamina.layers.Dense(1)
...     def call(self, x):
...         return self.out(self.hidden(x))
>>> model = TwoLayers()
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(np.zeros((4, 3)), np.zeros((4, 1)), epochs=1, verbose=0)
>>> sorted(history.history)
['loss']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..layers._added_losses import clear_added_losses
from ..layers._shape_inference import unknown_batch
from ..layers._string_arrays import holds_strings
from ..layers._symbolic import flatten_structure, map_shapes, map_structure
from ..layers._variables import discarding_updates
from ..layers.layer import Layer, Shape
from ..training.custom_steps import whole_batch_data
from ..training.host_memory import cached_host_memory
from ._compile_attributes import CompileAttributes
from ._step_api import StepAPI

__all__ = ["Model"]


def _resolve_verbose(verbose: Any) -> int | str:
    """0, 1, 2, or 'auto' kept as it is (Keras' History.params shows it; the bar reads 1)."""
    if verbose == "auto":
        return "auto"
    if verbose not in (0, 1, 2):  # Keras takes any value: no bar (an epoch header if truthy)
        return verbose
    return int(verbose)


_META = torch.device("meta")


class Model(CompileAttributes, StepAPI, Layer):
    """A trainable stack or graph of layers with Keras' training API."""

    # Called with no training value, a model lets each layer decide (Keras: augmentation
    # layers augment, the others infer).
    _training_unset = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        # Model(inputs, outputs) builds a functional model, as in Keras.
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs or "outputs" in kwargs:
            # A subclass called with inputs and outputs (to override train_step, say) is a
            # functional model of that subclass, as in Keras.
            from .functional import Functional

            if not isinstance(self, Functional):
                self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)  # type: ignore[arg-type]
            return
        super().__init__(**kwargs)
        self._compile_state: Any = None
        self._trainer: Any = None
        self.stop_training = False
        self.history: Any = None

    # ------------------------------------------------------------------ structure

    @property
    def layers(self) -> list[Layer]:
        """The model's direct layers, in order."""
        return self._sublayers()

    def quantize(
        self, mode: str | None = None, config: Any = None, filters: Any = None, **kwargs: Any
    ) -> None:
        """Quantize every Dense, EinsumDense and Embedding (Keras' `model.quantize`)."""
        from ..layers._quantization import quantize_model

        quantize_model(self, mode, config=config, filters=filters, **kwargs)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or at position `index` in `layers`."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name= or index=")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer(index={index}) is out of range: model '{self.name}' has "
                    f"{len(layers)} layers"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No layer named {name!r} in model '{self.name}'. Layers: "
            f"{', '.join(layer.name for layer in layers)}"
        )

    def build(self, input_shape: Shape) -> None:
        """Build by running the model once on `meta` tensors of `input_shape`."""
        if self.built:
            return
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not self.built:
            # A subclassed model's sub-layers are only known by running `call`: run it once on
            # a one-sample zero batch (on the CPU, where the new weights are created), which
            # builds every sub-layer with real shapes. A build pass: no counter moves.
            def zeros(shape: Any) -> Any:
                return torch.zeros(tuple(1 if d is None else d for d in shape))

            with torch.no_grad(), discarding_updates(), unknown_batch(input_shape):
                outputs = self.call(map_shapes(zeros, input_shape))
            clear_added_losses(self)  # nor add_loss terms or activity penalties
            self.built = True
            self._build_input_shape = input_shape
            batch = flatten_structure(input_shape)[0] if input_shape else None
            return map_structure(lambda t: (batch, *tuple(t.shape)[1:]), outputs)
        return super().compute_output_shape(input_shape)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        # Keras moves inputs to where the model lives; a torch user expects the same of
        # model(x) after fit() put the model on the GPU. (Layer.forward clears the add_loss
        # terms at the outermost call.)
        if args:
            first = next(self.parameters(), None)
            if first is not None and first.device.type != "meta":
                device = first.device

                def place(item: Any) -> Any:
                    if isinstance(item, np.ndarray):
                        if holds_strings(item):
                            return item  # text: for the string layers, on the host
                        item = torch.from_numpy(item)
                    # (meta tensors stay: an enclosing layer's shape inference)
                    if isinstance(item, torch.Tensor) and item.device not in (device, _META):
                        return item.to(device)
                    return item

                args = (map_structure(place, args[0]), *args[1:])
        return super().forward(*args, **kwargs)

    @property
    def output_activation(self) -> str | None:
        """'softmax'/'sigmoid' when the model ends in one (losses then read the logits)."""
        return None

    def call_with_logits(self, x: Any, training: bool | None = None) -> tuple[Any, Any]:
        """(predictions, logits before the final softmax/sigmoid); see `output_activation`."""
        return self(x, training=training), None

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
        show_arithmetic: bool | None = None,
    ) -> None:
        """Print a table of layers, output shapes and parameter counts, as Keras.

        Convolutional networks also get receptive-field and multiply-add columns
        (`show_arithmetic=False` hides them).
        """
        from ..inspect.summary import print_summary

        print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
            show_arithmetic=show_arithmetic,
        )

    # ------------------------------------------------------------------ training

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = "auto",
        auto_scale_loss: bool = True,
        cuda_graphs: bool = False,
    ) -> None:
        """Set the optimizer, loss and metrics for training.

        Args:
            optimizer: a name ('adam') or an optimizer object.
            loss: a name ('sparse_categorical_crossentropy'), a function or a Loss object.
            loss_weights: a scalar weight for the loss.
            metrics: names ('accuracy') or Metric objects.
            weighted_metrics: metrics that take sample_weight/class_weight into account.
            jit_compile: True hands the train and test steps to `torch.compile` (a last,
                smaller batch runs eagerly instead of recompiling); False runs eagerly;
                'auto' runs eagerly, except in a `fit` whose rest would take 600 s or more,
                which keeps the compiled train step if a timed trial finds it faster
                (lamina.training.auto_jit, docs/performance.md).
            auto_scale_loss: with a 'mixed_float16' policy, scale the loss against float16
                underflow (torch.amp.GradScaler).
            cuda_graphs: (lamina only) on CUDA, compile the steps in inductor's CUDA-graph
                mode (that of `torch.compile(mode='reduce-overhead')`), which replays each graph as
                a CUDA graph: one launch instead of one per kernel. Elsewhere the steps are
                compiled without graphs, with a warning. Needs `jit_compile` True or 'auto'.
        """
        from ..training.compile import CompileState
        from ..training.trainer import Trainer

        self._compile_state = CompileState(
            optimizer,
            loss,
            loss_weights,
            metrics,
            weighted_metrics,
            jit_compile,
            steps_per_execution,
            output_names=getattr(self, "output_names", None),
            dict_outputs=isinstance(getattr(self, "_output_structure", None), dict),
            auto_scale_loss=auto_scale_loss,
            cuda_graphs=cuda_graphs,
        )
        self._trainer = Trainer(self, self._compile_state)
        self.run_eagerly = run_eagerly

    @property
    def optimizer(self) -> Any:
        return None if self._compile_state is None else self._compile_state.optimizer

    @property
    def loss(self) -> Any:
        return None if self._compile_state is None else self._compile_state.loss_identifier

    @property
    def compiled(self) -> bool:
        return self._compile_state is not None

    def get_compile_config(self) -> dict[str, Any] | None:
        """compile()'s arguments as JSON types, or None before compile(), as Keras."""
        from ..saving.model_file import _compile_config

        return _compile_config(self) if self.compiled else None

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """compile() with the arguments `get_compile_config()` gave."""
        from ..saving.model_file import _compile

        _compile(self, config)

    @property
    def metrics_names(self) -> list[str]:
        """The names of `evaluate()`'s values, in its order: 'loss', each output's loss, then
        the compiled metrics (made on the first batch). Keras 3 lists its metric objects here
        instead ('loss', 'compile_metrics', ...), which do not line up with evaluate()."""
        if self._trainer is None:
            return ["loss"]
        return self._trainer.result_names()

    def _require_compiled(self, what: str) -> Any:
        if self._trainer is None:
            raise ValueError(
                f"You must call compile() before {what}(): model '{self.name}' has no optimizer "
                "or loss yet. Example: model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy'])"
            )
        return self._trainer

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | list[int] = 1,
    ) -> Any:
        """Train for `epochs` epochs; returns a History whose `.history` has Keras' keys."""
        trainer = self._require_compiled("fit")
        with cached_host_memory(trainer.device):
            return trainer.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=epochs,
                verbose=_resolve_verbose(verbose),
                callbacks=callbacks,
                validation_split=validation_split,
                validation_data=validation_data,
                shuffle=shuffle,
                class_weight=class_weight,
                sample_weight=sample_weight,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps_per_epoch,
                validation_steps=validation_steps,
                validation_batch_size=validation_batch_size,
                validation_freq=validation_freq,
            )

    def _format_results(self, logs: dict[str, float], return_dict: bool) -> Any:
        if return_dict:
            return logs
        ordered = self._trainer.results_in_order(logs)
        return ordered[0] if len(ordered) == 1 else ordered

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[Any] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss (and metrics) on the given data: a scalar, a list, or a dict with return_dict."""
        trainer = self._require_compiled("evaluate")
        with cached_host_memory(trainer.device):
            logs = trainer.evaluate(
                x,
                y,
                sample_weight,
                batch_size=batch_size,
                verbose=_resolve_verbose(verbose),
                callbacks=callbacks,
                steps=steps,
            )
        return self._format_results(logs, return_dict)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Any] | None = None,
    ) -> Any:
        """The model's outputs on `x`, batched, as NumPy arrays."""
        from ..training.trainer import Trainer

        trainer = self._trainer or Trainer(self, None)
        with cached_host_memory(trainer.device):
            return trainer.predict(
                x,
                batch_size=batch_size,
                verbose=_resolve_verbose(verbose),
                callbacks=callbacks,
                steps=steps,
            )

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One gradient step on one batch; returns this batch's loss (and metrics), as Keras."""
        trainer = self._require_compiled("train_on_batch")
        return self._format_results(
            trainer.train_on_batch(x, y, sample_weight, class_weight), return_dict
        )

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss (and metrics) on one batch, without updating the weights."""
        trainer = self._require_compiled("test_on_batch")
        return self._format_results(trainer.test_on_batch(x, y, sample_weight), return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's outputs on one batch, as NumPy arrays."""
        first = flatten_structure(x)[0]
        with whole_batch_data():  # a model's own predict_step gets (x,), as in Keras
            return self.predict(x, batch_size=max(1, int(np.shape(first)[0])), verbose=0)

    def reset_metrics(self) -> None:
        if self._trainer is not None:
            self._trainer.reset_metrics()

    # ------------------------------------------------------------------ weights files

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON, for `lamina.models.model_from_json` (Keras' API)."""
        from .cloning import model_to_json

        return model_to_json(self, **kwargs)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Model:
        """Rebuild a model from `get_config()`; `Model.from_config` of a functional model's
        config gives the functional model, as in Keras."""
        from ..saving.registry import CustomObjectScope
        from .functional import Functional

        with CustomObjectScope(custom_objects):
            if "input_layers" in config:  # a functional model, of this class if a subclass
                return Functional.from_config.__func__(  # type: ignore[attr-defined]
                    Functional if cls is Model else cls, config
                )
            return super().from_config(config)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights (PyTorch layout, state_dict keys) to a `.safetensors` file."""
        from ..saving.weights import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(
        self, filepath: str, skip_mismatch: bool = False, by_name: bool = False
    ) -> None:
        """Load weights written by `save_weights` (or a torch state_dict `.pt` file);
        `by_name=True` matches them by layer name instead of position."""
        from ..saving.weights import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def save(self, filepath: str, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save the whole model to one `.lamina` file: architecture, weights, compile settings
        and optimizer state (see `lamina.models.load_model`)."""
        from ..saving.model_file import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def export(
        self,
        filepath: str,
        format: str | None = None,
        verbose: bool = True,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Export for inference: ONNX ('.onnx', through torch.onnx) or a torch.export
        program ('.pt2'). See `lamina.saving.export.export_model`."""
        from ..saving.export import export_model

        return export_model(
            self,
            filepath,
            format=format,
            verbose=verbose,
            input_signature=input_signature,
            **kwargs,
        )


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    """`cls` with Functional's graph machinery: `cls`'s methods (train_step...) come first."""
    from .functional import Functional

    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
        made.__qualname__ = cls.__qualname__
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made
