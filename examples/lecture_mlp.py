"""The lecture's first Keras model, verbatim, on a small learnable problem."""

import numpy as np

from lamina.layers import Activation, Dense
from lamina.models import Sequential

rng = np.random.default_rng(0)
labels = rng.integers(0, 10, size=2000)
centers = rng.normal(size=(10, 100))
x_train = (centers[labels] + 3.0 * rng.normal(size=(2000, 100))).astype("float32")
y_train = np.eye(10, dtype="float32")[labels]

model = Sequential()
model.add(Dense(units=64, input_dim=100))
model.add(Activation("relu"))
model.add(Dense(units=10))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5, batch_size=32)
