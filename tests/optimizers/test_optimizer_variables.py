"""`optimizer.variables` and related introspection, against Keras 3.15.1 (torch backend).

The expected names, shapes (in Keras' layout, as `numpy()` gives them) and summary lines were
printed by Keras for this model and data, one epoch, batch size 4:

    m = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d1"),
                          layers.Dense(1, name="d2")], name="m")
    m.compile(optimizer=<optimizer with name="opt">, loss="mse")
    print([(v.path, tuple(v.numpy().shape)) for v in m.optimizer.variables])
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina import optimizers as O

OPTIMIZERS = {
    "sgd": lambda: O.SGD(0.1, name="opt"),
    "sgd_momentum": lambda: O.SGD(0.1, momentum=0.5, name="opt"),
    "adam_amsgrad": lambda: O.Adam(amsgrad=True, name="opt"),
    "adamw": lambda: O.AdamW(name="opt"),
    "adamax": lambda: O.Adamax(name="opt"),
    "nadam": lambda: O.Nadam(name="opt"),
    "rmsprop_centered": lambda: O.RMSprop(momentum=0.9, centered=True, name="opt"),
    "adagrad": lambda: O.Adagrad(name="opt"),
    "adadelta": lambda: O.Adadelta(name="opt"),
    "ftrl": lambda: O.Ftrl(name="opt"),
    "lion": lambda: O.Lion(name="opt"),
    "lamb": lambda: O.Lamb(name="opt"),
    "adafactor": lambda: O.Adafactor(name="opt"),
    "adam_ema": lambda: O.Adam(use_ema=True, name="opt"),
    "adam_accumulation": lambda: O.Adam(gradient_accumulation_steps=2, name="opt"),
    "adam_schedule": lambda: O.Adam(O.schedules.ExponentialDecay(0.01, 10, 0.9), name="opt"),
}

# Keras' summary line, then (path, shape) of each variable in order.
KERAS = {
    "sgd": (
        "Optimizer params: 2 (8.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
        ],
    ),
    "sgd_momentum": (
        "Optimizer params: 13 (52.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
        ],
    ),
    "adam_amsgrad": (
        "Optimizer params: 35 (140.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
            ("opt/m_d1_kernel_velocity_hat", (3, 2)),
            ("opt/m_d1_bias_velocity_hat", (2,)),
            ("opt/m_d2_kernel_velocity_hat", (2, 1)),
            ("opt/m_d2_bias_velocity_hat", (1,)),
        ],
    ),
    "adamw": (
        "Optimizer params: 24 (96.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
    "adamax": (
        "Optimizer params: 24 (96.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_norm", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_norm", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_norm", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_norm", (1,)),
        ],
    ),
    "nadam": (
        "Optimizer params: 25 (100.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
            ("variable", ()),
        ],
    ),
    "rmsprop_centered": (
        "Optimizer params: 35 (140.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_velocity", (1,)),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d1_kernel_average_gradient", (3, 2)),
            ("opt/m_d1_bias_average_gradient", (2,)),
            ("opt/m_d2_kernel_average_gradient", (2, 1)),
            ("opt/m_d2_bias_average_gradient", (1,)),
        ],
    ),
    "adagrad": (
        "Optimizer params: 13 (52.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_accumulator", (3, 2)),
            ("opt/m_d1_bias_accumulator", (2,)),
            ("opt/m_d2_kernel_accumulator", (2, 1)),
            ("opt/m_d2_bias_accumulator", (1,)),
        ],
    ),
    "adadelta": (
        "Optimizer params: 24 (96.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_accumulated_grad", (3, 2)),
            ("opt/m_d1_kernel_accumulated_delta_var", (3, 2)),
            ("opt/m_d1_bias_accumulated_grad", (2,)),
            ("opt/m_d1_bias_accumulated_delta_var", (2,)),
            ("opt/m_d2_kernel_accumulated_grad", (2, 1)),
            ("opt/m_d2_kernel_accumulated_delta_var", (2, 1)),
            ("opt/m_d2_bias_accumulated_grad", (1,)),
            ("opt/m_d2_bias_accumulated_delta_var", (1,)),
        ],
    ),
    "ftrl": (
        "Optimizer params: 24 (96.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_accumulator", (3, 2)),
            ("opt/m_d1_kernel_linear", (3, 2)),
            ("opt/m_d1_bias_accumulator", (2,)),
            ("opt/m_d1_bias_linear", (2,)),
            ("opt/m_d2_kernel_accumulator", (2, 1)),
            ("opt/m_d2_kernel_linear", (2, 1)),
            ("opt/m_d2_bias_accumulator", (1,)),
            ("opt/m_d2_bias_linear", (1,)),
        ],
    ),
    "lion": (
        "Optimizer params: 13 (52.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
        ],
    ),
    "lamb": (
        "Optimizer params: 24 (96.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
    "adafactor": (
        "Optimizer params: 25 (100.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/kernel", (3,)),
            ("opt/kernel", (2,)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("bias", ()),
            ("bias", ()),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/kernel", (2,)),
            ("opt/kernel", (1,)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("bias", ()),
            ("bias", ()),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
    "adam_ema": (
        "Optimizer params: 35 (140.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_average", (3, 2)),
            ("opt/m_d1_bias_average", (2,)),
            ("opt/m_d2_kernel_average", (2, 1)),
            ("opt/m_d2_bias_average", (1,)),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
    "adam_accumulation": (
        "Optimizer params: 35 (140.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/learning_rate", ()),
            ("opt/m_d1_kernel_gradient_accumulator", (3, 2)),
            ("opt/m_d1_bias_gradient_accumulator", (2,)),
            ("opt/m_d2_kernel_gradient_accumulator", (2, 1)),
            ("opt/m_d2_bias_gradient_accumulator", (1,)),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
    "adam_schedule": (
        "Optimizer params: 23 (92.00 B)",
        [
            ("opt/iteration", ()),
            ("opt/m_d1_kernel_momentum", (3, 2)),
            ("opt/m_d1_kernel_velocity", (3, 2)),
            ("opt/m_d1_bias_momentum", (2,)),
            ("opt/m_d1_bias_velocity", (2,)),
            ("opt/m_d2_kernel_momentum", (2, 1)),
            ("opt/m_d2_kernel_velocity", (2, 1)),
            ("opt/m_d2_bias_momentum", (1,)),
            ("opt/m_d2_bias_velocity", (1,)),
        ],
    ),
}


def _trained(optimizer: O.Optimizer) -> lamina.Sequential:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = lamina.Sequential(
        [lamina.Input((3,)), layers.Dense(2, name="d1"), layers.Dense(1, name="d2")], name="m"
    )
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    return model


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_variables_have_keras_paths_shapes_and_order(case):
    optimizer = OPTIMIZERS[case]()
    model = _trained(optimizer)
    line, expected = KERAS[case]
    got = [(v.path, tuple(v.numpy().shape)) for v in optimizer.variables]
    assert got == expected
    assert [v.name for v in optimizer.variables] == [p.rsplit("/", 1)[-1] for p, _ in expected]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model.summary()
    assert line in printed.getvalue()


def test_iteration_is_int32_and_learning_rate_float32():
    optimizer = _trained(O.SGD(0.1, momentum=0.5)).optimizer
    iteration, learning_rate = optimizer.variables[:2]
    assert iteration.dtype == torch.int32 and learning_rate.dtype == torch.float32
    assert int(iteration.numpy()) == 2 and int(optimizer.iterations) == 2
    assert learning_rate.numpy() == np.float32(0.1)


def test_iterations_and_learning_rate_print_as_keras_variables():
    # Keras 3.15.1: print(opt.iterations), print(opt.learning_rate), .dtype, .path
    optimizer = _trained(O.Adam(0.01, name="opt")).optimizer
    iterations, learning_rate = optimizer.iterations, optimizer.learning_rate
    assert repr(iterations) == "<Variable path=opt/iteration, shape=(), dtype=int32, value=2>"
    assert f"{iterations}" == repr(iterations) and iterations + 1 == 3
    assert iterations.dtype == "int32" and iterations.numpy().dtype == np.int32
    assert str(learning_rate) == (
        "<Variable path=opt/learning_rate, shape=(), dtype=float32, value=0.009999999776482582>"
    )
    assert learning_rate.path == "opt/learning_rate" and learning_rate.dtype == "float32"
    assert f"{learning_rate:.3f}" == "0.010"
    # A schedule's rate is a plain tensor in Keras (`tensor(0.1000)`): shown as a number here.
    scheduled = O.SGD(O.schedules.ExponentialDecay(0.1, 10, 0.5))
    assert repr(scheduled.learning_rate) == "0.10000000149011612"


def test_slot_variables_are_the_live_state():
    optimizer = _trained(O.SGD(0.1, momentum=0.5)).optimizer
    momentum = optimizer.variables[2]  # 'm_d1_kernel_momentum', (3, 2) in Keras' layout
    assert momentum is optimizer.variables[2]
    momentum.assign(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(optimizer.state_dict()["state"][0]["momentum"].T,
                                  np.arange(6.0).reshape(3, 2))  # fmt: skip
    grad = torch.ones(2, 3)
    with pytest.warns(UserWarning, match="Gradients do not exist"):  # as Keras
        optimizer.apply([grad, None, None, None])
    np.testing.assert_allclose(momentum.numpy(), np.arange(6.0).reshape(3, 2) * 0.5 - 0.1)


def test_assigning_scalar_variables_sets_the_optimizer():
    optimizer = _trained(O.Adam(0.01)).optimizer
    iteration, learning_rate = optimizer.variables[:2]
    iteration.assign(10)
    learning_rate.assign(0.5)
    assert int(optimizer.iterations) == 10 and optimizer.learning_rate == 0.5
    iteration.assign_add(1)
    assert int(optimizer.iterations) == 11
    optimizer.apply([torch.zeros_like(p) for p in optimizer._params])
    assert int(iteration.numpy()) == 12  # `numpy()` reads the optimizer's count afresh


def test_gradient_accumulators_come_after_ema_averages():
    w = torch.nn.Parameter(torch.ones(2))
    optimizer = O.SGD(0.1, momentum=0.5, use_ema=True, gradient_accumulation_steps=2)
    optimizer.build([w])
    names = [v.name.rsplit("_", 1)[-1] for v in optimizer.variables]
    assert names == ["iteration", "rate", "average", "accumulator", "momentum"]
    assert optimizer.variables[2].name == "variable_average"  # an unnamed torch parameter


def test_variables_before_build_and_loaded_state_after_build():
    optimizer = O.Adam(0.01)
    assert [v.name for v in optimizer.variables] == ["iteration", "learning_rate"]
    w = torch.nn.Parameter(torch.ones(3))
    source = O.Adam(0.01)
    w.grad = torch.full((3,), 0.5)
    source.build([w])
    source.step()
    optimizer.load_state_dict(source.state_dict())
    assert int(optimizer.variables[0].numpy()) == 1  # the pending state's count
    optimizer.build([w])
    assert len(optimizer.variables) == 4
    np.testing.assert_allclose(optimizer.variables[2].numpy(), source.variables[2].numpy())


def test_loss_scale_optimizer_variables_follow_keras():
    optimizer = O.LossScaleOptimizer(O.SGD(0.1, momentum=0.9, name="inner"), name="ls")
    # Keras: 4 before build (its own iteration and learning rate, the inner one's).
    assert [v.path for v in optimizer.variables] == [
        "ls/iteration", "ls/learning_rate", "inner/iteration", "inner/learning_rate",
    ]  # fmt: skip
    optimizer.build([torch.nn.Parameter(torch.ones(2))])
    paths = [v.path for v in optimizer.variables]
    assert paths[2:4] == ["ls/step_counter", "ls/dynamic_scale"] and len(paths) == 7
    assert float(optimizer.variables[3].numpy()) == 32768.0
    optimizer.variables[3].assign(8.0)
    assert float(optimizer.dynamic_scale) == 8.0


def test_schedule_learning_rate_reads_as_float32():
    optimizer = _trained(O.Adam(O.schedules.ExponentialDecay(0.01, 10, 0.9))).optimizer
    assert float(optimizer.learning_rate) == 0.009791483171284199  # Keras' value


def test_serialize_gives_keras_form_and_deserializes():
    config = O.serialize(O.Adam(0.5, name="a"))
    assert config["module"] == "keras.optimizers" and config["registered_name"] is None
    assert config["class_name"] == "Adam" and config["config"]["learning_rate"] == 0.5
    assert type(O.deserialize(config)) is O.Adam
    short = O.deserialize({"class_name": "SGD", "config": {"learning_rate": 0.3}})
    assert type(short) is O.SGD and short.learning_rate == 0.3
    # What Keras' torch backend writes for Adam.
    keras_form = {**config, "module": "keras.src.backend.torch.optimizers.torch_adam",
                  "registered_name": "Adam"}  # fmt: skip
    assert type(O.deserialize(keras_form)) is O.Adam


def test_nested_optimizer_config_is_keras_form():
    config = O.serialize(O.LossScaleOptimizer(O.SGD()))
    assert config["config"]["inner_optimizer"]["module"] == "keras.optimizers"
    restored = O.deserialize(config)
    assert type(restored.inner_optimizer) is O.SGD


def test_loaded_model_optimizer_has_the_saved_state_once_built(tmp_path):
    model = _trained(O.Adam(0.01))
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = lamina.models.load_model(path)
    optimizer = loaded.optimizer
    assert len(optimizer.variables) == 10  # Keras: 10, right after load_model
    for got, saved in zip(optimizer.variables, model.optimizer.variables, strict=True):
        # Keras 3.15.1: the loaded layers' paths lose the model's name ('d1/kernel'), and so
        # do the slots ('adam/d1_kernel_momentum' for 'adam/m_d1_kernel_momentum').
        assert got.path == saved.path.replace("/m_", "/")
        np.testing.assert_array_equal(got.numpy(), saved.numpy())
