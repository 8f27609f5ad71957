"""lamina.metrics, the Keras 3 metrics added with the focal losses (confusion counts, F-beta,
IoU, regression and hinge metrics): Keras 3.15.1 values, sample weights, names, configs."""

import contextlib

import numpy as np
import pytest
import torch

import lamina
from lamina import losses, metrics


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


Y_BIN = [[0, 1], [1, 1], [0, 0], [1, 0]]
P_BIN = [[0.2, 0.7], [0.9, 1.0], [0.0, 0.4], [0.6, 0.5]]
Y_ONEHOT = [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]
P_PROBS = [[0.1, 0.8, 0.1], [0.0, 0.5, 0.5], [0.2, 0.2, 0.6], [0.7, 0.2, 0.3]]
Y_REG = [[0.5, 1.0, 2.0], [0.0, -1.0, 3.0], [1.5, 2.5, 0.2], [2.0, 0.0, 1.0]]
P_REG = [[0.4, 1.5, 1.0], [0.3, -0.5, 4.5], [1.0, 2.0, 0.1], [0.5, 0.2, 3.0]]
P_POS = [[0.4, 1.5, 1.0], [0.3, 0.5, 4.5], [1.0, 2.0, 0.1], [0.5, 0.2, 3.0]]
Y_PM = [[-1, 1, 1], [1, -1, -1], [1, 1, -1], [-1, -1, 1]]
SW = [1.0, 0.0, 2.0, 0.5]

# (class, kwargs, y_true, y_pred, result, result with sample_weight=SW, default name):
# Keras 3.15.1 (torch backend), one update_state on the literals above.
KERAS_METRICS = [
    ("TruePositives", {}, Y_BIN, P_BIN, 4.0, 1.5, "true_positives"),
    ("FalsePositives", {}, Y_BIN, P_BIN, 0.0, 0.0, "false_positives"),
    ("TrueNegatives", {}, Y_BIN, P_BIN, 4.0, 5.5, "true_negatives"),
    ("FalseNegatives", {}, Y_BIN, P_BIN, 0.0, 0.0, "false_negatives"),
    (
        "TruePositives",
        {"thresholds": [0.3, 0.65]},
        Y_BIN,
        P_BIN,
        [4.0, 3.0],
        [1.5, 1.0],
        "true_positives",
    ),
    ("FalseNegatives", {"thresholds": 0.55}, Y_BIN, P_BIN, 0.0, 0.0, "false_negatives"),
    ("F1Score", {}, Y_ONEHOT, P_PROBS, [0.0, 0.5, 0.666667], [0.0, 0.8, 1.0], "f1_score"),
    (
        "F1Score",
        {"average": "macro", "threshold": 0.4},
        Y_ONEHOT,
        P_PROBS,
        0.388889,
        0.6,
        "f1_score",
    ),
    ("F1Score", {"average": "micro"}, Y_BIN, P_BIN, 0.75, 0.6, "f1_score"),
    (
        "FBetaScore",
        {"beta": 2.0, "average": "weighted"},
        Y_ONEHOT,
        P_PROBS,
        0.458333,
        0.877551,
        "fbeta_score",
    ),
    ("FBetaScore", {}, Y_BIN, P_BIN, [0.666667, 0.8], [1.0, 0.5], "fbeta_score"),
    ("R2Score", {}, Y_REG, P_REG, 0.067681, -0.107417, "r2_score"),
    (
        "R2Score",
        {"class_aggregation": None},
        Y_REG,
        P_REG,
        [-0.04, 0.881869, -0.638826],
        [-0.695555, 0.760444, -0.387139],
        "r2_score",
    ),
    (
        "R2Score",
        {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
        Y_REG,
        P_REG,
        0.044122,
        -0.043243,
        "r2_score",
    ),
    ("KLDivergence", {}, Y_ONEHOT, P_PROBS, 4.615372, 0.585573, "kl_divergence"),
    ("CosineSimilarity", {}, Y_REG, P_REG, 0.858455, 0.903281, "cosine_similarity"),
    ("CosineSimilarity", {"axis": 0}, Y_REG, P_REG, 0.905393, None, "cosine_similarity"),
    ("Hinge", {}, Y_PM, P_REG, 0.991667, 0.471429, "hinge"),
    ("SquaredHinge", {}, Y_PM, P_REG, 3.154167, 0.592857, "squared_hinge"),
    ("CategoricalHinge", {}, Y_ONEHOT, P_PROBS, 0.975, 0.642857, "categorical_hinge"),
    ("LogCoshError", {}, Y_REG, P_REG, 0.33536, 0.204713, "logcosh"),
    ("Poisson", {}, Y_REG, P_POS, 0.738553, 0.819221, "poisson"),
]


@pytest.mark.parametrize("case", KERAS_METRICS, ids=lambda case: f"{case[0]}-{case[1]}")
def test_keras3_metric_matches_keras(case):
    name, kwargs, y_true, y_pred, expected, expected_weighted, default_name = case
    metric = getattr(metrics, name)(**kwargs)
    assert metric.name == default_name
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5, atol=1e-6)
    metric.reset_state()
    if expected_weighted is not None:
        metric.update_state(y_true, y_pred, sample_weight=SW)
        np.testing.assert_allclose(metric.result().numpy(), expected_weighted, rtol=1e-5, atol=1e-6)
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert rebuilt.get_config() == metric.get_config()


