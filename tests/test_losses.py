"""lamina.losses: Keras 3.15.1 values, reductions, the logits path, lookup and validation."""

import contextlib
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import losses
from lamina.losses import validate_targets


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


Y_ONEHOT = [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]
# Row 1 puts zero probability on the true class (clipping); row 3 sums to 1.2 (normalisation).
P_PROBS = [[0.1, 0.8, 0.1], [0.0, 0.5, 0.5], [0.2, 0.2, 0.6], [0.7, 0.2, 0.3]]
LOGITS = [[1.0, 2.0, -1.0], [0.5, -0.5, 2.0], [-1.0, 0.0, 1.0], [3.0, 1.0, 0.2]]
Y_SPARSE = [1, 0, 2, 1]
Y_BIN = [[0, 1], [1, 1], [0, 0], [1, 0]]
P_BIN = [[0.2, 0.7], [0.9, 1.0], [0.0, 0.4], [0.6, 0.5]]
Y_REG = [[0.5, 1.0, 2.0], [0.0, -1.0, 3.0], [1.5, 2.5, 0.2], [2.0, 0.0, 1.0]]
P_REG = [[0.4, 1.5, 1.0], [0.3, -0.5, 4.5], [1.0, 2.0, 0.1], [0.5, 0.2, 3.0]]
P_POS = [[0.4, 1.5, 1.0], [0.3, 0.5, 4.5], [1.0, 2.0, 0.1], [0.5, 0.2, 3.0]]
Y_COUNT = [[0, 2, 1], [1, 0, 3], [2, 1, 0], [0, 1, 1]]
Y_PM = [[-1, 1, 1], [1, -1, -1], [1, 1, -1], [-1, -1, 1]]
BIN_LOGITS = [[-1.0, 2.0], [0.5, 3.0], [-2.0, 0.1], [1.5, -0.5]]
Y_01 = [[0, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1]]
SW = [1.0, 0.0, 2.0, 0.5]

