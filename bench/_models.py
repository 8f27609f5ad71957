"""The benchmarks' models and runners, written once for every framework they compare.

The Keras-API models are plain functions of a `keras`-like namespace, so the very same code
builds the lamina model (`keras_model(lamina, ...)`) and the Keras 3 model in Keras' worker
process (`keras_model(keras, ...)`). The torch.nn twins compute the same functions, with the
same layers, widths, BatchNorm momentum/epsilon and parameter counts, in PyTorch's own idiom
(NCHW in channels_last memory). Where Keras' 'same' pads a stride-2 convolution
asymmetrically (one row and column after), the exact twin pads with F.pad first;
`TorchModel(name, keras_padding=False)` uses torch's symmetric padding=1 instead, the cheaper
network a PyTorch user would write, with the same output shapes and FLOPs.

Models (input channels_last, uint8 images rescaled by the model, 10 classes):

* `mnist`: the classic Keras MNIST convnet (softmax output, Adam 1e-3), float32 inputs.
* `resnet8`: a CIFAR ResNet in He et al.'s 6n+2 family with n=1: 3x3 stem of 16, three
  stages of one BasicBlock each (16/32/64 channels), global average pool, Dense 10.
* `resnet18`: ResNet-18, CIFAR variant: 3x3 stem conv 64 (no max-pool), four stages of two
  BasicBlocks (64/128/256/512), global average pool, Dense 10.
* `airbench94`: the airbench94 network (notes/performance.md sec. 2.1): widths 64/256/256,
  conv -> max-pool -> BN (momentum 0.6 in Keras' sense, epsilon 1e-12, no scale) -> GELU,
  max-pool 3, Dense 10 without bias. Throughput only: the 2x2 whitening conv (24 filters) is a
  plain trainable Conv2D here, not frozen to a patch-whitening init, and the logit scale is
  left out.

The CIFAR models train with SGD (learning rate 0.01, Nesterov momentum 0.9) on logits
(sparse categorical crossentropy, from_logits) with an accuracy metric, in every framework.

Runners (`LaminaRunner`, `TorchLoopRunner`, `LightningRunner`, `KerasRunner`) each train for
a number of epochs per `run(epochs)` call and return the seconds, synchronised with the
device. PyTorch Lightning is optional (`pip install lightning`; never a lamina dependency);
Keras runs in a worker process of its own Python (`KERAS_PYTHON`), driven over stdin/stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

MODELS = ("mnist", "resnet8", "resnet18", "airbench94")
INPUT_SHAPES = {
    "mnist": (28, 28, 1),
    "resnet8": (32, 32, 3),
    "resnet18": (32, 32, 3),
    "airbench94": (32, 32, 3),
}
# airbench94's conv widths (a CPU proxy of its host time may shrink them).
AIRBENCH_WIDTHS = (64, 256, 256)
RESNETS = {"resnet8": (16, (16, 32, 64), 1), "resnet18": (64, (64, 128, 256, 512), 2)}
SGD_LR, SGD_MOMENTUM = 0.01, 0.9


def reset_peak_rss() -> None:
    """Start a new peak-memory measurement: on Linux, writing 5 to /proc/self/clear_refs resets
    the peak resident set (VmHWM), so what imports touched once does not hide what follows."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def maxrss_kb() -> int:
    """This process's peak resident memory (KiB) since the last `reset_peak_rss`."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, never reset


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------- Keras-API models


def keras_model(keras: Any, name: str) -> Any:
    """One of MODELS built with `keras` (lamina or Keras 3) under the current dtype policy;
    the last Dense computes in float32."""
    layers = keras.layers
    inputs = keras.Input(INPUT_SHAPES[name])
    if name == "mnist":
        x = layers.Conv2D(32, kernel_size=(3, 3), activation="relu")(inputs)
        x = layers.MaxPooling2D(pool_size=(2, 2))(x)
        x = layers.Conv2D(64, kernel_size=(3, 3), activation="relu")(x)
        x = layers.MaxPooling2D(pool_size=(2, 2))(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(0.5)(x)
        outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
        return keras.Model(inputs, outputs, name=name)
    x = layers.Rescaling(1.0 / 255)(inputs)
    if name == "airbench94":
        x = layers.Conv2D(24, 2, padding="valid", activation="gelu")(x)
        for width in AIRBENCH_WIDTHS:
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.MaxPooling2D(2)(x)
            x = layers.BatchNormalization(momentum=0.6, epsilon=1e-12, scale=False)(x)
            x = layers.Activation("gelu")(x)
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.6, epsilon=1e-12, scale=False)(x)
            x = layers.Activation("gelu")(x)
        x = layers.MaxPooling2D(3)(x)
        x = layers.Flatten()(x)
        outputs = layers.Dense(10, use_bias=False, dtype="float32")(x)
        return keras.Model(inputs, outputs, name=name)
    stem, widths, blocks = RESNETS[name]

    def conv_bn(x: Any, filters: int, kernel: int, strides: int) -> Any:
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)

    x = layers.Activation("relu")(conv_bn(x, stem, 3, 1))
    channels = stem
    for stage, width in enumerate(widths):
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            y = layers.Activation("relu")(conv_bn(x, width, 3, strides))
            y = conv_bn(y, width, 3, 1)
            shortcut = conv_bn(x, width, 1, strides) if strides != 1 or channels != width else x
            x = layers.Activation("relu")(layers.Add()([y, shortcut]))
            channels = width
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def keras_compile(keras: Any, model: Any, name: str, jit_compile: Any, **options: Any) -> None:
    """Optimizer, loss and metric of the benchmark for `name`, in Keras' terms (`options`:
    lamina's own compile arguments, such as cuda_graphs)."""
    if name == "mnist":
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        loss = keras.losses.SparseCategoricalCrossentropy()
    else:
        optimizer = keras.optimizers.SGD(learning_rate=SGD_LR, momentum=SGD_MOMENTUM, nesterov=True)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit_compile, **options
    )


