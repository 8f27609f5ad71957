"""Configs written by Keras 3.15.1 rebuild in lamina: every layer class, whole models, and the
initializers, regularizers, constraints and dtype policies inside them.

data/keras_3_15_configs.json was written by Keras 3.15.1 (torch backend): for each layer
class, `keras.saving.serialize_keras_object(layer)` after a call on the input shape, with
Keras' output shape and parameter count; and `model.to_json()` of whole models with their
output shapes and parameter counts. The script that wrote it builds each class of
tests/layers/test_every_layer.py's CASES with the same arguments (where Keras takes them).
Numbers in this file marked "Keras 3.15.1" were computed by Keras 3.15.1.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina import constraints, initializers, layers, mixed_precision, regularizers
from lamina.saving.registry import deserialize_layer, serialize_layer

DATA = json.loads((Path(__file__).parent / "data" / "keras_3_15_configs.json").read_text())
LAYERS = DATA["layers"]
MODELS = DATA["models"]


def sample(shape, name="", seed=0):
    generator = torch.Generator().manual_seed(seed)
    if name == "Embedding":
        return torch.randint(0, 10, tuple(shape), generator=generator)
    return torch.randn(*shape, generator=generator)


def call_on(layer, name, shape):
    if name == "MultiHeadAttention":
        return layer(*[sample(s) for s in shape])
    if isinstance(shape[0], list):
        return layer([sample(s, name, i) for i, s in enumerate(shape)])
    return layer(sample(shape, name))


def test_the_fixture_covers_lamina_layers():
    assert DATA["keras_version"] == "3.15.1"
    assert len(LAYERS) >= 100
    lamina_classes = {
        n for n in layers.__all__ if isinstance(getattr(layers, n), type) and n in LAYERS
    }
    assert len(lamina_classes) == len(LAYERS)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_keras_layer_config_rebuilds(name):
    entry = LAYERS[name]
    layer = deserialize_layer(entry["config"])
    assert type(layer).__name__ == entry["config"]["class_name"] == name
    build = entry["config"].get("build_config") or {}
    if build.get("input_shape") is not None or "shapes_dict" in build:
        # Built from Keras' build_config alone, with Keras' number of weights.
        assert layer.built
        assert layer.count_params() == entry["params"]
    if name == "InputLayer":
        assert list(layer.output.shape) == entry["output_shape"]
    elif entry["output_shape"] is None:  # an RNN cell: built on (batch, features)
        layer.build((None, *entry["input_shape"][1:]))
    else:
        assert list(call_on(layer, name, entry["input_shape"]).shape) == entry["output_shape"]
    assert layer.count_params() == entry["params"]
    # lamina's own config of the rebuilt layer still round-trips, through JSON too.
    config = json.loads(json.dumps(layer.get_config()))
    again = type(layer).from_config(config)
    # Compared as JSON: Keras' configs also hold tuples where their JSON holds lists.
    assert json.loads(json.dumps(again.get_config())) == config
    assert json.loads(json.dumps(serialize_layer(layer)))["class_name"] == name


@pytest.mark.parametrize("name", ["Dense", "Conv2D", "LSTM", "BatchNormalization"])
def test_layer_class_from_config_takes_the_keras_config(name):
    entry = LAYERS[name]
    layer = getattr(layers, name).from_config(entry["config"]["config"])
    call_on(layer, name, entry["input_shape"])
    assert layer.count_params() == entry["params"]


def _inputs(name, shape):
    if isinstance(shape[0], list):
        return [sample(s, name, i) for i, s in enumerate(shape)]
    return sample(shape, name)


@lamina.saving.register_serializable(package="Demo")
class ScaleLayer(layers.Layer):
    """lamina's twin of the Keras layer registered as Demo>ScaleLayer in the fixture."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@lamina.saving.register_serializable(package="Demo")
