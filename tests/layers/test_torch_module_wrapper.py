"""TorchModuleWrapper: a torch.nn.Module as a layer whose parameters lamina tracks."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.torch_module_wrapper import TorchModuleWrapper


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def data(n=8, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.normal(size=(n, 1)).astype("float32")
    return x, y


def linear_batchnorm_model():
    torch.manual_seed(0)
    return lamina.Sequential(
        [
            Input((4,)),
            TorchModuleWrapper(torch.nn.Linear(4, 3)),
            TorchModuleWrapper(torch.nn.BatchNorm1d(3)),
            Dense(1),
        ]
    )


def test_output_is_the_modules_output():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh())
    x = torch.randn(2, 4)
    torch.testing.assert_close(TorchModuleWrapper(module)(x), module(x), rtol=0, atol=0)


def test_parameters_are_weights_and_buffers_are_not():
    # As Keras 3.15.1: a wrapped BatchNorm1d has 2 trainable weights (its affine parameters);
    # the running statistics are state_dict entries, not weights.
    layer = TorchModuleWrapper(torch.nn.BatchNorm1d(3))
    assert layer.built
    assert len(layer.trainable_weights) == 2 and layer.non_trainable_weights == []
    assert layer.count_params() == 6
    assert [w.shape for w in layer.get_weights()] == [(3,), (3,)]
    assert {"module.running_mean", "module.running_var"} <= set(layer.state_dict())


def test_weights_keep_pytorch_layout_and_set_weights_works():
    module = torch.nn.Linear(4, 2)
    layer = TorchModuleWrapper(module)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (2, 4) and bias.shape == (2,)  # module.parameters(), as Keras
    layer.set_weights([np.ones((2, 4), "float32"), np.zeros(2, "float32")])
    assert torch.equal(module.weight.detach(), torch.ones(2, 4))


def test_summary_counts_the_wrapped_parameters(capsys):
    model = linear_batchnorm_model()
    model.summary()
    printed = capsys.readouterr().out
    assert "Trainable params: 25" in printed  # 15 (Linear) + 6 (BatchNorm1d) + 4 (Dense)
    assert len(model.trainable_weights) == 6


def test_fit_trains_the_module_and_its_batch_norm_statistics():
    model = linear_batchnorm_model()
    linear, batch_norm = model.layers[0].module, model.layers[1].module
    weight, mean = linear.weight.detach().clone(), batch_norm.running_mean.clone()
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not torch.equal(linear.weight.detach(), weight)
    assert not torch.equal(batch_norm.running_mean, mean)
    # predict runs the module in eval mode: the statistics stay.
    mean = batch_norm.running_mean.clone()
    model.predict(x, verbose=0)
    assert torch.equal(batch_norm.running_mean, mean)


def test_training_flag_sets_the_modules_mode():
    layer = TorchModuleWrapper(torch.nn.Dropout(0.5))
    x = torch.ones(4, 100)
    assert torch.equal(layer(x), x)  # outside fit a call is inference (lamina's rule)
    torch.manual_seed(0)
    dropped = layer(x, training=True)
    assert (dropped == 0).any() and not layer(x, training=False).eq(0).any()


def test_lazy_module_is_built_by_an_input():
    layer = TorchModuleWrapper(torch.nn.LazyLinear(3))
    assert not layer.built
    with pytest.raises(ValueError, match="not built yet"):
        layer.count_params()
    output = layer(Input((5,)))
    assert output.shape == (None, 3)
    assert layer.built and layer.count_params() == 5 * 3 + 3
    assert layer.module.weight.shape == (3, 5)


def test_lazy_module_is_built_on_the_first_call_and_trains():
    torch.manual_seed(0)
    batch_norm = torch.nn.LazyBatchNorm1d()
    model = lamina.Sequential(
        [TorchModuleWrapper(torch.nn.LazyLinear(3)), TorchModuleWrapper(batch_norm), Dense(1)]
    )
    x, y = data()
    model(torch.from_numpy(x))
    assert model.count_params() == 15 + 6 + 4
    # Building ran the module in eval mode: no statistics from the zeros.
    assert torch.equal(batch_norm.running_mean, torch.zeros(3))
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_lazy_module_needs_known_axes():
    layer = TorchModuleWrapper(torch.nn.LazyConv1d(2, 3))
    with pytest.raises(ValueError, match="lazy module, which needs every axis but the batch"):
        layer(Input((4, None)))


def test_functional_model_infers_shapes_on_meta():
    inputs = Input((3, 8, 8))
    x = TorchModuleWrapper(torch.nn.Conv2d(3, 4, 3))(inputs)
    x = TorchModuleWrapper(torch.nn.Flatten())(x)
    outputs = Dense(2)(x)
    model = lamina.Model(inputs, outputs)
    assert x.shape == (None, 4 * 6 * 6)
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 2)


def test_output_shape_argument_is_returned_as_given():
    layer = TorchModuleWrapper(torch.nn.Linear(4, 2), output_shape=(None, 2))
    assert layer(Input((4,))).shape == (None, 2)
    assert layer.compute_output_shape((None, 4)) == (None, 2)


def test_several_positional_inputs_reach_the_module():
    torch.manual_seed(0)
    module = torch.nn.Bilinear(3, 4, 2)
    a, b = torch.randn(5, 3), torch.randn(5, 4)
    torch.testing.assert_close(TorchModuleWrapper(module)(a, b), module(a, b))


def test_frozen_parameters_and_trainable_false():
    module = torch.nn.Linear(4, 2)
    module.bias.requires_grad_(False)
    layer = TorchModuleWrapper(module)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(2, 4)]
    assert [tuple(w.shape) for w in layer.non_trainable_weights] == [(2,)]
    frozen = TorchModuleWrapper(torch.nn.Linear(4, 2), trainable=False)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in frozen.module.parameters())
    frozen.trainable = True
    assert len(frozen.trainable_weights) == 2


@pytest.mark.filterwarnings("ignore:.*safetensors data:UserWarning")  # no Keras layout for it
def test_save_weights_and_load_weights_round_trip(tmp_path):
    model = linear_batchnorm_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    restored = linear_batchnorm_model()
    restored.load_weights(path)
    for a, b in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert torch.equal(model.layers[1].module.running_var, restored.layers[1].module.running_var)
    torch.testing.assert_close(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saving_the_whole_model_raises_and_points_to_weights(tmp_path):
    model = linear_batchnorm_model()
    with pytest.raises(ValueError, match=r"cannot write as data.*save_weights"):
        model.save(tmp_path / "model.lamina")
    assert not (tmp_path / "model.lamina").exists()
    with pytest.raises(ValueError, match="loading a pickle can run arbitrary code"):
        TorchModuleWrapper(torch.nn.ReLU()).get_config()


def test_from_config_takes_a_module_object_and_refuses_serialized_modules():
    module = torch.nn.Linear(2, 3)
    layer = TorchModuleWrapper.from_config({"module": module, "name": "wrapped"})
    assert layer.module is module and layer.name == "wrapped"
    # Keras' config holds a base64 torch.save pickle: lamina never loads it.
    keras_like = {"name": "w", "trainable": True, "module": "gASVAAAA", "output_shape": None}
    with pytest.raises(ValueError, match="does not unpickle modules"):
        TorchModuleWrapper.from_config(json.loads(json.dumps(keras_like)))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="wraps a torch.nn.Module instance.*the class Linear"):
        TorchModuleWrapper(torch.nn.Linear)
    with pytest.raises(TypeError, match="output_shape must be a tuple or list"):
        TorchModuleWrapper(torch.nn.ReLU(), output_shape=3)
