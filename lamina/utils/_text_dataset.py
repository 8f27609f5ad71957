"""`text_dataset_from_directory`: a folder of class subfolders of .txt files -> a Dataset.

Files are indexed, labelled and shuffled exactly as Keras does (same order and the same
training / validation files for the same seed), and read as UTF-8 text, batch by batch, in a
background thread.

A batch of texts is a NumPy array of Python `str` (dtype object), not a tuple of strings as
Keras' torch backend gives: an array is one leaf of the batch structure, so `take`, `map`,
unbatched elements and `split_dataset` handle it like a tensor, and it indexes, slices and
iterates like the strings it holds (`list(texts)` gives them back). Labels are torch tensors
and go to the dataset's device; the texts stay on the host.

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name, text in (("neg", "dull"), ("pos", "great fun")):
...     os.makedirs(os.path.join(root, name))
...     with open(os.path.join(root, name, "1.txt"), "w") as f:
...         _ = f.write(text)
>>> ds = text_dataset_from_directory(root, batch_size=2, shuffle=False)
Found 2 files belonging to 2 classes.
>>> texts, labels = next(iter(ds))
>>> list(texts), labels.tolist(), ds.class_names
(['dull', 'great fun'], [0, 1], ['neg', 'pos'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..data.dataset import Dataset, _LoaderSource
from ..layers._symbolic import map_structure
from ._directory import datasets_by_subset, finish_dataset, with_labels
from ._image_dataset import _check_split

__all__ = ["text_dataset_from_directory"]

_NAME = "text_dataset_from_directory"


class _HostTextSource(_LoaderSource):
    """A loaded source whose NumPy leaves (texts) stay on the host; tensors go to `device`."""

    def fetch(self, index: Any, device: torch.device) -> Any:
        item = super().fetch(index, torch.device("cpu"))
        if device.type == "cpu":
            return item
        return map_structure(
            lambda leaf: leaf.to(device) if isinstance(leaf, torch.Tensor) else leaf, item
        )


def _check_labels(labels: Any, label_mode: Any, class_names: Any) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f"{_NAME}: labels must be 'inferred' (from the subdirectory names), None (texts "
                f"only) or a list/tuple of int labels, one per text file; got labels={labels!r}"
            )
        if class_names:
            raise ValueError(
                f"{_NAME}: class_names can only be given with labels='inferred'; got "
                f"labels={labels!r} and class_names={class_names!r}"
            )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f"{_NAME}: label_mode must be 'int', 'categorical', 'binary' or None; got "
            f"label_mode={label_mode!r}"
        )


def _read_text(path: str, max_length: int | None) -> str:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text if max_length is None else text[:max_length]


def _make_dataset(
    paths: list[str],
    labels: np.ndarray | None,
    label_mode: str | None,
    class_names: list[str] | None,
    batch_size: int | None,
    max_length: int | None,
    shuffle: bool,
    seed: int,
) -> Dataset:
    num_classes = len(class_names) if class_names else 0

    def load(indices: list[int]) -> Any:
        texts = np.empty(len(indices), dtype=object)
        texts[:] = [_read_text(paths[i], max_length) for i in indices]
        return with_labels(texts, labels, indices, label_mode, num_classes)

    source = _HostTextSource(len(paths), load)
    dataset = Dataset(source, class_names=class_names, file_paths=paths)
    return finish_dataset(dataset, shuffle, seed, batch_size)


def text_dataset_from_directory(
    directory: str,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
    format: str = "tf",
) -> Dataset | list[Dataset]:
    """A dataset of texts (and labels) from a directory of class subdirectories of .txt files.

    Args:
        directory: with `labels="inferred"`, one subdirectory per class holding its .txt
            files (nested folders are searched too).
        labels: "inferred" (from the subdirectories, in alphanumeric order), None (texts
            only), or a list of int labels in the sorted order of the file paths.
        label_mode: "int" (int32 labels), "categorical" (float32 one-hot), "binary" (float32,
            shape (batch, 1), exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in this label order.
        batch_size: texts per batch; None yields single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle the files once (with `seed`) and the training order at every pass.
        seed: the shuffling seed; required with `validation_split` when shuffling.
        validation_split: the fraction of files kept for validation (the last ones).
        subset: "training", "validation", or "both" (returns [training, validation]).
        follow_links: follow symbolic links to subdirectories.
        verbose: print how many files and classes were found (and used by each subset).
        format: Keras' choice of a tf.data or a grain dataset ("tf", "grain"); both give a
            lamina Dataset here.

    Returns:
        A `lamina.data.Dataset` yielding `(texts, labels)` (or texts): texts a NumPy array
        of `str`, labels a torch tensor; with `class_names` and `file_paths` attributes. A
        list of two datasets with `subset="both"`.
    """
    if format not in ("tf", "grain"):  # Keras' dataset kinds; both give a lamina Dataset
        raise ValueError(
            f'text_dataset_from_directory: format must be "tf" or "grain"; got {format!r}'
        )
    _check_labels(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_split(validation_split, subset, shuffle, seed)

    def make(paths: list[str], part_labels: Any, names: Any, part_shuffle: bool, seed: int) -> Any:
        return _make_dataset(
            paths, part_labels, label_mode, names, batch_size, max_length, part_shuffle, seed
        )

    return datasets_by_subset(
        directory,
        labels,
        (".txt",),
        class_names,
        label_mode,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
        _NAME,
        "text",
        make,
    )
