"""Whole-model files: round trips, compile settings, custom objects, safe mode, weights files."""

import json
import zipfile

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.saving import register_serializable

X = np.random.RandomState(0).rand(24, 6, 6, 2).astype("float32")
Y = np.random.RandomState(1).randint(0, 3, 24)


def convnet():
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((6, 6, 2)),
            layers.Conv2D(4, 3, activation="relu", name="conv"),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(3, activation="softmax", kernel_regularizer="l2"),
        ]
    )
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)
    model.compile(
        lamina.optimizers.Adam(schedule, clipnorm=1.0),
        "sparse_categorical_crossentropy",
        metrics=["accuracy", lamina.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    return model


def test_sequential_round_trip_keeps_weights_compile_and_optimizer(tmp_path):
    model = convnet()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.lamina"
    model.save(path)
    restored = lamina.models.load_model(path)
    assert [type(layer).__name__ for layer in restored.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]
    for key, value in model.state_dict().items():
        torch.testing.assert_close(restored.state_dict()[key], value, rtol=0, atol=0)
    assert restored.optimizer.iterations == 6
    assert restored.optimizer.clipnorm == 1.0
    assert restored.loss == "sparse_categorical_crossentropy"
    # Training continues exactly as the original does.
    lamina.utils.set_random_seed(5)
    expected = model.fit(X, Y, epochs=2, batch_size=8, verbose=0).history
    lamina.utils.set_random_seed(5)
    got = restored.fit(X, Y, epochs=2, batch_size=8, verbose=0).history
    assert got == expected
    assert set(got) == {"loss", "accuracy", "sparse_top_k_categorical_accuracy"}


def test_archive_members_and_metadata(tmp_path):
    model = convnet()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.lamina")
    with zipfile.ZipFile(tmp_path / "m.lamina") as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert names == [
        "metadata.json",
        "config.json",
        "model.safetensors",
        "optimizer.json",
        "optimizer.safetensors",
    ]
    assert metadata["format"] == "lamina.model"
    assert metadata["lamina_version"] == lamina.__version__
    assert metadata["torch_version"] == torch.__version__
    assert set(metadata["files"]) == set(names) - {"metadata.json"}
    assert config["class_name"] == "Sequential"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"


def test_uncompiled_and_without_optimizer(tmp_path):
    model = convnet()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "a.lamina", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "a.lamina") as archive:
        assert "optimizer.json" not in archive.namelist()
    assert lamina.models.load_model(tmp_path / "a.lamina").optimizer.iterations == 0
    assert lamina.models.load_model(tmp_path / "a.lamina", compile=False).optimizer is None
    bare = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    bare.save(tmp_path / "b.keras")  # '.keras' holds the same format, for Keras code
    assert not lamina.models.load_model(tmp_path / "b.keras").compiled


def test_functional_several_inputs_outputs_shared_and_nested(tmp_path):
    inner = lamina.Sequential(
        [lamina.Input((4,)), layers.Dense(4, activation="tanh")], name="inner"
    )
    a = lamina.Input((4,), name="a")
    b = lamina.Input((4,), name="b")
    shared = layers.Dense(5, name="shared")
    merged = layers.Concatenate()([shared(inner(a)), shared(b)])
    out1 = layers.Dense(1, name="reg")(merged)
    out2 = layers.Dense(3, activation="softmax", name="cls")(merged)
    model = lamina.Model([a, b], {"reg": out1, "cls": out2})
    model.compile(
        "sgd",
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 0.5, "cls": 1.0},
        metrics={"cls": ["accuracy"]},
    )
    xa, xb = np.random.rand(6, 4).astype("float32"), np.random.rand(6, 4).astype("float32")
    model.save(tmp_path / "f.lamina")
    restored = lamina.models.load_model(tmp_path / "f.lamina")
    expected, got = model.predict([xa, xb], verbose=0), restored.predict([xa, xb], verbose=0)
    for key in ("reg", "cls"):
        np.testing.assert_array_equal(got[key], expected[key])
    assert restored.count_params() == model.count_params()
    targets = {"reg": np.zeros((6, 1), "float32"), "cls": np.array([0, 1, 2, 0, 1, 2])}
    assert restored.evaluate([xa, xb], targets, verbose=0) == pytest.approx(
        model.evaluate([xa, xb], targets, verbose=0), rel=1e-6
    )


