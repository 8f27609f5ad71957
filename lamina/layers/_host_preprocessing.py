"""The base of the layers that compute on the host (strings, hashes, vocabularies):
Hashing, HashedCrossing, StringLookup, IntegerLookup and TextVectorization.

They take strings, lists or NumPy arrays as they are (no tensor conversion), return tensors,
and declare the dtype of their outputs for symbolic tensors (`_output_dtype`), since their
`call` cannot run on `meta` tensors.

>>> as_host_array([[b"a"], ["b"]], "layer").tolist()
[['a'], ['b']]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from .. import config as lamina_config
from .layer import Layer, Shape

__all__ = [
    "AdaptMixin",
    "HostPreprocessingLayer",
    "as_host_array",
    "encode_ids",
    "encoded_shape",
    "listify",
]


def as_host_array(inputs: Any, owner: str, encoding: str = "utf-8") -> np.ndarray:
    """Strings, numbers or nested lists of them as a NumPy array: strings as an object array
    of Python `str` (bytes decoded), numbers as they come (a tensor is copied to the host)."""
    if isinstance(inputs, torch.Tensor):
        return inputs.detach().cpu().numpy()
    array = np.asarray(inputs, dtype=object if isinstance(inputs, (str, bytes)) else None)
    if array.dtype.kind not in "SUO":
        if array.dtype.kind not in "iufb":
            raise TypeError(f"{owner} expects strings or numbers; got dtype {array.dtype}")
        return array
    items = array.reshape(-1).tolist()  # Python str and bytes, also from NumPy's str_
    flat = [item.decode(encoding) if isinstance(item, bytes) else item for item in items]
    odd = [item for item in flat if not isinstance(item, str)]
    if odd:
        raise TypeError(
            f"{owner} expects strings or numbers of one shape (no ragged lists); got an "
            f"element {odd[0]!r} of type {type(odd[0]).__name__}"
        )
    out = np.empty(array.shape, dtype=object)
    out.reshape(-1)[:] = flat
    return out


def encode_ids(
    ids: torch.Tensor,
    output_mode: str,
    depth: int,
    dtype: torch.dtype,
    idf_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Ids encoded as Keras' lookup layers do (TensorFlow's bincount on the last axis; ids
    < 0, masked tokens, add nothing): 'one_hot' adds an axis (or replaces a last one of size
    1); 'multi_hot', 'count', 'tf_idf' (counts times `idf_weights`) reduce the last axis.

    >>> encode_ids(torch.tensor([[0, 2, 2, -1]]), "count", 3, torch.float32).tolist()
    [[1.0, 0.0, 2.0]]
    """
    if output_mode == "int":
        return ids
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
        valid = (ids >= 0) & (ids < depth)
        hot = torch.nn.functional.one_hot(torch.where(valid, ids, 0), depth)
        return (hot * valid.unsqueeze(-1)).to(dtype)
    if ids.ndim > 2:
        raise ValueError(
            f"output_mode={output_mode!r} encodes inputs of rank 1 or 2 (the last axis is the "
            f"sample's); got shape {tuple(ids.shape)}"
        )
    rows = ids.reshape(-1, ids.shape[-1])
    spill = torch.where((rows >= 0) & (rows < depth), rows, depth)  # one extra, dropped bin
    counts = torch.zeros(rows.shape[0], depth + 1, dtype=dtype, device=ids.device)
    counts.scatter_add_(1, spill, torch.ones_like(spill, dtype=dtype))
    counts = counts[:, :depth].reshape(*ids.shape[:-1], depth)
    if output_mode == "multi_hot":
        return (counts > 0).to(dtype)
    if output_mode == "tf_idf" and idf_weights is not None:
        return counts * idf_weights.to(device=counts.device, dtype=dtype)
    return counts


def encoded_shape(shape: Shape, output_mode: str, depth: int | None) -> Shape:
    """The output shape `encode_ids` gives for inputs of `shape`."""
    shape = tuple(shape)
    if output_mode == "int":
        return shape
    if output_mode == "one_hot" and not (len(shape) > 1 and shape[-1] == 1):
        return (*(shape or (1,)), depth)
    return (*shape[:-1], depth)


def listify(value: Any) -> Any:
    """Keras' `listify_tensors`: an array or tensor as a (nested) list, the rest as it is."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return value.tolist() if isinstance(value, np.ndarray) else value


class HostPreprocessingLayer(Layer):
    """Base of the layers that compute on the host (strings, hashes, vocabularies): inputs
    may be strings, lists or NumPy arrays; outputs are tensors on the layer's device (that of
    a tensor input, else where `layer.to(device)` put it)."""

    _takes_strings = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # An empty buffer, only to know where `.to(device)` moved the layer.
        self.register_buffer("_device_anchor", torch.empty(0), persistent=False)
        self.built = True

    def _output_device(self, inputs: Any) -> torch.device:
        if isinstance(inputs, torch.Tensor) and inputs.device.type != "meta":
            return inputs.device
        return self._device_anchor.device

    def _prepare_inputs(self, inputs: Any) -> Any:
        return inputs  # strings and arrays go to call() as they are

    @property
    def _float_dtype(self) -> torch.dtype:
        return lamina_config.torch_dtype(self.dtype)

    @property
    def _output_dtype(self) -> str:
        """The outputs' dtype, as Keras' `compute_output_spec` gives it: ids in 'int' mode
        ('int64', or the int dtype given to Hashing/HashedCrossing), the float type in the
        others; tokens for an inverted lookup (strings, or IntegerLookup's int64)."""
        if getattr(self, "invert", False):
            return "string" if getattr(self, "_is_string", True) else "int64"
        if getattr(self, "output_mode", "int") == "int":
            return str(getattr(self, "_int_dtype", torch.int64)).removeprefix("torch.")
        return self.dtype


class AdaptMixin:
    """`adapt()` over the layer's `reset_state`, `update_state` and `finalize_state`."""

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn from `data`: a list, string or array (one batch), or an iterable of batches
        (a generator, a DataLoader), at most `steps` of them."""
        self.reset_state()  # type: ignore[attr-defined]
        if isinstance(data, (str, bytes, list, tuple, np.ndarray, torch.Tensor)):
            self.update_state(self._one_batch(data))  # type: ignore[attr-defined]
        elif isinstance(data, Iterable):
            for batch in itertools.islice(data, steps):
                self.update_state(batch)  # type: ignore[attr-defined]
        else:
            raise TypeError(
                f"{type(self).__name__}.adapt() expects a list, an array or an iterable of "
                f"batches; got {type(data).__name__}"
            )
        self.finalize_state()  # type: ignore[attr-defined]

    def _one_batch(self, data: Any) -> Any:
        return data
