"""Which batches each epoch of fit / evaluate / predict reads, as Keras 3.15.1 (torch backend):
steps_per_epoch above or below the batches of arrays, generators, DataLoaders and PyDatasets,
generators given as validation_data, and the warnings Keras prints. The expected values are
Keras' own, from the same programs (a zero-initialised Dense, SGD, unshuffled)."""

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina.utils import PyDataset

X = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5], "float32"))[:, None]


def make_model():
    model = lamina.Sequential(
        [lamina.Input((3,)), lamina.layers.Dense(1, kernel_initializer="zeros")]
    )
    model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse")
    return model


def numbered(batch, log, name="g", loop=False):
    """Batches of `batch` samples of (X, Y), each logged as name + index when read."""
    while True:
        for index, start in enumerate(range(0, len(X), batch)):
            log.append(f"{name}{index}")
            yield X[start : start + batch], Y[start : start + batch]
        if not loop:
            return


class Events(lamina.callbacks.Callback):
    """Epochs (E), train (t), test (v) and predict (p) batches, epoch-end log keys, and the
    warnings raised meanwhile: W for 'ran out of data', S for the shuffle one."""

    def __init__(self, caught):
        super().__init__()
        self.caught, self.events = caught, []

    def _flush(self):
        for warning in self.caught:
            text = str(warning.message)
            if text.startswith("Your input ran out of data"):
                self.events.append("W")
            elif text.startswith("`shuffle=True`"):
                self.events.append("S")
            else:
                self.events.append(f"unexpected warning: {text}")
        self.caught.clear()

    def on_epoch_begin(self, epoch, logs=None):
        self._flush()
        self.events.append(f"E{epoch}")

    def on_train_batch_end(self, batch, logs=None):
        self._flush()
        self.events.append(f"t{batch}")

    def on_test_batch_end(self, batch, logs=None):
        self._flush()
        self.events.append(f"v{batch}")

    def on_predict_batch_end(self, batch, logs=None):
        self._flush()
        self.events.append(f"p{batch}")

    def on_epoch_end(self, epoch, logs=None):
        self._flush()
        self.events.append("end:" + ",".join(sorted(logs)))

    def finish(self):
        self._flush()
        return self.events


