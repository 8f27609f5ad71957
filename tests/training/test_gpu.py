"""CUDA checks (run where a GPU is present): fit trains there with no host sync per step."""

import numpy as np
import pytest
import torch

import lamina
from lamina.cli import mnist_convnet

pytestmark = [
    pytest.mark.gpu,
    # torch.compile's advice on CUDA cards with TF32; lamina keeps torch's float32 default.
    pytest.mark.filterwarnings("ignore:TensorFloat32 tensor cores:UserWarning"),
    # torch's cudagraph trees capture an empty graph for their memory pool (torch 2.11)
    pytest.mark.filterwarnings("ignore:The CUDA Graph is empty:UserWarning"),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def on_cuda():
    lamina.config.set_device("cuda")
    yield
    lamina.config.set_device(None)


def data(n=512):
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def test_fit_trains_on_the_gpu_and_predict_returns_numpy():
    x, y = data()
    model = mnist_convnet()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, validation_split=0.25)
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert np.isfinite(history.history["val_loss"]).all()
    prediction = model.predict(x[:10], verbose=0)
    assert isinstance(prediction, np.ndarray) and prediction.shape == (10, 10)
    # A CPU tensor or array given to the model moves to the model's device.
    assert model(torch.from_numpy(x[:3])).device.type == "cuda"


@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype")
def test_train_steps_do_not_synchronise_with_the_host():
    x, y = data()
    model = mnist_convnet()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], batch_size=64, epochs=1, verbose=0)  # builds, creates metrics
    trainer = model._trainer
    xs = torch.from_numpy(x).cuda()
    ys = torch.from_numpy(y).cuda()
    model.train()
    torch.cuda.synchronize()
    try:
        torch.cuda.set_sync_debug_mode("error")
        for start in range(0, 512, 64):
            trainer._train_step(xs[start : start + 64], ys[start : start + 64], None)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert 0.0 < trainer.results()["accuracy"] <= 1.0


def test_cuda_graph_steps_give_the_eager_results_and_autotune_cudnn():
    x, y = data()
    runs = {}
    for graphs in (False, True):
        lamina.utils.set_random_seed(0)
        model = lamina.Sequential(
            [
                lamina.Input((28, 28, 1)),
                lamina.layers.Conv2D(8, 3, activation="relu"),
                lamina.layers.BatchNormalization(),
                lamina.layers.MaxPooling2D(),
                lamina.layers.Flatten(),
                lamina.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            # SGD, not Adam: Adam's first, nearly sign-like steps amplify the rounding
            # differences of fused kernels and cuDNN's autotuned algorithms.
            lamina.optimizers.SGD(0.05, momentum=0.9),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=graphs or False,
            cuda_graphs=graphs,
        )
        history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, validation_split=0.25)
        runs[graphs] = (history.history, model.predict(x[:100], batch_size=32, verbose=0))
        assert model._trainer._cuda_graphs is graphs
    assert torch.backends.cudnn.benchmark
    for key, values in runs[False][0].items():
        np.testing.assert_allclose(runs[True][0][key], values, rtol=2e-3, atol=1e-4)
    np.testing.assert_allclose(runs[True][1], runs[False][1], atol=1e-3)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_layers_run_cudnn_without_warnings_and_match_the_cpu(name):
    # The fused kernels take separate weight tensors; cuDNN's "not part of single contiguous
    # chunk" warning would be an error here (warnings are errors in the tests).
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7, 3)).astype("float32")
    layer = getattr(lamina.layers, name)(5, return_sequences=True)
    layer.build((None, 7, 3))
    cpu = layer(torch.from_numpy(x)).detach().numpy()
    layer.to("cuda")
    gpu = layer(torch.from_numpy(x).cuda())
    gpu.sum().backward()
    # cuDNN may use TF32 for float32 (torch.backends.cudnn.allow_tf32 is on by default)
    np.testing.assert_allclose(gpu.detach().cpu().numpy(), cpu, atol=5e-3)
    assert all(p.grad is not None for p in layer.parameters())
