"""Post-training quantization of Dense, EinsumDense and Embedding: stored tensors, outputs and
gradients against Keras 3.15.1 (literals from the same weights and inputs with
KERAS_BACKEND=torch), policies, whole models, saving and errors."""

import numpy as np
import pytest
import torch

import lamina
from lamina import quantizers
from lamina.layers._quantization import quantize_model
from lamina.layers.core import Dense, Input
from lamina.layers.einsum_dense import EinsumDense
from lamina.layers.embedding import Embedding


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def sine(*shape, k=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.7 + k) * 0.5).reshape(shape).astype("float32")


X = torch.tensor(sine(2, 3, k=2.0))
IDS = torch.tensor([[0, 4, 2], [1, 3, 3]])


def dense(units=4, **kwargs):
    layer = Dense(units, **kwargs)
    layer.build((None, 3))
    layer.set_weights([sine(3, units), sine(units, k=3.0) * 0.1])
    return layer


def embedding():
    layer = Embedding(5, 3)
    layer.build()
    layer.set_weights([sine(5, 3, k=6.0)])
    return layer


def close(actual, expected, rtol=1e-5, atol=1e-7):
    np.testing.assert_allclose(np.asarray(actual.detach()), expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- Dense


def test_dense_int8_stores_keras_tensors_and_policy():
    layer = dense()
    layer.quantize("int8")
    bias, kernel, scale = layer.get_weights()
    assert kernel.dtype == np.int8
    assert kernel.tolist() == [[127, 127, 87, 8], [-92, -125, -113, -72], [47, 109, 127, 127]]
    np.testing.assert_allclose(scale, [301.8523, 256.1349, 256.73203, 383.12476], rtol=1e-7)
    np.testing.assert_allclose(bias, sine(4, k=3.0) * 0.1)
    assert tuple(layer.weight.shape) == (4, 3)  # torch's (units, input_dim) layout
    assert layer.dtype_policy.name == "int8_from_float32"
    assert layer.quantization_mode == "int8"
    assert layer.get_config()["dtype"] == {  # Keras 3.15.1's entry
        "module": "keras.dtype_policies",
        "class_name": "QuantizedDTypePolicy",
        "config": {"mode": "int8", "source_name": "float32"},
        "registered_name": None,
    }
    assert [w._keras_name for w in layer.weights] == ["bias", "kernel", "kernel_scale"]
    assert [w._keras_name for w in layer.trainable_weights] == ["bias"]


def test_dense_int8_output_and_gradient_match_keras():
    layer = dense()
    layer.quantize("int8")
    inputs = X.clone().requires_grad_(True)
    outputs = layer(inputs)
    close(
        outputs,
        [
            [0.11280996, 0.03926841, -0.05180518, -0.11988395],
            [-0.06770461, -0.13586462, -0.14117783, -0.07820857],
        ],
    )
    outputs.sum().backward()
    close(inputs.grad, [[1.2763238, -1.420885, 1.4074262]] * 2)


def test_dense_int8_weight_only_and_custom_weight_quantizer():
    layer = dense()
    layer.quantize(config=quantizers.Int8QuantizationConfig(activation_quantizer=None))
    close(
        layer(X),
        [
            [0.11331889, 0.0402783, -0.05077171, -0.11930963],
            [-0.0682034, -0.13640365, -0.14150512, -0.07816805],
        ],
    )
    custom = quantizers.AbsMaxQuantizer(axis=0, value_range=(-100, 100))
    layer = dense()
    layer.quantize(config=quantizers.Int8QuantizationConfig(weight_quantizer=custom))
    assert layer.get_weights()[1].tolist() == [
        [100, 100, 68, 6],
        [-73, -99, -89, -56],
        [37, 86, 100, 100],
    ]
    close(
        layer(X),
        [
            [0.11230899, 0.03854553, -0.05296366, -0.11984153],
            [-0.06652135, -0.13474822, -0.14010283, -0.07894807],
        ],
    )


def test_dense_int4_per_channel_matches_keras():
    layer = dense(5)
    layer.quantize(config=quantizers.Int4QuantizationConfig(block_size=-1))
    assert layer.dtype_policy.name == "int4/-1_from_float32"
    _, kernel, scale = layer.get_weights()
    assert kernel.tolist() == [[118, 7, 12], [-87, 60, 6], [87, -112, 9]]
    np.testing.assert_allclose(
        scale, [14.150584, 14.117671, 20.726513, 22.397463, 14.272077], rtol=1e-7
    )
    close(
        layer(X),
        [
            [0.03091852, 0.06286773, 0.06472924, 0.02226452, 0.00184955],
            [-0.09454026, -0.14261058, -0.08963448, -0.00275258, 0.05506623],
        ],
    )


def test_dense_int4_sub_channel_matches_keras():
    layer = dense(5)
    layer.quantize(config=quantizers.Int4QuantizationConfig(block_size=2))
    assert layer.dtype_policy.name == "int4/2_from_float32"
    names = [w._keras_name for w in layer.weights]
    assert names == ["bias", "kernel", "kernel_scale", "kernel_zero", "g_idx"]
    _, kernel, scale, zero, g_idx = layer.get_weights()
    assert kernel.tolist() == [[119, -89, 8], [-120, 120, 7], [119, -121, 8]]
    np.testing.assert_allclose(
        scale,
        [
            [0.06063338, 0.06250399, 0.03497801, 0.0089987, 0.04874316],
            [0.03297861, 0.02209898, 0.00082585, 0.02083569, 0.03269788],
        ],
        rtol=1e-6,
        atol=1e-8,
    )
    assert zero.tolist() == [[0, -1, -3, -8, -2], [-8, -8, -8, 7, 7]]
    assert g_idx.tolist() == [0.0, 0.0, 1.0]
    close(
        layer(X),
        [
            [0.03316483, 0.06499775, 0.07249191, 0.03066855, 0.00021449],
            [-0.09950092, -0.13008714, -0.10794903, -0.01063238, 0.05094573],
        ],
    )


def test_dense_int4_default_is_sub_channel_128():
    layer = dense()
    layer.quantize("int4")
    assert layer.dtype_policy.name == "int4/128_from_float32"
    float_out = dense()(X)
    close(layer(X), float_out.detach().numpy(), rtol=0.2, atol=0.02)


def test_dense_float8_forward_and_delayed_scaling_match_keras():
    layer = dense()
    layer.quantize("float8")
    assert layer.dtype_policy.name == "float8_from_float32"
    assert layer.dtype_policy.amax_history_length == 1024
    assert [w._keras_name for w in layer.weights] == [
        "kernel",
        "bias",
        "inputs_scale",
        "inputs_amax_history",
        "kernel_scale",
        "kernel_amax_history",
        "outputs_grad_scale",
        "outputs_grad_amax_history",
    ]
    inputs = X * 3
    close(
        layer(inputs),
        [
            [0.31173706, 0.18444824, -0.03588867, -0.26293945],
            [-0.18826294, -0.33898926, -0.32104492, -0.13574219],
        ],
    )
    model = lamina.Sequential([Input((3,)), layer])
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    for _ in range(3):
        model.train_on_batch(inputs.numpy(), sine(2, 4, k=5.0))
    weights = layer.get_weights()
    np.testing.assert_allclose(
        weights[0],
        [
            [0.28940982, 0.3924754, 0.31578174, 0.08526627],
            [-0.40867555, -0.58144444, -0.47729173, -0.1528115],
            [0.12972789, 0.38766128, 0.46377495, 0.32071072],
        ],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        weights[1], [-0.00390591, -0.00888927, -0.01305862, -0.00888839], rtol=1e-5
    )
    scales = [weights[2], weights[4], weights[6]]
    np.testing.assert_allclose(scales, [0.00333537, 0.00116903, 3.4493548e-06], rtol=1e-5)
    np.testing.assert_allclose(weights[3][:2], [1.494247, 0.0], rtol=1e-6)
    np.testing.assert_allclose(weights[5][:2], [0.5539994, 0.0], rtol=1e-6)
    # the newest maximum first, the older ones rolled to the end
    np.testing.assert_allclose(weights[7][[0, -2, -1]], [0.15587753, 0.1977998, 0.18299115], 1e-6)
    close(
        layer(inputs),
        [
            [0.07295392, 0.035009, -0.07694529, -0.11372042],
            [0.14182854, -0.06480947, -0.11687261, -0.24348429],
        ],
    )


def test_einsum_dense_float8_matches_keras():
    layer = EinsumDense("abc,cd->abd", output_shape=(2, 4), bias_axes="d")
    layer.build((None, 2, 3))
    layer.set_weights([sine(3, 4), sine(4, k=3.0) * 0.1])
    layer.quantize("float8")
    assert layer.dtype_policy.name == "float8_from_float32"
    close(
        layer(torch.tensor(sine(2, 2, 3, k=4.0) * 2))[0],
        [
            [-0.10232544, -0.22961426, -0.24291992, -0.1328125],
            [-0.07888794, 0.03991699, 0.13793945, 0.17810059],
        ],
    )


# ---------------------------------------------------------------- EinsumDense

EINSUM_OUT = [
    [
        [
            [[0.00848069, -0.00072959, -0.00916307], [-0.01444699, -0.01197584, -0.00467898]],
            [[-0.18957052, -0.26616406, -0.21699993], [-0.06586106, 0.11669914, 0.24455367]],
            [[0.03752565, 0.18625416, 0.24636744], [0.191853, 0.04570029, -0.12132794]],
            [[0.00688234, -0.00390952, -0.01241782], [-0.01625513, -0.01147393, -0.00210619]],
        ],
        [
            [[-0.18738076, -0.2627828, -0.2140341], [-0.06467672, 0.11551272, 0.24157813]],
            [[0.04014476, 0.18860674, 0.2473487], [0.19099048, 0.04340397, -0.12398231]],
            [[0.00366694, -0.01027671, -0.01891996], [-0.01985245, -0.01044879, 0.00305331]],
            [[-0.18833886, -0.26183107, -0.21163343], [-0.06193564, 0.11728729, 0.24155894]],
        ],
    ]
][0]


def test_einsum_dense_int8_matches_keras():
    layer = EinsumDense("abc,cde->abde", output_shape=(4, 2, 3), bias_axes="de")
    layer.build((None, 4, 3))
    layer.set_weights([sine(3, 2, 3), sine(2, 3, k=5.0) * 0.1])
    layer.quantize("int8")
    assert layer.dtype_policy.name == "int8_from_float32"
    bias, kernel, scale = layer.get_weights()
    assert kernel.shape == (3, 2, 3) and kernel.dtype == np.int8
    assert kernel[:, 0].tolist() == [[121, 127, 87], [-127, -48, 40], [4, -80, -127]]
    assert scale.shape == (1, 1, 2, 3)
    np.testing.assert_allclose(
        scale[0, 0], [[287.50763, 256.1349, 258.93625], [290.1357, 256.73203, 259.8385]], 1e-7
    )
    close(layer(torch.tensor(sine(2, 4, 3, k=4.0))), EINSUM_OUT)


def test_einsum_dense_two_contracted_axes_output_and_gradient_match_keras():
    layer = EinsumDense("abcd,cde->abe", output_shape=(2, 5), bias_axes="e")
    layer.build((None, 2, 3, 4))
    layer.set_weights([sine(3, 4, 5, k=1.0), sine(5, k=2.0)])
    layer.quantize("int8")
    assert tuple(layer.kernel_scale.shape) == (1, 1, 5)
    np.testing.assert_allclose(
        layer.get_weights()[2], [[[256.10544, 256.1349, 257.36746, 258.11298, 255.5871]]], 1e-7
    )
    inputs = torch.tensor(sine(2, 2, 3, 4, k=9.0), requires_grad=True)
    outputs = layer(inputs)
    close(
        outputs,
        [
            [
                [0.40650406, 0.24901845, -0.02312937, -0.28615573, -0.41500264],
                [0.40184993, 0.10958453, -0.23766395, -0.47070217, -0.48684365],
            ],
            [
                [0.56093866, 0.28980654, -0.11651052, -0.46880263, -0.5955475],
                [0.39966482, 0.24015613, -0.03002667, -0.28771377, -0.41084668],
            ],
        ],
    )
    (outputs * torch.arange(20.0).reshape(2, 2, 5)).sum().backward()
    close(
        inputs.grad[0, 0],
        [
            [9.3038082e-03, 1.3566079e00, -2.5425591e00, 3.4088521e00],
            [-3.8465917e00, 3.7859030e00, -3.2584069e00, 2.3109117e00],
            [-1.0565715e00, -3.0210257e-01, 1.6483181e00, -2.7835565e00],
        ],
        rtol=1e-5,
        atol=1e-6,
    )


def test_einsum_dense_with_ellipsis_quantizes_near_float():
    # Keras 3.15.1 fails here (it reads the input rank as a shape); lamina quantizes.
    layer = EinsumDense("...b,bc->...c", output_shape=4)
    inputs = torch.tensor(sine(2, 5, 3, k=3.0))
    float_out = layer(inputs).detach()
    layer.quantize("int8")
    assert tuple(layer.kernel_scale.shape) == (1, 1, 4)
    close(layer(inputs), float_out.numpy(), rtol=0.05, atol=0.01)


# ---------------------------------------------------------------- Embedding


def test_embedding_int8_matches_keras():
    layer = embedding()
    layer.quantize("int8")
    table, scale = layer.get_weights()
    assert table.tolist() == [
        [-39, 57, 127],
        [127, 77, -10],
        [-89, -127, -105],
        [-37, 59, 127],
        [127, 75, -12],
    ]
    np.testing.assert_allclose(
        scale, [282.62787, 261.88538, 255.16446, 280.36716, 263.03308], rtol=1e-7
    )
    close(
        layer(IDS),
        [
            [
                [-0.13799064, 0.20167862, 0.44935414],
                [0.482829, 0.28513524, -0.04562164],
                [-0.34879467, -0.49771821, -0.41149932],
            ],
            [
                [0.484945, 0.29402176, -0.03818464],
                [-0.13196981, 0.21043834, 0.45297745],
                [-0.13196981, 0.21043834, 0.45297745],
            ],
        ],
    )


def test_embedding_int4_per_channel_and_sub_channel_match_keras():
    layer = embedding()
    layer.quantize(config=quantizers.Int4QuantizationConfig(block_size=-1))
    assert layer.get_weights()[0].tolist() == [[62, 7], [71, 15], [-101, 10], [62, 7], [71, 15]]
    close(
        layer(IDS)[0],
        [
            [-0.1283869, 0.19258036, 0.44935414],
            [0.48282897, 0.27590227, -0.06897557],
            [-0.355513, -0.49771821, -0.4266156],
        ],
    )
    layer = embedding()
    layer.quantize(config=quantizers.Int4QuantizationConfig(block_size=2))
    names = [w._keras_name for w in layer.weights]
    assert names == ["embeddings", "embeddings_scale", "embeddings_zero", "g_idx"]
    table, scale, zero, g_idx = layer.get_weights()
    assert table.tolist() == [[120, 7], [119, 8], [-120, 8], [120, 7], [119, 8]]
    np.testing.assert_allclose(scale[0], [0.02280885, 0.02995694], rtol=1e-6)
    assert zero.tolist() == [[-2, -8], [-8, 7], [7, 7], [-2, -8], [-8, 7]]
    assert g_idx.tolist() == [0.0, 0.0, 1.0]
    close(
        layer(IDS)[1],
        [
            [0.19248642, 0.19248642, -0.03757566],
            [-0.1366798, 0.20501971, 0.45297745],
            [-0.1366798, 0.20501971, 0.45297745],
        ],
    )


# ---------------------------------------------------------------- models and saving


def small_model():
    inputs = Input((3,))
    hidden = Dense(4, activation="relu", name="d1")(inputs)
    model = lamina.Model(inputs, Dense(2, name="d2")(hidden))
    model.set_weights([sine(3, 4), sine(4, k=3.0) * 0.1, sine(4, 2, k=7.0), sine(2, k=8.0) * 0.1])
    return model


def test_quantize_model_matches_keras():
    model = small_model()
    quantize_model(model, "int8")
    close(model(X), [[0.10315754, 0.0951203], [0.04946791, 0.03314846]])
    assert [layer.dtype_policy.name for layer in model.layers] == [
        "float32",  # the InputLayer, as in Keras
        "int8_from_float32",
        "int8_from_float32",
    ]
    assert [w.dtype for w in model.get_weights()] == [np.float32, np.int8, np.float32] * 2


def test_quantize_model_filters_and_warns_for_other_weighted_layers():
    model = small_model()
    quantize_model(model, "int8", filters="d2")
    assert model.get_layer("d1").quantization_mode is None
    assert model.get_layer("d2").quantization_mode == "int8"
    inputs = Input((3, 2))
    outputs = lamina.layers.LayerNormalization()(Dense(2)(inputs))
    with pytest.warns(UserWarning, match="LayerNormalization does not have a `quantize`"):
        quantize_model(lamina.Model(inputs, outputs), "int8")
    with pytest.raises(ValueError, match="`filters` argument must be"):
        quantize_model(small_model(), "int8", filters=3)


def test_quantized_layers_build_from_their_config():
    layer = Dense(4, dtype="int8_from_float32")
    layer.build((None, 3))
    assert layer.weight.dtype == torch.int8
    assert [w._keras_name for w in layer.weights] == ["bias", "kernel", "kernel_scale"]
    keras_policy = {
        "module": "keras.dtype_policies",
        "class_name": "Int4DTypePolicy",
        "config": {"mode": "int4/2", "source_name": "float32"},
        "registered_name": None,
    }
    layer = Embedding(5, 3, dtype=keras_policy)
    layer.build()
    assert layer.dtype_policy.name == "int4/2_from_float32"
    assert tuple(layer.embeddings_zero.shape) == (5, 2)


def test_quantized_model_saves_and_loads(tmp_path):
    inputs = Input((3,), dtype="int32")
    hidden = Embedding(6, 4, name="emb")(inputs)
    hidden = EinsumDense("abc,cd->abd", output_shape=(3, 5), bias_axes="d", name="ein")(hidden)
    model = lamina.Model(inputs, Dense(2, name="out")(hidden))
    model.set_weights([sine(*w.shape, k=float(i)) for i, w in enumerate(model.get_weights())])
    ids = torch.tensor([[0, 5, 2], [1, 3, 4]])
    quantize_model(model, "int8")
    expected = model(ids).detach()
    model.save(tmp_path / "model.keras")
    loaded = lamina.saving.load_model(tmp_path / "model.keras")
    assert [layer.dtype_policy.name for layer in loaded.layers][1:] == ["int8_from_float32"] * 3
    assert loaded.get_layer("ein").kernel.dtype == torch.int8
    torch.testing.assert_close(loaded(ids), expected)
    for saved, again in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, again)
    model.save_weights(tmp_path / "model.weights.h5")
    again = lamina.models.clone_model(loaded)
    again.load_weights(tmp_path / "model.weights.h5")
    torch.testing.assert_close(again(ids), expected)


