"""lamina.data.Dataset: slicing, batching, shuffling, map, take, devices."""

import numpy as np
import pytest
import torch

import lamina
from lamina.data import Dataset


def test_from_tensor_slices_yields_elements_with_the_structure():
    x = np.arange(12, dtype="float64").reshape(6, 2)
    y = np.arange(6)
    first = next(iter(Dataset.from_tensor_slices((x, y))))
    assert isinstance(first, tuple) and first[0].dtype == torch.float32
    assert first[0].tolist() == [0.0, 1.0] and int(first[1]) == 0
    element = next(iter(Dataset.from_tensor_slices({"a": x, "b": y})))
    assert set(element) == {"a", "b"}


def test_batch_sizes_and_len_with_and_without_drop_remainder():
    ds = Dataset.from_tensor_slices(np.arange(10))
    assert [len(b) for b in ds.batch(4)] == [4, 4, 2] and len(ds.batch(4)) == 3
    assert [len(b) for b in ds.batch(4, drop_remainder=True)] == [4, 4]
    assert len(ds.batch(4, drop_remainder=True)) == 2 and len(ds) == 10


def test_batching_twice_is_an_error():
    with pytest.raises(ValueError, match="already batched"):
        Dataset.from_tensor_slices(np.arange(3)).batch(2).batch(2)


def test_shuffle_with_seed_is_deterministic_and_reshuffles_each_pass():
    def orders():
        ds = Dataset.from_tensor_slices(np.arange(20)).shuffle(100, seed=3).batch(20)
        return [next(iter(ds)).tolist() for _ in range(2)]

    first, second = orders(), orders()
    assert first == second
    assert first[0] != first[1]
    assert sorted(first[0]) == list(range(20))


def test_shuffle_without_seed_follows_the_global_seed():
    ds = Dataset.from_tensor_slices(np.arange(20)).shuffle().batch(20)
    lamina.utils.set_random_seed(1)
    a = next(iter(ds)).tolist()
    lamina.utils.set_random_seed(1)
    assert next(iter(ds)).tolist() == a


def test_map_runs_on_whole_batches():
    calls = []

    def double(x, y):
        calls.append(x.shape[0])
        return x * 2, y

    ds = Dataset.from_tensor_slices((np.ones((5, 1)), np.zeros(5))).map(double).batch(2)
    batches = list(ds)
    assert calls == [2, 2, 1]
    assert batches[0][0].tolist() == [[2.0], [2.0]]


def test_take_counts_batches_after_batch_and_elements_before():
    ds = Dataset.from_tensor_slices(np.arange(10))
    assert len(list(ds.batch(3).take(2))) == 2 and len(ds.batch(3).take(2)) == 2
    assert [b.tolist() for b in ds.take(5).batch(2)] == [[0, 1], [2, 3], [4]]


def test_to_device_and_prefetch_keep_values():
    ds = Dataset.from_tensor_slices(np.arange(4.0)).batch(2).to("cpu").prefetch(2)
    assert [b.tolist() for b in ds] == [[0.0, 1.0], [2.0, 3.0]]
    assert all(b.device.type == "cpu" for b in ds)


def test_loaded_source_prefetches_in_order_and_raises_errors():
    def load(indices):
        if 7 in indices:
            raise OSError("unreadable file 7")
        return torch.tensor(indices)

    ds = Dataset._from_loader(6, load).batch(2).prefetch(2)
    assert [b.tolist() for b in ds] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(OSError, match="unreadable"):
        list(Dataset._from_loader(8, load).batch(4).prefetch(1))


def test_empty_and_mismatched_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="no samples"):
        Dataset.from_tensor_slices(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="same number of samples"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_tensor_slices(np.zeros(3)).map(3)


def test_strings_stay_numpy_paired_with_their_labels_and_train_a_text_model():
    texts = np.array(["a good movie", "bad film", "great acting good", "awful bad plot"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, dtype="float32")
    dataset = Dataset.from_tensor_slices((texts, labels)).shuffle(16, seed=1).batch(4)
    for batch_texts, batch_labels in dataset:
        assert isinstance(batch_texts, np.ndarray)
        positive = [("good" in t or "great" in t) for t in batch_texts]
        assert batch_labels.tolist() == [float(p) for p in positive]
    vectorize = lamina.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    model = lamina.Sequential(
        [
            vectorize,
            lamina.layers.Embedding(20, 4),
            lamina.layers.GlobalAveragePooling1D(),
            lamina.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    losses = model.fit(dataset, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
