"""load_img / img_to_array / array_to_img / save_img against Keras 3.15.1.

Every reference constant below was printed by Keras 3.15.1 (torch backend, Pillow 13.0.0)
on the same inputs: the 5x7 RGBA PNG written by `rgba_png` and the small arrays in each test.
"""

import io
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from lamina import config
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img


@pytest.fixture
def rgba_png(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(5, 7, 4), dtype=np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(pixels, "RGBA").save(path)
    return path


def _ints(image):
    return img_to_array(image).astype(int).ravel().tolist()


@pytest.mark.parametrize(
    ("color_mode", "mode", "channels", "total", "first"),
    [
        ("grayscale", "L", 1, 4665.0, [127.0, 202.0, 161.0, 187.0, 215.0, 101.0]),
        ("rgb", "RGB", 3, 14210.0, [95.0, 130.0, 194.0, 207.0, 235.0, 15.0]),
        ("rgba", "RGBA", 4, 18756.0, [95.0, 130.0, 194.0, 217.0, 207.0, 235.0]),
    ],
)
def test_load_img_color_modes_match_keras(rgba_png, color_mode, mode, channels, total, first):
    image = load_img(rgba_png, color_mode=color_mode)
    array = img_to_array(image)
    assert (image.mode, image.size, array.shape, array.dtype) == (
        mode,
        (7, 5),
        (5, 7, channels),
        np.float32,
    )
    assert array.sum() == total
    assert array.ravel()[:6].tolist() == first


KERAS_RESIZED = {  # load_img(path, target_size=(3, 4), interpolation=name), Keras 3.15.1
    "nearest": [95, 130, 194, 33, 215, 217, 184, 232, 205, 29, 240, 66, 69, 154, 130, 191, 127,
                220, 237, 191, 86, 76, 55, 0, 121, 211, 207, 166, 39, 185, 14, 127, 219, 46, 121,
                168],
    "bilinear": [134, 128, 122, 114, 158, 106, 161, 145, 144, 106, 155, 120, 103, 117, 163, 158,
                 100, 155, 168, 148, 116, 75, 127, 99, 94, 182, 204, 129, 132, 201, 96, 168, 209,
                 64, 94, 196],
    "bicubic": [135, 126, 123, 111, 160, 98, 166, 139, 144, 104, 159, 120, 98, 114, 166, 166, 90,
                154, 177, 150, 110, 68, 128, 98, 90, 186, 206, 135, 132, 205, 98, 178, 213, 59,
                85, 197],
    "hamming": [137, 130, 122, 102, 168, 120, 165, 159, 153, 100, 158, 111, 93, 119, 159, 171,
                101, 163, 194, 151, 100, 63, 123, 76, 91, 189, 206, 134, 113, 198, 90, 167, 203,
                62, 91, 196],
    "box": [136, 122, 123, 120, 139, 87, 153, 161, 188, 110, 151, 127, 82, 114, 161, 211, 64, 132,
            237, 191, 86, 42, 144, 48, 96, 184, 205, 146, 151, 211, 103, 172, 173, 63, 91, 201],
    "lanczos": [132, 126, 126, 107, 162, 89, 167, 129, 146, 103, 162, 125, 96, 113, 170, 170, 79,
                152, 179, 155, 107, 66, 132, 102, 87, 187, 205, 140, 136, 207, 102, 187, 217, 54,
                79, 195],
}  # fmt: skip


@pytest.mark.parametrize("interpolation", sorted(KERAS_RESIZED))
def test_load_img_interpolations_match_keras(rgba_png, interpolation):
    image = load_img(rgba_png, target_size=(3, 4), interpolation=interpolation)
    assert image.size == (4, 3)
    assert _ints(image) == KERAS_RESIZED[interpolation]


KERAS_CROPPED = {  # load_img(path, target_size=size, interpolation="bilinear", keep_aspect_ratio)
    (3, 4): [137, 120, 124, 106, 167, 119, 158, 143, 100, 143, 140, 167, 99, 121, 158, 143, 106,
             172, 195, 106, 107, 99, 177, 131, 93, 190, 206, 120, 120, 194, 126, 184, 213, 64, 123,
             212],
    (4, 2): [55, 192, 175, 206, 149, 28, 150, 124, 121, 142, 17, 55, 140, 123, 196, 236, 143, 152,
             151, 59, 184, 115, 208, 243],
    (5, 5): [207, 235, 15, 33, 215, 217, 248, 189, 16, 184, 232, 205, 169, 61, 125, 59, 81, 222,
             120, 122, 50, 78, 28, 64, 121, 89, 170, 127, 178, 237, 95, 73, 192, 191, 127, 220,
             231, 1, 43, 237, 191, 86, 7, 232, 96, 176, 144, 190, 104, 120, 179, 240, 245, 230,
             191, 216, 126, 31, 149, 231, 7, 179, 202, 166, 39, 185, 73, 196, 247, 14, 127, 219,
             58, 75, 249],
}  # fmt: skip


@pytest.mark.parametrize("size", sorted(KERAS_CROPPED))
def test_load_img_keep_aspect_ratio_crops_the_centre_as_keras(rgba_png, size):
    image = load_img(rgba_png, target_size=size, interpolation="bilinear", keep_aspect_ratio=True)
    assert image.size == (size[1], size[0])
    assert _ints(image) == KERAS_CROPPED[size]


def test_load_img_reads_bytesio_str_and_bytes_paths(rgba_png):
    expected = _ints(load_img(rgba_png))
    assert _ints(load_img(io.BytesIO(rgba_png.read_bytes()))) == expected
    assert _ints(load_img(str(rgba_png))) == expected
    assert _ints(load_img(str(rgba_png).encode())) == expected


def test_load_img_errors(rgba_png):
    with pytest.raises(ValueError, match="interpolation 'area'.*nearest, bilinear"):
        load_img(rgba_png, target_size=(3, 4), interpolation="area")
    with pytest.raises(ValueError, match="color_mode must be 'grayscale', 'rgb' or 'rgba'"):
        load_img(rgba_png, color_mode="hsv")
    with pytest.raises(TypeError, match="path must be a file path or an io.BytesIO; got int"):
        load_img(123)


def test_load_img_keeps_16_bit_grayscale(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)).save(path)
    image = load_img(path, color_mode="grayscale")
    assert image.mode in ("I;16", "I")
    assert img_to_array(image)[:, :, 0].tolist() == [[0.0, 1000.0], [40000.0, 65535.0]]


