"""Files written by Keras 3.15.1 load in lamina: `.keras` archives (architecture, weights,
compile settings) and `.weights.h5` files. The files and the expected predictions come from
tests/saving/keras_files/make_files.py, run with Keras 3.15.1 on its torch backend, recorded as
text in keras_files.json and rebuilt here with the same members, groups and arrays
(materialize.py)."""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import layers

sys.path.insert(0, str(Path(__file__).parent / "keras_files"))
from materialize import materialize  # noqa: E402

FILES, EXPECTED = materialize(tempfile.mkdtemp(prefix="keras_files_"))


def convnet():
    """The convnet of make_files.py, built with lamina."""
    inputs = lamina.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    y = layers.Conv2D(4, 3, padding="same")(x)
    x = layers.Flatten()(layers.Add()([x, y]))
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(x))
    return lamina.Model(inputs, outputs)


def test_a_keras_archive_loads_with_its_weights_and_compile_settings():
    model = lamina.models.load_model(FILES / "convnet.keras")
    assert [type(layer).__name__ for layer in model.layers][1:4] == [
        "Conv2D",
        "BatchNormalization",
        "MaxPooling2D",
    ]
    np.testing.assert_allclose(
        model.predict(EXPECTED["conv_x"], verbose=0), EXPECTED["conv_pred"], atol=1e-6
    )
    assert isinstance(model.optimizer, lamina.optimizers.Adam)
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    results = model.evaluate(EXPECTED["conv_x"], EXPECTED["conv_y"], verbose=0)
    np.testing.assert_allclose(results, EXPECTED["conv_eval"], atol=1e-5)
    model.fit(EXPECTED["conv_x"], EXPECTED["conv_y"], epochs=1, verbose=0)  # trains on


def test_a_keras_sequence_model_with_nested_and_wrapped_layers_loads():
    # Bidirectional GRU, TimeDistributed, MultiHeadAttention, a nested Sequential and an LSTM:
    # sub-layers are groups of their own in Keras' weights file.
    model = lamina.models.load_model(FILES / "sequence.keras", compile=False)
    np.testing.assert_allclose(
        model.predict(EXPECTED["seq_x"], verbose=0), EXPECTED["seq_pred"], atol=1e-6
    )
    assert model.get_layer("block").get_layer("inner").kernel.shape == (8, 8)


def test_keras_weights_files_load_by_position_into_a_lamina_model():
    model = convnet()
    model.load_weights(FILES / "convnet.weights.h5")
    np.testing.assert_allclose(
        model.predict(EXPECTED["conv_x"], verbose=0), EXPECTED["conv_pred"], atol=1e-6
    )


def test_weights_go_to_layers_by_their_place_not_their_names():
    # Keras names the file's groups by class and model.layers order (dense, dense_1, ...);
    # the user's names (zz_second before aa_first) play no part.
    inputs = lamina.Input((4,))
    second = layers.Dense(3, name="zz_second")(inputs)
    first = layers.Dense(2, name="aa_first")(inputs)
    hidden = layers.Dense(5, activation="tanh")(layers.Concatenate()([first, second]))
    model = lamina.Model(inputs, layers.Dense(1, name="head")(hidden))
    model.load_weights(FILES / "branches.weights.h5")
    np.testing.assert_allclose(
        model.predict(EXPECTED["branch_x"], verbose=0), EXPECTED["branch_pred"], atol=1e-6
    )


def test_a_keras_weights_file_for_another_architecture_is_refused_clearly():
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.Dense(7)(inputs))
    with pytest.raises(ValueError, match=r"Dense.*shapes \[\(4, 7\), \(7,\)\].*layers/dense"):
        model.load_weights(FILES / "branches.weights.h5")
    model.load_weights(FILES / "branches.weights.h5", skip_mismatch=True)


def test_a_keras_archive_with_a_lambda_is_refused_in_safe_mode():
    with pytest.raises(ValueError, match="Lambda"):
        lamina.models.load_model(FILES / "lambda.keras")


def test_lamina_functional_configs_use_keras_tensor_encoding():
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, layers.Dense(2, name="d")(inputs))
    call = model.get_config()["layers"][1]["inbound_nodes"][0]["args"][0]
    assert call == {
        "class_name": "__keras_tensor__",
        "config": {
            "shape": (None, 3),  # a tuple, as Keras 3.15.1's get_config (JSON: a list)
            "dtype": "float32",
            "keras_history": [model.layers[0].name, 0, 0],
        },
    }
    rebuilt = lamina.Model.from_config(model.get_config())
    assert rebuilt.output_shape == (None, 2)


def _h5_arrays(source):
    import io

    import h5py

    found = {}
    with h5py.File(io.BytesIO(source), "r") as file:
        file.visititems(
            lambda name, item: (
                found.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset) and not name.startswith("optimizer")
                else None
            )
        )
    return found


@pytest.mark.parametrize("name", ["convnet", "sequence"])
def test_lamina_writes_keras_weights_files_as_keras_does(name, tmp_path):
    # The same arrays at the same paths as the file Keras 3.15.1 wrote for the model.
    import zipfile

    keras_bytes = zipfile.ZipFile(FILES / f"{name}.keras").read("model.weights.h5")
    model = lamina.models.load_model(FILES / f"{name}.keras", compile=False)
    model.save_weights(tmp_path / "model.weights.h5")
    ours, theirs = _h5_arrays((tmp_path / "model.weights.h5").read_bytes()), _h5_arrays(keras_bytes)
    assert sorted(ours) == sorted(theirs)
    for path, array in theirs.items():
        np.testing.assert_array_equal(ours[path], array, err_msg=path)
    again = lamina.models.load_model(FILES / f"{name}.keras", compile=False)
    again.load_weights(tmp_path / "model.weights.h5")
    x = EXPECTED["conv_x" if name == "convnet" else "seq_x"]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_configs_name_keras_modules_so_keras_reads_them():
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, layers.Dense(2)(inputs))
    entries = model.get_config()["layers"]
    assert {entry["module"] for entry in entries} == {"keras.layers"}
    sequential = lamina.Sequential([lamina.Input((3,)), layers.GradientReversal()])
    assert sequential.get_config()["layers"][-1]["module"] == "lamina.layers"  # lamina's own


def test_a_model_keras_layout_cannot_describe_falls_back_to_safetensors(tmp_path):
    model = lamina.Sequential([lamina.Input((4,)), layers.SpectralNormalization(layers.Dense(2))])
    with pytest.warns(UserWarning, match="safetensors data"):
        model.save_weights(tmp_path / "m.weights.h5")
    other = lamina.Sequential([lamina.Input((4,)), layers.SpectralNormalization(layers.Dense(2))])
    other.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
