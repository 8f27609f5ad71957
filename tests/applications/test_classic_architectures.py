"""VGG16/VGG19/ResNet50 against Keras 3.15.1's keras.applications (parameter counts and
layer names pasted from `KERAS_BACKEND=torch python -c "keras.applications.VGG16(weights=None,
...)"`), LeNet-5 and AlexNet against hand counts, and weights files round trips."""

import re

import numpy as np
import pytest

import lamina
from lamina.applications.classic import AlexNet, LeNet5
from lamina.applications.resnet import ResNet50, ResNet101, ResNet152
from lamina.applications.vgg import VGG16, VGG19

# Keras' `[layer.name for layer in model.layers][1:]` (the first is the auto-named input).
VGG16_NAMES = [
    "block1_conv1",
    "block1_conv2",
    "block1_pool",
    "block2_conv1",
    "block2_conv2",
    "block2_pool",
    "block3_conv1",
    "block3_conv2",
    "block3_conv3",
    "block3_pool",
    "block4_conv1",
    "block4_conv2",
    "block4_conv3",
    "block4_pool",
    "block5_conv1",
    "block5_conv2",
    "block5_conv3",
    "block5_pool",
    "flatten",
    "fc1",
    "fc2",
    "predictions",
]
VGG19_NAMES = [
    "block1_conv1",
    "block1_conv2",
    "block1_pool",
    "block2_conv1",
    "block2_conv2",
    "block2_pool",
    "block3_conv1",
    "block3_conv2",
    "block3_conv3",
    "block3_conv4",
    "block3_pool",
    "block4_conv1",
    "block4_conv2",
    "block4_conv3",
    "block4_conv4",
    "block4_pool",
    "block5_conv1",
    "block5_conv2",
    "block5_conv3",
    "block5_conv4",
    "block5_pool",
    "flatten",
    "fc1",
    "fc2",
    "predictions",
]
# ResNet50(include_top=False): the top adds avg_pool and predictions.
RESNET50_NAMES = [
    "conv1_pad",
    "conv1_conv",
    "conv1_bn",
    "conv1_relu",
    "pool1_pad",
    "pool1_pool",
    "conv2_block1_1_conv",
    "conv2_block1_1_bn",
    "conv2_block1_1_relu",
    "conv2_block1_2_conv",
    "conv2_block1_2_bn",
    "conv2_block1_2_relu",
    "conv2_block1_0_conv",
    "conv2_block1_3_conv",
    "conv2_block1_0_bn",
    "conv2_block1_3_bn",
    "conv2_block1_add",
    "conv2_block1_out",
    "conv2_block2_1_conv",
    "conv2_block2_1_bn",
    "conv2_block2_1_relu",
    "conv2_block2_2_conv",
    "conv2_block2_2_bn",
    "conv2_block2_2_relu",
    "conv2_block2_3_conv",
    "conv2_block2_3_bn",
    "conv2_block2_add",
    "conv2_block2_out",
    "conv2_block3_1_conv",
    "conv2_block3_1_bn",
    "conv2_block3_1_relu",
    "conv2_block3_2_conv",
    "conv2_block3_2_bn",
    "conv2_block3_2_relu",
    "conv2_block3_3_conv",
    "conv2_block3_3_bn",
    "conv2_block3_add",
    "conv2_block3_out",
    "conv3_block1_1_conv",
    "conv3_block1_1_bn",
    "conv3_block1_1_relu",
    "conv3_block1_2_conv",
    "conv3_block1_2_bn",
    "conv3_block1_2_relu",
    "conv3_block1_0_conv",
    "conv3_block1_3_conv",
    "conv3_block1_0_bn",
    "conv3_block1_3_bn",
    "conv3_block1_add",
    "conv3_block1_out",
    "conv3_block2_1_conv",
    "conv3_block2_1_bn",
    "conv3_block2_1_relu",
    "conv3_block2_2_conv",
    "conv3_block2_2_bn",
    "conv3_block2_2_relu",
    "conv3_block2_3_conv",
    "conv3_block2_3_bn",
    "conv3_block2_add",
    "conv3_block2_out",
    "conv3_block3_1_conv",
    "conv3_block3_1_bn",
    "conv3_block3_1_relu",
    "conv3_block3_2_conv",
    "conv3_block3_2_bn",
    "conv3_block3_2_relu",
    "conv3_block3_3_conv",
    "conv3_block3_3_bn",
    "conv3_block3_add",
    "conv3_block3_out",
    "conv3_block4_1_conv",
    "conv3_block4_1_bn",
    "conv3_block4_1_relu",
    "conv3_block4_2_conv",
    "conv3_block4_2_bn",
    "conv3_block4_2_relu",
    "conv3_block4_3_conv",
    "conv3_block4_3_bn",
    "conv3_block4_add",
    "conv3_block4_out",
    "conv4_block1_1_conv",
    "conv4_block1_1_bn",
    "conv4_block1_1_relu",
    "conv4_block1_2_conv",
    "conv4_block1_2_bn",
    "conv4_block1_2_relu",
    "conv4_block1_0_conv",
    "conv4_block1_3_conv",
    "conv4_block1_0_bn",
    "conv4_block1_3_bn",
    "conv4_block1_add",
    "conv4_block1_out",
    "conv4_block2_1_conv",
    "conv4_block2_1_bn",
    "conv4_block2_1_relu",
    "conv4_block2_2_conv",
    "conv4_block2_2_bn",
    "conv4_block2_2_relu",
    "conv4_block2_3_conv",
    "conv4_block2_3_bn",
    "conv4_block2_add",
    "conv4_block2_out",
    "conv4_block3_1_conv",
    "conv4_block3_1_bn",
    "conv4_block3_1_relu",
    "conv4_block3_2_conv",
    "conv4_block3_2_bn",
    "conv4_block3_2_relu",
    "conv4_block3_3_conv",
    "conv4_block3_3_bn",
    "conv4_block3_add",
    "conv4_block3_out",
    "conv4_block4_1_conv",
    "conv4_block4_1_bn",
    "conv4_block4_1_relu",
    "conv4_block4_2_conv",
    "conv4_block4_2_bn",
    "conv4_block4_2_relu",
    "conv4_block4_3_conv",
    "conv4_block4_3_bn",
    "conv4_block4_add",
    "conv4_block4_out",
    "conv4_block5_1_conv",
    "conv4_block5_1_bn",
    "conv4_block5_1_relu",
    "conv4_block5_2_conv",
    "conv4_block5_2_bn",
    "conv4_block5_2_relu",
    "conv4_block5_3_conv",
    "conv4_block5_3_bn",
    "conv4_block5_add",
    "conv4_block5_out",
    "conv4_block6_1_conv",
    "conv4_block6_1_bn",
    "conv4_block6_1_relu",
    "conv4_block6_2_conv",
    "conv4_block6_2_bn",
    "conv4_block6_2_relu",
    "conv4_block6_3_conv",
    "conv4_block6_3_bn",
    "conv4_block6_add",
    "conv4_block6_out",
    "conv5_block1_1_conv",
    "conv5_block1_1_bn",
    "conv5_block1_1_relu",
    "conv5_block1_2_conv",
    "conv5_block1_2_bn",
    "conv5_block1_2_relu",
    "conv5_block1_0_conv",
    "conv5_block1_3_conv",
    "conv5_block1_0_bn",
    "conv5_block1_3_bn",
    "conv5_block1_add",
    "conv5_block1_out",
    "conv5_block2_1_conv",
    "conv5_block2_1_bn",
    "conv5_block2_1_relu",
    "conv5_block2_2_conv",
    "conv5_block2_2_bn",
    "conv5_block2_2_relu",
    "conv5_block2_3_conv",
    "conv5_block2_3_bn",
    "conv5_block2_add",
    "conv5_block2_out",
    "conv5_block3_1_conv",
    "conv5_block3_1_bn",
    "conv5_block3_1_relu",
    "conv5_block3_2_conv",
    "conv5_block3_2_bn",
    "conv5_block3_2_relu",
    "conv5_block3_3_conv",
    "conv5_block3_3_bn",
    "conv5_block3_add",
    "conv5_block3_out",
]

