"""The compiled steps' torch.compile backend (lamina.training.jit.compile_step): on the CPU,
AOTAutograd's partitioner recomputes views instead of saving ReLU masks."""

import numpy as np
import torch
import torch.nn.functional as F

import lamina
from lamina import layers
from lamina.training.jit import compile_step


def _conv_relu_conv(x, w1, w2):
    """lamina's pattern: (N, H, W, C) tensors, convolutions on their NCHW views."""
    y = F.conv2d(x.permute(0, 3, 1, 2), w1, padding=1).permute(0, 2, 3, 1)
    y = torch.relu(y)
    return F.conv2d(y.permute(0, 3, 1, 2), w2, padding=1)


def _inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 6, 3, generator=generator)
    w1 = torch.randn(4, 3, 3, 3, generator=generator, requires_grad=True)
    w2 = torch.randn(5, 4, 3, 3, generator=generator, requires_grad=True)
    return x, w1, w2


def test_cpu_steps_save_the_activation_not_a_relu_mask():
    x, w1, w2 = _inputs()
    torch._dynamo.reset()
    default = torch.compile(_conv_relu_conv)(x, w1, w2)
    # torch's default partition saves a bool mask for the ReLU's backward beside the view
    assert torch.bool in [t.dtype for t in default.grad_fn.saved_tensors]
    torch._dynamo.reset()
    out = compile_step(_conv_relu_conv, {}, torch.device("cpu"))(x, w1, w2)
    assert torch.bool not in [t.dtype for t in out.grad_fn.saved_tensors]
    out.square().sum().backward()
    compiled_grads = [w1.grad.clone(), w2.grad.clone()]
    w1.grad = w2.grad = None
    _conv_relu_conv(x, w1, w2).square().sum().backward()
    for compiled, eager in zip(compiled_grads, [w1.grad, w2.grad], strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-4)


def test_compiled_fit_of_a_conv_bn_relu_net_matches_eager_on_cpu():
    def losses(jit_compile):
        lamina.utils.set_random_seed(3)
        model = lamina.Sequential(
            [
                layers.Input((8, 8, 3)),
                layers.Conv2D(4, 3, padding="same", use_bias=False),
                layers.BatchNormalization(),
                layers.Activation("relu"),
                layers.Conv2D(4, 3, strides=2, padding="same"),
                layers.Activation("relu"),
                layers.GlobalAveragePooling2D(),
                layers.Dense(3),
            ]
        )
        model.compile(
            optimizer=lamina.optimizers.SGD(0.1, momentum=0.9),
            loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
        )
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 8, 8, 3)).astype("float32")
        y = rng.integers(0, 3, 32)
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        return history.history["loss"]

    np.testing.assert_allclose(losses(True), losses(False), rtol=1e-4)
