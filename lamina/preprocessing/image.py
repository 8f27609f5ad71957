"""`keras.preprocessing.image`: loading, saving and converting images, and `smart_resize`.

>>> import numpy as np
>>> smart_resize(np.zeros((6, 4, 3), "float32"), (3, 3)).shape
(3, 3, 3)
"""

from ..utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
