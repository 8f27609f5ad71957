"""`audio_dataset_from_directory`: a folder of class subfolders of .wav files -> a Dataset.

Files are indexed, labelled, shuffled and split exactly as Keras does (the same order and the
same training / validation files for the same seed) and decoded with Python's `wave` module,
batch by batch, in a background thread. PCM samples become float32 in [-1, 1) as
`tf.audio.decode_wav` gives them (16-bit values divided by 32768; 8-, 24- and 32-bit PCM are
read too), with shape (samples, channels).

Differences from Keras: `sampling_rate` resamples without tensorflow-io (Fourier method, as
`scipy.signal.resample`); a ragged batch is a torch nested tensor (`layout=torch.jagged`,
`batch.unbind()` gives the sequences) rather than a `tf.RaggedTensor`.

>>> import os, tempfile, wave
>>> root = tempfile.mkdtemp()
>>> for name, samples in (("no", b"\\x00\\x40" * 3), ("yes", b"\\x00\\xc0" * 5)):
...     os.makedirs(os.path.join(root, name))
...     with wave.open(os.path.join(root, name, "1.wav"), "wb") as f:
...         f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
...         f.writeframes(samples)
>>> ds = audio_dataset_from_directory(root, batch_size=2, shuffle=False)
Found 2 files belonging to 2 classes.
>>> audio, labels = next(iter(ds))
>>> tuple(audio.shape), audio[0, :4, 0].tolist(), labels.tolist()
((2, 5, 1), [0.5, 0.5, 0.5, 0.0], [0, 1])
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data.dataset import Dataset, _LoaderSource
from ._directory import datasets_by_subset, finish_dataset, with_labels
from ._image_dataset import _check_split

__all__ = ["audio_dataset_from_directory"]

_NAME = "audio_dataset_from_directory"
ALLOWED_FORMATS = (".wav",)


def _check_arguments(
    labels: Any, label_mode: Any, class_names: Any, ragged: bool, length: Any, rate: Any
) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f"{_NAME}: labels must be 'inferred' (from the subdirectory names), None "
                "(audio only) or a list/tuple of int labels, one per audio file; got "
                f"labels={labels!r}"
            )
        if class_names:
            raise ValueError(
                f"{_NAME}: class_names can only be given with labels='inferred'; got "
                f"labels={labels!r} and class_names={class_names!r}"
            )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f"{_NAME}: label_mode must be 'int', 'categorical', 'binary' or None; got "
            f"label_mode={label_mode!r}"
        )
    if ragged and length is not None:
        raise ValueError(
            f"{_NAME}: ragged=True and output_sequence_length={length} cannot both be set"
        )
    if length is not None and (
        not isinstance(length, int) or isinstance(length, bool) or length <= 0
    ):
        raise ValueError(
            f"{_NAME}: output_sequence_length must be a positive int or None; got {length!r}"
        )
    if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool)):
        raise ValueError(f"{_NAME}: sampling_rate must be an int; got sampling_rate={rate!r}")
    if rate is not None and rate <= 0:
        raise ValueError(f"{_NAME}: sampling_rate must be above 0; got sampling_rate={rate}")


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """The samples of a PCM WAV file as float32 (samples, channels) in [-1, 1), and its rate."""
    try:
        with wave.open(path, "rb") as file:
            channels, width = file.getnchannels(), file.getsampwidth()
            rate, frames = file.getframerate(), file.readframes(file.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{_NAME}: cannot read {path!r} as a PCM WAV file ({error})") from None
    if width == 1:  # 8-bit PCM is unsigned, centred on 128
        values = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:  # 24-bit little-endian: widen to int32 by a zero low byte
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3)
        padded = np.zeros((raw.shape[0], 4), np.uint8)
        padded[:, 1:] = raw
        values = padded.view("<i4").reshape(-1).astype(np.float32) / 2.0**31
    elif width in (2, 4):
        values = np.frombuffer(frames, f"<i{width}").astype(np.float32) / 2.0 ** (8 * width - 1)
    else:
        raise ValueError(f"{_NAME}: {path!r} has {8 * width}-bit samples; PCM 8-32 bit is read")
    return values.reshape(-1, channels), rate


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """`audio` (samples, channels) at `rate_out`, by the Fourier method (band-limited).

    >>> resample(np.ones((4, 1), np.float32), 8000, 4000).ravel().tolist()
    [1.0, 1.0]
    """
    if rate_in == rate_out or audio.shape[0] == 0:
        return audio
    count_in = audio.shape[0]
    count_out = max(1, round(count_in * rate_out / rate_in))
    spectrum = np.fft.rfft(audio.astype(np.float64), axis=0)
    kept = min(spectrum.shape[0], count_out // 2 + 1)
    resized = np.zeros((count_out // 2 + 1, audio.shape[1]), dtype=np.complex128)
    resized[:kept] = spectrum[:kept]
    # The Nyquist bin of the shorter even length stands for the two bins +-N/2 of the longer
    # spectrum: doubled when cutting down, split in half when padding up (as scipy).
    shorter = min(count_in, count_out)
    if shorter % 2 == 0 and count_in != count_out:
        resized[shorter // 2] *= 2.0 if count_out < count_in else 0.5
    out = np.fft.irfft(resized, n=count_out, axis=0) * (count_out / count_in)
    return out.astype(np.float32)


def _fit_length(audio: torch.Tensor, length: int) -> torch.Tensor:
    """Cut `audio` to `length` samples, or pad it with zeros at the end."""
    if audio.shape[0] >= length:
        return audio[:length]
    return F.pad(audio, (0, 0, 0, length - audio.shape[0]))


def _make_dataset(
    paths: list[str],
    labels: np.ndarray | None,
    label_mode: str | None,
    class_names: list[str] | None,
    batch_size: int | None,
    sampling_rate: int | None,
    length: int | None,
    ragged: bool,
    shuffle: bool,
    seed: int,
) -> Dataset:
    def decode(path: str) -> torch.Tensor:
        audio, rate = read_wav(path)
        if sampling_rate is not None:
            audio = resample(audio, rate, sampling_rate)
        return torch.from_numpy(np.ascontiguousarray(audio))

    def load(indices: list[int]) -> Any:
        clips = [decode(paths[i]) for i in indices]
        channels = {clip.shape[1] for clip in clips}
        if len(channels) > 1:
            raise ValueError(
                f"{_NAME}: the files of one batch have different channel counts "
                f"{sorted(channels)}: {[paths[i] for i in indices]}"
            )
        if ragged:
            audio = torch.nested.nested_tensor(clips, layout=torch.jagged)
        else:
            # as Keras: output_sequence_length cuts or pads every file; without it a batch is
            # padded with zeros to its longest file
            target = length if length is not None else max(clip.shape[0] for clip in clips)
            audio = torch.stack([_fit_length(clip, target) for clip in clips])
        return with_labels(audio, labels, indices, label_mode, num_classes)

    num_classes = len(class_names) if class_names else 0
    source = _LoaderSource(len(paths), load)
    dataset = Dataset(source, class_names=class_names, file_paths=paths)
    return finish_dataset(dataset, shuffle, seed, batch_size)


def audio_dataset_from_directory(
    directory: str,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    sampling_rate: int | None = None,
    output_sequence_length: int | None = None,
    ragged: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Dataset | list[Dataset]:
    """A dataset of audio clips (and labels) from a directory of class subdirectories of
    .wav files, as `keras.utils.audio_dataset_from_directory`.

    Args:
        directory: with `labels="inferred"`, one subdirectory per class holding its .wav
            files (nested folders are searched too).
        labels: "inferred" (from the subdirectories, in alphanumeric order), None (audio
            only), or a list of int labels in the sorted order of the file paths.
        label_mode: "int" (int32 labels), "categorical" (float32 one-hot), "binary" (float32,
            shape (batch, 1), exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in this label order.
        batch_size: clips per batch; None yields single clips.
        sampling_rate: resample every file to this rate (samples per second).
        output_sequence_length: cut or zero-pad every clip to this many samples; None pads
            each batch to its longest clip.
        ragged: yield batches of clips of their own lengths (torch nested tensors).
        shuffle: shuffle the files once (with `seed`) and the training order at every pass.
        seed: the shuffling seed; required with `validation_split` when shuffling.
        validation_split: the fraction of files kept for validation (the last ones).
        subset: "training", "validation", or "both" (returns [training, validation]).
        follow_links: follow symbolic links to subdirectories.
        verbose: print how many files and classes were found (and used by each subset).

    Returns:
        A `lamina.data.Dataset` yielding `(audio, labels)` (or audio): audio float32 of shape
        (batch, samples, channels); with `class_names` and `file_paths` attributes. A list
        of two datasets with `subset="both"`.
    """
    _check_arguments(labels, label_mode, class_names, ragged, output_sequence_length, sampling_rate)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_split(validation_split, subset, shuffle, seed)

    def make(paths: list[str], part_labels: Any, names: Any, part_shuffle: bool, seed: int) -> Any:
        return _make_dataset(
            paths,
            part_labels,
            label_mode,
            names,
            batch_size,
            sampling_rate,
            output_sequence_length,
            ragged,
            part_shuffle,
            seed,
        )

    return datasets_by_subset(
        directory,
        labels,
        ALLOWED_FORMATS,
        class_names,
        label_mode,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
        _NAME,
        "audio",
        make,
    )
