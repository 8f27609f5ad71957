"""Keras 3 weights files of subclassed models, both ways: lamina reads the files Keras writes
and writes the files Keras reads, with Keras' groups (`enc/d1/vars`, `blocks/dense_1/vars`,
`layers/lstm/cell/vars`, the model's own `vars`).

The KERAS_* records below are files Keras 3.15.1 (torch backend) wrote for the models defined
here (the same code with `keras` for `lamina`): every array (path, shape, values), every
`vars` group (Keras gives each a `name` attribute), the input and Keras' prediction. The
tests rebuild the files with h5py. Weights were rounded to two decimals before saving, so the
values are exact.
"""

import h5py
import numpy as np
import pytest
import torch

import lamina
from lamina import layers, ops


class Enc(lamina.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.d1 = layers.Dense(3)

    def call(self, x):
        return self.d1(x)


class AE(lamina.Model):
    """repro_02's model: a subclassed model, a Sequential and the model's own weight."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.enc = Enc(name="enc")
        self.dec = lamina.Sequential([layers.Dense(2)], name="dec")
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def call(self, x):
        return self.scale * self.dec(self.enc(x))


class Custom(layers.Layer):
    """A layer with its own weights (a non-trainable one made first) and a sub-layer."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.inner = layers.Dense(3)

    def build(self, shape):
        self.mov = self.add_weight(name="mov", shape=(3,), initializer="zeros", trainable=False)
        self.w = self.add_weight(name="w", shape=(3,), initializer="ones")

    def call(self, x):
        return self.inner(x) * self.w + self.mov


class Tower(lamina.Model):
    """A list and a dict of layers, a layer kept twice (`alias` is `blocks[1]`), a layer in an
    attribute that sorts after Keras' `layers` property (`rnn`), a private one (`_priv`), a
    custom layer and the model's own weight."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.blocks = [layers.Dense(3), layers.LayerNormalization()]
        self.alias = self.blocks[1]
        self.custom = Custom()
        self.rnn = layers.LSTM(2)
        self.heads = {"b": layers.Dense(2), "a": layers.Dense(1)}
        self._priv = layers.Dense(2)
        self.scale = self.add_weight(name="scale", shape=(5,), initializer="ones")

    def call(self, x):
        h = self.custom(self.alias(self.blocks[0](x)))
        r = self.rnn(ops.expand_dims(h, 1))
        out = ops.concatenate([self.heads["b"](r), self.heads["a"](r), self._priv(r)], -1)
        return out * self.scale


def functional():
    """A functional model holding a subclassed one."""
    inputs = lamina.Input((4,))
    return lamina.Model(inputs, AE(name="inner")(layers.Dense(3)(inputs)), name="fm")


KERAS_AE = {
    "x": [[0.0, 0.3, -0.27, -0.89], [-0.45, -0.99, 0.06, 1.34]],
    "pred": [[0.6494499, 0.2363897], [-2.0435586, -0.5068991]],
    "arrays": {
        "dec/layers/dense/vars/0": ([3, 2], [0.16, -0.19, -2.52, -0.54, -0.05, 0.11]),
        "dec/layers/dense/vars/1": ([2], [-1.53, -0.48]),
        "enc/d1/vars/0": (
            [4, 3],
            [-0.62, 0.49, 0.36, 0.11, -0.93, -0.03, 0.7, -1.34, -0.46, -1.9, -1.29, -1.84],
        ),
        "enc/d1/vars/1": ([3], [-0.24, -1.27, 0.27]),
        "vars/0": ([], [-0.49]),
    },
    "vars": ["dec/layers/dense/vars", "dec/vars", "enc/d1/vars", "enc/vars", "vars"],
}
KERAS_TOWER = {
    "x": [[0.0, 0.3, -0.27, -0.89], [-0.45, -0.99, 0.06, 1.34]],
    "pred": [
        [0.35245076, 0.1592489, -0.12097729, 0.0016874314, -0.025288912],
        [0.38718894, 0.26330832, -0.08914446, -0.0124354055, -0.008933236],
    ],
    "arrays": {
        "alias/vars/0": ([3], [-0.05, 0.11, -1.53]),
        "alias/vars/1": ([3], [-0.48, -0.98, -0.81]),
        "blocks/dense/vars/0": (
            [4, 3],
            [-0.93, -0.03, 0.7, -1.34, -0.46, -1.9, -1.29, -1.84, -0.24, -1.27, 0.27, 0.16],
        ),
        "blocks/dense/vars/1": ([3], [-0.19, -2.52, -0.54]),
        "custom/inner/vars/0": ([3, 3], [0.11, 0.06, -1.23, 0.08, 1.36, -1.55, 0.86, 0.12, -0.64]),
        "custom/inner/vars/1": ([3], [2.0, 0.76, -1.2]),
        "custom/vars/0": ([3], [1.06, -0.81, -0.03]),
        "custom/vars/1": ([3], [0.88, -0.58, -0.11]),
        "heads/dense/vars/0": ([2, 2], [-0.3, -0.9, 0.16, 2.24]),
        "heads/dense/vars/1": ([2], [-0.83, -0.62]),
        "heads/dense_1/vars/0": ([2, 1], [0.21, 0.49]),
        "heads/dense_1/vars/1": ([1], [-0.18]),
        "layers/dense_3/vars/0": ([2, 2], [-0.21, 0.7, 0.52, -1.03]),
        "layers/dense_3/vars/1": ([2], [-0.08, 0.04]),
        "layers/lstm/cell/vars/0": (
            [3, 8],
            [
                0.07,
                0.58,
                -0.19,
                0.68,
                -0.07,
                0.67,
                1.44,
                -0.68,
                0.2,
                -0.46,
                0.13,
                -1.19,
                -0.58,
                -0.2,
                0.9,
                1.15,
                -1.32,
                -0.79,
                0.65,
                -1.99,
                -0.46,
                -0.1,
                1.26,
                0.69,
            ],
        ),
        "layers/lstm/cell/vars/1": (
            [2, 8],
            [
                -0.33,
                -0.37,
                -0.25,
                1.52,
                -0.43,
                -0.3,
                0.35,
                -0.12,
                -0.2,
                -1.11,
                -0.01,
                -0.44,
                1.17,
                0.65,
                -0.02,
                0.67,
            ],
        ),
        "layers/lstm/cell/vars/2": ([8], [-0.34, 1.05, -0.01, 0.58, -1.29, 0.35, -1.69, -2.04]),
        "vars/0": ([5], [-0.49, -0.62, 0.49, 0.36, 0.11]),
    },
    "vars": [
        "alias/vars",
        "blocks/dense/vars",
        "custom/inner/vars",
        "custom/vars",
        "heads/dense/vars",
        "heads/dense_1/vars",
        "layers/dense_3/vars",
        "layers/lstm/cell/vars",
        "layers/lstm/vars",
        "vars",
    ],
}
KERAS_FUNCTIONAL = {
    "x": [[0.0, 0.3, -0.27, -0.89], [-0.45, -0.99, 0.06, 1.34]],
    "pred": [[-0.43686822, -0.36683223], [-0.57413566, 0.9676325]],
    "arrays": {
        "layers/ae/dec/layers/dense/vars/0": ([3, 2], [-0.03, 0.88, -0.58, -0.11, 0.11, 0.06]),
        "layers/ae/dec/layers/dense/vars/1": ([2], [-1.23, 0.08]),
        "layers/ae/enc/d1/vars/0": (
            [3, 3],
            [0.16, -0.19, -2.52, -0.54, -0.05, 0.11, -1.53, -0.48, -0.98],
        ),
        "layers/ae/enc/d1/vars/1": ([3], [-0.81, 1.06, -0.81]),
        "layers/ae/vars/0": ([], [0.27]),
        "layers/dense/vars/0": (
            [4, 3],
            [-0.49, -0.62, 0.49, 0.36, 0.11, -0.93, -0.03, 0.7, -1.34, -0.46, -1.9, -1.29],
        ),
        "layers/dense/vars/1": ([3], [-1.84, -0.24, -1.27]),
    },
    "vars": [
        "layers/ae/dec/layers/dense/vars",
        "layers/ae/dec/vars",
        "layers/ae/enc/d1/vars",
        "layers/ae/enc/vars",
        "layers/ae/vars",
        "layers/dense/vars",
        "layers/input_layer/vars",
        "vars",
    ],
}


CASES = {
    "ae": (AE, KERAS_AE),
    "tower": (Tower, KERAS_TOWER),
    "functional": (functional, KERAS_FUNCTIONAL),
}


def write_keras_file(record, path):
    """The file Keras wrote, rebuilt from its record."""
    with h5py.File(path, "w") as file:
        for group in record["vars"]:
            file.require_group(group).attrs["name"] = "from_keras"
        for name, (shape, values) in record["arrays"].items():
            file.create_dataset(name, data=np.asarray(values, "float32").reshape(shape))
    return path


def layout(path):
    """{array path: (shape, values)} and the `vars` groups of an HDF5 file."""
    arrays, groups = {}, []
    with h5py.File(path, "r") as file:

        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                arrays[name] = (list(item.shape), np.ravel(item[()]).tolist())
            elif name.split("/")[-1] == "vars":
                groups.append(name)
                assert "name" in item.attrs, name  # Keras names every vars group

        file.visititems(visit)
    return arrays, sorted(groups)


def built(case):
    build, record = CASES[case]
    model = build()
    model(np.asarray(record["x"], "float32"))
    return model, record


@pytest.mark.parametrize("case", list(CASES))
def test_a_keras_file_of_a_subclassed_model_loads_and_predicts_as_in_keras(case, tmp_path):
    model, record = built(case)
    model.load_weights(write_keras_file(record, tmp_path / "k.weights.h5"))
    got = model.predict(np.asarray(record["x"], "float32"), verbose=0)
    np.testing.assert_allclose(got, np.asarray(record["pred"], "float32"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_lamina_writes_keras_groups_and_arrays_for_subclassed_models(case, tmp_path):
    model, record = built(case)
    model.load_weights(write_keras_file(record, tmp_path / "k.weights.h5"))
    model.save_weights(tmp_path / "l.weights.h5")
    arrays, groups = layout(tmp_path / "l.weights.h5")
    assert sorted(arrays) == sorted(record["arrays"])
    assert groups == sorted(record["vars"])
    for name, (shape, values) in record["arrays"].items():
        assert arrays[name][0] == shape, name
        np.testing.assert_array_equal(np.float32(arrays[name][1]), np.float32(values), name)


def test_a_models_own_weights_survive_save_and_load(tmp_path):
    # repro_01: a subclassed model's add_weight was dropped from .weights.h5 files.
    x = np.ones((2, 4), "float32")
    model, other = AE(), AE()
    model(x), other(x)
    with torch.no_grad():
        model.scale.fill_(1.7)
    model.save_weights(tmp_path / "a.weights.h5")
    other.load_weights(tmp_path / "a.weights.h5")
    assert float(other.scale.detach()) == pytest.approx(1.7)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with h5py.File(tmp_path / "a.weights.h5", "r") as file:
        assert float(file["vars/0"][()]) == pytest.approx(1.7)


class WrapsFunctional(lamina.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        inputs = lamina.Input((4,))
        self.body = lamina.Model(inputs, layers.Dense(3, name="x")(inputs))
        self.head = layers.Dense(1)

    def call(self, x):
        return self.head(self.body(x))


def test_a_functional_model_inside_a_subclassed_one_has_keras_groups(tmp_path):
    # Keras 3.15.1's file for this model: these arrays and vars groups.
    model = WrapsFunctional()
    model(np.ones((1, 4), "float32"))
    model.save_weights(tmp_path / "w.weights.h5")
    arrays, groups = layout(tmp_path / "w.weights.h5")
    assert {name: shape for name, (shape, _) in arrays.items()} == {
        "body/layers/dense/vars/0": [4, 3],
        "body/layers/dense/vars/1": [3],
        "head/vars/0": [3, 1],
        "head/vars/1": [1],
    }
    assert groups == [
        "body/layers/dense/vars",
        "body/layers/input_layer/vars",
        "body/vars",
        "head/vars",
        "vars",
    ]


class Renamed(AE):
    """AE with its encoder in another attribute: Keras' file has no group for it."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.encoder = self.enc
        del self.enc

    def call(self, x):
        return self.scale * self.dec(self.encoder(x))


def test_a_file_with_other_attribute_names_is_refused_clearly_or_skipped(tmp_path):
    path = write_keras_file(KERAS_AE, tmp_path / "k.weights.h5")
    model = Renamed()
    model(np.ones((1, 4), "float32"))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"Layer '.*' \(Dense\).*'/encoder/d1'"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights(), strict=True):  # nothing assigned
        np.testing.assert_array_equal(a, b)
    model.load_weights(path, skip_mismatch=True)
    assert float(model.scale.detach()) == pytest.approx(KERAS_AE["arrays"]["vars/0"][1][0])
    np.testing.assert_array_equal(model.encoder.d1.get_weights()[0], before[-2])


