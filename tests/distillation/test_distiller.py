"""Distiller against Keras 3.15.1 (torch backend): the same teacher and student weights
(set with set_weights), data and settings give Keras' fit histories, evaluation and
predictions (literals below); the teacher stays frozen; configs and model files round-trip."""

import numpy as np
import pytest
import torch

import lamina as keras
from lamina import layers
from lamina.distillation import (
    DistillationLoss,
    Distiller,
    FeatureDistillation,
    LogitsDistillation,
)


def _data():
    rs = np.random.RandomState(0)
    x = rs.randn(40, 5).astype("float32")
    return x, rs.randint(0, 3, 40)


def _models():
    draw = np.random.RandomState(1)
    shapes = [(5, 8), (8,), (8, 3), (3,)]
    teacher_weights = [draw.uniform(-0.6, 0.6, s).astype("float32") for s in shapes]
    student_weights = [draw.uniform(-0.6, 0.6, s).astype("float32") for s in shapes]
    teacher = keras.Sequential(
        [keras.Input((5,)), layers.Dense(8, activation="relu", name="t_hidden"),
         layers.Dense(3, name="t_out")],
        name="teacher",
    )  # fmt: skip
    student = keras.Sequential(
        [keras.Input((5,)), layers.Dense(8, activation="tanh", name="s_hidden"),
         layers.Dense(3, name="s_out")],
        name="student",
    )  # fmt: skip
    teacher.set_weights(teacher_weights)
    student.set_weights(student_weights)
    return teacher, student


def _close(history, expected, rtol=1e-5, atol=1e-6):
    assert sorted(history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=rtol, atol=atol, err_msg=key)


def _logits_distiller():
    teacher, student = _models()
    distiller = Distiller(teacher, student, LogitsDistillation(temperature=2.0))
    distiller.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return distiller


def test_logits_distillation_fit_evaluate_predict_match_keras():
    x, y = _data()
    distiller = _logits_distiller()
    history = distiller.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    # Keras' default 'kl_divergence' runs on logits clipped to [1e-7, 1]: a student logit just
    # above the clip divides the gradient by it, which magnifies float rounding (1e-5 by the
    # third epoch; the first agrees to 1e-6).
    _close(
        history.history,
        {
            "accuracy": [0.3499999940395355, 0.3499999940395355, 0.32499998807907104],
            "distillation_loss": [2.1180479526519775, 1.2655080556869507, 1.1028178930282593],
            "loss": [1.6380685567855835, 1.1452922821044922, 1.0593063831329346],
            "student_loss": [1.1595607995986938, 1.178702473640442, 1.1624943017959595],
            "total_loss": [1.6388044357299805, 1.2221052646636963, 1.1326559782028198],
        },
        rtol=3e-5,
    )
    evaluated = distiller.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    _close(
        evaluated,
        {
            "accuracy": 0.375,
            "distillation_loss": 0.4396195709705353,
            "loss": 0.7907049655914307,
            "student_loss": 1.1451877355575562,
            "total_loss": 0.7924036383628845,
        },
        rtol=3e-5,
    )
    np.testing.assert_allclose(
        distiller.predict(x[:4], verbose=0),
        [
            [0.8856598138809204, 0.6837232708930969, -0.11234986782073975],
            [0.6067941188812256, 0.8882114291191101, 1.3485287427902222],
            [0.8776969909667969, 1.1559451818466187, 0.9086474180221558],
            [0.6356894969940186, 0.4410667419433594, 1.4344618320465088],
        ],
        rtol=3e-5,
        atol=1e-4,
    )
    assert [m.name for m in distiller.metrics] == [
        "loss",
        "compile_metrics",
        "student_loss",
        "distillation_loss",
        "total_loss",
    ]


