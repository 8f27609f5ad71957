"""Tests for Lion, Lamb, Ftrl and Adafactor: Keras 3.15.1's trajectories, lookup, config, state.

The reference weights come from Keras 3.15.1 (torch backend, floatx float64) with the loop and
problem of tests/optimizers/test_optimizers.py (script: /work/scratch/moreopt/opt_ref.py).
SCHEDULE_ADAFACTOR passes `keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)`."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

from lamina import optimizers
from lamina.optimizers import Adafactor, Ftrl, Lamb, Lion
from tests.optimizers.test_optimizers import (
    assert_weights,
    case_id,
    gradients,
    make_params,
    train,
)

# fmt: off
KERAS_REFERENCE = [
    ("Lion", dict(), [0.495, -0.995, 1.495, 1.995, -0.499, 0.251, 0.105, -0.195, 0.301]),
    ("Lion", dict(learning_rate=0.1), [0.0, -0.5, 1.0, 1.5, -0.4, 0.35, 0.2, 0.3, 0.4]),
    ("Lion", dict(learning_rate=0.1, beta_1=0.5, beta_2=0.9), [0.0, -0.5, 1.0, 1.5, -0.4, 0.35,
        0.4, 0.3, 0.4]),
    ("Lion", dict(learning_rate=0.1, weight_decay=0.2), [-0.0284356176, -0.4235247808,
        0.8754851792, 1.3274455776, -0.3558027824, 0.3142962152, 0.37078809568, 0.29961185664,
        0.35949225504]),
    ("Lion", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.9), [0.30951, -0.80951,
        1.30951, 1.80951, -0.41629, 0.36629, 0.21629, -0.00951, 0.41629]),
    ("Lion", dict(learning_rate=0.1, gradient_accumulation_steps=2), [0.3, -0.8, 1.3, 1.8, -0.5,
        0.45, 0.3, 0.0, 0.5]),
    ("Lamb", dict(), [0.4936775418021, -0.9935469481836, 1.4935016347, 1.993519147306,
        -0.4975948048344, 0.2539609960876, 0.1010935148849, -0.1987730149464, 0.3008779819477]),
    ("Lamb", dict(learning_rate=0.1), [-0.04086455301518, -0.4352454949197, 0.9274397318642,
        1.430160392096, -0.38287859577, 0.4596786771035, 0.2171564644034, -0.06516694049038,
        0.3896716777225]),
    ("Lamb", dict(learning_rate=0.1, beta_1=0.5, beta_2=0.9, epsilon=0.1), [-0.003633724812121,
        -0.440380397785, 0.9163688660043, 1.414195136148, -0.3631315530115, 0.3632399861857,
        0.2084124646526, -0.05430683629021, 0.3608988070133]),
    ("Lamb", dict(learning_rate=0.1, weight_decay=0.2), [-0.03808458484852, -0.3927126357866,
        0.8375808862076, 1.293211845881, -0.3582159332719, 0.428742420067, 0.1963695185775,
        -0.05969618540445, 0.3539771744019]),
    ("Ftrl", dict(), [0.364559198599, -0.8328007484688, 1.319176942679, 1.755478682255,
        -0.1652309345974, 0.002567374022061, 0.02009020401781, -0.08421589708891,
        0.007110008488903]),
    ("Ftrl", dict(learning_rate=0.1), [0.1103764354555, -0.5513497578612, 1.025785470734,
        1.467684622127, -0.1986970342328, 0.1437805196884, 0.2021973605874, 0.1293457795145,
        0.1636317148246]),
    ("Ftrl", dict(learning_rate=0.1, learning_rate_power=-0.7, initial_accumulator_value=0.5,
        l1_regularization_strength=0.05, l2_regularization_strength=0.1,
        l2_shrinkage_regularization_strength=0.02, beta=0.3), [0.08189049301952,
        -0.5169608171801, 1.016724756159, 1.399664867283, -0.1010824120765, 0.0951760428381,
        0.1125892585672, 0.09499170473227, 0.09639718768374]),
    ("Adafactor", dict(), [0.496899344678, -0.9936717079791, 1.493506997014, 1.990965544726,
        -0.4990004813875, 0.2506087038356, 0.1006736401244, -0.1991741913519, 0.3004727975185]),
    ("Adafactor", dict(learning_rate=0.1), [0.2501349296789, -0.5120536402591, 0.9840199036365,
        1.303016887092, -0.4205888720782, 0.2927409378804, 0.1643923741078, -0.1168911020027,
        0.3413285740218]),
    ("Adafactor", dict(learning_rate=0.5, beta_2_decay=-0.5, epsilon_1=1e-20, epsilon_2=0.01,
        clip_threshold=0.5, relative_step=False), [-0.02506234851511, -0.04683144663154,
        0.4241535944033, 0.6280879710225, -0.3268279363983, 0.3159271812683, 0.2155903445593,
        0.03309407791366, 0.3072493492594]),
    ("Adafactor", dict(learning_rate=0.1, clipvalue=0.5), [0.08656658928191, -0.5154216541107,
        0.969565811113, 1.46527063392, -0.3433636139287, 0.2807905062048, 0.1665473812208,
        -0.1113273113392, 0.3384186590159]),
]
SCHEDULE_ADAFACTOR = [0.3373489326214, -0.6757158506767, 1.166000123235, 1.571161272161,
    -0.4636076770364, 0.2882575984238, 0.1458289471888, -0.1480757766744, 0.3378356284593]
# fmt: on

CLASSES = [Lion, Lamb, Ftrl, Adafactor]
COMMON = dict(
    weight_decay=None,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
    use_ema=False,
    ema_momentum=0.99,
    ema_overwrite_frequency=None,
    loss_scale_factor=None,
    gradient_accumulation_steps=None,
    name=None,
)
KERAS_DEFAULTS = {
    Lion: dict(learning_rate=0.001, beta_1=0.9, beta_2=0.99, **COMMON),
    Lamb: dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **COMMON),
    Ftrl: dict(
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        **COMMON,
    ),
    Adafactor: dict(
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        **COMMON,
    ),
}


@pytest.mark.parametrize("case", KERAS_REFERENCE, ids=case_id)
def test_step_matches_keras(case):
    name, kwargs, expected = case
    opt = getattr(optimizers, name)(**kwargs)
    params = train(opt, make_params())
    opt.finalize_variable_values(params)
    # Keras' Adafactor rounds part of its float64 arithmetic through float32 (differences of
    # up to 4e-8 relative); the others agree to 1e-10.
    rtol = 1e-6 if name == "Adafactor" else 1e-10
    assert_weights(params, expected, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("case", KERAS_REFERENCE[::3], ids=case_id)
def test_apply_gradients_in_float32_matches_keras(case):
    name, kwargs, expected = case
    opt = getattr(optimizers, name)(**kwargs)
    w, b = make_params(torch.float32)
    for t in range(5):
        opt.apply_gradients(zip(gradients(w.detach(), b.detach(), t), [w, b], strict=True))
    opt.finalize_variable_values([w, b])
    assert_weights([w, b], expected, rtol=1e-5, atol=1e-6)


def test_adafactor_schedule_matches_keras():
    opt = Adafactor(lambda step: 0.1 * 0.5 ** (step / 2))
    assert_weights(train(opt, make_params()), SCHEDULE_ADAFACTOR, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_signature_matches_keras(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    # Keras' **kwargs (its retired `decay`) is left out: the named parameters are compared.
    named = [p for p in parameters if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    signature = {p.name: p.default for p in named}
    assert list(signature.items()) == list(KERAS_DEFAULTS[cls].items())


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_get_by_name_and_config_round_trip(cls):
    opt = optimizers.get(cls.__name__.lower())
    assert type(opt) is cls
    assert optimizers.get(cls.__name__.upper()).name.startswith(cls.__name__.lower())
    config = json.loads(json.dumps(optimizers.serialize(opt)))
    clone = optimizers.deserialize(config)
    assert type(clone) is cls and clone.get_config() == opt.get_config()
    assert set(opt.get_config()) == {"learning_rate", *KERAS_DEFAULTS[cls]}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_state_dict_round_trip_resumes_identically(cls):
    reference = train(cls(learning_rate=0.1), make_params())
    first = cls(learning_rate=0.1)
    train(first, params := make_params(), steps=range(3))
    second = cls(learning_rate=0.1)
    second.load_state_dict(first.state_dict())  # before build: applied by build
    train(second, params, steps=range(3, 5))
    assert_weights(params, torch.cat([p.detach().flatten() for p in reference]).tolist())


def test_adafactor_factors_the_second_moment_of_matrices():
    opt = Adafactor()
    w, b = make_params()
    opt.build([w, b])
    shapes = [tuple(t.shape) for t in opt.variables[2:]]
    # Keras' variables: r, c, v per weight; r and c are scalars for vectors.
    assert shapes == [(2,), (3,), (2, 3), (), (), (3,)]


def test_ftrl_accumulator_starts_at_initial_value():
    opt = Ftrl(initial_accumulator_value=0.3)
    w, b = make_params()
    opt.build([w, b])
    assert torch.all(opt.state_dict()["state"][0]["accumulator"] == 0.3)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Lion(beta_1=0.0), "beta_1"),
        (lambda: Ftrl(learning_rate_power=0.5), "learning_rate_power"),
        (lambda: Ftrl(l1_regularization_strength=-1.0), "l1_regularization_strength"),
        (lambda: Ftrl(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
