"""CTC, Circle and CategoricalGeneralizedCrossEntropy against Keras 3.15.1.

The reference numbers are the outputs of Keras 3.15.1 (torch backend) for the same inputs, from
the scratch program ref_losses.py (keras.losses.ctc / CTC / circle / Circle /
categorical_generalized_cross_entropy / CategoricalGeneralizedCrossEntropy).
"""

import numpy as np
import pytest
import torch

from lamina.losses.specialized import (
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
)

Y_TRUE_CTC = np.array([[1, 2, 2, 0], [3, 1, 0, 0]])
Y_PRED_CTC = np.sin(np.arange(60, dtype="float32").reshape(2, 6, 5) * 0.37).astype("float32")
LABELS = np.array([0, 1, 0, 2, 1, 0])
_EMB = np.cos(np.arange(24, dtype="float32").reshape(6, 4) * 0.9 + 0.3)
EMB = (_EMB / np.linalg.norm(_EMB, axis=1, keepdims=True)).astype("float32")
GCE_TRUE = np.array([0, 1, 0, 1])
GCE_PRED = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]], "float32")


def close(got, expected, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=rtol, atol=atol)


def test_ctc_function_matches_keras():
    close(ctc(Y_TRUE_CTC, Y_PRED_CTC), [6.727563858032227, 5.659891128540039])


def test_ctc_class_reductions_match_keras():
    close(CTC()(Y_TRUE_CTC, Y_PRED_CTC), 6.193727493286133)
    weights = np.array([0.5, 2.0])
    close(CTC(reduction="sum")(Y_TRUE_CTC, Y_PRED_CTC, sample_weight=weights), 14.683564186096191)
    close(CTC(reduction=None)(Y_TRUE_CTC, Y_PRED_CTC), [6.727563858032227, 5.659891128540039])


def test_ctc_config_is_keras():
    assert CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}
    assert CTC.from_config(CTC(name="c", reduction="sum").get_config()).reduction == "sum"


def test_ctc_rejects_wrong_ranks():
    with pytest.raises(ValueError, match="y_true"):
        ctc(np.zeros(3), Y_PRED_CTC)
    with pytest.raises(ValueError, match="y_pred"):
        ctc(Y_TRUE_CTC, np.zeros((2, 5)))


def test_ctc_gradient_reaches_the_logits():
    logits = torch.tensor(Y_PRED_CTC, requires_grad=True)
    CTC()(torch.tensor(Y_TRUE_CTC), logits).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_circle_function_matches_keras():
    close(
        circle(LABELS, EMB),
        [
            0.04554597660899162,
            95.39746856689453,
            85.13855743408203,
            0.0,
            90.19393920898438,
            86.98114013671875,
        ],
    )


def test_circle_function_arguments_match_keras():
    close(
        circle(LABELS, EMB, gamma=10.0, margin=0.25, remove_diagonal=False),
        [
            2.3835129737854004,
            14.063724517822266,
            12.828073501586914,
            2.7270143032073975,
            13.559796333312988,
            13.01425552368164,
        ],
    )


def test_circle_references_match_keras():
    got = circle(
        LABELS, EMB, ref_labels=np.array([1, 0, 2]), ref_embeddings=EMB[[1, 2, 3]], gamma=5.0
    )
    close(
        got,
        [
            0.8226775527000427,
            0.9151531457901001,
            0.641147255897522,
            0.9151531457901001,
            6.105350494384766,
            5.842262268066406,
        ],
    )


def test_circle_class_matches_keras():
    close(Circle()(LABELS, EMB), 71.55133056640625)
    weights = np.array([1, 0, 2, 1, 1, 0.5])
    close(Circle(gamma=5.0)(LABELS, EMB, sample_weight=weights), 4.677659511566162)


def test_circle_leaves_zero_losses_out_of_the_mean_as_keras():
    # Label 1 has one member: no positive pair, loss 0, left out of the mean (5, not 6).
    labels = np.array([0, 1, 0, 2, 2, 0])
    close(Circle(gamma=5.0)(labels, EMB), 10.01640510559082)


def test_circle_gradient_is_finite_without_positives():
    embeddings = torch.tensor(EMB, requires_grad=True)
    Circle(gamma=5.0)(torch.tensor([0, 1, 0, 2, 2, 0]), embeddings).backward()
    assert torch.isfinite(embeddings.grad).all()


def test_circle_config_is_keras():
    assert Circle().get_config() == {
        "name": "circle",
        "reduction": "sum_over_batch_size",
        "gamma": 80.0,
        "margin": 0.4,
        "remove_diagonal": True,
    }
    assert Circle.from_config(Circle(gamma=3.0).get_config()).gamma == 3.0


def test_generalized_cross_entropy_function_matches_keras():
    close(
        categorical_generalized_cross_entropy(GCE_TRUE, GCE_PRED, q=0.5),
        [0.32667994499206543, 0.21114563941955566, 0.4508066177368164, 0.4508066177368164],
    )


def test_generalized_cross_entropy_class_matches_keras():
    close(CategoricalGeneralizedCrossEntropy()(GCE_TRUE, GCE_PRED), 0.3598597049713135)
    three = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    close(CategoricalGeneralizedCrossEntropy(q=0.3)(np.array([2, 0]), three), 0.4820402264595032)


def test_generalized_cross_entropy_takes_column_labels():
    # Keras 3.15.1 broadcasts (batch, 1) labels against every row (0.5724...); lamina reads
    # them as the (batch,) labels they are: (1 - p ** 0.7) / 0.7 weighted, over 4.
    p = np.array([0.7, 0.8, 0.6, 0.6])
    expected = float(np.sum((1 - p**0.7) / 0.7 * np.array([1.0, 2, 0, 1])) / 4)
    loss = CategoricalGeneralizedCrossEntropy(q=0.7)
    got = loss(GCE_TRUE[:, None], GCE_PRED, sample_weight=np.array([1.0, 2, 0, 1]))
    close(got, expected)


def test_generalized_cross_entropy_config_and_q_check():
    assert CategoricalGeneralizedCrossEntropy().get_config() == {
        "name": "categorical_generalized_cross_entropy",
        "reduction": "sum_over_batch_size",
        "q": 0.5,
    }
    with pytest.raises(ValueError, match=r"q must be in \(0, 1\)"):
        CategoricalGeneralizedCrossEntropy(q=1.0)
