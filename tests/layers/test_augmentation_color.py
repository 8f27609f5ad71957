"""Colour and filter augmentation layers: Keras' numbers on deterministic settings, draw
statistics, seeds, layouts, dtypes and the layer contract.

Reference numbers come from Keras 3.15.1 (torch backend) in /work/kenv, on the 2 x 3 x 3 RGB
batch X below (integers 0..255) or X / 255; with factors whose range is one value (or a
probability of 1) Keras' layers are deterministic, so their outputs are comparable.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.augmentation_color import (
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomSaturation,
    adjust_hue,
    hsv_to_rgb,
    rgb_to_hsv,
)
from lamina.layers.augmentation_filters import (
    AutoContrast,
    Equalization,
    RandomGaussianBlur,
    RandomPosterization,
    RandomSharpness,
    Solarization,
    solarize,
)
from lamina.testing import check_layer

# Keras 3.15.1 (torch backend) outputs for X, each the flattened (N, 3, 3, 3) array, 4 decimals.
KERAS = {
    "X": (
        "172 47 117 192 67 251 195 103 9 211 21 242 36 87 70 216 88 140 58 193 230 39 87 174 88 "
        "81 165 25 77 72 9 148 115 208 243 197 254 79 175 192 82 99 216 177 243 29 147 147 142 "
        "167 32 193 9 185"
    ),
    "gray": (
        "92.3378 92.3378 92.3378 125.3318 125.3318 125.3318 119.7725 119.7725 119.7725 102.9829 "
        "102.9829 102.9829 69.8094 69.8094 69.8094 132.1784 132.1784 132.1784 156.8472 156.8472 "
        "156.8472 82.5621 82.5621 82.5621 92.6602 92.6602 92.6602 60.8795 60.8795 60.8795 "
        "102.6761 102.6761 102.6761 227.2702 227.2702 227.2702 142.2436 142.2436 142.2436 "
        "116.8088 116.8088 116.8088 196.1634 196.1634 196.1634 111.7151 111.7151 111.7151 "
        "144.1208 144.1208 144.1208 84.0607 84.0607 84.0607"
    ),
    "degen": (
        "148.1013 60.6013 109.6013 171.9995 84.4995 213.2995 172.4317 108.0318 42.2318 178.5949 "
        "45.5949 200.2949 46.1428 81.8428 69.9428 190.8535 101.2535 137.6535 87.6542 182.1542 "
        "208.0542 52.0686 85.6686 146.5686 89.3981 84.4981 143.2981 35.7639 72.1638 68.6638 "
        "37.1028 134.4028 111.3028 213.7811 238.2811 206.0811 220.4731 97.9731 165.1731 "
        "169.4426 92.4426 104.3426 210.049 182.749 228.949 53.8145 136.4145 136.4145 142.6362 "
        "160.1362 65.6362 160.3182 31.5182 154.7182"
    ),
    "sat": (
        "172 118.4286 148.4286 225.7143 172.1429 251 195 155.5714 115.2857 228.7143 147.2857 "
        "242 65.1429 87 79.7143 216 161.1429 183.4286 156.2857 214.1428 230 116.1429 136.7143 "
        "174 132 129 165 54.7143 77 74.8571 88.4286 148 133.8571 228 243 223.2857 254 179 "
        "220.1429 192 144.8571 152.1429 231.4286 214.7143 243 96.4286 147 147 156.2857 167 "
        "109.1429 193 114.1429 189.5715"
    ),
    "sat01": (
        "0.6745 0 0.3777 0.6687 0 0.9843 0.7647 0.3865 0 0.8159 0 0.949 0 0.3412 0.2275 0.8471 "
        "0 0.3441 0 0.7079 0.902 0 0.2426 0.6824 0.0539 0 0.6471 0 0.302 0.2729 0 0.5804 0.4426 "
        "0.6327 0.9529 0.532 0.9961 0 0.5464 0.7529 0 0.1164 0.7059 0.349 0.9529 0 0.5765 "
        "0.5765 0.5336 0.6549 0 0.7569 0 0.724"
    ),
    "sharp": (
        "215.2462 56.2769 134.2154 224.5846 75.7692 255 246.5077 129.8615 0 255 6.5538 255 0 "
        "87.4154 34.5538 255 100.8769 160.8154 66.2154 255 255 25.2923 97.4308 199.1539 "
        "107.0615 98.8154 208.2 13.2308 91.1692 80.6308 0 172.2769 121.1846 255 255 248.6461 "
        "255 79.5077 218.1538 213.2308 63.9538 81.7385 255 212.4 255 12.5692 186.1385 187.1538 "
        "153.6308 205.8615 4.6308 238.8769 0 236.0462"
    ),
    "sharp01": (
        "0.4484 0.1358 0.3688 0.5826 0.2169 0.6392 0.4954 0.2635 0.1292 0.54 0.1579 0.685 "
        "0.3543 0.339 0.4598 0.5628 0.2778 0.4402 0.1845 0.4313 0.5752 0.2246 0.2866 0.5508 "
        "0.2454 0.2245 0.4212 0.1596 0.2279 0.2372 0.2339 0.4535 0.4186 0.5148 0.582 0.5025 "
        "0.6015 0.3071 0.4606 0.6419 0.4159 0.4785 0.6096 0.509 0.6354 0.1996 0.3718 0.3665 "
        "0.496 0.4517 0.2686 0.517 0.1207 0.4586"
    ),
    "post": (
        "160 32 96 192 64 224 192 96 0 192 0 224 32 64 64 192 64 128 32 192 224 32 64 160 64 64 "
        "160 0 64 64 0 128 96 192 224 192 224 64 160 192 64 96 192 160 224 0 128 128 128 160 32 "
        "192 0 160"
    ),
    "post01": (
        "0.6588 0.1569 0.4392 0.7529 0.251 0.9725 0.7529 0.3765 0.0314 0.8157 0.0627 0.9412 "
        "0.1255 0.3137 0.251 0.8471 0.3451 0.5333 0.2196 0.7529 0.8784 0.1255 0.3137 0.6588 "
        "0.3451 0.3137 0.6275 0.0941 0.2824 0.2824 0.0314 0.5647 0.4392 0.8157 0.9412 0.7529 "
        "0.9725 0.2824 0.6588 0.7529 0.3137 0.3765 0.8471 0.6902 0.9412 0.0941 0.5647 0.5647 "
        "0.5333 0.6275 0.1255 0.7529 0.0314 0.7216"
    ),
    "invert": (
        "83 208 138 63 188 4 60 152 246 44 234 13 219 168 185 39 167 115 197 62 25 216 168 81 "
        "167 174 90 230 178 183 246 107 140 47 12 58 1 176 80 63 173 156 39 78 12 226 108 108 "
        "113 88 223 62 246 70"
    ),
    "blur": (
        "108.7082 30.3978 102.5821 132.6151 56.2514 125.3689 117.0831 57.4619 53.6994 113.7575 "
        "53.647 151.1147 114.7484 79.9887 144.7151 121.8966 69.4549 95.6164 51.5921 82.1316 "
        "131.3668 54.0535 78.0971 132.109 62.3307 52.4675 97.0038 48.8752 57.2265 63.9518 "
        "75.386 110.1341 101.9599 106.0434 125.2071 114.4367 122.3333 77.739 104.2454 160.3767 "
        "118.0689 128.5629 151.736 114.2384 147.0458 66.4136 83.1758 79.1748 118.957 96.589 "
        "81.6013 117.1661 48.5054 100.2826"
    ),
    "blur5": (
        "0.3092 0.1197 0.3197 0.3883 0.1812 0.36 0.3258 0.1645 0.2215 0.3241 0.1926 0.4351 "
        "0.3966 0.2559 0.4775 0.3445 0.2108 0.3214 0.1876 0.205 0.3677 0.2305 0.2336 0.4074 "
        "0.2075 0.1699 0.29 0.2035 0.2073 0.2268 0.3033 0.3315 0.3328 0.3036 0.3209 0.321 "
        "0.3311 0.2702 0.3091 0.4679 0.3836 0.4213 0.4259 0.3334 0.4008 0.2489 0.2347 0.2395 "
        "0.3727 0.2872 0.3082 0.34 0.2038 0.2924"
    ),
    "autoc": (
        "192.6667 38.5465 113.8016 221 68.1977 255 225.25 121.5698 0 247.9167 0 245.5165 0 "
        "97.8488 64.2769 255 99.3314 138.0372 31.1667 255 232.8719 4.25 97.8488 173.8636 "
        "73.6667 88.9535 164.3801 16.6531 74.1026 48.3412 0 151.4744 100.3081 207.1225 255 "
        "199.4076 255 76.2821 172.8199 190.4694 79.5513 80.9716 215.449 183.0769 255 20.8163 "
        "150.3846 138.981 138.4286 172.1795 0 191.5102 0 184.9052"
    ),
    "autoc01": (
        "0.7556 0.1512 0.4463 0.8667 0.2674 1 0.8833 0.4767 0 0.9722 0 0.9628 0 0.3837 0.2521 1 "
        "0.3895 0.5413 0.1222 1 0.9132 0.0167 0.3837 0.6818 0.2889 0.3488 0.6446 0.0653 0.2906 "
        "0.1896 0 0.594 0.3934 0.8122 1 0.782 1 0.2991 0.6777 0.7469 0.312 0.3175 0.8449 0.7179 "
        "1 0.0816 0.5897 0.545 0.5429 0.6752 0 0.751 0 0.7251"
    ),
    "eq": (
        "128 32 64 159 64 255 191 223 0 223 0 223 0 159 32 255 191 96 64 255 191 32 159 159 96 "
        "96 128"
    ),
    "eq01": (
        "0.4275 0.1255 0.251 0.7137 0.251 1 0.7137 0.8745 0 1 0 1 0 0.749 0.1255 1 0.749 0.3765 "
        "0.1412 1 0.749 0 0.749 0.6235 0.2863 0.3765 0.502"
    ),
    "sol": (
        "43 87 98 23 107 0 20 112 49 4 61 0 76 127 110 0 127 75 98 22 0 79 127 41 127 121 50 65 "
        "117 112 49 67 100 7 0 18 0 119 40 23 122 116 0 38 0 69 68 68 73 48 72 22 49 30"
    ),
    "sol01": (
        "0.6745 0.1843 0.4588 0.7529 0.2627 0.0157 0.7647 0.4039 0.0353 0.1725 0.0824 0.051 "
        "0.1412 0.3412 0.2745 0.1529 0.3451 0.549 0.2275 0.7569 0.098 0.1529 0.3412 0.6824 "
        "0.3451 0.3176 0.6471 0.098 0.302 0.2824 0.0353 0.5804 0.451 0.1843 0.0471 0.7725 "
        "0.0039 0.3098 0.6863 0.7529 0.3216 0.3882 0.1529 0.6941 0.0471 0.1137 0.5765 0.5765 "
        "0.5569 0.6549 0.1255 0.7569 0.0353 0.7255"
    ),
    "hue": (
        "172 89.5 47 251 67 144.4 119.6 195 9 242 21 74.1 36 58.1 87 216 151.2 88 77.8 58 230 "
        "112.5 39 174 163.6 81 165 77 66.8 25 148 101.1 9 243 197 212.6 79 192.5 254 82 110 192 "
        "177 243 209.4 147 135.2 29 167 32 155.5 9 193 182.6001"
    ),
    "hue01": (
        "0.2627 0.6745 0.1843 0.9271 0.9843 0.2627 0.0353 0.7647 0.6957 0.7239 0.949 0.0824 "
        "0.3412 0.1412 0.3278 0.3482 0.8471 0.3451 0.902 0.2275 0.4871 0.6824 0.1765 0.1529 "
        "0.6471 0.4769 0.3176 0.098 0.302 0.16 0.0353 0.5804 0.1239 0.9239 0.9529 0.7725 0.8941 "
        "0.3098 0.9961 0.7529 0.3216 0.6471 0.6941 0.6965 0.9529 0.1137 0.5765 0.2988 0.6549 "
        "0.4353 0.1255 0.3553 0.0353 0.7569"
    ),
}


def keras(name):
    values = np.array(KERAS[name].split(), dtype=np.float32)
    return torch.from_numpy(values.reshape(-1, 3, 3, 3))


X = keras("X")
X01 = X / 255
# name -> (layer, input) with settings that make Keras' layer deterministic.
DETERMINISTIC = {
    "gray": (lambda: RandomGrayscale(1.0), X),
    "degen": (lambda: RandomColorDegeneration((0.3, 0.3)), X),
    "sat": (lambda: RandomSaturation((0.3, 0.3)), X),
    "sat01": (lambda: RandomSaturation((0.7, 0.7), value_range=(0, 1)), X01),
    "sharp": (lambda: RandomSharpness((0.8, 0.8)), X),
    "sharp01": (lambda: RandomSharpness((0.1, 0.1), value_range=(0, 1)), X01),
    "post": (lambda: RandomPosterization((3, 3)), X),
    "post01": (lambda: RandomPosterization((5, 5), value_range=(0, 1)), X01),
    "invert": (lambda: RandomInvert((1.0, 1.0)), X),
    "blur": (lambda: RandomGaussianBlur((1.0, 1.0), sigma=(0.7, 0.7)), X),
    "blur5": (
        lambda: RandomGaussianBlur((1.0, 1.0), 5, sigma=(1.0, 1.0), value_range=(0, 1)),
        X01,
    ),
    "autoc": (lambda: AutoContrast(), X),
    "autoc01": (lambda: AutoContrast(value_range=(0, 1)), X01),
    # Keras pools Equalization's histogram over the batch: one image, where the two agree.
    "eq": (lambda: Equalization(), X[:1]),
    "eq01": (lambda: Equalization(value_range=(0, 1), bins=16), X01[:1]),
}
# Keras' Solarization draws from [lower, upper * 255], so no setting fixes a non-zero draw: its
# references are transform_images with (addition, threshold) on the 0..255 scale.
SOLARIZE = {"sol": (40.0, 127.5, (0, 255), X), "sol01": (0.0, 200.0, (0, 1), X01)}
ALL = {
    RandomGrayscale: {"factor": 0.5},
    RandomHue: {"factor": 0.5},
    RandomSaturation: {"factor": 0.8},
    RandomColorDegeneration: {"factor": 0.8},
    RandomColorJitter: {"brightness_factor": 0.2, "contrast_factor": 0.3, "hue_factor": 0.4},
    RandomInvert: {"factor": 1.0},
    RandomSharpness: {"factor": 1.0},
    RandomPosterization: {"factor": 6},
    Solarization: {"addition_factor": 0.3, "threshold_factor": 0.8},
    # Per image, only whether it is blurred is drawn (the sigmas once per batch, as Keras).
    RandomGaussianBlur: {"factor": 1.0, "sigma": (0.5, 1.0)},
    Equalization: {},
}
RANDOM = [cls for cls in ALL if cls is not Equalization]
IDS = [cls.__name__ for cls in ALL]


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def images(n=8, size=6, seed=0):
    return torch.rand((n, size, size, 3), generator=torch.Generator().manual_seed(seed)) * 255


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_settings_match_keras(name):
    make, x = DETERMINISTIC[name]
    torch.testing.assert_close(make()(x, training=True), keras(name), atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(SOLARIZE))
def test_solarize_matches_keras_transform_images(name):
    addition, threshold, values, x = SOLARIZE[name]
    out = solarize(x.permute(0, 3, 1, 2), torch.tensor(addition), torch.tensor(threshold), values)
    torch.testing.assert_close(out.permute(0, 2, 3, 1), keras(name), atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "turns", "value_range"),
    [
        ("hue", [0.15, -0.35], (0, 255)),
        ("hue01", [0.4, -0.1], (0, 1)),
    ],
)
def test_hue_turn_matches_keras(name, turns, value_range):
    x = X if value_range == (0, 255) else X01
    out = adjust_hue(x.permute(0, 3, 1, 2), torch.tensor(turns), value_range)
    torch.testing.assert_close(out.permute(0, 2, 3, 1), keras(name), atol=1e-3, rtol=1e-5)


def test_random_hue_turns_each_image_one_way_or_the_other():
    x = X[:1].expand(32, -1, -1, -1)
    y = RandomHue((0.3, 0.3), seed=1)(x, training=True)
    nchw = x.permute(0, 3, 1, 2)
    ways = [
        adjust_hue(nchw, torch.full((32,), t), (0, 255)).permute(0, 2, 3, 1) for t in (0.15, -0.15)
    ]
    match = torch.stack([((y - w).abs() < 1e-3).flatten(1).all(1) for w in ways], 1)
    assert bool(match.any(1).all()) and bool(match.all(0).logical_not().all())
    assert 0 < int(match[:, 0].sum()) < 32


def test_hsv_round_trip_is_the_identity():
    x = torch.rand(4, 3, 5, 5)
    hsv = rgb_to_hsv(x)
    assert float(hsv.min()) >= 0 and float(hsv.max()) <= 1
    torch.testing.assert_close(hsv_to_rgb(hsv), x, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", RANDOM, ids=[c.__name__ for c in RANDOM])
def test_inference_returns_the_input(cls):
    x = images()
    assert cls(**ALL[cls])(x, training=False) is x


def test_equalization_is_the_identity_in_inference_and_autocontrast_is_not():
    x = images()
    assert Equalization()(x, training=False) is x  # as Keras' code (its docstring says otherwise)
    stretched = AutoContrast()(x)
    torch.testing.assert_close(stretched, AutoContrast()(x, training=True))
    assert float(stretched.amin()) == 0.0 and float(stretched.amax()) == 255.0


@pytest.mark.parametrize("cls", RANDOM, ids=[c.__name__ for c in RANDOM])
def test_draws_differ_per_image_and_seeds_reproduce(cls):
    x = images(1).expand(16, -1, -1, -1)
    y = cls(seed=3, **ALL[cls])(x, training=True)
    assert len({tuple(sample.flatten().tolist()) for sample in y}) > 1
    torch.testing.assert_close(y, cls(seed=3, **ALL[cls])(x, training=True), rtol=0, atol=0)
    lamina.config.set_random_seed(5)
    unseeded = cls(**ALL[cls])(x, training=True)
    lamina.config.set_random_seed(5)
    torch.testing.assert_close(unseeded, cls(**ALL[cls])(x, training=True), rtol=0, atol=0)


def make(cls, seed=2, **extra):
    """The layer of ALL with `extra` arguments (and a seed, where it takes one)."""
    return cls(**ALL[cls], **({} if cls is Equalization else {"seed": seed}), **extra)


@pytest.mark.parametrize("cls", list(ALL), ids=IDS)
def test_channels_first_and_unbatched_images_give_the_same_numbers(cls):
    x = images(4)
    last = make(cls)(x, training=True)
    first = make(cls, data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)
    one = make(cls)(x[0], training=True)
    assert one.shape == (6, 6, 3)
    torch.testing.assert_close(one, make(cls)(x[:1], training=True)[0])


@pytest.mark.parametrize("cls", [c for c in ALL if c is not RandomGrayscale], ids=IDS[1:])
def test_outputs_stay_in_value_range_for_unit_images(cls):
    y = make(cls, value_range=(0, 1))(images() / 255, training=True)
    assert float(y.min()) >= -1e-6 and float(y.max()) <= 1 + 1e-6


def test_integer_images_give_float_outputs_with_the_same_numbers():
    x = X.to(torch.uint8)
    y = RandomPosterization((3, 3))(x, training=True)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, keras("post"))


def test_grayscale_and_invert_probabilities():
    x = images(1).expand(2000, -1, -1, -1)
    gray = RandomGrayscale(0.3, seed=0)(x, training=True)
    assert float((gray[..., 0] == gray[..., 1]).flatten(1).all(1).float().mean()) == pytest.approx(
        0.3, abs=0.04
    )
    inverted = RandomInvert(seed=0)(x, training=True)  # p ~ U(0, 1): half of the images
    share = float(((inverted - (255 - x)).abs() < 1e-4).flatten(1).all(1).float().mean())
    assert share == pytest.approx(0.5, abs=0.04)


def test_invert_subtracts_from_the_top_of_the_value_range_as_keras():
    x = torch.tensor([[[[-1.0, 0.0, 0.5]]]])
    y = RandomInvert((1.0, 1.0), value_range=(-1, 1))(x, training=True)
    assert y.flatten().tolist() == [2.0, 1.0, 0.5]  # Keras 3.15.1: value_range[1] - x


def test_posterization_leaves_the_upper_number_of_bits_out_as_keras():
    # Keras 3.15.1 on 255 over 2000 draws: factor 4 keeps 1, 2 or 3 bits; (2, 6) 2 .. 5;
    # 8: 1 .. 7; (3, 3): 3. Its config holds (1, 4) for 4.
    x = torch.full((400, 1, 1, 1), 255.0)
    for factor, bits in [
        (4, {1, 2, 3}),
        ((2, 6), {2, 3, 4, 5}),
        (8, set(range(1, 8))),
        ((3, 3), {3}),
    ]:
        kept = RandomPosterization(factor, seed=0)(x, training=True).flatten()
        assert set(kept.tolist()) == {256.0 - 2.0 ** (8 - b) for b in bits}
    assert RandomPosterization(4).get_config()["factor"] == (1, 4)


def test_solarization_scales_only_the_upper_end_by_255_as_keras():
    # Keras 3.15.1, 2000 draws: addition_factor (0.1, 0.3) adds 0.107 .. 76.472 to zeros;
    # threshold_factor (0.2, 0.4) on 60 gives 60 (threshold above) or 195 (inverted).
    zeros = torch.zeros(2000, 1, 1, 1)
    added = 255 - Solarization((0.1, 0.3), 0, seed=0)(zeros, training=True)
    assert 0.1 <= float(added.min()) < 1.0 and 75.0 < float(added.max()) <= 76.5
    x = torch.linspace(0, 255, 256).view(1, 1, 256, 1).expand(500, -1, -1, -1)
    y = Solarization(threshold_factor=(0.2, 0.4), seed=0)(x, training=True)
    inverted = (y - (255 - x)).abs() < 1e-3
    first = inverted.flatten(1).float().argmax(1)  # the threshold, as the first inverted level
    assert int(first.min()) <= 3 and 100 <= int(first.max()) <= 103
    config = Solarization().get_config()
    assert config["addition_factor"] == (0, 0.0) and type(config["addition_factor"][0]) is int
    assert Solarization(1, 0).get_config()["threshold_factor"] == (0, 0)


def test_saturation_factor_one_saturates_fully_and_stays_in_range():
    y = RandomSaturation((1.0, 1.0))(torch.tensor([[[[200.0, 100.0, 50.0]]]]), training=True)
    torch.testing.assert_close(y.flatten(), torch.tensor([200.0, 66.6667, 0.0]), atol=1e-3, rtol=0)


def test_blur_and_sharpness_keep_a_flat_interior():
    x = torch.full((2, 7, 7, 3), 100.0)
    blurred = RandomGaussianBlur((1.0, 1.0), kernel_size=(3, 5), seed=0)(x, training=True)
    torch.testing.assert_close(blurred[:, 1:-1, 2:-2], x[:, 1:-1, 2:-2])
    assert float(blurred[:, 0].max()) < 100.0  # zero padding darkens the border, as Keras
    sharp = RandomSharpness(1.0, seed=0)(x, training=True)
    torch.testing.assert_close(sharp[:, 1:-1, 1:-1], x[:, 1:-1, 1:-1])


def test_autocontrast_leaves_flat_channels_and_equalization_flat_images_alone():
    x = images(2)
    x[..., 1] = 7.0
    y = AutoContrast()(x)
    assert bool((y[..., 1] == 7.0).all())
    flat = torch.full((1, 4, 4, 3), 9.0)
    assert torch.equal(Equalization()(flat, training=True), flat)


def test_color_jitter_applies_its_steps_in_order_with_one_generator():
    x = images(4)
    jitter = RandomColorJitter(brightness_factor=(0.1, 0.1), saturation_factor=(0.5, 0.5), seed=0)
    expected = RandomSaturation((0.5, 0.5))((x + 25.5).clamp(0, 255), training=True)
    torch.testing.assert_close(jitter(x, training=True), expected, atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RandomHue(0.5)(torch.zeros(1, 4, 4, 4), training=True), "expects images with 3"),
        (lambda: RandomHue(1.5), "factor must be"),
        (lambda: RandomGrayscale((0.1, 0.2)), "factor must be a probability"),
        (lambda: RandomSaturation(0.5, value_range=(0,)), "value_range must be a pair"),
        (lambda: RandomPosterization(9), "number of bits in"),
        (lambda: RandomPosterization(2.5), "number of bits in"),
        (lambda: RandomGaussianBlur(kernel_size=4), "kernel_size must be an odd"),
        (lambda: Solarization(threshold_factor=2.0), "threshold_factor must be"),
        (lambda: Equalization(bins=1), "bins must be"),
        (lambda: RandomInvert()(torch.zeros(4, 4), training=True), "expects 4-D input"),
    ],
)
def test_errors_name_the_layer_and_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# Keras 3.15.1's get_config keys, beside the base layer's.
KERAS_KEYS = {
    RandomGrayscale: {"data_format", "factor"},
    RandomHue: {"data_format", "factor", "value_range", "seed"},
    RandomSaturation: {"data_format", "factor", "value_range", "seed"},
    RandomColorDegeneration: {"data_format", "factor", "value_range", "seed"},
    RandomColorJitter: {
        "data_format",
        "value_range",
        "brightness_factor",
        "contrast_factor",
        "saturation_factor",
        "hue_factor",
        "seed",
    },
    RandomInvert: {"data_format", "factor", "value_range", "seed"},
    RandomSharpness: {"data_format", "factor", "value_range", "seed"},
    RandomPosterization: {"data_format", "factor", "value_range", "seed"},
    Solarization: {"data_format", "value_range", "addition_factor", "threshold_factor", "seed"},
    AutoContrast: {"data_format", "value_range"},
    Equalization: {"data_format", "bins", "value_range"},
    RandomGaussianBlur: {"data_format", "factor", "kernel_size", "sigma", "value_range", "seed"},
}


@pytest.mark.parametrize("cls", list(KERAS_KEYS), ids=[c.__name__ for c in KERAS_KEYS])
def test_config_has_keras_keys_and_rebuilds_the_layer(cls):
    layer = cls(**ALL.get(cls, {}))
    config = layer.get_config()
    assert KERAS_KEYS[cls] <= set(config)
    assert cls.from_config(config).get_config() == config


# The rows reported for tests/layers/test_every_layer.py, checked here until they are added.
CASES = {
    "AutoContrast": ({"value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "Equalization": ({"value_range": [-5, 5], "bins": 64}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomColorDegeneration": (
        {"factor": 0.5, "value_range": [-5, 5]},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomColorJitter": (
        {"value_range": [-5, 5], "brightness_factor": 0.2, "hue_factor": 0.2, "seed": 2},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomGaussianBlur": (
        {"kernel_size": (3, 5), "sigma": (0.5, 1.5)},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomGrayscale": ({"factor": 1.0, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomHue": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomInvert": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomPosterization": ({"factor": 4, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "RandomSaturation": (
        {"factor": (0.2, 0.8), "value_range": [-5, 5]},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
    "RandomSharpness": ({"factor": 0.5, "value_range": [-5, 5]}, (2, 8, 8, 3), (2, 8, 8, 3)),
    "Solarization": (
        {"addition_factor": 0.2, "threshold_factor": (0.3, 0.6)},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
    ),
}
CLASSES = {cls.__name__: cls for cls in KERAS_KEYS | {RandomColorJitter: None}}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_contract(name):
    kwargs, input_shape, expected = CASES[name]
    check_layer(CLASSES[name], kwargs, input_shape, expected_output_shape=expected)


def test_blur_draws_one_sigma_pair_per_batch():
    # Keras 3.15.1 draws blur_factor, shape (2,), once per batch (should_apply_blur per image).
    spike = torch.zeros(8, 7, 7, 1)
    spike[:, 3, 3] = 255.0
    layer = RandomGaussianBlur((1.0, 1.0), kernel_size=5, sigma=(0.2, 1.0), seed=0)
    centres = set()
    for _ in range(3):
        y = layer(spike, training=True)
        assert torch.equal(y, y[:1].expand_as(y))  # every image got the same kernel
        centres.add(float(y[0, 3, 3, 0]))
    assert len(centres) == 3  # and each batch its own


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32])
def test_grayscale_keeps_integer_images_dtype_as_keras(dtype):
    # Keras 3.15.1: RandomGrayscale(1.0) on integer images gives the luma truncated, same dtype.
    x = torch.tensor([[[[10, 200, 33], [255, 255, 255]], [[1, 2, 3], [7, 7, 7]]]], dtype=dtype)
    y = RandomGrayscale(1.0)(x, training=True)
    assert y.dtype == dtype
    assert y[..., 0].flatten().tolist() == [124, 254, 1, 6]
    assert torch.equal(y, y[..., :1].expand_as(y))
    first = RandomGrayscale(1.0, data_format="channels_first")(x.permute(0, 3, 1, 2))
    assert first.dtype == dtype and torch.equal(first.permute(0, 2, 3, 1), y)
    assert torch.equal(RandomGrayscale(1.0)(x[..., :1], training=True), x[..., :1])


def test_saturation_refuses_integer_images_in_training_as_keras():
    # Keras 3.15.1: "Invalid images dtype: expected float dtype. Received: images.dtype=uint8"
    x = torch.zeros(2, 4, 4, 3, dtype=torch.uint8)
    with pytest.raises(ValueError, match="expected float dtype. Received: images.dtype=uint8"):
        RandomSaturation(0.3)(x, training=True)
    with pytest.raises(ValueError, match="images.dtype=int32"):
        RandomSaturation(0.3)(x[0].to(torch.int32), training=True)
    assert RandomSaturation(0.3)(x, training=False) is x
    assert RandomColorJitter(saturation_factor=0.3)(x, training=True).dtype == torch.float32
