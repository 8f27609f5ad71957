"""Export a model for inference: ONNX (through torch.onnx) or a torch.export program (.pt2).

Both formats trace the model once in inference mode (Dropout off, BatchNormalization on its
moving statistics) with the batch axis symbolic, so the file serves any batch size. The ONNX
file runs in onnxruntime without lamina or torch; the `.pt2` file loads with
`torch.export.load(path).module()`. Files are written to a temporary file and renamed into
place. TorchScript is not offered: `torch.jit` is deprecated, `torch.jit.script` cannot compile
lamina's layers, and tracing freezes their shape checks to the traced sizes.

>>> import os, tempfile, torch, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> with tempfile.TemporaryDirectory() as folder:
...     path = export_model(model, os.path.join(folder, "model.pt2"), verbose=False)
...     torch.export.load(path).module()(torch.ones(5, 3)).shape
torch.Size([5, 2])
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..layers._symbolic import KerasTensor, is_shape, map_shapes
from ._archive import atomic_write, is_writer

__all__ = ["export_model"]

SUFFIXES = {".onnx": "onnx", ".pt2": "torch"}
# Keyword arguments each format passes on (to torch.onnx.export / torch.export.export).
FORMAT_KWARGS = {
    "onnx": ("opset_version", "dynamic_shapes", "optimize"),
    "torch": ("dynamic_shapes", "strict", "preserve_module_call_signature"),
}
# Size of the example batch traced: torch.export fixes an axis of size 1 to a constant.
_EXAMPLE_BATCH = 2
# Size traced for other unknown axes (variable image sizes, sequence lengths): large enough for
# a few poolings, as lamina's shape inference on `meta` uses.
_EXAMPLE_SIZE = 64
_TENSORS = (torch.Tensor, np.ndarray, KerasTensor)
# Stands for one input in the structure of a model's inputs (a list, tuple or dict of them).
_INPUT = "<input>"
# protobuf cannot serialise an ONNX model over 2 GiB into one file.
_ONNX_LIMIT = 2**31 - 2**24


@dataclass
class _Spec:
    name: str
    shape: tuple[int | None, ...]
    dtype: torch.dtype


def export_model(
    model: Any,
    filepath: str | os.PathLike[str],
    format: str | None = None,
    verbose: bool = True,
    input_signature: Any = None,
    **kwargs: Any,
) -> str:
    """Export `model` for inference, as Keras' `Model.export`; returns the path written.

    Args:
        filepath: where to write; `.onnx` or `.pt2` when `format` is None.
        format: "onnx" (torch.onnx's exporter built on torch.export, its default opset) or
            "torch" (a `torch.export` ExportedProgram saved with `torch.export.save`).
        verbose: print where the file went.
        input_signature: the inputs to trace, one per model input (a list or dict for several):
            a shape with the batch axis (`(None, 28, 28, 1)`; None axes stay symbolic), an
            example tensor or array (its batch axis becomes symbolic), or an `Input` tensor.
            Default: the model's own input shapes.
        **kwargs: passed to torch.onnx.export (`opset_version`, `optimize`) or
            torch.export.export (`strict`, `preserve_module_call_signature`); `dynamic_shapes`,
            one entry per input, replaces the default (axis 0 symbolic, shared by all inputs).
    """
    path = Path(filepath)
    format = _resolve_format(format, path)
    unknown = sorted(set(kwargs) - set(FORMAT_KWARGS[format]))
    if unknown:
        raise TypeError(
            f"export_model(format={format!r}) got unexpected arguments {unknown}; it accepts "
            f"{list(FORMAT_KWARGS[format])}"
        )
    if format == "onnx":
        _require_onnx()
    specs, structure = _signature(model, input_signature)
    if not is_writer():
        return str(path)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    examples = tuple(_example(spec, device) for spec in specs)
    dynamic_shapes = kwargs.pop("dynamic_shapes", None)
    if dynamic_shapes is None:
        dynamic_shapes = _dynamic_shapes(specs)
    elif isinstance(dynamic_shapes, dict) and len(specs) == 1:
        dynamic_shapes = (dynamic_shapes,)
    # The wrapper's forward takes the inputs positionally: torch.export sees `*inputs` as one
    # argument, hence the extra tuple around the per-input entries.
    dynamic_shapes = (tuple(dynamic_shapes),)
    wrapper = _FlatInputs(model, structure)
    modes = {module: module.training for module in model.modules()}
    wrapper.eval()
    try:
        with _quiet_torch_export():
            if format == "onnx":
                program = torch.onnx.export(
                    wrapper,
                    examples,
                    dynamo=True,
                    dynamic_shapes=dynamic_shapes,
                    input_names=[spec.name for spec in specs],
                    output_names=_output_names(model, specs),
                    verbose=False,
                    **kwargs,
                )
            else:
                program = torch.export.export(
                    wrapper, examples, dynamic_shapes=dynamic_shapes, **kwargs
                )
    except Exception as error:
        cause = error.__cause__ or error  # torch.onnx wraps the error torch.export raised
        described = ", ".join(f"{spec.name} {spec.shape}" for spec in specs)
        reason = (str(cause).strip() or "no message").splitlines()[0]
        raise RuntimeError(
            f"Could not export model '{model.name}' for inputs {described} (None axes "
            f"symbolic): {type(cause).__name__}: {reason}. If an axis other than the batch "
            "cannot be symbolic, fix its size in input_signature, e.g. (None, 224, 224, 3)."
        ) from error
    finally:
        for module, training in modes.items():
            module.training = training
    if format == "torch":
        atomic_write(path, lambda handle: torch.export.save(program, handle))
    elif sum(t.numel() * t.element_size() for t in model.state_dict().values()) < _ONNX_LIMIT:
        data = program.model_proto.SerializeToString()
        atomic_write(path, lambda handle: handle.write(data))
    else:  # the weights go to `<name>.data` beside the file: two files, not renamed atomically
        program.save(str(path), external_data=True)
    if verbose:
        print(f"Saved {'ONNX model' if format == 'onnx' else 'ExportedProgram'} to '{path}'.")
    return str(path)


def _resolve_format(format: str | None, path: Path) -> str:
    suffix = path.suffix.lower()
    if format is None:
        if suffix not in SUFFIXES:
            raise ValueError(
                f"Cannot tell the export format of {str(path)!r} from its suffix: use .onnx "
                "(ONNX) or .pt2 (torch.export), or pass format='onnx' / format='torch'"
            )
        return SUFFIXES[suffix]
    if format in ("torchscript", "ts"):
        raise ValueError(
            "TorchScript export is not supported: torch.jit is deprecated, torch.jit.script "
            "cannot compile lamina layers and tracing freezes their shape checks. Use "
            "format='torch' (a .pt2 torch.export program) or format='onnx'."
        )
    if format not in FORMAT_KWARGS:
        raise ValueError(
            f"Unknown export format {format!r}; lamina exports 'onnx' and 'torch' (Keras' "
            "'tf_saved_model', 'openvino' and 'litert' need TensorFlow or other runtimes)"
        )
    if SUFFIXES.get(suffix, format) != format:
        raise ValueError(
            f"format={format!r} does not match the file suffix of {str(path)!r}; "
            f"{suffix} is for format={SUFFIXES[suffix]!r}"
        )
    return format


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"ONNX export needs the onnx and onnxscript packages ({error}); install them with "
            "pip install 'lamina[onnx]'"
        ) from error


def _signature(model: Any, input_signature: Any) -> tuple[list[_Spec], Any]:
    """The flat input specs and the structure the model takes them in (None: one tensor)."""
    if input_signature is None:
        if isinstance(getattr(model, "inputs", None), list) and model.inputs:
            input_signature = getattr(model, "_input_structure", model.inputs)
        elif getattr(model, "built", False) and model._build_input_shape is not None:
            input_signature = map_shapes(
                lambda shape: (None, *tuple(shape)[1:]), model._build_input_shape
            )
        else:
            raise ValueError(
                f"Model '{model.name}' is not built, so its input shape is unknown and it "
                "cannot be exported: start it with keras.Input(shape), call "
                "model.build((None, ...)) or call it on a batch of data once, or pass "
                "input_signature="
            )
    if _is_shape(input_signature) or isinstance(input_signature, _TENSORS):
        return [_spec(input_signature, 0, model)], None
    if isinstance(input_signature, list | tuple) and len(input_signature) == 1:
        return [_spec(input_signature[0], 0, model)], None
    # The order in which the wrapper refills the structure (shape tuples are leaves).
    structure = _sorted_dicts(input_signature)
    leaves: list[Any] = []
    map_shapes(leaves.append, structure)
    specs = [_spec(leaf, index, model) for index, leaf in enumerate(leaves)]
    return specs, map_shapes(lambda _: _INPUT, structure)


def _is_shape(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and is_shape(tuple(value))


def _spec(value: Any, index: int, model: Any) -> _Spec:
    name = f"input_{index}"
    if isinstance(value, KerasTensor):  # named by its Input layer
        name = getattr(value.layer, "name", None) or value.name or name
        return _Spec(name, tuple(value.shape), getattr(torch, value.dtype))
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            raise ValueError(f"input_signature[{index}] is a scalar; inputs have a batch axis")
        return _Spec(name, (None, *value.shape[1:]), value.dtype)
    if _is_shape(value):
        return _Spec(name, tuple(value), model._compute_dtype)
    raise TypeError(
        f"input_signature entry {index} must be a shape with its batch axis (None, 28, 28, 1), "
        f"an example tensor or array, or an Input tensor; got {value!r}"
    )


def _example(spec: _Spec, device: torch.device) -> torch.Tensor:
    shape = [
        known if known is not None else _EXAMPLE_BATCH if axis == 0 else _EXAMPLE_SIZE
        for axis, known in enumerate(spec.shape)
    ]
    # Ones for floats; zeros for integers, which are valid indices (Embedding, one-hot).
    fill = 1 if spec.dtype.is_floating_point else 0
    return torch.full(shape, fill, dtype=spec.dtype, device=device)


def _dynamic_shapes(specs: list[_Spec]) -> list[dict[int, Any]]:
    # One symbol for every input's batch axis (Keras batches inputs together); other unknown
    # axes are left to torch.export, which keeps them symbolic where the model allows.
    batch = torch.export.Dim("batch")
    return [
        {
            axis: batch if axis == 0 else torch.export.Dim.AUTO
            for axis, size in enumerate(spec.shape)
            if size is None
        }
        for spec in specs
    ]


class _FlatInputs(torch.nn.Module):
    """Takes the model's inputs as positional tensors and repacks them into its structure."""

    def __init__(self, model: Any, structure: Any) -> None:
        super().__init__()
        self.model = model
        self.structure = structure

    def forward(self, *inputs: torch.Tensor) -> Any:
        if self.structure is None:
            return self.model(inputs[0])
        leaves = iter(inputs)
        return self.model(map_shapes(lambda _: next(leaves), self.structure))


def _sorted_dicts(structure: Any) -> Any:
    # flatten_structure visits dict keys sorted: rebuild dicts in that order before refilling.
    if isinstance(structure, dict):
        return {key: _sorted_dicts(structure[key]) for key in sorted(structure)}
    if isinstance(structure, list | tuple) and not _is_shape(structure):
        return type(structure)(_sorted_dicts(item) for item in structure)
    return structure


def _output_names(model: Any, specs: list[_Spec]) -> list[str] | None:
    """The names of the model's outputs in the order it returns them, when it has a graph."""
    structure = getattr(model, "_output_structure", None) or getattr(model, "outputs", None)
    if isinstance(structure, dict):  # returned in the dict's own order (as torch flattens it)
        names = (
            list(structure) if all(isinstance(v, KerasTensor) for v in structure.values()) else []
        )
    elif isinstance(structure, list | tuple):
        names = [t.layer.name for t in structure if isinstance(t, KerasTensor)]
        names = names if len(names) == len(structure) else []
    else:
        names = [structure.layer.name] if isinstance(structure, KerasTensor) else []
    every = names + [spec.name for spec in specs]
    return names if names and None not in names and len(set(every)) == len(every) else None


@contextlib.contextmanager
def _quiet_torch_export() -> Iterator[None]:
    """Silences the noise torch's exporters emit for every model (none of it actionable)."""
    logger = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = logger.level
    with warnings.catch_warnings():
        # torch's own pytree code calls a helper it deprecated (torch 2.9+).
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
        # Inputs share one batch symbol; torch.onnx notes that it names the axis only once.
        warnings.filterwarnings("ignore", message=r"# The axis name: .* shares the same shape")
        # The ONNX registry logs each torchvision op it skips when torchvision is absent.
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)
