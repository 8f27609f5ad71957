"""keras.visualization in lamina: drawn pixels against Keras 3.15.1 (with OpenCV) and the
galleries' figures under matplotlib's Agg backend."""

from __future__ import annotations

import sys

import matplotlib
import numpy as np
import pytest
import torch

from lamina import visualization as vis
from lamina.visualization._draw import _text_origin

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOR = (9, 200, 77)
BOXES = np.array([[[2, 3, 8, 7], [0, 0, 1, 1]], [[-2, 5.9, 4.7, 14], [1, 1, 3, 3]]], "float32")
LABELS = np.array([[0, -1], [1, 2]])
# The pixels Keras (OpenCV's cv2.rectangle) colours for BOXES on two 10 x 12 images, by
# line_thickness; the box labelled -1 is skipped.
KERAS_OUTLINES = {
    1: [
        [
            "............",
            "............",
            "............",
            "..#######...",
            "..#.....#...",
            "..#.....#...",
            "..#.....#...",
            "..#######...",
            "............",
            "............",
        ],
        [
            "............",
            ".###........",
            ".#.#........",
            ".###........",
            "............",
            "#####.......",
            "....#.......",
            "....#.......",
            "....#.......",
            "....#.......",
        ],
    ],
    2: [
        [
            "............",
            "............",
            "..#######...",
            ".#########..",
            ".#########..",
            ".###...###..",
            ".#########..",
            ".#########..",
            "..#######...",
            "............",
        ],
        [
            ".###........",
            "#####.......",
            "#####.......",
            "#####.......",
            "#####.......",
            "######......",
            "######......",
            "...###......",
            "...###......",
            "...###......",
        ],
    ],
    4: [
        [
            "............",
            "..#######...",
            ".#########..",
            "###########.",
            "###########.",
            "###########.",
            "###########.",
            "###########.",
            ".#########..",
            "..#######...",
        ],
        [
            "#####.......",
            "######......",
            "######......",
            "######......",
            "######......",
            "#######.....",
            "#######.....",
            "#######.....",
            "#.#####.....",
            "#.#####.....",
        ],
    ],
}
MASK_IMAGE = np.array(
    [[[[10, 20, 30], [200, 100, 0], [255, 255, 255]], [[0, 0, 0], [50, 60, 70], [90, 80, 70]]]],
    "float32",
)
MASKS = np.array([[[[0], [1], [2]], [[-1], [2], [1]]]], "int32")
RGB = {0: (255, 0, 0), 1: (0, 255, 0), 2: (0, 0, 255)}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def drawn(images, thickness):
    return vis.draw_bounding_boxes(
        images, {"boxes": BOXES, "labels": LABELS}, "xyxy", color=COLOR, line_thickness=thickness
    )


@pytest.mark.parametrize("thickness", [1, 2, 4])
def test_box_outlines_are_keras_pixels(thickness):
    out = drawn(np.zeros((2, 10, 12, 3), "uint8"), thickness)
    assert out.dtype == np.uint8 and out.shape == (2, 10, 12, 3)
    for image, expected in zip(out, KERAS_OUTLINES[thickness], strict=True):
        painted = ["".join("#" if v else "." for v in row) for row in image[..., 1] > 0]
        assert painted == expected


def test_box_outline_pixels_take_the_colour_and_the_rest_is_untouched():
    images = np.random.default_rng(0).integers(0, 256, (2, 10, 12, 3)).astype("uint8")
    out = drawn(images, 2)
    outline = np.array([[list(row) for row in image] for image in KERAS_OUTLINES[2]]) == "#"
    assert (out[outline] == COLOR).all()
    np.testing.assert_array_equal(out[~outline], images[~outline])
    assert images[0, 0, 0, 0] == out[0, 0, 0, 0]  # the input array is not drawn on


def test_box_formats_and_tensors_draw_the_same_outline():
    images = torch.zeros(1, 10, 12, 3)
    xyxy = vis.draw_bounding_boxes(
        images, {"boxes": torch.tensor([[[2.0, 3, 8, 7]]]), "labels": torch.tensor([[0]])}, "xyxy"
    )
    center = vis.draw_bounding_boxes(
        images, {"boxes": [[[5.0, 5, 6, 4]]], "labels": [[0]]}, "center_xywh"
    )
    relative = vis.draw_bounding_boxes(
        images, {"boxes": [[[2 / 12, 3 / 10, 8 / 12, 7 / 10]]], "labels": [[0]]}, "rel_xyxy"
    )
    np.testing.assert_array_equal(center, xyxy)
    np.testing.assert_array_equal(relative, xyxy)
    assert (xyxy[0, 3, 2] == 128).all()  # Keras' default colour


