"""audio_dataset_from_directory on WAV files written here with Python's `wave` module: values
as tf.audio.decode_wav gives them (int16 / 32768), Keras 3.15.1's file order and split for a
seed (keras.src.utils.dataset_utils, recorded), resampling as scipy.signal.resample."""

import os
import wave

import numpy as np
import pytest
import torch

from lamina.utils._audio_dataset import audio_dataset_from_directory, read_wav, resample


def _write(path, samples, width=2, channels=1, rate=8000):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(width)
        file.setframerate(rate)
        file.writeframes(np.asarray(samples).tobytes())


@pytest.fixture
def folder(tmp_path):
    # cat/i.wav and dog/i.wav hold 3 + i samples of value 1000 * (i + 1) (dog: negative).
    for sign, name in ((1, "cat"), (-1, "dog")):
        for i in range(5):
            values = np.full(3 + i, sign * 1000 * (i + 1), "<i2")
            _write(tmp_path / name / f"{i}.wav", values)
    return tmp_path


def _name(path, root):
    return os.path.relpath(path, root).replace(os.sep, "/")


def test_batches_pad_to_the_longest_clip_with_keras_values(folder, capsys):
    ds = audio_dataset_from_directory(folder, batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 10 files belonging to 2 classes.\n"
    assert ds.class_names == ["cat", "dog"]
    audio, labels = next(iter(ds))
    assert audio.dtype == torch.float32 and tuple(audio.shape) == (4, 6, 1)
    expected = np.zeros((4, 6, 1), np.float32)
    for i in range(4):
        expected[i, : 3 + i, 0] = 1000 * (i + 1) / 32768
    np.testing.assert_array_equal(audio.numpy(), expected)
    assert labels.dtype == torch.int32 and labels.tolist() == [0, 0, 0, 0]
    shapes = [tuple(batch[0].shape) for batch in ds]
    assert shapes == [(4, 6, 1), (4, 7, 1), (2, 7, 1)]  # [cat/4, dog/0..2], [dog/3, dog/4]


def test_output_sequence_length_cuts_and_pads(folder):
    ds = audio_dataset_from_directory(
        folder, batch_size=None, output_sequence_length=5, shuffle=False, verbose=False
    )
    clips = [audio[:, 0].tolist() for audio, _ in ds]
    assert len(clips) == 10 and all(len(clip) == 5 for clip in clips)
    assert clips[0] == pytest.approx([1000 / 32768] * 3 + [0.0, 0.0])
    assert clips[4] == pytest.approx([5000 / 32768] * 5)  # 7 samples cut to 5


def test_ragged_batches_keep_each_length(folder):
    ds = audio_dataset_from_directory(
        folder, batch_size=5, ragged=True, shuffle=False, label_mode=None, verbose=False
    )
    batch = next(iter(ds))
    assert batch.is_nested
    assert [tuple(clip.shape) for clip in batch.unbind()] == [
        (3, 1),
        (4, 1),
        (5, 1),
        (6, 1),
        (7, 1),
    ]


def test_label_modes(folder):
    common = dict(batch_size=10, shuffle=False, verbose=False)
    _, categorical = next(
        iter(audio_dataset_from_directory(folder, label_mode="categorical", **common))
    )
    assert categorical.tolist() == [[1.0, 0.0]] * 5 + [[0.0, 1.0]] * 5
    _, binary = next(iter(audio_dataset_from_directory(folder, label_mode="binary", **common)))
    assert binary.shape == (10, 1) and binary.dtype == torch.float32
    audio = next(iter(audio_dataset_from_directory(folder, labels=None, **common)))
    assert isinstance(audio, torch.Tensor) and audio.shape == (10, 7, 1)
    given = list(range(10))
    _, labels = next(iter(audio_dataset_from_directory(folder, labels=given, **common)))
    assert labels.tolist() == given


def test_seeded_order_and_split_match_keras(folder):
    # keras.src.utils.dataset_utils.index_directory(folder, "inferred", (".wav",), seed=7)
    keras_order = ["dog/3.wav", "dog/0.wav", "cat/0.wav", "cat/2.wav", "cat/1.wav",
                   "dog/4.wav", "dog/2.wav", "cat/3.wav", "dog/1.wav", "cat/4.wav"]  # fmt: skip
    train, validation = audio_dataset_from_directory(
        folder, seed=7, validation_split=0.2, subset="both", verbose=False
    )
    assert [_name(p, folder) for p in train.file_paths] == keras_order[:8]
    assert [_name(p, folder) for p in validation.file_paths] == keras_order[8:]
    _, labels = next(iter(validation))
    assert labels.tolist() == [1, 0]  # not shuffled, as Keras' validation set of "both"


def test_sample_widths_and_channels(tmp_path):
    _write(tmp_path / "u8.wav", np.array([0, 128, 255], np.uint8), width=1)
    _write(tmp_path / "i32.wav", np.array([2**30, -(2**31)], "<i4"), width=4)
    raw24 = bytes([0x00, 0x00, 0x40, 0xFF, 0xFF, 0xFF])  # 2**22 and -1 as 24-bit
    _write(tmp_path / "i24.wav", np.frombuffer(raw24, np.uint8), width=3)
    _write(tmp_path / "stereo.wav", np.array([100, -100, 200, -200], "<i2"), channels=2)
    assert read_wav(str(tmp_path / "u8.wav"))[0].ravel().tolist() == [-1.0, 0.0, 127 / 128]
    assert read_wav(str(tmp_path / "i32.wav"))[0].ravel().tolist() == [0.5, -1.0]
    assert read_wav(str(tmp_path / "i24.wav"))[0].ravel().tolist() == [0.5, -(2.0**-23)]
    stereo, rate = read_wav(str(tmp_path / "stereo.wav"))
    assert rate == 8000 and stereo.shape == (2, 2)
    np.testing.assert_array_equal(stereo, np.array([[100, -100], [200, -200]]) / 32768)


def test_sampling_rate_resamples_as_scipy(tmp_path):
    x = ((np.arange(10) % 4 - 1.5) / 2).astype(np.float32)[:, None]
    # scipy.signal.resample(x, 6) and (x, 15), float64
    to_6 = [-0.523606797749979, 0.10584884366855377, 0.243598811317907, -0.5236067977499789,
            0.6508283796820087, -0.5530624391685117]  # fmt: skip
    to_15 = [-0.75, -0.5027862666617422, -0.09005684898497689, 0.25, 0.8248089890585244,
             0.29387498382467664, -0.75, -0.5453533476399914, -0.07138521581794907, 0.25,
             0.8269454094252602, 0.2819658734118053, -0.75, -0.4786147841820509,
             -0.28939879243355593]  # fmt: skip
    np.testing.assert_allclose(resample(x, 10, 6).ravel(), to_6, atol=1e-6)
    np.testing.assert_allclose(resample(x, 10, 15).ravel(), to_15, atol=1e-6)
    _write(tmp_path / "a" / "1.wav", np.full(80, 8192, "<i2"), rate=8000)
    ds = audio_dataset_from_directory(tmp_path, sampling_rate=4000, verbose=False)
    audio, _ = next(iter(ds))
    np.testing.assert_allclose(audio.numpy(), np.full((1, 40, 1), 0.25), atol=1e-6)


def test_errors_name_the_argument(folder):
    with pytest.raises(ValueError, match="ragged=True and output_sequence_length=5"):
        audio_dataset_from_directory(folder, ragged=True, output_sequence_length=5)
    with pytest.raises(ValueError, match="sampling_rate must be an int; got sampling_rate=1.5"):
        audio_dataset_from_directory(folder, sampling_rate=1.5)
    with pytest.raises(ValueError, match="sampling_rate must be above 0"):
        audio_dataset_from_directory(folder, sampling_rate=0)
    with pytest.raises(ValueError, match="labels must be 'inferred'"):
        audio_dataset_from_directory(folder, labels="folders")
    with pytest.raises(ValueError, match="label_mode must be"):
        audio_dataset_from_directory(folder, label_mode="sparse")
    with pytest.raises(ValueError, match="you must provide a `seed`"):
        audio_dataset_from_directory(folder, validation_split=0.2, subset="training")
    (folder / "cat" / "bad.wav").write_bytes(b"not a wav file")
    ds = audio_dataset_from_directory(folder, shuffle=False, verbose=False)
    with pytest.raises(ValueError, match="cannot read .*bad.wav' as a PCM WAV file"):
        next(iter(ds))
