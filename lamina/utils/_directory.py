"""Indexing a dataset folder as Keras does: class subfolders (or given labels), file order,
labels and the seeded shuffle, shared by `image_dataset_from_directory` and
`text_dataset_from_directory`.

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name in ("b", "a"):
...     os.makedirs(os.path.join(root, name))
...     open(os.path.join(root, name, "1.txt"), "w").close()
>>> paths, labels, names = index_directory(root, "inferred", (".txt",), shuffle=False)
Found 2 files belonging to 2 classes.
>>> names, labels.tolist()
(['a', 'b'], [0, 1])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["index_directory"]


def _files_under(directory: str, follow_links: bool, formats: tuple[str, ...]) -> list[str]:
    """Files with one of `formats` under `directory`, in Keras' order: by folder, then name."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return found


def index_directory(
    directory: str,
    labels: str | Sequence[int] | None,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
    caller: str = "index_directory",
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """The files of a dataset directory, their int32 labels and the class names, as Keras.

    With `labels="inferred"` each visible subdirectory is a class (alphanumeric order, or the
    order of `class_names`); otherwise every file under `directory` is taken, in sorted walk
    order, with `labels` (a list in that order) or no labels. Prints "Found N files belonging
    to K classes." when `verbose`. `shuffle` permutes files and labels with
    `np.random.RandomState(seed)`, as Keras does, so the same seed gives Keras' order.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"{caller}: {directory!r} is not a directory")
    if labels == "inferred":
        subdirs = [
            d
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    f"{caller}: class_names must name subdirectories of {directory!r}: "
                    f"expected some of {subdirs}; got class_names={list(class_names)}"
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(
                f"{caller}: class_names can only be given with labels='inferred'; got "
                f"labels={labels!r}. Without labels there are no classes; with a list of "
                "labels the class names are its sorted values."
            )
        subdirs = [""]
    paths: list[str] = []
    indices: list[int] = []
    for index, subdir in enumerate(subdirs):
        found = _files_under(os.path.join(directory, subdir), follow_links, formats)
        paths += found
        indices += [index] * len(found)
    names: list[str] | None
    label_array: np.ndarray | None
    if labels == "inferred":
        names, label_array = list(subdirs), np.asarray(indices, dtype="int32")
    elif labels is None:
        names, label_array = None, None
    else:
        if len(labels) != len(paths):
            raise ValueError(
                f"{caller}: got {len(labels)} labels for the {len(paths)} files found in "
                f"{directory!r}; give one label per file, in sorted path order."
            )
        label_array = np.asarray(labels, dtype="int32")
        names = [str(label) for label in sorted(set(labels))]
    if verbose:
        classes = "" if names is None else f" belonging to {len(names)} classes"
        print(f"Found {len(paths)} files{classes}.")
    if shuffle:
        # Keras' global shuffle: one permutation of paths and labels, drawn from the seed.
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, names