def test_float_images_are_scaled_as_keras():
    images = np.full((1, 6, 6, 3), 0.5, "float32")
    out = vis.draw_bounding_boxes(images, {"boxes": [[[1, 1, 4, 4]]], "labels": [[0]]}, "xyxy")
    assert out[0, 0, 0].tolist() == [127, 127, 127]  # 0.5 * 255, truncated
    big = vis.draw_bounding_boxes(
        images * 600, {"boxes": [[[1, 1, 4, 4]]], "labels": [[-1]]}, "xyxy"
    )
    assert (big == 255).all()  # values over 1 are clipped to [0, 255], not scaled


def test_channels_first_images_keep_their_layout():
    images = np.zeros((2, 10, 12, 3), "uint8")
    last = drawn(images, 1)
    first = vis.draw_bounding_boxes(
        images.transpose(0, 3, 1, 2),
        {"boxes": BOXES, "labels": LABELS},
        "xyxy",
        color=COLOR,
        line_thickness=1,
        data_format="channels_first",
    )
    np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))


def test_class_names_are_written_where_keras_puts_them():
    images = np.zeros((1, 60, 80, 3), "uint8")
    boxes = {"boxes": [[[10, 40, 70, 55]]], "labels": [[3]]}
    plain = vis.draw_bounding_boxes(images, boxes, "xyxy", line_thickness=1)
    named = vis.draw_bounding_boxes(
        images, boxes, "xyxy", class_mapping={3: "cat"}, line_thickness=1, font_scale=0.5
    )
    text = (named != plain).any(-1)[0]
    rows, cols = np.nonzero(text)
    x, baseline = _text_origin(10, 40, 0.5, 1)
    assert (x, baseline) == (10, 32)  # room above the box: 8 pixels above its top
    assert rows.max() <= baseline + 4 and rows.min() >= baseline - 20 and cols.min() >= x
    scored = dict(boxes, confidences=[[0.875]])
    with_score = vis.draw_bounding_boxes(
        images, scored, "xyxy", class_mapping={3: "cat"}, line_thickness=1, font_scale=0.5
    )
    assert (with_score != plain).any(-1).sum() > text.sum()  # "cat | 0.88" is longer


def test_text_goes_inside_the_box_when_there_is_no_room_above():
    assert _text_origin(5, 10, 1.0, 1) == (8, 5 + 10 + 2 * 12 - 1)


def test_draw_bounding_boxes_errors():
    images = np.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match=r"batch of images.*\(4, 4, 3\)"):
        vis.draw_bounding_boxes(images[0], {"boxes": [], "labels": []}, "xyxy")
    with pytest.raises(TypeError, match="as a dict.*got list"):
        vis.draw_bounding_boxes(images, [[0, 0, 1, 1]], "xyxy")
    with pytest.raises(ValueError, match="'boxes' and 'labels' keys.*\\['boxes'\\]"):
        vis.draw_bounding_boxes(images, {"boxes": [[[0, 0, 1, 1]]]}, "xyxy")
    with pytest.raises(ValueError, match=r"boxes \(batch, num_boxes, 4\).*\(1, 4\)"):
        vis.draw_bounding_boxes(images, {"boxes": [[0, 0, 1, 1]], "labels": [0]}, "xyxy")


def test_missing_pillow_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"Pillow.*lamina\[visualization\]"):
        vis.draw_bounding_boxes(
            np.zeros((1, 4, 4, 3)), {"boxes": [[[0, 0, 1, 1]]], "labels": [[0]]}, "xyxy"
        )


def test_segmentation_masks_give_keras_numbers():
    out = vis.draw_segmentation_masks(MASK_IMAGE, MASKS, num_classes=3)
    assert out.dtype == np.uint8
    assert out.tolist() == [
        [[[2, 4, 6], [40, 121, 24], [52, 254, 100]], [[0, 0, 0], [11, 215, 63], [18, 117, 38]]]
    ]
    out = vis.draw_segmentation_masks(MASK_IMAGE, MASKS, num_classes=4, alpha=0.35)
    assert out.tolist() == [
        [[[6, 13, 19], [130, 109, 10], [166, 254, 187]], [[0, 0, 0], [33, 127, 67], [58, 96, 56]]]
    ]


