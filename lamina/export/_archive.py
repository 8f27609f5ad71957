"""`ExportArchive`: Keras' way to export chosen functions of models for serving, written as
torch.export programs instead of a TensorFlow SavedModel.

Each endpoint is a function (`model.call`, `lambda x: model(x, training=False)`, ...) traced
once by `torch.export` for its `input_signature`, the batch axis (and other None axes, where
the model allows) kept symbolic. The tracked models' weights become the program's parameters
and buffers. `write_out("model.pt2")` writes the single endpoint as one file that
`torch.export.load(path).module()` runs; `write_out("folder")` writes `folder/<name>.pt2` for
every endpoint (and `folder/<name>.pt` for variable collections, tensors only, read with
`torch.load(..., weights_only=True)`).

>>> import os, tempfile, torch, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> archive = ExportArchive()
>>> archive.track(model)
>>> program = archive.add_endpoint("serve", model.call, [lamina.InputSpec(shape=(None, 3))])
>>> path = os.path.join(tempfile.mkdtemp(), "model.pt2")
>>> archive.write_out(path, verbose=False)
>>> torch.export.load(path).module()(torch.ones(5, 3)).shape
torch.Size([5, 2])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import tree
from ..layers._symbolic import KerasTensor
from ..saving._archive import atomic_write, is_writer
from ..saving.export import _dynamic_shapes, _example, _quiet_torch_export, _Spec

__all__ = ["ExportArchive"]


def _spec(value: Any, index: int) -> _Spec:
    """One input of an endpoint: an InputSpec, an Input tensor, or an example tensor/array
    (whose first axis becomes the symbolic batch axis)."""
    from ..layers.input_spec import InputSpec

    name = f"input_{index}"
    if isinstance(value, InputSpec):
        if value.shape is None:
            raise ValueError(
                f"ExportArchive: input_signature entry {index} is an InputSpec without a "
                "shape; give InputSpec(shape=(None, ...), dtype=...)"
            )
        dtype = getattr(torch, value.dtype or "float32")
        return _Spec(value.name or name, tuple(value.shape), dtype)
    if isinstance(value, KerasTensor):  # named by its Input layer
        name = getattr(value.layer, "name", None) or value.name or name
        return _Spec(name, tuple(value.shape), getattr(torch, value.dtype))
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor) and value.ndim > 0:
        return _Spec(name, (None, *value.shape[1:]), value.dtype)
    raise TypeError(
        f"ExportArchive: input_signature entry {index} must be a lamina.InputSpec with a "
        f"shape, an Input tensor, or an example tensor or array with a batch axis; got {value!r}"
    )


class _Endpoint(torch.nn.Module):
    """Holds the tracked modules (so their weights are the program's parameters) and calls
    `fn` on the inputs, in the structure of the input signature."""

    def __init__(self, fn: Callable[..., Any], tracked: list[torch.nn.Module]) -> None:
        super().__init__()
        self.tracked = torch.nn.ModuleList(tracked)
        object.__setattr__(self, "fn", fn)  # not a submodule: `tracked` holds the weights

    def forward(self, *inputs: Any) -> Any:
        return self.fn(*inputs)


class ExportArchive:
    """Export chosen functions of tracked models as `torch.export` programs (Keras'
    `keras.export.ExportArchive`, writing `.pt2` files instead of a SavedModel).

    Args:
        format: "torch" (default; Keras' "saved_model" needs TensorFlow and is refused).

    Example:
        `archive.track(model)`, `archive.add_endpoint("serve", model.call,
        [lamina.InputSpec(shape=(None, 3), dtype="float32")])`, then
        `archive.write_out("model.pt2")`; elsewhere `torch.export.load("model.pt2").module()`
        computes the model's outputs.
    """

    def __init__(self, format: str = "torch") -> None:
        if format != "torch":
            raise ValueError(
                f"ExportArchive: format {format!r} is not available; lamina writes torch.export "
                "programs (format='torch'). A TensorFlow SavedModel needs TensorFlow."
            )
        self._tracked: list[torch.nn.Module] = []
        self._endpoints: dict[str, torch.export.ExportedProgram] = {}
        self._collections: dict[str, dict[str, torch.Tensor]] = {}

    # ------------------------------------------------------------------ resources

    def track(self, resource: Any) -> None:
        """Track a layer or model: its weights are stored with every endpoint that uses them."""
        if not isinstance(resource, torch.nn.Module):
            raise TypeError(
                "ExportArchive.track: expected a lamina layer or model (a torch.nn.Module); got "
                f"{type(resource).__name__}"
            )
        if not getattr(resource, "built", True):
            raise ValueError(
                f"ExportArchive.track: '{getattr(resource, 'name', resource)}' is not built; "
                "call it on data or build it before exporting"
            )
        if not any(resource is known for known in self._tracked):
            self._tracked.append(resource)

    def _weights(self, trainable: bool | None) -> list[torch.Tensor]:
        seen: dict[int, torch.Tensor] = {}
        for module in self._tracked:
            for weight in getattr(module, "weights", list(module.parameters())):
                if trainable is None or bool(getattr(weight, "trainable", True)) == trainable:
                    seen.setdefault(id(weight), weight)
        return list(seen.values())

    @property
    def variables(self) -> list[torch.Tensor]:
        """The weights of the tracked layers and models."""
        return self._weights(None)

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        """The trainable weights of the tracked layers and models."""
        return self._weights(True)

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        """The non-trainable weights of the tracked layers and models."""
        return self._weights(False)

    # ------------------------------------------------------------------ endpoints

    def add_endpoint(
        self, name: str, fn: Callable[..., Any], input_signature: Any = None, **kwargs: Any
    ) -> torch.export.ExportedProgram:
        """Trace `fn` with `torch.export` and register it under `name`.

        Args:
            name: the endpoint's name (a Python identifier; the file name in a folder).
            fn: the function to export; the models it uses should be tracked (a bound
                method's model, like `model.call`, is tracked automatically). Weights of
                untracked models are stored as constants.
            input_signature: one entry per positional argument of `fn`, each an InputSpec
                with a shape, an Input tensor or an example tensor (or a list/dict of them
                for a model with several inputs). None axes stay symbolic.
            **kwargs: passed to `torch.export.export` (`strict`, `dynamic_shapes`, ...).

        Returns:
            The `torch.export.ExportedProgram`.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"ExportArchive.add_endpoint: name must be an identifier; got {name!r}"
            )
        if name in self._endpoints:
            raise ValueError(f"ExportArchive: endpoint '{name}' is already added")
        if not callable(fn):
            raise TypeError(f"ExportArchive.add_endpoint: fn must be callable; got {fn!r}")
        if input_signature is None:
            raise ValueError(
                "ExportArchive.add_endpoint: input_signature is required (torch functions "
                "carry no traced signature): e.g. [lamina.InputSpec(shape=(None, 3))]"
            )
        if not isinstance(input_signature, (list, tuple)):
            input_signature = [input_signature]
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, torch.nn.Module):
            self.track(owner)
        signature = list(input_signature)
        specs = [_spec(leaf, index) for index, leaf in enumerate(tree.flatten(signature))]
        device = next((p.device for m in self._tracked for p in m.parameters()), None)
        examples = [_example(spec, device or torch.device("cpu")) for spec in specs]
        # The program takes the signature's structure (a dict stays a dict); `forward(*inputs)`
        # is one argument to torch.export, hence the outer tuple.
        dynamic_shapes = kwargs.pop("dynamic_shapes", None) or (
            tuple(tree.pack_sequence_as(signature, _dynamic_shapes(specs))),
        )
        wrapper = _Endpoint(fn, self._tracked)
        modes = {module: module.training for module in wrapper.modules()}
        wrapper.eval()
        try:
            with _quiet_torch_export():
                program = torch.export.export(
                    wrapper,
                    tuple(tree.pack_sequence_as(signature, examples)),
                    dynamic_shapes=dynamic_shapes,
                    **kwargs,
                )
        except Exception as error:
            described = ", ".join(f"{spec.name} {spec.shape}" for spec in specs)
            reason = (str(error).strip() or "no message").splitlines()[0]
            raise RuntimeError(
                f"ExportArchive: could not export endpoint '{name}' for inputs {described} "
                f"(None axes symbolic): {type(error).__name__}: {reason}. If an axis other "
                "than the batch cannot be symbolic, fix its size in input_signature."
            ) from error
        finally:
            for module, training in modes.items():
                module.training = training
        self._endpoints[name] = program
        return program

    def track_and_add_endpoint(
        self, name: str, resource: Any, input_signature: Any, **kwargs: Any
    ) -> torch.export.ExportedProgram:
        """`track(resource)`, then an endpoint calling `resource` (inference mode)."""
        self.track(resource)
        return self.add_endpoint(name, resource, input_signature, **kwargs)

    def add_variable_collection(self, name: str, variables: Any) -> None:
        """Store `variables` (a list of weights) as `<name>.pt` beside the endpoints (folder
        output only), as Keras' collections of variables to read back."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"ExportArchive: collection name must be an identifier; got {name!r}")
        if not isinstance(variables, (list, tuple, set)):
            raise ValueError(
                "ExportArchive.add_variable_collection: variables must be a list, tuple or set "
                f"of weights; got {type(variables).__name__}"
            )
        values = {}
        for index, variable in enumerate(variables):
            if not isinstance(variable, torch.Tensor):
                raise ValueError(
                    f"ExportArchive.add_variable_collection: item {index} is a "
                    f"{type(variable).__name__}, not a weight"
                )
            key = str(getattr(variable, "path", None) or index)
            values[key] = variable.detach().cpu().clone()
        self._collections[name] = values

    # ------------------------------------------------------------------ writing

    def write_out(
        self, filepath: str | os.PathLike[str], options: Any = None, verbose: bool = True
    ) -> None:
        """Write the endpoints: one `.pt2` file for a path ending in `.pt2` (one endpoint),
        else a folder of `<endpoint>.pt2` files (and `<collection>.pt` files)."""
        if options is not None:
            raise ValueError("ExportArchive.write_out: options (a tf.saved_model option) is unused")
        if not self._endpoints:
            raise ValueError("ExportArchive.write_out: no endpoint; call add_endpoint() first")
        path = Path(filepath)
        if not is_writer():
            return
        if path.suffix == ".pt2":
            if len(self._endpoints) > 1 or self._collections:
                raise ValueError(
                    f"ExportArchive.write_out: {str(path)!r} is one .pt2 file, which holds one "
                    f"endpoint; this archive has endpoints {sorted(self._endpoints)} and "
                    f"collections {sorted(self._collections)}: write it to a folder"
                )
            ((name, program),) = self._endpoints.items()
            atomic_write(path, lambda handle: torch.export.save(program, handle))
            written = [(name, path)]
        else:
            path.mkdir(parents=True, exist_ok=True)
            written = []
            for name, program in self._endpoints.items():
                target = path / f"{name}.pt2"
                atomic_write(target, lambda handle, p=program: torch.export.save(p, handle))
                written.append((name, target))
            for name, values in self._collections.items():
                atomic_write(path / f"{name}.pt", lambda handle, v=values: torch.save(v, handle))
        if verbose:
            for name, target in written:
                program = self._endpoints[name]
                inputs = [
                    tuple(node.meta["val"].shape)
                    for node in program.graph.nodes
                    if node.op == "placeholder" and node.name in program.graph_signature.user_inputs
                ]
                print(f"Saved endpoint '{name}' (inputs {inputs}) to '{target}'.")
