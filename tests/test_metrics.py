"""lamina.metrics: Keras 3.15.1 values over two batches, state, lookup, naming, 'accuracy'."""

import contextlib
import warnings

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


YB1 = [[1], [0], [1], [1], [0], [0]]
PB1 = [[0.9], [0.4], [0.35], [0.6], [0.7], [0.0]]
YB2 = [[0], [1], [1], [0], [1]]
PB2 = [[0.2], [0.8], [0.55], [0.5], [1.0]]
WB2 = [1.0, 2.0, 0.0, 0.5, 1.5]
YC1 = [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
PC1 = [[0.1, 0.6, 0.2, 0.1], [0.3, 0.4, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.5, 0.1, 0.1, 0.3]]
YC2 = [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]]
PC2 = [[0.1, 0.2, 0.3, 0.4], [0.05, 0.9, 0.03, 0.02], [0.2, 0.5, 0.1, 0.2]]
WC2 = [0.5, 1.0, 2.0]
YS1 = [1, 0, 2, 3]
YS2 = [2, 1, 0]
YR1 = [[0.5, 1.0], [0.0, -1.0], [1.5, 2.5]]
PR1 = [[0.4, 1.5], [0.3, -0.5], [1.0, 2.0]]
YR2 = [[2.0, 0.0], [1.0, 3.0]]
PR2 = [[0.5, 0.2], [1.2, 2.0]]
WR2 = [2.0, 0.5]
# Without ties among the top scores: which of tied scores torch.topk keeps differs between CPU
# and CUDA, and Precision/Recall with top_k follow it.
PD1 = [[0.1, 0.6, 0.2, 0.1], [0.3, 0.4, 0.2, 0.1], [0.2, 0.3, 0.35, 0.15], [0.5, 0.1, 0.1, 0.3]]
PD2 = [[0.1, 0.2, 0.3, 0.4], [0.05, 0.9, 0.03, 0.02], [0.25, 0.5, 0.1, 0.15]]
BIN = [(YB1, PB1, None), (YB2, PB2, WB2)]
CAT = [(YC1, PC1, None), (YC2, PC2, WC2)]
SPARSE = [(YS1, PC1, None), (YS2, PC2, WC2)]
REG = [(YR1, PR1, None), (YR2, PR2, WR2)]
CAT_DISTINCT = [(YC1, PD1, None), (YC2, PD2, WC2)]