def test_segmentation_colour_mapping_and_ignore_index_give_keras_numbers():
    out = vis.draw_segmentation_masks(
        MASK_IMAGE, MASKS, num_classes=3, color_mapping=RGB, alpha=0.5, ignore_index=1
    )
    assert out.tolist() == [
        [[[132, 10, 15], [200, 100, 0], [127, 127, 255]], [[0, 0, 0], [25, 30, 162], [90, 80, 70]]]
    ]


def test_unblended_masks_paint_the_colours_as_keras():
    out = vis.draw_segmentation_masks(
        MASK_IMAGE, MASKS, num_classes=3, color_mapping=RGB, blend=False
    )
    assert out.dtype == np.float32
    assert out.tolist() == [
        [[[255, 0, 0], [0, 255, 0], [0, 0, 255]], [[0, 0, 0], [0, 0, 255], [0, 255, 0]]]
    ]


def test_mask_blend_is_keras_formula_on_random_data():
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 255, (2, 5, 6, 3)).astype("float32")
    masks = rng.integers(-1, 3, (2, 5, 6))
    alpha = 0.37
    out = vis.draw_segmentation_masks(
        images, torch.tensor(masks), num_classes=3, color_mapping=RGB, alpha=alpha
    )
    colours = np.array([RGB[c] for c in range(3)], "float32")[np.clip(masks, 0, 2)]
    expected = (images * (1 - alpha) + colours * alpha).astype("uint8")
    expected[masks == -1] = images[masks == -1].astype("uint8")
    np.testing.assert_array_equal(out, expected)


def test_masks_without_num_classes_draw_every_class_and_channels_first_works():
    out = vis.draw_segmentation_masks(MASK_IMAGE, MASKS[..., 0])  # (batch, h, w) masks
    np.testing.assert_array_equal(
        out, vis.draw_segmentation_masks(MASK_IMAGE, MASKS, num_classes=3)
    )
    first = vis.draw_segmentation_masks(
        MASK_IMAGE.transpose(0, 3, 1, 2),
        MASKS.transpose(0, 3, 1, 2),
        num_classes=3,
        data_format="channels_first",
    )
    np.testing.assert_array_equal(first, out.transpose(0, 3, 1, 2))


def test_draw_segmentation_masks_errors():
    with pytest.raises(TypeError, match="integer class ids.*float32"):
        vis.draw_segmentation_masks(MASK_IMAGE, MASKS.astype("float32"))
    with pytest.raises(ValueError, match=r"no colour for classes \[2\]"):
        vis.draw_segmentation_masks(
            MASK_IMAGE, MASKS, num_classes=3, color_mapping={0: RGB[0], 1: RGB[1]}
        )
    with pytest.raises(ValueError, match=r"\(1, 2, 2\) do not match.*\(1, 2, 3\)"):
        vis.draw_segmentation_masks(MASK_IMAGE, MASKS[:, :, :2, 0])


def geometry(figure):
    return figure.axes[0].get_subplotspec().get_gridspec().get_geometry()


@pytest.mark.parametrize(("batch", "grid"), [(1, (1, 1)), (4, (2, 2)), (5, (3, 1)), (9, (3, 3))])
def test_image_gallery_grid_is_keras(batch, grid):
    figure = vis.plot_image_gallery(np.zeros((batch, 4, 4, 3)), show=False)
    assert geometry(figure) == grid and len(figure.axes) == grid[0] * grid[1]
    assert all(not axis.axison for axis in figure.axes)


def test_image_gallery_shows_the_images_in_the_value_range():
    images = np.random.default_rng(0).uniform(0, 1, (3, 4, 5, 3)).astype("float32")
    figure = vis.plot_image_gallery(images, rows=1, cols=4, value_range=(0, 1), show=False)
    assert geometry(figure) == (1, 4)
    for index in range(3):
        shown = np.asarray(figure.axes[index].images[0].get_array())
        np.testing.assert_array_equal(shown, (images[index] * np.float32(255)).astype("uint8"))
    assert len(figure.axes[3].images) == 0  # a cell past the batch stays blank


