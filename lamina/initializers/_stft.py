"""The STFT initializer: convolution kernels holding the real or imaginary part of a windowed
discrete Fourier transform, and the named windows of `scipy.signal.get_window` it accepts.

>>> STFT("real", window=None)((4, 1, 3))[:, 0, 0].tolist()
[1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import config
from ._base import Initializer

__all__ = ["STFT", "get_window"]


def _cosine_sum(*coefficients: float) -> Callable[[int], np.ndarray]:
    """A window sum_k (-1)^k a_k cos(2 pi k n / (M - 1)) (hann, hamming, blackman, ...)."""

    def window(length: int) -> np.ndarray:
        phase = np.linspace(-np.pi, np.pi, length)
        return sum(a * np.cos(k * phase) for k, a in enumerate(coefficients))

    return window


def _triang(length: int) -> np.ndarray:
    n = np.arange(1, (length + 1) // 2 + 1)
    if length % 2 == 0:
        half = (2 * n - 1.0) / length
        return np.concatenate([half, half[::-1]])
    half = 2 * n / (length + 1.0)
    return np.concatenate([half, half[-2::-1]])


def _bartlett(length: int) -> np.ndarray:
    n = np.arange(length)
    return np.where(n <= (length - 1) / 2.0, 2.0 * n / (length - 1), 2.0 - 2.0 * n / (length - 1))


def _bohman(length: int) -> np.ndarray:
    fac = np.abs(np.linspace(-1, 1, length)[1:-1])
    inner = (1 - fac) * np.cos(np.pi * fac) + 1.0 / np.pi * np.sin(np.pi * fac)
    return np.concatenate([[0.0], inner, [0.0]])


def _parzen(length: int) -> np.ndarray:
    n = np.arange(-(length - 1) / 2.0, (length - 1) / 2.0 + 0.5, 1.0)
    outer = np.extract(n < -(length - 1) / 4.0, n)
    middle = np.extract(np.abs(n) <= (length - 1) / 4.0, n)
    w_outer = 2 * (1 - np.abs(outer) / (length / 2.0)) ** 3.0
    w_middle = (
        1
        - 6 * (np.abs(middle) / (length / 2.0)) ** 2.0
        + 6 * (np.abs(middle) / (length / 2.0)) ** 3.0
    )
    return np.concatenate([w_outer, w_middle, w_outer[::-1]])


def _barthann(length: int) -> np.ndarray:
    fac = np.abs(np.arange(length) / (length - 1.0) - 0.5)
    return 0.62 - 0.48 * fac + 0.38 * np.cos(2 * np.pi * fac)


def _tukey(length: int, alpha: float = 0.5) -> np.ndarray:
    n = np.arange(length)
    width = int(np.floor(alpha * (length - 1) / 2.0))
    n1, n2, n3 = n[: width + 1], n[width + 1 : length - width - 1], n[length - width - 1 :]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (length - 1))))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (length - 1))))
    return np.concatenate([w1, np.ones(n2.shape), w3])


_WINDOWS: dict[str, Callable[[int], np.ndarray]] = {
    "barthann": _barthann,
    "bartlett": _bartlett,
    "blackman": _cosine_sum(0.42, 0.50, 0.08),
    "blackmanharris": _cosine_sum(0.35875, 0.48829, 0.14128, 0.01168),
    "bohman": _bohman,
    "boxcar": np.ones,
    "cosine": lambda length: np.sin(np.pi / length * (np.arange(length) + 0.5)),
    "flattop": _cosine_sum(0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
    "hamming": _cosine_sum(0.54, 0.46),
    "hann": _cosine_sum(0.5, 0.5),
    "lanczos": lambda length: np.sinc(np.linspace(-1, 1, length)),
    "nuttall": _cosine_sum(0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "parzen": _parzen,
    "triang": _triang,
    "tukey": _tukey,
}
# scipy's other spellings of the same windows.
_ALIASES = {
    "brthan": "barthann",
    "bth": "barthann",
    "bart": "bartlett",
    "brt": "bartlett",
    "black": "blackman",
    "blk": "blackman",
    "blackharr": "blackmanharris",
    "bkh": "blackmanharris",
    "bman": "bohman",
    "bmn": "bohman",
    "box": "boxcar",
    "ones": "boxcar",
    "rect": "boxcar",
    "rectangular": "boxcar",
    "halfcosine": "cosine",
    "flat": "flattop",
    "flt": "flattop",
    "hamm": "hamming",
    "ham": "hamming",
    "han": "hann",
    "sinc": "lanczos",
    "nutl": "nuttall",
    "nut": "nuttall",
    "parz": "parzen",
    "par": "parzen",
    "triangle": "triang",
    "tri": "triang",
    "tuk": "tukey",
}


def _window_function(name: str, owner: str) -> tuple[Callable[[int], np.ndarray], bool | None]:
    """The window function `name` names and the symmetry its suffix forces (None: none)."""
    symmetric = None
    base = name
    if name.endswith("_symmetric"):
        base, symmetric = name[: -len("_symmetric")], True
    elif name.endswith("_periodic"):
        base, symmetric = name[: -len("_periodic")], False
    base = _ALIASES.get(base, base)
    if base not in _WINDOWS:
        raise ValueError(
            f"{owner}: unknown window {name!r}; lamina has scipy.signal.get_window's windows "
            f"without parameters: {', '.join(sorted(_WINDOWS))} (or pass an array of "
            "frame_length values)"
        )
    return _WINDOWS[base], symmetric


def get_window(name: str, length: int, periodic: bool = False) -> np.ndarray:
    """`scipy.signal.get_window(name, length, fftbins=periodic)` for windows without
    parameters, as float64 values (a periodic window is the symmetric one of `length + 1`
    without its last value).

    >>> get_window("hann", 5).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    function, symmetric = _window_function(name, "get_window")
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"get_window: length must be a positive int; got {length!r}")
    if symmetric is not None:
        periodic = not symmetric
    if length == 1:
        return np.ones(1)
    values = np.asarray(function(length + 1 if periodic else length), dtype=np.float64)
    return values[:-1] if periodic else values