# ---------------------------------------------------------------------- torch.nn twins


class _BasicBlock(torch.nn.Module):
    """Keras' padding='same' with stride 2 on an even size pads one row and column after the
    input only (keras_padding=True, the exact twin, F.pad then conv); torch's padding=1 pads
    both sides, which is another (cheaper) function of the input."""

    def __init__(self, channels: int, width: int, stride: int, keras_padding: bool) -> None:
        super().__init__()
        nn = torch.nn
        self.pre_pad = stride == 2 and keras_padding
        padding = 0 if self.pre_pad else 1
        self.conv1 = nn.Conv2d(channels, width, 3, stride, padding, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = nn.Identity()
        if stride != 1 or channels != width:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels, width, 1, stride, bias=False), nn.BatchNorm2d(width)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(F.pad(x, (0, 1, 0, 1)) if self.pre_pad else x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def _airbench_group(channels: int, width: int) -> list[torch.nn.Module]:
    nn = torch.nn

    def bn() -> nn.BatchNorm2d:
        norm = nn.BatchNorm2d(width, momentum=0.4, eps=1e-12)
        norm.weight.requires_grad_(False)  # Keras' scale=False: gamma stays 1
        return norm

    return [
        nn.Conv2d(channels, width, 3, padding=1, bias=False),
        nn.MaxPool2d(2),
        bn(),
        nn.GELU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        bn(),
        nn.GELU(),
    ]


class TorchModel(torch.nn.Module):
    """A torch.nn twin of `keras_model(name)`: takes the same (N, H, W, C) batches and hands
    the layers an NCHW view (channels_last memory, no copy); uint8 images are rescaled."""

    def __init__(self, name: str, keras_padding: bool = True) -> None:
        super().__init__()
        nn = torch.nn
        if name == "mnist":
            layers = [
                nn.Conv2d(1, 32, 3),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Dropout(0.5),
                nn.Linear(1600, 10),
            ]
        elif name == "airbench94":
            layers = [nn.Conv2d(3, 24, 2), nn.GELU()]
            for channels, width in zip((24, *AIRBENCH_WIDTHS[:-1]), AIRBENCH_WIDTHS, strict=True):
                layers += _airbench_group(channels, width)
            layers += [
                nn.MaxPool2d(3),
                nn.Flatten(),
                nn.Linear(AIRBENCH_WIDTHS[-1], 10, bias=False),
            ]
        else:
            stem, widths, blocks = RESNETS[name]
            layers = [nn.Conv2d(3, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem)]
            layers.append(nn.ReLU())
            channels = stem
            for stage, width in enumerate(widths):
                for block in range(blocks):
                    stride = 2 if stage > 0 and block == 0 else 1
                    layers.append(_BasicBlock(channels, width, stride, keras_padding))
                    channels = width
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]
        self.body = nn.Sequential(*layers[:-1])
        self.head = layers[-1]  # float32 under autocast, as lamina's dtype="float32" head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)
        if not x.is_floating_point():
            x = x.float() * (1.0 / 255)
        x = self.body(x)
        with torch.autocast(x.device.type, enabled=False):
            return self.head(x.float())