# (class, kwargs, two batches (y_true, y_pred, sample_weight), result after each update_state),
# computed with Keras 3.15.1 (torch backend) on the literals above.
KERAS_METRICS = [
    (
        "Accuracy",
        {},
        [([[1], [2], [3]], [[1], [2], [4]], None), ([[0], [5]], [[0], [1]], [1.0, 3.0])],
        [0.6666667, 0.4285714],
    ),
    ("BinaryAccuracy", {}, BIN, [0.6666667, 0.8181818]),
    ("BinaryAccuracy", {"threshold": 0.3}, BIN, [0.6666667, 0.7727273]),
    ("CategoricalAccuracy", {}, CAT, [0.25, 0.2666667]),
    ("SparseCategoricalAccuracy", {}, SPARSE, [0.25, 0.2666667]),
    ("TopKCategoricalAccuracy", {"k": 2}, CAT, [1.0, 1.0]),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, SPARSE, [1.0, 1.0]),
    ("TopKCategoricalAccuracy", {"k": 1}, CAT, [0.5, 0.4]),
    ("SparseTopKCategoricalAccuracy", {"k": 1}, SPARSE, [0.5, 0.4]),
    ("Precision", {}, BIN, [0.6666667, 0.8461539]),
    ("Precision", {"thresholds": [0.3, 0.6]}, BIN, [[0.6, 0.5], [0.7222222, 0.8181818]]),
    ("Precision", {"top_k": 1}, CAT_DISTINCT, [0.5, 0.4]),
    ("Precision", {"class_id": 1}, CAT, [1.0, 1.0]),
    ("Precision", {"thresholds": 0.2, "top_k": 2}, CAT_DISTINCT, [0.5714286, 0.5769231]),
    ("Recall", {}, BIN, [0.6666667, 0.8461539]),
    ("Recall", {"thresholds": [0.3, 0.6]}, BIN, [[1.0, 0.3333333], [1.0, 0.6923077]]),
    ("Recall", {"top_k": 1}, CAT_DISTINCT, [0.5, 0.4]),
    ("Recall", {"class_id": 1}, CAT, [1.0, 1.0]),
    ("AUC", {}, BIN, [0.6666666, 0.8803419]),
    ("AUC", {"curve": "PR"}, BIN, [0.7160826, 0.9289982]),
    ("AUC", {"num_thresholds": 7}, BIN, [0.7222222, 0.8717949]),
    ("AUC", {"num_thresholds": 7, "curve": "PR"}, BIN, [0.7407471, 0.9048924]),
    ("AUC", {"summation_method": "minoring"}, BIN, [0.6666666, 0.8803419]),
    ("AUC", {"summation_method": "majoring"}, BIN, [0.6666666, 0.8803419]),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, BIN, [0.3333333, 0.6931819]),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, BIN, [0.7555556, 0.9335964]),
    ("AUC", {}, CAT, [0.84375, 0.7822222]),
    ("AUC", {"multi_label": True}, CAT, [0.9166666, 0.8881766]),
    ("AUC", {"thresholds": [0.3, 0.5, 0.75]}, BIN, [0.7777778, 0.9230769]),
    ("AUC", {"num_thresholds": 3}, BIN, [0.6666666, 0.8119658]),
    ("AUC", {"num_thresholds": 3, "summation_method": "minoring"}, BIN, [0.4444444, 0.6581197]),
    ("AUC", {"num_thresholds": 3, "summation_method": "majoring"}, BIN, [0.8888888, 0.965812]),
    ("AUC", {"num_thresholds": 5, "from_logits": True}, BIN, [0.6666666, 0.6111111]),
    (
        "AUC",
        {"multi_label": True, "label_weights": [1.0, 2.0, 0.5, 1.0]},
        CAT,
        [0.9259259, 0.9006015],
    ),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5, 1.0]}, CAT, [0.8600823, 0.7777143]),
    ("MeanSquaredError", {}, REG, [0.1833333, 0.5636364]),
    ("MeanAbsoluteError", {}, REG, [0.4, 0.5818182]),
    ("RootMeanSquaredError", {}, REG, [0.4281744, 0.7507572]),
    ("MeanAbsolutePercentageError", {}, REG, [50000032.0, 63636400.0]),
    ("MeanSquaredLogarithmicError", {}, REG, [0.0328239, 0.1154777]),
    ("CategoricalCrossentropy", {}, CAT, [1.0762664, 1.0975052]),
    ("SparseCategoricalCrossentropy", {}, SPARSE, [1.0762664, 1.0975052]),
    ("BinaryCrossentropy", {}, BIN, [0.5634678, 0.3997101]),
]


def _case_id(case):
    name, kwargs = case[0], case[1]
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


def _tensor(values, dtype=torch.float32):
    return None if values is None else torch.tensor(values, dtype=dtype)


@pytest.mark.parametrize("case", KERAS_METRICS, ids=_case_id)
def test_metric_accumulates_as_keras(case):
    name, kwargs, batches, expected = case
    metric = getattr(metrics, name)(**kwargs)
    results = []
    for y_true, y_pred, sample_weight in batches:
        metric.update_state(_tensor(y_true), _tensor(y_pred), sample_weight=_tensor(sample_weight))
        results.append(metric.result().tolist())
    np.testing.assert_allclose(results, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_METRICS, ids=_case_id)
def test_reset_state_starts_over(case):
    name, kwargs, batches, expected = case
    metric = getattr(metrics, name)(**kwargs)
    (y_true, y_pred, _), (y_true_2, y_pred_2, weight_2) = batches
    metric.update_state(_tensor(y_true_2), _tensor(y_pred_2), sample_weight=_tensor(weight_2))
    metric.reset_state()
    metric.update_state(_tensor(y_true), _tensor(y_pred))
    np.testing.assert_allclose(metric.result().tolist(), expected[0], rtol=1e-5, atol=1e-6)


def test_mean_and_sum_weigh_values_as_keras():
    # Keras 3.15.1: per-sample means of (N, 2) values, weighted by (N,) weights.
    mean, total = metrics.Mean(), metrics.Sum()
    for metric in (mean, total):
        metric.update_state(torch.tensor([1.0, 3.0, 5.0]))
    assert float(mean.result()) == 3.0
    assert float(total.result()) == 9.0
    for metric in (mean, total):
        metric.update_state(torch.tensor([[2.0, 4.0], [6.0, 8.0]]), sample_weight=[1.0, 3.0])
    np.testing.assert_allclose(float(mean.result()), 4.714285850524902, rtol=1e-6)
    assert float(total.result()) == 57.0
    element_weighted = metrics.Mean()
    element_weighted.update_state([[2.0, 4.0], [6.0, 8.0]], sample_weight=[[1.0, 0.0], [3.0, 1.0]])
    np.testing.assert_allclose(float(element_weighted.result()), 5.6, rtol=1e-6)


