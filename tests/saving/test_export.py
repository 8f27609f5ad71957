"""Model export: ONNX files run in onnxruntime and .pt2 programs reload, both equal to the model
at any batch size, in inference mode; errors name the problem."""

import sys

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.saving.export import export_model

BATCH_SIZES = (1, 7)


def randomize_batchnorm_statistics(model):
    # Fresh moving statistics (mean 0, variance 1) would hide a BatchNormalization exported in
    # training mode on small batches less well than arbitrary ones.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn(buffer.shape, generator=generator))
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)


def convnet():
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((12, 12, 3)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(5, activation="softmax"),
        ]
    )
    randomize_batchnorm_statistics(model)
    return model


def two_in_two_out():
    lamina.utils.set_random_seed(0)
    a = lamina.Input((4,), name="a")
    b = lamina.Input((6, 6, 2), name="b")
    hidden = layers.Dense(8, activation="relu")(a)
    image = layers.GlobalAveragePooling2D()(layers.Conv2D(3, 3, activation="relu")(b))
    merged = layers.Dropout(0.5)(layers.Add()([hidden, layers.Dense(8)(image)]))
    scores = layers.Dense(2, name="scores")(merged)
    probability = layers.Dense(1, activation="sigmoid", name="probability")(hidden)
    return lamina.Model([a, b], [scores, probability])


def random_inputs(model, batch_size, seed=0):
    generator = np.random.default_rng(seed + batch_size)
    return [
        generator.standard_normal((batch_size, *t.shape[1:])).astype("float32")
        for t in model.inputs
    ]


def as_list(outputs):
    outputs = [outputs] if isinstance(outputs, (np.ndarray, torch.Tensor)) else outputs
    return [o.detach().numpy() if isinstance(o, torch.Tensor) else o for o in outputs]


def expected(model, inputs):
    return as_list(model.predict(inputs[0] if len(inputs) == 1 else inputs, verbose=0))


@pytest.fixture(scope="module", params=[convnet, two_in_two_out], ids=["sequential", "functional"])
def model(request):
    return request.param()


