"""Boston housing prices: 506 districts of the Boston area in the 1970s, 13 features each.

Warning, as in Keras: one of the features, "B", is derived from the proportion of Black
residents, built on the assumption that racial self-segregation affects house prices. Use the
dataset only to discuss that problem; `lamina.datasets.california_housing` is the replacement
for a small regression example.

The targets are median house values in thousands of dollars. The archive is Keras'
`boston_housing.npz`, found in the folders of `LAMINA_DATASETS`, then the cache
(`~/.lamina/datasets`), then downloaded; its SHA-256 is checked and it is read without pickle.

>>> from lamina.datasets._sequences import split_index
>>> split_index(506, 0.2)  # training samples of load_data()
404
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

ARCHIVE = "boston_housing.npz"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113) -> Arrays:
    """Load Boston housing as Keras does: `(x_train, y_train), (x_test, y_test)`.

    The samples are shuffled with `np.random.RandomState(seed)` and the first
    `int(506 * (1 - test_split))` are the training set; the same seed gives Keras' arrays.

    Args:
        path: file name of the archive in the datasets folders (Keras: relative to its cache).
        test_split: fraction of the samples in the test set, in [0, 1).
        seed: seed of the shuffle.

    Returns:
        `x_train` (404, 13), `y_train` (404,), `x_test` (102, 13), `y_test` (102,) with the
        default split; the archive's float dtype. Targets are in thousands of dollars.

    Source: Harrison and Rubinfeld, Hedonic prices and the demand for clean air, 1978, via
    the StatLib archive of Carnegie Mellon University.
    """
    function = "boston_housing.load_data"
    check_file_name(path, function)
    check_test_split(test_split, function)
    check_integer(seed, "seed", function)
    return load_regression(path, ARCHIVE, "Boston housing", test_split, seed, rows=None)
