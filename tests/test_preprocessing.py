"""`lamina.preprocessing` (Keras' `keras.preprocessing`) and the top-level and `saving`
aliases Keras has. Reference numbers: Keras 3.15.1's smart_resize on the same arrays."""

import numpy as np
import pytest

import lamina
from lamina.preprocessing import image, sequence


def test_smart_resize_crops_to_the_aspect_ratio_then_resizes_as_keras():
    x = np.arange(2 * 6 * 4 * 3, dtype="float32").reshape(2, 6, 4, 3)
    batch = image.smart_resize(x, (3, 3))
    assert isinstance(batch, np.ndarray) and batch.shape == (2, 3, 3, 3)
    assert float(batch.sum()) == pytest.approx(3861.0)
    np.testing.assert_allclose(batch[0, :, 0, 0], [14.5, 30.5, 46.5])
    np.testing.assert_allclose(batch[1, 2, 2], [126.5, 127.5, 128.5], rtol=1e-6)
    assert float(image.smart_resize(x[0], (3, 3)).sum()) == pytest.approx(958.5)
    square = np.arange(25, dtype="float32").reshape(5, 5, 1)
    nearest = image.smart_resize(square, (2, 4), interpolation="nearest")
    assert nearest[..., 0].tolist() == [[5, 6, 8, 9], [10, 11, 13, 14]]


def test_smart_resize_rejects_other_ranks():
    with pytest.raises(ValueError, match="rank 3.*rank 4.*got shape \\(4, 4\\)"):
        image.smart_resize(np.zeros((4, 4)), (2, 2))


def test_keras_names_point_to_the_same_functions():
    assert sequence.pad_sequences is lamina.utils.pad_sequences
    assert image.load_img is lamina.utils.load_img
    assert lamina.preprocessing.text_dataset_from_directory is (
        lamina.utils.text_dataset_from_directory
    )
    assert lamina.saving.serialize_keras_object is lamina.utils.serialize_keras_object
    assert lamina.InputSpec is lamina.layers.InputSpec
    assert lamina.FloatDTypePolicy is lamina.dtype_policies.FloatDTypePolicy