def test_img_to_array_layouts_and_dtype(rgba_png):
    image = load_img(rgba_png)
    assert img_to_array(image, data_format="channels_first").shape == (3, 5, 7)
    assert img_to_array(image, dtype="uint8").dtype == np.uint8
    gray = load_img(rgba_png, color_mode="grayscale")
    assert img_to_array(gray, data_format="channels_first").shape == (1, 5, 7)
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2, 2\)"):
        img_to_array(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="data_format must be"):
        img_to_array(image, data_format="nhwc")


def test_img_to_array_follows_image_data_format(rgba_png):
    config.set_image_data_format("channels_first")
    try:
        assert img_to_array(load_img(rgba_png)).shape == (3, 5, 7)
    finally:
        config.set_image_data_format("channels_last")


RAMP = np.linspace(-1.0, 2.0, 18).reshape(2, 3, 3)
# Keras 3.15.1: array_to_img(RAMP) and array_to_img(RAMP, scale=False / RAMP * 100, scale=False)
KERAS_SCALED = [0, 14, 29, 45, 59, 75, 90, 105, 120, 135, 150, 164, 180, 195, 210, 225, 239, 255]
KERAS_UNSCALED = [255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2]
KERAS_UNSCALED_100 = [156, 174, 192, 209, 227, 245, 5, 23, 41, 58, 76, 94, 111, 129, 147, 164,
                      182, 200]  # fmt: skip


