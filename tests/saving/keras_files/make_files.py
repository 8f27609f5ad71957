"""Records, with Keras 3.15.1 (KERAS_BACKEND=torch), small models saved by Keras with their inputs
and predictions: the files are written here, then recorded as text in keras_files.json (every
HDF5 group and array, each archive's members) and deleted; materialize.py rebuilds them."""

import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
out = {}

# 1. a small convnet: conv, batch norm, pooling, residual add, dropout, dense; Adam + accuracy
i = keras.Input((8, 8, 1))
x = layers.Conv2D(4, 3, activation="relu")(i)
x = layers.BatchNormalization()(x)
x = layers.MaxPooling2D()(x)
y = layers.Conv2D(4, 3, padding="same")(x)
x = layers.Add()([x, y])
x = layers.Flatten()(x)
x = layers.Dropout(0.2)(x)
o = layers.Dense(3, activation="softmax")(x)
conv = keras.Model(i, o)
conv.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
xc = rng.random((16, 8, 8, 1)).astype("float32")
yc = rng.integers(0, 3, 16)
conv.fit(xc, yc, epochs=2, verbose=0)
conv.save("convnet.keras")
conv.save_weights("convnet.weights.h5")
out["conv_x"] = xc[:4]
out["conv_y"] = yc[:4]
out["conv_pred"] = conv.predict(xc[:4], verbose=0)
out["conv_eval"] = np.array(conv.evaluate(xc[:4], yc[:4], verbose=0))

# 2. sequences: Embedding(mask_zero), Bidirectional GRU, TimeDistributed, MultiHeadAttention,
#    a nested Sequential with named layers, LSTM, Dense
inner = keras.Sequential(
    [keras.Input((5, 8)), layers.Dense(8, name="inner"), layers.LayerNormalization()], name="block"
)
i = keras.Input((5,), dtype="int32")
x = layers.Embedding(12, 4, mask_zero=True)(i)
x = layers.Bidirectional(layers.GRU(4, return_sequences=True))(x)
x = layers.TimeDistributed(layers.Dense(8))(x)
x = layers.MultiHeadAttention(2, 4)(x, x)
x = inner(x)
x = layers.LSTM(3)(x)
o = layers.Dense(1)(x)
seq = keras.Model(i, o)
seq.compile("sgd", "mse")
ids = rng.integers(0, 12, (6, 5))
ids[:, 3:] = 0
seq.fit(ids, rng.random((6, 1)), epochs=1, verbose=0)
seq.save("sequence.keras")
out["seq_x"] = ids
out["seq_pred"] = seq.predict(ids, verbose=0)

# 3. branches of one class, named out of order, into Concatenate: slots follow model.layers
i = keras.Input((4,))
b = layers.Dense(3, name="zz_second")(i)
a = layers.Dense(2, name="aa_first")(i)
c = layers.Concatenate()([a, b])
o = layers.Dense(1, name="head")(layers.Dense(5, activation="tanh")(c))
branch = keras.Model(i, o)
xb = rng.random((3, 4)).astype("float32")
branch.save_weights("branches.weights.h5")
out["branch_x"] = xb
out["branch_pred"] = branch.predict(xb, verbose=0)

# 4. a Sequential with a Lambda layer (code in the file): lamina refuses it in safe mode
lam = keras.Sequential([keras.Input((2,)), layers.Lambda(lambda t: t * 2), layers.Dense(1)])
lam.save("lambda.keras")
np.savez("expected.npz", **out)


def h5_record(data):
    import io

    import h5py

    groups, arrays = [], {}
    with h5py.File(io.BytesIO(data), "r") as file:

        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                array = np.asarray(item[()])
                arrays[name] = {
                    "dtype": str(array.dtype),
                    "shape": list(array.shape),
                    "values": [v.item() for v in array.reshape(-1)],
                }
            else:
                groups.append(name)

        file.visititems(visit)
    return {"groups": groups, "arrays": arrays}


def record_and_delete():
    import json
    import os
    import zipfile

    record = {}
    for name in ("convnet.keras", "sequence.keras", "lambda.keras"):
        with zipfile.ZipFile(name) as archive:
            record[name] = {
                "members": [info.filename for info in archive.infolist()],
                "config.json": archive.read("config.json").decode(),
                "metadata.json": archive.read("metadata.json").decode(),
                "model.weights.h5": h5_record(archive.read("model.weights.h5")),
            }
    for name in ("convnet.weights.h5", "branches.weights.h5"):
        with open(name, "rb") as handle:
            record[name] = h5_record(handle.read())
    expected = np.load("expected.npz")
    record["expected"] = {
        key: {
            "dtype": str(expected[key].dtype),
            "shape": list(expected[key].shape),
            "values": [v.item() for v in expected[key].reshape(-1)],
        }
        for key in expected.files
    }
    with open("keras_files.json", "w") as handle:
        json.dump(record, handle, separators=(",", ":"))
    for name in (*record, "expected.npz"):
        if os.path.exists(name):
            os.remove(name)


record_and_delete()
