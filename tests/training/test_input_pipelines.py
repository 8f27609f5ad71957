"""fit / evaluate / predict on every input kind: arrays, lamina Datasets, torch Datasets and
DataLoaders, generators. The same data must give the same training, batch for batch."""

import re

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.data import Dataset

RNG = np.random.RandomState(0)
X = RNG.rand(40, 5).astype("float32")
Y = RNG.randint(0, 3, 40)
W = RNG.rand(40).astype("float32")
BATCH = 8


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


class PerSample(torch.utils.data.Dataset):
    """A map-style torch Dataset yielding one (x, y, weight) sample at a time."""

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], Y[i], W[i]


def batches_forever():
    while True:
        for start in range(0, len(X), BATCH):
            end = start + BATCH
            yield X[start:end], Y[start:end], W[start:end]


def fit_inputs(kind):
    """fit's (x, kwargs) for one kind of input over (X, Y, W) in order, batches of 8."""
    tensors = (torch.from_numpy(X), torch.from_numpy(Y), torch.from_numpy(W))
    if kind == "arrays":
        return X, {"y": Y, "sample_weight": W, "batch_size": BATCH}
    if kind == "dataset":
        return Dataset.from_tensor_slices((X, Y, W)).batch(BATCH), {}
    if kind == "unbatched dataset":
        return Dataset.from_tensor_slices((X, Y, W)), {"batch_size": BATCH}
    if kind == "tensor dataset":
        return torch.utils.data.TensorDataset(*tensors), {"batch_size": BATCH}
    if kind == "torch dataset":
        return PerSample(), {"batch_size": BATCH}
    if kind == "dataloader":
        return torch.utils.data.DataLoader(PerSample(), batch_size=BATCH, shuffle=False), {}
    return batches_forever(), {"steps_per_epoch": len(X) // BATCH}


KINDS = [
    "arrays",
    "dataset",
    "unbatched dataset",
    "tensor dataset",
    "torch dataset",
    "dataloader",
    "generator",
]


@pytest.fixture(scope="module")
def reference():
    model = make_model()
    history = model.fit(X, Y, sample_weight=W, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    return history.history, model.predict(X, verbose=0)


@pytest.mark.parametrize("kind", KINDS)
def test_every_input_kind_trains_exactly_as_arrays(kind, reference):
    x, kwargs = fit_inputs(kind)
    model = make_model()
    history = model.fit(x, epochs=3, shuffle=False, verbose=0, **kwargs)
    expected, predictions = reference
    assert history.params["steps"] == 5
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(history.history[key], expected[key], rtol=1e-5)
    np.testing.assert_allclose(model.predict(X, verbose=0), predictions, rtol=1e-4, atol=1e-6)


def test_generator_with_steps_per_epoch_continues_across_epochs():
    seen = []

    def numbered():
        for i in range(10):
            seen.append(i)
            yield np.full((2, 5), i, "float32"), np.zeros(2, "int64")

    history = make_model().fit(numbered(), epochs=3, steps_per_epoch=3, verbose=0)
    assert seen == list(range(9)) and len(history.history["loss"]) == 3


def test_generator_running_dry_mid_epoch_warns_and_ends_the_epoch():
    generator = (batch for _, batch in zip(range(4), batches_forever(), strict=False))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = make_model().fit(generator, epochs=3, steps_per_epoch=3, verbose=0)
    # Keras 3.15.1 goes on after the warning: later epochs see the two batches it peeked.
    assert len(history.history["loss"]) == 3


def test_generator_without_steps_warns_each_epoch_and_training_goes_on():
    generator = (batch for _, batch in zip(range(5), batches_forever(), strict=False))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = make_model().fit(generator, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and history.params["steps"] is None


def test_dataloader_with_more_steps_than_batches_ends_each_epoch_at_its_end():
    loader = torch.utils.data.DataLoader(PerSample(), batch_size=BATCH)
    steps = []
    callback = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    with pytest.warns(UserWarning, match="ran out of data"):
        make_model().fit(loader, epochs=2, steps_per_epoch=7, verbose=0, callbacks=[callback])
    assert steps == list(range(5)) * 2  # Keras 3.15.1: the 5 real batches, each epoch


@pytest.mark.parametrize(
    ("x", "kind"),
    [
        (Dataset.from_tensor_slices(X).batch(4), "lamina.data.Dataset"),
        (torch.utils.data.DataLoader(PerSample()), "torch DataLoader"),
        (iter([X]), "generator"),
    ],
)
def test_y_with_a_dataset_or_generator_is_rejected_as_keras(x, kind):
    with pytest.raises(ValueError, match=f"providing `x` as a {kind}, `y` should not be passed"):
        make_model().fit(x, Y, verbose=0)


def test_validation_split_with_a_dataset_is_rejected():
    with pytest.raises(ValueError, match="`validation_split` is only supported for tensors"):
        make_model().fit(Dataset.from_tensor_slices((X, Y)).batch(8), validation_split=0.2)


def test_batch_size_is_ignored_for_a_dataloader_as_keras():
    loader = torch.utils.data.DataLoader(PerSample(), batch_size=BATCH)
    history = make_model().fit(loader, batch_size=3, epochs=1, verbose=0)
    assert history.params["steps"] == 5


@pytest.mark.parametrize("kind", ["dataset", "dataloader", "generator"])
def test_validation_data_of_every_kind_matches_evaluate_on_arrays(kind):
    x, kwargs = fit_inputs(kind)
    steps = kwargs.get("steps_per_epoch")
    model = make_model()
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=x, validation_steps=steps)
    logs = model.evaluate(X, Y, sample_weight=W, batch_size=BATCH, verbose=0, return_dict=True)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(history.history[f"val_{key}"][0], logs[key], rtol=1e-5)


def test_a_generator_validates_every_epoch_with_validation_steps():
    history = make_model().fit(
        X, Y, epochs=2, verbose=0, validation_data=batches_forever(), validation_steps=5
    )
    assert len(history.history["val_loss"]) == 2


def test_evaluate_and_predict_on_pipelines_match_arrays():
    model = make_model()
    model.fit(X, Y, epochs=1, verbose=0)
    expected = model.predict(X, batch_size=BATCH, verbose=0)
    loss = model.evaluate(X, Y, verbose=0, return_dict=True)["loss"]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X)), 16)
    for inputs in (
        Dataset.from_tensor_slices((X, Y)).batch(16),
        Dataset.from_tensor_slices(X),
        loader,
        ((X[i : i + 16],) for i in range(0, 40, 16)),  # a generator yields tuples (Keras)
    ):
        np.testing.assert_allclose(model.predict(inputs, verbose=0), expected, rtol=1e-5)
    dataset = Dataset.from_tensor_slices((X, Y)).batch(16)
    np.testing.assert_allclose(model.evaluate(dataset, verbose=0)[0], loss, rtol=1e-5)
    assert model.predict(Dataset.from_tensor_slices(X).batch(16), steps=2, verbose=0).shape == (
        32,
        3,
    )


