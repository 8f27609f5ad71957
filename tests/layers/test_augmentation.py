"""Augmentation layers: identity in inference, exact geometry, draw statistics, seeds, mixing.

Reference numbers marked "Keras" were produced by Keras 3.15.1 (torch backend) in /work/kenv.
"""

import math

import numpy as np
import pytest
import torch

import lamina
from lamina.layers import (
    CutMix,
    MixUp,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomErasing,
    RandomFlip,
    RandomRotation,
    RandomShift,
    RandomTranslation,
    RandomZoom,
)
from lamina.layers._image_utils import affine_transform, crop_windows, fix_indices, sample_beta

LAYERS = [
    (RandomFlip, {}),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2}),
    (RandomShift, {}),
    (RandomCrop, {"height": 8, "width": 8, "padding": 2}),
    (RandomRotation, {"factor": 0.2}),
    (RandomZoom, {"height_factor": 0.3, "width_factor": 0.2}),
    (RandomContrast, {"factor": 0.5}),
    (RandomBrightness, {"factor": 0.3}),
    (RandomErasing, {"factor": (1.0, 1.0)}),
    (MixUp, {}),
    (CutMix, {}),
]
IDS = [cls.__name__ for cls, _ in LAYERS]
# Keras' affine_transform of the row 0 1 2 3 4 read 1.5 px to the left (x_in = x - 1.5),
# fill_value 9: {(fill_mode, interpolation): output row}. (Reflect + nearest is left out: at an
# exact half-pixel tie grid_sample rounds after reflecting, Keras before; -1.5 -> 0 vs 1.)
KERAS_SHIFTED_ROW = {
    ("reflect", "bilinear"): [0.5, 0.0, 0.5, 1.5, 2.5],
    ("wrap", "bilinear"): [3.5, 2.0, 0.5, 1.5, 2.5],
    ("constant", "bilinear"): [9.0, 4.5, 0.5, 1.5, 2.5],
    ("nearest", "bilinear"): [0.0, 0.0, 0.5, 1.5, 2.5],
    ("constant", "nearest"): [9.0, 0.0, 0.0, 2.0, 2.0],
}
# The same row read 6.25 px to the right (x_in = x + 6.25), far outside the image.
KERAS_FAR_ROW = {
    "reflect": [2.75, 1.75, 0.75, 0.0, 0.25],
    "wrap": [1.25, 2.25, 3.25, 3.0, 0.25],
    "constant": [9.0] * 5,
    "nearest": [4.0] * 5,
}
NUMPY_PAD_MODES = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge"}


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def images(n=6, size=8, seed=0):
    return torch.rand((n, size, size, 3), generator=torch.Generator().manual_seed(seed)) * 255


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=IDS)
def test_inference_returns_the_input(cls, kwargs):
    x = images()
    assert cls(**kwargs)(x, training=False) is x
    model = lamina.Sequential([lamina.Input(x.shape[1:]), cls(**kwargs)])
    assert torch.equal(torch.as_tensor(model.predict(x, verbose=0)), x)


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=IDS)
def test_a_direct_call_augments_as_keras(cls, kwargs):
    # Keras' image preprocessing layers default to training=True when called directly, also
    # inside a model called directly; fit trains with them and predict infers.
    x = images()
    layer = cls(**kwargs)
    assert not torch.equal(layer(x), x)
    model = lamina.Sequential([lamina.Input(x.shape[1:]), layer])
    assert not torch.equal(model(x), x)


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=IDS)
def test_training_draws_differ_per_sample(cls, kwargs):
    one = images(1).expand(16, -1, -1, -1)
    x = torch.cat([one[:8], images(8, seed=1)]) if cls in (MixUp, CutMix) else one
    y = cls(seed=3, **kwargs)(x, training=True)[:8]
    assert y.shape == (8, 8, 8, 3)
    assert len({tuple(sample.flatten().tolist()) for sample in y}) > 1


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=IDS)
def test_seeded_layers_reproduce_and_unseeded_follow_set_random_seed(cls, kwargs):
    x = images()
    first = cls(seed=7, **kwargs)(x, training=True)
    assert torch.equal(first, cls(seed=7, **kwargs)(x, training=True))
    lamina.config.set_random_seed(5)
    unseeded = cls(**kwargs)(x, training=True)
    lamina.config.set_random_seed(5)
    assert torch.equal(unseeded, cls(**kwargs)(x, training=True))


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=IDS)
def test_one_unbatched_image_is_accepted(cls, kwargs):
    assert cls(**kwargs)(images(1)[0], training=True).shape == (8, 8, 3)