# (include_top, pooling) -> Keras' count_params() with weights=None.
KERAS_PARAMS = {
    "VGG16": {True: 138_357_544, False: 14_714_688},
    "VGG19": {True: 143_667_240, False: 20_024_384},
    "ResNet50": {True: 25_636_712, False: 23_587_712},
}
# ResNet50's BatchNormalization moving means and variances are not trainable (Keras:
# len(trainable) counts 25,583,592 and 23,534,592).
KERAS_TRAINABLE_RESNET50 = {True: 25_583_592, False: 23_534_592}


def layer_names(model: lamina.Model) -> list[str]:
    names = [layer.name for layer in model.layers]
    assert names[0].startswith("input_layer")
    return names[1:]


def trainable_count(model: lamina.Model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.fixture(scope="module")
def resnet50() -> lamina.Model:
    return ResNet50(weights=None)


def test_vgg16_with_top_matches_keras_names_params_and_shape():
    model = VGG16(weights=None)
    assert model.name == "vgg16"
    assert layer_names(model) == VGG16_NAMES
    assert model.count_params() == KERAS_PARAMS["VGG16"][True]
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)


def test_vgg19_with_top_matches_keras_names_and_params():
    model = VGG19(weights=None)
    assert model.name == "vgg19"
    assert layer_names(model) == VGG19_NAMES
    assert model.count_params() == KERAS_PARAMS["VGG19"][True]


