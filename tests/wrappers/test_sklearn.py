"""lamina.wrappers: Keras' scikit-learn wrappers, checked with scikit-learn itself (its
estimator checks, pipelines, cross-validation) and against Keras' outputs for fixed weights."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import lamina  # noqa: E402
from lamina.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models train several times faster on one thread than on a busy machine's all."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def dynamic_model(X, y, loss, out_activation_function="softmax", layers=(10,)):
    """Keras' test model: an MLP sized from X and the (one-hot) targets."""
    inputs = lamina.Input(shape=(X.shape[1],))
    hidden = inputs
    for size in layers:
        hidden = lamina.layers.Dense(size, activation="relu")(hidden)
    outputs = lamina.layers.Dense(
        y.shape[1] if y.ndim > 1 else 1, activation=out_activation_function
    )(hidden)
    model = lamina.Model(inputs, outputs)
    model.compile(loss=loss, optimizer="rmsprop")
    return model


# As Keras' own test lists them (scikit-learn >= 1.6), for the same reasons: training is
# not reproducible between two fits, and a few epochs do not always see every class.
EXPECTED_FAILED_CHECKS = {
    "SKLearnClassifier": {
        "check_classifiers_classes": "small data: not every class is predicted",
        "check_classifier_data_not_an_array": "fit is not reproducible",
        "check_supervised_y_2d": "fit is not reproducible",
        "check_fit_idempotent": "fit is not reproducible",
        "check_classifiers_train": "decision_function returns probabilities",
    },
    "SKLearnRegressor": {},
    "SKLearnTransformer": {},
}


@parametrize_with_checks(
    [
        SKLearnClassifier(
            model=dynamic_model,
            model_kwargs={"loss": "categorical_crossentropy", "layers": [20, 20, 20]},
            fit_kwargs={"epochs": 5, "verbose": 0},
        ),
        SKLearnRegressor(
            model=dynamic_model, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}
        ),
        SKLearnTransformer(
            model=dynamic_model, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}
        ),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS[type(estimator).__name__],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# Keras 3.15.1 (torch backend), the same programs with keras.wrappers: a 3-4-3 MLP with these
# weights, SGD with learning rate 0 (so fit leaves them as they are).
X = np.array(
    [
        [0.126, -0.132, 0.64],
        [0.105, -0.536, 0.362],
        [1.304, 0.947, -0.704],
        [-1.265, -0.623, 0.041],
        [-2.325, -0.219, -1.246],
        [-0.732, -0.544, -0.316],
    ]
)
W1 = np.array(
    [[0.412, 1.043, -0.129, 1.366], [-0.665, 0.352, 0.903, 0.094], [-0.743, -0.922, -0.458, 0.22]]
)
B1 = np.array([-1.01, -0.209, -0.159, 0.541])
W2 = np.array(
    [[0.644, 1.066, -1.961], [-0.389, 2.352, 4.48], [-3.777, 4.542, 4.038], [2.344, 0.793, -0.942]]
)
B2 = np.array([1.458, 1.96, 1.802])
KERAS_DECISION = [
    [0.6507373452186584, 0.29146715998649597, 0.05779549106955528],
    [0.5947809815406799, 0.3248184621334076, 0.08040055632591248],
    [2.400943594693672e-05, 0.4903244078159332, 0.5096515417098999],
    [0.2461477518081665, 0.40664151310920715, 0.34721076488494873],
    [0.00505232997238636, 0.5997133851051331, 0.3952343165874481],
    [0.2461477518081665, 0.40664151310920715, 0.34721076488494873],
]
KERAS_REGRESSION = [
    3.430494785308838,
    3.1308798789978027,
    2.705274820327759,
    1.4579999446868896,
    -0.48275887966156006,
    1.4579999446868896,
]
KERAS_TRANSFORM = [
    [0.9979064464569092],
    [0.9961915016174316],
    [0.9911013841629028],
    [0.8972634673118591],
    [-0.44845038652420044],
    [0.8972634673118591],
]
Y_REGRESSION = np.array([0.5, -1.0, 2.0, 0.0, 1.5, -0.5])


