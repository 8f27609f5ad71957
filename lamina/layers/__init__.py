"""Layers with Keras' names, arguments and defaults, each a `torch.nn.Module`."""

from .core import Activation, Dense, Identity, Input, InputLayer, Lambda
from .layer import Layer

__all__ = ["Activation", "Dense", "Identity", "Input", "InputLayer", "Lambda", "Layer"]
