"""Math ops outside NumPy's namespace: erf, logsumexp, top_k, segment reductions, Fourier
transforms (complex values as (real, imag) pairs, as Keras), framing and distances.

>>> import lamina.ops as ops
>>> ops.top_k(ops.convert_to_tensor([1.0, 3.0, 2.0]), 2).indices.tolist()
[1, 2]
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._dtypes import Axis, TensorLike, axes, promote, tensor, to_float

__all__ = [
    "cdist",
    "erf",
    "erfc",
    "erfinv",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "in_top_k",
    "irfft",
    "istft",
    "logdet",
    "logsumexp",
    "rfft",
    "rsqrt",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "stft",
    "top_k",
    "view_as_complex",
    "view_as_real",
]


def erf(x: TensorLike) -> Tensor:
    """The Gauss error function, elementwise."""
    return torch.erf(to_float(x))


def erfinv(x: TensorLike) -> Tensor:
    """The inverse of the error function, elementwise."""
    return torch.erfinv(to_float(x))


def rsqrt(x: TensorLike) -> Tensor:
    """1 / sqrt(x), elementwise."""
    return torch.rsqrt(to_float(x))


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    x = to_float(x)
    dims = axes(axis, x.dim())
    return torch.logsumexp(
        x, dim=dims if dims is not None else tuple(range(x.dim())), keepdim=keepdims
    )


def top_k(x: TensorLike, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The `k` largest entries of the last axis and their indices, as (values, indices)."""
    return torch.topk(tensor(x), k, sorted=sorted)


def in_top_k(targets: TensorLike, predictions: TensorLike, k: int) -> Tensor:
    """For each row, whether the target class's prediction is among the `k` largest (ties count)."""
    predictions = tensor(predictions)
    targets = tensor(targets).to(predictions.device).long()[:, None]
    kth_largest = torch.topk(predictions, k).values[:, -1:]
    return (torch.take_along_dim(predictions, targets, dim=-1) >= kth_largest).any(dim=-1)


def _segment_reduce(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None, reduction: str
) -> Tensor:
    data = tensor(data)
    segment_ids = tensor(segment_ids).to(data.device).long()
    if segment_ids.dim() != 1:
        raise ValueError(
            "Argument `segment_ids` should be an 1-D vector, got shape: "
            f"{tuple(segment_ids.shape)}. Flatten `segment_ids` and the matching leading axes "
            "of `data` first."
        )
    if data.dim() < 1 or segment_ids.shape[0] != data.shape[0]:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading dimension. Got "
            f"{tuple(segment_ids.shape)} v.s. {tuple(data.shape)}."
        )
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1
    # Ids outside [0, num_segments) go to one extra row, dropped at the end.
    segment_ids = torch.where(
        (segment_ids >= 0) & (segment_ids < num_segments), segment_ids, num_segments
    )
    index = segment_ids.view((-1,) + (1,) * (data.dim() - 1)).expand_as(data)
    fill = _SEGMENT_FILL[reduction]
    result = torch.full(
        (num_segments + 1,) + tuple(data.shape[1:]), fill, dtype=torch.float32, device=data.device
    )
    if data.dtype.is_floating_point:
        result = result.to(data.dtype)
    result = result.scatter_reduce(0, index, data.to(result.dtype), reduction)
    return result[:-1].to(data.dtype)


_SEGMENT_FILL = {"sum": 0.0, "prod": 1.0, "amax": -float("inf"), "amin": float("inf")}


