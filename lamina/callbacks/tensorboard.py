"""TensorBoard: scalars, weight histograms and images, the model graph and profiles.

>>> import os, tempfile
>>> import numpy as np
>>> import lamina
>>> from lamina.callbacks.tensorboard import TensorBoard
>>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> x = np.ones((8, 2), "float32")
>>> with tempfile.TemporaryDirectory() as log_dir:
...     history = model.fit(x, x[:, :1], epochs=1, validation_split=0.5, verbose=0,
...                         callbacks=[TensorBoard(log_dir, histogram_freq=1)])
...     sorted(os.listdir(log_dir))
['train', 'validation']
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from .callback import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Write logs for TensorBoard (`tensorboard --logdir logs`), through torch.utils.tensorboard.

    Epoch scalars go to `log_dir/train` and `log_dir/validation` as `epoch_<name>` (with
    `epoch_learning_rate` from the optimizer), batch scalars as `batch_<name>` at the global
    batch step (1-based), validation results also as `evaluation_<name>_vs_iterations` at the
    optimizer's step count. Histograms are tagged `<layer>/<weight>/histogram`, images
    `<layer>/<weight>/image`. Only rank 0 of a torch.distributed job writes.

    Args:
        log_dir: the directory for the event files; don't share it with another callback.
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: trace the model on a zero batch of its input shape and write its graph.
        write_images: with histograms, also write each weight (in Keras' layout) as images.
        write_steps_per_second: also write the training speed, per epoch and per update.
        update_freq: 'epoch', 'batch' (= 1) or an int: write batch scalars every that many
            batches.
        profile_batch: the batch (1-based, counted over the whole fit) or (first, last) batches
            to profile with torch.profiler into `log_dir/train` (0: no profiling).
        embeddings_freq: must be 0: the embedding projector is not supported.
        embeddings_metadata: accepted for Keras compatibility; unused.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | str | tuple[int, int] = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: str | dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise ImportError(
                "TensorBoard needs the tensorboard package: pip install 'lamina[tensorboard]'"
            ) from error
        self._summary_writer_class = SummaryWriter
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch" and not (type(update_freq) is int and update_freq > 0):
            raise ValueError(
                f"TensorBoard update_freq must be 'epoch', 'batch' or a positive int; "
                f"got {update_freq!r}"
            )
        if embeddings_freq:
            raise NotImplementedError(
                f"TensorBoard(embeddings_freq={embeddings_freq}): lamina does not write the "
                "embedding projector; use embeddings_freq=0 (the default)"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._start_batch, self._stop_batch = _profile_range(profile_batch)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict[str, Any] = {}
        self._profiler: torch.profiler.profile | None = None
        self._global_train_batch = 0
        self._graph_pending = False
        self._epoch_start = self._window_start = 0.0
        self._epoch_steps = self._window_steps = 0

    def _writer(self, which: str) -> Any:
        # Created on first use so that a callback that never writes leaves no files.
        if which not in self._writers:
            directory = self._train_dir if which == "train" else self._val_dir
            self._writers[which] = self._summary_writer_class(directory)
        return self._writers[which]

    def _active(self) -> bool:
        from ..saving._archive import is_writer  # False on ranks other than 0

        return is_writer()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._active():
            return
        self._global_train_batch = 0
        self._graph_pending = bool(self.write_graph)
        self._window_start = time.perf_counter()
        self._window_steps = 0

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._active():
            return
        self._stop_profiler()
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if not self._active():
            return
        self._global_train_batch += 1
        if self._start_batch and self._global_train_batch == self._start_batch:
            activities = [torch.profiler.ProfilerActivity.CPU]
            if torch.cuda.is_available():
                activities.append(torch.profiler.ProfilerActivity.CUDA)
            self._profiler = torch.profiler.profile(
                activities=activities,
                on_trace_ready=torch.profiler.tensorboard_trace_handler(self._train_dir),
            )
            self._profiler.start()

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self._active():
            return
        step = self._global_train_batch
        self._epoch_steps += 1
        self._window_steps += 1
        if self._profiler is not None:
            self._profiler.step()
            if step >= self._stop_batch:
                self._stop_profiler()
        if self._graph_pending:
            self._graph_pending = False
            self._write_model_graph()
            self._window_start = time.perf_counter()  # the tracing time is not training time
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        # Reading the lazy logs waits for the device, so the window's time is the real one.
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)
        if self.write_steps_per_second:
            now = time.perf_counter()
            rate = self._window_steps / max(now - self._window_start, 1e-9)
            writer.add_scalar("batch_steps_per_second", rate, step)
            self._window_start, self._window_steps = now, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._active():
            return
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = _learning_rate(getattr(self.model, "optimizer", None))
        if learning_rate is not None:
            train["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_steps / elapsed
        for which, values in (("train", train), ("validation", validation)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if not logs or iterations is None or not self._active():
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), int(iterations))
        writer.flush()

    def _write_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for tag, tensor, info in _named_weights(layer):
                values = tensor.detach().float().cpu()
                if values.numel() == 0:
                    continue
                writer.add_histogram(f"{tag}/histogram", values, epoch)
                if self.write_images:
                    images = _weight_images(info.to_keras(values))
                    if images is not None:
                        writer.add_images(f"{tag}/image", images, epoch, dataformats="NHWC")

    def _write_model_graph(self) -> None:
        model = self.model
        sample = _sample_inputs(model)
        # Tracing calls the model: keep any activity penalties it records out of training.
        saved = [
            (m, list(m._activity_losses)) for m in model.modules() if hasattr(m, "_activity_losses")
        ]
        try:
            if sample is None:
                raise ValueError("the model's input shape is unknown")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about Python-side checks
                self._writer("train").add_graph(model, sample)
        except Exception as error:  # any tracing failure: the graph is optional
            warnings.warn(
                f"TensorBoard could not trace model '{getattr(model, 'name', '?')}', so no graph "
                f"was written ({type(error).__name__}: {error}); pass write_graph=False to skip it",
                stacklevel=2,
            )
        finally:
            for module, losses in saved:
                module._activity_losses[:] = losses

    def _stop_profiler(self) -> None:
        if self._profiler is not None:
            self._profiler.stop()
            self._profiler = None


def _profile_range(profile_batch: Any) -> tuple[int, int]:
    """Keras' forms: an int, a 'first,last' string or a (first, last) pair; 0 disables."""
    message = (
        "TensorBoard profile_batch must be a non-negative int or a pair of positive ints "
        f"(first, last) with first <= last; got {profile_batch!r}"
    )
    try:
        if isinstance(profile_batch, str):
            profile_batch = [int(part) for part in profile_batch.split(",")]
        if isinstance(profile_batch, int) and not isinstance(profile_batch, bool):
            first = last = profile_batch
        elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
            first, last = (int(v) for v in profile_batch)
        else:
            raise ValueError(message)
    except (TypeError, ValueError) as error:
        raise ValueError(message) from error
    if first < 0 or last < first or (first == 0 and last != 0):
        raise ValueError(message)
    return first, last


