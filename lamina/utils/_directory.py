"""Indexing a dataset folder as Keras does: class subfolders (or given labels), file order,
labels, the seeded shuffle and the training/validation split, shared by
`image_dataset_from_directory`, `text_dataset_from_directory` and
`audio_dataset_from_directory`.

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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["datasets_by_subset", "index_directory"]


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


def datasets_by_subset(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None,
    label_mode: str | None,
    shuffle: bool,
    seed: int | None,
    validation_split: float | None,
    subset: str | None,
    follow_links: bool,
    verbose: bool,
    caller: str,
    kind: str,
    make: Callable[[list[str], Any, list[str] | None, bool, int], Any],
) -> Any:
    """Index `directory`, split it as Keras does (the last `validation_split` of the shuffled
    files is the validation part) and make one dataset per subset with
    `make(paths, labels, class_names, shuffle, seed)`; a list of two for subset="both" (its
    validation part not shuffled, as Keras)."""
    if seed is None:
        seed = int(np.random.randint(1e6))
    paths, label_array, names = index_directory(
        os.fspath(directory),
        labels,
        formats,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
        caller=caller,
    )
    if label_mode == "binary" and len(names or []) != 2:
        raise ValueError(
            f"{caller}: label_mode='binary' needs exactly 2 classes; got class_names={names}"
        )
    validation_count = int(validation_split * len(paths)) if validation_split else 0
    datasets = []
    for part in ["training", "validation"] if subset == "both" else [subset]:
        part_paths, part_labels = paths, label_array
        if part is not None:
            cut = len(paths) - validation_count
            chosen = slice(0, cut) if part == "training" else slice(cut, None)
            part_paths = paths[chosen]
            part_labels = None if label_array is None else label_array[chosen]
            if verbose:
                print(f"Using {len(part_paths)} files for {part}.")
        if not part_paths:
            which = f"{part} {kind} files" if subset == "both" else f"{kind} files"
            allowed = ", ".join(formats)
            raise ValueError(
                f"{caller}: no {which} found in directory {directory}. Allowed format: {allowed}"
            )
        part_shuffle = shuffle and not (subset == "both" and part == "validation")
        datasets.append(make(part_paths, part_labels, names, part_shuffle, seed))
    return datasets if subset == "both" else datasets[0]


def with_labels(
    batch: Any, labels: Any, indices: list[int], label_mode: str | None, num_classes: int
) -> Any:
    """`batch`, or `(batch, labels)` encoded as Keras' `label_mode` says: "int" (int32),
    "binary" (float32, shape (n, 1)) or "categorical" (float32 one-hot)."""
    import torch
    import torch.nn.functional as F

    if label_mode is None or labels is None:
        return batch
    batch_labels = torch.from_numpy(labels[indices])
    if label_mode == "binary":
        return batch, batch_labels.to(torch.float32).unsqueeze(-1)
    if label_mode == "categorical":
        return batch, F.one_hot(batch_labels.long(), num_classes).to(torch.float32)
    return batch, batch_labels


def finish_dataset(dataset: Any, shuffle: bool, seed: int | None, batch_size: int | None) -> Any:
    """Keras' directory-dataset pipeline: shuffled (seeded), batched, prefetched."""
    if shuffle:
        dataset = dataset.shuffle(seed=seed)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset.prefetch(2)