# (class, kwargs, y_true, y_pred, loss, loss with sample_weight=SW, per-sample losses),
# computed with Keras 3.15.1 (torch backend) on the literals above.
KERAS_LOSSES = [
    (
        "CategoricalCrossentropy",
        {},
        Y_ONEHOT,
        P_PROBS,
        4.6609559,
        0.5351686,
        [0.2231435, 16.1180954, 0.5108256, 1.7917595],
    ),
    (
        "CategoricalCrossentropy",
        {"label_smoothing": 0.2},
        Y_ONEHOT,
        P_PROBS,
        4.2250896,
        0.6639056,
        [0.5004025, 14.0614367, 0.6573073, 1.681211],
    ),
    (
        "CategoricalCrossentropy",
        {"from_logits": True},
        Y_ONEHOT,
        LOGITS,
        1.1755226,
        0.563444,
        [0.3490122, 1.7663679, 0.4076059, 2.1791043],
    ),
    (
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        Y_ONEHOT,
        LOGITS,
        1.2196894,
        0.6417774,
        [0.4823455, 1.7497014, 0.507606, 2.1391044],
    ),
    (
        "SparseCategoricalCrossentropy",
        {},
        Y_SPARSE,
        P_PROBS,
        4.6609559,
        0.5351686,
        [0.2231435, 16.1180954, 0.5108256, 1.7917595],
    ),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True},
        Y_SPARSE,
        LOGITS,
        1.1755226,
        0.563444,
        [0.3490122, 1.7663679, 0.4076059, 2.1791043],
    ),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 2},
        Y_SPARSE,
        LOGITS,
        1.431495,
        0.4795215,
        [0.3490122, 1.7663679, 0.0, 2.1791043],
    ),
    (
        "BinaryCrossentropy",
        {},
        Y_BIN,
        P_BIN,
        0.2999972,
        0.2754321,
        [0.2899093, 0.0526803, 0.2554129, 0.6019864],
    ),
    (
        "BinaryCrossentropy",
        {"label_smoothing": 0.2},
        Y_BIN,
        P_BIN,
        0.7662749,
        0.7189751,
        [0.4015889, 0.9596605, 1.0815909, 0.6222596],
    ),
    (
        "BinaryCrossentropy",
        {"from_logits": True},
        Y_BIN,
        BIN_LOGITS,
        0.3137087,
        0.3150731,
        [0.2200949, 0.2613322, 0.4356624, 0.3377451],
    ),
    (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        Y_BIN,
        BIN_LOGITS,
        0.3787087,
        0.3638231,
        [0.2950949, 0.3488322, 0.4831624, 0.3877451],
    ),
    (
        "MeanSquaredError",
        {},
        Y_REG,
        P_REG,
        0.8874999,
        0.4520833,
        [0.42, 0.8633333, 0.17, 2.0966666],
    ),
    (
        "MeanAbsoluteError",
        {},
        Y_REG,
        P_REG,
        0.725,
        0.4708333,
        [0.5333334, 0.7666667, 0.3666667, 1.2333333],
    ),
    (
        "MeanAbsolutePercentageError",
        {},
        Y_REG,
        P_REG,
        41666716.0,
        8333371.5,
        [40.0, 100000032.0, 34.4444427, 66666756.0],
    ),
    (
        "MeanSquaredLogarithmicError",
        {},
        Y_REG,
        P_REG,
        0.1220397,
        0.0731901,
        [0.072985, 0.0567492, 0.0270422, 0.3313824],
    ),
    ("Huber", {}, Y_REG, P_REG, 0.38125, 0.2, [0.21, 0.39, 0.085, 0.84]),
    (
        "Huber",
        {"delta": 0.5},
        Y_REG,
        P_REG,
        0.25625,
        0.1479167,
        [0.1683333, 0.265, 0.085, 0.5066667],
    ),
    (
        "KLDivergence",
        {},
        Y_ONEHOT,
        P_PROBS,
        4.6153722,
        0.512376,
        [0.2231408, 16.1180916, 0.5108227, 1.6094348],
    ),
    ("Hinge", {}, Y_PM, P_REG, 0.9916667, 0.4125, [0.4666667, 2.2333333, 0.3666667, 0.9]),
    ("Hinge", {}, Y_01, P_REG, 0.9916667, 0.4125, [0.4666667, 2.2333333, 0.3666667, 0.9]),
    ("SquaredHinge", {}, Y_PM, P_REG, 3.1541667, 0.51875, [0.6533333, 10.3299999, 0.4033333, 1.23]),
    ("SquaredHinge", {}, Y_01, P_REG, 3.1541667, 0.51875, [0.6533333, 10.3299999, 0.4033333, 1.23]),
    ("CategoricalHinge", {}, Y_ONEHOT, P_REG, 3.1000001, 2.05, [0.5, 5.1999998, 2.9000001, 3.8]),
    (
        "CosineSimilarity",
        {},
        Y_REG,
        P_REG,
        -0.8584545,
        -0.7903711,
        [-0.8744699, -0.975663, -0.9967812, -0.586904],
    ),
    (
        "Poisson",
        {},
        Y_COUNT,
        P_POS,
        0.8915406,
        0.7506822,
        [0.6963565, 0.6639134, 0.8022842, 1.4036083],
    ),
    (
        "LogCosh",
        {},
        Y_REG,
        P_REG,
        0.3353595,
        0.1791236,
        [0.1862957, 0.3399651, 0.0817402, 0.733437],
    ),
    # Focal, Dice and Tversky losses, Keras 3.15.1 (torch backend).
    (
        "BinaryFocalCrossentropy",
        {},
        Y_BIN,
        P_BIN,
        0.0473539,
        0.0415,
        [0.0205132, 0.0005268, 0.040866, 0.1275094],
    ),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
        Y_BIN,
        P_BIN,
        0.0391274,
        0.0362324,
        [0.0177091, 0.0006664, 0.0387689, 0.0993653],
    ),
    (
        "BinaryFocalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        Y_BIN,
        BIN_LOGITS,
        0.0512619,
        0.0619711,
        [0.0182984, 0.0387662, 0.1037296, 0.0442534],
    ),
    (
        "CategoricalFocalCrossentropy",
        {},
        Y_ONEHOT,
        P_PROBS,
        1.0908142,
        0.049658,
        [0.0022314, 4.0295229, 0.020433, 0.3110694],
    ),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": [0.2, 0.3, 0.5], "gamma": 1.0, "label_smoothing": 0.1},
        Y_ONEHOT,
        P_PROBS,
        0.9081299,
        0.1282321,
        [0.0608503, 3.0179527, 0.1168133, 0.4369032],
    ),
    (
        "CategoricalFocalCrossentropy",
        {"from_logits": True},
        Y_ONEHOT,
        LOGITS,
        0.1877456,
        0.0611624,
        [0.0075734, 0.3035147, 0.0114195, 0.4284748],
    ),
    (
        "Dice",
        {},
        Y_BIN,
        P_BIN,
        0.2289158,
        0.2003013,
        0.2289158,
    ),
    (
        "Dice",
        {"axis": 1},
        Y_BIN,
        P_BIN,
        0.4293426,
        0.6193609,
        [0.263158, 0.0256411, 1.0, 0.4285714],
    ),
    (
        "Tversky",
        {},
        Y_ONEHOT,
        P_PROBS,
        0.6097561,
        0.5335366,
        0.6097561,
    ),
    (
        "Tversky",
        {"alpha": 0.7, "beta": 0.3, "axis": -1},
        Y_ONEHOT,
        P_PROBS,
        0.6028302,
        0.3514152,
        [0.2000001, 1.0, 0.4, 0.8113208],
    ),
]


