"""The MNIST convnet trained with DistributedDataParallel: the same Keras code, launched by
torchrun, one process per GPU (NCCL) or per CPU process (gloo).

LAMINA_DATASETS=../shared/datasets torchrun --nproc_per_node=2 examples/ddp_mnist.py
(without torchrun on the PATH: python -m torch.distributed.run --nproc_per_node=2 ...; for
several machines see `lamina.distribution`.)

`batch_size` is the global batch: each of N processes steps on 128 / N samples of it; every
process logs the same global loss and accuracy, and only process 0 prints and saves.
"""

import numpy as np

import lamina as keras
from lamina import distribution
from lamina.cli import mnist_convnet

keras.utils.set_random_seed(1337)  # the same on every process; DDP starts all from process 0's
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
x_test = np.expand_dims(x_test.astype("float32") / 255, -1)

model = mnist_convnet()  # the classic Keras MNIST convnet, as `lamina demo` trains it
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(
    x_train,
    y_train,
    batch_size=128,
    epochs=3,
    validation_split=0.1,
    callbacks=[keras.callbacks.CSVLogger("ddp_mnist.csv")],  # written by process 0
)
score = model.evaluate(x_test, y_test, verbose=0)  # sharded, summed over processes
if distribution.rank() == 0:
    print("Processes:", distribution.world_size())
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    model.save("ddp_mnist.lamina")  # process 0 writes; the call is a no-op elsewhere
