"""lamina.utils.FeatureSpace against Keras 3.15.1's FeatureSpace (run with TensorFlow 2.21,
which Keras' FeatureSpace needs, on the same synthetic table): keras.io's "structured data
classification with FeatureSpace" setup, a dict-mode space with hashing and int outputs,
adapting, calling, functional models, configs and saving."""

import numpy as np
import pytest
import torch

import lamina
from lamina.utils._feature_space import FeatureSpace


def heart_table(rows=48, seed=7):
    """A synthetic table with the columns of keras.io's heart-disease FeatureSpace example
    (48 rows: adapt() reads a batch of 32 and one of 16)."""
    rng = np.random.default_rng(seed)
    return {
        "sex": rng.integers(0, 2, rows),
        "cp": rng.integers(0, 5, rows),
        "fbs": rng.integers(0, 2, rows),
        "restecg": rng.integers(0, 3, rows),
        "exang": rng.integers(0, 2, rows),
        "ca": rng.integers(0, 4, rows),
        "thal": np.array(["fixed", "normal", "reversible"])[rng.integers(0, 3, rows)],
        "age": rng.integers(29, 78, rows).astype("float32"),
        "trestbps": np.round(rng.normal(130, 17, rows)).astype("float32"),
        "chol": np.round(rng.normal(246, 50, rows)).astype("float32"),
        "thalach": np.round(rng.normal(150, 22, rows)).astype("float32"),
        "oldpeak": np.round(rng.gamma(1.0, 1.0, rows), 1).astype("float32"),
        "slope": rng.integers(1, 4, rows).astype("float32"),
    }


DATA = heart_table()


def heart_feature_space():
    """keras.io's FeatureSpace for the heart-disease table, as written there."""
    return FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "fbs": FeatureSpace.integer_categorical(num_oov_indices=0),
            "restecg": FeatureSpace.integer_categorical(num_oov_indices=0),
            "exang": FeatureSpace.integer_categorical(num_oov_indices=0),
            "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "age": FeatureSpace.float_discretized(num_bins=30),
            "trestbps": FeatureSpace.float_normalized(),
            "chol": FeatureSpace.float_normalized(),
            "thalach": FeatureSpace.float_normalized(),
            "oldpeak": FeatureSpace.float_normalized(),
            "slope": FeatureSpace.float_normalized(),
        },
        crosses=[
            FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
            FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=16),
        ],
        output_mode="concat",
    )


# Keras' results (tf.data.Dataset.from_tensor_slices(DATA).batch(32) given to adapt()).
KERAS_VOCABULARIES = {
    "sex": [1, 0],
    "cp": [4, 2, 0, 3, 1],
    "fbs": [0, 1],
    "restecg": [1, 2, 0],
    "exang": [1, 0],
    "ca": [3, 0, 2, 1],
    "thal": ["reversible", "fixed", "normal"],
}
KERAS_AGE_BINS = [29.0, 30.200000762939453, 31.799999237060547, 33.400001525878906, 35.0,
    37.599998474121094, 38.39999771118164, 40.79999923706055, 41.0, 43.0, 45.79999923706055,
    49.0, 49.79999923706055, 52.20000076293945, 56.0, 59.599998474121094, 62.20000076293945,
    63.0, 63.400001525878906, 65.0, 65.0, 66.4000015258789, 68.0, 69.4000015258789, 72.0,
    72.0, 73.0, 73.80000305175781, 75.4000015258789]  # fmt: skip
