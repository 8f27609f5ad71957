"""KerasFileEditor on files Keras 3.15.1 writes (keras_files/make_editor_files.py: a trained
Sequential Dense -> BatchNormalization -> Dense as a .keras archive, whose model.weights.h5
has the layout of Keras' .weights.h5 file (the tree recorded from it); the recorded convnet
and sequence archives of make_files.py), and edited files loading in lamina."""

import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving._file_editor import KerasFileEditor

FILES = Path(__file__).parent / "keras_files"
sys.path.insert(0, str(FILES))
from materialize import materialize, write_archive  # noqa: E402

EXPECTED = json.loads((FILES / "editor_expected.json").read_text())
_FOLDER = Path(tempfile.mkdtemp(prefix="editor_"))
# Keras' archive, rebuilt from its text record (no binary file in the repository)
ARCHIVE = write_archive(
    json.loads((FILES / "editor_small.json").read_text()), _FOLDER / "editor_small.keras"
)
WEIGHTS = _FOLDER / "editor_small.weights.h5"
with zipfile.ZipFile(ARCHIVE) as _archive:
    WEIGHTS.write_bytes(_archive.read("model.weights.h5"))


def _lamina_small():
    return lamina.Sequential(
        [
            lamina.Input((3,)),
            layers.Dense(4, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(2),
        ]
    )


def _shapes(tree, where=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_shapes(value, f"{where}/{key}"))
        else:
            out[f"{where}/{key}"] = list(value.shape)
    return out


@pytest.mark.parametrize("path", [WEIGHTS, ARCHIVE])
def test_reads_the_tree_keras_reads(path, capsys):
    editor = KerasFileEditor(path)
    assert _shapes(editor.weights_dict) == EXPECTED["tree"]
    printed = capsys.readouterr().out
    assert f"Keras model file '{path}'" in printed
    if path == ARCHIVE:
        assert "Saved with Keras 3.15.1" in printed
        assert editor.config["class_name"] == "Sequential"
        assert "optimizer" in editor.weights_dict  # the archive also holds Adam's state
    else:
        assert editor.object_metadata == EXPECTED["object_metadata"]


def test_summary_prints_the_tree_with_layer_names(capsys):
    editor = KerasFileEditor(WEIGHTS)
    capsys.readouterr()
    editor.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        "Weights structure",
        "  ├─ layers",
        "  │   ├─ batch_normalization ('bn')",
        "  │   │   ├─ 0: shape=(4,), dtype=float32",
    ]
    assert "  │   └─ dense_1 ('d2')" in lines
    assert lines[-1] == "      └─ 9: shape=(4,), dtype=float32"  # h5py lists names sorted
    editor.weights_summary()
    assert capsys.readouterr().out.splitlines() == lines


def test_unchanged_file_resaved_loads_in_lamina_with_keras_predictions(tmp_path):
    editor = KerasFileEditor(ARCHIVE)
    editor.resave_weights(tmp_path / "same.weights.h5")
    model = _lamina_small()
    model.load_weights(tmp_path / "same.weights.h5")
    prediction = model.predict(np.float32(EXPECTED["x"]), verbose=0)
    np.testing.assert_allclose(prediction, EXPECTED["prediction"], rtol=1e-5, atol=1e-6)


def test_edited_file_loads_in_lamina_for_the_edited_architecture(tmp_path):
    editor = KerasFileEditor(WEIGHTS)
    layer_tree = editor.weights_dict["layers"]
    dense, dense_1 = dict(layer_tree["dense"]), dict(layer_tree["dense_1"])
    editor.delete_object("batch_normalization")
    head = np.arange(6, dtype="float32").reshape(2, 3) / 10
    editor.add_object("layers/dense_2", {"0": head, "1": np.zeros(3, "float32")})
    editor.delete_weight("dense_2", "1")
    editor.add_weights("dense_2", {"1": np.full(3, 0.5, "float32")})
    editor.rename_object("layers/dense_1", "dense_9")
    assert list(editor.weights_dict["layers"]) == ["dense", "dense_9", "dense_2"]
    editor.rename_object("dense_9", "dense_1")  # back, in its place
    path = tmp_path / "edited.weights.h5"
    editor.save(path)

    # Keras' slots: dense (3 -> 4, relu), dense_1 (4 -> 2), dense_2 (2 -> 3).
    model = lamina.Sequential(
        [lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2), layers.Dense(3)]
    )
    model.load_weights(path)
    x = np.float32(EXPECTED["x"])
    hidden = np.maximum(x @ dense["0"] + dense["1"], 0) @ dense_1["0"] + dense_1["1"]
    expected = hidden @ head + 0.5
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="has weights of shapes"):
        _lamina_small().load_weights(path)  # the batch normalization is gone