def fixed_model(X, y, out_activation="softmax", loss="categorical_crossentropy"):
    outputs = y.shape[1]
    model = lamina.Sequential(
        [
            lamina.Input((3,)),
            lamina.layers.Dense(4, activation="relu"),
            lamina.layers.Dense(outputs, activation=out_activation),
        ]
    )
    model.layers[0].set_weights([W1, B1])
    model.layers[1].set_weights([W2[:, :outputs], B2[:outputs]])
    model.compile(loss=loss, optimizer=lamina.optimizers.SGD(learning_rate=0.0))
    return model


FIT = {"epochs": 1, "verbose": 0}


def test_classifier_outputs_and_labels_equal_keras_for_fixed_weights():
    y = np.array([2, 0, 1, 1, 0, 2]) * 10
    clf = SKLearnClassifier(fixed_model, fit_kwargs=FIT).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), KERAS_DECISION, rtol=1e-5, atol=1e-7)
    assert clf.classes_.tolist() == [0, 10, 20]
    assert clf.predict(X).tolist() == [0, 0, 20, 10, 10, 10]  # Keras' labels
    assert clf.score(X, y) == pytest.approx(1 / 3)  # Keras: 0.3333333333333333


def test_classifier_encodes_string_labels_in_sorted_order():
    y = np.array(["zebra", "ant", "moth", "moth", "ant", "zebra"])
    seen = {}

    def spy(X, y):
        seen["y"] = y
        return fixed_model(X, y)

    clf = SKLearnClassifier(spy, fit_kwargs=FIT).fit(X, y)
    np.testing.assert_array_equal(seen["y"], np.eye(3)[[2, 0, 1, 1, 0, 2]])
    assert clf.predict(X).tolist() == ["ant", "ant", "zebra", "moth", "moth", "moth"]


def test_classifier_takes_a_column_target_as_scikit_learn_does():
    from sklearn.exceptions import DataConversionWarning

    y = np.array([[2], [0], [1], [1], [0], [2]])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        predicted = SKLearnClassifier(fixed_model, fit_kwargs=FIT).fit(X, y).predict(X)
    assert predicted.tolist() == [0, 0, 2, 1, 1, 1]  # raveled by scikit-learn, as in Keras


def test_regressor_predictions_and_score_equal_keras_for_fixed_weights():
    reg = SKLearnRegressor(
        fixed_model, model_kwargs={"out_activation": None, "loss": "mse"}, fit_kwargs=FIT
    ).fit(X, Y_REGRESSION)
    predicted = reg.predict(X)
    assert predicted.shape == (6,)
    np.testing.assert_allclose(predicted, KERAS_REGRESSION, rtol=1e-5)
    assert reg.score(X, Y_REGRESSION) == pytest.approx(-4.372458320089016, rel=1e-5)


def test_transformer_outputs_equal_keras_for_fixed_weights():
    trs = SKLearnTransformer(
        fixed_model, model_kwargs={"out_activation": "tanh", "loss": "mse"}, fit_kwargs=FIT
    )
    np.testing.assert_allclose(trs.fit(X, Y_REGRESSION).transform(X), KERAS_TRANSFORM, rtol=1e-5)


