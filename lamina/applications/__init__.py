"""Model zoo: classic CNN architectures with Keras' `keras.applications` arguments, and
pretrained weights (`weights="imagenet"`, found as `_weights` describes: `LAMINA_WEIGHTS`
folders, the cache, or a checked download). Each architecture's module has its own
`preprocess_input`, as in Keras (`lamina.applications.mobilenet.preprocess_input`).

Without pretrained files here (Keras' layer names, order and parameter counts; `weights=` a
file path loads one): VGG16/19, ResNet50/101/152, DenseNet121/169/201, Xception, InceptionV3,
LeNet-5 and AlexNet. Feature extraction and nearest neighbours: `lamina.transfer`.

Pretrained files lamina knows: MobileNet (alpha 0.25, 224) and SqueezeNet 1.1 (Keras .h5),
EfficientNet-Lite0 (PyTorch), MobileNetV2's feature extractor (`weights="features"`) and the
CIFAR-10 ResNet-20 (`weights="cifar10"`).

>>> from lamina.applications import MobileNet
>>> MobileNet(alpha=0.25, weights=None, input_shape=(32, 32, 3), classes=10).count_params()
221114
"""

from . import (
    classic,
    densenet,
    efficientnet_lite,
    imagenet_utils,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    resnet,
    resnet50,
    resnet_cifar,
    squeezenet,
    vgg,
    vgg16,
    vgg19,
    xception,
)
from .classic import AlexNet, LeNet5
from .densenet import DenseNet121, DenseNet169, DenseNet201
from .efficientnet_lite import EfficientNetLite0
from .imagenet_utils import decode_predictions
from .inception_v3 import InceptionV3
from .mobilenet import MobileNet
from .mobilenet_v2 import MobileNetV2
from .resnet import ResNet50, ResNet101, ResNet152
from .resnet_cifar import CIFAR10_CLASSES, ResNet20
from .squeezenet import SqueezeNet
from .vgg import VGG16, VGG19
from .xception import Xception

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "InceptionV3",
    "Xception",
    "densenet",
    "inception_v3",
    "xception",
    "VGG16",
    "VGG19",
    "AlexNet",
    "LeNet5",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "CIFAR10_CLASSES",
    "EfficientNetLite0",
    "MobileNet",
    "MobileNetV2",
    "ResNet20",
    "SqueezeNet",
    "decode_predictions",
    "efficientnet_lite",
    "imagenet_utils",
    "mobilenet",
    "mobilenet_v2",
    "resnet_cifar",
    "classic",
    "resnet",
    "resnet50",
    "squeezenet",
    "vgg",
    "vgg16",
    "vgg19",
]