@pytest.fixture(scope="module")
def onnx_session(model, tmp_path_factory):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model.train()  # export must switch to inference mode itself
    path = export_model(model, tmp_path_factory.mktemp("onnx") / "model.onnx", verbose=False)
    assert model.training
    model.eval()
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def program(model, tmp_path_factory):
    model.train()
    path = export_model(model, tmp_path_factory.mktemp("pt2") / "model.pt2", verbose=False)
    assert model.training
    model.eval()
    return torch.export.load(path)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_onnx_outputs_equal_predict_at_any_batch_size(model, onnx_session, batch_size):
    inputs = random_inputs(model, batch_size)
    feeds = {i.name: x for i, x in zip(onnx_session.get_inputs(), inputs, strict=True)}
    outputs = onnx_session.run(None, feeds)
    for got, want in zip(outputs, expected(model, inputs), strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_onnx_names_inputs_and_outputs_and_leaves_batch_symbolic(model, onnx_session):
    inputs, outputs = onnx_session.get_inputs(), onnx_session.get_outputs()
    assert [i.name for i in inputs] == [t.layer.name for t in model.inputs]
    assert [i.shape[1:] for i in inputs] == [list(t.shape[1:]) for t in model.inputs]
    assert all(isinstance(i.shape[0], str) for i in inputs + outputs)
    if isinstance(model, lamina.Sequential):
        assert [o.name for o in outputs] == [model.layers[-1].name]
    else:
        assert [o.name for o in outputs] == ["scores", "probability"]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_pt2_program_reproduces_outputs_at_any_batch_size(model, program, batch_size):
    inputs = random_inputs(model, batch_size)
    outputs = as_list(program.module()(*[torch.from_numpy(x) for x in inputs]))
    for got, want in zip(outputs, expected(model, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_export_restores_each_layers_mode(tmp_path):
    model = convnet()
    model.train()
    model.layers[2].eval()  # a mix of modes must come back as it was
    before = {name: module.training for name, module in model.named_modules()}
    export_model(model, tmp_path / "model.pt2", verbose=False)
    assert {name: module.training for name, module in model.named_modules()} == before


def test_subclassed_model_exports_with_the_shape_it_was_built_for(tmp_path):
    class TwoDense(lamina.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation="relu")
            self.out = layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoDense()
    x = torch.randn(5, 3)
    want = model(x).detach()
    program = torch.export.load(export_model(model, tmp_path / "model.pt2", verbose=False))
    torch.testing.assert_close(program.module()(x), want)


def test_input_signature_takes_example_arrays_for_dict_inputs(tmp_path):
    a, b = lamina.Input((3,), name="a"), lamina.Input((3,), name="b")
    model = lamina.Model({"b": b, "a": a}, layers.Subtract()([a, b]))
    signature = {"b": np.zeros((1, 3), "float32"), "a": np.zeros((1, 3), "float32")}
    path = export_model(model, tmp_path / "model.pt2", input_signature=signature, verbose=False)
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    # Positional inputs follow the sorted keys, as lamina flattens dicts.
    torch.testing.assert_close(torch.export.load(path).module()(x, y), x - y)


def test_failed_export_names_the_model_and_keeps_the_previous_file(tmp_path):
    path = tmp_path / "model.pt2"
    path.write_bytes(b"previous")
    # The input's rank is checked first, as Keras' Sequential does.
    with pytest.raises(
        RuntimeError, match="Could not export model 'sequential.*incompatible shape"
    ):
        export_model(convnet(), path, input_signature=(None, 12, 3), verbose=False)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt2"]


def test_export_writes_one_file_and_reports_it(tmp_path, capsys):
    path = export_model(convnet(), tmp_path / "model.pt2")
    assert path == str(tmp_path / "model.pt2")
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt2"]
    assert "model.pt2" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["model.h5", "model.keras", "model"])
def test_unknown_suffix_without_format_raises(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.onnx.*\.pt2.*format="):
        export_model(convnet(), tmp_path / name)


@pytest.mark.parametrize(
    ("format", "match"),
    [
        ("torchscript", "TorchScript export is not supported"),
        ("tf_saved_model", "Unknown export format"),
        ("onnx", "does not match the file suffix"),
    ],
)
def test_unsupported_format_raises(tmp_path, format, match):
    with pytest.raises(ValueError, match=match):
        export_model(convnet(), tmp_path / "model.pt2", format=format)


def test_unknown_keyword_raises(tmp_path):
    with pytest.raises(TypeError, match="opset_version"):
        export_model(convnet(), tmp_path / "model.pt2", opset_version=18)


def test_unbuilt_model_raises_naming_it(tmp_path):
    model = lamina.Sequential([layers.Dense(2)], name="no_input")
    with pytest.raises(ValueError, match="Model 'no_input' is not built.*keras.Input"):
        export_model(model, tmp_path / "model.pt2")
    assert not (tmp_path / "model.pt2").exists()


def test_missing_onnx_packages_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # `import onnxscript` now fails
    with pytest.raises(ImportError, match=r"pip install 'lamina\[onnx\]'"):
        export_model(convnet(), tmp_path / "model.onnx")


def test_concatenate_exports_with_symbolic_batch(tmp_path):
    a, b = lamina.Input((4,)), lamina.Input((3,))
    model = lamina.Model([a, b], layers.Concatenate()([a, b]))
    path = export_model(model, tmp_path / "model.pt2", verbose=False)
    program = torch.export.load(path)
    for batch in (1, 5):
        xa, xb = torch.rand(batch, 4), torch.rand(batch, 3)
        torch.testing.assert_close(program.module()(xa, xb), torch.cat([xa, xb], dim=1))