def test_keras3_metrics_accumulate_over_batches():
    whole, halves = metrics.R2Score(), metrics.R2Score()
    whole.update_state(Y_REG, P_REG, sample_weight=SW)
    halves.update_state(Y_REG[:2], P_REG[:2], sample_weight=SW[:2])
    halves.update_state(Y_REG[2:], P_REG[2:], sample_weight=SW[2:])
    np.testing.assert_allclose(float(halves.result()), float(whole.result()), rtol=1e-6)
    f1 = metrics.F1Score(average="micro")
    f1.update_state(Y_BIN[:2], P_BIN[:2])
    f1.update_state(Y_BIN[2:], P_BIN[2:])
    np.testing.assert_allclose(float(f1.result()), 0.75, rtol=1e-5)


Y_SEG = [0, 1, 2, 2, 1, 0, 2, 1]
P_SEG = [0, 2, 2, 1, 1, 0, 2, 0]
W_SEG = [1, 2, 0, 1, 3, 1, 1, 2]

# (class, kwargs, result, with integer weights W_SEG, with float weights 0.7 * W_SEG, name):
# Keras 3.15.1; its int32 confusion matrix truncates float weights unless dtype is a float.
KERAS_IOU = [
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, 0.583333, 0.375, 0.0, "io_u"),
    ("MeanIoU", {"num_classes": 3}, 0.472222, 0.375, 0.166667, "mean_io_u"),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 2}, 0.333333, 0.309524, 0.166667, "mean_io_u"),
    ("MeanIoU", {"num_classes": 3, "dtype": "float32"}, 0.472222, 0.375, 0.375, "mean_io_u"),
]


@pytest.mark.parametrize("case", KERAS_IOU, ids=lambda case: f"{case[0]}-{case[1]}")
def test_iou_matches_keras(case):
    name, kwargs, expected, expected_weighted, expected_float_weighted, default_name = case
    metric = getattr(metrics, name)(**kwargs)
    assert metric.name == default_name
    metric.update_state(Y_SEG, P_SEG)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    metric.reset_state()
    metric.update_state(Y_SEG, P_SEG, sample_weight=W_SEG)
    np.testing.assert_allclose(float(metric.result()), expected_weighted, rtol=1e-5)
    metric.reset_state()
    weights = torch.tensor(W_SEG) * 0.7
    truncates = "dtype" not in kwargs
    warns = pytest.warns(UserWarning, match="truncated") if truncates else contextlib.nullcontext()
    with warns:
        metric.update_state(Y_SEG, P_SEG, sample_weight=weights)
    np.testing.assert_allclose(float(metric.result()), expected_float_weighted, rtol=1e-5)
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == metric.get_config()


