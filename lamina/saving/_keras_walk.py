"""Where each layer's weights go in a Keras 3 weights file: Keras' walk of the object tree.

Keras 3 saves a model by walking its objects from the model down and giving each object the
path of the attributes that lead to it:

- a Sequential or Functional model: its `layers` first, as `layers/<slot>`, where `<slot>`
  is the class name in snake case, numbered from the second of a class on (`dense`,
  `dense_1`; the names the layers were given play no part);
- a subclassed layer or model: its attributes in name order, private ones (`_x`) last;
  a layer attribute is a group of that name (`enc/d1`), a list, tuple or dict of layers a
  group whose entries are named like `layers/<slot>` (`blocks/dense_1`); a subclassed
  *model* also has Keras' `layers` property among its attributes (sorted as "layers"), so
  a layer kept in an attribute whose name sorts after it is found there first
  (`self.rnn = LSTM(2)` is saved as `layers/lstm`);
- each object's own variables are `<path>/vars/<i>`, trainable ones first, then the rest,
  each in the order they were created; the model's own are `vars/<i>`;
- an object met a second time (a layer kept in two attributes) is saved only where it was
  met first; slot numbers still count it.

A built-in layer is written by its own rule (`keras_format`: a recurrent layer's `cell`, a
MultiHeadAttention's four projections). The optimizer (Keras' `optimizer/vars`) is not
walked: lamina neither writes nor reads its state in these files.

>>> import lamina
>>> class Net(lamina.Model):
...     def __init__(self):
...         super().__init__()
...         self.dense = lamina.layers.Dense(2)
...         self.rnn = lamina.layers.LSTM(2)
...         self.seq = lamina.Sequential([lamina.layers.Dense(2)])
>>> [entry.path for entry in keras_entries(Net())]
['', 'dense', 'layers/lstm', 'layers/sequential', 'layers/sequential/layers/dense']
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Entry", "keras_entries", "own_arrays", "own_weights", "slot_names"]


@dataclass
class Entry:
    """One object of the walk: its group path ('' for the file's root) and how it is stored:
    "own" (its own variables in `<path>/vars`; its sub-layers are entries of their own) or
    "leaf" (a built-in layer: all its arrays under `<path>`, by the layer's Keras rule)."""

    path: str
    layer: Any
    kind: str


def _snake_case(name: str) -> str:
    """Keras' file slot of a class name: 'BatchNormalization' -> 'batch_normalization'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _class_name(layer: Any) -> str:
    from ..models.functional import Functional

    if isinstance(layer, Functional) and type(layer).__name__ in ("Model", "Functional"):
        return "Functional"
    return type(layer).__name__


def slot_names(layers: list[Any]) -> list[str]:
    """Each layer's group name in a Keras 3 weights file: its class in snake case, numbered
    from the second of a class on (`dense`, `dense_1`).

    >>> from lamina import layers
    >>> slot_names([layers.Dense(2), layers.Conv2D(1, 3), layers.Dense(3)])
    ['dense', 'conv2d', 'dense_1']
    """
    seen: Counter[str] = Counter()
    names = []
    for layer in layers:
        base = _snake_case(_class_name(layer))
        names.append(f"{base}_{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return names


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _is_user_class(layer: Any) -> bool:
    """Whether Keras would walk `layer`'s attributes: a model, or a class whose nearest
    lamina ancestor is `Layer` itself (a user's layer, not a built-in one)."""
    from ..layers.layer import Layer
    from ..models.model import Model

    if isinstance(layer, Model):
        return True
    nearest = next(c for c in type(layer).__mro__ if c.__module__.startswith("lamina."))
    return nearest is Layer


def _sort_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name  # private attributes last, as Keras


class _Walk:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.seen: set[int] = set()

    def layer(self, layer: Any, path: str) -> None:
        from ..models.functional import Functional
        from ..models.model import Model
        from ..models.sequential import Sequential

        if id(layer) in self.seen:
            return
        self.seen.add(id(layer))
        if not _is_user_class(layer):
            self.entries.append(Entry(path, layer, "leaf"))
            return
        self.entries.append(Entry(path, layer, "own"))
        graph = isinstance(layer, (Sequential, Functional))
        if graph:  # Keras saves a Sequential's or Functional's layers before anything else
            self.container(list(layer.layers), _join(path, "layers"))
        if graph and type(layer).__module__.startswith("lamina."):
            return
        attributes = [(name, value) for name, value in layer._modules.items() if value is not None]
        if isinstance(layer, Model) and not graph:
            attributes.append(("layers", list(layer.layers)))
        for name, value in sorted(attributes, key=lambda item: _sort_key(item[0])):
            self.value(layer, name, value, _join(path, name))

    def value(self, owner: Any, name: str, value: Any, path: str) -> None:
        from ..layers._weights import WeightsMixin

        if isinstance(value, WeightsMixin):
            self.layer(value, path)
        elif isinstance(value, (list, tuple, torch.nn.ModuleList, torch.nn.ModuleDict)):
            self.container(
                list(value.values() if isinstance(value, torch.nn.ModuleDict) else value), path
            )
        elif next(iter(value.state_dict()), None) is not None:
            raise ValueError(
                f"Layer '{owner.name}' ({type(owner).__name__}) keeps a plain torch module with "
                f"weights in attribute '{name}', which Keras' weights format cannot describe; "
                "save it as a '.lamina' file or with save_weights to '.safetensors'"
            )

    def container(self, items: list[Any], path: str) -> None:
        from ..layers._weights import WeightsMixin

        layers = [item for item in items if isinstance(item, WeightsMixin)]
        slots = iter(slot_names(layers))
        inner = 0
        for item in items:
            if isinstance(item, WeightsMixin):
                self.layer(item, _join(path, next(slots)))
            elif isinstance(item, (list, tuple, torch.nn.ModuleList, torch.nn.ModuleDict)):
                name = f"container_{inner}" if inner else "container"
                inner += 1
                values = item.values() if isinstance(item, torch.nn.ModuleDict) else item
                self.container(list(values), _join(path, name))


def keras_entries(model: Any) -> list[Entry]:
    """Every object Keras 3 saves in `model`'s weights file, in its walk's order."""
    walk = _Walk()
    walk.layer(model, "")
    return walk.entries


def own_weights(layer: Any) -> list[tuple[torch.Tensor, Any]]:
    """A subclassed layer's or model's own weights (not its sub-layers') in Keras' order:
    trainable ones first, then the others; each (tensor, its `_WeightInfo`)."""
    plain = [name for name, _ in layer._plain_parameters()]
    if plain:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) has torch parameters "
            f"({', '.join(plain)}) that were not made with add_weight, which Keras' weights "
            "format cannot describe; save it as a '.lamina' file or with save_weights to "
            "'.safetensors'"
        )
    own = [(tensor, info) for _, tensor, info in layer._own_weights()]
    return [w for w in own if w[1].trainable] + [w for w in own if not w[1].trainable]


def own_arrays(layer: Any) -> list[np.ndarray]:
    """`own_weights` as NumPy arrays in Keras' layout."""
    return [info.to_keras(t.detach()).cpu().numpy() for t, info in own_weights(layer)]