def _case_id(case):
    name, kwargs = case[0], case[1]
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


@pytest.mark.parametrize("case", KERAS_LOSSES, ids=_case_id)
def test_loss_matches_keras(case):
    name, kwargs, y_true, y_pred, expected, expected_weighted, expected_per_sample = case
    cls = getattr(losses, name)
    np.testing.assert_allclose(float(cls(**kwargs)(y_true, y_pred)), expected, rtol=1e-5)
    weighted = cls(**kwargs)(y_true, y_pred, sample_weight=SW)
    np.testing.assert_allclose(float(weighted), expected_weighted, rtol=1e-5, atol=1e-7)
    per_sample = cls(**kwargs, reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(per_sample.numpy(), expected_per_sample, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_LOSSES, ids=_case_id)
def test_function_form_gives_the_per_sample_losses(case):
    name, kwargs, y_true, y_pred, _, _, expected_per_sample = case
    function = losses.to_loss(name).fn
    values = function(torch.tensor(y_true, dtype=torch.float32), torch.tensor(y_pred), **kwargs)
    np.testing.assert_allclose(values.numpy(), expected_per_sample, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_LOSSES, ids=_case_id)
def test_loss_is_differentiable(case):
    name, kwargs, y_true, y_pred = case[:4]
    y_pred = torch.tensor(y_pred, requires_grad=True)
    getattr(losses, name)(**kwargs)(y_true, y_pred, sample_weight=SW).backward()
    assert y_pred.grad is not None
    assert torch.isfinite(y_pred.grad).all()


@pytest.mark.parametrize(
    ("reduction", "expected"),
    # Keras 3.15.1: CategoricalCrossentropy(reduction=...)(Y_ONEHOT, P_PROBS, sample_weight=SW)
    [
        ("sum", 2.1406746),
        ("sum_over_batch_size", 0.5351686),
        ("mean", 0.5351686),
        ("mean_with_sample_weight", 0.6116213),
    ],
)
def test_reductions_match_keras(reduction, expected):
    loss = losses.CategoricalCrossentropy(reduction=reduction)
    np.testing.assert_allclose(
        float(loss(Y_ONEHOT, P_PROBS, sample_weight=SW)), expected, rtol=1e-5
    )


def test_sum_over_batch_size_divides_by_the_batch_not_the_weights():
    per_sample = losses.CategoricalCrossentropy(reduction="none")(Y_ONEHOT, P_PROBS)
    weighted = losses.CategoricalCrossentropy()(Y_ONEHOT, P_PROBS, sample_weight=SW)
    expected = (per_sample * torch.tensor(SW)).sum() / len(SW)
    torch.testing.assert_close(weighted, expected)


def test_invalid_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")


# Keras 3.15.1: sequences of (2, 3, 4) logits, labels (2, 3) with ignore_class=-1.
SEQ_LOGITS = np.linspace(-2, 2, 24, dtype="float32").reshape(2, 3, 4) * np.array(
    [1, -1, 0.5, 2], "float32"
)
SEQ_LABELS = [[0, 3, -1], [2, -1, 1]]
SEQ_WEIGHTS = [[1, 2, 1], [0.5, 1, 0]]


def test_ignore_class_leaves_positions_out_of_the_mean():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(float(loss(SEQ_LABELS, SEQ_LOGITS)), 3.5868194, rtol=1e-5)
    weighted = loss(SEQ_LABELS, SEQ_LOGITS, sample_weight=SEQ_WEIGHTS)
    np.testing.assert_allclose(float(weighted), 2.6867876, rtol=1e-5)
    total = losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=-1, reduction="sum"
    )(SEQ_LABELS, SEQ_LOGITS)
    np.testing.assert_allclose(float(total), 14.3472767, rtol=1e-5)


