"""Models: Model (subclass it), Sequential, and loading saved models."""

from ..saving.model_file import load_model, save_model
from .functional import Functional
from .model import Model
from .sequential import Sequential

__all__ = ["Functional", "Model", "Sequential", "load_model", "save_model"]
