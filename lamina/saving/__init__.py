"""Saving and loading: weights files (safetensors, PyTorch layout)."""

from .weights import load_weights, save_weights

__all__ = ["load_weights", "save_weights"]