def test_mean_metric_wrapper_averages_any_function():
    metric = metrics.MeanMetricWrapper(losses.hinge)
    metric.update_state([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], [[0.4, 1.5, 1.0], [0.3, -0.5, 4.5]])
    metric.update_state([[1.0, 1.0, 0.0]], [[1.0, 2.0, 0.1]], sample_weight=[2.0])
    np.testing.assert_allclose(float(metric.result()), 0.8583333492279053, rtol=1e-6)  # Keras


@pytest.mark.parametrize(
    ("function", "args", "expected"),
    # Keras 3.15.1 function forms: one match per sample.
    [
        (metrics.binary_accuracy, (YB1, PB1), [[1.0], [1.0], [0.0], [1.0], [0.0], [1.0]]),
        (metrics.categorical_accuracy, (YC1, PC1), [1.0, 0.0, 0.0, 0.0]),
        (metrics.sparse_categorical_accuracy, (YS1, PC1), [1.0, 0.0, 0.0, 0.0]),
        (metrics.sparse_categorical_accuracy, ([[1], [0], [2], [3]], PC1), [1.0, 0.0, 0.0, 0.0]),
        (metrics.top_k_categorical_accuracy, (YC1, PC1, 2), [1.0, 1.0, 1.0, 1.0]),
        (metrics.sparse_top_k_categorical_accuracy, (YS1, PC1, 1), [1.0, 0.0, 1.0, 0.0]),
    ],
)
def test_accuracy_functions_match_keras(function, args, expected):
    assert function(*args).tolist() == expected


def test_top_k_beyond_the_number_of_classes_counts_every_label():
    assert metrics.sparse_top_k_categorical_accuracy(YS1, PC1, k=10).tolist() == [1.0] * 4


def test_result_is_a_zero_dimensional_tensor_and_calling_updates():
    metric = metrics.BinaryAccuracy()
    value = metric(_tensor(YB1), _tensor(PB1))
    assert isinstance(value, torch.Tensor)
    assert value.shape == ()
    np.testing.assert_allclose(float(metric.result()), 0.6666667, rtol=1e-6)


def test_state_lives_in_buffers_outside_the_state_dict():
    metric = metrics.AUC()
    names = {name for name, _ in metric.named_buffers()}
    assert {"true_positives", "false_positives", "true_negatives", "false_negatives"} <= names
    assert metric.state_dict() == {}
    metric.to(torch.float64)
    assert metric.true_positives.dtype == torch.float64


def test_precision_with_several_thresholds_returns_one_value_each():
    metric = metrics.Precision(thresholds=[0.3, 0.6])
    metric.update_state(_tensor(YB1), _tensor(PB1))
    assert metric.result().shape == (2,)


def test_multi_label_auc_learns_the_number_of_labels():
    metric = metrics.AUC(multi_label=True)
    metric.update_state(_tensor(YC1), _tensor(PC1))
    assert metric.true_positives.shape == (200, 4)
    np.testing.assert_allclose(float(metric.result()), 0.9166666, rtol=1e-5)  # Keras 3.15.1


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (metrics.AUC, {"curve": "ROCK"}, "curve must be 'ROC' or 'PR'"),
        (metrics.AUC, {"summation_method": "trapezoid"}, "summation_method must be one of"),
        (metrics.AUC, {"num_thresholds": 1}, "num_thresholds must be > 1"),
        (
            metrics.Precision,
            {"thresholds": [0.5, 1.5]},
            r"Precision: thresholds must lie in \[0, 1\]",
        ),
        (metrics.Recall, {"thresholds": -0.1}, r"Recall: thresholds must lie in \[0, 1\]"),
    ],
)
def test_invalid_arguments_are_rejected(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_class_id_needs_class_scores():
    metric = metrics.Recall(class_id=1)
    with pytest.raises(ValueError, match="Recall: class_id needs predictions of shape"):
        metric.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.3, 0.6]))


# ----------------------------------------------------------------------------- names and lookup


