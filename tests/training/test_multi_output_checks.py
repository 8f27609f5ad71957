"""Keras 3.15.1's errors for multi-output targets, sample weights and loss dicts (messages
printed by Keras 3.15.1, torch backend; programs in scratch sweepJ j1_sw.py, j2_lossdict.py)."""

import numpy as np
import pytest

import lamina
from lamina import layers

X = np.linspace(-1, 1, 24, dtype="float32").reshape(6, 4)
Y1 = np.arange(6, dtype="float32").reshape(6, 1) / 6
Y2 = np.array([0, 1, 2, 0, 1, 2])
W = np.linspace(0.5, 1.5, 6).astype("float32")


def _model(dict_outputs: bool = False) -> lamina.Model:
    inputs = lamina.Input((4,), name="a")
    hidden = layers.Dense(6, activation="relu", name="hidden")(inputs)
    reg = layers.Dense(1, name="reg")(hidden)
    cls = layers.Dense(3, activation="softmax", name="cls")(hidden)
    return lamina.Model(inputs, {"reg": reg, "cls": cls} if dict_outputs else [reg, cls])


@pytest.mark.parametrize(
    "y, sample_weight",
    [
        ([Y1, Y2], {"reg": W, "cls": W}),
        ([Y1, Y2], [W]),
        ([Y1, Y2], (W, W)),
        ({"reg": Y1, "cls": Y2}, [W, W]),
        ({"reg": Y1, "cls": Y2}, {"reg": W}),
    ],
)
def test_sample_weight_must_nest_as_y(y, sample_weight):
    model = _model()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    start = "You should provide one `sample_weight` array per output in `y`. The two structures"
    with pytest.raises(ValueError, match=f"^{start} did not match:\n- y: "):
        model.fit(X, y, sample_weight=sample_weight, verbose=0)
    with pytest.raises(ValueError, match=f"^{start}"):
        model.evaluate(X, y, sample_weight=sample_weight, verbose=0)


def test_one_sample_weight_array_for_several_outputs_has_one_score_per_sample():
    model = _model()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match="^For a model with multiple outputs, when providing a"):
        model.fit(X, [Y1, Y2], sample_weight=np.ones((6, 2), "float32"), verbose=0)
    model.fit(X, [Y1, Y2], sample_weight=W, verbose=0)  # (6,) is replicated, as Keras
    model.fit(X, [Y1, Y2], sample_weight=[W, None], verbose=0)


@pytest.mark.parametrize("y", [{"cls": Y2}, {"reg": Y1, "cls": Y2}, [Y1, Y2]])
def test_a_loss_dict_names_every_output_of_a_list_output_model(y):
    model = _model()
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy"})  # compile accepts it
    message = "Expected keys ['reg', 'cls'] in loss dict, but found loss.keys()=['cls']"
    for run in (model.fit, model.evaluate):
        with pytest.raises(ValueError) as error:
            run(X, y, verbose=0)
        assert str(error.value) == message
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy", "zz": "mse"})
    with pytest.raises(ValueError, match=r"loss.keys\(\)=\['cls', 'zz'\]$"):
        model.train_on_batch(X, y)


def test_a_partial_loss_dict_trains_a_dict_output_model():
    model = _model(dict_outputs=True)
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy"})
    assert sorted(model.evaluate(X, {"cls": Y2}, verbose=0, return_dict=True)) == ["loss"]


@pytest.mark.parametrize("dict_outputs", [False, True])
def test_compiled_metrics_read_a_y_dict_by_every_output(dict_outputs):
    model = _model(dict_outputs)
    loss = {"reg": "mse", "cls": "sparse_categorical_crossentropy"}
    model.compile("sgd", loss=loss, metrics={"cls": ["accuracy"]})
    with pytest.raises(KeyError) as error:
        model.evaluate(X, {"cls": Y2}, verbose=0)
    assert error.value.args == ("reg",)


@pytest.mark.parametrize("dict_outputs", [False, True])
@pytest.mark.parametrize(
    "loss",
    [
        {"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        {"cls": "sparse_categorical_crossentropy"},
    ],
)
def test_a_y_dict_entry_that_names_no_output_is_refused(dict_outputs, loss):
    # Keras 3.15.1: ValueError "y_true and y_pred have different structures." (fit, evaluate)
    model = _model(dict_outputs)
    model.compile("sgd", loss=loss)
    y = {"reg": Y1, "cls": Y2, "zz": Y1}
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"^y_true and y_pred have different structures.*\['zz'\]"):
        model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match="^y_true and y_pred have different structures"):
        model.evaluate(X, y, verbose=0)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # nothing trained


@pytest.mark.parametrize("metrics", [{"d": ["mae"]}, {"zz": ["mae"]}, {"d": "mae"}])
@pytest.mark.parametrize("functional", [False, True])
def test_a_one_output_models_metrics_dict_is_read_whatever_its_keys(metrics, functional):
    # Keras 3.15.1: {'loss': 1.0867769718170166, 'mae': 0.8636363744735718} in every case.
    dense = layers.Dense(1, name="d", kernel_initializer="ones")
    if functional:
        inputs = lamina.Input((3,))
        model = lamina.Model(inputs, dense(inputs))
    else:
        model = lamina.Sequential([lamina.Input((3,)), dense])
    model.compile(optimizer="sgd", loss="mse", metrics=metrics)
    x = np.linspace(0, 1, 12, dtype="float32").reshape(4, 3)
    logs = model.evaluate(x, np.ones((4, 1), "float32"), verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": 1.0867769718170166, "mae": 0.8636363744735718})


def test_a_one_output_models_loss_dict_naming_no_output_gives_keras_error():
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, layers.Dense(1, name="d")(inputs))
    model.compile(optimizer="sgd", loss={"zz": "mse"})
    x = np.linspace(0, 1, 12, dtype="float32").reshape(4, 3)
    # Keras 3.15.1, at evaluate and fit:
    message = r"^Expected keys \['d'\] in loss dict, but found loss.keys\(\)=\['zz'\]"
    with pytest.raises(ValueError, match=message):
        model.evaluate(x, np.ones((4, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match=message):
        model.fit(x, np.ones((4, 1), "float32"), verbose=0)