KERAS_MEAN_VARIANCE = {
    "trestbps": [128.64584350585938, 298.853759765625],
    "chol": [237.08334350585938, 2673.951416015625],
    "thalach": [151.5625, 339.37109375],
    "oldpeak": [1.0937501192092896, 1.408919334411621],
    "slope": [2.125, 0.734375],
}
# The encoded (48, 136) array: age (30 bins), ca (4), chol, cp (5), exang (2), fbs (2),
# oldpeak, restecg (3), sex (2), slope, thal (3), thalach, trestbps, then the crosses
# sex_X_age (64) and thal_X_ca (16). The columns holding a 1 in each row:
ONES = [
    [11, 30, 36, 41, 43, 45, 48, 53, 88, 129],
    [10, 31, 37, 41, 43, 46, 48, 53, 114, 124],
    [5, 30, 37, 40, 43, 47, 48, 51, 106, 128],
    [29, 32, 36, 41, 43, 45, 48, 51, 109, 134],
    [21, 33, 35, 40, 43, 45, 48, 52, 57, 123],
    [13, 30, 36, 41, 42, 47, 48, 52, 96, 121],
    [7, 30, 35, 40, 43, 46, 48, 52, 107, 121],
    [15, 32, 35, 41, 43, 46, 49, 53, 85, 131],
    [12, 31, 35, 41, 42, 45, 49, 52, 92, 129],
    [16, 32, 38, 40, 42, 46, 49, 53, 110, 131],
    [3, 31, 36, 41, 43, 45, 49, 53, 91, 124],
    [6, 31, 36, 40, 42, 46, 48, 51, 64, 123],
    [21, 31, 39, 40, 43, 46, 48, 51, 57, 123],
    [3, 31, 36, 41, 42, 45, 49, 52, 91, 129],
    [16, 30, 39, 41, 42, 47, 49, 51, 110, 128],
    [12, 33, 39, 40, 42, 47, 48, 51, 111, 124],
    [1, 31, 35, 41, 42, 45, 49, 51, 97, 123],
    [21, 31, 37, 40, 43, 47, 48, 51, 57, 123],
    [18, 33, 37, 40, 42, 46, 49, 52, 89, 123],
    [23, 33, 37, 41, 42, 46, 49, 51, 99, 124],
    [26, 33, 35, 41, 43, 47, 48, 52, 102, 123],
    [19, 30, 38, 40, 43, 45, 49, 53, 71, 129],
    [24, 30, 35, 41, 42, 47, 49, 51, 60, 128],
    [4, 32, 39, 40, 43, 47, 49, 51, 77, 134],
    [28, 30, 38, 40, 42, 45, 48, 52, 82, 121],
    [27, 33, 39, 41, 43, 46, 49, 52, 70, 123],
    [18, 31, 36, 40, 42, 46, 48, 53, 79, 124],
    [23, 33, 37, 40, 43, 45, 49, 53, 99, 128],
    [21, 31, 38, 40, 43, 45, 49, 51, 61, 123],
    [26, 30, 35, 40, 43, 45, 48, 52, 102, 121],
    [26, 31, 38, 40, 43, 47, 48, 52, 102, 129],
    [14, 33, 37, 40, 42, 45, 48, 52, 109, 123],
    [23, 31, 36, 40, 43, 46, 48, 53, 91, 124],
    [27, 30, 39, 41, 42, 45, 48, 52, 102, 121],
    [10, 31, 35, 41, 42, 47, 48, 52, 114, 129],
    [2, 32, 35, 40, 42, 47, 48, 51, 70, 134],
    [5, 30, 37, 41, 42, 46, 48, 51, 106, 128],
    [1, 32, 36, 41, 42, 47, 48, 51, 59, 134],
    [13, 30, 35, 40, 43, 46, 49, 53, 107, 129],
    [1, 30, 35, 40, 42, 46, 48, 52, 59, 121],
    [9, 30, 38, 40, 42, 45, 49, 51, 117, 128],
    [9, 32, 38, 40, 43, 45, 49, 53, 117, 131],
    [18, 32, 37, 40, 43, 46, 48, 51, 79, 134],
    [9, 32, 38, 41, 42, 45, 49, 53, 117, 131],
    [28, 30, 36, 40, 42, 45, 48, 52, 82, 121],
    [6, 33, 37, 41, 43, 47, 48, 53, 64, 128],
    [29, 30, 39, 40, 42, 45, 49, 53, 105, 129],
    [15, 30, 36, 40, 42, 46, 49, 53, 85, 129],
]
FLOAT_COLUMNS = {"chol": 34, "oldpeak": 44, "slope": 50, "thalach": 54, "trestbps": 55}
KERAS_ROW_0_FLOATS = [0.09508086740970612, -0.9214569926261902, 1.0210548639297485,
    0.29516294598579407, -0.5001243352890015]  # fmt: skip
KERAS_ROW_47_FLOATS = [1.3134076595306396, 0.9319877624511719, -0.14586499333381653,
    -1.333322286605835, 0.9460166096687317]  # fmt: skip


