"""`lamina.utils.plot_model`, as `keras.utils.plot_model`: see `lamina.inspect.plot`."""

from lamina.inspect.plot import plot_model

__all__ = ["plot_model"]