def test_flips_are_exact_and_each_axis_flips_half_of_the_samples():
    x = images(1).expand(4000, -1, -1, -1)
    y = RandomFlip(seed=0)(x, training=True)
    orientations = [x[0], x[0].flip(1), x[0].flip(0), x[0].flip(0).flip(1)]
    match = torch.stack([(y == o).flatten(1).all(1) for o in orientations], dim=1)
    assert bool((match.sum(1) == 1).all())
    horizontal = (match[:, 1] | match[:, 3]).float().mean().item()
    vertical = (match[:, 2] | match[:, 3]).float().mean().item()
    assert horizontal == pytest.approx(0.5, abs=0.04) and vertical == pytest.approx(0.5, abs=0.04)


def test_horizontal_flip_matches_torch_flip_per_sample_in_both_layouts():
    x = images(32)
    y = RandomFlip("horizontal", seed=1)(x, training=True)
    flipped = (y == x.flip(2)).flatten(1).all(1)
    assert bool((flipped | (y == x).flatten(1).all(1)).all()) and 0 < int(flipped.sum()) < 32
    first = RandomFlip("horizontal", seed=1, data_format="channels_first")
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2), training=True).permute(0, 2, 3, 1), y)


def numpy_shift(image, dy, dx, fill_mode, fill_value=0.0):
    """image (H, W) moved down by dy and right by dx, filled as the fill mode says."""
    h, w = image.shape
    p = 2 * max(h, w)
    if fill_mode == "constant":
        padded = np.pad(image, p, constant_values=fill_value)
    else:
        padded = np.pad(image, p, mode=NUMPY_PAD_MODES[fill_mode])
    return padded[p - dy : p - dy + h, p - dx : p - dx + w]


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("fill_mode", ["constant", "reflect", "wrap", "nearest"])
def test_crop_windows_shifts_by_whole_pixels_with_keras_fill_modes(fill_mode, channels_last):
    x = torch.arange(70.0).reshape(1, 2, 5, 7).expand(4, 2, 5, 7).contiguous()
    if channels_last:  # the layers' permuted (N, H, W, C) input
        x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    dy, dx = torch.tensor([3, -2, 0, -6]), torch.tensor([1, 9, -3, 0])
    # Padded by more than the image's size, so reflect and wrap repeat it.
    y = crop_windows(x, 9 - dy, 9 - dx, 5, 7, 9, 9, fill_mode, -1.0)
    for i in range(4):
        for c in range(2):
            expected = numpy_shift(x[i, c].numpy(), int(dy[i]), int(dx[i]), fill_mode, -1.0)
            np.testing.assert_array_equal(y[i, c].numpy(), expected)


# The layers' whole-pixel geometry as it was before crop_windows and flip_images (one advanced
# index per output pixel, a mask for 'constant', torch.where over flipped copies), kept as the
# reference the fast versions must match bit for bit for the same seed.
def reference_gather_windows(images, rows, cols, fill_mode="constant", fill_value=0.0):
    height, width = images.shape[-2:]
    batch = torch.arange(images.shape[0], device=images.device)[:, None, None]
    fixed_rows = fix_indices(rows, height, fill_mode)
    fixed_cols = fix_indices(cols, width, fill_mode)
    out = images.permute(0, 2, 3, 1)[batch, fixed_rows[:, :, None], fixed_cols[:, None, :]]
    if fill_mode == "constant":
        inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[
            :, None, :
        ]
        out = torch.where(inside[..., None], out, torch.full_like(out, fill_value))
    return out.permute(0, 3, 1, 2)


class ReferenceShift(RandomShift):
    def augment(self, images, generator):
        n, _, height, width = images.shape
        m = self.max_shift
        shifts = torch.randint(-m, m + 1, (2, n, 1), generator=generator, device=images.device)
        rows = torch.arange(height, device=images.device) - shifts[0]
        cols = torch.arange(width, device=images.device) - shifts[1]
        return reference_gather_windows(images, rows, cols, self.fill_mode, self.fill_value)