@pytest.mark.parametrize("factory", [VGG16, VGG19], ids=["VGG16", "VGG19"])
@pytest.mark.parametrize(
    ("pooling", "pool_name", "output_shape"),
    [
        (None, None, (None, None, None, 512)),
        ("avg", "global_average_pooling2d", (None, 512)),
        ("max", "global_max_pooling2d", (None, 512)),
    ],
)
def test_vgg_without_top_matches_keras(factory, pooling, pool_name, output_shape):
    model = factory(include_top=False, weights=None, pooling=pooling)
    names = VGG16_NAMES if factory is VGG16 else VGG19_NAMES
    features = names[: names.index("block5_pool") + 1]
    assert model.count_params() == KERAS_PARAMS[factory.__name__][False]
    assert model.output_shape == output_shape
    if pooling is None:
        assert layer_names(model) == features
    else:
        assert layer_names(model)[:-1] == features
        # Keras auto-names this layer (a numbered suffix after the first).
        assert re.fullmatch(pool_name + r"(_\d+)?", model.layers[-1].name)


def test_resnet50_with_top_matches_keras_and_classifies_one_image(resnet50):
    assert resnet50.name == "resnet50"
    assert layer_names(resnet50) == [*RESNET50_NAMES, "avg_pool", "predictions"]
    assert resnet50.count_params() == KERAS_PARAMS["ResNet50"][True]
    assert trainable_count(resnet50) == KERAS_TRAINABLE_RESNET50[True]
    assert resnet50.get_layer("conv2_block1_1_bn").epsilon == pytest.approx(1.001e-5)
    image = np.random.default_rng(0).uniform(0, 1, (1, 224, 224, 3)).astype("float32")
    probabilities = resnet50.predict(image, verbose=0)
    assert probabilities.shape == (1, 1000)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("pooling", "last_name", "output_shape"),
    [
        (None, "conv5_block3_out", (None, None, None, 2048)),
        ("avg", "avg_pool", (None, 2048)),
        ("max", "max_pool", (None, 2048)),
    ],
)
def test_resnet50_without_top_matches_keras(pooling, last_name, output_shape):
    model = ResNet50(include_top=False, weights=None, pooling=pooling)
    expected = RESNET50_NAMES if pooling is None else [*RESNET50_NAMES, last_name]
    assert layer_names(model) == expected
    assert model.count_params() == KERAS_PARAMS["ResNet50"][False]
    assert trainable_count(model) == KERAS_TRAINABLE_RESNET50[False]
    assert model.output_shape == output_shape


@pytest.mark.parametrize(
    ("factory", "keras_params", "keras_layers"),
    # Keras: count_params() and len(model.layers) with include_top=False, pooling="avg".
    [(ResNet101, 42_658_176, 346), (ResNet152, 58_370_944, 516)],
)
def test_deeper_resnets_match_keras_counts(factory, keras_params, keras_layers):
    model = factory(include_top=False, weights=None, pooling="avg", input_shape=(32, 32, 3))
    assert model.count_params() == keras_params
    assert len(model.layers) == keras_layers
    assert model.output_shape == (None, 2048)


def test_resnet50_small_input_and_classes_shapes():
    model = ResNet50(weights=None, input_shape=(64, 64, 3), classes=7)
    assert model.output_shape == (None, 7)
    output = model.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0)
    assert output.shape == (2, 7)


