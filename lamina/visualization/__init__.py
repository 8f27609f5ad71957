"""Drawing boxes and masks on images and plotting image galleries, as `keras.visualization`.

Drawing needs Pillow and the galleries matplotlib, both optional: `pip install
'lamina[visualization]'`. They are imported on first use.

>>> import numpy as np
>>> from lamina import visualization
>>> visualization.draw_segmentation_masks(np.zeros((1, 1, 1, 3)), np.array([[[1]]]),
...                                       alpha=0.5).tolist()
[[[[0, 63, 15]]]]
"""

from ._draw import draw_bounding_boxes, draw_segmentation_masks
from ._gallery import plot_bounding_box_gallery, plot_image_gallery, plot_segmentation_mask_gallery

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