class ReferenceCrop(RandomCrop):
    def augment(self, images, generator):
        images = images.to(self._compute_dtype)  # RandomCrop receives integer images uncast
        n, _, height, width = images.shape
        pad_h, pad_w = self._pads
        room_h = height + 2 * pad_h - self.height
        room_w = width + 2 * pad_w - self.width
        if room_h < 0 or room_w < 0:
            return self.inference(images)
        device = images.device
        top = torch.randint(0, room_h + 1, (n, 1), generator=generator, device=device)
        left = torch.randint(0, room_w + 1, (n, 1), generator=generator, device=device)
        rows = top + torch.arange(self.height, device=device) - pad_h
        cols = left + torch.arange(self.width, device=device) - pad_w
        return reference_gather_windows(images, rows, cols, "constant", 0.0)


class ReferenceFlip(RandomFlip):
    def augment(self, images, generator):
        n = images.shape[0]
        axes = {"horizontal": [-1], "vertical": [-2]}.get(self.mode, [-1, -2])
        draws = torch.rand((len(axes), n, 1, 1, 1), generator=generator, device=images.device)
        for draw, axis in zip(draws, axes, strict=True):
            images = torch.where(draw < 0.5, images.flip(axis), images)
        return images


def special_images(shape, dtype=torch.float32, seed=0):
    """Random values with NaNs, infinities and negative zeros among them."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    flat = x.view(-1)
    flat[::7], flat[3::11], flat[5::13], flat[6::17] = float("nan"), -0.0, float("inf"), -1e-40
    return x.to(dtype)


def assert_bit_identical(actual, expected):
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    bits = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16}
    assert torch.equal(
        actual.contiguous().view(bits[actual.dtype]), expected.contiguous().view(bits[actual.dtype])
    )


GEOMETRY_SHAPES = [(6, 9, 7, 3), (5, 4, 6, 1), (1, 1, 1, 2), (3, 2, 5, 4)]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("fill_mode", ["constant", "reflect", "wrap", "nearest"])
def test_random_shift_matches_the_reference_bit_for_bit(fill_mode, dtype, data_format):
    for shape in GEOMETRY_SHAPES:
        x = special_images(shape, dtype)
        if data_format == "channels_first":
            x = x.permute(0, 3, 1, 2).contiguous()
        for max_shift, fill_value in ((0, 0.0), (1, -0.0), (2, 3.5), (11, float("nan"))):
            kwargs = dict(
                max_shift=max_shift,
                fill_mode=fill_mode,
                fill_value=fill_value,
                data_format=data_format,
            )
            for seed in (0, 1):
                expected = ReferenceShift(seed=seed, **kwargs)(x, training=True)
                actual = RandomShift(seed=seed, **kwargs)(x, training=True)
                assert_bit_identical(actual, expected)
        assert_bit_identical(  # a batch that is a slice of a bigger one: not contiguous
            RandomShift(2, fill_mode, seed=2, data_format=data_format)(x[:, ::2], training=True),
            ReferenceShift(2, fill_mode, seed=2, data_format=data_format)(x[:, ::2], training=True),
        )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_crop_matches_the_reference_bit_for_bit(data_format):
    for shape in GEOMETRY_SHAPES:
        x = special_images(shape)
        if data_format == "channels_first":
            x = x.permute(0, 3, 1, 2).contiguous()
        height, width = shape[1:3]
        for size, padding in (
            ((height, width), 0),
            ((1, 1), 0),
            ((height, width), 3),
            ((height + 2, 2), (1, 2)),
            ((2, width + 1), (0, 1)),
        ):
            for seed in (0, 1):
                kwargs = dict(padding=padding, seed=seed, data_format=data_format)
                expected = ReferenceCrop(*size, **kwargs)(x, training=True)
                assert_bit_identical(RandomCrop(*size, **kwargs)(x, training=True), expected)
    x = special_images((4, 6, 6, 3))
    assert_bit_identical(  # the unbatched and the uint8 paths
        RandomCrop(4, 5, seed=3, padding=1)(x[0], training=True),
        ReferenceCrop(4, 5, seed=3, padding=1)(x[0], training=True),
    )
    u = torch.randint(0, 256, (4, 6, 6, 3), dtype=torch.uint8)
    assert_bit_identical(
        RandomCrop(5, 5, seed=3, padding=2)(u, training=True),
        ReferenceCrop(5, 5, seed=3, padding=2)(u, training=True),
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_matches_the_reference_bit_for_bit(mode, data_format):
    for shape in [*GEOMETRY_SHAPES, (64, 4, 3, 2)]:
        for dtype in (torch.float32, torch.float16):
            x = special_images(shape, dtype)
            if data_format == "channels_first":
                x = x.permute(0, 3, 1, 2).contiguous()
            for seed in (0, 1, 2):
                kwargs = dict(mode=mode, seed=seed, data_format=data_format)
                expected = ReferenceFlip(**kwargs)(x, training=True)
                assert_bit_identical(RandomFlip(**kwargs)(x, training=True), expected)
            sliced = x[:, :, ::2] if data_format == "channels_last" else x[:, ::2]
            assert_bit_identical(
                RandomFlip(mode, seed=4, data_format=data_format)(sliced, training=True),
                ReferenceFlip(mode, seed=4, data_format=data_format)(sliced, training=True),
            )
    empty = torch.zeros(0, 4, 4, 3)
    assert RandomFlip(mode, seed=0)(empty, training=True).shape == (0, 4, 4, 3)
    assert RandomShift(2, seed=0)(empty, training=True).shape == (0, 4, 4, 3)


def test_random_shift_moves_content_by_exactly_the_drawn_pixels_uniformly():
    n, size = 2000, 9
    x = (torch.arange(size * size, dtype=torch.float32) + 1).reshape(1, size, size, 1)
    y = RandomShift(max_shift=2, seed=0)(x.expand(n, -1, -1, -1), training=True)[..., 0]
    # The centre pixel's value says where it came from: value - 1 = row * size + col.
    source = y[:, 4, 4].long() - 1
    dy, dx = 4 - source // size, 4 - source % size
    for i in range(0, n, 97):
        expected = numpy_shift(x[0, :, :, 0].numpy(), int(dy[i]), int(dx[i]), "constant")
        np.testing.assert_array_equal(y[i].numpy(), expected)
    for offsets in (dy, dx):
        counts = torch.bincount(offsets + 2, minlength=5)
        assert counts.numel() == 5 and bool((counts - n / 5).abs().max() < 0.2 * n / 5)


@pytest.mark.parametrize(("fill_mode", "interpolation"), sorted(KERAS_SHIFTED_ROW))
def test_affine_transform_matches_keras_fill_modes(fill_mode, interpolation):
    row = torch.arange(5.0).reshape(1, 1, 1, 5)
    matrix = torch.tensor([[[1.0, 0.0, -1.5], [0.0, 1.0, 0.0]]])
    y = affine_transform(row, matrix, interpolation, fill_mode, 9.0)
    np.testing.assert_allclose(
        y.flatten().numpy(), KERAS_SHIFTED_ROW[fill_mode, interpolation], atol=1e-6
    )


@pytest.mark.parametrize("fill_mode", sorted(KERAS_FAR_ROW))
def test_affine_transform_matches_keras_far_outside_the_image(fill_mode):
    row = torch.arange(5.0).reshape(1, 1, 1, 5)
    matrix = torch.tensor([[[1.0, 0.0, 6.25], [0.0, 1.0, 0.0]]])
    y = affine_transform(row, matrix, "bilinear", fill_mode, 9.0)
    np.testing.assert_allclose(y.flatten().numpy(), KERAS_FAR_ROW[fill_mode], atol=1e-6)


def test_random_translation_by_a_whole_pixel_count_is_exact():
    x = images(3)
    y = RandomTranslation((0.25, 0.25), (-0.125, -0.125), fill_mode="wrap")(x, training=True)
    torch.testing.assert_close(y, x.roll(shifts=(2, -1), dims=(1, 2)))


def test_rotation_angles_stay_within_factor_turns():
    layer = RandomRotation((-0.1, 0.25), seed=0)
    angles = layer.angles(torch.zeros(5000, 3, 4, 4), layer._generator(torch.device("cpu")))
    assert angles.min().item() >= -0.1 * 2 * math.pi and angles.max().item() <= 0.5 * math.pi
    assert angles.min().item() < -0.09 * 2 * math.pi and angles.max().item() > 0.24 * 2 * math.pi


def test_a_quarter_turn_rotates_counter_clockwise_like_rot90():
    x = images(2)
    y = RandomRotation((0.25, 0.25))(x, training=True)
    torch.testing.assert_close(y, torch.rot90(x, k=1, dims=(1, 2)), atol=1e-3, rtol=0)


def test_zoom_draws_one_factor_for_both_axes_unless_width_factor_is_given():
    x = torch.zeros(500, 3, 6, 6)
    same = RandomZoom((-0.3, 0.2), seed=0).matrices(x, None)
    assert torch.equal(same[:, 0, 0], same[:, 1, 1])
    assert same[:, 0, 0].min() >= 0.7 and same[:, 0, 0].max() <= 1.2
    apart = RandomZoom(0.2, width_factor=0.1).matrices(x, None)
    assert not torch.equal(apart[:, 0, 0], apart[:, 1, 1]) and apart[:, 0, 0].max() <= 1.1


def test_zoom_in_by_two_keeps_the_centre():
    x = torch.arange(25.0).reshape(1, 5, 5, 1)
    y = RandomZoom((-0.5, -0.5), interpolation="nearest")(x, training=True)
    assert y[0, 2, 2, 0].item() == 12.0 and y[0, 0, 0, 0].item() == 6.0


def test_random_crop_takes_one_window_of_the_padded_image_per_sample():
    n = 400
    x = (torch.arange(64.0) + 1).reshape(1, 8, 8, 1).expand(n, -1, -1, -1)
    y = RandomCrop(8, 8, padding=2, seed=0)(x, training=True)[..., 0]
    padded = np.pad(x[0, :, :, 0].numpy(), 2)
    tops, lefts = [], []
    for sample in y.numpy():
        nonzero = np.argwhere(sample > 0)[0]
        value = sample[tuple(nonzero)] - 1
        top, left = int(value // 8) + 2 - nonzero[0], int(value % 8) + 2 - nonzero[1]
        np.testing.assert_array_equal(sample, padded[top : top + 8, left : left + 8])
        tops.append(top)
        lefts.append(left)
    assert set(tops) == set(range(5)) and set(lefts) == set(range(5))


def test_random_crop_in_inference_crops_the_centre_to_the_aspect_ratio_and_resizes():
    x = images(2, size=10)
    y = RandomCrop(4, 8)(x, training=False)
    expected = lamina.layers.Resizing(4, 8, crop_to_aspect_ratio=True)(x)
    torch.testing.assert_close(y, expected)
    assert RandomCrop(12, 12)(x, training=True).shape == (2, 12, 12, 3)


def test_brightness_deltas_stay_within_factor_times_the_range():
    x = torch.full((3000, 2, 2, 1), 100.0)
    y = RandomBrightness(0.2, value_range=(0, 255), seed=0)(x, training=True)
    delta = (y - 100)[:, 0, 0, 0]
    assert bool((y == y[:, :1, :1, :1]).all())  # one delta per image
    assert delta.abs().max() <= 0.2 * 255 and delta.min() < -0.19 * 255 and delta.max() > 50
    assert (
        RandomBrightness(1.0, value_range=(0, 1))(torch.rand(8, 2, 2, 1), training=True).max() <= 1
    )


def test_contrast_number_draws_from_one_to_one_plus_factor_as_keras():
    # Keras 3.15.1: RandomContrast(0.2) holds factor (0, 0.2) and draws c from [1, 1.2]
    # (2000 draws: min 1.000, max 1.200, mean 1.100); (0.1, 0.3) draws from [0.9, 1.3].
    x = torch.tensor([100.0, 120.0]).reshape(1, 1, 2, 1).expand(3000, -1, -1, -1)
    for factor, low, high in [(0.2, 1.0, 1.2), ((0.1, 0.3), 0.9, 1.3), ((0.5, 0.5), 0.5, 1.5)]:
        y = RandomContrast(factor, seed=0)(x, training=True)
        contrast = (y[:, 0, 1, 0] - y[:, 0, 0, 0]) / 20
        assert contrast.min() >= low - 1e-5 and contrast.max() <= high + 1e-5
        assert contrast.min() < low + 0.02 and contrast.max() > high - 0.02
    config = RandomContrast(0.2).get_config()
    assert config["factor"] == (0, 0.2) and type(config["factor"][0]) is int
    with pytest.raises(ValueError, match="factor"):
        RandomContrast(-0.2)  # Keras refuses a negative number where the bounds are (0, 1)


def test_random_erasing_rate_and_box_sizes():
    x = torch.ones(4000, 10, 10, 1)
    y = RandomErasing(factor=0.6, scale=(0.1, 0.4), fill_value=0.0, seed=0)(x, training=True)
    erased = (y == 0).flatten(1).float().mean(1)
    assert (erased > 0).float().mean().item() == pytest.approx(0.3, abs=0.04)
    assert erased.max().item() <= 0.4 + 0.2 and erased[erased > 0].min().item() >= 0.01
    per_channel = RandomErasing((1.0, 1.0), fill_value=[1.0, 2.0, 3.0])(images(), training=True)
    assert {v for v in per_channel[..., 1].flatten().tolist() if v == 2.0} == {2.0}


def test_beta_draws_have_the_beta_mean_and_variance():
    generator = torch.Generator().manual_seed(0)
    for alpha in (0.2, 2.0):
        draws = sample_beta(alpha, 20000, generator, torch.device("cpu"))
        assert draws.min() >= 0 and draws.max() <= 1
        assert draws.mean().item() == pytest.approx(0.5, abs=0.01)
        assert draws.var().item() == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.05)


def test_mixup_mixes_labels_with_the_images_weights():
    x, y = images(8), torch.eye(8)
    out = MixUp(alpha=1.0, seed=0)({"images": x, "labels": y}, training=True)
    # Labels are one-hot, so each mixed label says how much of every image went in.
    expected = torch.einsum("ik,khwc->ihwc", out["labels"], x)
    torch.testing.assert_close(out["images"], expected, rtol=1e-5, atol=1e-3)
    assert not torch.equal(out["labels"], y)


def test_cutmix_label_weights_are_the_pasted_pixel_fractions():
    x = torch.arange(8.0).reshape(8, 1, 1, 1).expand(8, 8, 8, 3)
    images_out, labels = CutMix(seed=1)((x, torch.eye(8)), training=True)
    torch.testing.assert_close(images_out.mean(dim=(1, 2, 3)), labels @ torch.arange(8.0))
    assert not torch.equal(labels, torch.eye(8))


def test_mixing_layers_reject_integer_labels():
    with pytest.raises(TypeError, match=r"MixUp 'mix_up' mixes labels, so they must be one-hot"):
        MixUp()((images(), torch.arange(6)), training=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RandomRotation(1.5), r"RandomRotation 'random_rotation': factor must be"),
        (lambda: RandomTranslation(0.1, 0.1, fill_mode="mirror"), "fill_mode must be one of"),
        (
            lambda: RandomZoom(-1.0),
            r"height_factor must be a number or a pair of numbers in \(-1, 1\]",
        ),
        (lambda: RandomFlip("diagonal"), "mode must be one of"),
        (lambda: RandomShift(max_shift=-1), "max_shift must be a non-negative int"),
        (lambda: RandomCrop(4, 4, padding=-1), "padding must be a non-negative int"),
        (lambda: RandomBrightness(0.1, value_range=255), "value_range must be a pair"),
        (lambda: MixUp(alpha=0), "alpha must be > 0"),
    ],
)
def test_bad_arguments_raise_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_rank_raises_an_error_naming_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"RandomCrop 'random_crop' expects 4-D .* \(2, 8\)"):
        RandomCrop(4, 4)(torch.zeros(2, 8))


def test_integer_images_come_out_as_floats():
    x = torch.randint(0, 256, (2, 8, 8, 3), dtype=torch.uint8)
    assert RandomFlip()(x, training=True).dtype == torch.float32
    assert RandomFlip()(x).dtype == torch.float32


# get_config() values (and types) printed by Keras 3.15.1 (torch backend).
KERAS_FACTOR_CONFIGS = [
    (lambda: lamina.layers.RandomBrightness(1), "factor", (-1, 1)),
    (lambda: lamina.layers.RandomBrightness((-1.5, 0.5)), "factor", (-1.5, 0.5)),
    (lambda: lamina.layers.RandomBrightness(0.2, value_range=(0, 1)), "value_range", [0, 1]),
    (lambda: lamina.layers.RandomContrast([0.3, 0.1], value_range=[0, 1]), "factor", (0.1, 0.3)),
    (lambda: lamina.layers.RandomSaturation(0.2), "factor", (-0.2, 0.2)),
    (lambda: lamina.layers.RandomSaturation(-0.5), "factor", (-0.5, 0.5)),
    (lambda: lamina.layers.RandomSaturation(0.2, value_range=(1, 0)), "value_range", [0, 1]),
    (lambda: lamina.layers.RandomColorDegeneration(0.2), "factor", (-0.2, 0.2)),
    (lambda: lamina.layers.RandomHue(0.2), "factor", (0, 0.2)),
    (lambda: lamina.layers.RandomHue(0.2), "value_range", (0, 255)),
    (lambda: lamina.layers.RandomSharpness(0.2), "factor", (0, 0.2)),
    (lambda: lamina.layers.RandomRotation(1), "factor", (-1, 1)),
    (lambda: lamina.layers.RandomRotation(0), "factor", (-0.0, 0.0)),
    (lambda: lamina.layers.RandomInvert(0.5), "factor", (0, 0.5)),
    (lambda: lamina.layers.RandomErasing(0.5, scale=0.3), "scale", (0, 0.3)),
    (lambda: lamina.layers.RandomGaussianBlur(sigma=(0.5, 2)), "sigma", (0.5, 2)),
    (lambda: lamina.layers.RandomGaussianBlur(value_range=(0, 1)), "value_range", (0, 1)),
    (lambda: lamina.layers.RandomPerspective(0.5), "factor", (0, 0.5)),
    (lambda: lamina.layers.RandomElasticTransform(), "scale", (0, 1.0)),
    (lambda: lamina.layers.AutoContrast(value_range=(0, 1)), "value_range", [0, 1]),
    (lambda: lamina.layers.Equalization(value_range=(0, 1)), "value_range", [0, 1]),
    (lambda: lamina.layers.CutMix(), "factor", (0, 1.0)),
    (lambda: lamina.layers.RandAugment(factor=1), "factor", (0, 1)),
    (lambda: lamina.layers.RandomZoom(1), "height_factor", 1),
]


@pytest.mark.parametrize(("make", "key", "expected"), KERAS_FACTOR_CONFIGS)
def test_factor_configs_hold_keras_values_and_types(make, key, expected):
    value = make().get_config()[key]
    assert value == expected and type(value) is type(expected)
    if isinstance(expected, (tuple, list)):
        assert [type(v) for v in value] == [type(v) for v in expected]
        assert [math.copysign(1, v) for v in value] == [math.copysign(1, v) for v in expected]


@pytest.mark.parametrize(
    "make",
    [
        lambda: lamina.layers.RandomContrast(-0.2),
        lambda: lamina.layers.RandomHue(-0.1),
        lambda: lamina.layers.RandomGaussianBlur(sigma=2),
        lambda: lamina.layers.RandomTranslation((-1.5, 0.2), 0.1),
        lambda: lamina.layers.Solarization((0.2, 1.2)),
    ],
)
def test_factors_keras_refuses_raise(make):
    with pytest.raises(ValueError, match="must be a number or a pair of numbers in"):
        make()


def test_color_factors_given_as_numbers_are_signed_as_keras():
    # Keras 3.15.1, 2000 draws on one colour pixel (200, 100, 50): RandomColorDegeneration(0.2)
    # blends towards gray by -0.200 .. 0.200 (mean 0.001); RandomSaturation(0.2) scales the
    # saturation by 0 .. 0.250 (mean 0.058: the negative half is clipped to gray).
    x = torch.tensor([200.0, 100.0, 50.0]).expand(2000, 1, 1, 3)
    gray = 0.2989 * 200 + 0.587 * 100 + 0.114 * 50
    blend = (lamina.layers.RandomColorDegeneration(0.2, seed=0)(x)[:, 0, 0, 0] - 200) / (gray - 200)
    assert -0.2 <= blend.min() < -0.19 and 0.19 < blend.max() <= 0.2 and abs(blend.mean()) < 0.01
    y = lamina.layers.RandomSaturation(0.2, seed=0)(x)[:, 0, 0]
    scale = (y.amax(1) - y.amin(1)) / y.amax(1) / 0.75
    assert float((scale == 0).float().mean()) == pytest.approx(0.5, abs=0.05)
    assert float(scale.max()) == pytest.approx(0.25, abs=0.005)
    assert float(scale.mean()) == pytest.approx(0.058, abs=0.006)


def test_integer_images_in_inference_keep_their_dtype_where_keras_does():
    # Keras 3.15.1, training=False on uint8 images: the colour layers return them as they are,
    # the geometric and filter layers (and CutMix) cast them to float32.
    x = torch.arange(48, dtype=torch.uint8).reshape(1, 4, 4, 3)
    keeps = [
        lamina.layers.RandomBrightness(0.1),
        lamina.layers.RandomContrast(0.1),
        lamina.layers.RandomSaturation(0.1),
        lamina.layers.RandomHue(0.1),
        lamina.layers.RandomColorDegeneration(0.1),
        lamina.layers.RandomColorJitter(brightness_factor=0.1),
        lamina.layers.RandomPosterization(4),
        lamina.layers.RandomGrayscale(),
        lamina.layers.RandomInvert(),
        lamina.layers.Equalization(),
        lamina.layers.MixUp(),
    ]
    casts = [
        lamina.layers.RandomSharpness(0.1),
        lamina.layers.RandomRotation(0.1),
        lamina.layers.RandomErasing(),
        lamina.layers.Solarization(),
        lamina.layers.CutMix(),
        lamina.layers.RandAugment(),
    ]
    for layer in keeps:
        assert layer(x, training=False) is x, layer.name
    for layer in casts:
        out = layer(x, training=False)
        assert out.dtype == torch.float32 and torch.equal(out, x.float()), layer.name


# Keras 3.15.1, RandomBrightness(factor, value_range)(x, training=True) on the pixels
# [0, 10, 100, 200, 250, 255] as a (1, 1, 2, 3) image: the truncated delta is added in the
# integer dtype (uint8 wraps around), then clipped; a float bound gives float32.
BRIGHT_PIXELS = [0, 10, 100, 200, 250, 255]
KERAS_INT_BRIGHTNESS = [
    ("uint8", (0.1, 0.1), (0, 255), "uint8", [25, 35, 125, 225, 19, 24]),
    ("uint8", (0.1, 0.1), (0.0, 255.0), "float32", [25, 35, 125, 225, 19, 24]),
    ("uint8", (0.1, 0.1), (20, 200), "uint8", [20, 28, 118, 200, 20, 20]),
    ("uint8", (-0.1, -0.1), (0, 255), "uint8", [231, 241, 75, 175, 225, 230]),
    ("uint8", (-0.1, -0.1), (20, 200), "uint8", [200, 200, 82, 182, 200, 200]),
    ("int32", (0.1, 0.1), (0, 255), "int32", [25, 35, 125, 225, 255, 255]),
    ("int32", (-0.1, -0.1), (0, 255), "int32", [0, 0, 75, 175, 225, 230]),
    ("int32", (-0.1, -0.1), (0.0, 255.0), "float32", [0, 0, 75, 175, 225, 230]),
]


@pytest.mark.parametrize(
    ("dtype", "factor", "value_range", "out_dtype", "expected"), KERAS_INT_BRIGHTNESS
)
def test_brightness_on_integer_images_matches_keras(
    dtype, factor, value_range, out_dtype, expected
):
    x = torch.tensor(BRIGHT_PIXELS, dtype=getattr(torch, dtype)).reshape(1, 1, 2, 3)
    y = RandomBrightness(factor, value_range=value_range)(x, training=True)
    assert y.dtype == getattr(torch, out_dtype)
    assert y.flatten().tolist() == expected
    one = RandomBrightness(factor, value_range=value_range)(x[0], training=True)
    assert one.shape == (1, 2, 3) and one.flatten().tolist() == expected


def test_random_crop_keeps_integer_images_in_inference_and_casts_in_training():
    # Keras 3.15.1: RandomCrop returns uint8/int32 images as uint8/int32 in inference (it does
    # not cast them) and float32 in training.
    x = torch.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3).to(torch.uint8)
    same = RandomCrop(8, 8)(x, training=False)
    assert same.dtype == torch.uint8 and torch.equal(same, x)
    assert RandomCrop(6, 6)(x.to(torch.int32), training=False).dtype == torch.int32
    trained = RandomCrop(6, 6, seed=0)(x, training=True)
    assert trained.dtype == torch.float32 and trained.shape == (2, 6, 6, 3)
