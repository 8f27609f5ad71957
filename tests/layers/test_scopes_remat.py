"""name_scope and variable paths, RematScope / remat, and stateless_call, against Keras 3.15.1.

Reference values: the same programs run with Keras 3.15.1 (torch backend).
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


def test_variable_paths_follow_keras_scopes():
    lamina.clear_session()

    class M(lamina.Model):
        def __init__(self):
            super().__init__(name="m")
            self.d = layers.Dense(2)
            self.bn = layers.BatchNormalization()

        def call(self, x):
            return self.bn(self.d(x))

    m = M()
    m(torch.ones(1, 3))
    assert [w.path for w in m.weights] == [
        "m/dense/kernel",
        "m/dense/bias",
        "m/batch_normalization/gamma",
        "m/batch_normalization/beta",
        "m/batch_normalization/moving_mean",
        "m/batch_normalization/moving_variance",
    ]
    inp = lamina.Input((3,))
    inner = lamina.Sequential([layers.Dense(4), layers.Dense(2)], name="inner")
    f = lamina.Model(inp, inner(inp))
    assert [w.path for w in f.weights] == [
        "inner/dense_1/kernel",
        "inner/dense_1/bias",
        "inner/dense_2/kernel",
        "inner/dense_2/bias",
    ]
    s = lamina.Sequential([lamina.Input((3,)), layers.Dense(4)])
    assert [w.path for w in s.weights] == ["sequential/dense_3/kernel", "sequential/dense_3/bias"]
    s1 = lamina.Sequential([layers.Dense(4)])
    s1(torch.ones(1, 3))
    assert s1.weights[0].path == "sequential_1/dense_4/kernel"
    assert s1.layers[0].path == "sequential_1/dense_4"
    inp = lamina.Input((3,))
    f2 = lamina.Model(inp, layers.Dense(2)(inp))
    assert f2.weights[0].path == "dense_5/kernel"


def test_name_scope_rules():
    with lamina.name_scope("a"), lamina.name_scope("a"):
        v = lamina.Variable(1.0, name="x")
    assert v.path == "a/a/x"  # no caller: not deduplicated
    with lamina.name_scope("a"), lamina.name_scope("b", override_parent="z"):
        w = lamina.Variable(1.0, name="x")
    assert w.path == "z/b/x"

    class L(layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(2,), name="w")
            with lamina.name_scope("sub"):
                self.u = self.add_weight(shape=(2,), name="u")

        def call(self, x):
            return x

    layer = L(name="ll")
    layer.build((1,))
    assert (layer.w.path, layer.u.path) == ("ll/w", "ll/u")
    with pytest.raises(ValueError, match="without '/'"):
        lamina.name_scope("a/b")


def test_build_on_a_layer_without_build_marks_it_built():
    class L(layers.Layer):
        def call(self, x):
            self.add_loss(x.sum())
            return x

    layer = L()
    layer.build((None, 3))
    assert layer.built
    x = np.arange(12, dtype="float32").reshape(4, 3)
    _, _, losses = layer.stateless_call([], [], torch.as_tensor(x), return_losses=True)
    assert [float(t) for t in losses] == [66.0] and layer.losses == []


def test_stateless_call_matches_keras_batch_norm():
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    trainable = [np.full((3,), 2.0, "float32"), np.full((3,), 0.5, "float32")]
    other = [np.full((3,), 1.0, "float32"), np.full((3,), 3.0, "float32")]
    out, new = bn.stateless_call(trainable, other, x, training=True)
    expected = [-2.18316, -0.39439, 1.39439, 3.18316]  # Keras 3.15.1, each row constant
    np.testing.assert_allclose(out[:, 0].detach().numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(new[0].numpy(), [1.035, 1.045, 1.055], atol=1e-6)
    np.testing.assert_allclose(new[1].numpy(), [3.0825] * 3, atol=1e-6)
    # the layer's own variables are untouched
    assert bn.moving_mean.tolist() == [0.0] * 3 and bn.gamma.tolist() == [1.0] * 3
    with pytest.raises(ValueError, match="got 1 trainable_variables; the layer has 2"):
        bn.stateless_call(trainable[:1], other, x)


def test_stateless_call_gradients_reach_the_given_values():
    dense = layers.Dense(2, activity_regularizer="l2")
    dense.build((None, 3))
    kernel = torch.ones(2, 3, requires_grad=True)  # torch layout (out, in)
    bias = torch.zeros(2, requires_grad=True)
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    out, _, losses = dense.stateless_call([kernel, bias], [], x, return_losses=True)
    assert out.tolist() == [[3.0, 3.0], [12.0, 12.0], [21.0, 21.0], [30.0, 30.0]]
    assert losses == []  # Keras leaves activity penalties out of stateless_call's losses
    out.sum().backward()
    assert kernel.grad.tolist() == [[18.0, 22.0, 26.0]] * 2 and dense.kernel.grad is None


def _train_twice(mode, **kwargs):
    torch.manual_seed(0)
    lamina.clear_session()
    scope = lamina.RematScope(mode=mode, **kwargs)
    with scope:
        model = lamina.Sequential(
            [
                lamina.Input((6,)),
                layers.Dense(8, activation="relu"),
                layers.BatchNormalization(),
                layers.Dropout(0.3),
                layers.Dense(1),
            ]
        )
    torch.manual_seed(1)
    model.set_weights(
        [np.full(w.shape, 0.1 * (i + 1), "float32") for i, w in enumerate(model.get_weights())]
    )
    x = torch.linspace(-1, 1, 60).reshape(10, 6)
    out = model(x, training=True)
    out.pow(2).sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    return model, out.detach(), grads


@pytest.mark.parametrize(
    "mode,kwargs",
    [
        ("full", {}),
        ("activations", {}),
        ("larger_than", {"output_size_threshold": 50}),
        ("list_of_layers", {"layer_names": ["batch_normalization"]}),
    ],
)
def test_remat_modes_keep_results_and_state(mode, kwargs):
    plain_model, plain_out, plain_grads = _train_twice(None)
    model, out, grads = _train_twice(mode, **kwargs)
    assert model.layers[0]._remat_mode.mode == mode
    torch.testing.assert_close(out, plain_out)
    for g, h in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(g, h)
    # moving statistics updated once, not again by the recomputation
    torch.testing.assert_close(model.layers[1].moving_mean, plain_model.layers[1].moving_mean)
    assert int(model.layers[1].num_batches_tracked) == 1
    # the layer keeps its own activation after a rematerialized call
    second = model(torch.linspace(-1, 1, 60).reshape(10, 6), training=False)
    torch.testing.assert_close(second, plain_model(torch.linspace(-1, 1, 60).reshape(10, 6)))


def test_remat_recomputes_in_backward():
    calls = []

    def f(x):
        calls.append(1)
        return torch.sin(x) * 2

    x = torch.ones(3, requires_grad=True)
    lamina.remat(f)(x).sum().backward()
    assert len(calls) == 2  # forward, then again in backward
    torch.testing.assert_close(x.grad, 2 * torch.cos(x))
    with torch.no_grad():
        lamina.remat(f)(x)
    assert len(calls) == 3  # no recomputation without gradients
    with pytest.raises(ValueError, match="Invalid mode 'some'"):
        lamina.RematScope(mode="some")


def test_layers_kept_in_lists_and_dicts_are_tracked_and_trained():
    # Keras 3.15.1: 6 weight arrays, 6 trainable weights, layers ['dense', 'dense_1', 'dense_2']
    lamina.clear_session()

    class Net(lamina.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4), layers.Dense(4)]
            self.heads = {"main": layers.Dense(1)}

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.heads.get("main")(x)

    net = Net()
    net(torch.zeros(1, 3))
    assert [w.shape for w in net.get_weights()] == [(3, 4), (4,), (4, 4), (4,), (4, 1), (1,)]
    assert len(net.trainable_weights) == 6
    assert [layer.name for layer in net.layers] == ["dense", "dense_1", "dense_2"]
    assert "blocks.0.weight" in net.state_dict() and net.blocks.index(net.blocks[1]) == 1
    before = net.blocks[0].kernel.detach().clone()
    net.compile("sgd", "mse")
    net.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert not torch.equal(before, net.blocks[0].kernel)  # trained


def test_model_weights_follow_keras_layer_order_and_iterations_is_a_variable():
    model = lamina.Sequential(
        [lamina.Input((4,)), layers.Dense(3, name="a"), layers.BatchNormalization(name="bn")]
    )
    assert [w.path for w in model.weights] == [
        "sequential/a/kernel",
        "sequential/a/bias",
        "sequential/bn/gamma",
        "sequential/bn/beta",
        "sequential/bn/moving_mean",
        "sequential/bn/moving_variance",
    ]
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 4)), np.zeros((4, 3)), batch_size=2, verbose=0)
    iterations = model.optimizer.iterations
    assert iterations == 2 and iterations.numpy() == 2 and iterations.numpy().dtype == np.int32
    iterations.assign(7)
    assert int(model.optimizer.iterations) == 7


def test_calls_that_read_values_build_on_real_tensors():
    # Keras' torch backend: the model builds and predicts [[2, 2, 2], [2, 2, 2]]
    class Clip(layers.Layer):
        def call(self, x):
            if lamina.ops.max(x) > 100.0:
                x = x / 100.0
            return x

    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, Clip()(inputs))
    assert model.output_shape == (None, 3)
    assert model.predict(np.full((2, 3), 200.0, "float32"), verbose=0).tolist() == [[2.0] * 3] * 2


def test_lamina_own_passes_leave_variables_alone():
    # Keras 3.15.1: the counter reads 1 after one call and 2 after one training step
    class Count(layers.Layer):
        def build(self, shape):
            self.n = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.n.assign_add(1.0)
            return x

    class M(lamina.Model):
        def __init__(self):
            super().__init__()
            self.c = Count()
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(self.c(x))

    model = M()
    model(np.zeros((1, 3), "float32"))
    assert float(model.c.n) == 1.0
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), batch_size=4, verbose=0)
    assert float(model.c.n) == 2.0
