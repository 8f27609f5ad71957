"""Tests for lamina.optimizers.schedules.

The reference values come from Keras 3.15 (torch backend), printed with
``[float(keras.optimizers.schedules.<Name>(**kwargs)(step)) for step in STEPS]``; Keras
computes in float32, hence the 1e-6 relative tolerance. ``OneCycle`` is checked against
``torch.optim.lr_scheduler.OneCycleLR``.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from lamina import optimizers
from lamina.optimizers import schedules
from lamina.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    OneCycle,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

STEPS = [0, 1, 5, 10, 37, 100, 1000]

# fmt: off
KERAS_REFERENCE = [
    (ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5),
     [0.10000000149011612, 0.09330330044031143, 0.0707106813788414, 0.05000000074505806,
      0.007694652769714594, 9.765625145519152e-05, 7.888609169759553e-32]),
    (ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                            staircase=True),
     [0.10000000149011612, 0.10000000149011612, 0.10000000149011612, 0.05000000074505806,
      0.012500000186264515, 9.765625145519152e-05, 7.888609169759553e-32]),
    (PiecewiseConstantDecay, dict(boundaries=[5, 37], values=[1.0, 0.5, 0.1]),
     [1.0, 1.0, 1.0, 0.5, 0.5, 0.10000000149011612, 0.10000000149011612]),
    (PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=100),
     [0.10000000149011612, 0.09900100529193878, 0.09500499814748764, 0.09001000225543976,
      0.06303700059652328, 9.999999747378752e-05, 9.999999747378752e-05]),
    (PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=30, end_learning_rate=0.01,
                           power=2.0, cycle=True),
     [0.10000000149011612, 0.0940999910235405, 0.07249999791383743, 0.04999999701976776,
      0.023224998265504837, 0.012500000186264515, 0.010034602135419846]),
    (InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5),
     [0.10000000149011612, 0.0952381044626236, 0.07999999821186066, 0.06666667014360428,
      0.035087719559669495, 0.01666666753590107, 0.0019607844296842813]),
    (InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                            staircase=True),
     [0.10000000149011612, 0.10000000149011612, 0.10000000149011612, 0.06666667014360428,
      0.03999999910593033, 0.01666666753590107, 0.0019607844296842813]),
    (CosineDecay, dict(initial_learning_rate=0.1, decay_steps=100),
     [0.10000000149011612, 0.09997532516717911, 0.09938441962003708, 0.0975528284907341,
      0.0698573961853981, 0.0, 0.0]),
    (CosineDecay, dict(initial_learning_rate=0.1, decay_steps=100, alpha=0.1),
     [0.10000000149011612, 0.09997779130935669, 0.09944597631692886, 0.09779754281044006,
      0.07287165522575378, 0.010000000707805157, 0.010000000707805157]),
    (CosineDecay, dict(initial_learning_rate=0.0, decay_steps=100, alpha=0.1, warmup_target=0.2,
                       warmup_steps=10),
     [0.0, 0.020000001415610313, 0.10000000149011612, 0.20000000298023224, 0.16951806843280792,
      0.024404916912317276, 0.020000001415610313]),
    (CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10),
     [0.10000000149011612, 0.0975528284907341, 0.04999999701976776, 0.10000000149011612,
      0.09263201057910919, 0.0691341683268547, 0.037850990891456604]),
    (CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.5,
                               m_mul=0.8, alpha=0.05),
     [0.10000000149011612, 0.09767518192529678, 0.05249999836087227, 0.08100000023841858,
      0.032222334295511246, 0.0321621298789978, 0.008423077873885632]),
]

# Keras' get_config of the first case of each class (key order included).
KERAS_CONFIGS = {
    ExponentialDecay: {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                       "staircase": False, "name": "ExponentialDecay"},
    PiecewiseConstantDecay: {"boundaries": [5, 37], "values": [1.0, 0.5, 0.1],
                             "name": "PiecewiseConstant"},
    PolynomialDecay: {"initial_learning_rate": 0.1, "decay_steps": 100,
                      "end_learning_rate": 0.0001, "power": 1.0, "cycle": False,
                      "name": "PolynomialDecay"},
    InverseTimeDecay: {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                       "staircase": False, "name": "InverseTimeDecay"},
    CosineDecay: {"initial_learning_rate": 0.1, "decay_steps": 100, "alpha": 0.0,
                  "name": "CosineDecay", "warmup_target": None, "warmup_steps": 0},
    CosineDecayRestarts: {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0,
                          "m_mul": 1.0, "alpha": 0.0, "name": "SGDRDecay"},
}
# fmt: on


def _case_id(case):
    cls, kwargs, _ = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "name")


@pytest.mark.parametrize("case", KERAS_REFERENCE, ids=_case_id)
def test_matches_keras(case):
    cls, kwargs, expected = case
    schedule = cls(**kwargs)
    got = [schedule(step) for step in STEPS]
    assert all(type(v) is float for v in got)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_piecewise_constant_boundaries_as_keras():
    # Keras: values[i] while boundaries[i - 1] < step <= boundaries[i].
    schedule = PiecewiseConstantDecay([5, 37], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in (4, 5, 6, 36, 37, 38)] == [1.0, 1.0, 0.5, 0.5, 0.5, 0.1]
    assert schedule(0) == 1.0 and schedule(10**6) == 0.1


@pytest.mark.parametrize("cls", list(KERAS_CONFIGS))
def test_default_config_matches_keras(cls):
    kwargs = next(kw for c, kw, _ in KERAS_REFERENCE if c is cls)
    config = cls(**kwargs).get_config()
    assert config == KERAS_CONFIGS[cls]
    assert list(config) == list(KERAS_CONFIGS[cls])


@pytest.mark.parametrize("case", KERAS_REFERENCE, ids=_case_id)
def test_config_round_trip(case):
    cls, kwargs, expected = case
    schedule = cls(**kwargs)
    payload = json.loads(json.dumps(schedules.serialize(schedule)))
    assert payload["class_name"] == cls.__name__
    restored = schedules.deserialize(payload)
    assert type(restored) is cls
    assert restored.get_config() == schedule.get_config()
    assert [restored(s) for s in STEPS] == [schedule(s) for s in STEPS]
    assert type(cls.from_config(schedule.get_config())) is cls


def test_one_cycle_config_round_trip():
    schedule = OneCycle(0.5, 40, pct_start=0.25, anneal="linear", final_div_factor=100.0)
    restored = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert isinstance(restored, OneCycle)
    assert restored.get_config() == schedule.get_config()
    assert [restored(s) for s in range(45)] == [schedule(s) for s in range(45)]


def test_deserialize_errors():
    with pytest.raises(ValueError, match="ExponentialDecay.*OneCycle"):
        schedules.deserialize({"class_name": "NoSuchDecay", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        schedules.deserialize("ExponentialDecay")

    class Halving(LearningRateSchedule):
        def __call__(self, step):
            return 0.5**step

        def get_config(self):
            return {}

    custom = schedules.deserialize({"class_name": "Halving", "config": {}}, {"Halving": Halving})
    assert custom(2) == 0.25
    # Keras' serialized form carries extra keys: they are ignored.
    keras_form = {
        "module": "keras.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": KERAS_CONFIGS[ExponentialDecay],
        "registered_name": None,
    }
    assert schedules.deserialize(keras_form)(10) == pytest.approx(0.05)


def test_argument_validation():
    with pytest.raises(ValueError, match="decay_steps"):
        ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        PolynomialDecay(0.1, 0)
    with pytest.raises(ValueError, match="decay_steps"):
        InverseTimeDecay(0.1, -1, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        CosineDecay(0.1, 0)
    with pytest.raises(ValueError, match="first_decay_steps"):
        CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="length of boundaries"):
        PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="anneal"):
        OneCycle(0.1, 10, anneal="exp")
    with pytest.raises(ValueError, match="pct_start"):
        OneCycle(0.1, 10, pct_start=1.5)
    with pytest.raises(ValueError, match="total_steps"):
        OneCycle(0.1, 0)
    with pytest.raises(NotImplementedError):
        LearningRateSchedule()(0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(max_learning_rate=0.1, total_steps=100),
        dict(max_learning_rate=0.5, total_steps=37, pct_start=0.25, anneal="linear"),
        dict(max_learning_rate=2.0, total_steps=50, div_factor=10.0, final_div_factor=100.0),
    ],
)
def test_one_cycle_matches_torch(kwargs):
    schedule = OneCycle(**kwargs)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.0)
    torch_sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=kwargs["max_learning_rate"],
        total_steps=kwargs["total_steps"],
        pct_start=kwargs.get("pct_start", 0.3),
        anneal_strategy=kwargs.get("anneal", "cos"),
        cycle_momentum=False,
        div_factor=kwargs.get("div_factor", 25.0),
        final_div_factor=kwargs.get("final_div_factor", 1e4),
    )
    expected = []
    for _ in range(kwargs["total_steps"]):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        torch_sched.step()
    got = [schedule(step) for step in range(kwargs["total_steps"])]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # Past the end, the final rate is kept (OneCycleLR raises instead).
    final = kwargs["max_learning_rate"] / kwargs.get("div_factor", 25.0)
    final /= kwargs.get("final_div_factor", 1e4)
    assert schedule(kwargs["total_steps"] + 10) == pytest.approx(final, rel=1e-12)


def test_sgd_steps_with_the_scheduled_learning_rate():
    schedule = ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = optimizers.SGD(learning_rate=schedule)
    opt.build([w])
    seen = []
    for _ in range(6):
        seen.append(opt.learning_rate)
        w.grad = torch.ones_like(w)  # constant gradient: w moves by -lr each step
        opt.step()
    expected = [0.1 * 0.5 ** (t / 2) for t in range(6)]
    assert seen == pytest.approx(expected, rel=1e-12)
    assert opt.learning_rate == pytest.approx(0.1 * 0.5**3, rel=1e-12)
    total = math.fsum(expected)
    assert w.detach().tolist() == pytest.approx([1.0 - total, -2.0 - total], rel=1e-12)


def test_optimizer_config_round_trip_with_schedule():
    schedule = CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=10)
    opt = optimizers.SGD(learning_rate=schedule, momentum=0.9)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"] == schedules.serialize(schedule)
    restored = optimizers.SGD.from_config(config)
    assert isinstance(restored._learning_rate, CosineDecay)
    assert restored.get_config() == opt.get_config()
    assert restored.learning_rate == opt.learning_rate == pytest.approx(0.1)
    restored_via_registry = optimizers.deserialize(optimizers.serialize(opt))
    assert restored_via_registry.get_config() == opt.get_config()
