"""TorchModuleWrapper: any `torch.nn.Module` as a lamina layer, its parameters as weights.

>>> import torch
>>> layer = TorchModuleWrapper(torch.nn.Linear(4, 2))
>>> layer(torch.ones(3, 4)).shape, layer.count_params()
(torch.Size([3, 2]), 10)
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import is_lazy

from ._symbolic import flatten_structure, map_shapes
from ._weights import _WeightInfo, tensors_on
from .layer import Layer, Shape

__all__ = ["TorchModuleWrapper"]


def _has_uninitialized_parameters(module: torch.nn.Module) -> bool:
    return any(
        isinstance(m, LazyModuleMixin) and m.has_uninitialized_params() for m in module.modules()
    )


class TorchModuleWrapper(Layer):
    """Turns a `torch.nn.Module` into a layer whose parameters lamina tracks.

    The module's parameters become the layer's weights, in `module.parameters()` order and
    PyTorch's layout: trainable when they require a gradient at wrapping time, so they are
    counted by `summary()` and `count_params()`, listed by `get_weights()`, and trained by
    `fit`. Buffers (batch-norm statistics) are not weights, as in Keras, but they are part of the
    state_dict, so `save_weights` / `load_weights` keep them.

    A lazy module (`torch.nn.LazyLinear`...) is built on the first call, or by an `Input`: the
    module runs once on zeros of that input shape (batch 1, in eval mode, without gradient)
    to create its parameters. Keras 3 refuses uninitialized lazy modules; lamina builds them.

    The module runs in training mode when the layer is called with `training=True` (inside
    `fit`) and in eval mode otherwise. Like lamina's own layers, its tensors follow the device
    of the first input it is called on.

    Saving: Keras stores the module in the config as a `torch.save` pickle, and loading a
    pickle can run arbitrary code. lamina's files hold data only, so `get_config()` raises a
    ValueError (and with it `model.save`, `to_json` and `clone_model`): save the weights with
    `model.save_weights(...)`, rebuild the model in code, and `load_weights`. `from_config`
    accepts a config whose `module` is a module object, never a serialized one.

    Args:
        module: the `torch.nn.Module` to wrap.
        name: the layer's name.
        output_shape: the output shape (batch axis included, e.g. (None, 10)); returned as is
            by `compute_output_shape`. By default it is inferred by running the module on
            `meta` tensors.

    Input shape:
        whatever the module takes (several positional inputs are passed on in order).
    Output shape:
        the module's.

    >>> import torch
    >>> from lamina.layers.core import Dense, Input
    >>> x = Input((3, 8, 8))
    >>> TorchModuleWrapper(torch.nn.Conv2d(3, 5, 3))(x).shape   # PyTorch's NCHW layout
    (None, 5, 6, 6)
    >>> lazy = TorchModuleWrapper(torch.nn.LazyLinear(4))
    >>> lazy(Input((7,))).shape, lazy.count_params()
    ((None, 4), 32)
    """

    def __init__(
        self,
        module: torch.nn.Module,
        name: str | None = None,
        output_shape: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(module, torch.nn.Module):
            got = f"the class {module.__name__}" if isinstance(module, type) else repr(module)
            raise TypeError(
                f"TorchModuleWrapper '{self.name}' wraps a torch.nn.Module instance, e.g. "
                f"torch.nn.Linear(4, 2); got {got}"
            )
        if output_shape is not None and not isinstance(output_shape, (list, tuple)):
            raise TypeError(
                f"TorchModuleWrapper '{self.name}': output_shape must be a tuple or list such "
                f"as (None, 10); got {output_shape!r}"
            )
        self.module = module
        self.output_shape = output_shape
        self._weight_infos: dict[str, _WeightInfo] = {}
        self._placed = False
        if not _has_uninitialized_parameters(module):
            self._track_parameters()
            self.built = True
        if not self._trainable:
            self.trainable = False

    # ---------------------------------------------------------------- weights

    def _track_parameters(self) -> None:
        """Record each parameter as a weight; trainable if it requires a gradient now."""
        for name, parameter in self.module.named_parameters():
            if name not in self._weight_infos and not is_lazy(parameter):
                self._weight_infos[name] = _WeightInfo(
                    keras_name=name,
                    keras_axes=None,
                    regularizer=None,
                    trainable=parameter.requires_grad,
                )

    def _own_weights(self) -> list[tuple[str, torch.Tensor, _WeightInfo]]:
        # The module's parameters stand for the weights `add_weight` would have made.
        self._track_parameters()
        return [
            (name, parameter, self._weight_infos[name])
            for name, parameter in self.module.named_parameters()
            if name in self._weight_infos
        ]

    def build(self, input_shape: Shape) -> None:
        """Create a lazy module's parameters by running it once on zeros of `input_shape`."""
        if not _has_uninitialized_parameters(self.module):
            return
        pending = [t for t in (*self.module.parameters(), *self.module.buffers()) if is_lazy(t)]
        device = pending[0].device

        def zeros(shape: Any) -> torch.Tensor:
            if shape is None or any(size is None for size in shape[1:]):
                raise ValueError(
                    f"TorchModuleWrapper '{self.name}' wraps a lazy module, which needs every "
                    f"axis but the batch to be known to build; got input shape {input_shape}. "
                    "Give the Input a full shape, or call the module once before wrapping it."
                )
            return torch.zeros((1, *shape[1:]), dtype=self._compute_dtype, device=device)

        dummy = map_shapes(zeros, input_shape)
        mode = self.module.training
        self.module.eval()  # no batch-norm statistics from the zeros
        try:
            with torch.no_grad():
                self.module(dummy)
        finally:
            self.module.train(mode)
        self._track_parameters()
        if not self._trainable:
            self.trainable = False

    # ---------------------------------------------------------------- calling

    def call(self, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if not self._placed:
            first = flatten_structure(args[0])[0] if args else None
            if isinstance(first, torch.Tensor) and first.device.type != "meta":
                if not tensors_on(self.module, first.device):
                    self.module.to(first.device)
                self._placed = True
        if self.module.training != bool(training):
            self.module.train(bool(training))
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_shape is None:
            return super().compute_output_shape(input_shape)
        return tuple(self.output_shape)

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """Not available: the module would have to be pickled (see the class docstring)."""
        raise ValueError(
            f"TorchModuleWrapper '{self.name}' wraps a {type(self.module).__name__} "
            "(torch.nn.Module), which lamina cannot write as data: Keras pickles the module "
            "into the config, and loading a pickle can run arbitrary code. Save the weights "
            "instead: model.save_weights('model.weights.h5') (ModelCheckpoint: "
            "save_weights_only=True), rebuild the model in code, then model.load_weights(...)."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TorchModuleWrapper:
        """Rebuild from a config whose `module` is a `torch.nn.Module` object; a serialized
        module (Keras' base64 `torch.save` pickle) is refused, never unpickled."""
        module = config.get("module")
        if not isinstance(module, torch.nn.Module):
            raise ValueError(
                "TorchModuleWrapper.from_config needs config['module'] to be a torch.nn.Module "
                f"object; got {type(module).__name__}. lamina does not unpickle modules from "
                "configs or files (Keras stores a torch.save pickle there): create the module "
                "in code and pass it in, then load the weights with load_weights."
            )
        return cls(**config)
