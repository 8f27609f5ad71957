"""Datasets, as `keras.datasets`: `mnist`, `fashion_mnist`, `cifar10`, `cifar100`, `imdb`,
`reuters`, `boston_housing`, `california_housing`.

Each has `load_data()` (`cifar100.load_data(label_mode='fine' | 'coarse')`; `imdb` and
`reuters` also `get_word_index()`). Files are found in the folders of the environment variable
`LAMINA_DATASETS`, then in the cache `~/.lamina/datasets` (or `$LAMINA_HOME/datasets`), and
otherwise downloaded; their SHA-256 sums are always checked (the two word indexes, for which
Keras publishes only an MD5, by that). See `lamina.datasets._download`.

>>> from lamina import datasets
>>> len(datasets.__all__), datasets.__all__[:4]
(8, ['boston_housing', 'california_housing', 'cifar10', 'cifar100'])
"""

from lamina.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