def test_input_tensor_is_used_as_the_model_input():
    inputs = lamina.Input((48, 48, 3))
    model = VGG16(include_top=False, input_tensor=inputs, pooling="avg")
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 512)


def test_lenet5_shapes_and_hand_counted_parameters():
    model = LeNet5()
    # c1 6*(5*5*1+1)=156, c3 16*(5*5*6+1)=2,416, c5 120*(5*5*16+1)=48,120,
    # f6 84*(120+1)=10,164, predictions 10*(84+1)=850: 61,706 in all.
    assert model.count_params() == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    shapes = {layer.name: layer.output.shape for layer in model.layers}
    assert shapes["c1"] == (None, 28, 28, 6)
    assert shapes["s2"] == (None, 14, 14, 6)
    assert shapes["c3"] == (None, 10, 10, 16)
    assert shapes["s4"] == (None, 5, 5, 16)
    assert shapes["c5"] == (None, 1, 1, 120)
    assert model.output_shape == (None, 10)
    assert model.predict(np.zeros((3, 32, 32, 1), "float32"), verbose=0).shape == (3, 10)


def test_lenet5_rejects_unpadded_mnist_size():
    with pytest.raises(ValueError, match="at least 32"):
        LeNet5(input_shape=(28, 28, 1))


def test_alexnet_shapes_and_hand_counted_parameters():
    model = AlexNet()
    # conv1 96*(11*11*3+1)=34,944; conv2 256*(5*5*96+1)=614,656; conv3 384*(3*3*256+1)
    # =885,120; conv4 384*(3*3*384+1)=1,327,488; conv5 256*(3*3*384+1)=884,992;
    # fc6 4096*(6*6*256+1)=37,752,832; fc7 4096*(4096+1)=16,781,312;
    # predictions 1000*(4096+1)=4,097,000: 62,378,344 in all.
    hand = 34_944 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312
    assert model.count_params() == hand + 4_097_000 == 62_378_344
    shapes = {layer.name: layer.output.shape for layer in model.layers}
    assert shapes["conv1"] == (None, 55, 55, 96)
    assert shapes["pool1"] == (None, 27, 27, 96)
    assert shapes["pool2"] == (None, 13, 13, 256)
    assert shapes["conv5"] == (None, 13, 13, 256)
    assert shapes["pool5"] == (None, 6, 6, 256)
    assert model.output_shape == (None, 1000)


def test_alexnet_small_input_runs():
    model = AlexNet(input_shape=(67, 67, 3), classes=5)
    assert model.predict(np.zeros((2, 67, 67, 3), "float32"), verbose=0).shape == (2, 5)


def test_summary_shows_receptive_fields(capsys):
    LeNet5().summary()
    # c1: 5x5 kernel; s2: 6/2; c3: 14/2; s4: 16/4; c5: 32/4.
    output = capsys.readouterr().out
    assert "Receptive" in output
    assert "32 / 4" in output


@pytest.mark.parametrize("suffix", [".safetensors", ".weights.h5"])
def test_weights_round_trip_through_save_weights(tmp_path, suffix):
    source = LeNet5()
    path = tmp_path / f"lenet5{suffix}"
    source.save_weights(str(path))
    restored = LeNet5(weights=path)
    images = np.random.default_rng(1).normal(size=(4, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(
        restored.predict(images, verbose=0), source.predict(images, verbose=0), rtol=1e-6
    )


def test_vgg_weights_path_round_trip(tmp_path):
    source = VGG16(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    path = tmp_path / "vgg16_notop.safetensors"
    source.save_weights(str(path))
    restored = VGG16(include_top=False, input_shape=(32, 32, 3), pooling="avg", weights=path)
    images = np.random.default_rng(2).uniform(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        restored.predict(images, verbose=0), source.predict(images, verbose=0), rtol=1e-5
    )


@pytest.mark.parametrize("factory", [VGG16, VGG19, ResNet50, ResNet101, ResNet152, LeNet5, AlexNet])
def test_imagenet_weights_raise_a_clear_error(factory):
    with pytest.raises(ValueError, match="no pretrained 'imagenet' weights file"):
        factory(weights="imagenet")


def test_missing_weights_file_and_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        VGG16(weights=tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        ResNet50(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="include_top=True needs a fixed input size"):
        VGG16(input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="at least 32"):
        ResNet50(include_top=False, input_shape=(16, 16, 3))