def test_bias_still_trains_after_quantization():
    model = lamina.Sequential([Input((3,)), Dense(2)])
    model.layers[0].quantize("int8")
    kernel = model.layers[0].weight.clone()
    model.compile("sgd", "mse")
    history = model.fit(
        np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=2, verbose=0
    )
    assert history.history["loss"][1] < history.history["loss"][0]
    assert torch.equal(model.layers[0].weight, kernel)


# ---------------------------------------------------------------- errors


def test_quantize_errors_name_the_layer_and_the_problem():
    with pytest.raises(ValueError, match="'dense' .*is not built yet"):
        Dense(3, name="dense").quantize("int8")
    layer = dense()
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized with dtype_policy='int8_from_float32'"):
        layer.quantize("int8")
    with pytest.raises(ValueError, match="Invalid quantization mode"):
        dense().quantize("int2")
    with pytest.raises(ValueError, match="Contradictory arguments"):
        dense().quantize("int4", config=quantizers.Int8QuantizationConfig())
    with pytest.raises(ValueError, match="GPTQConfig"):
        dense().quantize("gptq")
    with pytest.raises(NotImplementedError, match="'float8' is not supported by lamina"):
        embedding().quantize("float8")
    layer = EinsumDense("ab,bc->ac", output_shape=2)
    layer.build((None, 3))
    with pytest.raises(NotImplementedError, match="EinsumDense 'einsum_dense'.*'int4'"):
        layer.quantize("int4")

    class MyDense(Dense):
        pass

    custom = MyDense(2)
    custom.build((None, 3))
    with pytest.raises(NotImplementedError, match="MyDense does not have a `quantize`"):
        custom.quantize("int8")
    custom.quantize("int8", type_check=False)
    assert custom.quantization_mode == "int8"
    with pytest.raises(ValueError, match="compute_dtype='float16'"):
        dense(dtype="float16").quantize("int8")