def keras_encoded_array():
    expected = np.zeros((48, 136), dtype=np.float32)
    for row, columns in enumerate(ONES):
        expected[row, columns] = 1.0
    for name, column in FLOAT_COLUMNS.items():
        mean, variance = KERAS_MEAN_VARIANCE[name]
        expected[:, column] = (DATA[name] - mean) / np.sqrt(variance)
    return expected


@pytest.fixture(scope="module")
def heart_space():
    space = heart_feature_space()
    space.adapt(lamina.data.Dataset.from_tensor_slices(DATA).batch(32))
    return space


def test_heart_example_learns_keras_vocabularies_bins_and_statistics(heart_space):
    for name, vocabulary in KERAS_VOCABULARIES.items():
        assert heart_space.preprocessors[name].get_vocabulary() == vocabulary, name
    assert heart_space.preprocessors["age"].bin_boundaries == KERAS_AGE_BINS
    for name, (mean, variance) in KERAS_MEAN_VARIANCE.items():
        layer = heart_space.preprocessors[name]
        assert float(layer.mean) == pytest.approx(mean, rel=1e-6), name
        assert float(layer.variance) == pytest.approx(variance, rel=1e-6), name


def test_heart_example_encodes_the_table_as_keras(heart_space):
    encoded = heart_space(DATA)
    assert encoded.dtype == torch.float32 and tuple(encoded.shape) == (48, 136)
    np.testing.assert_allclose(encoded.numpy(), keras_encoded_array(), atol=2e-6)
    columns = list(FLOAT_COLUMNS.values())
    np.testing.assert_allclose(encoded[0, columns].numpy(), KERAS_ROW_0_FLOATS, atol=2e-6)
    np.testing.assert_allclose(encoded[47, columns].numpy(), KERAS_ROW_47_FLOATS, atol=2e-6)


def test_one_example_of_scalars_gives_one_vector(heart_space):
    single = heart_space({name: column[0] for name, column in DATA.items()})
    assert tuple(single.shape) == (136,)
    np.testing.assert_allclose(single.numpy(), keras_encoded_array()[0], atol=2e-6)


def test_adapt_on_a_dict_of_columns_equals_keras():
    space = FeatureSpace(
        {
            "age": FeatureSpace.float_discretized(num_bins=30),
            "chol": "float_normalized",
            "thal": "string_categorical",
        }
    )
    space.adapt({name: DATA[name] for name in ("age", "chol", "thal")})
    assert space.preprocessors["age"].bin_boundaries == KERAS_AGE_BINS
    encoded = space({name: DATA[name] for name in ("age", "chol", "thal")})
    # Keras' first row: age bin 11, then chol (normalized), then thal 'normal' (index 3 of
    # ['[UNK]', 'reversible', 'fixed', 'normal']).
    expected_row = np.zeros(35, dtype=np.float32)
    expected_row[[11, 34]] = 1.0
    expected_row[30] = 0.09508086740970612
    np.testing.assert_allclose(encoded[0].numpy(), expected_row, atol=2e-6)


def test_adapt_on_an_unbatched_dataset_groups_examples_by_32(heart_space):
    space = heart_feature_space()
    space.adapt(lamina.data.Dataset.from_tensor_slices(DATA))  # as Keras: batches of 32
    assert space.preprocessors["age"].bin_boundaries == KERAS_AGE_BINS
    np.testing.assert_allclose(space(DATA).numpy(), heart_space(DATA).numpy(), atol=1e-6)


def dict_feature_space():
    return FeatureSpace(
        features={
            "thal": FeatureSpace.string_hashed(num_bins=8),
            "cp": FeatureSpace.integer_hashed(num_bins=4, output_mode="int"),
            "ca": FeatureSpace.integer_categorical(output_mode="int"),
            "age": FeatureSpace.float_discretized(num_bins=4, output_mode="int"),
            "chol": FeatureSpace.float_rescaled(scale=0.01, offset=-2.0),
            "oldpeak": "float",
            "restecg": "integer_categorical",
            "slope": FeatureSpace.float_discretized(num_bins=3),
        },
        crosses=[
            FeatureSpace.cross(("thal", "cp"), crossing_dim=8, output_mode="int"),
            ("restecg", "ca"),
        ],
        crossing_dim=16,
        output_mode="dict",
    )


