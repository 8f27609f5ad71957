"""Audio spectrograms: STFTSpectrogram (a trainable STFT as a strided convolution) and
MelSpectrogram (mel-scaled power in decibels).

>>> import torch
>>> STFTSpectrogram(frame_length=8, frame_step=4)(torch.zeros(2, 40, 1)).shape
torch.Size([2, 9, 5])
>>> MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8)(torch.zeros(2, 160)).shape
torch.Size([2, 8, 11])
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config as lamina_config
from ..initializers import STFT
from ._conv_utils import conv_output_size, normalize_data_format, same_padding
from .layer import Layer, Shape

__all__ = ["MelSpectrogram", "STFTSpectrogram"]

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
# The mel scale of HTK, as Keras: mel(f) = 1127 ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _as_config(window: Any) -> Any:
    if window is None or isinstance(window, str):
        return window
    return [float(v) for v in np.asarray(window).reshape(-1)]


class STFTSpectrogram(Layer):
    """The short-time Fourier transform of each channel of a signal, as Keras' layer: two
    convolution kernels (real and imaginary DFT rows times the window), trainable by default.

    Args:
        mode: 'log' (log magnitude, default), 'magnitude', 'psd' (power spectral density),
            'real', 'imag', 'angle' or 'stft' (real then imaginary bins).
        frame_length: samples per frame (window length).
        frame_step: samples between frames (default frame_length // 2).
        fft_length: FFT size, >= frame_length (default the next power of two).
        window: a name of scipy.signal.get_window without parameters ('hann', the default,
            'hamming', 'blackman', 'bartlett', 'boxcar', ...), an array of frame_length
            values, or None.
        periodic: whether a named window is periodic (True) or symmetric (False, default).
        scaling: 'density' (divide by the window's L2 norm, default), 'spectrum' (by its L1
            norm) or None.
        padding: 'valid' (default) or 'same'.
        expand_dims: keep frequency and channels as two axes (an image) instead of one.
        data_format: 'channels_last' (batch, time, channels) or 'channels_first'.

    Input shape:
        (batch, time, channels), or (batch, channels, time) with channels_first.
    Output shape:
        (batch, frames, channels * bins), (batch, frames, bins, channels) with expand_dims;
        channels_first: (batch, channels * bins, frames) or (batch, channels, frames, bins).
        bins = fft_length // 2 + 1 (twice that for 'stft').

    Weights: `real_kernel` and `imag_kernel` (frame_length, 1, bins) in Keras' layout, stored
    as Conv1d weights (bins, 1, frame_length); 'real' and 'imag' modes have only their own.

    >>> import torch
    >>> layer = STFTSpectrogram(mode="magnitude", frame_length=4, frame_step=2)
    >>> layer(torch.zeros(1, 10, 2)).shape, layer.count_params()
    (torch.Size([1, 4, 6]), 24)
    """

    input_ndim = 3

    def __init__(
        self,
        mode: str = "log",
        frame_length: int = 256,
        frame_step: int | None = None,
        fft_length: int | None = None,
        window: Any = "hann",
        periodic: bool = False,
        scaling: str | None = "density",
        padding: str = "valid",
        expand_dims: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = self._describe()
        if isinstance(frame_length, bool) or not isinstance(frame_length, int) or frame_length < 1:
            raise ValueError(f"{owner}: frame_length must be a positive int; got {frame_length!r}")
        if frame_step is not None and not 1 <= frame_step <= frame_length:
            raise ValueError(
                f"{owner}: frame_step must be a positive int not greater than frame_length="
                f"{frame_length}; got frame_step={frame_step!r}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                f"{owner}: fft_length must be at least frame_length={frame_length}; got "
                f"fft_length={fft_length}"
            )
        if fft_length is not None and fft_length & (fft_length - 1):
            warnings.warn(
                f"`fft_length` is recommended to be a power of two. Received "
                f"fft_length={fft_length}",
                stacklevel=2,
            )
        for name, value, choices in (
            ("mode", mode, _MODES),
            ("scaling", scaling, ("density", "spectrum", None)),
            ("padding", padding, ("valid", "same")),
        ):
            if value not in choices:
                raise ValueError(f"{owner}: {name} must be one of {choices}; got {value!r}")
        STFT("real", _as_config(window), scaling, periodic)._window(  # bad windows fail here
            frame_length, torch.float64
        )
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.window = _as_config(window)
        self.periodic = bool(periodic)
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = bool(expand_dims)
        self.data_format = normalize_data_format(data_format, owner)
        self.input_description = (
            "(batch, time, channels)"
            if self.data_format == "channels_last"
            else "(batch, channels, time)"
        )

    def build(self, input_shape: Shape | None = None) -> None:
        bins = self._fft_length // 2 + 1
        for side in ("real", "imag"):
            if self.mode == ("imag" if side == "real" else "real"):
                continue
            self.add_weight(
                shape=(bins, 1, self.frame_length),
                initializer=STFT(side, self.window, self.scaling, self.periodic),
                name=f"{side}_kernel",
                keras_axes=(2, 1, 0),
            )

    def _convolve(self, signals: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """(batch * channels, 1, time) -> (batch * channels, bins, frames)."""
        if self.padding == "same":
            signals = F.pad(
                signals, same_padding(signals.shape[-1], self.frame_length, self._frame_step)
            )
        return F.conv1d(signals, kernel.to(signals.dtype), stride=self._frame_step)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype not in (torch.float16, torch.float32, torch.float64, torch.bfloat16):
            raise TypeError(
                f"{self._describe()} expects a float signal (float16, float32 or float64); got "
                f"{inputs.dtype}"
            )
        channels_last = self.data_format == "channels_last"
        signals = inputs.transpose(1, 2) if channels_last else inputs
        batch, channels, time = signals.shape
        if self.padding == "valid" and time < self.frame_length:
            raise ValueError(
                f"{self._describe()} needs at least frame_length={self.frame_length} samples "
                f"with padding='valid'; got shape {tuple(inputs.shape)}"
            )
        signals = signals.reshape(batch * channels, 1, time)
        real = imag = None
        if self.mode != "imag":
            real = self._convolve(signals, self.real_kernel)
        if self.mode != "real":
            imag = self._convolve(signals, self.imag_kernel)
        if self.mode == "real":
            out = real
        elif self.mode == "imag":
            out = imag
        elif self.mode == "angle":
            out = torch.atan2(imag, real)
        elif self.mode == "stft":
            out = torch.cat([real, imag], 1)
        else:
            power = real.square() + imag.square()  # type: ignore[union-attr]
            if self.mode == "psd":  # the one-sided spectrum: inner bins count twice
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                epsilon = lamina_config.epsilon()
                out = power.clamp_min(epsilon).sqrt()
                if self.mode == "log":
                    out = out.clamp_min(epsilon).log()
        out = out.reshape(batch, channels, *out.shape[1:])  # type: ignore[union-attr]
        if self.expand_dims:  # (batch, frames, bins, channels) or (batch, channels, frames, bins)
            return out.permute(0, 3, 2, 1) if channels_last else out.transpose(2, 3)
        out = out.reshape(batch, -1, out.shape[-1])  # (batch, channels * bins, frames)
        return out.transpose(1, 2) if channels_last else out

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels_last = self.data_format == "channels_last"
        batch = input_shape[0]
        time, channels = (input_shape[1], input_shape[2])
        if not channels_last:
            channels, time = time, channels
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = None
        if time is not None:
            if self.padding == "same":
                frames = math.ceil(time / self._frame_step)
            else:
                frames = conv_output_size(time, self.frame_length, self._frame_step)
        if self.expand_dims:
            if channels_last:
                return (batch, frames, bins, channels)
            return (batch, channels, frames, bins)
        merged = None if channels is None else channels * bins
        return (batch, frames, merged) if channels_last else (batch, merged, frames)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            mode=self.mode,
            frame_length=self.frame_length,
            frame_step=self.frame_step,
            fft_length=self.fft_length,
            window=self.window,
            periodic=self.periodic,
            scaling=self.scaling,
            padding=self.padding,
            data_format=self.data_format,
            expand_dims=self.expand_dims,
        )
        return config


def _hertz_to_mel(frequencies: torch.Tensor) -> torch.Tensor:
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + frequencies / _MEL_BREAK_FREQUENCY_HERTZ)


class MelSpectrogram(Layer):
    """Mel spectrograms of audio signals, as Keras' layer: the STFT's magnitude to the power
    `mag_exp`, mapped to `num_mel_bins` triangular mel bands (HTK's scale), in decibels.

    Args:
        fft_length: FFT size.
        sequence_stride: samples between frames.
        sequence_length: window length (default fft_length).
        window: 'hann' (default), 'hamming', an array of sequence_length values, or None.
        sampling_rate: samples per second of the signal.
        num_mel_bins: number of mel bands.
        min_freq, max_freq: the frequency range of the bands (max_freq default the Nyquist
            frequency, sampling_rate / 2).
        power_to_db: convert to decibels, `10 log10(S / ref_power)`.
        top_db: decibels below the largest value of the whole batch where values are clipped
            (Keras takes that maximum over the batch, not per signal).
        mag_exp: the exponent of the magnitude (2: power, 1: magnitude).
        min_power: the floor of the power and of `ref_power`.
        ref_power: the reference power of 0 dB.

    Input shape:
        (samples,) or (batch, samples).
    Output shape:
        (num_mel_bins, frames) or (batch, num_mel_bins, frames), frames = 1 + samples // stride
        (the frames are centred; the signal is reflect-padded by fft_length // 2).

    >>> import torch
    >>> MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=4)(torch.ones(50)).shape
    torch.Size([4, 7])
    """

    min_ndim = 1
    input_description = "(batch, samples) or (samples,)"

    def __init__(
        self,
        fft_length: int = 2048,
        sequence_stride: int = 512,
        sequence_length: int | None = None,
        window: Any = "hann",
        sampling_rate: int = 16000,
        num_mel_bins: int = 128,
        min_freq: float = 20.0,
        max_freq: float | None = None,
        power_to_db: bool = True,
        top_db: float = 80.0,
        mag_exp: float = 2.0,
        min_power: float = 1e-10,
        ref_power: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if fft_length < self.sequence_length:
            raise ValueError(
                f"{self._describe()}: fft_length must be at least sequence_length; got "
                f"sequence_length={self.sequence_length}, fft_length={fft_length}"
            )
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(
                f"{self._describe()}: window must be 'hann', 'hamming', an array or None; got "
                f"{window!r}"
            )
        self.window = _as_config(window)
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        from ..ops.math import stft  # lamina.ops imports the layers

        dtype = torch.float64 if self._compute_dtype == torch.float64 else torch.float32
        signals = inputs.to(dtype)
        if signals.shape[-1] <= self.fft_length // 2:
            raise ValueError(
                f"{self._describe()} needs more than fft_length // 2 = {self.fft_length // 2} "
                f"samples (the frames are centred by reflection); got shape {tuple(inputs.shape)}"
            )
        window = (
            self.window
            if self.window is None or isinstance(self.window, str)
            else (torch.tensor(self.window, dtype=dtype))
        )
        real, imag = stft(
            signals, self.sequence_length, self.sequence_stride, self.fft_length, window
        )
        spectrum = (real.square() + imag.square()).sqrt().pow(self.mag_exp)
        matrix = self.linear_to_mel_weight_matrix(
            self.num_mel_bins,
            spectrum.shape[-1],
            self.sampling_rate,
            self.min_freq,
            self.max_freq,
            dtype=dtype,
        ).to(spectrum.device)
        mel = spectrum @ matrix  # (..., frames, num_mel_bins)
        if self.power_to_db:
            mel = self._decibels(mel)
        return mel.transpose(-1, -2).to(self._compute_dtype)

    def _decibels(self, power: torch.Tensor) -> torch.Tensor:
        decibels = 10.0 * torch.log10(power.clamp_min(self.min_power))
        reference = max(abs(float(self.ref_power)), self.min_power)
        decibels = decibels - 10.0 * math.log10(reference)
        return torch.maximum(decibels, decibels.max() - self.top_db)

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins: int = 20,
        num_spectrogram_bins: int = 129,
        sampling_rate: float = 8000,
        lower_edge_hertz: float = 125.0,
        upper_edge_hertz: float = 3800.0,
        dtype: Any = torch.float32,
    ) -> torch.Tensor:
        """The (num_spectrogram_bins, num_mel_bins) matrix that maps linear-frequency bins
        (0 to sampling_rate / 2) to triangular mel bands of peak 1 between the edges."""
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        nyquist = sampling_rate / 2.0
        # HTK leaves out the DC bin.
        linear = torch.linspace(0.0, nyquist, num_spectrogram_bins, dtype=dtype)[1:]
        bins_mel = _hertz_to_mel(linear)[:, None]
        edges = torch.linspace(
            float(_hertz_to_mel(torch.tensor(lower_edge_hertz, dtype=dtype))),
            float(_hertz_to_mel(torch.tensor(upper_edge_hertz, dtype=dtype))),
            num_mel_bins + 2,
            dtype=dtype,
        )
        lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
        rising = (bins_mel - lower) / (center - lower)
        falling = (upper - bins_mel) / (upper - center)
        weights = torch.minimum(rising, falling).clamp_min(0.0)
        return F.pad(weights, (0, 0, 1, 0))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        samples = input_shape[-1]
        frames = None
        if samples is not None:  # centred frames: fft_length // 2 of padding on each side
            padded = samples + 2 * (self.fft_length // 2)
            frames = conv_output_size(padded, self.fft_length, self.sequence_stride)
        return [*input_shape[:-1], self.num_mel_bins, frames]  # a list, as Keras'

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            fft_length=self.fft_length,
            sequence_stride=self.sequence_stride,
            sequence_length=self.sequence_length,
            window=self.window,
            sampling_rate=self.sampling_rate,
            num_mel_bins=self.num_mel_bins,
            min_freq=self.min_freq,
            max_freq=self.max_freq,
            power_to_db=self.power_to_db,
            top_db=self.top_db,
            mag_exp=self.mag_exp,
            min_power=self.min_power,
            ref_power=self.ref_power,
        )
        return config