class HalfInit(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return torch.full(shape, 0.5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_model_json_rebuilds(name):
    entry = MODELS[name]
    model = lamina.models.model_from_json(entry["json"])
    outputs = model(_inputs(name, entry["input_shape"]))
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    assert [list(t.shape) for t in outputs] == entry["output_shapes"]
    assert model.count_params() == entry["params"]
    assert [type(layer).__name__ for layer in model.layers] == entry["layer_classes"]
    again = lamina.models.model_from_json(model.to_json())
    assert again.count_params() == entry["params"]


@pytest.mark.parametrize("name", ["functional_branches_shared", "functional_multi_io", "mha"])
def test_model_from_config_takes_a_keras_functional_config(name):
    entry = MODELS[name]
    model = lamina.Model.from_config(json.loads(entry["json"])["config"])
    assert model.count_params() == entry["params"]


def test_registered_custom_objects_resolve_by_registered_name():
    entry = MODELS["custom_registered"]
    dense_config = json.loads(entry["json"])["config"]["layers"][1]["config"]
    assert dense_config["kernel_initializer"]["registered_name"] == "Demo>HalfInit"
    model = lamina.models.model_from_json(entry["json"])
    assert isinstance(model.layers[-1], ScaleLayer) and model.layers[-1].factor == 3.0
    x = sample((2, 4))
    expected = 3.0 * (0.5 * x.sum(dim=1, keepdim=True) + torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(model(x), expected)


def test_initializers_regularizers_constraints_come_through():
    model = lamina.models.model_from_json(MODELS["initializers_regularizers_constraints"]["json"])
    first, second, third, fourth, fifth, sixth = model.layers
    init = first.kernel_initializer
    assert isinstance(init, initializers.VarianceScaling)
    assert (init.scale, init.mode, init.distribution, init.seed) == (2.0, "fan_out", "uniform", 3)
    assert first.bias_initializer.value == 0.1
    # Keras writes its factors as float32 values (0.003 -> 0.003000000026077032).
    assert first.kernel_regularizer.get_config() == pytest.approx({"l1": 0.01, "l2": 0.02})
    assert first.bias_regularizer.get_config() == pytest.approx({"l1": 0.003})
    assert first.activity_regularizer.get_config() == pytest.approx({"l2": 0.001})
    assert first.kernel_constraint.get_config() == {"max_value": 2.0, "axis": 0}
    assert isinstance(first.bias_constraint, constraints.NonNeg)
    assert second.kernel_constraint.get_config() == {
        "min_value": 0.5,
        "max_value": 1.5,
        "rate": 0.5,
        "axis": 0,
    }
    assert isinstance(third.kernel_initializer, initializers.Orthogonal)
    assert third.kernel_initializer.gain == 1.5
    assert third.kernel_constraint.get_config() == {"axis": 1}
    # Keras 3.15.1 writes Identity(gain=2.0)'s config as {} (it leaves the gain out).
    assert isinstance(fourth.kernel_initializer, initializers.Identity)
    assert fourth.kernel_initializer.gain == 1.0
    assert isinstance(fifth.kernel_initializer, initializers.HeNormal)
    assert fifth.kernel_regularizer.mode == "rows"
    assert fifth.kernel_regularizer.factor == pytest.approx(0.01)
    assert isinstance(sixth.bias_initializer, initializers.GlorotNormal)
    # Weight penalties: the first layer's kernel and bias, the fifth's orthogonal one (the
    # activity penalty comes with a training call).
    assert len(model.losses) == 3


def test_dense_l2_penalty_matches_the_formula():
    model = lamina.models.model_from_json(MODELS["dense_l2"]["json"])
    kernel = model.layers[0].get_weights()[0]
    (penalty,) = model.losses
    assert float(penalty.detach()) == pytest.approx(0.01 * float((kernel**2).sum()), rel=1e-6)


def test_mixed_float16_policies_come_through():
    model = lamina.models.model_from_json(MODELS["mixed_float16"]["json"])
    policies = [layer.dtype_policy.name for layer in model.layers]
    assert policies == ["mixed_float16", "mixed_float16", "float32"]
    assert model.layers[0].compute_dtype == "float16"
    assert model.layers[0].dtype == "float32"


def test_quantized_configs_load_and_lora_configs_are_refused_by_name():
    layer = deserialize_layer(DATA["refused"]["quantized_dense"])  # Keras' int8 Dense
    assert layer.dtype_policy.name == "int8_from_float32" and layer.weight.dtype == torch.int8
    with pytest.raises(NotImplementedError, match="Dense 'dense_22'.*LoRA"):
        deserialize_layer(DATA["refused"]["lora_dense"])
    with pytest.raises(ValueError, match="quantized"):
        mixed_precision.DTypePolicy("int8_from_float32")
    with pytest.raises(ValueError, match="only 'name'"):
        mixed_precision.resolve({"class_name": "DTypePolicy", "config": {"name": "x", "y": 1}})


def test_a_symbolic_call_with_mask_none_runs_on_layers_without_masks():
    inputs = lamina.Input((3,))
    outputs = layers.Dense(2)(inputs, mask=None)  # as Keras' configs replay calls
    model = lamina.Model(inputs, outputs)
    assert model(torch.ones(1, 3)).shape == (1, 2)


def test_build_config_round_trip():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    entry = LAYERS["MultiHeadAttention"]["config"]
    rebuilt = deserialize_layer({**entry, "config": layer.get_config()})
    assert rebuilt.count_params() == LAYERS["MultiHeadAttention"]["params"]
    dense = layers.Dense(3)
    dense(torch.ones(2, 4))
    assert dense.get_build_config() == {"input_shape": (2, 4)}  # Keras: a tuple, batch kept
    assert deserialize_layer(serialize_layer(dense)).count_params() == 15
    with pytest.raises(ValueError, match="build_config"):
        layers.Dense(2).build_from_config({"shape": [None, 2]})


# ---------------------------------------------------------------------- initializers


def test_compute_fans_matches_keras():
    # Keras 3.15.1: compute_fans((2, 5, 7), [0], [1, 2]) == (2, 35); with one of the two axes
    # lists missing, both are ignored: (10, 14); a conv kernel (3, 3, 4, 8): (36, 72).
    assert initializers.compute_fans((2, 5, 7), [0], [1, 2]) == (2, 35)
    assert initializers.compute_fans((2, 5, 7), [0], None) == (10, 14)
    assert initializers.compute_fans((3, 3, 4, 8)) == (36, 72)


def test_variance_scaling_axes_set_the_fans():
    init = initializers.VarianceScaling(
        1.0, "fan_in", "uniform", input_axes=[0], output_axes=[1, 2]
    )
    values = init((2, 50, 70))
    # Keras 3.15.1's limit here is sqrt(3 / 2) = 1.224744871391589 (its draw's max: 1.2245333).
    limit = math.sqrt(3 / 2)
    assert float(values.abs().max()) <= limit
    assert float(values.abs().max()) > 0.99 * limit
    with pytest.raises(ValueError, match="out of range"):
        init((3, 4))
    with pytest.raises(ValueError, match="list of ints"):
        initializers.GlorotUniform(input_axes="rows")


def test_initializer_configs_carry_keras_3_15_keys():
    # Keras 3.15.1's GlorotUniform().get_config(): {'seed', 'input_axes', 'output_axes'}.
    assert initializers.GlorotUniform(seed=3).get_config() == {
        "seed": 3,
        "input_axes": None,
        "output_axes": None,
    }
    config = initializers.VarianceScaling(input_axes=[0], output_axes=[1]).get_config()
    assert config["input_axes"] == [0] and config["output_axes"] == [1]
    rebuilt = initializers.get({"class_name": "VarianceScaling", "config": config})
    assert rebuilt.get_config() == config
    with pytest.raises(ValueError, match="HeNormal: unknown config key"):
        initializers.get({"class_name": "HeNormal", "config": {"sed": 1}})
    assert isinstance(initializers.get({"class_name": "STFT", "config": {}}), initializers.STFT)
    assert isinstance(initializers.get("OrthogonalInitializer"), initializers.Orthogonal)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_seed_generator_seeds_draw_new_values_each_call():
    config = {
        "class_name": "RandomNormal",
        "config": {
            "mean": 0.0,
            "stddev": 1.0,
            "seed": {
                "module": "keras.random",
                "class_name": "SeedGenerator",
                "config": {"seed": 7, "name": "seed_generator"},
                "registered_name": None,
            },
        },
    }
    first, second = initializers.get(config), initializers.get(config)
    a, b = first((3,)), first((3,))
    assert not torch.equal(a, b)
    torch.testing.assert_close(second((3,)), a)  # the same sequence from the same seed
    assert first.get_config()["seed"]["config"]["seed"] == 7


def test_constant_broadcasts_a_list():
    # Keras 3.15.1: Constant([1., 2., 3.])((2, 3)) == [[1, 2, 3], [1, 2, 3]].
    values = initializers.Constant([1.0, 2.0, 3.0])((2, 3))
    assert values.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match="does not broadcast"):
        initializers.Constant([1.0, 2.0])((2, 3))


# ---------------------------------------------------------------------- regularizers

W = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0], [-1.0, 0.5, 2.0]], "float32")


