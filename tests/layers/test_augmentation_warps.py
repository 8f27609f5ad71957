"""RandomShear, RandomPerspective and RandomElasticTransform: Keras' arguments and configs,
their warps against Keras 3.15.1 for fixed draws, and the behaviour of their random draws."""

import inspect

import numpy as np
import pytest
import torch

from lamina.layers.augmentation_warps import (
    RandomElasticTransform,
    RandomPerspective,
    RandomShear,
)

E = torch.tensor((np.arange(2 * 6 * 7 * 2, dtype="float32") * 37 % 101 / 100).reshape(2, 6, 7, 2))
SHEAR = torch.tensor([[0.2, 0.15], [-0.2, -0.15]])
MOVES = torch.tensor(
    [
        [[0.1, -0.2], [0.3, 0.15], [-0.25, 0.05], [0.2, -0.3]],
        [[0.0, 0.1], [-0.3, 0.2], [0.15, -0.1], [-0.2, 0.25]],
    ]
)
FIRST_ONLY = torch.tensor([True, False])


def noise(images):
    """The noise Keras' torch backend draws after torch.manual_seed(0): x field, then y."""
    generator = torch.Generator().manual_seed(0)
    n, _, height, width = images.shape
    draws = [torch.normal(0.0, 1.0, (n, height, width), generator=generator) for _ in range(2)]
    return torch.stack(draws, 1)


def fixed(cls, draw, **kwargs):
    """`cls(**kwargs)` whose random draw is replaced by `draw(images)`."""
    subclass = type(f"Fixed{cls.__name__}", (cls,), {"draw": lambda self, x, g: draw(x)})
    return subclass(**kwargs)


def elastic(distortion, **kwargs):
    def draw(images):
        return torch.ones(2, dtype=torch.bool), torch.full((2,), distortion), noise(images)

    return fixed(RandomElasticTransform, draw, scale=distortion, **kwargs)


CASES = {
    "shear_constant": lambda: fixed(
        RandomShear, lambda x: SHEAR, fill_mode="constant", fill_value=0.5
    ),
    "shear_nearest": lambda: fixed(
        RandomShear, lambda x: SHEAR, fill_mode="nearest", interpolation="nearest"
    ),
    "shear_wrap": lambda: fixed(RandomShear, lambda x: SHEAR, fill_mode="wrap"),
    "shear_reflect_pixels": lambda: fixed(
        RandomShear, lambda x: SHEAR, fill_mode="reflect", interpolation="nearest"
    ),
    # Bilinear 'reflect' reads agree with Keras' within one pixel of the edge (lamina reflects
    # the coordinate, Keras each neighbour's index; they differ further out).
    "shear_reflect_within_a_pixel": lambda: fixed(RandomShear, lambda x: SHEAR),
    "perspective": lambda: fixed(RandomPerspective, lambda x: (FIRST_ONLY, MOVES), fill_value=0.25),
    "perspective_nearest": lambda: fixed(
        RandomPerspective, lambda x: (FIRST_ONLY, MOVES), interpolation="nearest"
    ),
    "elastic_layer": lambda: elastic(0.8, value_range=(0, 1)),
    "elastic_layer_constant_clipped": lambda: elastic(
        0.6, value_range=(0.1, 0.9), fill_mode="constant", fill_value=2.0
    ),
}

