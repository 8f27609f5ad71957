"""PearsonCorrelation, ConcordanceCorrelation and the rate-at-rate metrics: Keras 3.15.1's values
over two batches, names, configs and use in compile (script: /work/scratch/moreopt/met_ref.py)."""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina import metrics
from tests.test_metrics import BIN, CAT, _case_id, _tensor


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


YQ1 = [[0.5, 1.0, -0.2, 2.0], [0.0, -1.0, 0.3, 0.1], [1.5, 2.5, 0.7, -0.4]]
PQ1 = [[0.4, 1.5, 0.1, 1.6], [0.3, -0.5, 0.2, 0.0], [1.0, 2.0, 0.9, 0.2]]
YQ2 = [[2.0, 0.0, 1.0, 0.5], [1.0, 3.0, -1.0, 0.0]]
PQ2 = [[0.5, 0.2, 0.8, 0.9], [1.2, 2.0, -0.3, 0.4]]
WQ2 = [2.0, 0.5]
QREG = [(YQ1, PQ1, None), (YQ2, PQ2, WQ2)]
# With axis=0 there is one value per feature, which Keras cannot weigh by sample.
QREG0 = [(YQ1, PQ1, None), (YQ2, PQ2, None)]

# (class, kwargs, two batches, result after each update_state), from Keras 3.15.1 (torch).
KERAS_METRICS = [
    ("PearsonCorrelation", {}, QREG, [0.9250458, 0.6615515]),
    ("PearsonCorrelation", {"axis": 0}, QREG0, [0.9475057, 0.7237529]),
    ("ConcordanceCorrelation", {}, QREG, [0.8311534, 0.5702796]),
    ("ConcordanceCorrelation", {"axis": 0}, QREG0, [0.852101, 0.6313899]),
    ("PrecisionAtRecall", {"recall": 0.5}, BIN, [0.6666667, 1.0]),
    ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 7}, BIN, [0.6, 0.8461539]),
    ("PrecisionAtRecall", {"recall": 0.5, "class_id": 1}, CAT, [1.0, 1.0]),
    ("PrecisionAtRecall", {"recall": 0.7}, CAT, [0.6, 0.4230769]),
    ("RecallAtPrecision", {"precision": 0.7}, BIN, [0.3333333, 1.0]),
    ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 1}, BIN, [0.6666667, 0.8461539]),
    ("RecallAtPrecision", {"precision": 0.4, "class_id": 0}, CAT, [1.0, 1.0]),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, BIN, [0.6666667, 0.8461539]),
    (
        "SensitivityAtSpecificity",
        {"specificity": 0.9, "num_thresholds": 5},
        BIN,
        [0.3333333, 0.6923077],
    ),
    ("SensitivityAtSpecificity", {"specificity": 0.6, "class_id": 2}, CAT, [1.0, 1.0]),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, BIN, [0.6666667, 1.0]),
    (
        "SpecificityAtSensitivity",
        {"sensitivity": 1.0, "num_thresholds": 3},
        BIN,
        [0.3333333, 0.2222222],
    ),
    ("SpecificityAtSensitivity", {"sensitivity": 0.8}, CAT, [0.5833333, 0.4666667]),
]
RATE_AT_RATE = {
    metrics.PrecisionAtRecall: "recall",
    metrics.RecallAtPrecision: "precision",
    metrics.SensitivityAtSpecificity: "specificity",
    metrics.SpecificityAtSensitivity: "sensitivity",
}


@pytest.mark.parametrize("case", KERAS_METRICS, ids=_case_id)
def test_metric_accumulates_as_keras(case):
    name, kwargs, batches, expected = case
    metric = getattr(metrics, name)(**kwargs)
    results = []
    for y_true, y_pred, sample_weight in batches:
        metric.update_state(_tensor(y_true), _tensor(y_pred), sample_weight=_tensor(sample_weight))
        results.append(metric.result().item())
    np.testing.assert_allclose(results, expected, rtol=1e-5, atol=1e-6)
    metric.reset_state()
    y_true, y_pred, _ = batches[0]
    metric.update_state(_tensor(y_true), _tensor(y_pred))
    np.testing.assert_allclose(metric.result().item(), expected[0], rtol=1e-5, atol=1e-6)


def test_correlation_functions_match_keras_docstring():
    y_true, y_pred = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    pearson = metrics.pearson_correlation(_tensor(y_true), _tensor(y_pred))
    concordance = metrics.concordance_correlation(_tensor(y_true), _tensor(y_pred))
    np.testing.assert_allclose(pearson.tolist(), [1.0, 0.99339927], rtol=1e-5)
    np.testing.assert_allclose(concordance.tolist(), [0.97560976, 0.98765432], rtol=1e-5)


def test_default_names_and_configs_are_keras():
    assert [metrics.PearsonCorrelation().name, metrics.PearsonCorrelation().name] == [
        "pearson_correlation",
        "pearson_correlation",
    ]
    assert metrics.ConcordanceCorrelation().get_config() == {
        "name": "concordance_correlation",
        "dtype": "float32",
        "axis": -1,
    }
    assert [metrics.PrecisionAtRecall(0.5).name, metrics.PrecisionAtRecall(0.5).name] == [
        "precision_at_recall",
        "precision_at_recall_1",
    ]
    assert metrics.SpecificityAtSensitivity(0.5).get_config() == {
        "name": "specificity_at_sensitivity",
        "dtype": "float32",
        "class_id": None,
        "num_thresholds": 200,
        "sensitivity": 0.5,
    }


@pytest.mark.parametrize(
    "metric",
    [
        metrics.PearsonCorrelation(axis=0),
        metrics.ConcordanceCorrelation(),
        *(cls(0.3, num_thresholds=7, class_id=1) for cls in RATE_AT_RATE),
    ],
    ids=lambda metric: type(metric).__name__,
)
def test_config_round_trip(metric):
    config = json.loads(json.dumps(metrics.serialize(metric)))
    clone = metrics.deserialize(config)
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()


@pytest.mark.parametrize("name", ["pearson_correlation", "concordance_correlation"])
def test_get_resolves_snake_case_names(name):
    metric = metrics.compile_metric(name)
    assert metric.name == name and type(metric).__name__.lower() == name.replace("_", "")
    assert type(metrics.get(name)) is type(metric)


@pytest.mark.parametrize("cls", list(RATE_AT_RATE), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(("kwargs", "match"), [({"value": 1.5}, r"\[0, 1\]"), ({}, "> 0")])
def test_invalid_arguments_are_rejected(cls, kwargs, match):
    target = RATE_AT_RATE[cls]
    args = {target: kwargs.get("value", 0.5), "num_thresholds": 200 if kwargs else 0}
    with pytest.raises(ValueError, match=match):
        cls(**args)


def test_usable_in_compile_with_keras_history_keys():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(
        "sgd",
        "binary_crossentropy",
        metrics=[
            metrics.PearsonCorrelation(),
            metrics.ConcordanceCorrelation(),
            *(cls(0.5) for cls in RATE_AT_RATE),
        ],
    )
    x = torch.rand(16, 4)
    y = (torch.rand(16, 1) > 0.5).float()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    # Keras 3.15.1's keys for the same compile in a fresh session.
    assert sorted(history.history) == [
        "concordance_correlation",
        "loss",
        "pearson_correlation",
        "precision_at_recall",
        "recall_at_precision",
        "sensitivity_at_specificity",
        "specificity_at_sensitivity",
    ]
    # One output column: a per-sample correlation over one value is NaN, in Keras too.
    assert np.isnan(history.history["pearson_correlation"][0])
    assert np.isfinite(history.history["specificity_at_sensitivity"][0])