def torch_optimizer(name: str, params: Any, device: torch.device) -> torch.optim.Optimizer:
    """The same optimizer and hyper-parameters as the Keras-API run, in its fastest torch form:
    fused kernels on CUDA, foreach (multi-tensor) on CPU."""
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    if name == "mnist":  # Keras' Adam epsilon is 1e-7
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7, **fast)
    return torch.optim.SGD(params, lr=SGD_LR, momentum=SGD_MOMENTUM, nesterov=True, **fast)


def forward_flops(name: str, batch: int = 2) -> float:
    """Forward FLOPs per image of the torch twin (torch.utils.flop_counter: convolutions and
    matrix products, 2 per multiply-add), counted on CPU."""
    from torch.utils.flop_counter import FlopCounterMode

    model = TorchModel(name).eval()
    x = torch.zeros((batch, *INPUT_SHAPES[name]), dtype=torch.uint8)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() / batch


# ---------------------------------------------------------------------- runners


def _batches(x: torch.Tensor, y: torch.Tensor, batch: int) -> Any:
    order = torch.randperm(len(x), device=x.device)
    for start in range(0, len(x), batch):
        index = order[start : start + batch]
        yield x[index], y[index]


class LaminaRunner:
    """`model.fit` with the data given as NumPy arrays or device tensors."""

    def __init__(
        self,
        model_name: str,
        x: Any,
        y: Any,
        batch: int,
        jit_compile: Any = "auto",
        policy: str = "float32",
        label: str = "lamina fit",
        cuda_graphs: bool = False,
    ) -> None:
        import lamina

        self.name, self.x, self.y, self.batch = label, x, y, batch
        lamina.mixed_precision.set_global_policy(policy)
        try:
            self.model = keras_model(lamina, model_name)
        finally:
            lamina.mixed_precision.set_global_policy(None)
        options = {"cuda_graphs": True} if cuda_graphs else {}
        keras_compile(lamina, self.model, model_name, jit_compile, **options)
        self.device = lamina.config.device()

    def run(self, epochs: int) -> float:
        start = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=epochs, verbose=0)
        synchronize(self.device)
        return time.perf_counter() - start


class TorchLoopRunner:
    """What a careful PyTorch user writes: data as one device tensor indexed by a randperm
    each epoch, the twin model (optionally channels_last weights, torch.compile, autocast),
    fused/foreach optimizer, loss and accuracy accumulated on the device."""

    def __init__(
        self,
        model_name: str,
        x: torch.Tensor,
        y: torch.Tensor,
        batch: int,
        device: torch.device,
        compile_model: bool = False,
        amp_dtype: torch.dtype | None = None,
        label: str = "hand-written torch loop",
        keras_padding: bool = True,
    ) -> None:
        self.name, self.x, self.y, self.batch, self.device = label, x, y, batch, device
        self.amp_dtype = amp_dtype
        model = TorchModel(model_name, keras_padding).to(device)
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.forward = torch.compile(model) if compile_model else model
        self.optimizer = torch_optimizer(model_name, model.parameters(), device)
        self.loss = torch.nn.CrossEntropyLoss()

    def run(self, epochs: int) -> float:
        start = time.perf_counter()
        self.model.train()
        correct = torch.zeros((), device=self.device)
        total = torch.zeros((), device=self.device)
        for _ in range(epochs):
            for xb, yb in _batches(self.x, self.y, self.batch):
                with torch.autocast(
                    self.device.type, self.amp_dtype or torch.float32, self.amp_dtype is not None
                ):
                    logits = self.forward(xb)
                    loss = self.loss(logits, yb)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                with torch.no_grad():
                    total += loss.detach() * len(yb)
                    correct += (logits.argmax(1) == yb).sum()
        float(correct), float(total)
        return time.perf_counter() - start


def lightning_available() -> bool:
    try:
        import lightning  # noqa: F401
    except ImportError:
        return False
    return True


