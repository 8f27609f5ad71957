"""Rebuild the files Keras 3.15.1 wrote (make_files.py) from keras_files.json, a text record of
them: every HDF5 group and array (values exact), and each `.keras` archive's members. The
tests read the rebuilt files; no binary file is kept in the repository. `record_archive` /
`write_archive` do the same for whole `.keras` archives (editor_small.json,
../../distillation/keras_files/distiller.json)."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np

RECORD = Path(__file__).with_name("keras_files.json")


def _array(entry):
    return np.asarray(entry["values"], dtype=entry["dtype"]).reshape(entry["shape"])


def _h5_bytes(record):
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for group in record["groups"]:
            file.require_group(group)
        for path, entry in record["arrays"].items():
            file.create_dataset(path, data=_array(entry))
        for path, attributes in record.get("attrs", {}).items():
            target = file[path] if path else file
            for key, value in attributes.items():
                target.attrs[key] = value
    return buffer.getvalue()


def _h5_record(data):
    """The text record of an HDF5 file's bytes: groups, arrays (values exact), string attrs."""
    import h5py

    record = {"groups": [], "arrays": {}, "attrs": {}}
    with h5py.File(io.BytesIO(data), "r") as file:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                array = obj[()]
                record["arrays"][name] = {
                    "dtype": str(array.dtype),
                    "shape": list(array.shape),
                    "values": np.asarray(array).reshape(-1).tolist(),
                }
            else:
                record["groups"].append(name)
            if len(obj.attrs):
                record["attrs"][name] = {k: str(v) for k, v in obj.attrs.items()}

        file.visititems(visit)
    return record


def record_archive(path):
    """A `.keras` archive as a JSON-able record (see `write_archive`)."""
    record = {"members": []}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            record["members"].append(member)
            data = archive.read(member)
            record[member] = _h5_record(data) if member.endswith(".h5") else data.decode()
    return record


def write_archive(record, path):
    """Write the `.keras` archive `record_archive` recorded; returns the path."""
    with zipfile.ZipFile(path, "w") as archive:
        for member in record["members"]:
            data = record[member]
            archive.writestr(member, _h5_bytes(data) if member.endswith(".h5") else data)
    return path


def materialize(folder):
    """Write the recorded files into `folder`; returns (folder, the expected arrays)."""
    folder = Path(folder)
    record = json.loads(RECORD.read_text())
    for name, entry in record.items():
        if name == "expected":
            continue
        if name.endswith(".keras"):
            with zipfile.ZipFile(folder / name, "w") as archive:
                for member in entry["members"]:
                    data = entry[member]
                    archive.writestr(member, _h5_bytes(data) if member.endswith(".h5") else data)
        else:
            (folder / name).write_bytes(_h5_bytes(entry))
    expected = {key: _array(value) for key, value in record["expected"].items()}
    return folder, expected
