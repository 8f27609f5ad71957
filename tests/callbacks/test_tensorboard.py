"""TensorBoard: the event files read back with TensorBoard's own reader."""

import sys

import numpy as np
import pytest
import torch

import lamina
from lamina.callbacks.tensorboard import TensorBoard
from lamina.layers import Conv2D, Dense, Flatten, Input
from lamina.training import trainer

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

X = np.sin(np.arange(16 * 4).reshape(16, 4) * 0.3).astype("float32")
Y = np.cos(np.arange(16) * 0.5).reshape(16, 1).astype("float32")
# validation_split=0.25 leaves 12 training samples: 3 batches of 4 per epoch, 9 in 3 epochs.
FIT = {"epochs": 3, "batch_size": 4, "validation_split": 0.25, "verbose": 0}


def tiny():
    lamina.clear_session()
    model = lamina.Sequential([Input((4,)), Dense(3, activation="relu"), Dense(1)])
    model.compile(lamina.optimizers.SGD(learning_rate=0.01), "mse")
    return model


def read(directory):
    events = event_accumulator.EventAccumulator(
        str(directory), size_guidance={"scalars": 0, "histograms": 0, "images": 0}
    )
    events.Reload()
    return events


def scalars(events, tag):
    return {event.step: event.value for event in events.Scalars(tag)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("logs")
    model = tiny()
    callback = TensorBoard(log_dir, histogram_freq=1, update_freq=2, write_graph=True)
    history = model.fit(X, Y, callbacks=[callback], **FIT)
    return log_dir, model, history.history, read(log_dir / "train"), read(log_dir / "validation")


def test_train_and_validation_directories_hold_event_files(run):
    log_dir = run[0]
    for sub in ("train", "validation"):
        assert any(p.name.startswith("events.out.tfevents") for p in (log_dir / sub).iterdir())


def test_epoch_loss_equals_history_per_epoch(run):
    _, _, history, train, validation = run
    assert scalars(train, "epoch_loss") == pytest.approx(dict(enumerate(history["loss"])))
    assert scalars(validation, "epoch_loss") == pytest.approx(dict(enumerate(history["val_loss"])))
    assert "epoch_val_loss" not in train.Tags()["scalars"]


def test_batch_scalars_every_update_freq_global_batches(run):
    _, _, history, train, _ = run
    batch_loss = scalars(train, "batch_loss")
    assert sorted(batch_loss) == [2, 4, 6, 8]
    # batch logs are the epoch's running mean: step 6 closes epoch 1
    assert batch_loss[6] == pytest.approx(history["loss"][1])


def test_learning_rate_logged_each_epoch(run):
    assert scalars(run[3], "epoch_learning_rate") == pytest.approx({0: 0.01, 1: 0.01, 2: 0.01})


def test_validation_results_vs_optimizer_iterations(run):
    _, _, history, _, validation = run
    assert scalars(validation, "evaluation_loss_vs_iterations") == pytest.approx(
        {3: history["val_loss"][0], 6: history["val_loss"][1], 9: history["val_loss"][2]}
    )


def test_histograms_for_every_weight_at_every_epoch(run):
    _, model, _, train, _ = run
    tags = {
        f"{layer.name}/{name}/histogram": weight
        for layer in model.layers
        for name, weight in zip(("kernel", "bias"), layer.get_weights(), strict=True)
    }
    assert set(train.Tags()["histograms"]) == set(tags)
    for tag, weight in tags.items():
        events = train.Histograms(tag)
        assert [event.step for event in events] == [0, 1, 2]
        last = events[-1].histogram_value  # epoch 2 is the end of training
        assert last.num == weight.size
        assert (last.min, last.max) == pytest.approx((weight.min(), weight.max()))


def test_graph_written(run):
    train = run[3]
    assert train.Tags()["graph"]
    assert any("Linear" in node.op or "linear" in node.op for node in train.Graph().node)


def test_graph_trace_failure_warns_once_and_training_goes_on(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(torch.jit, "trace", fail)
    with pytest.warns(UserWarning, match="could not trace model .*cannot trace") as record:
        tiny().fit(X, Y, callbacks=[TensorBoard(tmp_path)], **FIT)
    assert len([w for w in record if "could not trace" in str(w.message)]) == 1
    train = read(tmp_path / "train")
    assert not train.Tags()["graph"]
    assert sorted(scalars(train, "epoch_loss")) == [0, 1, 2]


def test_update_freq_epoch_writes_no_batch_scalars_and_never_reads_batch_logs(
    tmp_path, monkeypatch
):
    reads = []
    original = trainer._LazyLogs._read

    def counting_read(self):
        reads.append(self._values is None)
        return original(self)

    monkeypatch.setattr(trainer._LazyLogs, "_read", counting_read)
    callback = TensorBoard(tmp_path, write_graph=False, write_steps_per_second=True)
    tiny().fit(X, Y, callbacks=[callback], **FIT)
    assert reads == []
    tags = read(tmp_path / "train").Tags()["scalars"]
    assert not [tag for tag in tags if tag.startswith("batch_")]
    assert "epoch_steps_per_second" in tags


def test_write_images_shows_each_convolution_filter(tmp_path):
    lamina.clear_session()
    model = lamina.Sequential([Input((6, 6, 1)), Conv2D(4, 3), Flatten(), Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((8, 6, 6, 1), dtype="float32")
    callback = TensorBoard(tmp_path, histogram_freq=1, write_images=True, write_graph=False)
    model.fit(x, x[:, 0, 0], epochs=1, verbose=0, callbacks=[callback])
    images = read(tmp_path / "train").Tags()["images"]
    # the (3, 3, 1, 4) kernel is 4 images of 3x3; a 1-element bias is no image (as Keras)
    assert set(images) == {"conv2d/kernel/image", "conv2d/bias/image", "dense/kernel/image"}


def test_profile_batch_writes_a_torch_profiler_trace(tmp_path):
    tiny().fit(
        X, Y, callbacks=[TensorBoard(tmp_path, profile_batch=(2, 3), write_graph=False)], **FIT
    )
    assert list((tmp_path / "train").glob("*.pt.trace.json"))


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda group=None: 1)
    callback = TensorBoard(tmp_path / "logs", histogram_freq=1, update_freq=1)
    tiny().fit(X, Y, callbacks=[callback], **FIT)
    assert not (tmp_path / "logs").exists()


def test_missing_tensorboard_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'lamina\[tensorboard\]'"):
        TensorBoard()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"update_freq": "sometimes"}, ValueError, "update_freq must be 'epoch', 'batch'"),
        ({"update_freq": 0}, ValueError, "positive int; got 0"),
        ({"profile_batch": (3, 1)}, ValueError, r"profile_batch .* got \(3, 1\)"),
        ({"profile_batch": "a,b"}, ValueError, "profile_batch"),
        ({"embeddings_freq": 1}, NotImplementedError, "embeddings_freq=0"),
    ],
)
def test_invalid_arguments_are_explained(kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)


def test_constructing_writes_nothing(tmp_path):
    TensorBoard(tmp_path / "logs", histogram_freq=1)
    assert not (tmp_path / "logs").exists()