@register_serializable(package="Tests")
class ScaledDense(layers.Dense):
    def __init__(self, units, scale=2.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale

    def call(self, inputs):
        return super().call(inputs) * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@register_serializable(package="Tests")
def cubed(x):
    return x**3


@register_serializable(package="Tests")
def halved_mse(y_true, y_pred):
    return 0.5 * torch.mean((y_true - y_pred) ** 2, dim=-1)


@register_serializable(package="Tests")
class TwoTower(lamina.Model):
    def __init__(self, width=3, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.left = layers.Dense(width, activation="relu")
        self.right = layers.Dense(1)

    def call(self, inputs):
        return self.right(self.left(inputs))

    def get_config(self):
        return {**super().get_config(), "width": self.width}


def test_registered_layers_functions_losses_and_subclassed_models(tmp_path):
    model = lamina.Sequential(
        [lamina.Input((4,)), ScaledDense(3, scale=3.0, activation=cubed), layers.Dense(1)]
    )
    model.compile("adam", loss=halved_mse, metrics=[halved_mse])
    model.save(tmp_path / "c.lamina")
    restored = lamina.models.load_model(tmp_path / "c.lamina")
    x = np.random.rand(5, 4).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(restored.layers[0], ScaledDense) and restored.layers[0].scale == 3.0
    assert restored.layers[0].activation is cubed

    tower = TwoTower(width=5)
    tower.compile("sgd", "mse")
    tower.fit(x, np.zeros((5, 1), "float32"), epochs=1, verbose=0)
    tower.save(tmp_path / "t.lamina")
    again = lamina.models.load_model(tmp_path / "t.lamina")
    assert isinstance(again, TwoTower) and again.width == 5
    np.testing.assert_array_equal(again.predict(x, verbose=0), tower.predict(x, verbose=0))


def test_unregistered_custom_class_needs_custom_objects(tmp_path):
    class Local(layers.Layer):
        def call(self, inputs):
            return inputs + 1

    model = lamina.Sequential([lamina.Input((2,)), Local(name="local")])
    model.save(tmp_path / "l.lamina")
    with pytest.raises(ValueError, match="Unknown layer class 'Local'"):
        lamina.models.load_model(tmp_path / "l.lamina")
    restored = lamina.models.load_model(tmp_path / "l.lamina", custom_objects={"Local": Local})
    assert float(restored(torch.zeros(1, 2)).sum()) == 2.0


def test_lambda_layers_load_only_without_safe_mode_and_by_name(tmp_path):
    def add_two(x):
        return x + 2

    model = lamina.Sequential([lamina.Input((3,)), layers.Lambda(add_two)])
    model.save(tmp_path / "lam.lamina")
    with pytest.raises(ValueError, match="refused in safe mode"):
        lamina.models.load_model(tmp_path / "lam.lamina", custom_objects={"add_two": add_two})
    with pytest.raises(ValueError, match="neither in custom_objects nor registered"):
        lamina.models.load_model(tmp_path / "lam.lamina", safe_mode=False)
    restored = lamina.models.load_model(
        tmp_path / "lam.lamina", safe_mode=False, custom_objects={"add_two": add_two}
    )
    assert float(restored(torch.zeros(1, 3)).sum()) == 6.0


def test_save_errors(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"\.lamina"):
        model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.lamina")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.lamina", overwrite=False)
    unbuilt = lamina.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        unbuilt.save(tmp_path / "u.lamina")
    with pytest.raises(FileNotFoundError, match="No lamina model file"):
        lamina.models.load_model(tmp_path / "missing.lamina")
    with pytest.raises(TypeError, match="safe_mode"):
        lamina.models.load_model(tmp_path / "m.lamina", safe_mode="no")


def test_weights_by_name_between_different_models(tmp_path):
    lamina.utils.set_random_seed(0)
    source = lamina.Sequential(
        [lamina.Input((4,)), layers.Dense(3, name="body"), layers.Dense(2, name="head")]
    )
    source.save_weights(tmp_path / "w.safetensors")
    target = lamina.Sequential(
        [
            lamina.Input((4,)),
            layers.Dense(3, name="body"),
            layers.Dropout(0.1),
            layers.Dense(5, name="new_head"),
        ]
    )
    with pytest.raises(ValueError, match="new_head/weight"):
        target.load_weights(tmp_path / "w.safetensors", by_name=True)
    target.load_weights(tmp_path / "w.safetensors", by_name=True, skip_mismatch=True)
    torch.testing.assert_close(target.layers[0].kernel, source.layers[0].kernel)


def test_pt_state_dicts_load_through_weights_only(tmp_path):
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    reference = torch.nn.Linear(4, 3)
    torch.save(
        {"0.weight": reference.weight.data, "0.bias": reference.bias.data}, tmp_path / "w.pt"
    )
    model.load_weights(tmp_path / "w.pt")
    x = torch.rand(2, 4)
    torch.testing.assert_close(model(x), reference(x))


def test_config_json_build_and_compile_entries_as_keras(tmp_path):
    # Keras 3.15.1's config.json: a functional model's build_config input_shape is null, and
    # an uncompiled model's compile_config is {}.
    a, b = lamina.Input((5,)), lamina.Input((5,))
    model = lamina.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    model.save(tmp_path / "two.keras")
    with zipfile.ZipFile(tmp_path / "two.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert config["build_config"] == {"input_shape": None}
    assert config["compile_config"] == {}
    restored = lamina.models.load_model(tmp_path / "two.keras")
    x = [np.ones((2, 5), "float32"), np.zeros((2, 5), "float32")]
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert not restored.compiled
