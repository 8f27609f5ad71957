"""SqueezeNet v1.1: the Keras 1 weights-only ImageNet file's known answers
(`$LAMINA_WEIGHTS/squeezenet1_1_keras/`), Caffe preprocessing, headless use and fine-tuning."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.squeezenet import PRETRAINED, SqueezeNet, preprocess_input

STAGES = ("relu_conv1", "fire2/concat", "fire5/concat", "fire9/concat")


def shared_file(*parts: str) -> Path:
    """A file of the shared pretrained folder, found through LAMINA_WEIGHTS (never skipped)."""
    listed = os.environ.get("LAMINA_WEIGHTS", "")
    if not listed:
        pytest.fail(
            "LAMINA_WEIGHTS is not set: run the tests with LAMINA_WEIGHTS=/work/shared/pretrained "
            "(the folder holding squeezenet1_1_keras/ and known_answer/)"
        )
    for folder in listed.split(os.pathsep):
        candidate = Path(folder, *parts)
        if candidate.is_file():
            return candidate
    pytest.fail(f"{'/'.join(parts)} is in none of the LAMINA_WEIGHTS folders {listed!r}")


@pytest.fixture(scope="module")
def known():
    images = np.load(shared_file("known_answer", "inputs_224.npz"))["images"]
    expected = dict(np.load(shared_file("squeezenet1_1_keras", "expected_224.npz")))
    model = SqueezeNet(weights="imagenet")
    names = ["avg_pool", "predictions", *STAGES]
    probe = lamina.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = probe.predict(preprocess_input(images), verbose=0)
    return expected, dict(zip(names, (np.asarray(o) for o in outputs), strict=True))


def test_known_answer_logits_probs_and_top5(known):
    expected, got = known
    logits = got["avg_pool"]
    print("max abs logit difference:", np.abs(logits - expected["logits"]).max())
    assert np.allclose(logits, expected["logits"], rtol=1e-4, atol=1e-3)
    assert np.allclose(got["predictions"], expected["probs"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(np.argsort(-logits, axis=1)[:, :5], expected["top5"])


def test_known_answer_stage_means(known):
    expected, got = known
    for name in STAGES:
        mean = got[name].mean(axis=(1, 2))
        assert np.allclose(mean, expected[f"stage_mean/{name}"], rtol=1e-4, atol=1e-3), name


def test_decode_predictions_gives_the_readme_labels(known):
    _, got = known
    decoded = decode_predictions(got["predictions"], top=3)
    assert [name for _, name, _ in decoded[0]] == ["Egyptian cat", "tiger cat", "tabby"]
    assert [rows[0][1] for rows in decoded] == [
        "Egyptian cat",
        "espresso",
        "barbell",
        "drilling platform",
    ]


def test_preprocess_input_is_caffe_bgr_minus_mean():
    out = preprocess_input(np.array([[[10.0, 20.0, 30.0]]]))
    np.testing.assert_allclose(out, [[[30 - 103.939, 20 - 116.779, 10 - 123.68]]], rtol=1e-6)


def test_parameter_count_equals_the_weights_file():
    # The README's count of the keras-squeezenet file: every conv kernel and bias.
    assert SqueezeNet(weights=None).count_params() == 1_235_496


@pytest.mark.parametrize(("pooling", "shape"), [("avg", (None, 512)), (None, (None, 13, 13, 512))])
def test_headless_model_output_shapes(pooling, shape):
    size = None if pooling else 224
    model = SqueezeNet(
        weights=None, include_top=False, pooling=pooling, input_shape=(size, size, 3)
    )
    assert model.output_shape == shape


def test_a_file_with_the_wrong_sha256_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / PRETRAINED.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(shared_file(*PRETRAINED.name.split("/")), copy)
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0x01
    copy.write_bytes(bytes(data))
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path))
    with pytest.raises(ValueError, match="wrong SHA-256"):
        SqueezeNet(weights="imagenet")


def test_a_missing_file_lists_the_folders_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="Looked in") as error:
        SqueezeNet(weights="imagenet")
    assert str(tmp_path / "weights") in str(error.value)


def test_imagenet_weights_with_other_classes_are_refused():
    with pytest.raises(ValueError, match="classes=1000"):
        SqueezeNet(weights="imagenet", classes=10)


def test_fine_tuning_a_head_leaves_the_frozen_base_unchanged():
    lamina.config.set_random_seed(0)
    base = SqueezeNet(weights="imagenet", include_top=False, input_shape=(64, 64, 3), pooling="avg")
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