def iris_model(X, y):
    model = lamina.Sequential(
        [
            lamina.Input((X.shape[1],)),
            lamina.layers.Dense(16, activation="relu"),
            lamina.layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer=lamina.optimizers.Adam(0.05))
    return model


def test_pipeline_cross_validation_on_iris_scores_well():
    X_iris, y_iris = load_iris(return_X_y=True)
    lamina.utils.set_random_seed(0)
    clf = SKLearnClassifier(iris_model, fit_kwargs={"epochs": 25, "verbose": 0})
    pipeline = make_pipeline(StandardScaler(), clf)
    scores = cross_val_score(pipeline, X_iris, y_iris, cv=3)  # stratified folds
    assert scores.min() > 0.85, scores  # chance is 1/3


def test_clone_keeps_every_parameter_and_copies_a_model_instance():
    model = fixed_model(X, np.eye(3))
    est = SKLearnClassifier(model, warm_start=True, model_kwargs=None, fit_kwargs={"epochs": 2})
    copy = clone(est)
    assert copy.get_params()["fit_kwargs"] == {"epochs": 2}  # Keras' clone drops fit_kwargs
    assert copy.warm_start is True
    assert copy.model is not model
    np.testing.assert_array_equal(
        copy.model.layers[0].kernel.detach(), model.layers[0].kernel.detach()
    )
    assert copy.model.compiled and type(copy.model.optimizer).__name__ == "SGD"


def test_fit_does_not_change_fit_kwargs():
    fit_kwargs = {"epochs": 1, "verbose": 0}
    est = SKLearnRegressor(
        fixed_model, model_kwargs={"out_activation": None, "loss": "mse"}, fit_kwargs=fit_kwargs
    )
    est.fit(X, Y_REGRESSION, epochs=3)
    assert fit_kwargs == {"epochs": 1, "verbose": 0}
    assert est.epoch_ == 3 and len(est.history_.history["loss"]) == 3


def test_model_instance_is_cloned_without_warm_start_and_trained_in_place_with_it():
    model = fixed_model(X, np.eye(3))
    model.compile(loss="categorical_crossentropy", optimizer=lamina.optimizers.SGD(0.5))
    before = model.layers[0].kernel.detach().clone()
    y = np.array([2, 0, 1, 1, 0, 2])
    cold = SKLearnClassifier(model, fit_kwargs=FIT).fit(X, y)
    assert cold.model_ is not model
    assert torch.equal(model.layers[0].kernel.detach(), before)
    warm = SKLearnClassifier(model, warm_start=True, fit_kwargs=FIT).fit(X, y)
    assert warm.model_ is model
    assert not torch.equal(model.layers[0].kernel.detach(), before)
    trained = model.layers[0].kernel.detach().clone()
    warm.fit(X, y)  # a second fit continues from the trained weights
    assert warm.model_ is model and not torch.equal(model.layers[0].kernel.detach(), trained)


def test_fitted_estimator_with_a_functional_model_pickles():
    import pickle

    reg = SKLearnRegressor(dynamic_model, model_kwargs={"loss": "mse"}, fit_kwargs=FIT)
    reg.fit(X, Y_REGRESSION)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(restored.predict(X), reg.predict(X), rtol=1e-6)


def test_uncompiled_model_is_refused():
    def uncompiled(X, y):
        return lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])

    with pytest.raises(RuntimeError, match="must be compiled with a loss and an optimizer"):
        SKLearnRegressor(uncompiled).fit(X, Y_REGRESSION)


def test_model_that_is_neither_a_model_nor_callable_is_refused():
    with pytest.raises(TypeError, match="SKLearnRegressor: model must be a compiled lamina Model"):
        SKLearnRegressor("mlp").fit(X, Y_REGRESSION)


def test_classifier_refuses_continuous_targets():
    with pytest.raises(ValueError, match="only binary and multiclass targets.*'continuous'"):
        SKLearnClassifier(fixed_model).fit(X, Y_REGRESSION)


def test_missing_scikit_learn_is_explained(monkeypatch):
    from lamina.wrappers import _sklearn

    monkeypatch.setattr(_sklearn, "sklearn", None)
    with pytest.raises(ImportError, match="SKLearnClassifier needs scikit-learn"):
        SKLearnClassifier(fixed_model)


def test_unknown_name_in_wrappers_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'KerasClassifier'"):
        lamina.wrappers.KerasClassifier  # noqa: B018


def test_model_compiled_with_an_unregistered_loss_function_is_cloned():
    def halved_mse(y_true, y_pred):
        return 0.5 * torch.mean((y_true - y_pred) ** 2, dim=-1)

    model = fixed_model(X, Y_REGRESSION.reshape(-1, 1), out_activation=None)
    model.compile(loss=halved_mse, optimizer=lamina.optimizers.SGD(0.0))
    reg = SKLearnRegressor(model, fit_kwargs=FIT).fit(X, Y_REGRESSION)
    assert reg.model_ is not model and reg.model_.compiled
    expected = 0.5 * np.mean((Y_REGRESSION - reg.predict(X)) ** 2)
    assert reg.history_.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    import pickle

    restored = pickle.loads(pickle.dumps(reg))  # the model loads uncompiled, and predicts
    np.testing.assert_allclose(restored.predict(X), reg.predict(X), rtol=1e-6)