def test_files_lamina_wrote_before_it_followed_keras_walk_still_load(tmp_path):
    # Earlier lamina wrote every model's layers under `layers/<slot>`.
    model = AE()
    model(np.ones((1, 4), "float32"))
    weights = model.get_weights()  # scale, then enc's, then dec's
    with h5py.File(tmp_path / "old.weights.h5", "w") as file:
        file["layers/enc/layers/dense/vars/0"] = weights[1] + 1
        file["layers/enc/layers/dense/vars/1"] = weights[2] + 1
        file["layers/sequential/layers/dense/vars/0"] = weights[3] + 1
        file["layers/sequential/layers/dense/vars/1"] = weights[4] + 1
        file.create_group("vars")
    model.load_weights(tmp_path / "old.weights.h5")
    for a, b in zip(model.get_weights()[1:], weights[1:], strict=True):
        np.testing.assert_array_equal(a, b + 1)


class HoldsTorch(lamina.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.proj = torch.nn.Linear(4, 2)

    def call(self, x):
        return self.proj(x)


def test_a_plain_torch_module_falls_back_to_safetensors(tmp_path):
    model = HoldsTorch()
    model(np.ones((1, 4), "float32"))
    with pytest.warns(UserWarning, match="plain torch module"):
        model.save_weights(tmp_path / "t.weights.h5")
    other = HoldsTorch()
    other(np.ones((1, 4), "float32"))
    other.load_weights(tmp_path / "t.weights.h5")
    torch.testing.assert_close(other.proj.weight, model.proj.weight)