# fmt: off
# Keras 3.15.1 outputs (torch backend) from a scratch script: the layers' `transform_images` on
# E with the same shear factors, corner moves and apply mask, and the elastic layer with
# scale=(d, d), factor=(1, 1) after torch.manual_seed(0): dtype, shape, flattened values.
KERAS = {
    "shear_constant": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.7595, 0.1195, 0.509, 0.879, 0.2585, 0.6285, 0.412, 0.378, 0.7675, 0.1275,
        0.517, 0.887, 0.278, 0.446, 0.8355001, 0.3672, 0.585, 0.7126001, 0.3345, 0.7045,
        0.2859999, 0.4540001, 0.8435001, 0.254, 0.6176001, 0.1863999, 0.556, 0.522, 0.8206,
        0.2715001, 0.661, 0.4250001, 0.4105, 0.7805, 0.3216, 0.53, 0.4650001, 0.2795, 0.6662,
        0.2822, 0.228, 0.598, 0.5835001, 0.3475, 0.737, 0.5212, 0.4865, 0.6747, 0.236, 0.606,
        0.5914999, 0.3555, 0.6628001, 0.4068, 0.304, 0.674, 0.7402999, 0.4235, 0.7524, 0.173,
        0.5625, 0.7304999, 0.3119999, 0.6819999, 0.2635, 0.4314999, 0.4256001, 0.4794, 0.38, 0.75,
        0.1685, 0.483, 0.7449999, 0.2970001, 0.544, 0.7475001, 0.424, 0.572, 0.385, 0.4775, 0.5,
        0.5, 0.78, 0.14, 0.5085, 0.823, 0.318, 0.577, 0.764, 0.412, 0.584, 0.328, 0.485, 0.5775,
        0.467, 0.504, 0.8280001, 0.316, 0.6745, 0.1557, 0.385, 0.6136, 0.4591, 0.4655, 0.7352,
        0.176, 0.5265, 0.6945001, 0.2369999, 0.6069999, 0.218, 0.44, 0.5151, 0.2185, 0.569, 0.535,
        0.2795, 0.6495, 0.596, 0.36, 0.7104999, 0.5249999, 0.421, 0.7506, 0.364, 0.512, 0.4365,
        0.4025, 0.753, 0.517, 0.4635, 0.8335, 0.4164, 0.544, 0.743, 0.2545, 0.6049999, 0.3690001,
        0.458, 0.532, 0.2468, 0.5865, 0.3714, 0.3576, 0.6475, 0.5731, 0.358, 0.728, 0.2704999,
        0.4385, 0.789, 0.3307999, 0.5, 0.5, 0.4005, 0.7705001, 0.111, 0.4809999, 0.8315001,
        0.1915, 0.5420001, 0.912, 0.2525, 0.6225, 0.8720001, 0.333],
    ),
    "shear_nearest": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.74, 0.1, 0.47, 0.84, 0.2, 0.57, 0.06, 0.43, 0.8, 0.16, 0.53, 0.9, 0.13, 0.5,
        0.87, 0.23, 0.6, 0.97, 0.33, 0.7, 0.19, 0.56, 0.93, 0.29, 0.66, 0.02, 0.26, 0.63, 1, 0.36,
        0.73, 0.09, 0.46, 0.83, 0.32, 0.69, 0.05, 0.42, 0.79, 0.15, 0.12, 0.49, 0.86, 0.22, 0.59,
        0.96, 0.32, 0.69, 0.18, 0.55, 0.92, 0.28, 0.92, 0.28, 0.25, 0.62, 0.99, 0.35, 0.72, 0.08,
        0.45, 0.82, 0.31, 0.68, 0.04, 0.41, 0.04, 0.41, 0.38, 0.75, 0.11, 0.48, 0.85, 0.21, 0.58,
        0.95, 0.31, 0.68, 0.04, 0.41, 0.04, 0.41, 0.78, 0.14, 0.51, 0.88, 0.24, 0.61, 0.98, 0.34,
        0.71, 0.07, 0.44, 0.81, 0.17, 0.54, 0.91, 0.27, 0.64, 0, 0.37, 0.74, 0.1, 0.47, 0.71,
        0.07, 0.44, 0.81, 0.17, 0.54, 0.03, 0.4, 0.77, 0.13, 0.5, 0.87, 0.23, 0.6, 0.84, 0.2,
        0.57, 0.94, 0.3, 0.67, 0.16, 0.53, 0.16, 0.53, 0.9, 0.26, 0.63, 1, 0.23, 0.6, 0.97, 0.33,
        0.7, 0.06, 0.29, 0.66, 0.29, 0.66, 0.02, 0.39, 0.76, 0.12, 0.36, 0.73, 0.09, 0.46, 0.83,
        0.19, 0.42, 0.79, 0.42, 0.79, 0.15, 0.52, 0.89, 0.25, 0.49, 0.86, 0.22, 0.59, 0.96, 0.32],
    ),
    "shear_wrap": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.7595, 0.1195, 0.509, 0.879, 0.2585, 0.6285, 0.412, 0.378, 0.7675, 0.1275,
        0.517, 0.887, 0.278, 0.446, 0.8355001, 0.3672, 0.585, 0.7126001, 0.3345, 0.7045,
        0.2859999, 0.4540001, 0.8435001, 0.254, 0.5670002, 0.2097998, 0.556, 0.522, 0.8206,
        0.2715001, 0.661, 0.4250001, 0.4105, 0.7805, 0.3216, 0.53, 0.4650001, 0.2795, 0.617,
        0.3810001, 0.228, 0.598, 0.5835001, 0.3475, 0.737, 0.5212, 0.4865, 0.6747, 0.236, 0.606,
        0.5914999, 0.3555, 0.6670001, 0.633, 0.304, 0.674, 0.7402999, 0.4235, 0.7524, 0.173,
        0.5625, 0.7304999, 0.3119999, 0.6819999, 0.2635, 0.4314999, 0.5352001, 0.1577999, 0.38,
        0.75, 0.164, 0.534, 0.6549999, 0.3180001, 0.7419999, 0.6575001, 0.526, 0.2900001, 0.31,
        0.68, 0.06499994, 0.334, 0.78, 0.14, 0.456, 0.826, 0.435, 0.502, 0.818, 0.6325001, 0.494,
        0.46, 0.17, 0.54, 0.7550001, 0.216, 0.788, 0.35, 0.6745, 0.1557, 0.385, 0.6136, 0.4591,
        0.4655, 0.7352, 0.176, 0.5265, 0.6945001, 0.2369999, 0.6069999, 0.19, 0.56, 0.5151,
        0.2185, 0.569, 0.535, 0.2795, 0.6495, 0.596, 0.36, 0.7104999, 0.5249999, 0.421, 0.7506,
        0.4, 0.77, 0.4365, 0.4025, 0.753, 0.517, 0.4635, 0.8335, 0.4164, 0.544, 0.743, 0.2545,
        0.6049999, 0.3690001, 0.61, 0.172, 0.2468, 0.5865, 0.3714, 0.3576, 0.6475, 0.5731, 0.358,
        0.728, 0.2704999, 0.4385, 0.789, 0.3307999, 0.82, 0.18, 0.4005, 0.7705001, 0.111,
        0.4809999, 0.8315001, 0.1915, 0.5420001, 0.912, 0.2525, 0.6225, 0.8720001, 0.333],
    ),
    "shear_reflect_pixels": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.74, 0.1, 0.47, 0.84, 0.2, 0.57, 0.06, 0.43, 0.8, 0.16, 0.53, 0.9, 0.13, 0.5,
        0.87, 0.23, 0.6, 0.97, 0.33, 0.7, 0.19, 0.56, 0.93, 0.29, 0.66, 0.02, 0.26, 0.63, 1, 0.36,
        0.73, 0.09, 0.46, 0.83, 0.32, 0.69, 0.05, 0.42, 0.79, 0.15, 0.12, 0.49, 0.86, 0.22, 0.59,
        0.96, 0.32, 0.69, 0.18, 0.55, 0.92, 0.28, 0.92, 0.28, 0.25, 0.62, 0.99, 0.35, 0.72, 0.08,
        0.45, 0.82, 0.31, 0.68, 0.04, 0.41, 0.04, 0.41, 0.38, 0.75, 0.11, 0.48, 0.85, 0.21, 0.58,
        0.95, 0.31, 0.68, 0.04, 0.41, 0.04, 0.41, 0.78, 0.14, 0.51, 0.88, 0.24, 0.61, 0.98, 0.34,
        0.71, 0.07, 0.44, 0.81, 0.17, 0.54, 0.91, 0.27, 0.64, 0, 0.37, 0.74, 0.1, 0.47, 0.71,
        0.07, 0.44, 0.81, 0.17, 0.54, 0.03, 0.4, 0.77, 0.13, 0.5, 0.87, 0.23, 0.6, 0.84, 0.2,
        0.57, 0.94, 0.3, 0.67, 0.16, 0.53, 0.16, 0.53, 0.9, 0.26, 0.63, 1, 0.23, 0.6, 0.97, 0.33,
        0.7, 0.06, 0.29, 0.66, 0.29, 0.66, 0.02, 0.39, 0.76, 0.12, 0.36, 0.73, 0.09, 0.46, 0.83,
        0.19, 0.42, 0.79, 0.42, 0.79, 0.15, 0.52, 0.89, 0.25, 0.49, 0.86, 0.22, 0.59, 0.96, 0.32],
    ),
    "shear_reflect_within_a_pixel": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.7595, 0.1195, 0.509, 0.879, 0.2585, 0.6285, 0.412, 0.378, 0.7675, 0.1275,
        0.517, 0.887, 0.278, 0.446, 0.8355001, 0.3672, 0.585, 0.7126001, 0.3345, 0.7045,
        0.2859999, 0.4540001, 0.8435001, 0.254, 0.6470001, 0.1079999, 0.556, 0.522, 0.8206,
        0.2715001, 0.661, 0.4250001, 0.4105, 0.7805, 0.3216, 0.53, 0.4650001, 0.2795, 0.777,
        0.137, 0.228, 0.598, 0.5835001, 0.3475, 0.737, 0.5212, 0.4865, 0.6747, 0.236, 0.606,
        0.5914999, 0.3555, 0.9070001, 0.267, 0.304, 0.674, 0.7402999, 0.4235, 0.7524, 0.173,
        0.5625, 0.7304999, 0.3119999, 0.6819999, 0.2635, 0.4314999, 0.1279999, 0.397, 0.38, 0.75,
        0.11, 0.48, 0.85, 0.21, 0.58, 0.9499999, 0.31, 0.68, 0.04, 0.41, 0.04, 0.41, 0.78, 0.14,
        0.51, 0.88, 0.24, 0.61, 0.98, 0.34, 0.71, 0.07, 0.44, 0.81, 0.17, 0.54, 0.91, 0.27,
        0.6745, 0.1557, 0.385, 0.6136, 0.4591, 0.4655, 0.7352, 0.176, 0.5265, 0.6945001,
        0.2369999, 0.6069999, 0.03, 0.4, 0.5151, 0.2185, 0.569, 0.535, 0.2795, 0.6495, 0.596,
        0.36, 0.7104999, 0.5249999, 0.421, 0.7506, 0.16, 0.53, 0.4365, 0.4025, 0.753, 0.517,
        0.4635, 0.8335, 0.4164, 0.544, 0.743, 0.2545, 0.6049999, 0.3690001, 0.29, 0.6600001,
        0.2468, 0.5865, 0.3714, 0.3576, 0.6475, 0.5731, 0.358, 0.728, 0.2704999, 0.4385, 0.789,
        0.3307999, 0.42, 0.79, 0.4005, 0.7705001, 0.111, 0.4809999, 0.8315001, 0.1915, 0.5420001,
        0.912, 0.2525, 0.6225, 0.8720001, 0.333],
    ),
    "perspective": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.3813294, 0.2308663, 0.7175354, 0.1615698, 0.5477171, 0.6269975, 0.3586014,
        0.7286014, 0.3460794, 0.5167007, 0.9176332, 0.2776332, 0.111985, 0.481985, 0.5078737,
        0.3451338, 0.8339715, 0.305162, 0.6661294, 0.7876428, 0.4786858, 0.8157597, 0.2679937,
        0.6379938, 0.2425374, 0.3994418, 0.2291187, 0.5991187, 0.6405324, 0.4649222, 0.9563351,
        0.3231191, 0.7786523, 0.1509114, 0.6056177, 0.5212778, 0.396645, 0.766645, 0.340127,
        0.5291448, 0.3517647, 0.7217647, 0.3061917, 0.5906417, 0.2448488, 0.4450906, 0.7752593,
        0.2825911, 0.7399998, 0.4945316, 0.5333453, 0.6001329, 0.2975347, 0.6675347, 0.4803213,
        0.8503213, 0.3527441, 0.7227441, 0.3895452, 0.5807524, 0.6393352, 0.4217567, 0.6925886,
        0.2425083, 0.6788741, 0.6553836, 0.3564133, 0.6106772, 0.6152263, 0.2453911, 0.4917279,
        0.4432769, 0.2982785, 0.5639535, 0.1990086, 0.3442423, 0.2607577, 0.2504136, 0.25, 0.25,
        0.25, 0.25, 0.78, 0.14, 0.51, 0.88, 0.24, 0.61, 0.98, 0.34, 0.71, 0.07, 0.44, 0.81, 0.17,
        0.54, 0.91, 0.27, 0.64, 0, 0.37, 0.74, 0.1, 0.47, 0.84, 0.2, 0.57, 0.94, 0.3, 0.67, 0.03,
        0.4, 0.77, 0.13, 0.5, 0.87, 0.23, 0.6, 0.97, 0.33, 0.7, 0.06, 0.43, 0.8, 0.16, 0.53, 0.9,
        0.26, 0.63, 1, 0.36, 0.73, 0.09, 0.46, 0.83, 0.19, 0.56, 0.93, 0.29, 0.66, 0.02, 0.39,
        0.76, 0.12, 0.49, 0.86, 0.22, 0.59, 0.96, 0.32, 0.69, 0.05, 0.42, 0.79, 0.15, 0.52, 0.89,
        0.25, 0.62, 0.99, 0.35, 0.72, 0.08, 0.45, 0.82, 0.18],
    ),
    "perspective_nearest": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.74, 0.1, 0.74, 0.1, 0.47, 0.84, 0.47, 0.84, 0.2, 0.57, 0.94, 0.3, 0.13, 0.5,
        0.87, 0.23, 0.87, 0.23, 0.6, 0.97, 0.6, 0.97, 0.33, 0.7, 0.06, 0.43, 0.26, 0.63, 1, 0.36,
        1, 0.36, 0.73, 0.09, 0.46, 0.83, 0.46, 0.83, 0.19, 0.56, 0.39, 0.76, 0.12, 0.49, 0.12,
        0.49, 0.86, 0.22, 0.59, 0.96, 0.72, 0.08, 0.45, 0.82, 0.52, 0.89, 0.25, 0.62, 0.25, 0.62,
        0.99, 0.35, 0.85, 0.21, 0.58, 0.95, 0.31, 0.68, 0.65, 0.01, 0.38, 0.75, 0.38, 0.75, 0, 0,
        0, 0, 0, 0, 0, 0, 0.78, 0.14, 0.51, 0.88, 0.24, 0.61, 0.98, 0.34, 0.71, 0.07, 0.44, 0.81,
        0.17, 0.54, 0.91, 0.27, 0.64, 0, 0.37, 0.74, 0.1, 0.47, 0.84, 0.2, 0.57, 0.94, 0.3, 0.67,
        0.03, 0.4, 0.77, 0.13, 0.5, 0.87, 0.23, 0.6, 0.97, 0.33, 0.7, 0.06, 0.43, 0.8, 0.16, 0.53,
        0.9, 0.26, 0.63, 1, 0.36, 0.73, 0.09, 0.46, 0.83, 0.19, 0.56, 0.93, 0.29, 0.66, 0.02,
        0.39, 0.76, 0.12, 0.49, 0.86, 0.22, 0.59, 0.96, 0.32, 0.69, 0.05, 0.42, 0.79, 0.15, 0.52,
        0.89, 0.25, 0.62, 0.99, 0.35, 0.72, 0.08, 0.45, 0.82, 0.18],
    ),
    "elastic_layer": (
        "float32", (2, 6, 7, 2),
        [0, 0.37, 0.6253908, 0.1418169, 0.479093, 0.8150784, 0.220636, 0.590636, 0.9016731,
        0.2704818, 0.6643403, 0.1182764, 0.4163992, 0.7435025, 0.1375868, 0.5075868, 0.866289,
        0.2673492, 0.6307241, 0.829234, 0.3309508, 0.7009507, 0.1950491, 0.4026256, 0.7992577,
        0.1750741, 0.524174, 0.8941739, 0.3635777, 0.5819818, 0.9489098, 0.3730428, 0.7721494,
        0.1559023, 0.5276426, 0.6674301, 0.2302572, 0.5233376, 0.9002234, 0.2610368, 0.647743,
        0.1029706, 0.408113, 0.7781129, 0.2000251, 0.4918399, 0.7704155, 0.3819499, 0.5649419,
        0.9198186, 0.3615977, 0.7191557, 0.0724254, 0.4424254, 0.8142388, 0.1742388, 0.4936073,
        0.7118082, 0.4002051, 0.5739601, 0.9075248, 0.3239871, 0.7328584, 0.215173, 0.48293,
        0.7696397, 0.1910305, 0.5570109, 0.6578253, 0.3319602, 0.6224111, 0.1556231, 0.3640443,
        0.7340443, 0.1316262, 0.4743504, 0.826747, 0.2737306, 0.5317499, 0.9017499, 0.3119289,
        0.6819288, 0.1622398, 0.3919418, 0.78, 0.14, 0.512389, 0.8492606, 0.2949938, 0.5976166,
        0.8124658, 0.2756983, 0.7633033, 0.1233032, 0.4982345, 0.6528509, 0.199467, 0.5694671,
        0.8387592, 0.2450814, 0.5981902, 0.1248707, 0.3618686, 0.731486, 0.2029641, 0.4638677,
        0.7865079, 0.1896284, 0.5787091, 0.7439995, 0.3173495, 0.6861075, 0.1132983, 0.3876946,
        0.7484998, 0.2094962, 0.4475567, 0.8175567, 0.5519503, 0.4829727, 0.7658923, 0.3955865,
        0.7397511, 0.1222201, 0.439498, 0.809498, 0.1613769, 0.5313769, 0.7356647, 0.2981019,
        0.5879025, 0.9579026, 0.3329889, 0.7029889, 0.2290885, 0.4239961, 0.8167018, 0.2758174,
        0.5485215, 0.864219, 0.2625306, 0.6325306, 0.05838621, 0.3797691, 0.7615977, 0.1220461,
        0.4950875, 0.8005241, 0.3337971, 0.5586464, 0.9121926, 0.2859889, 0.7258309, 0.1108416,
        0.4163336, 0.7863337, 0.153335, 0.5187832, 0.8642324, 0.3206224, 0.6757125, 0.8373064,
        0.3386109, 0.7086109, 0.1761048, 0.4149347, 0.82, 0.18],
    ),
    "elastic_layer_constant_clipped": (
        "float32", (2, 6, 7, 2),
        [0.5317302, 0.8033602, 0.8453999, 0.3641868, 0.5014268, 0.8462393, 0.2116077, 0.5816077,
        0.9, 0.2833959, 0.6668164, 0.1, 0.4092245, 0.7550951, 0.432618, 0.7434511, 0.8679125,
        0.2516701, 0.6172823, 0.8908192, 0.3305348, 0.7005348, 0.1372472, 0.4146019, 0.7995825,
        0.1685902, 0.6645728, 0.9, 0.3182625, 0.6029898, 0.9, 0.3673366, 0.7595544, 0.12707,
        0.498049, 0.7385545, 0.2126444, 0.5393775, 0.9, 0.273508, 0.7140826, 0.1541973, 0.5882707,
        0.9, 0.1659392, 0.491035, 0.8096087, 0.3110969, 0.5759048, 0.9, 0.3433986, 0.7094619, 0.1,
        0.4326143, 0.8202288, 0.1891061, 0.5051541, 0.7811897, 0.3391885, 0.5941026, 0.9,
        0.3353678, 0.7272329, 0.1598844, 0.4685231, 0.7916723, 0.1862709, 0.5539436, 0.7682122,
        0.3092275, 0.6344812, 0.1, 0.5114601, 0.849562, 0.1222099, 0.4768221, 0.9, 0.3426293,
        0.5528592, 0.9, 0.3110851, 0.6810851, 0.2220621, 0.4957059, 0.8349204, 0.2237312,
        0.5113438, 0.8626511, 0.2718195, 0.6030343, 0.8743793, 0.3038304, 0.848841, 0.2641332,
        0.4727569, 0.7216037, 0.1865752, 0.5565753, 0.8684121, 0.2559833, 0.616482, 0.1,
        0.3653319, 0.7352109, 0.158775, 0.4665506, 0.8074356, 0.194166, 0.5748989, 0.8257814,
        0.3097591, 0.6793661, 0.1417307, 0.4472861, 0.7579061, 0.1747166, 0.4705007, 0.8405007,
        0.4169978, 0.5341722, 0.8512458, 0.3668924, 0.7278895, 0.1, 0.6505946, 0.9, 0.2374621,
        0.5920347, 0.8050096, 0.2814323, 0.6063202, 0.9, 0.3448063, 0.7148063, 0.1682375,
        0.4397477, 0.8225197, 0.2420047, 0.5535433, 0.8929985, 0.2745484, 0.6445485, 0.1,
        0.3842451, 0.7608986, 0.1211509, 0.4928617, 0.8245801, 0.287331, 0.5723636, 0.9,
        0.2974736, 0.7163098, 0.1, 0.5323389, 0.8755837, 0.2610977, 0.6068221, 0.9, 0.4176896,
        0.6936222, 0.9, 0.3435936, 0.7135936, 0.4212728, 0.6718948, 0.9, 0.4194392],
    ),
}
# fmt: on

