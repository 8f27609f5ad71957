"""Writes, with Keras 3.15.1 (KERAS_BACKEND=torch), the small archive the KerasFileEditor tests
read (editor_small.keras, kept as the text record editor_small.json: a trained Sequential
Dense -> BatchNorm -> Dense) and
editor_expected.json: an input, Keras' predictions, and the weights tree and metadata Keras'
KerasFileEditor reads from the model's .weights.h5 file. That file is deleted (*.h5 files are
not kept in the repository); the tests take the same layout from the archive's
model.weights.h5."""

import json
import os

import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
model = keras.Sequential(
    [
        keras.Input((3,)),
        layers.Dense(4, activation="relu", name="d1"),
        layers.BatchNormalization(name="bn"),
        layers.Dense(2, name="d2"),
    ]
)
model.compile(keras.optimizers.Adam(0.01), "mse")
x = rng.random((8, 3)).astype("float32")
model.fit(x, rng.random((8, 2)).astype("float32"), epochs=2, verbose=0)
model.save_weights("editor_small.weights.h5")
model.save("editor_small.keras")

editor = keras.saving.KerasFileEditor("editor_small.weights.h5")


def shapes(tree, where=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(shapes(value, f"{where}/{key}"))
        else:
            out[f"{where}/{key}"] = list(value.shape)
    return out


record = {
    "x": x[:3].tolist(),
    "prediction": model.predict(x[:3], verbose=0).tolist(),
    "tree": shapes(editor.weights_dict),
    "object_metadata": {k: dict(v) for k, v in editor.object_metadata.items()},
}
with open("editor_expected.json", "w") as handle:
    json.dump(record, handle, indent=1)
os.remove("editor_small.weights.h5")

# The archive is kept as a text record (editor_small.json), as keras_files.json is.
from materialize import record_archive  # noqa: E402

with open("editor_small.json", "w") as handle:
    json.dump(record_archive("editor_small.keras"), handle)
os.remove("editor_small.keras")
