"""Models: Model (subclass it), Sequential, and loading saved models."""

from ..saving.model_file import load_model, save_model
from .cloning import clone_model, model_from_json
from .functional import Functional
from .model import Model
from .sequential import Sequential

__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]