class _DeviceBatches:
    """An iterable of shuffled device batches: Lightning's dataloader for in-memory data
    (the same path as the hand loop; a DataLoader would index and collate sample by sample)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch: int) -> None:
        self.x, self.y, self.batch = x, y, batch

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch)

    def __iter__(self) -> Any:
        return _batches(self.x, self.y, self.batch)


class LightningRunner:
    """PyTorch Lightning's Trainer on the torch twin: no logger, progress bar, checkpointing or
    model summary (as Lightning's own parity benchmark), the same data batches and optimizer;
    on CUDA precision 'bf16-mixed', channels_last weights and torch.compile of the model."""

    def __init__(
        self,
        model_name: str,
        x: torch.Tensor,
        y: torch.Tensor,
        batch: int,
        device: torch.device,
        compile_model: bool = False,
        bf16: bool = False,
        label: str = "pytorch lightning",
    ) -> None:
        import logging

        import lightning

        for logger in ("lightning", "lightning.pytorch", "lightning.fabric"):
            logging.getLogger(logger).setLevel(logging.ERROR)
        self.lightning = lightning
        self.name, self.device, self.bf16 = label, device, bf16
        self.data = _DeviceBatches(x, y, batch)
        net = TorchModel(model_name)
        if device.type == "cuda":
            net = net.to(memory_format=torch.channels_last)
        forward = torch.compile(net) if compile_model else net

        class Module(lightning.LightningModule):
            def __init__(self) -> None:
                super().__init__()
                self.net = net
                self.loss = torch.nn.CrossEntropyLoss()
                self.register_buffer("correct", torch.zeros(()), persistent=False)

            def training_step(self, batch: Any, batch_index: int) -> torch.Tensor:
                xb, yb = batch
                logits = forward(xb)
                with torch.no_grad():
                    self.correct += (logits.argmax(1) == yb).sum()
                return self.loss(logits, yb)

            def configure_optimizers(self) -> Any:
                return torch_optimizer(model_name, self.parameters(), device)

        self.module = Module()

    def run(self, epochs: int) -> float:
        start = time.perf_counter()
        trainer = self.lightning.Trainer(
            accelerator="gpu" if self.device.type == "cuda" else "cpu",
            devices=1,
            precision="bf16-mixed" if self.bf16 else "32-true",
            max_epochs=epochs,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(self.module, train_dataloaders=self.data)
        float(self.module.correct)
        synchronize(self.device)
        return time.perf_counter() - start


# ---------------------------------------------------------------------- Keras worker

_WORKER_START = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "


def keras_worker() -> None:
    """Keras' side (run in KERAS_PYTHON): argv = data .npz, threads, model, jit_compile
    ('auto'/'true'/'false'), policy; each stdin line 'batch epochs' trains and answers with
    the seconds and the peak memory in JSON."""
    os.environ["KERAS_BACKEND"] = "torch"
    path, threads, name, jit, policy = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    import keras

    with np.load(path) as data:
        x, y = data["x"], data["y"]
    reset_peak_rss()
    base = maxrss_kb()
    keras.mixed_precision.set_global_policy(policy)
    model = keras_model(keras, name)
    keras_compile(keras, model, name, {"true": True, "false": False}.get(jit, jit))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(json.dumps({"ready": keras.__version__, "base_kb": base}), flush=True)
    for line in sys.stdin:
        batch, epochs = (int(v) for v in line.split())
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        synchronize(device)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "maxrss_kb": maxrss_kb()}), flush=True)


class JsonWorker:
    """A Python process of its own, driven over stdin/stdout: it prints one JSON line when
    ready and answers each request line with one JSON line (other output passes through)."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.ready = json.loads(self._read())

    def _read(self) -> str:
        if self.process.stdout is None:
            raise RuntimeError("the worker has no stdout")
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the worker stopped (see its error above)")
            if line.startswith("{"):
                return line

    def ask(self, request: str) -> dict[str, Any]:
        if self.process.stdin is None:
            raise RuntimeError("the worker has no stdin")
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        return json.loads(self._read())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class KerasRunner(JsonWorker):
    """Keras 3 (torch backend) in its own Python, driven through stdin/stdout; the data go
    through an .npz file as NumPy arrays (Keras' usual in-memory path)."""

    def __init__(
        self,
        python: str,
        model_name: str,
        x: np.ndarray,
        y: np.ndarray,
        batch: int,
        threads: int,
        jit_compile: str = "auto",
        policy: str = "float32",
        label: str = "keras 3 (torch backend)",
    ) -> None:
        self.name, self.batch = label, batch
        self.data = Path(os.environ.get("TMPDIR", "/tmp")) / f"lamina_bench_{os.getpid()}.npz"
        np.savez(self.data, x=x, y=y)
        super().__init__(
            [python, "-c", _WORKER_START + "import _models; _models.keras_worker()"]
            + [str(self.data), str(threads), model_name, jit_compile, policy]
        )
        self.version, self.base_kb = self.ready["ready"], self.ready["base_kb"]
        self.maxrss_kb = self.base_kb

    def run(self, epochs: int) -> float:
        answer = self.ask(f"{self.batch} {epochs}")
        self.maxrss_kb = answer["maxrss_kb"]
        return answer["seconds"]

    def close(self) -> None:
        super().close()
        self.data.unlink(missing_ok=True)
