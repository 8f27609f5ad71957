"""Argument checks and dtypes of nn, linalg and math ops, against Keras 3.15.1 (torch backend):
Keras' ValueErrors where torch would raise its own errors, grouped-query attention, vector
right-hand sides of solve_triangular, float32 CTC results. Values printed by Keras 3.15.1."""

import numpy as np
import pytest
import torch

import lamina
from lamina import ops

X = np.zeros((1, 5, 5, 3), "float32")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ops.conv(X, np.zeros((3, 3, 5, 4), "float32")), r"Input channels \(3\) must be"),
        (lambda: ops.depthwise_conv(X, np.zeros((3, 3, 4, 2), "float32")), "input channels=3"),
        (lambda: ops.conv_transpose(X, np.zeros((3, 3, 5, 4), "float32")), "input channels=3"),
        (lambda: ops.det(np.zeros((2, 3), "float32")), "Expected a square matrix"),
        (lambda: ops.svd(np.zeros(3, "float32")), "rank >= 2"),
        (lambda: ops.solve(np.eye(3), np.zeros((4, 2))), r"a.shape\[-2\] == b.shape\[-2\]"),
        (lambda: ops.cholesky(-np.eye(2, dtype="float32")), "Cholesky decomposition failed"),
        (lambda: ops.segment_sum(np.ones((6, 3)), np.zeros(4, "int32")), "same leading"),
        (lambda: ops.dot_product_attention(X, X, X, bias=X, mask=X > 0), "Only one of"),
    ],
)
def test_bad_arguments_raise_keras_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grouped_convolution_still_runs():
    out = ops.conv(np.ones((1, 4, 4, 4), "float32"), np.ones((1, 1, 2, 6), "float32"))
    assert tuple(out.shape) == (1, 4, 4, 6) and out[0, 0, 0].tolist() == [2.0] * 6


def test_grouped_query_attention_shares_each_key_head_with_a_group():
    q = (np.arange(16).reshape(1, 2, 4, 2) % 5 / 5).astype("float32")
    k = (np.arange(12).reshape(1, 3, 2, 2) % 7 / 7).astype("float32")
    v = (np.arange(12).reshape(1, 3, 2, 2) % 3 - 1).astype("float32")
    keras = [
        0.00657368, 0.02053703, 0.02949168, 0.10865185, -0.11010782, 0.02428526, 0.0131003,
        0.0206702, 0.03882619, 0.15558703, 0.00657368, 0.02053703, 0.00648037, 0.03444052,
        -0.11010782, 0.02428526,
    ]  # fmt: skip
    out = ops.dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.numpy().ravel(), keras, rtol=1e-5, atol=1e-6)
    mixed = ops.dot_product_attention(q[:, :, :2].astype("float16"), k, v)
    assert mixed.dtype == torch.float32  # promoted, as Keras


def test_solve_triangular_takes_a_vector():
    t = np.array([[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [-1.0, 2.0, 4.0]], "float32")
    b = np.array([2.0, 5.0, 3.0], "float32")
    np.testing.assert_allclose(ops.solve_triangular(t, b, lower=True), [1.0, 4 / 3, 1 / 3])
    np.testing.assert_allclose(ops.solve_triangular(t.T, b), [0.7916667, 1.1666666, 0.75])


def test_ctc_results_are_float32_for_float64_inputs():
    logits = (np.arange(24).reshape(2, 4, 3) % 5 / 2).astype("float64")
    loss = ops.ctc_loss(np.array([[1, 2], [2, 0]]), logits, np.array([2, 1]), np.array([4, 3]))
    assert loss.dtype == torch.float32
    np.testing.assert_allclose(loss, [1.5066, 1.6874], atol=1e-4)
    _, scores = ops.ctc_decode(logits, np.array([4, 3]))
    assert scores.dtype == torch.float32


def test_image_ops_record_graph_nodes_with_keras_names():
    lamina.backend.clear_session()
    inputs = lamina.Input((6, 8, 3))
    resized = ops.image.resize(ops.image.rgb_to_grayscale(inputs), (3, 4))
    values = ops.svd(ops.reshape(resized, (-1, 3, 4)), compute_uv=False)
    model = lamina.Model(inputs, [resized, values])
    assert tuple(resized.shape) == (None, 3, 4, 1) and tuple(values.shape) == (None, 3)
    entries = [(e["module"], e["class_name"]) for e in model.get_config()["layers"][1:]]
    assert entries == [
        ("keras.src.ops.image", "RGBToGrayscale"),
        ("keras.src.ops.image", "Resize"),
        ("keras.src.ops.numpy", "Reshape"),
        ("keras.src.ops.linalg", "SVD"),
    ]
    again = lamina.Model.from_config(model.get_config())
    x = np.random.default_rng(0).normal(size=(2, 6, 8, 3)).astype("float32")
    for a, b in zip(model.predict(x, verbose=0), again.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(a, b)


def test_keras_op_classes_with_acronyms_load():
    from lamina.layers._operation import OperationLayer

    assert OperationLayer.from_keras_operation("CTCDecode", {}).operation == "ctc_decode"
    assert OperationLayer.from_keras_operation("RMSNorm", {}).operation == "rms_normalization"
    config = {"name": "resize", "size": [2, 2]}
    image = OperationLayer.from_keras_operation("Resize", config, "keras.src.ops.image")
    assert image.operation == "image.resize" and image.arguments == {"size": [2, 2]}
    assert tuple(image(np.ones((1, 4, 4, 1), "float32")).shape) == (1, 2, 2, 1)
