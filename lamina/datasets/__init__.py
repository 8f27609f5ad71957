"""Datasets, as `keras.datasets`: `mnist`, `fashion_mnist`, `cifar10`, each with `load_data()`.

Files are found in the folders of the environment variable `LAMINA_DATASETS`, then in the cache
`~/.lamina/datasets` (or `$LAMINA_HOME/datasets`), and otherwise downloaded; their SHA-256 sums
are always checked. See `lamina.datasets._download`.
"""

from lamina.datasets import cifar10, fashion_mnist, mnist

__all__ = ["cifar10", "fashion_mnist", "mnist"]
