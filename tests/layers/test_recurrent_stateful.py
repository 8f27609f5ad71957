"""stateful=True for SimpleRNN, LSTM, GRU, Bidirectional and RNN, against Keras 3.

Reference values are Keras 3.15 (torch backend), made by /work/scratch/stateful/make_refs.py:
every model gets `det` weights (uniform in [-0.5, 0.5) from default_rng(0), in get_weights()
order) and runs on the arrays below; tensors are stored flattened, to 7 significant digits.
Keras' own fused LSTM / GRU fail a stateful fit on torch, so its fits use use_cudnn=False
(the same arithmetic).
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers

X = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
XF = np.random.default_rng(2).normal(size=(4, 3, 3)).astype("float32")
YF = np.random.default_rng(3).normal(size=(4, 1)).astype("float32")
H0 = np.random.default_rng(4).normal(size=(2, 2, 2)).astype("float32")
CLASSES = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}

REFS = {
    "SimpleRNN_predict": [
        [0.04582694, -0.6700358, 0.6258478, 0.6196154],
        [0.2749167, -0.7477601, 0.5137728, -0.7781159],
        [0.2749167, -0.7477601, 0.5137728, -0.7781159],
    ],
    "LSTM_predict": [
        [-0.09730191, -0.1523806, -0.1211935, -0.1331265],
        [-0.002249993, 0.1686588, 0.1599834, 0.1766911],
        [-0.002249993, 0.1686588, 0.1599834, 0.1766911],
        [-0.005111739, 0.316029, 0.2903732, 0.2967713],
    ],
    "GRU_predict": [
        [0.1666347, -0.534838, -0.5196431, -0.4572468],
        [-0.006874286, -0.2655953, 0.192486, 0.2696871],
        [-0.006874286, -0.2655953, 0.192486, 0.2696871],
    ],
    "lr0_loss": [[3.065879, 3.065951, 3.065902]],
    "lr0_states": [
        [-0.3390482, -0.2295169, -0.04578939, 0.1754325],
        [-0.7557839, -0.5091081, -0.09400014, 0.3225625],
    ],
    "SimpleRNN_fit_loss": [[3.186742, 2.755313]],
    "SimpleRNN_fit_states": [[0.5782554, 0.01390774, 0.2539005, -0.4111517]],
    "SimpleRNN_fit_kernel": [
        [0.07472433, -0.1589024, -0.4942352, -0.5238072, 0.4714679, 0.3150169]
    ],
    "LSTM_fit_loss": [[3.017306, 2.843225]],
    "LSTM_fit_states": [
        [-0.3501115, -0.2234458, -0.02986866, 0.1621104],
        [-0.7734284, -0.5083032, -0.06095476, 0.2995777],
    ],
    "LSTM_fit_kernel": [
        [
            0.1231471,
            -0.2202668,
            -0.4650852,
            -0.4839729,
            0.3464631,
            0.411171,
            0.09904028,
            0.238038,
            0.06993845,
            0.4267274,
            0.3172103,
            -0.5032839,
            0.3408209,
            -0.4709657,
            0.2409322,
            -0.341674,
            0.3626468,
            0.03586135,
            -0.1927082,
            -0.07740813,
            -0.5001352,
            -0.3520596,
            0.1808886,
            0.1439237,
        ]
    ],
    "eval_loss": [[2.747825]],
    "eval_states": [
        [-0.3507387, -0.2229618, -0.02109754, 0.1596128],
        [-0.7686943, -0.5086655, -0.04301191, 0.295034],
    ],
    "GRU_fit_loss": [[2.701632, 2.629543]],
    "GRU_fit_states": [[0.3850823, -0.5139401, -0.007748544, -0.06661837]],
    "GRU_fit_kernel": [
        [
            0.1499812,
            -0.2079431,
            -0.4590611,
            -0.4837685,
            0.289271,
            0.416663,
            0.1030233,
            0.2197706,
            0.04358624,
            0.4361157,
            0.3336003,
            -0.5164255,
            0.3546047,
            -0.492282,
            0.2300208,
            -0.3243219,
            0.3972755,
            0.03541081,
        ]
    ],
    "tob_loss": [[5.219403, 0.18386]],
    "tob_states": [[0.3605732, -0.5047008, -0.001160204, -0.08144122]],
    "predict_fit_loss": [[3.014174]],
    "predict_fit_states": [
        [-0.3441581, -0.2256444, -0.04151389, 0.1697558],
        [-0.7641033, -0.506976, -0.08497201, 0.3130927],
    ],
    "load": [[0.2779862, 0.3226946], [0.2830043, 0.3287567]],
    "SimpleRNN_backwards": [
        [
            0.2525378,
            -0.8055947,
            0.1297833,
            -0.6294414,
            0.4626997,
            -0.5350006,
            0.485697,
            -0.7761478,
            0.768234,
            -0.6800774,
            0.2731783,
            -0.4878487,
        ],
        [0.4626997, -0.5350006, 0.2731783, -0.4878487],
    ],
    "LSTM_backwards": [
        [
            0.03193083,
            0.09895197,
            -0.01004702,
            0.1311849,
            -0.07569443,
            0.1443529,
            0.0721736,
            0.1265087,
            0.08897392,
            0.2099749,
            -0.0005818658,
            0.1023592,
        ],
        [-0.07569443, 0.1443529, -0.0005818658, 0.1023592],
        [-0.1595789, 0.2633284, -0.001240425, 0.213221],
    ],
    "GRU_backwards": [
        [
            0.1885009,
            -0.309451,
            -0.1264475,
            -0.3736412,
            0.04742669,
            -0.2688,
            0.09037013,
            -0.04233553,
            0.1476077,
            0.4564511,
            0.1488342,
            0.05107963,
        ],
        [0.04742669, -0.2688, 0.1488342, 0.05107963],
    ],
    "mask": [
        [
            0.1973796,
            -0.2172891,
            0.1563173,
            -0.4459165,
            0.1666347,
            -0.534838,
            -0.1220188,
            -0.1822679,
            0.1342586,
            -0.450312,
            -0.5196431,
            -0.4572468,
        ],
        [
            0.2288413,
            -0.3408295,
            -0.1099069,
            -0.3937342,
            -0.006874286,
            -0.2655953,
            -0.3031555,
            -0.5015146,
            -0.3031555,
            -0.5015146,
            -0.3031555,
            -0.5015146,
        ],
        [-0.006874286, -0.2655953, -0.3031555, -0.5015146],
    ],
    "initial": [
        [-0.2230348, -0.1729296, -0.1437527, -0.09525762],
        [-0.2230348, -0.1729296, -0.1437527, -0.09525762],
        [-0.566798, -0.3770296, -0.6699046, -0.1807587],
        [-0.02264819, 0.1643574, 0.1564243, 0.1788765],
    ],
    "bidirectional": [
        [
            -0.09730191,
            -0.1523806,
            -0.227661,
            0.01317285,
            -0.1211935,
            -0.1331265,
            -0.3535552,
            0.09868375,
        ],
        [
            -0.002249993,
            0.1686588,
            -0.2746094,
            0.1124485,
            0.1599834,
            0.1766911,
            -0.21409,
            -0.07521801,
        ],
        [-0.002249993, 0.1686588, 0.1599834, 0.1766911],
        [-0.005111739, 0.316029, 0.2903732, 0.2967713],
        [-0.2746094, 0.1124485, -0.21409, -0.07521801],
        [-0.4972789, 0.1704057, -0.373313, -0.1146157],
    ],
    "rnn_cell": [
        [0.1666347, -0.534838, -0.5196431, -0.4572468],
        [-0.006874286, -0.2655953, 0.192486, 0.2696871],
    ],
}


def det(model):
    rng = np.random.default_rng(0)
    model.set_weights(
        [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in model.get_weights()]
    )
    return model


def check(name, tensors, atol=1e-5):
    """Compare tensors (or arrays) with REFS[name], each flattened."""
    expected = REFS[name]
    assert len(tensors) == len(expected)
    for got, want in zip(tensors, expected, strict=True):
        got = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
        np.testing.assert_allclose(got.ravel(), want, atol=atol, rtol=1e-5)


def sequential(cls, batch_shape=(2, 3, 3), dense=True, **kwargs):
    items = [lamina.Input(batch_shape=batch_shape), cls(2, stateful=True, name="r", **kwargs)]
    return det(lamina.Sequential(items + ([layers.Dense(1)] if dense else [])))


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_predict_keeps_states_for_the_next_call(name):
    model = sequential(CLASSES[name], dense=False)
    layer = model.get_layer("r")
    count = 2 if name == "LSTM" else 1
    assert [tuple(s.shape) for s in layer.states] == [(2, 2)] * count  # zeros, from build
    assert all(not s.any() for s in layer.states)
    first = model.predict(X[:, :3], verbose=0)
    second = model.predict(X[:, 3:], verbose=0)
    check(f"{name}_predict", [first, second, *layer.states])
    # the same as one pass over the whole sequence
    whole = det(lamina.Sequential([lamina.Input(batch_shape=(2, 6, 3)), CLASSES[name](2)]))
    np.testing.assert_allclose(second, whole.predict(X, verbose=0), atol=1e-6)
    layer.reset_states()
    assert all(not s.any() for s in layer.states)
    np.testing.assert_allclose(model.predict(X[:, :3], verbose=0), first, atol=1e-6)
    assert layer.get_config()["stateful"] is True
    assert len(model.weights) == 3  # the states are not weights (nor saved), as in Keras
    assert not any(key.endswith("state") for key in model.state_dict())


def test_states_match_a_hand_unrolled_simple_rnn():
    model = sequential(layers.SimpleRNN, dense=False)
    kernel, recurrent, bias = model.get_weights()
    h = np.zeros((2, 2), "float32")
    for chunk in (X[:, :3], X[:, 3:]):
        model.predict(chunk, verbose=0)
        for t in range(3):
            h = np.tanh(chunk[:, t] @ kernel + h @ recurrent + bias)
        np.testing.assert_allclose(model.get_layer("r").states[0].numpy(), h, atol=1e-6)


def test_lstm_states_match_a_hand_unrolled_lstm():
    model = sequential(layers.LSTM, dense=False)
    kernel, recurrent, bias = model.get_weights()
    h, c = np.zeros((2, 2), "float32"), np.zeros((2, 2), "float32")

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    for chunk in (X[:, :3], X[:, 3:]):
        model.predict(chunk, verbose=0)
        for t in range(3):
            i, f, g, o = np.split(chunk[:, t] @ kernel + h @ recurrent + bias, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
    states = [s.numpy() for s in model.get_layer("r").states]
    np.testing.assert_allclose(states[0], h, atol=1e-6)
    np.testing.assert_allclose(states[1], c, atol=1e-6)


def test_a_batch_of_another_size_raises_naming_the_layer_and_shapes():
    model = sequential(layers.LSTM, dense=False)
    message = r"LSTM 'r' is stateful with states for batches of 2; got inputs of shape \(1, 3, 3\)"
    with pytest.raises(ValueError, match=message):
        model.get_layer("r")(torch.from_numpy(X[:1, :3]))
    with pytest.raises(ValueError, match="batches of 2"):  # a last batch of 1
        model.predict(np.concatenate([X, X[:1]])[:, :3], batch_size=2, verbose=0)


def test_fit_carries_states_across_batches_and_epochs():
    # Keras 3 does not reset the states between epochs: with lr=0 the losses still differ.
    model = sequential(layers.LSTM)
    model.compile(lamina.optimizers.SGD(0.0), "mse")
    history = model.fit(XF, YF, batch_size=2, epochs=3, shuffle=False, verbose=0)
    check("lr0_loss", [history.history["loss"]])
    check("lr0_states", model.get_layer("r").states)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_fit_matches_keras(name):
    model = sequential(CLASSES[name])
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    history = model.fit(XF, YF, batch_size=2, epochs=2, shuffle=False, verbose=0)
    check(f"{name}_fit_loss", [history.history["loss"]])
    check(f"{name}_fit_states", model.get_layer("r").states)
    check(f"{name}_fit_kernel", [model.get_weights()[0]])
    if name == "LSTM":
        check("eval_loss", [[model.evaluate(XF, YF, batch_size=2, verbose=0)]])
        check("eval_states", model.get_layer("r").states)


def test_train_on_batch_and_fit_after_predict_continue_the_states():
    model = sequential(layers.GRU)
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    losses = [model.train_on_batch(XF[:2], YF[:2]), model.train_on_batch(XF[2:], YF[2:])]
    check("tob_loss", [losses])
    check("tob_states", model.get_layer("r").states)
    model = sequential(layers.LSTM)
    model.compile(lamina.optimizers.SGD(0.1), "mse")
    model.predict(XF[2:], verbose=0)  # states made in inference mode, then trained from
    history = model.fit(XF, YF, batch_size=2, epochs=1, shuffle=False, verbose=0)
    check("predict_fit_loss", [history.history["loss"]])
    check("predict_fit_states", model.get_layer("r").states)


def test_gradients_do_not_flow_through_kept_states():
    layer = layers.LSTM(2, stateful=True)
    first, second = torch.from_numpy(X[:, :3]), torch.from_numpy(X[:, 3:])
    layer(first, training=True)
    kept = [s.clone() for s in layer.states]
    assert not any(s.requires_grad for s in layer.states)
    layer(second, training=True).sum().backward()
    reference = layers.LSTM(2)
    reference.build((None, 3, 3))
    reference.set_weights(layer.get_weights())
    reference(second, initial_state=kept).sum().backward()
    for got, want in zip(layer.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(got.grad, want.grad)


def test_saved_model_keeps_stateful_but_not_the_states(tmp_path):
    model = sequential(layers.LSTM)
    model.predict(XF[:2], verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    layer = loaded.get_layer("r")
    assert layer.stateful and all(not s.any() for s in layer.states)
    check("load", [loaded.predict(XF[:2], verbose=0), model.predict(XF[:2], verbose=0)])


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_go_backwards_sequences_and_returned_states(name):
    inputs = lamina.Input(batch_shape=(2, 3, 3))
    layer = CLASSES[name](
        2, stateful=True, go_backwards=True, return_sequences=True, return_state=True
    )
    model = det(lamina.Model(inputs, layer(inputs)))
    model.predict(X[:, :3], verbose=0)
    outputs = model.predict(X[:, 3:], verbose=0)
    check(f"{name}_backwards", outputs)
    for kept, returned in zip(layer.states, outputs[1:], strict=True):
        np.testing.assert_allclose(kept.numpy(), returned, atol=1e-6)


def test_masked_steps_keep_the_states():
    masked = X.copy()
    masked[1, 4:] = 0.0
    inputs = lamina.Input(batch_shape=(2, 3, 3))
    layer = layers.GRU(2, stateful=True, return_sequences=True)
    model = det(lamina.Model(inputs, layer(layers.Masking(0.0)(inputs))))
    outputs = [model.predict(masked[:, :3], verbose=0), model.predict(masked[:, 3:], verbose=0)]
    check("mask", [*outputs, *layer.states])


def test_an_explicit_initial_state_is_used_and_the_final_states_kept():
    layer = layers.LSTM(2, stateful=True)
    inputs = lamina.Input(batch_shape=(2, 3, 3))
    det(lamina.Model(inputs, layer(inputs)))
    with torch.no_grad():
        first = layer(torch.from_numpy(X[:, :3]), initial_state=[H0[0], H0[1]])
        kept = list(layer.states)
        second = layer(torch.from_numpy(X[:, 3:]))
    check("initial", [first, *kept, second])


def test_bidirectional_keeps_both_directions_states():
    inputs = lamina.Input(batch_shape=(2, 3, 3))
    wrapper = layers.Bidirectional(layers.LSTM(2, stateful=True))
    model = det(lamina.Model(inputs, wrapper(inputs)))
    assert wrapper.stateful and len(wrapper.states) == 4
    outputs = [model.predict(X[:, :3], verbose=0), model.predict(X[:, 3:], verbose=0)]
    check("bidirectional", [*outputs, *wrapper.states])
    wrapper.reset_state()
    assert all(not s.any() for s in wrapper.states)
    np.testing.assert_allclose(model.predict(X[:, :3], verbose=0), outputs[0], atol=1e-6)
    plain = layers.Bidirectional(layers.LSTM(2))
    assert plain.states is None
    with pytest.raises(AttributeError, match="needs stateful=True"):
        plain.reset_state()
    with pytest.raises(ValueError, match="same stateful"):
        layers.Bidirectional(
            layers.LSTM(2), backward_layer=layers.LSTM(2, stateful=True, go_backwards=True)
        )


def test_generic_rnn_is_built_with_states_of_the_input_batch():
    inputs = lamina.Input(batch_shape=(2, 3, 3))
    layer = layers.RNN(layers.GRUCell(2), stateful=True)
    model = det(lamina.Model(inputs, layer(inputs)))
    assert [tuple(s.shape) for s in layer.states] == [(2, 2)]
    check("rnn_cell", [model.predict(X[:, :3], verbose=0), model.predict(X[:, 3:], verbose=0)])


def test_layers_that_are_not_stateful_have_no_states():
    layer = layers.GRU(2)
    layer(torch.from_numpy(X))
    assert layer.states is None and layer.stateful is False
    layer.reset_state()  # nothing to reset, as in Keras
    assert not hasattr(lamina.Model, "reset_states")  # Keras 3: per layer only


def test_a_sequential_without_input_fixes_the_batch_at_its_first_call():
    model = lamina.Sequential([layers.LSTM(2, stateful=True, name="r")])
    first = model.predict(X, verbose=0)
    states = model.get_layer("r").states
    assert [tuple(s.shape) for s in states] == [(2, 2), (2, 2)]
    np.testing.assert_allclose(states[0].numpy(), first, atol=1e-6)
    assert not np.allclose(model.predict(X, verbose=0), first)


def test_fit_with_unknown_timesteps_probes_without_touching_the_states():
    # The trainer runs two samples to check the targets: not a batch of the layer's size.
    model = sequential(layers.LSTM, batch_shape=(4, None, 3))
    model.compile(lamina.optimizers.SGD(0.0), "mse")
    model.fit(XF, YF, batch_size=4, epochs=1, shuffle=False, verbose=0)
    reference = layers.LSTM(2, return_state=True)
    reference.build((None, 3, 3))
    reference.set_weights(model.get_layer("r").get_weights())
    with torch.no_grad():
        _, h, c = reference(torch.from_numpy(XF))
    kept = model.get_layer("r").states
    torch.testing.assert_close(kept[0].cpu(), h)
    torch.testing.assert_close(kept[1].cpu(), c)