def segment_sum(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """Sum the rows of `data` that share a segment id (ids must be in [0, num_segments))."""
    return _segment_reduce(data, segment_ids, num_segments, "sum")


def segment_max(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """The maximum of the rows of `data` that share a segment id; empty segments give -inf."""
    return _segment_reduce(data, segment_ids, num_segments, "amax")


def segment_min(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """The minimum of the rows of `data` that share a segment id; empty segments give +inf."""
    return _segment_reduce(data, segment_ids, num_segments, "amin")


def segment_prod(
    data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None, sorted: bool = False
) -> Tensor:
    """The product of the rows of `data` that share a segment id; empty segments give 1."""
    return _segment_reduce(data, segment_ids, num_segments, "prod")


def erfc(x: TensorLike) -> Tensor:
    """The complementary error function 1 - erf(x), accurate for large x."""
    return torch.erfc(to_float(x))


def logdet(x: TensorLike) -> Tensor:
    """The natural log of the determinant of each square matrix (NaN where it is negative)."""
    return torch.logdet(to_float(x))


def cdist(x: TensorLike, y: TensorLike) -> Tensor:
    """The Euclidean distances between the rows of `x` (..., m, d) and `y` (..., n, d)."""
    x, y = promote(to_float(x), to_float(y))
    if x.dim() < 2 or y.dim() < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            "cdist expects tensors of rank >= 2 with the same last axis; got shapes "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    # The exact difference form: torch's matrix-product shortcut loses precision.
    return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")


def extract_sequences(x: TensorLike, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of `sequence_length` samples every `sequence_stride` along the last axis:
    (..., samples) -> (..., frames, sequence_length)."""
    return torch.unfold_copy(tensor(x), -1, sequence_length, sequence_stride)


def _complex(x: tuple[TensorLike, TensorLike]) -> Tensor:
    if not isinstance(x, tuple | list) or len(x) != 2:
        raise ValueError(f"Expected a (real, imag) pair of tensors; got {type(x).__name__}")
    real, imag = tensor(x[0]), tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            f"The real and imaginary parts must have one shape; got {tuple(real.shape)} and "
            f"{tuple(imag.shape)}"
        )
    if not real.dtype.is_floating_point or not imag.dtype.is_floating_point:
        raise ValueError(
            f"The real and imaginary parts must be floats; got {real.dtype} and {imag.dtype}"
        )
    return torch.complex(*promote(real, imag))


def _parts(x: Tensor) -> tuple[Tensor, Tensor]:
    return x.real, x.imag


def fft(x: tuple[TensorLike, TensorLike]) -> tuple[Tensor, Tensor]:
    """The discrete Fourier transform along the last axis of (real, imag), as (real, imag)."""
    return _parts(torch.fft.fft(_complex(x)))


def fft2(x: tuple[TensorLike, TensorLike]) -> tuple[Tensor, Tensor]:
    """The 2-D discrete Fourier transform over the last two axes, as (real, imag)."""
    return _parts(torch.fft.fft2(_complex(x)))


def ifft2(x: tuple[TensorLike, TensorLike]) -> tuple[Tensor, Tensor]:
    """The inverse 2-D discrete Fourier transform over the last two axes, as (real, imag)."""
    return _parts(torch.fft.ifft2(_complex(x)))


def rfft(x: TensorLike, fft_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The Fourier transform of a real signal along the last axis (fft_length // 2 + 1 bins),
    as (real, imag)."""
    return _parts(torch.fft.rfft(to_float(x), n=fft_length, dim=-1))


def irfft(x: tuple[TensorLike, TensorLike], fft_length: int | None = None) -> Tensor:
    """The real signal whose `rfft` is (real, imag), of `fft_length` samples
    (default 2 * (bins - 1))."""
    return torch.fft.irfft(_complex(x), n=fft_length, dim=-1)


def _window(
    window: str | TensorLike | None, sequence_length: int, dtype: torch.dtype, device: torch.device
) -> Tensor | None:
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"window must be 'hann', 'hamming', a tensor or None; got {window!r}")
        make = torch.hann_window if window == "hann" else torch.hamming_window
        return make(sequence_length, periodic=True, dtype=dtype, device=device)
    win = tensor(window).to(dtype=dtype, device=device)
    if tuple(win.shape) != (sequence_length,):
        raise ValueError(f"window must have shape ({sequence_length},); got {tuple(win.shape)}")
    return win


def stft(
    x: TensorLike,
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    window: str | TensorLike | None = "hann",
    center: bool = True,
) -> tuple[Tensor, Tensor]:
    """The short-time Fourier transform along the last axis: (..., samples) ->
    (..., frames, fft_length // 2 + 1), as (real, imag)."""
    if fft_length < sequence_length:
        raise ValueError(
            f"fft_length must be >= sequence_length; got fft_length={fft_length}, "
            f"sequence_length={sequence_length}"
        )
    x = to_float(x)
    win = _window(window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch = x.shape[:-1]
    result = torch.stft(
        x.reshape(-1, x.shape[-1]),
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        return_complex=True,
    )
    result = result.reshape(*batch, *result.shape[-2:]).transpose(-2, -1)
    return _parts(result)


def istft(
    x: tuple[TensorLike, TensorLike],
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    length: int | None = None,
    window: str | TensorLike | None = "hann",
    center: bool = True,
) -> Tensor:
    """The inverse of `stft`: (real, imag) of shape (..., frames, fft_length // 2 + 1) ->
    (..., samples), by overlap-add."""
    spectrum = _complex(x)
    dtype, device = spectrum.real.dtype, spectrum.device
    win = _window(window, sequence_length, dtype, device)
    batch, frames = spectrum.shape[:-2], spectrum.shape[-2]
    if sequence_length == fft_length and center and win is not None:
        signal = torch.istft(
            spectrum.reshape(-1, *spectrum.shape[-2:]).transpose(-2, -1),
            n_fft=fft_length,
            hop_length=sequence_stride,
            win_length=sequence_length,
            window=win,
            center=True,
            length=length,
        )
        return signal.reshape(*batch, signal.shape[-1])
    # Otherwise, as tf.signal.inverse_stft: each frame times the window divided by the
    # stride-periodic sum of squared windows, then overlap-add.
    segments = torch.fft.irfft(spectrum, n=fft_length, dim=-1).reshape(-1, frames, fft_length)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        win = torch.nn.functional.pad(win, (left, fft_length - sequence_length - left))
        overlaps = -(-fft_length // sequence_stride)
        squares = torch.nn.functional.pad(win * win, (0, overlaps * sequence_stride - fft_length))
        denominator = squares.reshape(overlaps, sequence_stride).sum(0).repeat(overlaps)
        segments = segments * (win / denominator[:fft_length])
    total = fft_length + sequence_stride * (frames - 1)
    signal = torch.nn.functional.fold(
        segments.transpose(1, 2),
        output_size=(1, total),
        kernel_size=(1, fft_length),
        stride=(1, sequence_stride),
    ).reshape(*batch, total)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start : start + length]
    return signal[..., start : total - fft_length // 2 if center else total]


def view_as_complex(x: TensorLike) -> Tensor:
    """A complex tensor from a real one whose last axis (of size 2) holds (real, imag)."""
    x = to_float(x)
    if x.dim() == 0 or x.shape[-1] != 2:
        raise ValueError(f"view_as_complex expects a last axis of size 2; got {tuple(x.shape)}")
    return torch.view_as_complex(x.contiguous())


def view_as_real(x: TensorLike) -> Tensor:
    """A real tensor with a last axis of size 2 holding (real, imag) of the complex `x`."""
    x = tensor(x)
    if not x.is_complex():
        raise ValueError(f"view_as_real expects a complex tensor; got {x.dtype}")
    return torch.view_as_real(x)