KERAS_DICT_INTS = {  # first 8 rows
    "age": ([1, 1, 0, 3, 2, 1, 1, 2], torch.int32),
    "ca": ([1, 2, 1, 3, 4, 1, 1, 3], torch.int64),
    "cp": ([3, 3, 3, 3, 3, 3, 3, 3], torch.int64),
    "thal_X_cp": ([4, 4, 0, 0, 4, 4, 4, 4], torch.int64),
}
KERAS_DICT_HOT = {  # (width, the index of the 1 in each of the first 8 rows)
    "restecg": (4, [1, 2, 3, 1, 1, 3, 2, 2]),
    "slope": (3, [2, 2, 0, 2, 2, 2, 2, 2]),
    "thal": (8, [7, 7, 2, 2, 0, 0, 0, 7]),
    "restecg_X_ca": (16, [9, 11, 4, 3, 5, 4, 4, 8]),
}
KERAS_CHOL_RESCALED = [0.4199998378753662, 0.4500000476837158, -0.25999999046325684,
    0.23000001907348633, 0.8299999237060547, 0.4199998378753662, 0.5,
    0.309999942779541]  # fmt: skip


def test_dict_mode_with_hashing_and_int_outputs_equals_keras():
    space = dict_feature_space()
    space.adapt(lamina.data.Dataset.from_tensor_slices(DATA).batch(32))
    encoded = space({name: column[:8] for name, column in DATA.items()})
    assert sorted(encoded) == sorted([*KERAS_DICT_INTS, *KERAS_DICT_HOT, "chol", "oldpeak"])
    for name, (values, dtype) in KERAS_DICT_INTS.items():
        assert encoded[name].dtype == dtype, name
        assert encoded[name][:, 0].tolist() == values, name
    for name, (width, hot) in KERAS_DICT_HOT.items():
        expected = np.eye(width, dtype=np.float32)[hot]
        np.testing.assert_array_equal(encoded[name].numpy(), expected, err_msg=name)
    np.testing.assert_allclose(encoded["chol"][:, 0].numpy(), KERAS_CHOL_RESCALED, atol=1e-6)
    np.testing.assert_array_equal(encoded["oldpeak"][:, 0].numpy(), DATA["oldpeak"][:8])


def test_dict_mode_one_example_drops_the_batch_axis_as_keras():
    space = dict_feature_space()
    space.adapt(DATA)
    single = space({name: column[0] for name, column in DATA.items()})
    shapes = {name: tuple(value.shape) for name, value in single.items()}
    assert shapes == {  # Keras' shapes
        "age": (1,), "ca": (1,), "chol": (1,), "cp": (1,), "oldpeak": (1,), "restecg": (4,),
        "slope": (3,), "thal": (8,), "restecg_X_ca": (16,), "thal_X_cp": (1,),
    }  # fmt: skip


def test_functional_model_on_raw_dicts_gives_the_encoded_features_result(heart_space):
    inputs = heart_space.get_inputs()
    assert inputs["thal"].dtype == "string" and inputs["sex"].dtype == "int32"
    assert inputs["age"].shape == (None, 1)
    encoded = heart_space.get_encoded_features()
    assert encoded.shape == (None, 136)
    dense = lamina.layers.Dense(1, activation="sigmoid")
    model = lamina.Model(inputs, dense(encoded))
    columns = {name: column.reshape(-1, 1) for name, column in DATA.items()}
    predicted = model.predict(columns, verbose=0)
    expected = dense(heart_space(DATA)).detach().numpy()
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)


def test_config_has_keras_keys_and_rebuilds_the_space(heart_space):
    config = heart_space.get_config()
    assert sorted(config) == [
        "crosses", "crossing_dim", "features", "hashing_dim", "num_discretization_bins",
        "output_mode",
    ]  # fmt: skip
    assert config["crosses"][1] == {
        "module": "keras.src.layers.preprocessing.feature_space",
        "class_name": "Cross",
        "config": {"feature_names": ["thal", "ca"], "crossing_dim": 16, "output_mode": "one_hot"},
        "registered_name": "Cross",
    }
    rebuilt = FeatureSpace.from_config(config)
    assert rebuilt.preprocessors["thal"].get_vocabulary() == KERAS_VOCABULARIES["thal"]
    with pytest.raises(ValueError, match="call `.adapt"):  # Normalization's statistics
        rebuilt(DATA)
    rebuilt.adapt(DATA)
    np.testing.assert_allclose(rebuilt(DATA).numpy(), keras_encoded_array(), atol=2e-6)