class STFT(Initializer):
    """Kernels of a short-time Fourier transform as a convolution (Keras' `STFT`).

    Called with a shape `(frame_length, channels, bins)` in Keras' layout, it returns the real
    (`cos`) or imaginary (`-sin`) part of the DFT of `2 * (bins - 1)` points for the first
    `bins` frequencies, times the window and divided by the scaling. The values equal Keras'
    in the requested dtype. Keras returns one channel whatever `channels` is; lamina repeats
    the kernel over the channels so the result has the shape asked for.

    Args:
        side: 'real' or 'imag'.
        window: a name of `scipy.signal.get_window` without parameters ('hann', 'hamming',
            'blackman', 'boxcar', ...), an array of frame_length values, or None.
        scaling: 'density' (divide by the window's L2 norm), 'spectrum' (its L1 norm) or None.
        periodic: whether a named window is periodic (True) or symmetric (False).

    >>> STFT("imag", "hann", "density")((4, 1, 3)).shape
    torch.Size([4, 1, 3])
    """

    def __init__(
        self,
        side: str = "real",
        window: Any = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"STFT initializer: side must be 'real' or 'imag'; got {side!r}")
        if isinstance(window, str):
            _window_function(window, "STFT initializer")
        elif window is not None:
            window = [float(v) for v in np.asarray(window, dtype=np.float64).reshape(-1)]
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(
                f"STFT initializer: scaling must be None, 'density' or 'spectrum'; got {scaling!r}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def _window(self, frame_length: int, dtype: torch.dtype) -> torch.Tensor | None:
        if self.window is None:
            return None
        if isinstance(self.window, str):
            values = get_window(self.window, frame_length, bool(self.periodic))
        else:
            values = np.asarray(self.window, dtype=np.float64)
        if values.shape != (frame_length,):
            raise ValueError(
                f"STFT initializer: the window must have shape ({frame_length},) "
                f"(frame_length); got {values.shape}"
            )
        return torch.as_tensor(values, dtype=dtype)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        if len(shape) != 3:
            raise ValueError(
                "STFT initializer: shape must be (frame_length, channels, bins); got "
                f"{tuple(shape)}"
            )
        frame_length, channels, bins = (int(s) for s in shape)
        if bins < 2 or frame_length < 1:
            raise ValueError(
                "STFT initializer needs frame_length >= 1 and bins >= 2 (bins = fft_length "
                f"// 2 + 1); got shape {tuple(shape)}"
            )
        torch_dtype = config.torch_dtype(dtype)
        # Keras' order of operations in the weight's dtype, so float32 values equal Keras'.
        frequency = torch.arange(bins, dtype=torch_dtype).reshape(1, 1, bins) / ((bins - 1) * 2)
        time = torch.arange(frame_length, dtype=torch_dtype).reshape(frame_length, 1, 1)
        pi = torch.arccos(torch.tensor(-1.0, dtype=torch_dtype))
        angle = (-2 * time) * frequency * pi
        kernel = torch.cos(angle) if self.side == "real" else torch.sin(angle)
        window = self._window(frame_length, torch_dtype)
        if window is not None:
            window = window.reshape(frame_length, 1, 1)
            scale: Any = 1
            if self.scaling == "density":
                scale = torch.sqrt(torch.sum(torch.square(window)))
            elif self.scaling == "spectrum":
                scale = torch.sum(torch.abs(window))
            kernel = kernel * window / scale
        return kernel.expand(frame_length, channels, bins).contiguous()

    def get_config(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }
