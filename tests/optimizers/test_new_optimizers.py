"""Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer, OptimizerMap vs Keras 3.15.1.

The reference numbers are Keras 3.15.1 outputs (torch backend) of the scratch programs
ref_opt.py (three `apply` calls with the fixed weights and gradients below) and ref_lso.py.
ScheduleFreeAdamW's references come from the same program run with value-semantics variable
assignment (as Keras' JAX and TensorFlow backends have): on the torch backend Keras' update
reads `momentum.value` after updating it in place (an alias), which departs from the algorithm.
"""

import math

import numpy as np
import pytest
import torch

import lamina
from lamina.optimizers import SGD, Adam
from lamina.optimizers.loss_scale import LossScaleOptimizer
from lamina.optimizers.multi import MultiOptimizer, OptimizerMap
from lamina.optimizers.muon import Muon
from lamina.optimizers.schedule_free import ScheduleFreeAdamW

SHAPES = {
    "dense/kernel": (3, 4),
    "tall/kernel": (4, 3),
    "dense/bias": (4,),
    "embedding/embeddings": (5, 3),
}
KERAS = {
    "muon_default": {
        "dense/kernel": [
            [-0.272144675, 0.163190961, 0.474876165, 0.428068191],
            [0.057093162, -0.353034109, -0.495185465, -0.262279689],
            [0.169454128, 0.469725519, 0.413148791, 0.042440012],
        ],
        "tall/kernel": [
            [-0.501961172, -0.312416255, 0.112589471],
            [0.448325932, 0.44825393, 0.109213427],
            [-0.312347412, -0.497363269, -0.305278808],
            [0.12176694, 0.453018099, 0.440460116],
        ],
        "dense/bias": [-0.256221384, -0.498710573, -0.375666112, 0.038711708],
        "embedding/embeddings": [
            [0.454518169, 0.47193718, 0.123495303],
            [-0.302599967, -0.488847166, -0.300876468],
            [0.102742903, 0.433501929, 0.421884745],
            [0.085236959, -0.303277254, -0.470747292],
            [-0.2661843, 0.150440961, 0.457555264],
        ],
    },
    "muon_options": {
        "dense/kernel": [
            [-0.289799422, 0.154968262, 0.480227917, 0.445270598],
            [0.068376377, -0.33898136, -0.485570788, -0.262459308],
            [0.165817454, 0.45165661, 0.389943391, 0.025715273],
        ],
        "tall/kernel": [
            [-0.526060998, -0.338315755, 0.090039164],
            [0.436445624, 0.447511226, 0.132032394],
            [-0.290930986, -0.478084385, -0.293751001],
            [0.097635619, 0.427244306, 0.418014288],
        ],
        "dense/bias": [-0.256252974, -0.498769671, -0.375708878, 0.038718507],
        "embedding/embeddings": [
            [0.455067843, 0.458111316, 0.119389273],
            [-0.299667507, -0.488852501, -0.305851072],
            [0.10582906, 0.4320274, 0.424097806],
            [0.088013016, -0.312322915, -0.471283942],
            [-0.263527095, 0.146676049, 0.447992116],
        ],
    },
    "schedule_free_default": {
        "dense/kernel": [
            [-0.286295772, 0.152922422, 0.470942646, 0.427936494],
            [0.074834459, -0.341361374, -0.490084141, -0.2652089],
            [0.148208082, 0.456707537, 0.407708883, 0.044884074],
        ],
        "tall/kernel": [
            [-0.524964035, -0.329687923, 0.101653039],
            [0.447328866, 0.451783568, 0.126413137],
            [-0.301584542, -0.489759147, -0.302472413],
            [0.09899538, 0.435991734, 0.429652095],
        ],
        "dense/bias": [-0.266975641, -0.502375066, -0.369660974, 0.049538318],
        "embedding/embeddings": [
            [0.460129827, 0.467285812, 0.11322885],
            [-0.314380348, -0.498322487, -0.300781101],
            [0.110888168, 0.445054412, 0.433042943],
            [0.090551525, -0.308212489, -0.48116532],
            [-0.277950495, 0.141171113, 0.457997829],
        ],
    },
    "schedule_free_options": {
        "dense/kernel": [
            [-0.334124535, 0.135662585, 0.495494336, 0.47773084],
            [0.137269899, -0.30632779, -0.491414487, -0.311867833],
            [0.073207326, 0.405879736, 0.390056521, 0.072754204],
        ],
        "tall/kernel": [
            [-0.603642166, -0.389296532, 0.069773182],
            [0.451484919, 0.498902768, 0.198801726],
            [-0.253302962, -0.473897159, -0.331979811],
            [0.017414728, 0.373197794, 0.3969329],
        ],
        "dense/bias": [-0.274708629, -0.550354838, -0.439543903, 0.004309486],
        "embedding/embeddings": [
            [0.504147291, 0.540400207, 0.162960619],
            [-0.295028895, -0.520977139, -0.351410687],
            [0.046613444, 0.408348262, 0.433131635],
            [0.137121201, -0.231699452, -0.429170787],
            [-0.259652048, 0.114129364, 0.403710634],
        ],
    },
}


def initial(name, shape):
    n = math.prod(shape)
    return torch.tensor(
        (np.sin(np.arange(n) * 0.9 + len(name)) * 0.5).reshape(shape), dtype=torch.float32
    )


def gradient(name, shape, step):
    n = math.prod(shape)
    values = np.cos(np.arange(n) * 0.7 + step + len(name)) * 0.3
    return torch.tensor(values.reshape(shape), dtype=torch.float32)


def parameters():
    params = []
    for name, shape in SHAPES.items():
        p = torch.nn.Parameter(initial(name, shape))
        p.path = name
        params.append(p)
    return params


def run(optimizer, steps=3):
    params = parameters()
    for step in range(steps):
        optimizer.apply([gradient(n, s, step) for n, s in SHAPES.items()], params)
    return dict(zip(SHAPES, params, strict=True))


def assert_matches(got, expected):
    for name in SHAPES:
        np.testing.assert_allclose(got[name].detach().numpy(), expected[name], atol=1e-6)


def test_muon_matches_keras():
    assert_matches(run(Muon(learning_rate=0.01)), KERAS["muon_default"])


def test_muon_options_match_keras():
    optimizer = Muon(
        learning_rate=0.02,
        nesterov=False,
        exclude_layers=["tall"],
        exclude_embeddings=False,
        rms_rate=None,
        weight_decay=0.1,
        adam_weight_decay=None,
        adam_lr_ratio=0.5,
        ns_steps=3,
    )
    assert_matches(run(optimizer), KERAS["muon_options"])


def test_muon_variables_follow_keras_order():
    optimizer = Muon()
    optimizer.build(parameters())
    # iterations, learning rate, then momentum (+ velocity for AdamW weights) per weight
    shapes = [tuple(v.shape) for v in optimizer.variables]
    assert shapes == [(), (), (3, 4), (4, 3), (4,), (4,), (5, 3), (5, 3)]


def test_muon_step_on_torch_layout_is_the_transposed_keras_step():
    keras_layout, torch_layout = parameters()[0], parameters()[0]
    torch_layout.data = torch_layout.data.T.contiguous()
    for optimizer, p, grad in (
        (Muon(0.01), keras_layout, gradient("dense/kernel", (3, 4), 0)),
        (Muon(0.01), torch_layout, gradient("dense/kernel", (3, 4), 0).T),
    ):
        optimizer.apply([grad], [p])
    np.testing.assert_allclose(
        torch_layout.detach().T.numpy(), keras_layout.detach().numpy(), atol=1e-6
    )


def test_muon_config_round_trip():
    config = Muon(exclude_layers=["head"], rms_rate=None).get_config()
    assert config["exclude_layers"] == ["head"] and config["muon_b"] == -4.775
    assert Muon.from_config(config).get_config() == config


def test_schedule_free_matches_keras():
    assert_matches(run(ScheduleFreeAdamW(learning_rate=0.01)), KERAS["schedule_free_default"])


def test_schedule_free_options_match_keras():
    optimizer = ScheduleFreeAdamW(
        learning_rate=0.05, beta_1=0.8, warmup_steps=2, weight_decay=0.1, epsilon=1e-6
    )
    assert_matches(run(optimizer), KERAS["schedule_free_options"])


def test_schedule_free_state_round_trip_continues_identically():
    first, second = ScheduleFreeAdamW(0.01), ScheduleFreeAdamW(0.01)
    a, b = parameters(), parameters()
    first.apply([gradient(n, s, 0) for n, s in SHAPES.items()], a)
    second.load_state_dict(first.state_dict())
    for p, q in zip(a, b, strict=True):
        q.data.copy_(p.data)
    # `state_dict` shares the slot tensors: the restored optimizer (built on its first
    # apply) goes first, before the original's update changes them.
    for opt, params in ((second, b), (first, a)):
        opt.apply([gradient(n, s, 1) for n, s in SHAPES.items()], params)
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p, q)


def test_schedule_free_config_is_keras():
    config = ScheduleFreeAdamW().get_config()
    # Keras 3.15.1 reads its float32 variable: 0.0025 is 0.0024999999441206455.
    assert (config["learning_rate"], config["beta_1"], config["epsilon"]) == (
        0.0024999999441206455,
        0.9,
        1e-8,
    )
    assert config["warmup_steps"] == 0


# Keras 3.15.1: LossScaleOptimizer(SGD(0.1), initial_scale=4.0, dynamic_growth_steps=2), one
# `apply` per gradient; after each: weights, scale, step counter, iterations.
LOSS_SCALE_SEQUENCE = [
    ([4.0, 8.0, -4.0], [0.8999999761581421, -2.200000047683716, 0.6000000238418579], 4.0, 1, 1),
    ([2.0, 2.0, 2.0], [0.8499999642372131, -2.25, 0.550000011920929], 8.0, 0, 2),
    ([math.inf, 1.0, 1.0], [0.8499999642372131, -2.25, 0.550000011920929], 4.0, 0, 2),
    ([16.0, 0.0, -16.0], [0.44999995827674866, -2.25, 0.9500000476837158], 4.0, 1, 3),
    ([math.nan, 0.0, 0.0], [0.44999995827674866, -2.25, 0.9500000476837158], 2.0, 0, 3),
    ([8.0, 8.0, 8.0], [0.04999995231628418, -2.6500000953674316, 0.5500000715255737], 2.0, 1, 4),
    ([1.0, 2.0, 3.0], [-4.842877388000488e-08, -2.75, 0.40000006556510925], 4.0, 0, 5),
]


def test_loss_scale_optimizer_sequence_matches_keras():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    optimizer = LossScaleOptimizer(SGD(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    for grad, weights, scale, counter, iterations in LOSS_SCALE_SEQUENCE:
        optimizer.apply([torch.tensor(grad)], [w])
        assert w.detach().tolist() == pytest.approx(weights, abs=1e-7)
        assert (float(optimizer.dynamic_scale), int(optimizer.step_counter)) == (scale, counter)
        assert optimizer.iterations == iterations


def test_loss_scale_optimizer_scales_the_loss():
    optimizer = LossScaleOptimizer(SGD(0.1), initial_scale=4.0)
    assert float(optimizer.scale_loss(torch.tensor(1.5))) == 6.0


def test_loss_scale_optimizer_step_reads_grad_of_the_scaled_loss():
    w = torch.nn.Parameter(torch.tensor([3.0]))
    optimizer = LossScaleOptimizer(SGD(0.25), initial_scale=1024.0)
    optimizer.build([w])
    optimizer.scale_loss((w**2).sum()).backward()
    optimizer.step()
    assert float(w.detach()) == 1.5  # 3 - 0.25 * 6


def test_loss_scale_optimizer_apply_leaves_given_gradients_unchanged():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    grad = torch.tensor([8.0])
    LossScaleOptimizer(SGD(0.1), initial_scale=4.0).apply([grad], [w])
    assert float(grad) == 8.0 and w.grad is None


def test_loss_scale_optimizer_delegates_learning_rate():
    inner = SGD(0.1)
    optimizer = LossScaleOptimizer(inner)
    optimizer.learning_rate = 0.5
    assert float(inner.learning_rate) == 0.5 == float(optimizer.learning_rate)


def test_loss_scale_optimizer_refuses_base_arguments_as_keras():
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        LossScaleOptimizer(SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        LossScaleOptimizer(SGD(), dynamic=False)


def test_loss_scale_optimizer_config_and_state_round_trip():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    optimizer = LossScaleOptimizer(Adam(0.01), initial_scale=4.0, dynamic_growth_steps=2)
    for grad, *_ in LOSS_SCALE_SEQUENCE[:3]:
        optimizer.apply([torch.tensor(grad)], [w])
    config = optimizer.get_config()
    assert config["inner_optimizer"]["class_name"] == "Adam"
    assert (config["initial_scale"], config["dynamic_growth_steps"]) == (4.0, 2)
    restored = LossScaleOptimizer.from_config(config)
    restored.load_state_dict(optimizer.state_dict())
    restored.build([torch.nn.Parameter(w.detach().clone())])
    assert float(restored.dynamic_scale) == 4.0 and restored.iterations == 2


# Keras 3.15.1: MultiOptimizer(OptimizerMap(SGD(0.1), {"enc/.*": Adam(0.01)})), two `apply`s.
def test_multi_optimizer_matches_keras():
    a, b, c = (torch.nn.Parameter(torch.tensor(v)) for v in ([1.0, 2.0], [0.5, -0.5], [3.0]))
    a.path, b.path, c.path = "enc/dense/kernel", "dec/kernel", "enc/bias"
    sgd, adam = SGD(0.1), Adam(0.01)
    optimizer = MultiOptimizer(OptimizerMap(sgd, {"enc/.*": adam}))
    for _ in range(2):
        optimizer.apply(
            [torch.tensor([0.3, -0.2]), torch.tensor([1.0, 2.0]), torch.tensor([0.5])], [a, b, c]
        )
    np.testing.assert_allclose(
        a.detach().numpy(), [0.980000376701355, 2.0199995040893555], atol=1e-6
    )
    np.testing.assert_allclose(
        b.detach().numpy(), [0.30000001192092896, -0.8999999761581421], atol=1e-6
    )
    np.testing.assert_allclose(c.detach().numpy(), [2.9800004959106445], atol=1e-6)
    assert (optimizer.iterations, sgd.iterations, adam.iterations) == (2, 2, 2)
    assert [type(o).__name__ for o in optimizer.optimizers] == ["Adam", "SGD"]  # Keras' order
    shapes = [tuple(v.shape) for v in optimizer.variables]
    assert shapes == [(), (), (), (), (2,), (2,), (1,), (1,), (), ()]


def test_multi_optimizer_has_no_learning_rate():
    with pytest.raises(AttributeError, match="no learning rate"):
        _ = MultiOptimizer(OptimizerMap(SGD())).learning_rate


def test_multi_optimizer_with_a_selector_steps_from_grad():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = MultiOptimizer(lambda p: SGD(0.25))
    optimizer.build([w])
    w.grad = torch.tensor([2.0])
    optimizer.step()
    assert float(w.detach()) == 0.5


def test_multi_optimizer_config_and_state_round_trip():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))
    a.path, b.path = "enc/kernel", "head/kernel"
    optimizer = MultiOptimizer(OptimizerMap(SGD(0.1, momentum=0.9), {"enc/.*": Adam(0.01)}))
    optimizer.apply([torch.ones(2), torch.ones(1)], [a, b])
    restored = MultiOptimizer.from_config(optimizer.get_config())
    restored.build([a, b])
    restored.load_state_dict(optimizer.state_dict())
    assert restored.state_dict()["scalars"] == optimizer.state_dict()["scalars"]
    for i in (0, 1):
        for slot, value in optimizer.state_dict()["state"][i].items():
            assert torch.equal(restored.state_dict()["state"][i][slot], value)


def test_optimizer_map_matches_keys_as_keras():
    sgd, adam = SGD(), Adam()
    mapping = OptimizerMap(sgd)
    mapping["x/.*"] = adam
    mapping["x/y"] = sgd
    assert (mapping["x/y"], mapping["x/z"], mapping["q"]) == (sgd, adam, sgd)
    with pytest.raises(ValueError, match="already mapped"):
        mapping["x/.*"] = sgd
    with pytest.raises(ValueError, match="several keys match"):
        OptimizerMap(sgd, {"a.*": adam, ".*b": SGD()})["ab"]
    with pytest.raises(ValueError, match="cannot be a LossScaleOptimizer"):
        mapping["z"] = LossScaleOptimizer(SGD())


@pytest.mark.parametrize(
    "make",
    [
        lambda: lamina.optimizers.SGD(0.1),
        lambda: lamina.optimizers.SGD(0.1, loss_scale_factor=100),
        lambda: lamina.optimizers.LossScaleOptimizer(lamina.optimizers.SGD(0.1)),
    ],
    ids=["plain", "loss_scale_factor", "LossScaleOptimizer"],
)
def test_fit_scales_the_loss_once_and_unscales_the_gradients(make):
    # Keras 3.15.1: one SGD(0.1) step of mse on x = y = 1 from a zero kernel gives 0.2,
    # with or without loss scaling
    model = lamina.Sequential(
        [lamina.Input((1,)), lamina.layers.Dense(1, kernel_initializer="zeros", use_bias=False)]
    )
    model.compile(make(), "mse")
    model.fit(np.ones((4, 1)), np.ones((4, 1)), batch_size=4, epochs=1, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], [[0.2]], rtol=1e-6)