def test_save_and_load_model_keep_the_adapted_state(heart_space, tmp_path):
    path = tmp_path / "featurespace.keras"
    heart_space.save(str(path))
    reloaded = lamina.models.load_model(str(path))
    assert isinstance(reloaded, FeatureSpace)
    np.testing.assert_array_equal(reloaded(DATA).numpy(), heart_space(DATA).numpy())


def test_named_types_use_the_space_defaults():
    space = FeatureSpace(
        {
            "a": "float",
            "b": "float_rescaled",
            "c": "float_discretized",
            "d": "integer_hashed",
            "e": "string_hashed",
        },
        hashing_dim=5,
        num_discretization_bins=7,
    )
    kinds = {name: type(layer).__name__ for name, layer in space.preprocessors.items()}
    assert kinds == {
        "a": "Identity", "b": "Rescaling", "c": "Discretization", "d": "Hashing",
        "e": "Hashing",
    }  # fmt: skip
    assert space.preprocessors["c"].num_bins == 7 and space.preprocessors["d"].num_bins == 5
    assert [space.features[n].dtype for n in "abcde"] == [
        "float32", "float32", "float32", "int32", "string",
    ]  # fmt: skip
    assert space.preprocessors["e"].name == "e_preprocessor"


def test_custom_preprocessor_feature():
    space = FeatureSpace(
        {
            "x": FeatureSpace.feature(
                dtype="float32", preprocessor=lamina.layers.Rescaling(2.0), output_mode="float"
            ),
            "k": FeatureSpace.feature(
                dtype="int32",
                preprocessor=lamina.layers.IntegerLookup(vocabulary=[5, 7]),
                output_mode="one_hot",
            ),
        }
    )  # nothing to adapt: usable at once
    encoded = space({"x": [1.5, -1.0], "k": [7, 9]})
    np.testing.assert_array_equal(encoded.numpy(), [[0, 0, 1, 3.0], [1, 0, 0, -2.0]])


def test_integer_features_take_whole_floats_and_refuse_fractions(heart_space):
    columns = {**DATA, "ca": DATA["ca"].astype("float64")}  # as read from a CSV
    np.testing.assert_array_equal(heart_space(columns).numpy(), heart_space(DATA).numpy())
    with pytest.raises(TypeError, match="feature 'ca' is an integer feature"):
        heart_space({**DATA, "ca": DATA["ca"] + 0.5})


def test_call_before_adapt_is_refused():
    with pytest.raises(ValueError, match=r"call `.adapt\(dataset\)`.*\['x'\]"):
        FeatureSpace({"x": "float_normalized"})({"x": [1.0]})


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="invalid type 'floaty'"):
        FeatureSpace({"x": "floaty"})
    with pytest.raises(ValueError, match="output_mode must be 'dict' or 'concat'"):
        FeatureSpace({"x": "float"}, output_mode="stack")
    with pytest.raises(ValueError, match=r"names features that are not in features: \['y'\]"):
        FeatureSpace({"x": "string_categorical"}, crosses=[("x", "y")])
    with pytest.raises(ValueError, match="non-empty dict"):
        FeatureSpace({})
    with pytest.raises(ValueError, match="output_mode must be one of"):
        FeatureSpace.integer_categorical(output_mode="multi_hot")