def test_image_gallery_titles_name_true_and_predicted_classes():
    figure = vis.plot_image_gallery(
        torch.zeros(2, 4, 4, 3),
        y_true=[0, 1],
        y_pred=torch.tensor([1, 1]),
        label_map={0: "cat", 1: "dog"},
        rows=1,
        cols=2,
        show=False,
    )
    titles = [axis.get_title() for axis in figure.axes]
    assert titles == ["Label: cat  Pred: dog", "Label: dog  Pred: dog"]


def test_image_gallery_shows_with_plt_show_and_closes(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(geometry(plt.gcf())))
    assert vis.plot_image_gallery(np.zeros((4, 4, 4, 3))) is None
    assert shown == [(2, 2)] and plt.get_fignums() == []


def test_image_gallery_writes_a_png_to_path(tmp_path):
    path = tmp_path / "gallery.png"
    assert vis.plot_image_gallery(np.zeros((4, 4, 4, 1)), path=str(path)) is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plt.get_fignums() == []


def test_image_gallery_errors(monkeypatch):
    with pytest.raises(ValueError, match="`path`.*or shows it"):
        vis.plot_image_gallery(np.zeros((1, 4, 4, 3)), path="x.png", show=True)
    with pytest.raises(ValueError, match="needs a `label_map`"):
        vis.plot_image_gallery(np.zeros((1, 4, 4, 3)), y_true=[0])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"matplotlib.*lamina\[visualization\]"):
        vis.plot_image_gallery(np.zeros((1, 4, 4, 3)))


def test_bounding_box_gallery_draws_true_and_predicted_boxes_in_their_colours():
    images = np.zeros((2, 10, 12, 3), "float32")
    true = {"boxes": BOXES, "labels": LABELS}
    pred = {"boxes": BOXES[:, :1] + 1, "labels": LABELS[:, :1]}
    figure = vis.plot_bounding_box_gallery(
        images,
        "xyxy",
        y_true=true,
        y_pred=pred,
        value_range=(0, 1),
        legend=True,
        line_thickness=1,
        show=False,
    )
    assert geometry(figure) == (2, 1)
    shown = np.asarray(figure.axes[0].images[0].get_array())
    colours = {tuple(c) for c in shown.reshape(-1, 3)}
    assert colours == {(0, 0, 0), (0, 188, 212), (255, 235, 59)}
    painted = (shown == (0, 188, 212)).all(-1) | (shown == (255, 235, 59)).all(-1)
    expected = vis.draw_bounding_boxes(
        images[:1], {"boxes": BOXES[:1], "labels": LABELS[:1]}, "xyxy", line_thickness=1
    )
    assert ((expected[0] > 0).any(-1) <= painted).all()  # every true outline pixel is shown
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "Ground Truth",
        "Prediction",
    ]
    with pytest.raises(ValueError, match="`legend=True` or `legend_handles`"):
        vis.plot_bounding_box_gallery(images, "xyxy", legend=True, legend_handles=[object()])


def test_segmentation_mask_gallery_puts_image_truth_and_prediction_in_a_row(tmp_path):
    images = np.random.default_rng(1).uniform(0, 255, (2, 2, 3, 3)).astype("float32")
    masks = np.concatenate([MASKS, MASKS[:, ::-1]])
    figure = vis.plot_segmentation_mask_gallery(
        images, num_classes=3, y_true=masks, y_pred=masks[..., 0] * 0, color_mapping=RGB, show=False
    )
    assert geometry(figure) == (2, 3)
    shown = [np.asarray(axis.images[0].get_array()) for axis in figure.axes]
    np.testing.assert_array_equal(shown[3], images[1].astype("uint8"))
    truth = vis.draw_segmentation_masks(images, masks, num_classes=3, color_mapping=RGB)
    np.testing.assert_array_equal(shown[4], truth[1])
    path = tmp_path / "masks.png"
    vis.plot_segmentation_mask_gallery(images, 3, y_true=masks, path=str(path))
    assert path.stat().st_size > 0


def test_keras_public_names_are_all_there():
    assert sorted(vis.__all__) == [
        "draw_bounding_boxes",
        "draw_segmentation_masks",
        "plot_bounding_box_gallery",
        "plot_image_gallery",
        "plot_segmentation_mask_gallery",
    ]