def test_orthogonal_regularizer_matches_keras():
    # Keras 3.15.1: OrthogonalRegularizer(0.3, mode)(W) for the 4x3 W above.
    w = torch.from_numpy(W)
    rows = regularizers.OrthogonalRegularizer(0.3, "rows")(w)
    columns = regularizers.OrthogonalRegularizer(0.3, "columns")(w)
    assert float(rows) == pytest.approx(0.1083812341094017, rel=1e-6)
    assert float(columns) == pytest.approx(0.06256214529275894, rel=1e-6)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)


def test_a_weight_regularizer_sees_keras_layout():
    # Keras 3.15.1: Dense(3, kernel_regularizer=OrthogonalRegularizer(0.3, "rows")) with
    # kernel W (Keras layout (in, out)) has losses [0.1083812341094017].
    dense = layers.Dense(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.3))
    dense.build((None, 4))
    dense.set_weights([W, np.zeros(3, "float32")])
    (penalty,) = dense.losses
    assert float(penalty.detach()) == pytest.approx(0.1083812341094017, rel=1e-6)


def test_regularizer_names_and_unknown_keys():
    assert isinstance(regularizers.get("orthogonal_regularizer"), regularizers.Regularizer)
    config = {"module": "keras.regularizers", "class_name": "L1L2", "registered_name": None}
    assert regularizers.get({**config, "config": {"l1": 0.1, "l2": 0.2}}).l2 == 0.2
    with pytest.raises(ValueError, match="L2: unknown config key"):
        regularizers.get({"class_name": "L2", "config": {"l3": 0.1}})