# Keras 3.15.1's signature defaults and get_config() keys (beyond name, trainable, dtype).
KERAS_DEFAULTS = {
    RandomShear: {
        "x_factor": 0.0,
        "y_factor": 0.0,
        "interpolation": "bilinear",
        "fill_mode": "reflect",
        "fill_value": 0.0,
        "data_format": None,
        "seed": None,
    },
    RandomPerspective: {
        "factor": 1.0,
        "scale": 1.0,
        "interpolation": "bilinear",
        "fill_value": 0.0,
        "seed": None,
        "data_format": None,
    },
    RandomElasticTransform: {
        "factor": 1.0,
        "scale": 1.0,
        "interpolation": "bilinear",
        "fill_mode": "reflect",
        "fill_value": 0.0,
        "value_range": (0, 255),
        "seed": None,
        "data_format": None,
    },
}
LAYERS = list(KERAS_DEFAULTS)
RANDOM = {
    RandomShear: {"x_factor": 0.3, "y_factor": (0.1, 0.2), "fill_mode": "constant"},
    RandomPerspective: {"scale": 0.5},
    RandomElasticTransform: {"value_range": (0, 1)},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_warp_matches_keras(name):
    dtype, shape, values = KERAS[name]
    out = CASES[name]()(E, training=True)
    assert tuple(out.shape) == shape and str(out.dtype).removeprefix("torch.") == dtype
    np.testing.assert_allclose(out.double().numpy().ravel(), values, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_arguments_and_defaults_are_keras(cls):
    parameters = inspect.signature(cls.__init__).parameters
    names = [n for n in parameters if n not in ("self", "kwargs")]
    assert names == list(KERAS_DEFAULTS[cls])
    assert {n: parameters[n].default for n in names} == KERAS_DEFAULTS[cls]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_config_has_keras_keys_and_rebuilds_the_layer(cls):
    config = cls(**RANDOM[cls], seed=4).get_config()
    assert set(config) == {"name", "trainable", "dtype", *KERAS_DEFAULTS[cls]}
    rebuilt = cls.from_config(config)
    torch.testing.assert_close(rebuilt(E), cls(**RANDOM[cls], seed=4)(E))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_inference_returns_the_input(cls):
    layer = cls(**RANDOM[cls])
    assert layer(E, training=False) is E


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_direct_calls_augment_as_in_keras(cls):
    assert not torch.equal(cls(**RANDOM[cls], seed=1)(E), E)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_a_seed_makes_the_draws_reproducible(cls):
    first = cls(**RANDOM[cls], seed=7)(E)
    assert torch.equal(first, cls(**RANDOM[cls], seed=7)(E))
    assert not torch.equal(first, cls(**RANDOM[cls], seed=8)(E))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_each_image_gets_its_own_draw(cls):
    batch = E[:1].expand(4, -1, -1, -1)
    out = cls(**RANDOM[cls], seed=0)(batch)
    assert not torch.equal(out[0], out[1])


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_channels_first_gives_the_same_images(cls):
    last = cls(**RANDOM[cls], seed=5)(E)
    first = cls(**RANDOM[cls], seed=5, data_format="channels_first")(E.permute(0, 3, 1, 2))
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_a_single_image_keeps_its_shape(cls):
    assert cls(**RANDOM[cls], seed=0)(E[0]).shape == E[0].shape


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_integer_images_come_out_as_float32(cls):
    images = (E * 255).to(torch.uint8)
    kwargs = {**RANDOM[cls], "value_range": (0, 255)} if cls is RandomElasticTransform else {}
    out = cls(**{**RANDOM[cls], **kwargs}, seed=0)(images)
    assert out.dtype == torch.float32 and out.shape == images.shape


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (RandomShear, {}),
        (RandomPerspective, {"scale": 0.0}),
        (RandomPerspective, {"factor": 0.0}),
        (RandomElasticTransform, {"scale": 0.0}),
        (RandomElasticTransform, {"factor": 0.0}),
    ],
    ids=[
        "shear_0",
        "perspective_scale_0",
        "perspective_factor_0",
        "elastic_scale_0",
        "elastic_factor_0",
    ],
)
def test_zero_factors_give_the_identity(cls, kwargs):
    torch.testing.assert_close(cls(**kwargs, seed=0)(E), E)


