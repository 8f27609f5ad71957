"""Callbacks: hooks into fit / evaluate / predict, with Keras' names."""

from .callback import Callback, CallbackList, History, ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