def euclidean_distance(vects):
    x, y = vects
    return lamina.ops.sqrt(lamina.ops.sum(lamina.ops.square(x - y), axis=1, keepdims=True))


def test_lambda_config_names_its_function_as_keras_does():
    # Keras 3.15.1 (the Siamese contrastive-loss example): the function's entry, then
    # output_shape, then arguments.
    layer = lamina.layers.Lambda(euclidean_distance, output_shape=(1,), name="lambda")
    config = layer.get_config()
    assert list(config)[-3:] == ["function", "output_shape", "arguments"]
    function = {"module": "builtins", "class_name": "function", "config": "euclidean_distance"}
    assert config["function"] == {**function, "registered_name": "function"}
    with (
        lamina.saving.SafeModeScope(False),
        lamina.saving.custom_object_scope({"euclidean_distance": euclidean_distance}),
    ):
        assert lamina.layers.Lambda.from_config(config).function is euclidean_distance


def test_a_users_layer_entry_names_its_module_as_keras_does():
    # Keras 3.15.1: module None for a class of __main__, else the class's module.
    @lamina.saving.register_keras_serializable(package="MyLayers")
    class Scale(lamina.layers.Layer):
        def call(self, x):
            return x

    entry = lamina.saving.serialize_keras_object(Scale(name="cl"))
    assert (entry["module"], entry["registered_name"]) == (__name__, "MyLayers>Scale")
    Scale.__module__ = "__main__"
    assert lamina.saving.serialize_keras_object(Scale(name="c2"))["module"] is None
