"""MobileNet v1: Keras' architecture and parameter counts, the ImageNet file's known answers
(`$LAMINA_WEIGHTS/mobilenet_v1_0.25_224_keras/`), the Keras .h5 reader and fine-tuning."""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.applications._keras_h5 import load_keras_h5_weights, read_keras_h5_weights
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.mobilenet import PRETRAINED, MobileNet, preprocess_input

FILE = PRETRAINED[(0.25, 224)]
STAGES = ("conv1_relu", "conv_pw_1_relu", "conv_pw_6_relu", "conv_pw_13_relu")


def shared_file(*parts: str) -> Path:
    """A file of the shared pretrained folder, found through LAMINA_WEIGHTS (never skipped)."""
    listed = os.environ.get("LAMINA_WEIGHTS", "")
    if not listed:
        pytest.fail(
            "LAMINA_WEIGHTS is not set: run the tests with LAMINA_WEIGHTS=/work/shared/pretrained "
            "(the folder holding mobilenet_v1_0.25_224_keras/ and known_answer/)"
        )
    for folder in listed.split(os.pathsep):
        candidate = Path(folder, *parts)
        if candidate.is_file():
            return candidate
    pytest.fail(f"{'/'.join(parts)} is in none of the LAMINA_WEIGHTS folders {listed!r}")


@pytest.fixture(scope="module")
def known():
    images = np.load(shared_file("known_answer", "inputs_224.npz"))["images"]
    expected = dict(np.load(shared_file("mobilenet_v1_0.25_224_keras", "expected_224.npz")))
    model = MobileNet(alpha=0.25, weights="imagenet")
    names = ["reshape_2", "predictions", "conv_pw_13_relu", *STAGES]
    probe = lamina.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = probe.predict(preprocess_input(images), verbose=0)
    return model, expected, dict(zip(names, (np.asarray(o) for o in outputs), strict=True))


def test_known_answer_logits_probs_and_top5(known):
    _, expected, got = known
    logits = got["reshape_2"]
    print("max abs logit difference:", np.abs(logits - expected["logits"]).max())
    assert np.allclose(logits, expected["logits"], rtol=1e-4, atol=1e-3)
    assert np.allclose(got["predictions"], expected["probs"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(np.argsort(-logits, axis=1)[:, :5], expected["top5"])


def test_known_answer_pooled_features_and_stage_means(known):
    _, expected, got = known
    pooled = got["conv_pw_13_relu"].mean(axis=(1, 2))
    assert np.allclose(pooled, expected["pooled"], rtol=1e-4, atol=1e-4)
    for name in STAGES:
        mean = got[name].mean(axis=(1, 2))
        assert np.allclose(mean, expected[f"stage_mean/{name}"], rtol=1e-4, atol=1e-4), name


def test_decode_predictions_gives_the_readme_labels(known):
    _, _, got = known
    decoded = decode_predictions(got["predictions"], top=5)
    assert [name for _, name, _ in decoded[0]] == [
        "tabby",
        "Egyptian cat",
        "tiger cat",
        "lynx",
        "cheetah",
    ]
    assert decoded[1][0][:2] == ("n07920052", "espresso")
    assert [rows[0][1] for rows in decoded] == ["tabby", "espresso", "barbell", "mosque"]
    assert decoded[0][0][2] == pytest.approx(0.420, abs=1e-3)


def test_decode_predictions_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"\(samples, 1000\).*\(2, 10\)"):
        decode_predictions(np.zeros((2, 10)))


def test_preprocess_input_scales_to_minus_one_one():
    out = preprocess_input(np.array([[0, 127.5, 255]], dtype=np.float32))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]])


# Keras 3.15.1: keras.applications.MobileNet(weights=None, alpha=a[, include_top=False,
# pooling="avg"]).count_params()
@pytest.mark.parametrize(
    ("alpha", "include_top", "count"),
    [
        (1.0, True, 4_253_864),
        (0.25, True, 475_544),
        (1.0, False, 3_228_864),
        (0.25, False, 218_544),
    ],
)
def test_parameter_count_equals_keras(alpha, include_top, count):
    model = MobileNet(alpha=alpha, weights=None, include_top=include_top, pooling="avg")
    assert model.count_params() == count


@pytest.mark.parametrize(("alpha", "channels"), [(1.0, 1024), (0.25, 256)])
def test_headless_model_with_pooling_gives_feature_vectors(alpha, channels):
    model = MobileNet(alpha=alpha, weights=None, include_top=False, pooling="avg")
    assert model.output_shape == (None, channels)
    out = model.predict(np.zeros((2, 64, 64, 3), np.float32), verbose=0)
    assert np.asarray(out).shape == (2, channels)


def test_keras_layer_names():
    model = MobileNet(alpha=0.25, weights=None)
    names = [layer.name for layer in model.layers]
    for name in ("conv1", "conv1_bn", "conv_dw_1", "conv_pad_2", "conv_pw_13_relu", "conv_preds"):
        assert name in names
    assert names[-1] == "predictions"
    assert model.name == "mobilenet_0.25_224"


def test_imagenet_weights_for_another_alpha_say_which_files_exist():
    with pytest.raises(ValueError, match=r"alpha=0\.25 at 224x224"):
        MobileNet(alpha=1.0, weights="imagenet")


def test_weights_path_loads_a_keras_h5():
    path = shared_file(*FILE.name.split("/"))
    model = MobileNet(alpha=0.25, weights=path)
    stored = read_keras_h5_weights(path)
    np.testing.assert_array_equal(
        model.get_layer("conv_dw_3").get_weights()[0], *stored["conv_dw_3"]
    )


def test_a_file_of_another_architecture_names_the_layer_and_shapes():
    path = shared_file(*FILE.name.split("/"))
    with pytest.raises(ValueError, match=r"'conv1'.*\(3, 3, 3, 16\).*\(3, 3, 3, 8\)"):
        MobileNet(alpha=0.5, weights=path)


def test_a_file_that_is_not_hdf5_is_refused(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not a weights file")
    model = MobileNet(alpha=0.25, weights=None)
    with pytest.raises(ValueError, match="not an HDF5 file"):
        load_keras_h5_weights(model, path)


def test_missing_h5py_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install h5py.*lamina\[h5\]"):
        read_keras_h5_weights(tmp_path / "any.h5")


def test_a_file_with_the_wrong_sha256_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / FILE.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(shared_file(*FILE.name.split("/")), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path))
    with pytest.raises(ValueError, match="wrong SHA-256"):
        MobileNet(alpha=0.25, weights="imagenet")


def test_a_missing_file_lists_the_folders_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="Looked in") as error:
        MobileNet(alpha=0.25, weights="imagenet")
    assert str(tmp_path / "weights") in str(error.value)
    assert str(tmp_path / "home") in str(error.value)


def test_fine_tuning_a_head_leaves_the_frozen_base_unchanged():
    lamina.config.set_random_seed(0)
    base = MobileNet(
        alpha=0.25, weights="imagenet", include_top=False, input_shape=(64, 64, 3), pooling="avg"
    )
    base.trainable = False
    before = [w.copy() for w in base.get_weights()]
    inputs = lamina.Input((64, 64, 3))
    head = lamina.layers.Dense(3, activation="softmax", name="head")
    model = lamina.Model(inputs, head(base(inputs)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    head_before = [w.copy() for w in head.get_weights()]
    rng = np.random.default_rng(0)
    images = preprocess_input(rng.integers(0, 256, (8, 64, 64, 3)).astype(np.float32))
    history = model.fit(images, rng.integers(0, 3, 8), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for old, new in zip(before, base.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    after = head.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(head_before, after, strict=True))