def test_shear_factors_are_drawn_in_range_with_both_signs():
    layer = RandomShear(x_factor=(0.2, 0.3), y_factor=0.1, seed=0)
    shears = layer.draw(torch.zeros(64, 1, 2, 2), layer._generator(torch.device("cpu")))
    assert shears.shape == (64, 2)
    assert bool(((shears[:, 0].abs() >= 0.2) & (shears[:, 0].abs() <= 0.3)).all())
    assert bool((shears[:, 1].abs() <= 0.1).all())
    assert bool((shears[:, 0] > 0).any() and (shears[:, 0] < 0).any())


def test_shear_numbers_draw_from_minus_to_plus_factor_as_keras():
    # Keras 3.15.1: x_factor=0.2 holds (-0.2, 0.2), and one random sign multiplies both draws,
    # so numbers give sx and sy of the same sign half of the time (2000 draws: 0.49), pairs
    # (0.1, 0.3) always (1.0).
    x = torch.zeros(2000, 1, 2, 2)
    for factor, same in [(0.2, 0.5), ((0.1, 0.3), 1.0)]:
        layer = RandomShear(x_factor=factor, y_factor=factor, seed=0)
        shears = layer.draw(x, layer._generator(torch.device("cpu")))
        agree = (shears[:, 0].sign() == shears[:, 1].sign()).float().mean().item()
        assert agree == pytest.approx(same, abs=0.05)
        assert shears.abs().max() <= 0.3 and shears.abs().max() > 0.19
    assert RandomShear(x_factor=0.2).get_config()["x_factor"] == (-0.2, 0.2)
    assert RandomShear(y_factor=1).get_config()["y_factor"] == (-1, 1)
    with pytest.raises(ValueError, match="x_factor"):
        RandomShear(x_factor=-0.2)  # Keras checks the given number against [0, 1]
    # Keras' own from_config refuses its config's (-0.2, 0.2); lamina reads it back as 0.2.
    config = RandomShear(x_factor=0.2).get_config()
    assert RandomShear.from_config(config).get_config() == config