def test_default_names_are_keras_names():
    assert metrics.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"
    assert metrics.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"
    assert metrics.MeanSquaredError().name == "mean_squared_error"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    assert metrics.Mean().name == "mean"
    assert metrics.MeanMetricWrapper(losses.hinge).name == "mean_metric_wrapper"
    assert [metrics.AUC().name, metrics.AUC().name] == ["auc", "auc_1"]
    assert [metrics.Precision().name, metrics.Recall().name] == ["precision", "recall"]


@pytest.mark.parametrize(
    ("identifier", "cls"),
    # As Keras 3.15.1's compile: a string names the metric after itself.
    [
        ("accuracy", metrics.Accuracy),
        ("acc", metrics.Accuracy),
        ("mse", metrics.MeanSquaredError),
        ("mae", metrics.MeanAbsoluteError),
        ("mape", metrics.MeanAbsolutePercentageError),
        ("msle", metrics.MeanSquaredLogarithmicError),
        ("auc", metrics.AUC),
        ("precision", metrics.Precision),
        ("recall", metrics.Recall),
        ("binary_accuracy", metrics.BinaryAccuracy),
        ("categorical_accuracy", metrics.CategoricalAccuracy),
        ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
        ("root_mean_squared_error", metrics.RootMeanSquaredError),
        ("categorical_crossentropy", metrics.CategoricalCrossentropy),
        ("MeanSquaredError", metrics.MeanSquaredError),
        ("hinge", metrics.Hinge),
    ],
)
def test_compile_metric_names_a_string_metric_after_the_string(identifier, cls):
    metric = metrics.compile_metric(identifier)
    assert type(metric) is cls
    assert metric.name == identifier


def test_compile_metric_wraps_functions_and_passes_metrics_through():
    wrapped = metrics.compile_metric(losses.mean_absolute_error)
    assert isinstance(wrapped, metrics.MeanMetricWrapper)
    assert wrapped.name == "mean_absolute_error"
    metric = metrics.Recall()
    assert metrics.compile_metric(metric) is metric
    assert type(metrics.compile_metric(metrics.AUC)) is metrics.AUC
    assert metrics.compile_metric(None) is None


def test_compile_metric_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(
        ValueError,
        match="Could not interpret metric identifier: accuracyy. Valid names: .*accuracy",
    ):
        metrics.compile_metric("accuracyy")
    # Keras 3.15.1 at fit: "ValueError: Could not interpret metric identifier: 1.5"
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 1.5"):
        metrics.compile_metric(1.5)


def test_get_is_keras_get():
    # Keras 3.15.1's metrics.get: default names, its aliases only, functions returned as they
    # are, and its repr.
    assert repr(metrics.get("mse")) == "<MeanSquaredError name=mean_squared_error>"
    assert repr(metrics.get("MAE")) == "<MeanAbsoluteError name=mean_absolute_error>"
    assert repr(metrics.get("accuracy")) == "<Accuracy name=accuracy>"
    assert type(metrics.get("bce")) is metrics.BinaryCrossentropy
    assert metrics.get("hinge").name == "hinge"
    assert metrics.get("binary_io_u").name == "binary_io_u"
    assert metrics.get("Precision").name.startswith("precision")
    assert metrics.get(losses.mean_absolute_error) is losses.mean_absolute_error
    assert type(metrics.get(metrics.AUC)) is metrics.AUC
    assert metrics.get(None) is None
    for name in ["acc", "ce", "kld", "log_cosh", "iou", "mean_iou"]:
        with pytest.raises(ValueError, match=f"^Could not interpret metric identifier: {name}"):
            metrics.get(name)
    with pytest.raises(ValueError, match="^Could not interpret metric identifier: 3$"):
        metrics.get(3)


# The IoU family needs num_classes and keeps an int32 confusion matrix: tested on their own.
IOU_CLASSES = {"IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU", "BinaryIoU"}
# A required rate argument, as in Keras (their round trip: tests/test_metrics_extra.py).
AT_RATE_CLASSES = {
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
}


@pytest.mark.parametrize(
    "name", sorted(set(metrics._CLASSES) - {"MeanMetricWrapper"} - IOU_CLASSES - AT_RATE_CLASSES)
)
def test_config_round_trip(name):
    metric = metrics._CLASSES[name](name="custom")
    config = metrics.serialize(metric)
    rebuilt = metrics.deserialize(config)
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == metric.get_config()
    assert rebuilt.name == "custom"
    assert rebuilt.dtype == "float32"