def test_binary_labels_of_rank_one_meet_predictions_of_shape_n_by_1():
    loss = losses.BinaryCrossentropy()([0.0, 1.0, 1.0, 0.0], [[0.3], [0.8], [0.5], [0.1]])
    np.testing.assert_allclose(float(loss), 0.3445815, rtol=1e-5)  # Keras 3.15.1


def test_saturated_probabilities_give_keras_clipped_values():
    # Keras 3.15.1, probabilities 1 and 0 clipped to float32(1 - 1e-7) and 1e-7.
    bce = losses.BinaryCrossentropy(reduction="none")
    values = bce([[0.0], [1.0], [1.0], [0.0]], [[1.0], [0.0], [1.0], [0.0]])
    expected = [
        15.942384719848633,
        16.11809539794922,
        1.1920928955078125e-07,
        1.000000082740371e-07,
    ]
    np.testing.assert_allclose(values.numpy(), expected, rtol=1e-6)
    cce = losses.CategoricalCrossentropy(reduction="none")
    values = cce([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(
        values.numpy(), [16.11809539794922, 1.1920930376163597e-07], rtol=1e-6
    )


def test_categorical_crossentropy_warns_on_a_single_output_column():
    with pytest.warns(UserWarning, match="binary_crossentropy"):
        losses.categorical_crossentropy([[1.0]], [[0.7]])


def test_hinge_keeps_labels_that_are_not_binary():
    values = losses.hinge([[0.0, 2.0]], [[0.5, 0.25]])
    torch.testing.assert_close(values, torch.tensor([0.75]))  # mean(max(1 - y p, 0)), unconverted


def test_sample_weights_broadcast_over_extra_axes():
    per_position = losses.MeanSquaredError(reduction="none")(SEQ_LOGITS, np.zeros_like(SEQ_LOGITS))
    weighted = losses.MeanSquaredError(reduction="none")(
        SEQ_LOGITS, np.zeros_like(SEQ_LOGITS), sample_weight=[2.0, 0.0]
    )
    torch.testing.assert_close(weighted, per_position * torch.tensor([[2.0], [0.0]]))


# ----------------------------------------------------------------------------- logits path

LOGIT_CASES = [
    (losses.CategoricalCrossentropy(), Y_ONEHOT, LOGITS, "softmax"),
    (losses.CategoricalCrossentropy(label_smoothing=0.1), Y_ONEHOT, LOGITS, "softmax"),
    (losses.SparseCategoricalCrossentropy(), Y_SPARSE, LOGITS, "softmax"),
    (losses.SparseCategoricalCrossentropy(), [[1], [0], [2], [1]], LOGITS, "softmax"),
    (losses.SparseCategoricalCrossentropy(ignore_class=2), Y_SPARSE, LOGITS, "softmax"),
    (losses.BinaryCrossentropy(), Y_BIN, BIN_LOGITS, "sigmoid"),
    (losses.BinaryCrossentropy(label_smoothing=0.2), Y_BIN, BIN_LOGITS, "sigmoid"),
    (losses.BinaryCrossentropy(), [0.0, 1.0, 1.0, 0.0], [[0.3], [-2.0], [1.0], [4.0]], "sigmoid"),
    (losses.MeanSquaredError(), Y_ONEHOT, LOGITS, "softmax"),
]


@pytest.mark.parametrize(("loss", "y_true", "logits", "activation"), LOGIT_CASES)
@pytest.mark.parametrize("sample_weight", [None, SW])
def test_logits_path_equals_the_probability_path(loss, y_true, logits, activation, sample_weight):
    logits = torch.tensor(logits)
    probabilities = torch.softmax(logits, -1) if activation == "softmax" else torch.sigmoid(logits)
    expected = loss(y_true, probabilities, sample_weight=sample_weight)
    got = loss.compute_on_logits(y_true, logits, activation, sample_weight=sample_weight)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("loss", "y_true", "logits", "activation"), LOGIT_CASES[:-1])
def test_logits_path_is_finite_for_huge_logits(loss, y_true, logits, activation):
    logits = (torch.tensor(logits).sign() * 1000.0).requires_grad_()
    value = loss.compute_on_logits(y_true, logits, activation)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(logits.grad).all()


def test_logits_path_saturates_at_keras_clipped_values():
    bce = losses.BinaryCrossentropy(reduction="none")
    logits = torch.tensor([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    values = bce.compute_on_logits([[0.0], [1.0], [1.0], [0.0]], logits, "sigmoid")
    expected = [
        15.942384719848633,
        16.11809539794922,
        1.1920928955078125e-07,
        1.000000082740371e-07,
    ]
    np.testing.assert_allclose(values.numpy(), expected, rtol=1e-6)
    cce = losses.CategoricalCrossentropy(reduction="none")
    values = cce.compute_on_logits([[1.0, 0.0]], torch.tensor([[-1000.0, 1000.0]]), "softmax")
    np.testing.assert_allclose(values.numpy(), [16.1180954], rtol=1e-6)


def test_call_on_logits_rejects_other_activations():
    with pytest.raises(ValueError, match="'softmax' and 'sigmoid'; got 'relu'"):
        losses.MeanSquaredError().call_on_logits(torch.zeros(2, 2), torch.zeros(2, 2), "relu")


# ----------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("mse", losses.MeanSquaredError),
        ("MSE", losses.MeanSquaredError),
        ("mae", losses.MeanAbsoluteError),
        ("mape", losses.MeanAbsolutePercentageError),
        ("msle", losses.MeanSquaredLogarithmicError),
        ("kld", losses.KLDivergence),
        ("bce", losses.BinaryCrossentropy),
        ("categorical_crossentropy", losses.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
        ("huber", losses.Huber),
        ("Huber", losses.Huber),
        (losses.binary_crossentropy, losses.BinaryCrossentropy),
        (losses.Poisson, losses.Poisson),
    ],
)
def test_to_loss_resolves_names_functions_and_classes(identifier, cls):
    assert type(losses.to_loss(identifier)) is cls


def test_to_loss_passes_through_losses_and_none_and_wraps_other_functions():
    loss = losses.Hinge()
    assert losses.to_loss(loss) is loss
    assert losses.to_loss(None) is None

    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().sum(-1)

    wrapped = losses.to_loss(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper)
    assert wrapped.name == "my_loss"
    assert float(wrapped([[1.0, 2.0]], [[0.0, 0.0]])) == 3.0


def test_to_loss_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(
        ValueError, match="Could not interpret loss identifier: msee. Valid names: .*mse"
    ):
        losses.to_loss("msee")
    # Keras 3.15.1 at fit: "ValueError: Could not interpret loss identifier: 3"
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        losses.to_loss(3)


def test_get_is_keras_get():
    # Keras 3.15.1: losses.get gives the function for a function name or alias, an instance
    # for a class name, a class or a config; functions, Loss objects and None pass through.
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MSE") is losses.mean_squared_error
    assert losses.get("kld") is losses.kl_divergence
    assert losses.get("log_cosh") is losses.log_cosh
    assert losses.get("huber") is losses.huber
    huber = losses.get("Huber")
    assert type(huber) is losses.Huber and huber.name == "huber_loss"
    assert type(losses.get(losses.Poisson)) is losses.Poisson
    assert losses.get({"class_name": "Huber", "config": {"delta": 2.0}}).get_config()["delta"] == 2
    loss = losses.Hinge()
    assert losses.get(loss) is loss and losses.get(None) is None

    def my_loss(y_true, y_pred):
        return y_true - y_pred

    assert losses.get(my_loss) is my_loss
    with pytest.raises(ValueError, match="^Could not interpret loss identifier: logcosh"):
        losses.get("logcosh")
    with pytest.raises(ValueError, match="^Could not interpret loss identifier: 3$"):
        losses.get(3)


@pytest.mark.parametrize("name", sorted(set(losses._CLASSES) - {"Loss", "LossFunctionWrapper"}))
def test_config_round_trip(name):
    loss = losses._CLASSES[name](reduction="sum", name="custom")
    config = losses.serialize(loss)
    rebuilt = losses.deserialize(config)
    assert type(rebuilt) is type(loss)
    assert rebuilt.get_config() == loss.get_config()
    assert rebuilt.get_config()["reduction"] == "sum"
    assert losses.get(config).name == "custom"
    assert losses.to_loss(config).name == "custom"


def test_serialize_gives_keras_four_keys():
    # Keras 3.15.1: keras.losses.serialize(keras.losses.MeanSquaredError(name="m"))
    assert losses.serialize(losses.MeanSquaredError(name="m")) == {
        "module": "keras.losses",
        "class_name": "MeanSquaredError",
        "config": {"name": "m", "reduction": "sum_over_batch_size"},
        "registered_name": None,
    }

    @lamina.saving.register_keras_serializable(package="sweep")
    class Halved(losses.MeanSquaredError):
        pass

    entry = losses.serialize(Halved())
    assert (entry["class_name"], entry["registered_name"]) == ("Halved", "sweep>Halved")
    assert type(losses.deserialize(entry)) is Halved


def test_function_wrapper_config_names_its_function():
    wrapper = losses.LossFunctionWrapper(losses.huber, delta=0.5)
    config = wrapper.get_config()
    assert config == {
        "name": "huber",
        "reduction": "sum_over_batch_size",
        "delta": 0.5,
        "fn": "huber",
    }
    assert losses.LossFunctionWrapper.from_config(config).fn is losses.huber


def test_default_names_are_keras_names():
    assert losses.Huber().name == "huber_loss"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    }


def test_custom_loss_subclass_needs_only_call():
    class Cubed(losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred).abs().pow(3).mean(-1)

    loss = Cubed()
    assert loss.name == "cubed"
    assert float(loss([[0.0, 0.0]], [[1.0, 2.0]])) == 4.5


# ----------------------------------------------------------------------------- validation


def test_integer_labels_for_categorical_crossentropy_are_rejected():
    for labels in (np.array([0, 2, 1]), np.array([[0], [2], [1]])):
        with pytest.raises(
            ValueError,
            match=r"categorical_crossentropy.*integer class labels.*sparse_categorical_crossentropy"
            r".*lamina.utils.to_categorical\(y, num_classes=3\)",
        ):
            validate_targets("categorical_crossentropy", labels, (3, 3))


def test_one_hot_width_must_match_the_output_width():
    with pytest.raises(ValueError, match="have 4 columns but the model outputs 3 classes"):
        validate_targets(losses.CategoricalCrossentropy(), np.eye(4)[[0, 1, 3]], (3, 3))


def test_sparse_labels_out_of_range_are_named():
    with pytest.raises(
        ValueError, match=r"'sparse_categorical_crossentropy'.*label 10.*lie in \[0, 10\)"
    ):
        validate_targets("sparse_categorical_crossentropy", torch.tensor([0, 10, 3]), (3, 10))
    with pytest.raises(ValueError, match=r"label -1.*\[0, 5\)"):
        validate_targets("sparse_categorical_crossentropy", np.array([[-1], [2]]), (2, 5))


def test_sparse_validation_skips_the_ignored_class():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=255)
    validate_targets(loss, np.array([[0, 255], [4, 1]]), (2, 2, 5))