def _learning_rate(optimizer: Any) -> float | None:
    if optimizer is None:
        return None
    if hasattr(optimizer, "learning_rate"):
        return float(optimizer.learning_rate)
    groups = getattr(optimizer, "param_groups", None)  # a torch.optim optimizer
    return float(groups[0]["lr"]) if groups else None


def _named_weights(layer: Any, prefix: str = "") -> list[tuple[str, torch.Tensor, Any]]:
    """(tag, tensor, info) for a layer's weights and its sub-layers', tagged by their path."""
    path = f"{prefix}{layer.name}"
    out = [(f"{path}/{info.keras_name}", t, info) for _, t, info in layer._own_weights()]
    for sublayer in layer._sublayers():
        out += _named_weights(sublayer, f"{path}/")
    return out


def _weight_images(weight: torch.Tensor) -> torch.Tensor | None:
    """Keras' views of a weight as NHWC images: a bias a column, a kernel a matrix, each
    filter of a (squeezed) 2-D convolution kernel an image; scaled to [0, 1] to be visible."""
    image = weight.squeeze()
    if image.ndim == 0:
        return None
    if image.ndim == 1:
        image = image.reshape(1, -1, 1, 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, *image.shape, 1)
    elif image.ndim == 3:
        image = image.permute(2, 0, 1).unsqueeze(-1)
    if image.ndim != 4 or image.shape[-1] not in (1, 3, 4):
        return None  # as Keras: 3-D convolutions and other shapes are not images
    low, high = image.min(), image.max()
    return (image - low) / (high - low) if high > low else torch.zeros_like(image)


def _sample_inputs(model: Any) -> Any:
    """A one-sample zero batch of the model's known input shape, on its device."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else None

    def zeros(shape: Any, dtype: str = "float32") -> torch.Tensor:
        size = tuple(1 if d is None else d for d in shape)
        return torch.zeros(size, dtype=getattr(torch, dtype, torch.float32), device=device)

    inputs = getattr(model, "inputs", None) or []
    if inputs:
        tensors = [zeros(t.shape, str(t.dtype)) for t in inputs]
        return tensors[0] if len(tensors) == 1 else (tensors,)  # one argument: the list
    shape = getattr(model, "_build_input_shape", None)
    if isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, int) for d in shape):
        return zeros(shape)
    return None