def test_configs_hold_keras_keys():
    assert metrics.BinaryAccuracy().get_config() == {
        "name": "binary_accuracy",
        "dtype": "float32",
        "threshold": 0.5,
    }
    assert metrics.Precision(top_k=2).get_config() == {
        "name": "precision",
        "dtype": "float32",
        "thresholds": None,
        "top_k": 2,
        "class_id": None,
    }
    wrapper = metrics.MeanMetricWrapper(losses.huber, name="h", delta=0.5)
    assert wrapper.get_config() == {"name": "h", "dtype": "float32", "delta": 0.5, "fn": "huber"}
    assert metrics.MeanMetricWrapper.from_config(wrapper.get_config())._fn is losses.huber


# ----------------------------------------------------------------------------- 'accuracy'


@pytest.mark.parametrize(
    ("loss", "y_true_shape", "y_pred_shape", "cls"),
    # What Keras 3.15.1's compile(metrics=['accuracy']) picked after fitting one batch.
    [
        ("sparse_categorical_crossentropy", (8,), (8, 3), metrics.SparseCategoricalAccuracy),
        ("sparse_categorical_crossentropy", (8, 1), (8, 3), metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", (8, 3), (8, 3), metrics.CategoricalAccuracy),
        ("mse", (8, 3), (8, 3), metrics.CategoricalAccuracy),
        ("binary_crossentropy", (8, 1), (8, 1), metrics.BinaryAccuracy),
        ("binary_crossentropy", (8,), (8, 1), metrics.BinaryAccuracy),
        # Multi-label sigmoid outputs: Keras 3 looks at shapes only and picks categorical.
        ("binary_crossentropy", (8, 2), (8, 2), metrics.CategoricalAccuracy),
        (
            "sparse_categorical_crossentropy",
            (4, 5, 5),
            (4, 5, 5, 3),
            metrics.SparseCategoricalAccuracy,
        ),
    ],
)
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_resolve_accuracy_follows_keras(loss, y_true_shape, y_pred_shape, cls, name):
    metric = metrics.resolve_accuracy(name, losses.get(loss), y_true_shape, y_pred_shape)
    assert type(metric) is cls
    assert metric.name == name


def test_resolve_accuracy_treats_one_score_per_sample_as_binary():
    # Keras would take an argmax over the batch here; one score per sample is a binary output.
    metric = metrics.resolve_accuracy("accuracy", "binary_crossentropy", (8,), (8,))
    assert type(metric) is metrics.BinaryAccuracy


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
def test_metrics_update_on_the_device_without_synchronising():
    device = torch.device("cuda")
    cases = []
    for name, kwargs, batches, _ in KERAS_METRICS:
        metric = getattr(metrics, name)(**kwargs).to(device)
        tensors = [
            tuple(
                None if t is None else torch.tensor(t, dtype=torch.float32, device=device)
                for t in b
            )
            for b in batches
        ]
        cases.append((metric, tensors))
    torch.cuda.synchronize()
    with _host_sync_is_an_error():
        for metric, batches in cases:
            for y_true, y_pred, sample_weight in batches:
                metric.update_state(y_true, y_pred, sample_weight=sample_weight)
            metric.result()
    for (name, _, _, expected), (metric, _) in zip(KERAS_METRICS, cases, strict=True):
        assert metric.result().device.type == "cuda", name
        np.testing.assert_allclose(metric.result().tolist(), expected[-1], rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_metric_state_follows_the_inputs_device():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state(torch.tensor(YS1, device="cuda"), torch.tensor(PC1, device="cuda"))
    assert metric.total.device.type == "cuda"
    np.testing.assert_allclose(float(metric.result()), 0.25)


@pytest.mark.parametrize("labels", [[2, 0, 1, 1], [[2], [0], [1], [1]], [2.0, 0.0, 1.0, 1.0]])
def test_sparse_categorical_accuracy_fast_path_is_the_general_path(labels):
    scores = torch.tensor([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    fast = metrics.SparseCategoricalAccuracy()
    general = metrics.SparseCategoricalAccuracy()
    for _ in range(2):
        fast.update_state(torch.tensor(labels), scores)
        metrics.MeanMetricWrapper.update_state(general, torch.tensor(labels), scores)
    assert float(fast.total) == float(general.total) == 6.0
    assert float(fast.count) == float(general.count) == 8.0
    assert float(fast.result()) == 0.75
