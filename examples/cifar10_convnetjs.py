"""The ConvNetJS CIFAR-10 demo (cs.stanford.edu/people/karpathy/convnetjs/demo/cifar10.html),
written as Keras code with `import lamina as keras`.

The network, the data handling and the trainer are the demo's:

- input: pixels / 255 - 0.5, 32x32x3;
- conv 16 5x5 pad 2 relu, pool 2, conv 20 5x5 pad 2 relu, pool 2, conv 20 5x5 pad 2 relu,
  pool 2, softmax 10 (ConvNetJS puts a fully connected layer of 10 before its softmax);
- augmentation: a random horizontal flip (probability 1/2) and a random shift of -2..2 whole
  pixels on each axis, the pixels moved in from outside set to 0 (ConvNetJS' `augment` fills
  with 0 on the centred data, i.e. mid grey; so the shift comes after the rescaling here);
- trainer: adadelta, eps 1e-6, ro 0.95, batch size 4, l2_decay 1e-4;
- initialisation: weights from N(0, 1 / fan_in) (ConvNetJS' `Vol` default), biases 0.1 in the
  relu layers (ConvNetJS' "relus like a bit of positive bias") and 0 in the last layer.

The demo's test accuracy averages the network's output over 6 augmented views of each image
(random shifts, 3 of them flipped); this script evaluates the plain test images.
CIFAR-10 comes from `lamina.datasets.cifar10.load_data()`; with the offline copy its pixels are
JPEG-decoded (lossy) and the loader warns about it.

LAMINA_DATASETS=../shared/datasets python examples/cifar10_convnetjs.py --epochs 1
LAMINA_DATASETS=../shared/datasets python examples/cifar10_convnetjs.py --limit 5000
"""

import argparse
import time

import lamina as keras
from lamina import layers

parser = argparse.ArgumentParser(description="The ConvNetJS CIFAR-10 demo network in lamina.")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
parser.add_argument("--batch-size", type=int, default=4)
args = parser.parse_args()

start = time.perf_counter()
keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
if args.limit is not None:
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]

# ConvNetJS' l2_decay, mapped onto Keras terms. Its trainer sums the per-sample gradients g of a
# batch and steps on (g + l2_decay * w) / batch_size, before adadelta's running averages, and
# only for weights (biases have l2_decay_mul = 0). That is coupled L2: the gradient of a loss
# term l2 * sum(w**2) added to the mean batch loss, which is what `kernel_regularizer` does,
# with 2 * l2 = l2_decay / batch_size. The optimizer's `weight_decay` would be the wrong
# mapping: Keras' (and lamina's) is decoupled (w -= lr * weight_decay * w, outside adadelta's
# adaptive scaling) and reaches the biases too.
L2_DECAY = 1e-4
regularizer = keras.regularizers.L2(L2_DECAY / (2 * args.batch_size))
# ConvNetJS draws weights from N(0, 1 / fan_in), not truncated.
weights = keras.initializers.VarianceScaling(1.0, "fan_in", "untruncated_normal")


def conv(filters: int) -> layers.Conv2D:
    return layers.Conv2D(
        filters,
        5,
        padding="same",  # pad 2 with 5x5 kernels, stride 1
        activation="relu",
        kernel_initializer=weights,
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_regularizer=regularizer,
    )


model = keras.Sequential(
    [
        keras.Input(shape=(32, 32, 3)),
        layers.Rescaling(1 / 255, offset=-0.5),
        layers.RandomFlip("horizontal"),
        layers.RandomShift(2),
        conv(16),
        layers.MaxPooling2D(2),
        conv(20),
        layers.MaxPooling2D(2),
        conv(20),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(
            10,
            activation="softmax",
            kernel_initializer=weights,
            kernel_regularizer=regularizer,
        ),
    ]
)
model.summary()
model.compile(
    # ConvNetJS' adadelta has no learning rate: it is Zeiler's rule, learning_rate=1.0.
    optimizer=keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-6),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
fit_start = time.perf_counter()
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs)
fit_seconds = time.perf_counter() - fit_start
loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
print(f"Trained on {len(x_train)} images for {args.epochs} epoch(s), batch {args.batch_size}")
print(f"Test loss: {loss:.4f}")
print(f"Test accuracy: {accuracy:.4f}")
print(f"Wall time: {time.perf_counter() - start:.1f} s ({fit_seconds:.1f} s in fit)")