def test_shear_keeps_the_top_left_corner():
    layer = RandomShear(x_factor=0.5, y_factor=0.5, fill_mode="constant", seed=1)
    out = layer(E)
    torch.testing.assert_close(out[:, 0, 0], E[:, 0, 0])


def test_perspective_applies_with_the_drawn_probability():
    layer = RandomPerspective(factor=(0.5, 0.5), scale=0.5, seed=0)
    apply, moves = layer.draw(torch.zeros(400, 1, 2, 2), layer._generator(torch.device("cpu")))
    assert 0.4 < apply.float().mean().item() < 0.6
    assert bool((moves.abs() <= 0.25).all()) and moves.shape == (400, 4, 2)


def test_perspective_leaves_undrawn_images_unchanged():
    layer = fixed(RandomPerspective, lambda x: (FIRST_ONLY, MOVES))
    out = layer(E)
    assert torch.equal(out[1], E[1]) and not torch.equal(out[0], E[0])


def test_elastic_transform_draws_one_distortion_per_batch_in_scale():
    # Keras 3.15.1: distortion_factor has shape () (one per batch); apply_transform and the
    # noise field are per image.
    layer = RandomElasticTransform(scale=(0.2, 0.4), seed=0)
    generator = layer._generator(torch.device("cpu"))
    apply, distortion, noise_ = layer.draw(torch.zeros(50, 1, 3, 4), generator)
    assert apply.dtype == torch.bool and apply.shape == (50,)
    assert 0 < int(apply.sum()) < 50
    assert bool(((distortion >= 0.2) & (distortion <= 0.4)).all())
    assert distortion.shape == (50,) and len(set(distortion.tolist())) == 1
    assert noise_.shape == (50, 2, 3, 4) and not torch.equal(noise_[0], noise_[1])
    again = layer.draw(torch.zeros(50, 1, 3, 4), generator)[1]
    assert float(again[0]) != float(distortion[0])


