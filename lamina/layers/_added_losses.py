"""Keras' `layer.add_loss(tensor)`: a loss term a layer's `call` adds (a VAE's KL term, an
auxiliary penalty). `fit` and `evaluate` add every term of the step's forward pass to the
compiled loss; `layer.losses` lists the terms of the layer's (and its sub-layers') latest
call. As in Keras, the outermost model call starts by clearing the previous call's terms.

Nothing is paid until a layer first calls `add_loss`: before that, models skip the clearing
and the loss skips the collection.

>>> import torch, lamina
>>> class Penalized(lamina.layers.Layer):
...     def call(self, x):
...         self.add_loss(0.5 * (x**2).sum())
...         return x
>>> layer = Penalized()
>>> _ = layer(torch.ones(2, 3))
>>> [float(t) for t in layer.losses]
[3.0]
"""

from __future__ import annotations

import threading
from typing import Any

import torch

__all__ = ["AddedLosses", "OutermostCall", "collect_added_losses", "in_use"]

_USED = [False]  # set by the first add_loss of the process
_STATE = threading.local()


def in_use() -> bool:
    """Whether any layer has called `add_loss` in this process."""
    return _USED[0]


class AddedLosses:
    """Mixed into `Layer`: `add_loss` (`layer.losses` lists the terms, see `_weights`)."""

    def add_loss(self, loss: Any) -> None:
        """Add `loss` (a scalar tensor, or a number) to the model's loss for this step."""
        if isinstance(loss, torch.Tensor) and loss.device.type == "meta":
            return  # shape inference on meta tensors, not a real call
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(float(loss))
        _USED[0] = True
        self.__dict__.setdefault("_added_losses", []).append(loss)


def clear_added_losses(model: torch.nn.Module) -> None:
    """Forget the terms (and activity penalties) of every layer of `model` (the start of an
    outermost call)."""
    for module in model.modules():
        for name in ("_added_losses", "_activity_losses"):
            terms = module.__dict__.get(name)
            if terms:
                terms.clear()


def collect_added_losses(model: torch.nn.Module) -> list[torch.Tensor]:
    """The terms every layer of `model` added since the outermost call began."""
    return [t for module in model.modules() for t in module.__dict__.get("_added_losses", ())]


class OutermostCall:
    """`with OutermostCall(model):` clears the added losses if no model call encloses it."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.outermost = False

    def __enter__(self) -> OutermostCall:
        if not getattr(_STATE, "depth", 0):
            clear_added_losses(self.model)
            self.outermost = True
        _STATE.depth = getattr(_STATE, "depth", 0) + 1
        return self

    def __exit__(self, *exc: Any) -> None:
        _STATE.depth -= 1
