"""extract_features and NearestNeighbors: shapes and pooling on a small model, exact search
against a NumPy brute force, and a small end-to-end on real MNIST digits."""

import numpy as np
import pytest
import torch

import lamina
from lamina.transfer import NearestNeighbors, extract_features


@pytest.fixture(scope="module")
def small_model() -> lamina.Model:
    lamina.config.set_random_seed(0)
    return lamina.Sequential(
        [
            lamina.Input((8, 8, 1)),
            lamina.layers.Conv2D(4, 3, activation="relu", name="conv"),
            lamina.layers.Flatten(name="flat"),
            lamina.layers.Dense(3, activation="softmax", name="classifier"),
        ]
    )


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype("float32")


def conv_maps(model: lamina.Model, x: np.ndarray) -> np.ndarray:
    submodel = lamina.Model(model.inputs, model.get_layer("conv").output)
    return submodel.predict(x, verbose=0)


def test_extract_features_defaults_to_the_classifier_input(small_model, images):
    features = extract_features(small_model, images)
    assert features.shape == (5, 6 * 6 * 4)
    np.testing.assert_allclose(features, conv_maps(small_model, images).reshape(5, -1), rtol=1e-6)


@pytest.mark.parametrize("pooling", ["avg", "max", None])
def test_extract_features_pools_4d_outputs(small_model, images, pooling):
    maps = conv_maps(small_model, images)
    features = extract_features(small_model, images, layer="conv", pooling=pooling)
    expected = {"avg": maps.mean(axis=(1, 2)), "max": maps.max(axis=(1, 2)), None: maps}[pooling]
    assert isinstance(features, np.ndarray)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_extract_features_takes_layers_and_tensors(small_model, images):
    from_name = extract_features(small_model, images, layer="conv", batch_size=2)
    from_layer = extract_features(
        small_model, torch.from_numpy(images), layer=small_model.layers[0]
    )
    assert from_name.shape == (5, 4)
    np.testing.assert_allclose(from_layer, from_name, rtol=1e-6)


def test_extract_features_without_classifier_returns_the_output(images):
    model = lamina.Sequential([lamina.Input((8, 8, 1)), lamina.layers.Conv2D(2, 3)])
    assert extract_features(model, images).shape == (5, 2)
    assert extract_features(model, images, pooling=None).shape == (5, 6, 6, 2)


def test_extract_features_errors(small_model, images):
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        extract_features(small_model, images, pooling="sum")
    with pytest.raises(ValueError, match="is not a layer of model"):
        extract_features(small_model, images, layer=lamina.layers.Dense(2, name="stranger"))


def brute_force(points, queries, k, metric):
    points, queries = points.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        p = points / np.linalg.norm(points, axis=1, keepdims=True)
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        distances = 1.0 - q @ p.T
    else:
        distances = np.sqrt(((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(distances, axis=1, kind="stable")
    ranked = np.take_along_axis(distances, order, axis=1)
    # Ties avoided: the seeded data keeps the k-th and (k+1)-th neighbours apart.
    assert (np.diff(ranked[:, : k + 1], axis=1) > 1e-5).all()
    return ranked[:, :k], order[:, :k]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("max_chunk_bytes", [2**28, 4 * 300 * 7])  # one chunk; 7-query chunks
def test_kneighbors_matches_brute_force(metric, max_chunk_bytes):
    rng = np.random.default_rng(3)
    points = rng.normal(size=(300, 16)).astype("float32")
    queries = rng.normal(size=(40, 16)).astype("float32")
    index = NearestNeighbors(n_neighbors=5, metric=metric, max_chunk_bytes=max_chunk_bytes)
    distances, indices = index.fit(points).kneighbors(queries)
    expected_distances, expected_indices = brute_force(points, queries, 5, metric)
    assert distances.shape == indices.shape == (40, 5)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, atol=1e-5)
    only_indices = index.kneighbors(queries, n_neighbors=2, return_distance=False)
    np.testing.assert_array_equal(only_indices, expected_indices[:, :2])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_kneighbors_of_the_training_set_finds_each_point_first(metric):
    points = np.random.default_rng(4).normal(size=(500, 8)).astype("float32")
    distances, indices = NearestNeighbors(3, metric=metric).fit(points).kneighbors(points)
    np.testing.assert_array_equal(indices[:, 0], np.arange(500))
    np.testing.assert_allclose(distances[:, 0], 0.0, atol=1e-5)


def test_predict_is_a_majority_vote_with_ties_to_the_smallest_label():
    points = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [30.0]])
    labels = np.array(["b", "b", "a", "c", "c", "a"])
    index = NearestNeighbors(n_neighbors=3, metric="euclidean").fit(points, labels)
    assert index.predict([[0.5], [10.5]]).tolist() == ["b", "c"]
    # neighbours of 20: 11 ("c"), 10 ("c"), 30 ("a") -> "c"; with k=2 of 1.6: 2 ("a"), 1 ("b")
    assert index.predict([[20.0]]).tolist() == ["c"]
    assert NearestNeighbors(2, "euclidean").fit(points, labels).predict([[1.6]]).tolist() == ["a"]


def test_nearest_neighbors_errors():
    with pytest.raises(ValueError, match="metric must be 'cosine' or 'euclidean'"):
        NearestNeighbors(metric="manhattan")
    index = NearestNeighbors(n_neighbors=3)
    with pytest.raises(ValueError, match="call fit"):
        index.kneighbors(np.zeros((1, 2)))
    index.fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="between 1 and the 2 fitted points"):
        index.kneighbors(np.ones((1, 2)))
    with pytest.raises(ValueError, match="predict needs labels"):
        index.predict(np.ones((1, 2)))
    with pytest.raises(ValueError, match="must be 2-D"):
        index.fit(np.ones((2, 2, 2)))


@pytest.mark.e2e
def test_mnist_features_from_a_small_trained_convnet_support_1nn():
    (x_train, y_train), (x_test, y_test) = lamina.datasets.mnist.load_data()
    x_train = (x_train[:8192, :, :, None] / 255.0).astype("float32")
    x_test = (x_test[:128, :, :, None] / 255.0).astype("float32")
    lamina.config.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((28, 28, 1)),
            lamina.layers.Conv2D(16, 3, activation="relu"),
            lamina.layers.MaxPooling2D(2),
            lamina.layers.Conv2D(32, 3, activation="relu"),
            lamina.layers.MaxPooling2D(2),
            lamina.layers.Flatten(),
            lamina.layers.Dense(64, activation="relu", name="features"),
            lamina.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train[:8192], epochs=1, batch_size=64, verbose=0)
    # The default layer is the classifier's input, the 64-unit "features" layer.
    gallery = extract_features(model, x_test[:64])
    queries = extract_features(model, x_test[64:128])
    assert gallery.shape == (64, 64)
    index = NearestNeighbors(n_neighbors=1, metric="cosine").fit(gallery, y_test[:64])
    accuracy = float((index.predict(queries) == y_test[64:128]).mean())
    # Measured 0.844 (54 of 64) with seed 0 on CPU; the bound leaves room for other devices'
    # and torch versions' numerics (chance is 0.1).
    assert accuracy > 0.7, f"1-NN accuracy on MNIST features: {accuracy:.3f}"
