"""Two historical CNNs, for teaching and for small experiments: LeNet-5 (LeCun et al. 1998)
and AlexNet (Krizhevsky, Sutskever & Hinton 2012). `model.summary()` shows each layer's
receptive field and stride, which is how their designs are usually discussed.

>>> LeNet5().count_params()
61706
"""

from __future__ import annotations

from .. import layers
from ..layers._symbolic import KerasTensor
from ..models import Model
from ._classic_helpers import WeightsArgument, _finish, _image_input, _weights_path

__all__ = ["AlexNet", "LeNet5"]


def LeNet5(
    input_shape: tuple[int, int, int] = (32, 32, 1),
    classes: int = 10,
    activation: str = "tanh",
    classifier_activation: str | None = "softmax",
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    name: str | None = None,
) -> Model:
    """LeNet-5 ("Gradient-Based Learning Applied to Document Recognition", 1998):
    C1-S2-C3-S4-C5-F6-output, 61,706 parameters with the defaults.

    Layout and parameters (layer names in brackets):

    - C1 [c1]: 6 convolutions 5x5, 32x32 -> 28x28; 6 * (5*5*1 + 1) = 156.
    - S2 [s2]: 2x2 average pooling, stride 2 -> 14x14.
    - C3 [c3]: 16 convolutions 5x5 -> 10x10; 16 * (5*5*6 + 1) = 2,416.
    - S4 [s4]: 2x2 average pooling -> 5x5.
    - C5 [c5]: 120 convolutions 5x5 -> 1x1; 120 * (5*5*16 + 1) = 48,120.
    - F6 [f6]: Dense(84); 84 * (120 + 1) = 10,164 (after [flatten]).
    - output [predictions]: Dense(classes); 10 * (84 + 1) = 850.

    Choices where the paper's details are not modern layers (documented, not reproduced):
    the subsampling layers S2/S4 are plain average pooling (the paper's have a trainable
    coefficient and bias per map and a sigmoid); C3 connects to all 6 S2 maps (the paper's
    connection table links each C3 map to 3 or 4 of them, 1,516 parameters); the activation
    is `activation` (default tanh; the paper's is 1.7159 tanh(2a/3)); the output is a softmax
    Dense layer (the paper's are Euclidean RBF units). Inputs must be at least 32x32: pad
    28x28 MNIST digits by 2 pixels on each side, as the paper did.

    Args:
        input_shape: (height, width, channels), at least 32x32.
        classes: number of output units.
        activation: activation of C1, C3, C5 and F6.
        classifier_activation: activation of the output layer (None for logits).
        weights: None or the path of a file written by `model.save_weights`.
        input_tensor: a `lamina.Input` tensor to use as the input.
        name: the model's name (default "lenet5").

    >>> LeNet5().output_shape
    (None, 10)
    """
    weights_path = _weights_path(weights, "LeNet5")
    inputs = _image_input(
        "LeNet5", input_tensor, input_shape, tuple(input_shape), tuple(input_shape),
        include_top=True, min_size=32,
    )  # fmt: skip
    x = layers.Conv2D(6, 5, activation=activation, name="c1")(inputs)
    x = layers.AveragePooling2D(2, strides=2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = layers.AveragePooling2D(2, strides=2, name="s4")(x)
    x = layers.Conv2D(120, 5, activation=activation, name="c5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation=activation, name="f6")(x)
    x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return _finish(inputs, x, name or "lenet5", weights_path)


def AlexNet(
    input_shape: tuple[int, int, int] = (227, 227, 3),
    classes: int = 1000,
    dropout: float = 0.5,
    classifier_activation: str | None = "softmax",
    weights: WeightsArgument = None,
    input_tensor: KerasTensor | None = None,
    name: str | None = None,
) -> Model:
    """AlexNet ("ImageNet Classification with Deep Convolutional Neural Networks", 2012),
    single-tower: 62,378,344 parameters with the defaults.

    Layout and parameters (layer names in brackets; ReLU after every convolution and fc):

    - [conv1]: 96 convolutions 11x11, stride 4, 227 -> 55; 96 * (11*11*3 + 1) = 34,944.
    - [pool1]: 3x3 max pooling, stride 2 (overlapping) -> 27.
    - [conv2]: 256 convolutions 5x5, 'same'; 256 * (5*5*96 + 1) = 614,656.
    - [pool2]: 3x3 max pooling, stride 2 -> 13.
    - [conv3]: 384 convolutions 3x3, 'same'; 384 * (3*3*256 + 1) = 885,120.
    - [conv4]: 384 convolutions 3x3, 'same'; 384 * (3*3*384 + 1) = 1,327,488.
    - [conv5]: 256 convolutions 3x3, 'same'; 256 * (3*3*384 + 1) = 884,992.
    - [pool5]: 3x3 max pooling, stride 2 -> 6x6x256 = 9,216 values ([flatten]).
    - [fc6], [fc7]: Dense(4096), each followed by Dropout(`dropout`) [dropout6],
      [dropout7]; 4096 * (9216 + 1) = 37,752,832 and 4096 * (4096 + 1) = 16,781,312.
    - [predictions]: Dense(classes); 1000 * (4096 + 1) = 4,097,000.

    Choices: one tower instead of the paper's two GPUs' halves (conv2, conv4 and conv5 see
    all the previous layer's maps here, as in most re-implementations); no local response
    normalisation (later work found it does not help; use BatchNormalization if wanted);
    the input is 227x227, the size that makes the paper's arithmetic work (its text says 224).

    Args:
        input_shape: (height, width, channels), at least 67x67.
        classes: number of output units.
        dropout: dropout rate after fc6 and fc7.
        classifier_activation: activation of the output layer (None for logits).
        weights: None or the path of a file written by `model.save_weights`.
        input_tensor: a `lamina.Input` tensor to use as the input.
        name: the model's name (default "alexnet").

    >>> AlexNet(input_shape=(67, 67, 3), classes=10).output_shape
    (None, 10)
    """
    weights_path = _weights_path(weights, "AlexNet")
    inputs = _image_input(
        "AlexNet", input_tensor, input_shape, tuple(input_shape), tuple(input_shape),
        include_top=True, min_size=67,  # conv1, pool1, pool2 and pool5 leave 1x1 from 67x67
    )  # fmt: skip
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc6")(x)
    x = layers.Dropout(dropout, name="dropout6")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)
    x = layers.Dropout(dropout, name="dropout7")(x)
    x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return _finish(inputs, x, name or "alexnet", weights_path)
