"""Gradient accumulation (`gradient_accumulation_steps`), checked against Keras 3.15.1.

The reference values come from the same program run on Keras (torch backend): a 5-4-2 MLP
with fixed weights, 32 samples, batch 4, 2 epochs, no shuffling.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina.optimizers import SGD, Adagrad, Adam
from lamina.optimizers.schedules import ExponentialDecay

# loss history, first 5 first-kernel values after training, optimizer.iterations
KERAS = {
    "adam": (
        [0.21019211411476135, 0.11727150529623032],
        [-0.14844949543, 0.25933098793, 0.00680563413, -0.08562366664, 0.51488381624],
        5,
    ),
    "sgd": (
        [0.25138726830482483, 0.1050509661436081],
        [-0.30245345831, 0.39976206422, 0.13564741612, -0.22963267565, 0.45314770937],
        8,
    ),
    "adagrad": (
        [0.19362890720367432, 0.09660007059574127],
        [-0.29276302457, 0.36861070991, 0.10471275449, -0.21286261082, 0.44537633657],
        8,
    ),
}
OPTIMIZERS = {
    "adam": lambda: Adam(0.05, gradient_accumulation_steps=3),
    "sgd": lambda: SGD(ExponentialDecay(0.1, 2, 0.5), momentum=0.9, gradient_accumulation_steps=2),
    "adagrad": lambda: Adagrad(0.1, gradient_accumulation_steps=2, clipnorm=0.5),
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_fit_with_accumulation_matches_keras(name):
    rng = np.random.RandomState(0)
    x, y = rng.rand(32, 5).astype("float32"), rng.rand(32, 2).astype("float32")
    w1, w2 = rng.rand(5, 4).astype("float32") - 0.5, rng.rand(4, 2).astype("float32") - 0.5
    model = lamina.Sequential(
        [lamina.Input((5,)), lamina.layers.Dense(4, activation="tanh"), lamina.layers.Dense(2)]
    )
    model.set_weights([w1, np.zeros(4, "float32"), w2, np.zeros(2, "float32")])
    model.compile(OPTIMIZERS[name](), "mse")
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    losses, kernel, iterations = KERAS[name]
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[0].ravel()[:5], kernel, atol=2e-6)
    assert model.optimizer.iterations == iterations


def test_accumulating_k_steps_equals_one_step_on_the_mean_gradient():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(3, 2))
    q = torch.nn.Parameter(p.detach().clone())
    grads = [torch.randn(3, 2) for _ in range(4)]
    accumulating, plain = Adam(0.1, gradient_accumulation_steps=4), Adam(0.1)
    accumulating.build([p])
    plain.build([q])
    for g in grads[:3]:
        accumulating.apply_gradients([(g, p)])
        assert torch.equal(p, q)  # nothing applied before the 4th call
    accumulating.apply_gradients([(grads[3], p)])
    plain.apply_gradients([(sum(grads) / 4, q)])
    torch.testing.assert_close(p, q)
    assert accumulating.iterations == plain.iterations == 1
