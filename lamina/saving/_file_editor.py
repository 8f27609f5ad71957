"""`KerasFileEditor`: inspect and edit the weights inside a Keras 3 `.weights.h5` file or
`.keras` archive, then write them out as a `.weights.h5` file.

The file's HDF5 groups become nested dicts: a Keras object's group (`layers/dense`) is a
dict of its arrays (the `vars` group's `0`, `1`, ... read as NumPy arrays) and of its
sub-objects' dicts (`lstm` holds `cell`, a nested model `layers`). Keras 3.15's editor
drops the objects whose own `vars` group is empty (recurrent layers, Bidirectional,
MultiHeadAttention, nested models); lamina keeps them. Only numeric arrays and JSON are
read; links and virtual or external datasets are refused.

>>> import tempfile, h5py, numpy as np
>>> path = tempfile.mkdtemp() + "/model.weights.h5"
>>> with h5py.File(path, "w") as f:
...     f["layers/dense/vars/0"] = np.ones((3, 2), "float32")
...     f["layers/dense/vars/1"] = np.zeros(2, "float32")
>>> editor = KerasFileEditor(path)  # doctest: +ELLIPSIS
Keras model file '...model.weights.h5'
>>> editor.rename_object("dense", "dense_1")
>>> sorted(editor.weights_dict["layers"])
['dense_1']
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .keras_format import HDF5_SIGNATURE, import_h5py, keras_weights_bytes

__all__ = ["KerasFileEditor"]

# One array above 4 GiB is refused, as Keras does, so a malformed header cannot make the
# reader allocate without bound.
_MAX_ARRAY_BYTES = 1 << 32
_WEIGHTS_SUFFIX = ".weights.h5"


def _read_tree(group: Any, h5py: Any, where: str, metadata: dict[str, dict[str, Any]]) -> dict:
    """The nested dict of `group`: its `vars` arrays and its sub-groups (empty ones left out).
    Attributes go to `metadata` under the object's path (Keras puts them on `vars`)."""
    owner = where.removesuffix("/vars")
    if group.attrs and owner:  # Keras keeps no metadata for the model itself
        metadata[owner] = {key: _plain(value) for key, value in group.attrs.items()}
    tree: dict[str, Any] = {}
    for key in group:
        path = f"{where}/{key}"
        link = group.get(key, getclass=True, getlink=True)
        if link in (h5py.SoftLink, h5py.ExternalLink):
            raise ValueError(f"KerasFileEditor: '{path}' is an HDF5 {link.__name__}; refused")
        item = group[key]
        if isinstance(item, h5py.Group):
            child = _read_tree(item, h5py, path, metadata)
            if key == "vars":
                for name, value in child.items():
                    if name in tree:
                        raise ValueError(f"KerasFileEditor: '{where}' has two entries '{name}'")
                    tree[name] = value
            elif child:
                tree[key] = child
        elif isinstance(item, h5py.Dataset):
            tree[key] = _read_array(item, path)
    return tree


def _read_array(dataset: Any, path: str) -> np.ndarray:
    if dataset.external or dataset.is_virtual:
        raise ValueError(f"KerasFileEditor: '{path}' is an external or virtual dataset; refused")
    if dataset.dtype.kind not in "fiub":
        raise ValueError(f"KerasFileEditor: '{path}' has dtype {dataset.dtype}; not numeric")
    size = math.prod(dataset.shape) * dataset.dtype.itemsize
    if len(dataset.shape) > 64 or size > _MAX_ARRAY_BYTES:
        raise ValueError(f"KerasFileEditor: '{path}' of shape {dataset.shape} is too large")
    return np.asarray(dataset[()])


