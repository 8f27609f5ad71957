"""Model zoo: classic CNN architectures with Keras' `keras.applications` arguments, and
pretrained weights (`weights="imagenet"`, found as `_weights` describes: `LAMINA_WEIGHTS`
folders, the cache, or a checked download). Each architecture's module has its own
`preprocess_input`, as in Keras (`lamina.applications.mobilenet.preprocess_input`).

Without pretrained files here (Keras' layer names, order and parameter counts; `weights=` a
file path loads one): VGG16/19, ResNet50/101/152, ResNet50V2/101V2/152V2,
DenseNet121/169/201, Xception, InceptionV3, InceptionResNetV2, NASNetMobile/Large,
MobileNetV3Small/Large, EfficientNetB0-B7, EfficientNetV2B0-B3/S/M/L, ConvNeXt Tiny to XLarge,
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
    convnext,
    densenet,
    efficientnet,
    efficientnet_lite,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_cifar,
    resnet_v2,
    squeezenet,
    vgg,
    vgg16,
    vgg19,
    xception,
)
from .classic import AlexNet, LeNet5
from .convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge
from .densenet import DenseNet121, DenseNet169, DenseNet201
from .efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from .efficientnet_lite import EfficientNetLite0
from .efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from .imagenet_utils import decode_predictions
from .inception_resnet_v2 import InceptionResNetV2
from .inception_v3 import InceptionV3
from .mobilenet import MobileNet
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from .nasnet import NASNetLarge, NASNetMobile
from .resnet import ResNet50, ResNet101, ResNet152
from .resnet_cifar import CIFAR10_CLASSES, ResNet20
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from .squeezenet import SqueezeNet
from .vgg import VGG16, VGG19
from .xception import Xception

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "convnext",
    "efficientnet",
    "efficientnet_v2",
    "mobilenet_v3",
    "InceptionResNetV2",
    "NASNetLarge",
    "NASNetMobile",
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "inception_resnet_v2",
    "nasnet",
    "resnet_v2",
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
