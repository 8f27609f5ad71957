"""Galleries of images with matplotlib: plain, with bounding boxes, with segmentation masks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import (
    channels_last,
    check_data_format,
    check_images,
    import_pyplot,
    to_0_255,
    to_numpy,
)
from ._draw import draw_bounding_boxes, draw_segmentation_masks

__all__ = ["plot_bounding_box_gallery", "plot_image_gallery", "plot_segmentation_mask_gallery"]


def _title(label_map: dict, y_true: Any, y_pred: Any, index: int) -> str:
    parts = []
    if y_true is not None and index < len(y_true):
        parts.append(f"Label: {label_map.get(y_true[index], 'Unknown')}")
    if y_pred is not None and index < len(y_pred):
        parts.append(f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
    return "  ".join(parts)


def plot_image_gallery(
    images: Any,
    y_true: Any = None,
    y_pred: Any = None,
    label_map: dict | None = None,
    rows: int | None = None,
    cols: int | None = None,
    value_range: Sequence[float] = (0, 255),
    scale: float = 2,
    path: str | None = None,
    show: bool | None = None,
    transparent: bool = True,
    dpi: int = 60,
    legend_handles: list | None = None,
    data_format: str | None = None,
) -> Any:
    """Show a grid of images with optional true and predicted class names, as Keras.

    The grid is Keras': `rows = ceil(sqrt(batch))`, `cols = batch // rows` unless given; the
    first rows * cols images are shown (cells past the batch stay blank).

    Args:
        images: a batch of images, (batch, height, width, channels) (or channels first).
        y_true: class ids shown as "Label: name" above each image.
        y_pred: class ids shown as "Pred: name".
        label_map: class id -> name, required with `y_true` or `y_pred`.
        rows: rows of the grid.
        cols: columns of the grid.
        value_range: the images' value range, mapped to [0, 255] for display.
        scale: inches per image.
        path: write the figure there (PNG, ...) instead of showing it.
        show: show it with `plt.show()`; default True when `path` is None.
        transparent: transparent background in the written file.
        dpi: dots per inch of the written file.
        legend_handles: matplotlib handles for a legend under the grid.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Returns:
        None when the figure was shown or written (and closed), as Keras; otherwise (`show=False`,
        no `path`) the matplotlib Figure, left open.

    >>> import numpy as np
    >>> figure = plot_image_gallery(np.zeros((4, 8, 8, 3)), show=False)
    >>> figure.axes[0].get_subplotspec().get_gridspec().get_geometry()
    (2, 2)
    >>> import matplotlib.pyplot as plt
    >>> plt.close(figure)
    """
    plt = import_pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError(
            "plot_image_gallery writes the figure to `path` or shows it (`show=True`), not both; "
            f"got path={path!r} and show={show!r}"
        )
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("plot_image_gallery needs a `label_map` with `y_true` or `y_pred`.")
    show = show if show is not None else path is None
    data_format = check_data_format(data_format, "plot_image_gallery")
    images = to_numpy(images)
    check_images(images, "plot_image_gallery")
    batch = images.shape[0]
    rows = rows or int(math.ceil(math.sqrt(batch)))
    cols = cols or int(math.ceil(batch // rows))
    images = to_0_255(channels_last(images[: rows * cols], data_format), tuple(value_range))
    y_true = None if y_true is None else to_numpy(y_true)
    y_pred = None if y_pred is None else to_numpy(y_pred)

    figure, axes = plt.subplots(
        nrows=rows,
        ncols=cols,
        figsize=(cols * scale, rows * scale),
        frameon=False,
        layout="tight",
        squeeze=False,
        sharex="row",
        sharey="col",
    )
    figure.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        figure.legend(handles=legend_handles, loc="lower center")
    for index, axis in enumerate(axes.reshape(-1)):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index].astype("uint8")
        if image.shape[-1] == 1:
            axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            axis.imshow(image)
        axis.margins(x=0, y=0)
        title = _title(label_map or {}, y_true, y_pred, index)
        if title:
            axis.set_title(title, fontsize=8)
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close(figure)
        return None
    if show:
        plt.show()
        plt.close(figure)
        return None
    return figure


def _to_uint8_range(images: np.ndarray, value_range: Sequence[float]) -> np.ndarray:
    return np.clip(to_0_255(images, tuple(value_range)), 0, 255).astype(np.uint8)


def plot_bounding_box_gallery(
    images: Any,
    bounding_box_format: str,
    y_true: dict | None = None,
    y_pred: dict | None = None,
    value_range: Sequence[float] = (0, 255),
    true_color: Sequence[int] = (0, 188, 212),
    pred_color: Sequence[int] = (255, 235, 59),
    line_thickness: int = 2,
    font_scale: float = 1.0,
    text_thickness: int | None = None,
    class_mapping: dict | None = None,
    ground_truth_mapping: dict | None = None,
    prediction_mapping: dict | None = None,
    legend: bool = False,
    legend_handles: list | None = None,
    rows: int | None = None,
    cols: int | None = None,
    data_format: str | None = None,
    **kwargs: Any,
) -> Any:
    """Show a grid of images with their true and predicted bounding boxes, as Keras.

    Args:
        images: a batch of images, (batch, height, width, channels) (or channels first).
        bounding_box_format: the boxes' format (see `keras.utils.bounding_boxes`).
        y_true: true boxes, a dict as `draw_bounding_boxes` takes.
        y_pred: predicted boxes, the same way.
        value_range: the images' value range (mapped to [0, 255] before drawing).
        true_color: RGB colour of the true boxes.
        pred_color: RGB colour of the predicted boxes.
        line_thickness: thickness of the box outlines.
        font_scale: size of the labels.
        text_thickness: thickness of the labels; default `line_thickness`.
        class_mapping: class id -> name for both kinds of boxes.
        ground_truth_mapping: class id -> name for the true boxes (overrides class_mapping).
        prediction_mapping: class id -> name for the predictions (overrides class_mapping).
        legend: add a "Ground Truth" / "Prediction" legend.
        legend_handles: matplotlib handles for a legend of one's own (not with `legend`).
        rows: rows of the grid.
        cols: columns of the grid.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.
        **kwargs: passed to `plot_image_gallery` (path, show, scale, dpi, ...).

    Returns:
        What `plot_image_gallery` returns.

    >>> import numpy as np
    >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]]]), "labels": np.array([[0]])}
    >>> figure = plot_bounding_box_gallery(np.zeros((1, 8, 8, 3)), "xyxy", y_true=boxes,
    ...                                    show=False)
    >>> len(figure.axes)
    1
    >>> import matplotlib.pyplot as plt
    >>> plt.close(figure)
    """
    import_pyplot("plot_bounding_box_gallery")
    from matplotlib.patches import Patch

    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = check_data_format(data_format, "plot_bounding_box_gallery")
    images = to_numpy(images)
    check_images(images, "plot_bounding_box_gallery")
    images = channels_last(images, data_format)
    if y_true is not None or y_pred is not None:
        # Drawn in [0, 255], so the colours are exact whatever the images' range.
        images, value_range = _to_uint8_range(images, value_range), (0, 255)
    drawn = [(y_true, true_color, ground_truth_mapping), (y_pred, pred_color, prediction_mapping)]
    for boxes, color, mapping in drawn:
        if boxes is not None:
            images = draw_bounding_boxes(
                images,
                boxes,
                bounding_box_format=bounding_box_format,
                class_mapping=mapping,
                color=color,
                line_thickness=line_thickness,
                text_thickness=text_thickness,
                font_scale=font_scale,
                data_format="channels_last",
            )
    if legend:
        if legend_handles:
            raise ValueError(
                "plot_bounding_box_gallery takes `legend=True` or `legend_handles`, not both."
            )
        legend_handles = [
            Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            Patch(color=np.array(pred_color) / 255.0, label="Prediction"),
        ]
    return plot_image_gallery(
        images,
        value_range=value_range,
        legend_handles=legend_handles,
        rows=rows,
        cols=cols,
        data_format="channels_last",
        **kwargs,
    )


def plot_segmentation_mask_gallery(
    images: Any,
    num_classes: int,
    value_range: Sequence[float] = (0, 255),
    y_true: Any = None,
    y_pred: Any = None,
    color_mapping: dict | None = None,
    blend: bool = True,
    alpha: float = 0.8,
    ignore_index: int = -1,
    data_format: str | None = None,
    **kwargs: Any,
) -> Any:
    """Show each image beside its true and predicted segmentation masks, one image per row,
    as Keras.

    Args:
        images: a batch of images, (batch, height, width, channels) (or channels first).
        num_classes: the number of classes.
        value_range: the images' value range (mapped to [0, 255] before drawing).
        y_true: true masks, (batch, height, width) or (batch, height, width, 1).
        y_pred: predicted masks, the same way.
        color_mapping: class id -> RGB colour; default Keras' palette.
        blend: blend the colours with `alpha` (else paint them opaque).
        alpha: opacity of the colours.
        ignore_index: the class id left undrawn.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.
        **kwargs: passed to `plot_image_gallery` (path, show, scale, dpi, ...).

    Returns:
        What `plot_image_gallery` returns.

    >>> import numpy as np
    >>> figure = plot_segmentation_mask_gallery(np.zeros((2, 4, 4, 3)), num_classes=2,
    ...                                         y_true=np.ones((2, 4, 4), "int32"), show=False)
    >>> figure.axes[0].get_subplotspec().get_gridspec().get_geometry()
    (2, 2)
    >>> import matplotlib.pyplot as plt
    >>> plt.close(figure)
    """
    import_pyplot("plot_segmentation_mask_gallery")
    data_format = check_data_format(data_format, "plot_segmentation_mask_gallery")
    images = to_numpy(images)
    check_images(images, "plot_segmentation_mask_gallery")
    images = to_0_255(channels_last(images, data_format), tuple(value_range)).astype(np.float32)
    columns = [images]
    for masks in (y_true, y_pred):
        if masks is not None:
            masks = to_numpy(masks).astype(np.int32)
            if masks.ndim == 4:
                masks = channels_last(masks, data_format)
            columns.append(
                draw_segmentation_masks(
                    images,
                    masks,
                    num_classes=num_classes,
                    color_mapping=color_mapping,
                    alpha=alpha,
                    blend=blend,
                    ignore_index=ignore_index,
                    data_format="channels_last",
                )
            )
    gallery = np.stack([column[i] for i in range(len(images)) for column in columns]).astype(
        np.float32
    )
    return plot_image_gallery(
        gallery,
        value_range=(0, 255),
        rows=len(images),
        cols=len(columns),
        data_format="channels_last",
        **kwargs,
    )
