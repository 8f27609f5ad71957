"""fit / evaluate / predict on a lamina.utils.PyDataset: the same numbers as the same batches
given as arrays, the epoch hooks and the batch order Keras 3.15.1 uses, clear errors."""

import threading
import time

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.utils import PyDataset

RNG = np.random.RandomState(0)
X = RNG.rand(40, 5).astype("float32")
Y = RNG.randint(0, 3, 40)
W = RNG.rand(40).astype("float32")
BATCH = 8


class Batches(PyDataset):
    """(x, y[, sample_weight]) batches of 8 of X, Y, W, with every hook and read recorded."""

    def __init__(self, x=X, y=Y, w=None, batch_size=BATCH, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.w, self.batch_size = x, y, w, batch_size
        self.reads, self.begins, self.ends = [], 0, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.reads.append(index)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.y is None:
            return self.x[part]
        if self.w is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.w[part]

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


def make_model():
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [lamina.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3)]
    )
    model.compile(
        lamina.optimizers.Adam(0.01),
        lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def assert_same_history(history, expected):
    assert history.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-6)


def test_fit_on_a_py_dataset_gives_the_history_of_the_same_arrays():
    expected = make_model().fit(X, Y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    history = make_model().fit(Batches(), epochs=3, shuffle=False, verbose=0)
    assert history.params["steps"] == 5  # steps_per_epoch defaults to len(dataset)
    assert_same_history(history.history, expected.history)


def test_validation_data_as_a_py_dataset_gives_the_history_of_arrays():
    kwargs = {"epochs": 2, "shuffle": False, "verbose": 0}
    expected = make_model().fit(X, Y, batch_size=BATCH, validation_data=(X[:16], Y[:16]), **kwargs)
    history = make_model().fit(Batches(), validation_data=Batches(X[:16], Y[:16]), **kwargs)
    assert "val_loss" in history.history
    assert_same_history(history.history, expected.history)


def test_sample_weights_from_the_dataset_are_used_as_fit_uses_them():
    kwargs = {"epochs": 2, "shuffle": False, "verbose": 0}
    expected = make_model().fit(X, Y, sample_weight=W, batch_size=BATCH, **kwargs)
    history = make_model().fit(Batches(w=W), **kwargs)
    assert_same_history(history.history, expected.history)


def test_class_weight_applies_to_py_dataset_batches():
    kwargs = {"epochs": 2, "shuffle": False, "verbose": 0, "class_weight": {0: 1.0, 1: 3.0}}
    expected = make_model().fit(X, Y, batch_size=BATCH, **kwargs)
    history = make_model().fit(Batches(), **kwargs)
    assert_same_history(history.history, expected.history)


def test_evaluate_on_a_py_dataset_equals_evaluate_on_arrays():
    model = make_model()
    expected = model.evaluate(X, Y, batch_size=BATCH, verbose=0, return_dict=True)
    results = model.evaluate(Batches(), verbose=0, return_dict=True)
    assert results.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(results[key], expected[key], rtol=1e-6)


@pytest.mark.parametrize("workers", [1, 3])
def test_predict_keeps_the_batch_order(workers):
    model = make_model()
    predictions = model.predict(Batches(y=None, workers=workers), verbose=0)
    assert predictions.shape == (40, 3)
    np.testing.assert_allclose(predictions, model.predict(X, verbose=0), rtol=1e-6)


def test_predict_takes_x_from_batches_with_targets():
    model = make_model()
    np.testing.assert_allclose(
        model.predict(Batches(), verbose=0), model.predict(X, verbose=0), rtol=1e-6
    )


def test_dict_inputs_for_a_two_input_functional_model():
    class TwoInputs(PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            part = slice(index * BATCH, (index + 1) * BATCH)
            return {"left": X[part, :2], "right": X[part, 2:]}, Y[part]

    def two_input_model():
        lamina.utils.set_random_seed(0)
        left, right = lamina.Input((2,), name="left"), lamina.Input((3,), name="right")
        merged = layers.Concatenate()([layers.Dense(4)(left), layers.Dense(4)(right)])
        model = lamina.Model([left, right], layers.Dense(3)(merged))
        model.compile("adam", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    arrays = {"left": X[:, :2], "right": X[:, 2:]}
    expected = two_input_model().fit(
        arrays, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0
    )
    model = two_input_model()
    history = model.fit(TwoInputs(), epochs=2, shuffle=False, verbose=0)
    assert_same_history(history.history, expected.history)
    assert model.predict(TwoInputs(), verbose=0).shape == (40, 3)


def test_epoch_hooks_are_called_as_keras():
    # Keras 3.15.1 (torch backend, built model): fit(epochs=3) calls on_epoch_begin 3 times
    # and on_epoch_end 4 (its input is reset once before training); evaluate 1 and 2;
    # predict 1 and 1; each validation run 1 and 2.
    model = make_model()
    model.fit(X, Y, epochs=1, verbose=0)
    train, validation = Batches(), Batches(X[:16], Y[:16])
    model.fit(train, epochs=3, verbose=0, validation_data=validation)
    assert (train.begins, train.ends) == (3, 4)
    assert (validation.begins, validation.ends) == (3, 6)
    evaluated, predicted = Batches(), Batches()
    model.evaluate(evaluated, verbose=0)
    model.predict(predicted, verbose=0)
    assert (evaluated.begins, evaluated.ends) == (1, 2)
    assert (predicted.begins, predicted.ends) == (1, 1)


def test_on_epoch_end_runs_after_the_epochs_last_batch_before_the_next_epoch():
    events = []

    class Logged(Batches):
        def __getitem__(self, index):
            events.append(f"read {index}")
            return super().__getitem__(index)

        def on_epoch_end(self):
            events.append("end")

    epoch_ends = lamina.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: events.append("callback end")
    )
    make_model().fit(
        Logged(batch_size=20), epochs=2, shuffle=False, verbose=0, callbacks=[epoch_ends]
    )
    assert events == ["read 0", "end"] + ["read 0", "read 1", "end", "callback end"] * 2


def test_shuffle_draws_a_new_batch_order_every_epoch_as_keras():
    model = make_model()
    model.fit(Batches(), epochs=1, verbose=0)
    lamina.utils.set_random_seed(0)
    data = Batches(batch_size=7, workers=2)
    model.fit(data, epochs=3, verbose=0)
    # The first read builds the model; then Keras 3.15.1's orders for set_random_seed(0).
    assert data.reads == [4, 2, 1, 0, 5, 3, 4, 0, 1, 5, 2, 3, 5, 3, 0, 2, 1, 4]


def test_evaluate_and_validation_never_shuffle():
    validation = Batches(X[:24], Y[:24])
    make_model().fit(Batches(), epochs=2, verbose=0, validation_data=validation)
    assert validation.reads == [0, 1, 2] * 2


def test_workers_give_the_same_history_as_the_main_thread():
    kwargs = {"epochs": 2, "verbose": 0, "validation_data": Batches(X[:16], Y[:16], workers=2)}
    expected = make_model().fit(Batches(), **kwargs)
    data = Batches(workers=2, max_queue_size=2)
    history = make_model().fit(data, **kwargs)
    assert_same_history(history.history, expected.history)


def test_workers_fetch_batches_in_other_threads_and_keep_the_order():
    class Slow(Batches):
        threads = set()

        def __getitem__(self, index):
            Slow.threads.add(threading.current_thread().name)
            time.sleep(0.02 * (index % 2))  # odd batches finish last
            return super().__getitem__(index)

    model = make_model()
    np.testing.assert_allclose(
        model.predict(Slow(y=None, workers=4), verbose=0), model.predict(X, verbose=0), rtol=1e-6
    )
    assert any(name.startswith("Slow") for name in Slow.threads)


def test_steps_per_epoch_below_len_continues_the_pass_across_epochs():
    data = Batches()
    history = make_model().fit(data, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    assert data.reads == [0] + [0, 1, 2, 3, 4]


def test_steps_per_epoch_below_len_with_workers_trains_as_the_main_thread():
    kwargs = {"epochs": 3, "steps_per_epoch": 2, "verbose": 0}
    expected = make_model().fit(Batches(), **kwargs)
    history = make_model().fit(Batches(workers=2, max_queue_size=3), **kwargs)
    assert_same_history(history.history, expected.history)


def test_an_endless_py_dataset_needs_steps_per_epoch():
    class Endless(PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return X[:BATCH], Y[:BATCH]

    with pytest.warns(UserWarning, match="infinite PyDataset"):
        history = make_model().fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0)
    assert history.params["steps"] == 3 and len(history.history["loss"]) == 2


def test_batch_size_is_ignored_as_keras_ignores_it():
    # Keras 3.15.1 documents "do not specify batch_size" but neither raises nor uses it.
    kwargs = {"epochs": 1, "shuffle": False, "verbose": 0}
    expected = make_model().fit(Batches(), **kwargs)
    history = make_model().fit(Batches(), batch_size=4, **kwargs)
    assert_same_history(history.history, expected.history)
    assert make_model().predict(Batches(), batch_size=3, verbose=0).shape == (40, 3)


def test_torch_tensor_batches_are_accepted():
    class Tensors(PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            part = slice(index * BATCH, (index + 1) * BATCH)
            return torch.from_numpy(X[part]), torch.from_numpy(Y[part])

    kwargs = {"epochs": 1, "shuffle": False, "verbose": 0}
    expected = make_model().fit(Batches(), **kwargs)
    assert_same_history(make_model().fit(Tensors(), **kwargs).history, expected.history)


@pytest.mark.parametrize("batch", [(X, Y, W, W), 3, "text"])
def test_a_wrong_batch_structure_names_the_dataset_class(batch):
    class Broken(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return batch

    with pytest.raises(ValueError, match=r"Broken.__getitem__\(0\) \(a PyDataset\) must return a"):
        make_model().fit(Broken(), verbose=0)


def test_unusable_arrays_name_the_dataset_class():
    class Objects(PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.array([object()] * 4), Y[:4]

    with pytest.raises(TypeError, match="Objects \\(a PyDataset\\) returned a batch that cannot"):
        make_model().fit(Objects(), verbose=0)


def test_errors_of_arguments_a_py_dataset_does_not_take():
    model = make_model()
    with pytest.raises(ValueError, match="providing `x` as a PyDataset, `y` should not be passed"):
        model.fit(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="`validation_split` is only supported for tensors"):
        model.fit(Batches(), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="Batches .* `class_weight` and `sample_weight`"):
        model.fit(Batches(w=W), class_weight={0: 2.0}, verbose=0)


def test_an_empty_py_dataset_is_an_error_naming_it():
    with pytest.raises(ValueError, match="Batches \\(a PyDataset\\) has no batches"):
        make_model().fit(Batches(X[:0], Y[:0]), verbose=0)


def test_constructor_arguments_are_stored_and_sequence_is_an_alias():
    data = Batches(workers=3, use_multiprocessing=False, max_queue_size=4)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (3, False, 4)
    assert lamina.utils.Sequence is PyDataset
    assert len(data) == data.num_batches == 5
    assert [len(batch[0]) for batch in data] == [8] * 5


def test_a_subclass_that_skips_super_init_warns_and_gets_the_defaults():
    class NoSuper(PyDataset):
        def __init__(self):
            pass

    data = NoSuper()
    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert data.workers == 1
    assert (data.use_multiprocessing, data.max_queue_size) == (False, 10)  # warned once


def test_use_multiprocessing_falls_back_to_threads_with_a_warning():
    model = make_model()
    with pytest.warns(UserWarning, match="threads"):
        predictions = model.predict(Batches(y=None, workers=2, use_multiprocessing=True))
    np.testing.assert_allclose(predictions, model.predict(X, verbose=0), rtol=1e-6)
