"""lamina.export.ExportArchive: endpoints traced by torch.export, written as .pt2 files that
torch.export.load runs with the model's outputs (checked against the model itself and NumPy)."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.export import ExportArchive


def _trained_model():
    lamina.utils.set_random_seed(0)
    inputs = lamina.Input((4,))
    x = layers.Dense(8, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    model = lamina.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.random((16, 4), dtype=np.float32), rng.integers(0, 3, 16), epochs=1, verbose=0)
    return model


def test_single_endpoint_file_loads_with_torch_export_and_gives_model_outputs(tmp_path, capsys):
    model = _trained_model()
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, [lamina.InputSpec(shape=(None, 4), dtype="float32")])
    archive.write_out(tmp_path / "model.pt2")
    assert "Saved endpoint 'serve' (inputs [(s" in capsys.readouterr().out
    program = torch.export.load(tmp_path / "model.pt2")
    assert len(program.state_dict) == len(model.state_dict())  # weights, not constants
    for batch in (1, 3, 7):
        x = np.random.default_rng(batch).random((batch, 4), dtype=np.float32)
        served = program.module()(torch.from_numpy(x))
        np.testing.assert_allclose(
            served.detach().numpy(), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6
        )


def test_inference_and_training_endpoints_in_a_folder(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.BatchNormalization()])
    model.layers[0].set_weights(
        [np.float32([2, 1, 1]), np.float32([0, 1, 0]), np.float32([1, 1, 1]), np.float32([4, 1, 1])]
    )
    archive = ExportArchive()
    spec = [lamina.InputSpec(shape=(None, 3))]
    archive.track(model)
    archive.add_endpoint("call_inference", lambda x: model(x, training=False), spec)
    archive.add_endpoint("call_training", lambda x: model(x, training=True), spec)
    archive.write_out(tmp_path / "exported", verbose=False)
    x = torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    inference = torch.export.load(tmp_path / "exported" / "call_inference.pt2").module()(x)
    training = torch.export.load(tmp_path / "exported" / "call_training.pt2").module()(x)
    # gamma * (x - mean) / sqrt(var + 1e-3) + beta with the moving and the batch statistics
    moving = np.float32([2, 1, 1]) * (x.numpy() - 1) / np.sqrt(np.float32([4, 1, 1]) + 1e-3)
    np.testing.assert_allclose(
        inference.detach().numpy(), moving + np.float32([0, 1, 0]), rtol=1e-6
    )
    batch = (x.numpy() - x.numpy().mean(0)) / np.sqrt(x.numpy().var(0) + 1e-3)
    expected = np.float32([2, 1, 1]) * batch + np.float32([0, 1, 0])
    np.testing.assert_allclose(training.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_dict_inputs_and_track_and_add_endpoint(tmp_path):
    a, b = lamina.Input((2,), name="a"), lamina.Input((3,), name="b")
    merged = layers.Concatenate()([layers.Dense(2)(a), b])
    model = lamina.Model({"a": a, "b": b}, layers.Dense(1)(merged))
    archive = ExportArchive()
    signature = [{"b": lamina.InputSpec(shape=(None, 3)), "a": lamina.InputSpec(shape=(None, 2))}]
    archive.track_and_add_endpoint("serve", model, signature)
    archive.write_out(tmp_path / "two.pt2", verbose=False)
    inputs = {"a": torch.ones(5, 2), "b": torch.full((5, 3), 0.5)}
    served = torch.export.load(tmp_path / "two.pt2").module()(inputs)
    expected = model.predict({k: v.numpy() for k, v in inputs.items()}, verbose=0)
    np.testing.assert_allclose(served.detach().numpy(), expected, rtol=1e-6, atol=1e-6)


def test_variables_and_collections(tmp_path):
    model = _trained_model()
    archive = ExportArchive()
    archive.track(model)
    assert len(archive.variables) == len(model.weights) == 8
    assert len(archive.trainable_variables) == 6 and len(archive.non_trainable_variables) == 2
    archive.add_endpoint("serve", model.call, [torch.zeros(2, 4)])
    archive.add_variable_collection("dense_weights", model.layers[1].weights)
    archive.write_out(tmp_path / "folder", verbose=False)
    saved = torch.load(tmp_path / "folder" / "dense_weights.pt", weights_only=True)
    assert list(saved) == [w.path for w in model.layers[1].weights]
    assert torch.equal(saved[model.layers[1].weights[0].path], model.layers[1].weights[0].detach())


def test_errors_are_explicit(tmp_path):
    with pytest.raises(ValueError, match="format 'saved_model' is not available"):
        ExportArchive(format="saved_model")
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    archive = ExportArchive()
    with pytest.raises(TypeError, match="expected a lamina layer or model"):
        archive.track(lambda x: x)
    with pytest.raises(ValueError, match="no endpoint"):
        archive.write_out(tmp_path / "m.pt2")
    with pytest.raises(ValueError, match="input_signature is required"):
        archive.add_endpoint("serve", model.call)
    with pytest.raises(TypeError, match="entry 0 must be a lamina.InputSpec with a shape"):
        archive.add_endpoint("serve", model.call, [(None, 3)])
    with pytest.raises(ValueError, match="InputSpec without a shape"):
        archive.add_endpoint("serve", model.call, [lamina.InputSpec(ndim=2)])
    archive.add_endpoint("serve", model.call, [lamina.InputSpec(shape=(None, 3))])
    with pytest.raises(ValueError, match="endpoint 'serve' is already added"):
        archive.add_endpoint("serve", model.call, [lamina.InputSpec(shape=(None, 3))])
    archive.add_endpoint("other", model.call, [lamina.InputSpec(shape=(None, 3))])
    with pytest.raises(ValueError, match="holds one endpoint"):
        archive.write_out(tmp_path / "m.pt2")
    with pytest.raises(RuntimeError, match="could not export endpoint 'bad'"):
        archive.add_endpoint("bad", model.call, [lamina.InputSpec(shape=(None, 5))])