def _plain(value: Any) -> Any:
    """An HDF5 attribute as a Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value.item() if isinstance(value, np.generic) else value


def _tree_of_bytes(data: bytes, source: str) -> tuple[dict, dict]:
    h5py = import_h5py()
    if not data.startswith(HDF5_SIGNATURE):
        raise ValueError(f"KerasFileEditor: {source} is not an HDF5 file")
    metadata: dict[str, dict[str, Any]] = {}
    with h5py.File(io.BytesIO(data), "r") as file:
        return _read_tree(file, h5py, "", metadata), metadata


def _as_arrays(weights: Any, what: str) -> dict[str, np.ndarray]:
    if not isinstance(weights, dict):
        raise ValueError(
            f"KerasFileEditor.{what}: weights must be a dict of weight names ('0', '1', ...) "
            f"to arrays; got {type(weights).__name__}"
        )
    arrays = {}
    for name, value in weights.items():
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().numpy()
        arrays[str(name)] = np.asarray(value)
    return arrays


def _count(tree: dict, name: str) -> int:
    return sum(
        (key == name) + (_count(value, name) if isinstance(value, dict) else 0)
        for key, value in tree.items()
    )


def _lines(tree: dict, prefix: str, names: dict[str, str], where: str) -> list[str]:
    lines = []
    for index, (key, value) in enumerate(tree.items()):
        last = index == len(tree) - 1
        connector = "└─ " if last else "├─ "
        path = f"{where}/{key}"
        if isinstance(value, dict):
            label = f"{prefix}{connector}{key}"
            if path in names:
                label += f" ('{names[path]}')"
            lines.append(label)
            lines += _lines(value, prefix + ("    " if last else "│   "), names, path)
        else:
            lines.append(f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}")
    return lines


class KerasFileEditor:
    """Inspect and edit the weights of a Keras 3 `.weights.h5` file or `.keras` archive.

    Objects are named by their path in the file (`"layers/dense_2"`) or, when the name
    occurs once in the file, by the last part alone (`"dense_2"`).

    Args:
        filepath: a `.weights.h5` file or a `.keras` archive written by Keras 3 (or lamina's
            `save_weights`).

    Attributes:
        weights_dict: the nested dicts of arrays, edited in place by the methods.
        object_metadata: HDF5 attributes by group path (Keras stores the layer's `name`).
        config, metadata: a `.keras` archive's `config.json` and `metadata.json` (else None).

    >>> import tempfile, h5py, numpy as np
    >>> path = tempfile.mkdtemp() + "/w.weights.h5"
    >>> with h5py.File(path, "w") as f:
    ...     f["layers/dense/vars/0"] = np.ones((3, 2), "float32")
    >>> editor = KerasFileEditor(path)  # doctest: +ELLIPSIS
    Keras model file '...w.weights.h5'
    >>> editor.summary()
    Weights structure
      └─ layers
          └─ dense
              └─ 0: shape=(3, 2), dtype=float32
    """

    def __init__(self, filepath: str | os.PathLike[str]) -> None:
        self.filepath = str(filepath)
        self.config: Any = None
        self.metadata: Any = None
        if self.filepath.endswith(".keras"):
            data = self._read_archive(Path(self.filepath))
        elif self.filepath.endswith(_WEIGHTS_SUFFIX):
            data = Path(self.filepath).read_bytes()
        else:
            raise ValueError(
                f"KerasFileEditor: expected a '.keras' or '.weights.h5' file; got {self.filepath!r}"
            )
        self.weights_dict, self.object_metadata = _tree_of_bytes(data, repr(self.filepath))
        print(f"Keras model file '{self.filepath}'")
        if isinstance(self.metadata, dict) and "keras_version" in self.metadata:
            date = self.metadata.get("date_saved", "unknown")
            print(f"Saved with Keras {self.metadata['keras_version']} - date: {date}")

    def _read_archive(self, path: Path) -> bytes:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "model.weights.h5" not in members:
                raise ValueError(
                    f"KerasFileEditor: {self.filepath!r} is not a Keras 3 archive (no "
                    f"model.weights.h5; members {sorted(members)}). A lamina archive keeps its "
                    "weights in model.safetensors: open it with lamina.saving.load_model"
                )
            for member, attribute in (("config.json", "config"), ("metadata.json", "metadata")):
                if member in members:
                    setattr(self, attribute, json.loads(archive.read(member)))
            return archive.read("model.weights.h5")

    # ------------------------------------------------------------------ inspecting

    def summary(self) -> None:
        """Print the objects and arrays of the file as a tree."""
        names = {
            path: str(attributes["name"])
            for path, attributes in self.object_metadata.items()
            if "name" in attributes
        }
        print("\n".join(["Weights structure", *_lines(self.weights_dict, "  ", names, "")]))

    def weights_summary(self) -> None:
        """The same tree as `summary()`."""
        self.summary()

    def compare(self, reference_model: Any) -> dict[str, Any]:
        """List the differences between the file and `reference_model`'s weights (in
        Keras' file layout): objects or arrays missing on either side, shapes that differ.

        Returns:
            `{'status': 'success' or 'error', 'error_count': ..., 'match_count': ...}`, each
            array counted once (Keras 3.15 counts matches twice). A file's optimizer state is
            left out (lamina's optimizer state has no Keras layout to compare with).
        """
        print("Running comparison")
        reference, _ = _tree_of_bytes(keras_weights_bytes(reference_model), "the model")
        saved = self.weights_dict
        if "optimizer" in saved and "optimizer" not in reference:
            # lamina's optimizers keep torch's state, which has no Keras file layout.
            print("...The file's optimizer state is not compared")
            saved = {key: value for key, value in saved.items() if key != "optimizer"}
        messages: list[str] = []
        matches = self._compare(saved, reference, "", messages)
        print("─────────────────────")
        if messages:
            print(
                f"Found {len(messages)} error{'s' if len(messages) != 1 else ''}: saved file "
                "is not compatible with the reference model"
            )
        else:
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {matches} matching weight{'s' if matches != 1 else ''}")
        return {
            "status": "error" if messages else "success",
            "error_count": len(messages),
            "match_count": matches,
        }

    def _compare(self, saved: dict, reference: dict, where: str, messages: list[str]) -> int:
        matches = 0
        for key in [*reference, *(k for k in saved if k not in reference)]:
            path = f"{where}/{key}"
            mine, theirs = saved.get(key), reference.get(key)
            kind = "Object" if isinstance(mine if theirs is None else theirs, dict) else "Weight"
            if mine is None or theirs is None:
                side, other = ("reference model", "saved file")
                if theirs is None:
                    side, other = other, side
                message = f"...{kind} {path} present in {side}, missing from {other}"
                keys = mine if theirs is None else theirs
                if isinstance(keys, dict):
                    message += f"\n    In {side}, {path} contains the following keys: {list(keys)}"
            elif isinstance(mine, dict) != isinstance(theirs, dict):
                message = f"...{path} is an object on one side and a weight on the other"
            elif isinstance(mine, dict):
                matches += self._compare(mine, theirs, path, messages)
                continue
            elif mine.shape != theirs.shape:
                message = (
                    f"...Weight shape mismatch for {path}\n    In reference model: "
                    f"shape={theirs.shape}\n    In saved file: shape={mine.shape}"
                )
            else:
                matches += 1
                continue
            messages.append(message)
            print(message)
        return matches

    # ------------------------------------------------------------------ editing

    def _edit(self, function: Callable[[dict, str], None], name: str) -> None:
        """Apply `function(parent_dict, key)` to the object `name` (a path or a unique name)."""
        if "/" in name:
            *parents, leaf = name.strip("/").split("/")
            node = self.weights_dict
            for part in parents:
                if not isinstance(node.get(part), dict):
                    raise ValueError(f"KerasFileEditor: path '{name}' not found in the file")
                node = node[part]
            if leaf not in node:
                raise ValueError(f"KerasFileEditor: path '{name}' not found in the file")
            function(node, leaf)
            return
        found = _count(self.weights_dict, name)
        if found == 0:
            raise ValueError(
                f"KerasFileEditor: '{name}' does not appear in the file; summary() lists the "
                "objects"
            )
        if found > 1:
            raise ValueError(
                f"KerasFileEditor: '{name}' occurs {found} times in the file; pass its full "
                "path (e.g. 'layers/dense')"
            )

        def visit(node: dict) -> None:
            for value in list(node.values()):
                if isinstance(value, dict):
                    visit(value)
            if name in node:
                function(node, name)

        visit(self.weights_dict)

    def _object(self, parent: dict, key: str, name: str) -> dict:
        if not isinstance(parent[key], dict):
            raise ValueError(f"KerasFileEditor: '{name}' is a weight, not an object")
        return parent[key]

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (`"dense_2"` or `"layers/dense_2"`) to `new_name` (a leaf name)."""
        if "/" in new_name:
            raise ValueError(
                f"KerasFileEditor.rename_object: new_name must be a name, not a path; got "
                f"{new_name!r}"
            )

        def rename(parent: dict, key: str) -> None:
            if new_name in parent:
                raise ValueError(f"KerasFileEditor: '{new_name}' already exists beside '{key}'")
            # Rebuild the dict so the renamed object keeps its place (files are positional).
            items = [(new_name if k == key else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)

        self._edit(rename, object_name)

    def delete_object(self, object_name: str) -> None:
        """Remove an object (a layer and its arrays) from the file."""
        self._edit(lambda parent, key: parent.pop(key), object_name)

    def add_object(self, object_path: str, weights: dict[str, Any]) -> None:
        """Add an object at `object_path` (`"layers/dense_2"`) holding `weights`
        (`{"0": kernel, "1": bias}`)."""
        arrays = _as_arrays(weights, "add_object")
        *parents, leaf = object_path.strip("/").split("/")
        node = self.weights_dict
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ValueError(
                    f"KerasFileEditor.add_object: path '{'/'.join(parents)}' not found in the file"
                )
            node = node[part]
        if leaf in node:
            raise ValueError(f"KerasFileEditor.add_object: '{object_path}' already exists")
        node[leaf] = arrays

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove the array `weight_name` (`"0"`) of an object."""

        def delete(parent: dict, key: str) -> None:
            target = self._object(parent, key, object_name)
            if weight_name not in target or isinstance(target[weight_name], dict):
                weights = [k for k, v in target.items() if not isinstance(v, dict)]
                raise ValueError(
                    f"KerasFileEditor: no weight '{weight_name}' in '{object_name}'; it has "
                    f"{weights}"
                )
            target.pop(weight_name)

        self._edit(delete, object_name)

    def add_weights(self, object_name: str, weights: dict[str, Any]) -> None:
        """Add (or replace) arrays of an existing object: `{"2": array}`."""
        arrays = _as_arrays(weights, "add_weights")
        self._edit(
            lambda parent, key: self._object(parent, key, object_name).update(arrays), object_name
        )

    # ------------------------------------------------------------------ writing

    def save(self, filepath: str | os.PathLike[str]) -> None:
        """Write the edited weights to a `.weights.h5` file (Keras 3's layout)."""
        filepath = str(filepath)
        if not filepath.endswith(_WEIGHTS_SUFFIX):
            raise ValueError(
                f"KerasFileEditor.save: expected a '.weights.h5' path; got {filepath!r}"
            )
        h5py = import_h5py()
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as file:
            self._write(self.weights_dict, file)
        temporary = f"{filepath}.tmp"
        Path(temporary).write_bytes(buffer.getvalue())
        os.replace(temporary, filepath)

    def resave_weights(self, filepath: str | os.PathLike[str]) -> None:
        """The same as `save(filepath)`."""
        self.save(filepath)

    def _write(self, tree: dict, group: Any) -> None:
        arrays = {k: v for k, v in tree.items() if not isinstance(v, dict)}
        if arrays:
            own = group.create_group("vars")
            for name, value in arrays.items():
                own.create_dataset(name, data=np.asarray(value))
        for name, value in tree.items():
            if isinstance(value, dict) and value:
                self._write(value, group.create_group(name))
