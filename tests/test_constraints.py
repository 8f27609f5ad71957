"""Weight constraints: numerics against NumPy and Keras, layers applying them in Keras' layout
after each optimizer step, configs, model files and identifiers.

The Keras numbers are literals from Keras 3.15.1 (torch backend) running the same arrays and
programs: `keras.constraints.*(W)` and `Sequential.fit(..., shuffle=False)` with SGD.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import constraints, layers
from lamina.saving import register_serializable

W = np.random.RandomState(0).uniform(-2, 2, (3, 4)).astype("float32")  # a Dense kernel (in, out)
K = np.random.RandomState(1).normal(size=(2, 2, 3, 2)).astype("float32")  # Conv2D (kh, kw, in, out)
EPSILON = 1e-7  # Keras' backend.epsilon() in the denominators


def norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=tuple(np.atleast_1d(axis)), keepdims=True))


# ---------------------------------------------------------------- numerics


@pytest.mark.parametrize(
    "constraint, weight, expected",
    [
        (constraints.MaxNorm(1.0), W, W * np.clip(norms(W, 0), 0, 1) / (EPSILON + norms(W, 0))),
        (
            constraints.MaxNorm(2.0, axis=1),
            W,
            W * np.clip(norms(W, 1), 0, 2) / (EPSILON + norms(W, 1)),
        ),
        (
            constraints.MinMaxNorm(1.5, 2.0, rate=0.5),
            W,
            W
            * (0.5 * np.clip(norms(W, 0), 1.5, 2.0) + 0.5 * norms(W, 0))
            / (EPSILON + norms(W, 0)),
        ),
        (constraints.NonNeg(), W, np.maximum(W, 0)),
        (constraints.UnitNorm(), W, W / (EPSILON + norms(W, 0))),
        (constraints.UnitNorm(axis=[0, 1, 2]), K, K / (EPSILON + norms(K, [0, 1, 2]))),
        (
            constraints.MaxNorm(1.0, axis=[0, 1, 2]),
            K,
            K * np.clip(norms(K, [0, 1, 2]), 0, 1) / (EPSILON + norms(K, [0, 1, 2])),
        ),
    ],
    ids=["max_norm", "max_norm_axis1", "min_max_norm", "non_neg", "unit_norm", "unit_filters",
         "max_filters"],
)  # fmt: skip
def test_constraints_match_numpy(constraint, weight, expected):
    got = constraint(torch.from_numpy(weight)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


KERAS_W = {
    "max_norm": [[0.1033233, 0.7552715, 0.325685, 0.1135154], [-0.1615995, 0.512059, -0.197803, 0.9908449], [0.9814326, -0.4090969, 0.9245557, 0.073079]],  # noqa: E501
    "max_norm_axis1": [[0.195254, 0.8607574, 0.4110534, 0.1795327], [-0.3053808, 0.5835764, -0.2496511, 1.5670919], [1.6535479, -0.4156793, 1.0403711, 0.1030472]],  # noqa: E501
    "min_max_norm": [[0.195254, 0.9968323, 0.4497904, 0.1795327], [-0.3053808, 0.6758325, -0.2731778, 1.5670919], [1.854651, -0.5399396, 1.2768667, 0.1155797]],  # noqa: E501
    "non_neg": [[0.195254, 0.8607575, 0.4110535, 0.1795327], [0.0, 0.5835764, 0.0, 1.5670921], [1.8546511, 0.0, 1.1669002, 0.1155797]],  # noqa: E501
    "unit_norm": [[0.1033233, 0.7552715, 0.325685, 0.1135154], [-0.1615995, 0.512059, -0.197803, 0.9908448], [0.9814325, -0.4090969, 0.9245556, 0.073079]],  # noqa: E501
    "unit_filters": [[[[0.461368, -0.1542027], [-0.1500183, -0.2704584], [0.2458045, -0.5801386]], [[0.4955845, -0.191874], [0.0906177, -0.0628577], [0.4152872, -0.5192905]]], [[[-0.0915772, -0.0968069], [0.3220281, -0.2772447], [-0.0489753, -0.2212779]], [[0.0119901, 0.1469076], [-0.3126124, 0.2885454], [0.2560817, 0.1266615]]]],  # noqa: E501
    "max_filters": [[[[0.4613681, -0.1542027], [-0.1500183, -0.2704584], [0.2458045, -0.5801386]], [[0.4955845, -0.191874], [0.0906177, -0.0628577], [0.4152872, -0.5192904]]], [[[-0.0915772, -0.0968069], [0.3220282, -0.2772447], [-0.0489753, -0.2212778]], [[0.0119901, 0.1469076], [-0.3126124, 0.2885454], [0.2560817, 0.1266615]]]],  # noqa: E501
}  # fmt: skip


@pytest.mark.parametrize(
    "name, constraint, weight",
    [
        ("max_norm", constraints.MaxNorm(1.0), W),
        ("max_norm_axis1", constraints.MaxNorm(2.0, axis=1), W),
        ("min_max_norm", constraints.MinMaxNorm(1.5, 2.0, rate=0.5, axis=0), W),
        ("non_neg", constraints.NonNeg(), W),
        ("unit_norm", constraints.UnitNorm(), W),
        ("unit_filters", constraints.UnitNorm(axis=[0, 1, 2]), K),
        ("max_filters", constraints.MaxNorm(1.0, axis=[0, 1, 2]), K),
    ],
)
def test_constraints_match_keras(name, constraint, weight):
    got = constraint(torch.from_numpy(weight)).numpy()
    np.testing.assert_allclose(got, np.array(KERAS_W[name]), rtol=0, atol=2e-7)


def test_base_constraint_is_the_identity_and_aliases_are_the_classes():
    w = torch.from_numpy(W)
    assert constraints.Constraint()(w) is w
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm


def test_epsilon_follows_the_config():
    w = torch.tensor([[3.0], [4.0]])
    try:
        lamina.config.set_epsilon(1.0)
        assert constraints.UnitNorm()(w).flatten().tolist() == pytest.approx([0.5, 4.0 / 6.0])
    finally:
        lamina.config.set_epsilon(1e-7)


# ---------------------------------------------------------------- training, against Keras


def test_dense_max_norm_training_matches_keras():
    x = np.random.RandomState(2).normal(size=(8, 4)).astype("float32")
    y = (5 * np.random.RandomState(3).normal(size=(8, 3))).astype("float32")
    model = lamina.Sequential(
        [lamina.Input((4,)), layers.Dense(3, kernel_constraint=constraints.MaxNorm(1.0))]
    )
    kernel = np.random.RandomState(4).uniform(-2, 2, (4, 3)).astype("float32")
    model.set_weights([kernel, np.zeros(3, "float32")])
    model.compile(lamina.optimizers.SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    got_kernel, got_bias = model.get_weights()
    keras_kernel = [
        [0.7700981, -0.0399507, 0.8183972],
        [0.5414275, 0.5151816, -0.4286906],
        [-0.1302166, -0.5892437, -0.2808303],
        [0.296541, 0.6211146, 0.2599701],
    ]
    keras_bias = [0.3630737, -0.0680191, -0.157058]
    np.testing.assert_allclose(got_kernel, keras_kernel, atol=1e-5)
    np.testing.assert_allclose(got_bias, keras_bias, atol=1e-5)
    # Each unit's incoming weights (Keras' axis 0) have norm <= 1; two end on the bound.
    unit_norms = np.sqrt((got_kernel**2).sum(axis=0))
    assert np.all(unit_norms <= 1.0 + 1e-6)
    np.testing.assert_allclose(unit_norms[1:], 1.0, atol=1e-6)


def test_conv2d_unit_norm_training_matches_keras():
    x = np.random.RandomState(5).normal(size=(8, 4, 4, 2)).astype("float32")
    y = np.random.RandomState(6).normal(size=(8, 1)).astype("float32")
    model = lamina.Sequential(
        [
            lamina.Input((4, 4, 2)),
            layers.Conv2D(2, 2, kernel_constraint=constraints.UnitNorm(axis=[0, 1, 2])),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1),
        ]
    )
    model.set_weights(
        [
            np.random.RandomState(7).normal(size=(2, 2, 2, 2)).astype("float32"),
            np.zeros(2, "float32"),
            np.random.RandomState(8).uniform(-1, 1, (2, 1)).astype("float32"),
            np.zeros(1, "float32"),
        ]
    )
    model.compile(lamina.optimizers.SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    kernel, bias, head_kernel, head_bias = model.get_weights()
    keras_kernel = [[[[0.7503114, -0.1745961], [-0.0287821, 0.119761]], [[-0.3205629, 0.0275661], [0.0392191, -0.6848581]]], [[[0.3885847, 0.1885767], [-0.3543509, -0.1687473]], [[0.1963027, -0.1352185], [-0.1296456, -0.6348714]]]]  # noqa: E501  # fmt: skip
    np.testing.assert_allclose(kernel, keras_kernel, atol=1e-5)
    np.testing.assert_allclose(bias, [-0.0693851, -0.0782167], atol=1e-5)
    np.testing.assert_allclose(head_kernel, [[0.6152497], [0.6967821]], atol=1e-5)
    np.testing.assert_allclose(head_bias, [-0.1368361], atol=1e-5)
    # Each filter (kh, kw, in) has unit norm in Keras' layout.
    np.testing.assert_allclose(np.sqrt((kernel**2).sum(axis=(0, 1, 2))), 1.0, atol=1e-6)


# ---------------------------------------------------------------- every layer that takes one


def fit_once(layer, input_shape):
    model = lamina.Sequential([lamina.Input(input_shape), layer, layers.Flatten(), layers.Dense(1)])
    model.compile(lamina.optimizers.SGD(learning_rate=1.0), "mse")
    x = np.random.RandomState(0).normal(size=(4, *input_shape)).astype("float32")
    model.fit(x, np.full((4, 1), 10.0, "float32"), batch_size=4, epochs=1, verbose=0)
    return {info.keras_name: w for (_, info, _, _), w in
            zip(layer._keras_ordered_weights(), layer.get_weights(), strict=True)}  # fmt: skip


UNIT = constraints.UnitNorm(axis=0)


@pytest.mark.parametrize(
    "factory, input_shape, name, axis",
    [
        (lambda: layers.Dense(3, kernel_constraint="unit_norm"), (5,), "kernel", 0),
        (lambda: layers.Dense(3, bias_constraint=UNIT), (5,), "bias", 0),
        (lambda: layers.Conv1D(3, 2, kernel_constraint=constraints.UnitNorm([0, 1])), (6, 2),
         "kernel", (0, 1)),
        (lambda: layers.Conv2D(3, 2, kernel_constraint=constraints.UnitNorm([0, 1, 2])),
         (5, 5, 2), "kernel", (0, 1, 2)),
        (lambda: layers.Conv3D(2, 2, kernel_constraint=constraints.UnitNorm([0, 1, 2, 3])),
         (3, 3, 3, 2), "kernel", (0, 1, 2, 3)),
        (lambda: layers.Conv2DTranspose(3, 2, kernel_constraint=constraints.UnitNorm(3)),
         (3, 3, 2), "kernel", 3),
        (lambda: layers.Conv2D(3, 2, bias_constraint=UNIT), (4, 4, 2), "bias", 0),
        (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2,
                                        depthwise_constraint=constraints.UnitNorm([0, 1])),
         (4, 4, 3), "kernel", (0, 1)),
        (lambda: layers.SeparableConv2D(3, 2, depthwise_constraint=constraints.UnitNorm([0, 1])),
         (4, 4, 2), "depthwise_kernel", (0, 1)),
        (lambda: layers.SeparableConv2D(3, 2, pointwise_constraint=constraints.UnitNorm(2)),
         (4, 4, 2), "pointwise_kernel", 2),
        (lambda: layers.SeparableConv1D(3, 2, bias_constraint=UNIT), (5, 2), "bias", 0),
        (lambda: layers.BatchNormalization(beta_constraint=UNIT), (3,), "beta", 0),
        (lambda: layers.LayerNormalization(gamma_constraint=UNIT), (3,), "gamma", 0),
        (lambda: layers.GroupNormalization(2, beta_constraint=UNIT), (4, 4), "beta", 0),
        (lambda: layers.PReLU(alpha_constraint=constraints.UnitNorm([0, 1])), (2, 3), "alpha",
         (0, 1)),
    ],
)  # fmt: skip
def test_layers_apply_constraints_in_keras_layout(factory, input_shape, name, axis):
    weights = fit_once(factory(), input_shape)
    np.testing.assert_allclose(np.sqrt((weights[name] ** 2).sum(axis=axis)), 1.0, atol=1e-5)


def test_non_neg_keeps_batch_normalization_gamma_non_negative():
    layer = layers.BatchNormalization(gamma_constraint="non_neg")
    model = lamina.Sequential([lamina.Input((4,)), layer])
    model.compile(lamina.optimizers.SGD(learning_rate=1.0), "mse")
    x = np.random.RandomState(0).normal(size=(16, 4)).astype("float32")
    # Targets of the opposite sign push gamma below zero; the constraint stops it at zero.
    model.fit(x, -3 * x, batch_size=8, epochs=3, verbose=0)
    gamma, beta, _, _ = layer.get_weights()
    assert np.all(gamma >= 0) and np.any(gamma == 0)
    assert isinstance(layer.gamma_constraint, constraints.NonNeg)
    assert layer.beta_constraint is None


def test_add_weight_takes_a_constraint():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), "ones", constraint="non_neg")

        def call(self, inputs):
            return inputs * self.scale

    layer = Scale()
    layer.build((None, 3))
    with torch.no_grad():
        layer.scale.copy_(layer.scale.constraint(torch.tensor([-1.0, 0.5, 2.0])))
    assert layer.scale.tolist() == [0.0, 0.5, 2.0]


def test_constraint_sees_keras_layout():
    seen = []

    def record(w):
        seen.append(tuple(w.shape))
        return w

    layer = layers.Conv2D(5, 3, kernel_constraint=record)
    layer.build((None, 8, 8, 2))
    layer.weight.constraint(layer.weight.detach())
    assert seen == [(3, 3, 2, 5)] and tuple(layer.weight.shape) == (5, 2, 3, 3)


# ---------------------------------------------------------------- configs and files


def test_config_round_trip():
    layer = layers.Conv2D(
        4, 3, kernel_constraint=constraints.MaxNorm(3.0, axis=[0, 1, 2]), bias_constraint="non_neg"
    )
    config = layer.get_config()
    assert config["kernel_constraint"] == {  # Keras 3's entry, module and registered_name too
        "module": "keras.constraints",
        "class_name": "MaxNorm",
        "config": {"max_value": 3.0, "axis": [0, 1, 2]},
        "registered_name": None,
    }
    assert config["bias_constraint"] == {
        "module": "keras.constraints",
        "class_name": "NonNeg",
        "config": {},
        "registered_name": None,
    }
    restored = layers.Conv2D.from_config(config)
    assert isinstance(restored.kernel_constraint, constraints.MaxNorm)
    assert restored.kernel_constraint.get_config() == {"max_value": 3.0, "axis": [0, 1, 2]}
    assert restored.get_config() == config
    assert layers.Dense(2).get_config()["kernel_constraint"] is None


@pytest.mark.parametrize(
    "constraint",
    [
        constraints.MaxNorm(1.5, axis=1),
        constraints.MinMaxNorm(0.1, 0.9, rate=0.5, axis=[0, 1]),
        constraints.NonNeg(),
        constraints.UnitNorm(axis=2),
    ],
)
def test_serialize_deserialize_round_trip(constraint):
    restored = constraints.deserialize(constraints.serialize(constraint))
    assert type(restored) is type(constraint)
    assert restored.get_config() == constraint.get_config()
    assert constraints.get(constraints.serialize(constraint)).get_config() == (
        constraint.get_config()
    )


def test_get_accepts_keras_names_classes_and_keras_dicts():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("MinMaxNorm"), constraints.MinMaxNorm)
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    keras_form = {
        "module": "keras.constraints",
        "class_name": "UnitNorm",
        "config": {"axis": [0, 1]},
        "registered_name": None,
    }
    assert constraints.get(keras_form).axis == [0, 1]
    assert constraints.get(None) is None
    assert constraints.get(abs) is abs


@register_serializable(package="ConstraintTests")
class ClipTo(constraints.Constraint):
    def __init__(self, limit=0.05):
        self.limit = limit

    def __call__(self, w):
        return w.clamp(-self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def test_registered_custom_constraint_survives_a_model_file(tmp_path):
    model = lamina.Sequential(
        [lamina.Input((4,)), layers.Dense(3, kernel_constraint=ClipTo(0.05), name="clipped")]
    )
    model.compile(lamina.optimizers.SGD(learning_rate=1.0), "mse")
    x = np.random.RandomState(0).normal(size=(8, 4)).astype("float32")
    y = np.full((8, 3), 5.0, "float32")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.get_config()["layers"][1]["config"]["kernel_constraint"] == {
        "module": "tests.test_constraints",
        "class_name": "ClipTo",
        "registered_name": "ConstraintTests>ClipTo",
        "config": {"limit": 0.05},
    }
    model.save(tmp_path / "c.lamina")
    restored = lamina.models.load_model(tmp_path / "c.lamina")
    layer = restored.get_layer("clipped")
    assert isinstance(layer.kernel_constraint, ClipTo) and layer.kernel_constraint.limit == 0.05
    # Training the restored model keeps applying it.
    restored.fit(x, y * 10, epochs=2, verbose=0)
    assert np.abs(layer.get_weights()[0]).max() <= 0.05 + 1e-7


def test_registered_constraint_function_by_name():
    @register_serializable(package="ConstraintTests")
    def halve(w):
        return w / 2

    layer = layers.Dense(2, kernel_constraint="ConstraintTests>halve")
    assert layer.kernel_constraint is halve
    assert layer.get_config()["kernel_constraint"] == "ConstraintTests>halve"


@pytest.mark.parametrize(
    "identifier, error, message",
    [
        ("max_nrom", ValueError, r"Unknown constraint 'max_nrom'. Valid names: .*max_norm"),
        ({"class_name": "Nope", "config": {}}, ValueError, r"Unknown constraint 'Nope'"),
        ({"config": {}}, TypeError, r"'class_name'"),
        # Keras 3.15.1: "ValueError: Could not interpret constraint identifier: 3"
        (3, ValueError, r"Could not interpret constraint identifier: 3"),
    ],
)
def test_bad_identifiers_give_clear_errors(identifier, error, message):
    with pytest.raises(error, match=message):
        constraints.get(identifier)
    with pytest.raises(error, match=message):
        layers.Dense(2, kernel_constraint=identifier)
