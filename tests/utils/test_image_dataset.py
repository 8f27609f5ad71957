"""image_dataset_from_directory on a small folder tree of PNG and JPEG files."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

import lamina
from lamina import layers
from lamina.utils import image_dataset_from_directory

CLASSES = {"b_dogs": 4, "a_cats": 3, "c_birds": 3}


@pytest.fixture
def folder(tmp_path):
    """10 images in 3 class folders (+ a nested folder and a non-image file), each image a
    solid color equal to its class index * 50, so labels can be read back from pixels."""
    for index, (name, count) in enumerate(sorted(CLASSES.items())):
        os.makedirs(tmp_path / name / "nested")
        for i in range(count):
            size = (12, 8) if i % 2 else (8, 8)
            image = Image.new("RGB", size, color=(index * 50,) * 3)
            where = tmp_path / name / ("nested" if i == 0 else "") / f"img{i}"
            image.save(f"{where}.png" if i % 2 else f"{where}.jpg", quality=100)
        (tmp_path / name / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return str(tmp_path)


def everything(dataset):
    xs, ys = zip(*dataset, strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_class_names_labels_shapes_and_dtypes(folder, capsys):
    ds = image_dataset_from_directory(folder, image_size=(6, 5), batch_size=4, seed=1)
    assert "Found 10 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["a_cats", "b_dogs", "c_birds"] and len(ds) == 3
    images, labels = everything(ds)
    assert images.shape == (10, 6, 5, 3) and images.dtype == torch.float32
    assert labels.dtype == torch.int32 and sorted(labels.tolist()) == [0] * 3 + [1] * 4 + [2] * 3
    # Every image is the solid color of its class: pixels and labels stay paired.
    np.testing.assert_allclose(images.mean(dim=(1, 2, 3)), labels.float() * 50, atol=1.5)
    assert len(ds.file_paths) == 10


def test_label_modes(folder):
    common = {"image_size": (4, 4), "shuffle": False, "verbose": False}
    _, labels = everything(image_dataset_from_directory(folder, label_mode="categorical", **common))
    assert labels.shape == (10, 3) and labels.dtype == torch.float32 and labels.sum() == 10
    images = torch.cat(list(image_dataset_from_directory(folder, label_mode=None, **common)))
    assert images.shape == (10, 4, 4, 3)
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        image_dataset_from_directory(folder, label_mode="binary", **common)
    binary = image_dataset_from_directory(
        folder, label_mode="binary", class_names=["c_birds", "a_cats"], **common
    )
    _, labels = everything(binary)
    assert labels.shape == (6, 1) and labels[:3].sum() == 0 and labels[3:].sum() == 3


def test_unshuffled_order_is_sorted_paths(folder):
    ds = image_dataset_from_directory(folder, image_size=(4, 4), shuffle=False, verbose=False)
    paths = [os.path.relpath(p, folder) for p in ds.file_paths]
    assert paths[:3] == ["a_cats/img1.png", "a_cats/img2.jpg", "a_cats/nested/img0.jpg"]


def test_color_modes(folder):
    for mode, channels in (("grayscale", 1), ("rgb", 3), ("rgba", 4)):
        ds = image_dataset_from_directory(
            folder, color_mode=mode, image_size=(3, 3), batch_size=None, verbose=False
        )
        image, label = next(iter(ds))
        assert image.shape == (3, 3, channels) and label.shape == ()


def test_validation_split_is_disjoint_and_deterministic_with_seed(folder):
    def split():
        return image_dataset_from_directory(
            folder, validation_split=0.3, subset="both", seed=7, image_size=(4, 4), verbose=False
        )

    train, val = split()
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    again_train, again_val = split()
    assert train.file_paths == again_train.file_paths and val.file_paths == again_val.file_paths
    single = image_dataset_from_directory(
        folder, validation_split=0.3, subset="validation", seed=7, image_size=(4, 4), verbose=False
    )
    assert single.file_paths == val.file_paths


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_split": 0.2, "subset": "training"}, "must provide a `seed`"),
        ({"subset": "training"}, "`validation_split` must be set"),
        ({"color_mode": "cmyk"}, "`color_mode` must be one of"),
        ({"label_mode": "sparse"}, "`label_mode` argument must be one of"),
        ({"image_size": (1, 2, 3)}, "Invalid `image_size`"),
        ({"interpolation": "lanczos5"}, "`interpolation` should be one of"),
        ({"class_names": ["zebras"]}, "class_names must name subdirectories"),
        ({"labels": [0, 1]}, "got 2 labels for the"),
    ],
)
def test_argument_errors(folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(folder, verbose=False, **kwargs)


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    os.makedirs(tmp_path / "only")
    image = np.zeros((4, 8, 3), "uint8")
    image[:, 2:6] = 255  # a white center square in a wide black image
    Image.fromarray(image).save(tmp_path / "only" / "wide.png")
    common = {"image_size": (4, 4), "verbose": False, "label_mode": None}
    cropped = next(
        iter(image_dataset_from_directory(str(tmp_path), crop_to_aspect_ratio=True, **common))
    )
    assert float(cropped.min()) == 255.0
    padded = next(
        iter(image_dataset_from_directory(str(tmp_path), pad_to_aspect_ratio=True, **common))
    )
    assert float(padded[0, 0, 0, 0]) == 0.0 and float(padded[0, 2, 2, 0]) > 0.0


def test_fit_trains_on_the_folder_dataset(folder):
    train, val = image_dataset_from_directory(
        folder,
        validation_split=0.2,
        subset="both",
        seed=0,
        image_size=(8, 8),
        batch_size=4,
        verbose=False,
    )
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((8, 8, 3)),
            layers.Lambda(lambda x: x / 255),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(val, verbose=0).shape == (2, 3)


def test_pad_to_aspect_ratio_pads_both_sides_equally_as_keras():
    # Keras 3.15.1 (torch backend) pads int((47 - 42) / 2) = 2 columns on each side of a
    # 47x42 (H x W) image for a square target: 46 columns, not 47; Resizing does the same.
    from lamina.utils._image_dataset import _fit_aspect

    image = torch.ones(47, 42, 3)
    padded = _fit_aspect(image, (8, 8), crop=False, pad=True)
    assert tuple(padded.shape) == (47, 46, 3)
    assert float(padded[:, :2].abs().sum()) == 0.0 and float(padded[:, -2:].abs().sum()) == 0.0