def test_one_hot_labels_for_sparse_crossentropy_are_rejected():
    with pytest.raises(ValueError, match="look one-hot.*loss='categorical_crossentropy'"):
        validate_targets("sparse_categorical_crossentropy", np.eye(3), (3, 3))


def test_fractional_sparse_labels_are_rejected():
    with pytest.raises(ValueError, match="integer class labels; got the value 1.5"):
        validate_targets("sparse_categorical_crossentropy", np.array([0.0, 1.5]), (2, 3))


def test_binary_crossentropy_targets_must_lie_in_0_1():
    with pytest.raises(ValueError, match=r"'binary_crossentropy'.*targets in \[0, 1\]; got.* 7"):
        validate_targets("binary_crossentropy", np.array([[0], [7]]), (2, 1))
    with pytest.raises(ValueError, match="targets have 2 columns but the model outputs 1"):
        validate_targets("binary_crossentropy", np.array([[0, 1], [1, 0]]), (2, 1))


def test_valid_targets_pass_and_other_losses_are_not_checked():
    validate_targets("categorical_crossentropy", np.eye(3), (3, 3))
    validate_targets("sparse_categorical_crossentropy", np.array([0, 2]), (2, 3))
    validate_targets("binary_crossentropy", np.array([0.0, 1.0]), (2, 1))
    validate_targets("mse", np.array([100.0]), (1, 1))