def test_elastic_transform_clips_to_the_value_range():
    layer = RandomElasticTransform(
        factor=(1.0, 1.0), value_range=(0.2, 0.8), fill_mode="constant", fill_value=5.0, seed=0
    )
    out = layer(E)
    assert out.min() >= 0.2 and out.max() <= 0.8


def test_elastic_transform_with_larger_images_moves_pixels_smoothly():
    image = torch.linspace(0, 1, 32 * 32).reshape(1, 32, 32, 1).expand(2, -1, -1, -1)
    out = RandomElasticTransform(factor=(1.0, 1.0), value_range=(0, 1), seed=0)(image)
    change = (out - image).abs()
    assert 0 < change.mean() < 0.05


def test_layers_run_on_the_meta_device():
    images = torch.empty(2, 8, 8, 3, device="meta")
    for cls in LAYERS:
        assert cls(**RANDOM[cls])(images).shape == images.shape


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RandomShear(x_factor=1.5), "x_factor"),
        (lambda: RandomShear(y_factor=(-0.2, 0.1)), "y_factor"),
        (lambda: RandomShear(fill_mode="edge"), "fill_mode"),
        (lambda: RandomShear(interpolation="bicubic"), "interpolation"),
        (lambda: RandomPerspective(scale=1.5), "scale must be a number in"),
        (lambda: RandomPerspective(factor=(1.2, 1.5)), "factor"),
        (lambda: RandomPerspective(interpolation="area"), "interpolation"),
        (lambda: RandomElasticTransform(scale=(1.5, 2)), "scale"),
        (lambda: RandomElasticTransform(fill_mode="edge"), "fill_mode"),
        (lambda: RandomElasticTransform(value_range=(0,)), "value_range"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_perspective_needs_two_pixels_per_side():
    with pytest.raises(ValueError, match="at least 2 x 2"):
        RandomPerspective()(torch.ones(1, 1, 5, 3))
