"""Output dtypes of the image layers for integer and float images, against Keras 3.15.1.

The table is Keras 3.15.1's (torch backend) output of /work/scratch/N/dtypes.py: each layer
called on a (2, 8, 8, 3) batch of uint8, int32, float16, bfloat16, float32 and float64 pixels,
in training and in inference. Float inputs are autocast to float32 by both (Keras' RandomCrop
skips the autocast and returns its input unchanged in inference, where lamina centre-crops and
resizes, see docs/keras-compatibility.md: its float rows are left out).
"""

import pytest
import torch

from lamina import layers as L

DTYPES = ("uint8", "int32", "float16", "bfloat16", "float32", "float64")
F32 = ("float32",) * 4
ERR = "ValueError"
INT = ("uint8", "int32")
FLOATS = ("float32",) * 6
# name: (layer maker, training dtypes, inference dtypes), both in DTYPES' order (Keras 3.15.1).
KERAS = {
    "Brightness": (lambda: L.RandomBrightness((0.1, 0.1)), INT + F32, INT + F32),
    "Contrast": (lambda: L.RandomContrast((0.2, 0.2)), FLOATS, INT + F32),
    "Saturation": (lambda: L.RandomSaturation((0.3, 0.3)), (ERR, ERR) + F32, INT + F32),
    "Hue": (lambda: L.RandomHue((0.2, 0.2)), FLOATS, INT + F32),
    "ColorDeg": (lambda: L.RandomColorDegeneration((0.3, 0.3)), FLOATS, INT + F32),
    "Jitter": (
        lambda: L.RandomColorJitter(brightness_factor=(0.1, 0.1), contrast_factor=(0.2, 0.2)),
        FLOATS,
        INT + F32,
    ),
    "Sharpness": (lambda: L.RandomSharpness((0.3, 0.3)), FLOATS, FLOATS),
    "Poster": (lambda: L.RandomPosterization((3, 3)), FLOATS, INT + F32),
    "Shear": (lambda: L.RandomShear((0.2, 0.2)), FLOATS, FLOATS),
    "Rotation": (lambda: L.RandomRotation((0.1, 0.1)), FLOATS, FLOATS),
    "Zoom": (lambda: L.RandomZoom((0.2, 0.2)), FLOATS, FLOATS),
    "Translation": (lambda: L.RandomTranslation((0.1, 0.1), (0.1, 0.1)), FLOATS, FLOATS),
    "Flip": (lambda: L.RandomFlip(), FLOATS, FLOATS),
    "Crop": (lambda: L.RandomCrop(6, 6), FLOATS, INT),
    "CropSame": (lambda: L.RandomCrop(8, 8), FLOATS, INT),
    "Resizing": (lambda: L.Resizing(4, 4), INT + F32, INT + F32),
    "ResizingSame": (lambda: L.Resizing(8, 8), INT + F32, INT + F32),
    "CenterCrop": (lambda: L.CenterCrop(6, 6), FLOATS, FLOATS),
    "Grayscale": (lambda: L.RandomGrayscale(1.0), INT + F32, INT + F32),
    "Invert": (lambda: L.RandomInvert((1.0, 1.0)), FLOATS, INT + F32),
    "Erasing": (lambda: L.RandomErasing((1.0, 1.0), fill_value=0.0), FLOATS, FLOATS),
    "Blur": (lambda: L.RandomGaussianBlur((1.0, 1.0)), FLOATS, FLOATS),
    "Persp": (lambda: L.RandomPerspective((1.0, 1.0)), FLOATS, FLOATS),
    "Elastic": (lambda: L.RandomElasticTransform((1.0, 1.0)), FLOATS, FLOATS),
    "Solar": (lambda: L.Solarization(0.0, (0.5, 0.5)), FLOATS, FLOATS),
    "AutoContrast": (lambda: L.AutoContrast(), FLOATS, FLOATS),
    "Equalization": (lambda: L.Equalization(), FLOATS, INT + F32),
    "CLAHE": (
        lambda: L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2)),
        INT + F32,
        INT + F32,
    ),
    "MixUp": (lambda: L.MixUp(), FLOATS, INT + F32),
    "CutMix": (lambda: L.CutMix(), FLOATS, FLOATS),
    "AugMix": (lambda: L.AugMix(), FLOATS, FLOATS),
    "RandAugment": (lambda: L.RandAugment(), FLOATS, FLOATS),
}


def _output_dtype(layer, x, training):
    try:
        y = layer(x, training=training)
    except ValueError:
        return ERR
    return str(y.dtype).removeprefix("torch.")


@pytest.mark.parametrize("name", list(KERAS))
def test_output_dtypes_match_keras(name):
    make, training, inference = KERAS[name]
    pixels = torch.randint(0, 256, (2, 8, 8, 3), generator=torch.Generator().manual_seed(0))
    for dtype, expected in zip(DTYPES, training, strict=True):
        assert _output_dtype(make(), pixels.to(getattr(torch, dtype)), True) == expected, dtype
    for dtype, expected in zip(DTYPES, inference, strict=False):  # Crop: ints only
        assert _output_dtype(make(), pixels.to(getattr(torch, dtype)), False) == expected, dtype
