"""ResNet-20 (CIFAR-10): the pretrained file's known answers, shapes, transfer learning."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina.applications.resnet_cifar import (
    CIFAR10_CLASSES,
    ResNet20,
    ShortcutOptionA,
    decode_predictions,
    preprocess_input,
)


def shared(variable: str) -> Path:
    folder = os.environ.get(variable)
    assert folder, f"these tests need {variable} (see the README's test command)"
    return Path(folder.split(os.pathsep)[0])


@pytest.fixture(scope="module")
def known():
    root = shared("LAMINA_WEIGHTS")
    images = np.load(root / "known_answer" / "inputs_32.npz")["images"]
    expected = dict(np.load(root / "resnet20_cifar10_pytorch" / "expected_32.npz"))
    return preprocess_input(images), expected


@pytest.fixture(scope="module")
def pretrained():
    return ResNet20(weights="cifar10", classifier_activation=None)


def predict(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x), training=False).numpy()


def test_logits_match_the_pytorch_known_answers(pretrained, known):
    x, expected = known
    logits = predict(pretrained, x)
    np.testing.assert_allclose(logits, expected["logits"], rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(logits.argmax(axis=1), expected["top3"][:, 0])


def test_softmax_head_matches_the_known_probabilities(known):
    x, expected = known
    probs = predict(ResNet20(weights="cifar10"), x)
    np.testing.assert_allclose(probs, expected["probs"], atol=1e-4)


@pytest.mark.parametrize(
    ("layer", "key"),
    [
        ("bn1", "stage_mean/bn1"),
        ("layer1_2_out", "stage_mean/layer1"),
        ("layer2_2_out", "stage_mean/layer2"),
        ("layer3_2_out", "stage_mean/layer3"),
    ],
)
def test_intermediate_outputs_match(pretrained, known, layer, key):
    x, expected = known
    probe = lamina.Model(pretrained.inputs, pretrained.get_layer(layer).output)
    np.testing.assert_allclose(predict(probe, x).mean(axis=(1, 2)), expected[key], atol=1e-4)


def test_pooled_features_match(known):
    x, expected = known
    features = ResNet20(weights="cifar10", include_top=False, pooling="avg")
    np.testing.assert_allclose(predict(features, x), expected["pooled"], atol=1e-4)


def test_the_weights_file_is_read_through_lamina_weights(pretrained):
    assert (
        shared("LAMINA_WEIGHTS") / "resnet20_cifar10_pytorch" / "resnet20-12fca82f.th"
    ).is_file()
    learnable = sum(p.numel() for p in pretrained.parameters() if p.requires_grad)
    assert learnable == 269_722  # the README's count for the file


@pytest.mark.parametrize(
    ("pooling", "shape"), [(None, (None, 8, 8, 64)), ("avg", (None, 64)), ("max", (None, 64))]
)
def test_include_top_false_shapes(pooling, shape):
    model = ResNet20(weights=None, include_top=False, pooling=pooling)
    assert model.output_shape == shape


def test_wrong_class_count_with_pretrained_weights_is_refused():
    with pytest.raises(ValueError, match="classes=5"):
        ResNet20(weights="cifar10", classes=5)


def test_shortcut_option_a_subsamples_and_pads_channels():
    x = torch.arange(2 * 4 * 4 * 2, dtype=torch.float32).reshape(2, 4, 4, 2)
    y = ShortcutOptionA(2, 1)(x)
    assert tuple(y.shape) == (2, 2, 2, 4)
    torch.testing.assert_close(y[..., 1:3], x[:, ::2, ::2, :])
    assert y[..., 0].abs().sum() == 0 and y[..., 3].abs().sum() == 0
    assert ShortcutOptionA.from_config(ShortcutOptionA(2, 8).get_config()).pad_channels == 8


def test_decode_predictions_names_cifar_classes():
    assert decode_predictions(np.eye(10)[[7]], top=2)[0][0] == (7, "horse", 1.0)
    assert len(CIFAR10_CLASSES) == 10


def test_frozen_features_and_a_new_head_train_on_real_cifar10(pretrained):
    data = np.load(shared("LAMINA_DATASETS") / "cifar10_exact_subset.npz")
    images, labels = data["x_test"][:32], data["y_test"][:32].astype(np.int64)
    x = preprocess_input(images)
    accuracy = (predict(pretrained, x).argmax(axis=1) == labels).mean()
    assert accuracy >= 0.8  # the file's test accuracy is 91.78 %

    base = ResNet20(weights="cifar10", include_top=False, pooling="avg")
    base.trainable = False
    before = {k: v.clone() for k, v in base.state_dict().items()}
    inputs = lamina.Input((32, 32, 3))
    outputs = lamina.layers.Dense(10, activation="softmax", name="head")(base(inputs))
    model = lamina.Model(inputs, outputs)
    head_before = model.get_layer("head").get_weights()[0].copy()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=1, batch_size=8, verbose=0)

    assert np.isfinite(history.history["loss"][0])
    for key, value in base.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0, msg=key)
    assert not np.allclose(model.get_layer("head").get_weights()[0], head_before)
