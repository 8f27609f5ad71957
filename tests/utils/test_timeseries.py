"""timeseries_dataset_from_array against Keras 3.15.1.

The expected windows were printed by Keras 3.15.1 (torch backend, `format="grain"`, which
makes the same windows as the tf.data path) on the same inputs.
"""

import numpy as np
import pytest
import torch

from lamina.data import Dataset
from lamina.utils._timeseries import timeseries_dataset_from_array as tsd

DATA = np.arange(20)


def _batches(ds):
    out = []
    for batch in ds:
        if isinstance(batch, tuple):
            out.append((batch[0].tolist(), batch[1].tolist()))
        else:
            out.append(batch.tolist())
    return out


def test_strided_sampled_windows_match_keras():
    ds = tsd(DATA, None, sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=2)
    assert isinstance(ds, Dataset)
    assert _batches(ds) == [  # Keras 3.15.1
        [[0, 2, 4, 6], [3, 5, 7, 9]],
        [[6, 8, 10, 12], [9, 11, 13, 15]],
        [[12, 14, 16, 18]],
    ]
    assert len(ds) == 3


def test_start_and_end_index_match_keras():
    ds = tsd(DATA, DATA * 10, sequence_length=3, batch_size=5, start_index=4, end_index=13)
    assert _batches(ds) == [  # Keras 3.15.1
        ([[4, 5, 6], [5, 6, 7], [6, 7, 8], [7, 8, 9], [8, 9, 10]], [40, 50, 60, 70, 80]),
        ([[9, 10, 11], [10, 11, 12]], [90, 100]),
    ]


def test_next_step_targets_match_keras():
    ds = tsd(DATA[:-3], DATA[3:], sequence_length=3, batch_size=4)
    batches = _batches(ds)
    assert len(batches) == 4  # Keras 3.15.1: 15 windows
    assert batches[0] == ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [3, 4, 5, 6])
    assert batches[-1] == ([[12, 13, 14], [13, 14, 15], [14, 15, 16]], [15, 16, 17])
    assert all(batch[0].dtype == torch.int64 for batch in ds)


def test_multivariate_windows_match_keras_with_floats_as_floatx():
    x = np.arange(24, dtype="float64").reshape(12, 2)
    ds = tsd(x, np.arange(12), sequence_length=5, sequence_stride=2, batch_size=3)
    windows, targets = zip(*ds, strict=True)
    assert [tuple(w.shape) for w in windows] == [(3, 5, 2), (1, 5, 2)]
    assert torch.cat(windows)[:, 0, 0].tolist() == [0.0, 4.0, 8.0, 12.0]  # Keras 3.15.1
    assert torch.cat(windows)[1].tolist() == [[4, 5], [6, 7], [8, 9], [10, 11], [12, 13]]
    assert torch.cat(targets).tolist() == [0, 2, 4, 6]
    # Keras keeps float64; lamina's datasets give floatx, what lamina models take.
    assert windows[0].dtype == torch.float32


def test_unbatched_windows():
    x = np.arange(24, dtype="float32").reshape(12, 2)
    windows = list(tsd(x, None, sequence_length=5, batch_size=None))
    assert len(windows) == 8  # Keras 3.15.1
    assert windows[-1].tolist() == [[14, 15], [16, 17], [18, 19], [20, 21], [22, 23]]


def test_short_targets_limit_the_windows_as_keras():
    assert _batches(tsd(DATA, np.arange(5), sequence_length=4, batch_size=10)) == [
        ([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6], [4, 5, 6, 7]], [0, 1, 2, 3, 4])
    ]


def test_no_window_fits_gives_an_empty_dataset_as_keras():
    assert _batches(tsd(DATA, None, sequence_length=30, batch_size=4)) == []
    assert _batches(tsd(DATA, None, sequence_length=3, batch_size=4, end_index=0)) == []


def test_shuffle_draws_every_window_once_per_pass_in_new_orders():
    ds = tsd(DATA, DATA, sequence_length=3, batch_size=4, shuffle=True, seed=1)
    passes = [
        [(w.tolist(), int(t)) for x, y in ds for w, t in zip(x, y, strict=True)] for _ in range(2)
    ]
    expected = [([i, i + 1, i + 2], i) for i in range(18)]  # Keras: the same 18 windows
    assert all(sorted(p) == expected for p in passes)
    assert passes[0] != passes[1]
    again = tsd(DATA, DATA, sequence_length=3, batch_size=4, shuffle=True, seed=1)
    assert [(w.tolist(), int(t)) for x, y in again for w, t in zip(x, y, strict=True)] == passes[0]


def test_accepts_torch_tensors_and_stays_lazy():
    series = torch.arange(1000.0).reshape(500, 2)
    ds = tsd(series, None, sequence_length=100, batch_size=None)
    assert len(ds) == 401
    assert ds._source._host[0].data_ptr() == series.data_ptr()  # no copy of the series
    assert next(iter(ds))[-1].tolist() == [198.0, 199.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [  # the checks and their order are Keras 3.15.1's
        ({"start_index": -1}, "start_index must be 0 or more; got -1"),
        ({"start_index": 20}, r"start_index must be lower than the length of the data \(20\)"),
        ({"end_index": 20}, r"end_index must be lower than the length of the data \(20\)"),
        ({"start_index": 5, "end_index": 5}, "end_index must be higher than start_index"),
        ({"end_index": -2}, "end_index must be higher than 0; got -2"),
        ({"sampling_rate": 0}, "sampling_rate must be higher than 0"),
        ({"sampling_rate": 20}, "sampling_rate must be lower than the length of the data"),
        ({"sequence_stride": 0}, "sequence_stride must be higher than 0"),
        ({"sequence_stride": 20}, "sequence_stride must be lower than the length of the data"),
        ({"sequence_length": 0}, "sequence_length must be a positive int"),
    ],
)
def test_argument_errors(kwargs, match):
    kwargs = {"sequence_length": 3, **kwargs}
    with pytest.raises(ValueError, match=f"timeseries_dataset_from_array: {match}"):
        tsd(DATA, None, **kwargs)


def test_targets_too_short_for_start_index_is_a_clear_error():
    with pytest.raises(ValueError, match="has no target: targets has 10 entries"):
        tsd(DATA, np.arange(10), sequence_length=3, start_index=4)


def test_windows_are_gathered_on_the_device_in_use():
    # The meta device stands in for a GPU: the series is moved once and indexed there.
    ds = tsd(np.arange(20.0), np.arange(20), sequence_length=3, batch_size=4)
    windows, targets = next(iter(ds.iterate(torch.device("meta"))))
    assert windows.device.type == "meta" and tuple(windows.shape) == (4, 3)
    assert tuple(targets.shape) == (4,)


def test_fit_and_predict_read_the_dataset():
    import lamina as keras

    x = np.random.default_rng(0).random((40, 2))
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    ds = tsd(x, x[:, 0], sequence_length=5, batch_size=8, shuffle=True, seed=0)
    history = model.fit(ds, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    assert model.predict(tsd(x, None, sequence_length=5), verbose=0).shape == (36, 1)