def test_feature_and_softened_kl_losses_with_weights_match_keras():
    x, y = _data()
    teacher, student = _models()
    distiller = Distiller(
        teacher,
        student,
        [
            LogitsDistillation(temperature=4.0, loss=keras.losses.KLDivergence()),
            FeatureDistillation(
                loss="mse", teacher_layer_name="t_hidden", student_layer_name="s_hidden"
            ),
        ],
        distillation_loss_weights=[1.0, 0.5],
        student_loss_weight=0.3,
    )
    distiller.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    history = distiller.fit(
        x[:30], y[:30], batch_size=8, epochs=2, verbose=0, shuffle=False,
        validation_data=(x[30:], y[30:]),
    )  # fmt: skip
    _close(
        history.history,
        {
            "distillation_loss": [0.6597083806991577, 0.5950161218643188],
            "loss": [1.6502865552902222, 1.418683648109436],
            "student_loss": [3.882927656173706, 3.3037266731262207],
            "total_loss": [1.6266741752624512, 1.407629370689392],
            "val_distillation_loss": [0.7938709259033203, 0.7311505675315857],
            "val_loss": [1.7018420696258545, 1.668842077255249],
            "val_student_loss": [2.7533414363861084, 2.8889575004577637],
            "val_total_loss": [1.3817121982574463, 1.3784927129745483],
        },
    )
    kernel, bias, out_kernel, out_bias = student.get_weights()
    np.testing.assert_allclose(
        kernel.ravel()[:3], [-0.37203705310821533, 0.5485630035400391, -0.1766807734966278],
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    np.testing.assert_allclose(
        [kernel.sum(), bias.sum(), out_kernel.sum(), out_bias.sum()],
        [2.900492087006569, -0.543961226940155, -1.5155400857329369, -0.2930977186188102],
        rtol=1e-5,
        atol=1e-5,
    )


def test_student_loss_weight_zero_trains_on_the_teacher_alone():
    x, y = _data()
    teacher, student = _models()
    distiller = Distiller(
        teacher, student, FeatureDistillation(loss="cosine_similarity"), student_loss_weight=0.0
    )
    distiller.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = distiller.fit(x, y, batch_size=20, epochs=2, verbose=0, shuffle=False)
    _close(
        history.history,
        {
            "distillation_loss": [0.48621252179145813, 0.36710551381111145],
            "loss": [0.4862125515937805, 0.36710551381111145],
            "student_loss": [0.0, 0.0],
            "total_loss": [0.48621252179145813, 0.36710551381111145],
        },
    )


def test_teacher_is_frozen_and_unchanged_by_fit():
    x, y = _data()
    distiller = _logits_distiller()
    before = [w.copy() for w in distiller.teacher.get_weights()]
    distiller.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert distiller.teacher.trainable is False
    assert len(distiller.trainable_weights) == 4 and len(distiller.weights) == 8
    for old, new in zip(before, distiller.teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_distillation_losses_give_keras_values():
    a = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.1, 0.3]])
    b = torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.0, 1.0]])
    values = {
        "logits_default": LogitsDistillation().compute_loss(a, b),
        "logits_kl_obj": LogitsDistillation(2.0, keras.losses.KLDivergence()).compute_loss(a, b),
        "logits_list": LogitsDistillation(
            2.0, ["kl_divergence", None, "categorical_crossentropy"]
        ).compute_loss([a, b, a], [b, a, b]),
        "feature_mae": FeatureDistillation("mae").compute_loss(a, b),
        "feature_cos": FeatureDistillation(keras.losses.CosineSimilarity()).compute_loss(a, b),
    }
    expected = {
        "logits_default": 1.5766593217849731,
        "logits_kl_obj": 0.24856780469417572,
        "logits_list": 1.0167322158813477,
        "feature_mae": 0.6333333253860474,
        "feature_cos": -0.6535462141036987,
    }
    for key, value in values.items():
        assert value.ndim == 0
        np.testing.assert_allclose(float(value), expected[key], rtol=1e-6, err_msg=key)


def test_config_has_keras_keys_and_round_trips():
    teacher, student = _models()
    distiller = Distiller(
        teacher,
        student,
        [LogitsDistillation(), FeatureDistillation("mse", "t_hidden", "s_hidden")],
        distillation_loss_weights=[1.0, 0.5],
        student_loss_weight=0.3,
    )
    config = distiller.get_config()
    assert sorted(config) == [
        "distillation_loss_weights", "distillation_losses", "dtype", "name", "student",
        "student_loss_weight", "teacher", "trainable",
    ]  # fmt: skip
    # Keras 3.15.1's serialized losses
    assert config["distillation_losses"] == [
        {
            "module": "keras.distillation",
            "class_name": "LogitsDistillation",
            "config": {
                "temperature": 3.0,
                "loss": {
                    "module": "builtins",
                    "class_name": "function",
                    "config": "kl_divergence",
                    "registered_name": "function",
                },
            },
            "registered_name": None,
        },
        {
            "module": "keras.distillation",
            "class_name": "FeatureDistillation",
            "config": {
                "loss": {
                    "module": "builtins",
                    "class_name": "function",
                    "config": "mean_squared_error",
                    "registered_name": "function",
                },
                "teacher_layer_name": "t_hidden",
                "student_layer_name": "s_hidden",
            },
            "registered_name": None,
        },
    ]
    rebuilt = Distiller.from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt.teacher.trainable is False
    assert rebuilt.distillation_losses[1].student_layer_name == "s_hidden"
    rebuilt.set_weights(distiller.get_weights())  # a config holds no weights, as in Keras
    x = torch.from_numpy(_data()[0])
    torch.testing.assert_close(rebuilt(x), distiller(x))