def test_class_weight_applies_to_dataloader_batches():
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), BATCH
    )
    a = make_model().fit(loader, epochs=1, verbose=0, class_weight=weights)
    b = make_model().fit(
        X, Y, batch_size=BATCH, shuffle=False, epochs=1, verbose=0, class_weight=weights
    )
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)


def test_progress_bar_counts_unknown_steps(capsys):
    generator = (batch for _, batch in zip(range(3), batches_forever(), strict=False))
    make_model().fit(generator, epochs=1, verbose=1)
    # Keras 3.15.1: '      1/Unknown' while counting, then the count becomes the target: the
    # last line is '3/3 ━━━━━━━━━━━━━━━━━━━━ ...' (ANSI colour codes removed here)
    out = re.sub(r"\x1b\[\d+m", "", capsys.readouterr().out)
    assert "      1/Unknown" in out
    assert re.search(
        r"\r3/3 ━{20} \d+s \d+(us|ms|s)/step - accuracy: [\d.]+ - loss: [\d.]+\n$", out
    )


def test_train_on_batch_rejects_a_dataloader():
    loader = torch.utils.data.DataLoader(PerSample())
    with pytest.raises(TypeError, match="pass datasets, DataLoaders and generators to fit"):
        make_model().train_on_batch(loader)