def test_validation_names_a_custom_loss_name():
    loss = losses.SparseCategoricalCrossentropy(name="digits")
    with pytest.raises(ValueError, match="Loss 'digits'"):
        validate_targets(loss, np.array([12]), (1, 10))


# ----------------------------------------------------------------------------- device


@contextlib.contextmanager
def _host_sync_is_an_error():
    """Make any host synchronisation on CUDA raise (torch warns that the check is a prototype)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Synchronization debug mode")
        torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_losses_do_not_synchronise_with_the_host():
    device = torch.device("cuda")
    calls = [
        (
            getattr(losses, name)(**kwargs),
            torch.tensor(yt, device=device),
            torch.tensor(yp, device=device),
        )
        for name, kwargs, yt, yp, *_ in KERAS_LOSSES
    ]
    logit_calls = [
        (loss, torch.tensor(yt, device=device), torch.tensor(logits, device=device), activation)
        for loss, yt, logits, activation in LOGIT_CASES
    ]
    weights = torch.tensor(SW, device=device)
    torch.cuda.synchronize()
    with _host_sync_is_an_error():
        for loss, y_true, y_pred in calls:
            loss(y_true, y_pred, sample_weight=weights)
        for loss, y_true, logits, activation in logit_calls:
            loss.compute_on_logits(y_true, logits, activation, sample_weight=weights)


@pytest.mark.parametrize("label_shape", [(64,), (64, 1)])
def test_fit_fast_path_of_sparse_crossentropy_is_the_general_path(label_shape):
    # Integer labels, softmax logits, no weights: one fused kernel, the same bits and gradients
    # as the general path, saturated (clamped) values included.
    loss = losses.SparseCategoricalCrossentropy()
    torch.manual_seed(0)
    logits = (torch.randn(64, 10) * 30).requires_grad_()
    labels = torch.randint(0, 10, label_shape)
    fast = loss.compute_on_logits(labels, logits, "softmax")
    general = losses.Loss.compute_on_logits(loss, labels, logits, "softmax")
    assert torch.equal(fast, general)
    (fast_grad,) = torch.autograd.grad(fast, logits)
    (general_grad,) = torch.autograd.grad(general, logits)
    assert torch.equal(fast_grad, general_grad)


@pytest.mark.parametrize("label_shape", [(64,), (64, 1)])
def test_fused_from_logits_sparse_crossentropy_is_the_general_path(label_shape):
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    torch.manual_seed(1)
    logits = (torch.randn(64, 10) * 30).requires_grad_()
    labels = torch.randint(0, 10, label_shape)
    fast = loss(labels, logits)
    general = losses.Loss.__call__(loss, labels, logits)
    assert torch.equal(fast, general)
    (fast_grad,) = torch.autograd.grad(fast, logits)
    (general_grad,) = torch.autograd.grad(general, logits)
    assert torch.equal(fast_grad, general_grad)


def test_focal_dice_and_tversky_resolve_by_name_and_train():
    assert type(losses.to_loss("binary_focal_crossentropy")) is losses.BinaryFocalCrossentropy
    assert type(losses.get("CategoricalFocalCrossentropy")) is losses.CategoricalFocalCrossentropy
    assert type(losses.to_loss("dice")) is losses.Dice
    assert type(losses.to_loss(losses.tversky)) is losses.Tversky
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", loss="binary_focal_crossentropy")
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    history = model.fit(x, (x.sum(1, keepdims=True) > 1.5).astype("float32"), verbose=0)
    assert np.isfinite(history.history["loss"][0])