def run(call):
    """(result, events) of call(callbacks), with every warning recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = Events(caught)
        result = call([events])
        return result, events.finish()


def fit(x, **kwargs):
    """(model, history, events, params['steps']) of fit(x, **kwargs), unshuffled by default."""
    model = make_model()
    kwargs.setdefault("shuffle", False)
    history, events = run(lambda cb: model.fit(x, verbose=0, callbacks=cb, **kwargs))
    return model, history.history, events, history.params["steps"]


def assert_history(history, expected):
    assert history.keys() == expected.keys()
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=2e-4, atol=1e-4)


EPOCH_OF_3 = ["t0", "t1", "t2", "W", "end:loss"]


# ----------------------------------------------------------------- generators as validation


def test_a_validation_generator_restarts_with_its_two_peeked_batches_each_run():
    log = []
    _, history, events, _ = fit(
        X, y=Y, batch_size=5, epochs=4, validation_data=numbered(2, log, "v"), validation_steps=3
    )
    validation = ["t0", "t1", "v0", "v1", "v2", "end:loss,val_loss"]
    last = ["t0", "t1", "v0", "v1", "W", "end:loss,val_loss"]
    assert events == ["E0", *validation, "E1", *validation, "E2", *validation, "E3", *last]
    assert log == ["v0", "v1", "v2", "v3", "v4"]
    expected = {
        "loss": [2.0798, 1.9845, 1.8953, 1.8118],
        "val_loss": [1.5043, 2.2579, 0.5197, 0.7321],
    }
    assert_history(history, expected)


def test_validation_steps_of_two_reads_the_same_two_batches_every_run():
    log = []
    _, history, _, _ = fit(
        X, y=Y, batch_size=5, epochs=3, validation_data=numbered(2, log, "v"), validation_steps=2
    )
    assert log == ["v0", "v1"]
    assert_history(
        history, {"loss": [2.0798, 1.9845, 1.8953], "val_loss": [0.7886, 0.7693, 0.7505]}
    )


def test_a_validation_generator_without_steps_warns_and_validates_every_epoch():
    log = []
    _, history, events, _ = fit(X, y=Y, batch_size=5, epochs=3, validation_data=numbered(2, log))
    later = ["t0", "t1", "v0", "v1", "W", "end:loss,val_loss"]
    first = ["t0", "t1", "v0", "v1", "v2", "v3", "v4", "W", "end:loss,val_loss"]
    assert events == ["E0", *first, "E1", *later, "E2", *later]
    assert log == ["g0", "g1", "g2", "g3", "g4"]
    assert_history(history, {"loss": [2.0798, 1.9845, 1.8953], "val_loss": [2.001, 0.7693, 0.7505]})


def test_a_validation_generator_is_first_read_at_the_first_validation_run():
    log = []
    _, history, _, _ = fit(
        X,
        y=Y,
        batch_size=5,
        epochs=4,
        validation_freq=2,
        validation_data=numbered(4, log, "v", loop=True),
        validation_steps=3,
    )
    assert log == ["v0", "v1", "v2", "v0"]
    assert_history(
        history, {"loss": [2.0798, 1.9845, 1.8953, 1.8118], "val_loss": [1.9108, 1.6906]}
    )


# ------------------------------------------------------------------- steps_per_epoch, arrays


def test_steps_per_epoch_above_the_batches_of_arrays_ends_each_epoch_early():
    model, history, events, steps = fit(X, y=Y, batch_size=4, epochs=3, steps_per_epoch=5)
    assert events == ["E0", *EPOCH_OF_3, "E1", *EPOCH_OF_3, "E2", *EPOCH_OF_3]
    assert steps == 5 and int(model.optimizer.iterations) == 9
    assert_history(history, {"loss": [2.0949, 1.9741, 1.8633]})


def test_steps_per_epoch_below_the_batches_of_arrays_continues_the_pass():
    _, history, events, _ = fit(X, y=Y, batch_size=4, epochs=4, steps_per_epoch=2)
    two, rest = ["t0", "t1", "end:loss"], ["t0", "W", "end:loss"]
    assert events == ["E0", *two, "E1", *rest, "E2", *two, "E3", *rest]
    assert_history(history, {"loss": [2.6029, 0.0629, 2.4529, 0.059]})


def test_validation_steps_above_the_batches_of_a_validation_split():
    _, history, events, _ = fit(
        X, y=Y, batch_size=4, epochs=2, steps_per_epoch=2, validation_split=0.3, validation_steps=2
    )
    epoch = ["t0", "t1", "v0", "W", "end:loss,val_loss"]
    assert events == ["E0", *epoch, "E1", *epoch]
    assert_history(history, {"loss": [1.8019, 1.6972], "val_loss": [2.7256, 2.6621]})


# ----------------------------------------------------------------------- generators to fit


def test_a_generator_read_to_its_end_gives_an_empty_epoch_then_its_peeked_batches():
    log = []
    _, history, events, _ = fit(numbered(2, log), epochs=3, steps_per_epoch=5)
    first = ["t0", "t1", "t2", "t3", "t4", "end:loss"]
    assert events == ["E0", *first, "E1", "W", "end:", "E2", "t0", "t1", "W", "end:loss"]
    assert log == ["g0", "g1", "g2", "g3", "g4"]
    assert_history(history, {"loss": [2.0587, 0.7651]})  # the empty epoch logs nothing


def test_a_generator_without_steps_warns_and_training_goes_on():
    log = []
    _, history, events, steps = fit(numbered(2, log), epochs=3)
    first = ["t0", "t1", "t2", "t3", "t4", "W", "end:loss"]
    later = ["t0", "t1", "W", "end:loss"]
    assert events == ["E0", *first, "E1", *later, "E2", *later]
    assert log == ["g0", "g1", "g2", "g3", "g4"] and steps is None
    assert_history(history, {"loss": [2.0587, 0.7651, 0.727]})


def test_a_generator_running_dry_mid_epoch():
    log = []
    _, history, events, _ = fit(numbered(4, log), epochs=3, steps_per_epoch=2)
    two = ["t0", "t1", "end:loss"]
    assert events == ["E0", *two, "E1", "t0", "W", "end:loss", "E2", *two]
    assert log == ["g0", "g1", "g2"]
    assert_history(history, {"loss": [2.6029, 0.0629, 2.4529]})


def test_shuffle_with_a_generator_warns_that_it_is_ignored():
    _, _, events, _ = fit(numbered(5, []), epochs=1, shuffle=True)
    assert events == ["S", "E0", "t0", "t1", "W", "end:loss"]


def test_the_warnings_have_keras_words():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_model().fit(numbered(5, []), epochs=1, verbose=0)
    assert [str(warning.message) for warning in caught] == [
        "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
        "generator. The generator is expected to yield already-shuffled data.",
        "Your input ran out of data; interrupting training. Make sure that your dataset or "
        "generator can generate at least `steps_per_epoch * epochs` batches. You may need to "
        "use the `.repeat()` function when building your dataset.",
    ]
    assert all(warning.category is UserWarning for warning in caught)


def test_ran_out_of_data_warns_from_two_places_only_as_keras():
    # Keras 3.15.1 warns from two lines of its epoch_iterator.py (a source that stops, and
    # steps_per_epoch past a known length), so Python's default filter prints each once per
    # process however many fit / evaluate / predict calls run out.
    model = make_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(numbered(5, []), epochs=1, verbose=0, shuffle=False)
        model.evaluate(numbered(5, []), verbose=0)
        model.predict(numbered(5, []), verbose=0)
        model.fit(X, Y, batch_size=5, steps_per_epoch=3, epochs=2, verbose=0, shuffle=False)
        model.predict(X, batch_size=5, steps=3, verbose=0)
    places = [(w.filename, w.lineno) for w in caught if "ran out of data" in str(w.message)]
    assert len(places) == 6 and len(set(places)) == 2
    assert all(filename.endswith("epoch_iterator.py") for filename, _ in places)


def test_an_exhausted_generator_is_an_error():
    model = make_model()
    generator = numbered(5, [])
    run(lambda cb: model.fit(generator, verbose=0, shuffle=False, callbacks=cb))
    with pytest.raises(ValueError, match="the generator must yield at least one batch"):
        model.evaluate(generator, verbose=0)


# -------------------------------------------------------------- DataLoaders and PyDatasets


class Samples(torch.utils.data.Dataset):
    def __len__(self):
        return len(X)

    def __getitem__(self, index):
        return X[index], Y[index]


def test_steps_per_epoch_above_the_batches_of_a_dataloader_ends_each_epoch_early():
    loader = torch.utils.data.DataLoader(Samples(), batch_size=4)
    _, history, events, steps = fit(loader, epochs=2, steps_per_epoch=5)
    assert events == ["E0", *EPOCH_OF_3, "E1", *EPOCH_OF_3] and steps == 5
    assert_history(history, {"loss": [2.0949, 1.9741]})


def test_shuffle_with_a_dataloader_warns_that_it_is_ignored():
    loader = torch.utils.data.DataLoader(Samples(), batch_size=4)
    _, _, events, _ = fit(loader, epochs=1, shuffle=True)
    assert events == ["S", "E0", "t0", "t1", "t2", "end:loss"]


class Batches(PyDataset):
    """Five batches of two, every read and hook logged."""

    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        self.log = log

    def __len__(self):
        return 5

    def __getitem__(self, index):
        self.log.append(f"d{index}")
        return X[2 * index : 2 * index + 2], Y[2 * index : 2 * index + 2]

    def on_epoch_begin(self):
        self.log.append("begin")

    def on_epoch_end(self):
        self.log.append("end")


def test_steps_per_epoch_below_the_len_of_a_py_dataset_reads_on_and_ends_early():
    log = []
    _, history, events, _ = fit(Batches(log), epochs=3, steps_per_epoch=2)
    two = ["t0", "t1", "end:loss"]
    assert events == ["E0", *two, "E1", *two, "E2", "t0", "W", "end:loss"]
    # The first read builds the model, between the hooks, as Keras' symbolic build.
    assert log == ["begin", "d0", "end"] + ["begin", "d0", "d1", "end", "begin", "d2", "d3"] + [
        "end",
        "begin",
        "d4",
        "end",
    ]
    assert_history(history, {"loss": [0.8128, 4.3029, 0.0624]})


def test_validation_steps_above_the_len_of_a_py_dataset_end_the_run_early():
    log = []
    _, history, events, _ = fit(
        X, y=Y, batch_size=5, epochs=2, validation_data=Batches(log), validation_steps=7
    )
    epoch = ["t0", "t1", "v0", "v1", "v2", "v3", "v4", "W", "end:loss,val_loss"]
    assert events == ["E0", *epoch, "E1", *epoch]
    one_run = ["end", "begin", "d0", "d1", "d2", "d3", "d4", "end"]
    assert log == one_run * 2
    assert_history(history, {"loss": [2.0798, 1.9845], "val_loss": [2.001, 1.9108]})


# ------------------------------------------------------------------- evaluate and predict


def test_evaluate_steps_above_the_batches_of_arrays_stops_at_their_end():
    model = make_model()
    loss, events = run(lambda cb: model.evaluate(X, Y, batch_size=4, steps=5, callbacks=cb))
    assert events == ["v0", "v1", "v2", "W"]
    np.testing.assert_allclose(loss, 2.0975, rtol=2e-4)


def test_evaluate_on_a_generator_without_steps_warns_at_its_end():
    model, log = make_model(), []
    loss, events = run(lambda cb: model.evaluate(numbered(4, log), callbacks=cb))
    assert events == ["v0", "v1", "v2", "W"] and log == ["g0", "g1", "g2"]
    np.testing.assert_allclose(loss, 2.0975, rtol=2e-4)


def test_predict_steps_above_the_batches_of_arrays_stops_at_their_end():
    model = make_model()
    result, events = run(lambda cb: model.predict(X, batch_size=4, steps=5, callbacks=cb))
    assert events == ["p0", "p1", "p2", "W"] and result.shape == (10, 1)


def test_predict_steps_above_the_batches_of_a_generator_stops_at_its_end():
    model = make_model()
    generator = ((X[i : i + 4],) for i in range(0, 10, 4))
    result, events = run(lambda cb: model.predict(generator, steps=5, callbacks=cb))
    assert events == ["p0", "p1", "p2", "W"] and result.shape == (10, 1)