def test_array_to_img_scaling_matches_keras():
    image = array_to_img(RAMP)
    assert (image.mode, image.size) == ("RGB", (3, 2))
    assert np.asarray(image).ravel().tolist() == KERAS_SCALED
    assert np.asarray(array_to_img(RAMP, scale=False)).ravel().tolist() == KERAS_UNSCALED
    unscaled = array_to_img(RAMP * 100, scale=False)
    assert np.asarray(unscaled).ravel().tolist() == KERAS_UNSCALED_100
    ramp = np.linspace(0, 1.5, 12).reshape(2, 2, 3)
    assert np.asarray(array_to_img(ramp, dtype="float64")).ravel().tolist() == [
        0, 23, 46, 69, 92, 115, 139, 162, 185, 208, 231, 255
    ]  # fmt: skip


def test_array_to_img_channels_first_and_torch_tensors():
    channels_first = array_to_img(np.transpose(RAMP, (2, 0, 1)), data_format="channels_first")
    assert channels_first.size == (3, 2)
    assert np.asarray(channels_first).ravel().tolist() == KERAS_SCALED
    tensor = torch.tensor(RAMP, requires_grad=True)
    assert np.asarray(array_to_img(tensor)).ravel().tolist() == KERAS_SCALED
    assert np.asarray(array_to_img(tensor.to(torch.bfloat16))).shape == (2, 3, 3)


def test_array_to_img_modes_match_keras():
    ramp = np.arange(6.0).reshape(2, 3, 1)
    gray = array_to_img(ramp)
    assert (gray.mode, np.asarray(gray).ravel().tolist()) == ("L", [0, 51, 102, 153, 204, 255])
    deep = array_to_img(ramp * 100, scale=False)
    assert (deep.mode, np.asarray(deep).ravel().tolist()) == ("I", [0, 100, 200, 300, 400, 500])
    rgba = array_to_img(np.zeros((2, 2, 4)))
    assert (rgba.mode, np.asarray(rgba).ravel().tolist()) == ("RGBA", [0] * 16)
    flat = array_to_img(np.full((2, 2, 3), 7.0))  # max - min == 0: no division
    assert np.asarray(flat).ravel().tolist() == [0] * 12


def test_array_to_img_errors():
    with pytest.raises(ValueError, match=r"rank 3 .*got shape \(2, 2\)"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels .*got 2 channels"):
        array_to_img(np.zeros((2, 2, 2)))


def test_save_img_round_trips_png_and_file_objects(tmp_path):
    path = tmp_path / "b.png"
    save_img(path, RAMP)
    with Image.open(path) as image:
        assert np.asarray(image).ravel().tolist() == KERAS_SCALED
    buffer = io.BytesIO()
    save_img(buffer, RAMP, file_format="png")
    buffer.seek(0)
    assert np.asarray(load_img(buffer)).ravel().tolist() == KERAS_SCALED


def test_save_img_jpg_extension_and_pillow_kwargs(tmp_path):
    path = tmp_path / "b.JPG"
    save_img(path, np.ones((4, 4, 3)) * [0, 128, 255], scale=False, quality=95)
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert np.asarray(image).ravel().tolist()[:6] == [0, 128, 255, 0, 128, 255]


def test_save_img_converts_rgba_to_rgb_for_jpeg_with_a_warning(tmp_path):
    path = tmp_path / "c.jpg"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_img(path, np.zeros((2, 2, 4)))
    assert [w.category for w in caught] == [UserWarning]
    assert "RGBA" in str(caught[0].message)
    with Image.open(path) as image:
        assert image.mode == "RGB"


def test_missing_pillow_names_the_install_command(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match="pip install pillow"):
        array_to_img(np.zeros((2, 2, 3)))
