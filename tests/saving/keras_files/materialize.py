"""Rebuild the files Keras 3.15.1 wrote (make_files.py) from keras_files.json, a text record of
them: every HDF5 group and array (values exact), and each `.keras` archive's members. The
tests read the rebuilt files; no binary file is kept in the repository."""

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
    return buffer.getvalue()


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