def test_compare_counts_matches_and_mismatches(capsys):
    editor = KerasFileEditor(WEIGHTS)
    capsys.readouterr()
    assert editor.compare(_lamina_small()) == {
        "status": "success",
        "error_count": 0,
        "match_count": 8,
    }
    assert "optimizer state is not compared" in capsys.readouterr().out
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(5), layers.Dense(2)])
    capsys.readouterr()
    result = editor.compare(other)
    printed = capsys.readouterr().out
    # dense/0, dense/1, dense_1/0 differ in shape; batch_normalization is not in the model.
    assert result == {"status": "error", "error_count": 4, "match_count": 1}
    assert "...Weight shape mismatch for /layers/dense/0" in printed
    assert "In reference model: shape=(3, 5)" in printed
    assert (
        "...Object /layers/batch_normalization present in saved file, missing from "
        "reference model" in printed
    )


def test_sequence_archive_keeps_recurrent_and_nested_objects(tmp_path):
    # Keras 3.15's editor drops groups whose own vars are empty (lstm, bidirectional, nested
    # models); lamina keeps them, so resaving loses nothing.
    folder, expected = materialize(tempfile.mkdtemp(prefix="editor_"))
    editor = KerasFileEditor(folder / "sequence.keras")
    tree = editor.weights_dict["layers"]
    assert tree["lstm"]["cell"]["0"].shape == (8, 12)
    assert set(tree["bidirectional"]) == {"forward_layer", "backward_layer"}
    assert "dense" in tree["sequential"]["layers"]
    with pytest.raises(ValueError, match="occurs 3 times"):
        editor.delete_object("cell")  # in lstm and in both directions of bidirectional
    editor.save(tmp_path / "sequence.weights.h5")
    model = lamina.saving.load_model(folder / "sequence.keras")
    model.load_weights(tmp_path / "sequence.weights.h5")
    np.testing.assert_allclose(
        model.predict(expected["seq_x"], verbose=0), expected["seq_pred"], rtol=1e-4, atol=1e-5
    )


def test_errors_name_the_object_and_the_file(tmp_path):
    editor = KerasFileEditor(WEIGHTS)
    with pytest.raises(ValueError, match="'nope' does not appear in the file"):
        editor.delete_object("nope")
    with pytest.raises(ValueError, match="path 'layers/nope' not found"):
        editor.delete_object("layers/nope")
    with pytest.raises(ValueError, match="new_name must be a name, not a path"):
        editor.rename_object("dense", "layers/x")
    with pytest.raises(ValueError, match=r"no weight '7' in 'dense'; it has \['0', '1'\]"):
        editor.delete_weight("dense", "7")
    with pytest.raises(ValueError, match="weights must be a dict"):
        editor.add_weights("dense", [np.zeros(2)])
    with pytest.raises(ValueError, match="'layers/dense' already exists"):
        editor.add_object("layers/dense", {"0": np.zeros(2)})
    with pytest.raises(ValueError, match="expected a '.weights.h5' path"):
        editor.save(tmp_path / "x.h5")
    with pytest.raises(ValueError, match="expected a '.keras' or '.weights.h5' file"):
        KerasFileEditor(tmp_path / "x.h5")
    lamina_archive = tmp_path / "m.keras"
    _lamina_small().save(lamina_archive)
    with pytest.raises(ValueError, match="not a Keras 3 archive"):
        KerasFileEditor(lamina_archive)


def test_files_lamina_writes_open_and_compare(tmp_path, capsys):
    model = lamina.Sequential(
        [lamina.Input((3,)), layers.Dense(4), layers.Dropout(0.1), layers.Dense(2)]
    )
    model.save_weights(tmp_path / "lamina.weights.h5")
    editor = KerasFileEditor(tmp_path / "lamina.weights.h5")
    assert list(editor.weights_dict["layers"]) == ["dense", "dense_1"]  # dropout: no arrays
    assert editor.compare(model)["match_count"] == 4