def test_save_and_load_model_continues_training(tmp_path):
    x, y = _data()
    distiller = _logits_distiller()
    distiller.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "distiller.keras"
    distiller.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, Distiller) and loaded.teacher.trainable is False
    np.testing.assert_allclose(loaded.predict(x, verbose=0), distiller.predict(x, verbose=0))
    first = distiller.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    again = loaded.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    _close(again, first)


def test_custom_distillation_loss_subclass():
    class MeanGap(DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return (teacher_outputs - student_outputs).abs().mean()

    x, y = _data()
    teacher, student = _models()
    distiller = Distiller(teacher, student, MeanGap(), student_loss_weight=0.0)
    distiller.compile(optimizer="sgd", loss="mse")
    with torch.no_grad():
        expected = (teacher(torch.from_numpy(x)) - student(torch.from_numpy(x))).abs().mean()
    logs = distiller.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    assert logs["distillation_loss"] == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"student_loss_weight": 1.5}, "student_loss_weight must be between 0.0 and 1.0"),
        ({"student_loss_weight": "half"}, "student_loss_weight must be a number"),
        ({"distillation_losses": None}, "'distillation_losses' cannot be `None`"),
        (
            {"distillation_losses": [LogitsDistillation()], "distillation_loss_weights": [1, 2]},
            r"Number of distillation_loss_weights \(2\) must match number of "
            r"distillation_losses \(1\)",
        ),
        (
            {"distillation_losses": FeatureDistillation(teacher_layer_name="nope")},
            "In teacher model: No layer named 'nope'",
        ),
        ({"teacher": "model"}, "Teacher must be a lamina.Model"),
    ],
)
def test_bad_arguments_raise_keras_errors(arguments, message):
    teacher, student = _models()
    options = {
        "teacher": teacher,
        "student": student,
        "distillation_losses": LogitsDistillation(),
        **arguments,
    }
    with pytest.raises(ValueError, match=message):
        Distiller(**options)


def test_incompatible_models_and_compile_errors():
    teacher, _ = _models()
    wide = keras.Sequential([keras.Input((5,)), layers.Dense(4)])
    with pytest.raises(ValueError, match=r"output shapes are incompatible. Teacher: \(None, 3\)"):
        Distiller(teacher, wide, LogitsDistillation())
    distiller = _logits_distiller()
    with pytest.raises(ValueError, match="'loss' cannot be `None`"):
        distiller.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="metrics must be a list or tuple"):
        distiller.compile(optimizer="sgd", loss="mse", metrics="accuracy")
    with pytest.raises(ValueError, match="temperature must be positive"):
        LogitsDistillation(temperature=0)
    with pytest.raises(ValueError, match="at least one non-`None` value"):
        FeatureDistillation(loss=None)
    with pytest.raises(ValueError, match="Unknown loss function: 'no_such_loss'"):
        LogitsDistillation(loss="no_such_loss")


def test_reads_a_distiller_file_written_by_keras(tmp_path):
    # Keras 3.15.1 saved this Distiller (the weights of _models(), not compiled) with
    # [LogitsDistillation(4.0, KLDivergence()), FeatureDistillation('mse', 't_hidden',
    # 's_hidden')], weights [1.0, 0.5], student_loss_weight 0.3.
    import json
    import sys
    from pathlib import Path

    folder = Path(__file__).parents[1] / "saving" / "keras_files"
    sys.path.insert(0, str(folder))
    from materialize import write_archive

    record = json.loads((Path(__file__).parent / "keras_files" / "distiller.json").read_text())
    path = write_archive(record, tmp_path / "distiller.keras")  # rebuilt from its text record
    loaded = keras.models.load_model(path, compile=False)
    assert isinstance(loaded, Distiller) and loaded.teacher.trainable is False
    assert loaded.distillation_loss_weights == [1.0, 0.5] and loaded.student_loss_weight == 0.3
    logits, features = loaded.distillation_losses
    assert isinstance(logits.loss, keras.losses.KLDivergence) and logits.temperature == 4.0
    assert (features.teacher_layer_name, features.student_layer_name) == ("t_hidden", "s_hidden")
    assert loaded.get_config()["distillation_losses"][0]["config"]["loss"] == {
        "module": "keras.losses",
        "class_name": "KLDivergence",
        "config": {"name": "kl_divergence", "reduction": "sum_over_batch_size"},
        "registered_name": None,
    }
    x, _ = _data()
    np.testing.assert_allclose(
        loaded.predict(x[:3], verbose=0),
        [
            [0.8590362071990967, 0.5923830270767212, 0.16330891847610474],
            [0.3070548176765442, 0.8148000240325928, 0.46866536140441895],
            [0.6244149208068848, 1.0593256950378418, 0.3546897768974304],
        ],
        rtol=1e-6,
        atol=1e-6,
    )
