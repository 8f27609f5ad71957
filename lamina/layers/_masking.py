"""Keras' automatic masks: `Embedding(mask_zero=True)` and `Masking` mark padded timesteps,
and the mask travels with the tensor (as `tensor._keras_mask`, where Keras' torch backend
keeps it too) to the next layers: those that take a `mask` argument get it (recurrent
layers, attention, 1-D global average pooling), those that support masking pass it on
(Dense, activations, dropout, normalization), and the others drop it with Keras' warning.

Nothing is paid until a layer that makes masks exists: before that, calls skip all of it.

>>> import torch
>>> from lamina.layers import Masking
>>> layer = Masking(mask_value=0.0)
>>> out = layer(torch.tensor([[[1.0], [0.0], [2.0]]]))
>>> out._keras_mask.tolist()
[[True, False, True]]
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ._symbolic import KerasTensor, flatten_structure, map_structure

__all__ = [
    "attach_call_mask",
    "attach_output_mask",
    "get_mask",
    "input_mask",
    "set_mask",
    "symbolic_call_masks",
]


def get_mask(tensor: Any) -> torch.Tensor | None:
    """The mask a tensor carries (Keras' `backend.get_keras_mask`), or None."""
    return getattr(tensor, "_keras_mask", None)


def set_mask(tensor: Any, mask: torch.Tensor | None) -> None:
    """Attach `mask` to `tensor` (Keras' `backend.set_keras_mask`): a symbolic tensor
    carries a symbolic (bool KerasTensor) mask."""
    if mask is None:
        return
    if isinstance(tensor, torch.Tensor):
        tensor._keras_mask = mask
    elif isinstance(tensor, KerasTensor) and isinstance(mask, KerasTensor):
        tensor._keras_mask = mask
        from . import layer as layer_module

        layer_module.MASKS_IN_USE[0] = True  # the model's run carries masks too


def attach_call_mask(inputs: Any, mask: Any) -> None:
    """A model called with `mask=` (as Keras writes it into saved graphs): the masks go onto
    the input tensors, from where the layers take them."""
    if mask is None:
        return
    from . import layer as layer_module

    layer_module.MASKS_IN_USE[0] = True
    if isinstance(inputs, torch.Tensor):
        set_mask(inputs, mask[0] if isinstance(mask, (list, tuple)) else mask)
    elif isinstance(inputs, (list, tuple)) and isinstance(mask, (list, tuple)):
        for tensor, one in zip(inputs, mask, strict=False):
            set_mask(tensor, one)


def input_mask(inputs: Any) -> Any:
    """The mask of a layer's input: one tensor's, or a list for a list of inputs."""
    if isinstance(inputs, torch.Tensor):
        return get_mask(inputs)
    if isinstance(inputs, (list, tuple)):
        masks = [get_mask(t) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def attach_output_mask(layer: Any, inputs: Any, mask: Any, outputs: Any) -> None:
    """After a call: the output's mask from `layer.compute_mask`, and Keras' warning when a
    layer that neither takes nor passes on masks meets one."""
    if mask is not None and not layer.supports_masking and "mask" not in layer._call_parameters:
        default = getattr(type(layer).compute_mask, "_keras_default", False)
        if default and not layer.__dict__.get("_warned"):
            layer.__dict__["_warned"] = True
            warnings.warn(
                f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input "
                "with a mask attached to it. However, this layer does not support masking "
                "and will therefore destroy the mask information. Downstream layers will not "
                "see the mask.",
                stacklevel=4,
            )
    flat_outputs = flatten_structure(outputs)
    if all(get_mask(t) is not None for t in flat_outputs):
        return  # masks set in `call` stay (Keras)
    out_mask = layer.compute_mask(inputs, mask)
    if out_mask is None:
        return
    # Keras pairs the flattened outputs with the flattened masks: a layer returning a list
    # (split halves) with a list of masks gives each output its own.
    for tensor, one in zip(flat_outputs, flatten_structure(out_mask), strict=False):
        if get_mask(tensor) is None:
            set_mask(tensor, one)


def symbolic_call_masks(
    layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """Keras' masks for a call on symbolic tensors, before it runs: the `_keras_mask` of the
    one tensor argument goes to `call`'s `mask` (of each of several, to `<name>_mask`) where
    `call` takes it and none was given. Returns the keyword arguments for `call` and the mask
    the outputs' masks are computed from (`attach_output_mask`).

    As in Keras, the graph records the masks (they are then `kwargs` itself, filled in) only
    for a call on one tensor of the layer's compute dtype and nothing else; otherwise the
    layer takes them from its inputs when the model runs.
    """
    leaves = flatten_structure((args, kwargs))
    if not any(get_mask(leaf) is not None for leaf in leaves):
        return kwargs, kwargs.get("mask")
    from ._call_arguments import call_arguments, tensor_arguments

    recorded = (
        not kwargs
        and len(args) == 1
        and isinstance(args[0], KerasTensor)
        and args[0].dtype == layer.compute_dtype
    )
    call_kwargs = kwargs if recorded else dict(kwargs)
    arguments = call_arguments(layer, args, kwargs)
    tensors = tensor_arguments(arguments)
    if len(tensors) == 1:
        if "mask" in arguments and arguments["mask"] is None:
            mask = _masks_of(next(iter(tensors.values())))
            if mask is not None:
                call_kwargs["mask"] = mask
    else:
        for name, value in tensors.items():
            if arguments.get(f"{name}_mask", 0) is None:
                mask = _masks_of(value)
                if mask is not None:
                    call_kwargs[f"{name}_mask"] = mask
    if call_kwargs.get("mask") is not None:
        return call_kwargs, call_kwargs["mask"]
    return call_kwargs, _masks_of(args[0] if args else next(iter(arguments.values()), None))


def _masks_of(value: Any) -> Any:
    """The masks of a tensor or structure of tensors; None when there are none."""
    masks = map_structure(get_mask, value)
    return None if all(m is None for m in flatten_structure(masks)) else masks