def test_one_hot_and_binary_iou_match_keras():
    one_hot = torch.eye(3)[torch.tensor(Y_SEG)]
    dense = torch.eye(3)[torch.tensor(P_SEG)] * 0.8 + 0.05
    for cls, kwargs, expected, expected_weighted, name in [
        (metrics.OneHotIoU, {"target_class_ids": [1]}, 0.25, 0.375, "one_hot_io_u"),
        (metrics.OneHotMeanIoU, {}, 0.472222, 0.375, "one_hot_mean_io_u"),
    ]:
        metric = cls(num_classes=3, **kwargs)
        assert metric.name == name
        metric.update_state(one_hot, dense)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
        metric.reset_state()
        metric.update_state(one_hot, dense, sample_weight=W_SEG)
        np.testing.assert_allclose(float(metric.result()), expected_weighted, rtol=1e-5)
    binary = metrics.BinaryIoU()
    assert binary.name == "binary_io_u"
    binary.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    np.testing.assert_allclose(float(binary.result()), 0.583333, rtol=1e-5)
    binary.reset_state()
    binary.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[2, 3, 1, 1])
    np.testing.assert_allclose(float(binary.result()), 0.375, rtol=1e-5)
    ones = metrics.BinaryIoU(target_class_ids=[1], threshold=0.3)
    ones.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    np.testing.assert_allclose(float(ones.result()), 0.333333, rtol=1e-5)


def test_iou_variable_is_named_total_confusion_matrix_as_keras():
    # Keras 3.15.1: [v.name for v in MeanIoU(num_classes=3).variables] is
    # ['total_confusion_matrix'], the attribute `total_cm`.
    for metric in (metrics.MeanIoU(num_classes=3), metrics.BinaryIoU()):
        assert [v.name for v in metric.variables] == ["total_confusion_matrix"]
    metric = metrics.IoU(num_classes=3, target_class_ids=[2])
    metric.update_state([0, 1, 2, 2], [0, 2, 2, 1])
    assert metric.total_cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    np.testing.assert_allclose(float(metric.result()), 0.333333, rtol=1e-5)


def test_serialize_gives_keras_four_keys():
    # Keras 3.15.1: keras.metrics.serialize(keras.metrics.AUC()).keys()
    assert list(metrics.serialize(metrics.AUC())) == [
        "module",
        "class_name",
        "config",
        "registered_name",
    ]
    entry = metrics.serialize(metrics.Recall(name="r"))
    assert (entry["module"], entry["registered_name"]) == ("keras.metrics", None)
    assert metrics.deserialize(entry).name == "r"


def test_metric_functions_are_exported_as_keras():
    for name in ("mean_squared_error", "binary_crossentropy", "binary_focal_crossentropy", "huber"):
        assert getattr(metrics, name) is getattr(losses, name)


def test_keras3_metrics_in_compile_give_keras_history_keys():
    # Keras 3.15.1 gave exactly these keys for this compile call.
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(
        "sgd",
        "binary_crossentropy",
        metrics=[
            "f1_score",
            "r2_score",
            "true_positives",
            "cosine_similarity",
            "log_cosh_error",
            "hinge",
            metrics.BinaryIoU(),
            metrics.LogCoshError(),
            metrics.FBetaScore(beta=2.0),
            metrics.FalseNegatives(),
            metrics.MeanIoU(num_classes=2),
        ],
    )
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    y = (x.sum(1, keepdims=True) > 1.5).astype("float32")
    history = model.fit(x, y, epochs=1, verbose=0, batch_size=8)
    assert sorted(history.history) == [
        "binary_io_u",
        "cosine_similarity",
        "f1_score",
        "false_negatives",
        "fbeta_score",
        "hinge",
        "log_cosh_error",
        "logcosh",
        "loss",
        "mean_io_u",
        "r2_score",
        "true_positives",
    ]


def test_auc_state_shapes_follow_keras() -> None:
    # Keras 3.15: one label keeps (num_thresholds,) counts, multi_label (num_thresholds, labels).
    single = metrics.AUC(num_thresholds=3)
    single.update_state([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.6])
    assert [tuple(v.shape) for v in single.variables] == [(3,)] * 4
    assert float(single.result()) == pytest.approx(0.5)
    multi = metrics.AUC(num_thresholds=3, multi_label=True)
    multi.update_state(
        np.array([[0, 1], [1, 1], [1, 0]]), np.array([[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]])
    )
    assert [tuple(v.shape) for v in multi.variables] == [(3, 2)] * 4
    assert float(multi.result()) == pytest.approx(0.75)
