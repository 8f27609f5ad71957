"""Datasets, as `keras.datasets`: `mnist`, `fashion_mnist`, `cifar10`, `cifar100`.

Each has `load_data()` (`cifar100.load_data(label_mode='fine' | 'coarse')`). Files are found in
the folders of the environment variable `LAMINA_DATASETS`, then in the cache
`~/.lamina/datasets` (or `$LAMINA_HOME/datasets`), and otherwise downloaded; their SHA-256 sums
are always checked. See `lamina.datasets._download`.

>>> from lamina import datasets
>>> datasets.__all__
['cifar10', 'cifar100', 'fashion_mnist', 'mnist']
"""

from lamina.datasets import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist"]
