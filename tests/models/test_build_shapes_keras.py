"""Built flags, build shapes and names as Keras 3.15.1 (torch backend) gives them: the values
below are what the same programs printed there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.inspect.summary import summary_text

# `Layer.built` right after construction (Keras 3.15.1, default or minimal arguments).
BUILT_AT_CONSTRUCTION = {
    True: [
        lambda: layers.Activation("relu"),
        layers.ActivityRegularization,
        lambda: layers.Dropout(0.1),
        layers.ELU,
        layers.GlobalAveragePooling2D,
        layers.GlobalMaxPooling1D,
        layers.Identity,
        layers.LeakyReLU,
        layers.Masking,
        layers.MaxPooling2D,
        layers.ReLU,
        lambda: layers.Reshape((4,)),
        layers.Softmax,
        lambda: layers.SpatialDropout2D(0.1),
        lambda: layers.GaussianNoise(0.1),
        layers.UnitNormalization,
    ],
    False: [
        layers.Add,
        layers.Average,
        layers.Concatenate,
        layers.Maximum,
        layers.Minimum,
        layers.Multiply,
        layers.Subtract,
        lambda: layers.Dot(axes=1),
        lambda: layers.CategoryEncoding(4),
        lambda: layers.CenterCrop(4, 4),
        layers.Cropping2D,
        layers.Flatten,
        lambda: layers.Lambda(lambda x: x),
        lambda: layers.Permute((2, 1)),
        lambda: layers.RepeatVector(2),
        lambda: layers.Rescaling(0.5),
        lambda: layers.Resizing(4, 4),
        layers.RandomFlip,
        lambda: layers.RandomRotation(0.1),
        lambda: layers.RandomCrop(4, 4),
        layers.AutoContrast,
        layers.MixUp,
        layers.UpSampling2D,
        layers.ZeroPadding1D,
        lambda: layers.Discretization(bin_boundaries=[0.0, 1.0]),
        lambda: layers.Pipeline([layers.RandomFlip()]),
        lambda: layers.Dense(3),
        layers.BatchNormalization,
    ],
}


@pytest.mark.parametrize(
    ("make", "built"),
    [(make, built) for built, makes in BUILT_AT_CONSTRUCTION.items() for make in makes],
)
def test_built_at_construction_as_keras(make, built):
    layer = make()
    assert layer.built is built, type(layer).__name__


def test_weightless_layers_build_on_their_first_call_and_run_on_meta():
    flatten = layers.Flatten()
    assert flatten(torch.ones(2, 3, 4)).shape == (2, 12)
    assert flatten.built and flatten.get_build_config() == {"input_shape": (2, 3, 4)}
    add = layers.Add()
    assert add([torch.ones(2, 3), torch.ones(2, 3)]).shape == (2, 3) and add.built
    crop = layers.CenterCrop(2, 2)
    assert crop(torch.empty(1, 4, 4, 3, device="meta")).shape == (1, 2, 2, 3)


def test_unbuilt_sequential_summary_and_shapes_as_keras():
    model = lamina.Sequential([layers.Flatten(), layers.Dense(3)])
    text = summary_text(model)
    assert text.count("0 (unbuilt)") == 2  # Keras: both rows, Flatten's too
    for name in ("output_shape", "input_shape"):
        with pytest.raises(AttributeError, match=f"'Sequential' object has no attribute '{name}'"):
            getattr(model, name)


def _dense_model() -> lamina.Sequential:
    return lamina.Sequential([layers.Dense(3)])


X = np.ones((8, 4), "float32")
Y = np.ones((8, 3), "float32")


def test_models_built_from_data_keep_its_batch_size():
    # Keras 3.15.1: the shapes a model is built from by a call or by fit/predict/evaluate/
    # train_on_batch keep the batch size (of the first batch), as do `build((2, 4))`'s.
    model = _dense_model()
    model(X[:2])
    assert (model.input_shape, model.output_shape) == ((2, 4), (2, 3))
    assert model.layers[0].get_build_config() == {"input_shape": (2, 4)}
    model(X[:5])  # any batch size still runs
    model = _dense_model()
    model.build((2, 4))
    assert (model.input_shape, model.output_shape) == ((2, 4), (2, 3))
    model = _dense_model()
    model.compile("sgd", "mse")
    model.fit(X, Y, batch_size=4, verbose=0)
    assert (model.input_shape, model.output_shape) == ((4, 4), (4, 3))
    model = _dense_model()
    model.predict(X, batch_size=4, verbose=0)
    assert model.input_shape == (4, 4)
    model = _dense_model()
    model.compile("sgd", "mse")
    model.evaluate(X, Y, batch_size=4, verbose=0)
    assert model.input_shape == (4, 4)
    model = _dense_model()
    model.compile("sgd", "mse")
    model.train_on_batch(X, Y)
    assert model.input_shape == (8, 4)
    config = model.get_config()
    assert config["build_input_shape"] == (8, 4)  # a tuple, as Keras
    assert lamina.Sequential.from_config(config).input_shape == (8, 4)
    model = _dense_model()
    model.build((None, 4))
    assert model.output_shape == (None, 3)


def test_subclassed_model_rows_show_the_batch_it_was_called_on():
    class Net(lamina.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d = layers.Dense(3, name="d")

        def call(self, x):
            return self.d(x)

    net = Net()
    net(X[:1])
    assert "(1, 3)" in summary_text(net)  # Keras 3.15.1 prints (1, 3)
    assert net.d.get_build_config() == {"input_shape": (1, 4)}
    net = Net()
    net.build((None, 4))
    assert "(None, 3)" in summary_text(net)
    assert net.compute_output_shape((None, 4)) == (None, 3)


def test_each_sequential_build_takes_a_functional_name():
    # Keras builds a Sequential with an input as a Functional, on construction, on each
    # add/pop and on build: each takes the next automatic 'functional' name.
    lamina.clear_session()
    lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    lamina.Sequential([layers.Dense(2)])
    built = lamina.Sequential([layers.Dense(2)])
    built.build((None, 3))
    inputs = lamina.Input((3,))
    assert lamina.Model(inputs, layers.Dense(2)(inputs)).name == "functional_2"
    grown = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    grown.add(layers.Dense(4))
    assert lamina.Model(inputs, layers.Dense(2)(inputs)).name == "functional_5"


class _Spy(lamina.Model):
    def __init__(self):
        super().__init__()
        self.d = layers.Dense(1)
        self.seen: list[tuple] = []

    def call(self, x):
        return self.d(x)

    def _note(self, kind, data):
        shapes = (
            None if v is None else tuple(v.shape)
            for v in (data if isinstance(data, tuple) else (data,))
        )
        self.seen.append((kind, type(data).__name__, tuple(shapes)))

    def train_step(self, data):
        self._note("train", data)
        return {"n": 1.0}

    def test_step(self, data):
        self._note("test", data)
        return {"n": 2.0}

    def predict_step(self, data):
        self._note("predict", data)
        return self(data[0] if isinstance(data, tuple) else data)


def test_on_batch_methods_hand_custom_steps_the_whole_tuple():
    # Keras 3.15.1: train_on_batch/test_on_batch give (x, y, sample_weight) with its Nones,
    # predict_on_batch (x,); fit/evaluate/predict give (x, y) and the bare x.
    model = _Spy()
    model.compile("sgd", "mse")
    x, y = X[:4, :2], Y[:4, :1]
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    model.predict_on_batch(x)
    model.train_on_batch(x)
    model.fit(x, y, batch_size=4, verbose=0)
    model.predict(x, batch_size=4, verbose=0)
    assert model.seen == [
        ("train", "tuple", ((4, 2), (4, 1), None)),
        ("test", "tuple", ((4, 2), (4, 1), None)),
        ("predict", "tuple", ((4, 2),)),
        ("train", "tuple", ((4, 2), None, None)),
        ("train", "tuple", ((4, 2), (4, 1))),
        ("predict", "Tensor", ((4, 2),)),
    ]


def test_symbolic_tensors_are_named_as_keras_names_them():
    # Keras 3.15.1 printed these names for the same program.
    lamina.clear_session()
    i = lamina.Input((3,))
    j = lamina.Input((3,), name="feat")
    y = layers.Dense(2, name="dd")(i)
    z = layers.Dense(2)(y)
    a = layers.Add()([y, z])
    assert [t.name for t in (i, j, y, z, a)] == [
        "keras_tensor",
        "feat",
        "keras_tensor_1",
        "keras_tensor_2",
        "keras_tensor_3",
    ]
    assert repr(i).endswith("name=keras_tensor>")
    model = lamina.Model([i, j], a)
    assert model.output_names == ["add"] and model.input_names == ["input_layer", "feat"]
    assert lamina.ops.add(i, 1).name == "keras_tensor_4"
    seq = lamina.Sequential([lamina.Input((4,)), layers.Dense(2), layers.Dense(3)])
    assert [seq.inputs[0].name, seq.outputs[0].name] == ["keras_tensor_5", "keras_tensor_7"]
    seq.add(layers.Dense(5))  # Keras builds the stack anew: three new tensors
    assert seq.outputs[0].name == "keras_tensor_10"
    with pytest.warns(UserWarning, match="Received key 'a' mapping to value"):
        k = lamina.Input((3,))
        lamina.Model({"a": k}, layers.Dense(1)(k))


def test_model_entries_as_keras_writes_them():
    # Keras 3.15.1: a functional model's build_config is {'input_shape': None} and its
    # registered_name 'Functional'; model entries carry compile_config ({} until compiled);
    # wrappers' inner layers carry their build_config.
    import json

    from lamina.saving import serialize_keras_object

    i = lamina.Input((6,))
    inner = lamina.Model(i, layers.Dense(2)(i), name="inner")
    seq = lamina.Sequential([lamina.Input((6,)), layers.Dense(2)], name="seq")
    j = lamina.Input((6,))
    outer = lamina.Model(j, [inner(j), seq(j)], name="outer")
    assert inner.get_build_config() == {"input_shape": None}
    config = json.loads(outer.to_json())
    assert (config["registered_name"], config["build_config"]) == (
        "Functional",
        {"input_shape": None},
    )
    nested = {entry["name"]: entry for entry in config["config"]["layers"][1:]}
    assert nested["inner"]["registered_name"] == "Functional"
    assert nested["inner"]["compile_config"] == {} == nested["seq"]["compile_config"]
    assert nested["seq"]["build_config"] == {"input_shape": [None, 6]}
    assert serialize_keras_object(inner)["compile_config"] == {}
    rebuilt = lamina.models.model_from_json(outer.to_json())
    assert rebuilt.count_params() == outer.count_params()
    wrapped = layers.TimeDistributed(layers.Dense(2))
    wrapped(torch.ones(1, 3, 4))
    assert wrapped.get_config()["layer"]["build_config"] == {"input_shape": (1, 4)}
    both = layers.Bidirectional(layers.LSTM(2))
    both(torch.ones(1, 3, 4))
    entry = both.get_config()
    assert entry["layer"]["build_config"] == {"input_shape": (1, 3, 4)}
    assert entry["backward_layer"]["build_config"] == {"input_shape": (1, 3, 4)}
    again = layers.Bidirectional.from_config(json.loads(json.dumps(entry)))
    assert again.forward_layer.built and again.backward_layer.built
