"""EfficientNet-Lite0: the converted official checkpoint's known answers, TF 'SAME' padding,
shapes."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina.applications.efficientnet_lite import EfficientNetLite0, preprocess_input


def shared_weights() -> Path:
    folder = os.environ.get("LAMINA_WEIGHTS")
    assert folder, "these tests need LAMINA_WEIGHTS (see the README's test command)"
    return Path(folder.split(os.pathsep)[0])


@pytest.fixture(scope="module")
def known():
    root = shared_weights()
    images = np.load(root / "known_answer" / "inputs_224.npz")["images"]
    expected = dict(np.load(root / "efficientnet_lite0_pytorch" / "expected_224.npz"))
    return preprocess_input(images), expected


@pytest.fixture(scope="module")
def pretrained():
    return EfficientNetLite0(weights="imagenet", classifier_activation=None)


def predict(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x), training=False).numpy()


def test_logits_and_top5_match_the_known_answers(pretrained, known):
    x, expected = known
    logits = predict(pretrained, x)
    np.testing.assert_allclose(logits, expected["logits"], rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(np.argsort(-logits, axis=1)[:, :5], expected["top5"])


def test_softmax_head_matches_the_known_probabilities(known):
    x, expected = known
    probs = predict(EfficientNetLite0(weights="imagenet"), x)
    np.testing.assert_allclose(probs, expected["probs"], atol=1e-4)


@pytest.mark.parametrize(
    ("layer", "key"),
    [
        ("stem_bn", "stage_mean/_bn0"),
        ("block1a_project_bn", "stage_mean/_blocks.0"),
        ("block2a_project_bn", "stage_mean/_blocks.1"),
        ("block3b_add", "stage_mean/_blocks.4"),
        ("block6d_add", "stage_mean/_blocks.14"),
        ("block7a_project_bn", "stage_mean/_blocks.15"),
    ],
)
def test_intermediate_outputs_match(pretrained, known, layer, key):
    x, expected = known
    probe = lamina.Model(pretrained.inputs, pretrained.get_layer(layer).output)
    # Means of up to 112x112 float32 values: summation order alone moves them by ~3e-4.
    means = predict(probe, x).mean(axis=(1, 2))
    np.testing.assert_allclose(means, expected[key], rtol=1e-4, atol=1e-3)


def test_pooled_features_match(known):
    x, expected = known
    features = EfficientNetLite0(weights="imagenet", include_top=False, pooling="avg")
    np.testing.assert_allclose(predict(features, x), expected["pooled"], rtol=1e-4, atol=1e-4)


def test_learnable_parameters_equal_the_files(pretrained):
    assert sum(p.numel() for p in pretrained.parameters() if p.requires_grad) == 4_652_008


def test_stride_two_convolutions_pad_like_tensorflow_same(pretrained):
    # TF 'SAME' at 224: the extra pixel goes bottom/right, (0, 1) for 3x3/2 and (1, 2) for 5x5/2.
    assert pretrained.get_layer("stem_conv").padding == "same"
    assert pretrained.get_layer("block3a_dwconv").padding == "same"


@pytest.mark.parametrize(
    ("pooling", "shape"), [(None, (None, 7, 7, 1280)), ("avg", (None, 1280)), ("max", (None, 1280))]
)
def test_include_top_false_shapes(pooling, shape):
    model = EfficientNetLite0(weights=None, include_top=False, pooling=pooling)
    assert model.output_shape == shape


def test_wrong_class_count_with_pretrained_weights_is_refused():
    with pytest.raises(ValueError, match="classes=10"):
        EfficientNetLite0(weights="imagenet", classes=10)