def test_int_output_cannot_be_concatenated():
    space = FeatureSpace({"c": FeatureSpace.string_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="feature 'c' has not been encoded"):
        space.adapt({"c": ["a", "b"]})


def test_call_needs_a_dict_with_every_feature(heart_space):
    with pytest.raises(ValueError, match="called with a dict"):
        heart_space([1.0, 2.0])
    with pytest.raises(ValueError, match=r"the data has no \['thal'\]"):
        heart_space({name: v for name, v in DATA.items() if name != "thal"})


def test_adapt_refuses_data_that_is_not_dicts():
    space = FeatureSpace({"x": "float_normalized"})
    with pytest.raises(ValueError, match="takes a lamina.data.Dataset of dicts"):
        space.adapt(np.zeros(3))
    with pytest.raises(ValueError, match="must yield dicts"):
        space.adapt(lamina.data.Dataset.from_tensor_slices(np.zeros(3)))


def test_keras_io_training_flow_with_a_mapped_dataset():
    # keras.io's flow: adapt on the features of a labelled dataset, train on the encoded
    # features (dataset.map), then predict from raw dicts with an end-to-end model. (Keras
    # builds its training model from the encoded tensor itself; lamina's functional models
    # start from Input tensors, so the training model here has its own Input.)
    lamina.utils.set_random_seed(1)
    labels = (DATA["thalach"] > 150).astype("float32")
    train = lamina.data.Dataset.from_tensor_slices((DATA, labels)).batch(16)
    space = heart_feature_space()
    space.adapt(train.map(lambda x, _: x))
    hidden = lamina.layers.Dense(8, activation="relu")
    head = lamina.layers.Dense(1, activation="sigmoid")
    features = lamina.Input((136,))
    training_model = lamina.Model(features, head(hidden(features)))
    training_model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = training_model.fit(train.map(lambda x, y: (space(x), y)), epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    inference_model = lamina.Model(space.get_inputs(), head(hidden(space.get_encoded_features())))
    raw = {name: column.reshape(-1, 1) for name, column in DATA.items()}
    np.testing.assert_allclose(
        inference_model.predict(raw, verbose=0),
        training_model.predict(space(DATA), verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


# Keras' get_config() of an adapted FeatureSpace (json.dumps, then loaded: tuples are lists),
# and its output for the first 3 rows. Keras keeps vocabularies out of configs, so the
# rebuilt space is adapted again on the same data.
KERAS_CONFIG = {
    "features": {
        "thal": {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Feature",
            "config": {
                "dtype": "string",
                "preprocessor": {
                    "module": "keras.layers",
                    "class_name": "StringLookup",
                    "config": {
                        "name": "thal_preprocessor",
                        "trainable": True,
                        "dtype": {
                            "module": "keras",
                            "class_name": "DTypePolicy",
                            "config": {"name": "float32"},
                            "registered_name": None,
                        },
                        "invert": False,
                        "max_tokens": None,
                        "num_oov_indices": 1,
                        "oov_token": "[UNK]",
                        "mask_token": None,
                        "output_mode": "int",
                        "sparse": False,
                        "pad_to_max_tokens": False,
                        "idf_weights": None,
                        "vocabulary": None,
                        "vocabulary_size": 4,
                        "oov_method": "floormod",
                        "salt": None,
                        "encoding": "utf-8",
                    },
                    "registered_name": None,
                    "build_config": {},
                },
                "output_mode": "one_hot",
            },
            "registered_name": "Feature",
        },
        "chol": {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Feature",
            "config": {
                "dtype": "float32",
                "preprocessor": {
                    "module": "keras.layers",
                    "class_name": "Rescaling",
                    "config": {
                        "name": "float_rescaled_preprocessor",
                        "trainable": True,
                        "dtype": {
                            "module": "keras",
                            "class_name": "DTypePolicy",
                            "config": {"name": "float32"},
                            "registered_name": None,
                        },
                        "scale": 0.01,
                        "offset": 0.0,
                    },
                    "registered_name": None,
                    "build_config": {"input_shape": [None, 1]},
                },
                "output_mode": "float",
            },
            "registered_name": "Feature",
        },
        "age": {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Feature",
            "config": {
                "dtype": "float32",
                "preprocessor": {
                    "module": "keras.layers",
                    "class_name": "Discretization",
                    "config": {
                        "bin_boundaries": [40.0, 56.0, 68.0],
                        "num_bins": 4,
                        "epsilon": 0.01,
                        "output_mode": "int",
                        "sparse": False,
                        "name": "float_discretized_preprocessor",
                        "dtype": "float32",
                    },
                    "registered_name": None,
                    "build_config": {"input_shape": [None, 1]},
                },
                "output_mode": "one_hot",
            },
            "registered_name": "Feature",
        },
        "oldpeak": {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Feature",
            "config": {
                "dtype": "float32",
                "preprocessor": {
                    "module": "keras.src.layers.preprocessing.feature_space",
                    "class_name": "TFDIdentity",
                    "config": {
                        "name": "oldpeak_preprocessor",
                        "dtype": {
                            "module": "keras",
                            "class_name": "DTypePolicy",
                            "config": {"name": "float32"},
                            "registered_name": None,
                        },
                        "trainable": True,
                    },
                    "registered_name": "TFDIdentity",
                    "build_config": {"input_shape": [None, 1]},
                },
                "output_mode": "float",
            },
            "registered_name": "Feature",
        },
        "cp": {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Feature",
            "config": {
                "dtype": "int32",
                "preprocessor": {
                    "module": "keras.layers",
                    "class_name": "Hashing",
                    "config": {
                        "name": "integer_hashed_preprocessor",
                        "trainable": True,
                        "dtype": {
                            "module": "keras",
                            "class_name": "DTypePolicy",
                            "config": {"name": "int64"},
                            "registered_name": None,
                        },
                        "num_bins": 4,
                        "salt": None,
                        "mask_value": None,
                        "output_mode": "int",
                        "sparse": False,
                    },
                    "registered_name": None,
                    "build_config": {"input_shape": [None, 1]},
                },
                "output_mode": "one_hot",
            },
            "registered_name": "Feature",
        },
    },
    "output_mode": "concat",
    "crosses": [
        {
            "module": "keras.src.layers.preprocessing.feature_space",
            "class_name": "Cross",
            "config": {
                "feature_names": ["thal", "cp"],
                "crossing_dim": 8,
                "output_mode": "one_hot",
            },
            "registered_name": "Cross",
        }
    ],
    "crossing_dim": 32,
    "hashing_dim": 32,
    "num_discretization_bins": 32,
}
KERAS_CONFIG_OUTPUT = [
    [
        0.0,
        1.0,
        0.0,
        0.0,
        2.419999837875366,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ],
    [
        0.0,
        1.0,
        0.0,
        0.0,
        2.450000047683716,
        0.0,
        0.0,
        0.0,
        1.0,
        1.899999976158142,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ],
    [
        1.0,
        0.0,
        0.0,
        0.0,
        1.7400000095367432,
        0.0,
        0.0,
        0.0,
        1.0,
        1.7999999523162842,
        0.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ],
]


def test_reads_a_config_written_by_keras():
    space = FeatureSpace.from_config(KERAS_CONFIG)
    kinds = {name: type(layer).__name__ for name, layer in space.preprocessors.items()}
    assert kinds == {
        "thal": "StringLookup", "chol": "Rescaling", "age": "Discretization",
        "oldpeak": "Identity", "cp": "Hashing",
    }  # fmt: skip
    space.adapt({name: DATA[name] for name in space.features})
    encoded = space({name: DATA[name][:3] for name in space.features})
    np.testing.assert_allclose(encoded.numpy(), KERAS_CONFIG_OUTPUT, atol=1e-6)


def test_custom_text_vectorization_feature_equals_keras():
    # Keras' docstring example: a TF-IDF TextVectorization as a custom feature.
    data = {"text": np.array(["1st string", "2nd string", "3rd string"])}
    layer = lamina.layers.TextVectorization(output_mode="tf_idf")
    space = FeatureSpace(
        {"text": FeatureSpace.feature(preprocessor=layer, dtype="string", output_mode="float")}
    )
    space.adapt(lamina.data.Dataset.from_tensor_slices(data))
    assert layer.get_vocabulary() == ["[UNK]", "string", "3rd", "2nd", "1st"]  # Keras'
    keras_output = [
        [0.0, 0.5596157908439636, 0.0, 0.0, 0.9162907600402832],
        [0.0, 0.5596157908439636, 0.0, 0.9162907600402832, 0.0],
        [0.0, 0.5596157908439636, 0.9162907600402832, 0.0, 0.0],
    ]
    np.testing.assert_allclose(space(data).numpy(), keras_output, rtol=1e-6)


def test_column_names_that_are_module_attributes_or_dotted(tmp_path):
    columns = {"type": ["a", "b", "a"], "values": [1.0, 2.0, 3.0], "petal.length": [1, 2, 2]}
    space = FeatureSpace(
        {
            "type": "string_categorical",
            "values": "float_normalized",
            "petal.length": "integer_categorical",
        },
        crosses=[("type", "petal.length")],
        crossing_dim=4,
    )
    space.adapt(columns)
    path = tmp_path / "space.lamina"
    space.save(str(path))
    reloaded = lamina.models.load_model(str(path))
    np.testing.assert_array_equal(reloaded(columns).numpy(), space(columns).numpy())
    # petal.length ([UNK], 2, 1), type ([UNK], a, b), the cross (4 bins), values
    assert tuple(space(columns).shape) == (3, 3 + 3 + 4 + 1)
