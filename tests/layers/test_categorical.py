"""CategoryEncoding and Discretization against Keras 3.15.1's outputs and adapted bins."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.categorical import CategoryEncoding, Discretization
from lamina.layers.core import Dense, Input
from lamina.testing import check_layer


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def values(tensor):
    return tensor.tolist()


# ------------------------------------------------------------------ CategoryEncoding
# Expected outputs below are Keras 3.15.1's (torch backend) for the same calls.


def test_one_hot_matches_keras():
    layer = CategoryEncoding(num_tokens=4, output_mode="one_hot")
    assert values(layer(np.array([3, 2, 0, 1]))) == [
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
    ]
    # A last axis of size 1 is replaced; any other gets a new axis.
    assert values(layer(np.array([[3], [2]]))) == [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]
    out = layer(np.array([[3, 1], [2, 2]]))
    assert values(out) == [
        [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]],
        [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
    ]
    assert out.dtype == torch.float32


def test_multi_hot_matches_keras():
    layer = CategoryEncoding(num_tokens=4)  # multi_hot by default
    assert values(layer(np.array([[0, 1], [0, 0], [1, 2], [3, 1]]))) == [
        [1.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 1.0],
    ]
    assert values(layer(np.array([0, 3, 3]))) == [1.0, 0.0, 0.0, 1.0]
    assert values(layer([3, 1])) == [0.0, 1.0, 0.0, 1.0]  # a plain list, as Keras takes
    # Rank 3: Keras' torch backend reduces axis 1.
    assert values(layer(np.array([[[0, 1], [2, 2]], [[3, 3], [1, 0]]]))) == [
        [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]],
        [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]],
    ]
    assert CategoryEncoding(4, output_mode="binary").output_mode == "multi_hot"


def test_count_and_count_weights_match_keras():
    layer = CategoryEncoding(num_tokens=4, output_mode="count")
    assert values(layer(np.array([[0, 1, 1], [3, 3, 3]]))) == [
        [1.0, 2.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 3.0],
    ]
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    out = layer(np.array([[0, 1], [0, 0], [1, 2], [3, 1]]), count_weights=weights)
    expected = [
        [0.1, 0.2, 0.0, 0.0],
        [0.2, 0.0, 0.0, 0.0],
        [0.0, 0.2, 0.3, 0.0],
        [0.0, 0.2, 0.0, 0.4],
    ]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_category_encoding_shapes_in_a_model():
    ids = Input((3,), dtype="int32")
    assert CategoryEncoding(4, output_mode="one_hot")(ids).shape == (None, 3, 4)
    assert CategoryEncoding(4)(ids).shape == (None, 4)
    model = lamina.Model(ids, Dense(2)(CategoryEncoding(5, output_mode="count")(ids)))
    assert model(torch.tensor([[0, 4, 4]])).shape == (1, 2)


def test_category_encoding_contract():
    ids = torch.tensor([[0, 2, 1], [3, 3, 0]])
    check_layer(
        CategoryEncoding,
        {"num_tokens": 4, "output_mode": "count"},
        (2, 3),
        expected_output_shape=(2, 4),
        input_data=ids,
        expected_num_trainable_weights=0,
    )


def test_category_encoding_config_round_trip():
    layer = CategoryEncoding(num_tokens=6, output_mode="one_hot")
    config = json.loads(json.dumps(layer.get_config()))
    assert (config["num_tokens"], config["output_mode"]) == (6, "one_hot")
    assert "sparse" not in config  # as Keras' config
    assert CategoryEncoding.from_config(config).get_config() == layer.get_config()


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"ids in \[0, 4\); got \[4\]"):
        CategoryEncoding(4)(np.array([[4, 0]]))
    with pytest.raises(ValueError, match=r"got \[-1\]"):  # Keras encodes -1 as zeros
        CategoryEncoding(4)(np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="count_weights is only used when output_mode is 'count'"):
        CategoryEncoding(4)(np.array([[0, 1]]), count_weights=np.ones((1, 2)))
    with pytest.raises(ValueError, match="count_weights must have the inputs' shape"):
        CategoryEncoding(4, "count")(np.array([[0, 1]]), count_weights=np.ones((1, 3)))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens must be >= 1"):
        CategoryEncoding(0)
    with pytest.raises(ValueError, match="output_mode must be one of"):
        CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        CategoryEncoding(3, sparse=True)


# ------------------------------------------------------------------ Discretization


def test_bins_match_keras():
    layer = Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]]))
    assert values(out) == [[0, 1, 1, 2, 3, 3]] and out.dtype == torch.int32
    assert values(layer(torch.tensor([[-3, 1, 5]]))) == [[0, 2, 3]]  # integers are cast


def test_encoded_outputs_match_keras():
    one_hot = Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot")
    assert values(one_hot(np.array([-1.0, 0.5, 2.0]))) == [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ]
    pairs = np.array([[-1.0, 0.5], [2.0, 2.0]])
    multi_hot = Discretization(bin_boundaries=[0.0, 1.0], output_mode="multi_hot")
    assert values(multi_hot(pairs)) == [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    count = Discretization(bin_boundaries=[0.0, 1.0], output_mode="count")
    assert values(count(pairs)) == [[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]]
    # Keras' compute_output_shape, which lamina uses (it needs no bins).
    assert one_hot.compute_output_shape((None, 3)) == (None, 3, 3)
    assert count.compute_output_shape((None, 3)) == (None, 3)


# Keras 3.15.1's bin_boundaries after the same adapt (its update_state per batch, then
# finalize_state, which is what adapt() does for arrays and lists of arrays).
RNG_DATA_BINS = {
    (5, 0.01): [-0.8735690712928772, -0.31480085849761963, 0.22266411781311035, 0.8061389327049255],
    (10, 0.01): [
        -1.282418131828308,
        -0.8735690712928772,
        -0.5682279467582703,
        -0.31480085849761963,
        -0.05797652155160904,
        0.22266411781311035,
        0.4916397035121918,
        0.8061389327049255,
        1.2788842916488647,
    ],
    (4, 0.1): [-0.7208982110023499, -0.057976000010967255, 0.6488898992538452],
    (3, 0.001): [-0.4909137189388275, 0.37759527564048767],
}
KERAS_BATCHED_BINS = [
    -0.9843124747276306,
    -0.46325957775115967,
    -0.042387817054986954,
    0.4032524526119232,
    0.9580518007278442,
]
KERAS_EXPONENTIAL_BINS = [
    0.12773773074150085,
    0.2813306748867035,
    0.43980172276496887,
    0.6558537483215332,
    0.9431556463241577,
    1.371954083442688,
    2.1116247177124023,
]
KERAS_TIED_BINS = [0.8571430444717407, 1.0121681690216064, 2.0, 3.0, 4.0, 4.967889785766602]


def normal_data():
    return np.random.default_rng(0).normal(size=(1000, 3)).astype("float32")


@pytest.mark.parametrize(("num_bins", "epsilon"), sorted(RNG_DATA_BINS))
def test_adapt_bins_equal_keras(num_bins, epsilon):
    layer = Discretization(num_bins=num_bins, epsilon=epsilon)
    layer.adapt(normal_data())
    assert layer.bin_boundaries == RNG_DATA_BINS[(num_bins, epsilon)]


def test_adapt_over_batches_equals_keras():
    data = normal_data()
    layer = Discretization(num_bins=6, epsilon=0.02)
    layer.adapt([data[:300], data[300:700], data[700:]])
    assert layer.bin_boundaries == KERAS_BATCHED_BINS


def test_adapt_on_skewed_batches_of_two_sizes_equals_keras():
    rng = np.random.default_rng(5)
    for size in (50, 230, 999, 7):  # the tied batches drawn first in the Keras run
        rng.integers(0, 6, size=size)
    layer = Discretization(num_bins=8, epsilon=0.01)
    layer.adapt([rng.exponential(size=(n, 2)).astype("float32") for n in (400, 1300)])
    assert layer.bin_boundaries == KERAS_EXPONENTIAL_BINS


def test_adapt_with_ties_across_batches_is_close_to_keras():
    # Tied values with different weights are ordered by a stable sort here and by NumPy's
    # unstable argsort in Keras, so some boundaries differ in the last digits.
    rng = np.random.default_rng(5)
    batches = [rng.integers(0, 6, size=n).astype("float32") for n in (50, 230, 999, 7)]
    layer = Discretization(num_bins=7, epsilon=0.05)
    layer.adapt(batches)
    np.testing.assert_allclose(layer.bin_boundaries, KERAS_TIED_BINS, rtol=2e-5)


def test_adapt_small_data_and_call_match_keras():
    layer = Discretization(num_bins=4, epsilon=0.01)
    data = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer.adapt(data)
    assert layer.bin_boundaries == [0.0, 0.5, 1.2999999523162842]
    assert values(layer(data)) == [[0, 2, 3, 2], [1, 3, 3, 1]]
    layer.adapt(np.array([1.0, 1.0, 2.0, 5.0, 7.0]))  # adapt starts over
    assert layer.bin_boundaries == [1.0, 1.4999998807907104, 4.25]


def test_adapt_takes_tensors_loaders_and_steps():
    data = torch.from_numpy(normal_data())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, data), batch_size=250)
    from_loader = Discretization(num_bins=4, epsilon=0.01)
    from_loader.adapt(loader, steps=2)  # (x, y) batches: x is used; two batches only
    direct = Discretization(num_bins=4, epsilon=0.01)
    direct.adapt([data[:250], data[250:500]])
    assert from_loader.bin_boundaries == direct.bin_boundaries
    assert len(from_loader.bin_boundaries) == 3


def test_adapted_config_round_trip_keeps_the_bins():
    layer = Discretization(num_bins=4, output_mode="one_hot")
    layer.adapt(normal_data())
    config = json.loads(json.dumps(layer.get_config()))
    assert config["num_bins"] == 4 and len(config["bin_boundaries"]) == 3
    clone = Discretization.from_config(config)
    assert clone.bin_boundaries == layer.bin_boundaries
    x = torch.randn(3, 5)
    assert torch.equal(clone(x), layer(x))


def test_a_model_is_built_before_adapt_and_saved_after(tmp_path):
    layer = Discretization(num_bins=3, output_mode="one_hot")
    inputs = Input((4, 1))
    model = lamina.Model(inputs, layer(inputs))
    assert model.output_shape == (None, 4, 3)
    layer.adapt(normal_data())
    path = tmp_path / "model.lamina"
    model.save(path)
    # custom_objects: works whether or not lamina.layers exports the class yet.
    restored = lamina.models.load_model(path, custom_objects={"Discretization": Discretization})
    x = torch.randn(2, 4, 1)
    assert torch.equal(restored(x), model(x))


def test_discretization_contract_and_training_in_a_model():
    check_layer(
        Discretization,
        {"bin_boundaries": [-0.5, 0.0, 0.5]},
        (2, 5),
        expected_output_shape=(2, 5),
        expected_num_trainable_weights=0,
    )
    model = lamina.Sequential([Input((5,)), Discretization(bin_boundaries=[0.0]), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
    history = model.fit(x, x[:, :1], batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_discretization_errors():
    with pytest.raises(ValueError, match="has no bins yet"):
        Discretization(num_bins=3)(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="cannot be adapted"):
        Discretization(bin_boundaries=[0.0]).adapt(np.zeros(3))
    with pytest.raises(ValueError, match="not both"):
        Discretization(bin_boundaries=[0.0], num_bins=3)
    with pytest.raises(ValueError, match="set num_bins"):
        Discretization()
    with pytest.raises(ValueError, match="num_bins must be an int >= 1"):
        Discretization(num_bins=-1)
    with pytest.raises(ValueError, match="must be increasing"):
        Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="output_mode must be one of"):
        Discretization(num_bins=2, output_mode="bins")
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        Discretization(num_bins=2, output_mode="one_hot", sparse=True)
    with pytest.raises(TypeError, match="expects a NumPy array"):
        Discretization(num_bins=2).adapt(3.0)
    with pytest.raises(ValueError, match="got no values"):
        Discretization(num_bins=2).adapt([])


def test_discretization_integer_dtypes_type_the_encoded_outputs_as_keras():
    # Keras 3.15.1: 'int' gives int32 indices whatever the dtype; the encodings take it.
    x = np.array([[-1.0, 0.5, 0.0, -0.2]], "float32")
    for dtype in ("int32", "int64"):
        ints = Discretization(bin_boundaries=[0.0, 0.4], dtype=dtype)
        assert ints(x).dtype == torch.int32 and ints(x).tolist() == [[0, 2, 1, 0]]
        assert ints.get_config()["dtype"] == dtype
        one_hot = Discretization(bin_boundaries=[0.0, 0.4], output_mode="one_hot", dtype=dtype)
        assert one_hot(x).dtype == getattr(torch, dtype)
        assert one_hot(x).tolist() == [[[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]]
        count = Discretization(bin_boundaries=[0.0, 0.4], output_mode="count", dtype=dtype)
        assert count(x).dtype == getattr(torch, dtype) and count(x).tolist() == [[2, 1, 1]]
    assert Discretization(bin_boundaries=[0.0]).get_config()["dtype"] == "float32"


def test_discretization_keeps_the_bin_boundaries_as_given():
    # Keras 3.15.1: the attribute and the config hold the list passed in, ints included.
    layer = Discretization(bin_boundaries=[1, 3], dtype="int32")
    assert layer.get_config()["bin_boundaries"] == [1, 3] and layer.bin_boundaries == [1, 3]
    assert layer(np.array([[0, 1, 2, 3, 4]])).tolist() == [[0, 1, 1, 2, 2]]


def test_string_inputs_raise_a_value_error_as_keras():
    # Keras 3.15.1: ValueError "Invalid dtype: str32" for both layers.
    with pytest.raises(ValueError, match="CategoryEncoding .* expects numbers"):
        CategoryEncoding(3)(np.array([["a"]]))
    with pytest.raises(ValueError, match="Discretization .* expects numbers"):
        Discretization(bin_boundaries=[1.0])(np.array([["a"]]))
