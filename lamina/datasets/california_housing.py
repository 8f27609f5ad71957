"""California housing prices: 20,640 census block groups of 1990, 8 features each.

Features, in order: median income, median house age, average rooms and bedrooms per household,
population, average household members, latitude, longitude. Targets are median house values
in dollars. `load_data(version='small')` keeps the archive's first 600 samples, a replacement
for `boston_housing` of about its size.

The archive is Keras' `california_housing.npz`, found in the folders of `LAMINA_DATASETS`, then
the cache (`~/.lamina/datasets`), then downloaded; its SHA-256 is checked and it is read
without pickle.

>>> from lamina.datasets._sequences import split_index
>>> split_index(20640, 0.2), split_index(600, 0.2)  # training samples, large and small
(16512, 480)
"""

from __future__ import annotations

from lamina.datasets._sequences import (
    check_file_name,
    check_integer,
    check_test_split,
    load_regression,
)
from lamina.datasets.mnist import Arrays

__all__ = ["load_data"]

ARCHIVE = "california_housing.npz"
# Samples of each version: the small one is the archive's first 600.
VERSIONS = {"large": None, "small": 600}


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
) -> Arrays:
    """Load California housing as Keras does: `(x_train, y_train), (x_test, y_test)`.

    The samples of the version are shuffled with `np.random.RandomState(seed)` and the first
    `int(n * (1 - test_split))` are the training set; the same seed gives Keras' arrays.

    Args:
        version: 'large' (20,640 samples) or 'small' (the first 600).
        path: file name of the archive in the datasets folders (Keras: relative to its cache).
        test_split: fraction of the samples in the test set, in [0, 1).
        seed: seed of the shuffle.

    Returns:
        `x_train` (16512, 8), `y_train` (16512,), `x_test` (4128, 8), `y_test` (4128,) for
        'large' with the default split ((480, 8) and (120, 8) for 'small'); the archive's
        float dtype.

    Source: R. Kelley Pace and Ronald Barry, Sparse Spatial Autoregressions, Statistics and
    Probability Letters, 1997, via the StatLib archive.
    """
    function = "california_housing.load_data"
    if version not in VERSIONS:
        raise ValueError(f"{function}: version must be 'small' or 'large'; got {version!r}.")
    check_file_name(path, function)
    check_test_split(test_split, function)
    check_integer(seed, "seed", function)
    rows = VERSIONS[version]
    return load_regression(path, ARCHIVE, "California housing", test_split, seed, rows)
