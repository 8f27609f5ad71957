"""Tests for lamina.optimizers: Keras 3's update rules, the torch-style step, state and config.
The reference weights come from Keras 3.15.1 (torch backend, floatx float64) on the problem
below (W0, B0, gradients), with this loop:

    opt = keras.optimizers.<Name>(**kwargs)
    w, b = keras.Variable(W0, dtype="float64"), keras.Variable(B0, dtype="float64")
    for t in range(5):
        opt.apply_gradients(zip(gradients(w.value, b.value, t), [w, b]))
    opt.finalize_variable_values([w, b])  # a no-op unless use_ema
    print(w.value.flatten().tolist() + b.value.tolist())

SCHEDULE_* pass `keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)` as learning_rate;
LR_CHANGE_SGD sets `opt.learning_rate = 0.01` before step 2 (counting from 0)."""

from __future__ import annotations

import copy
import inspect
import json
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import optimizers
from lamina.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop

W0 = [[0.5, -1.0, 1.5], [2.0, -0.5, 0.25]]
B0 = [0.1, -0.2, 0.3]
SIGNS = [[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]]
SCALES = (1.0, 3.0, 0.5, 2.0, 0.2)  # ups and downs, so that AMSGrad's maximum matters


def gradients(w: torch.Tensor, b: torch.Tensor, t: int) -> list[torch.Tensor]:
    signs = torch.tensor(SIGNS, dtype=w.dtype, device=w.device)
    return [1.5 * w + 0.4 * SCALES[t] * signs, 0.8 * b - 0.3 * SCALES[t]]


# fmt: off
KERAS_REFERENCE = [
    ("SGD", dict(learning_rate=0.1), [0.03682740625, -0.2586800625, 0.48053271875, 1.072435875,
        -0.40687790625, 0.295951578125, 0.23137786112, 0.03365340416, 0.36319416576]),
    ("SGD", dict(learning_rate=0.1, momentum=0.9), [-0.71133359375, 0.8894859375, -1.06763828125,
        -0.179428125, -0.35502890625, 0.444105078125, 0.49768467872, 0.45744824096, 0.52450897056]),
    ("SGD", dict(learning_rate=0.1, momentum=0.9, nesterov=True), [-0.6362648373491,
        0.8010432597506, -0.9658216821522, -0.1876272746588, -0.3067079925459, 0.3890972037467,
        0.5106772353971, 0.4996921673706, 0.5180006140814]),
    ("SGD", dict(learning_rate=0.1, momentum=0.5, weight_decay=0.2), [-0.23464042625, 0.1726414441,
        -0.11064246195, 0.544635337, -0.35863839055, 0.327638899475, 0.312362, 0.189911, 0.393996]),
    ("SGD", dict(learning_rate=0.1, clipnorm=1.0), [0.3629907877933, -0.779903657478,
        1.196816527163, 1.72157356063, -0.4708349515759, 0.2623785167336, 0.2118079802676,
        0.008698391587459, 0.347214372721]),
    ("SGD", dict(learning_rate=0.1, clipvalue=0.5), [0.25, -0.75, 1.25, 1.75, -0.42525,
        0.2762228125, 0.207830336, -0.0222256, 0.351108928]),
    ("SGD", dict(learning_rate=0.1, global_clipnorm=1.0), [0.3655226054418, -0.7836179023518,
        1.201713199262, 1.724953879108, -0.4706679883781, 0.2616203399231, 0.1320583385344,
        -0.140861633248, 0.3140049863893]),
    ("Adam", dict(learning_rate=0.1), [0.03250886091443, -0.5142641190078, 1.008249033044,
        1.510256281183, -0.3869637916682, 0.4453520351175, 0.4613061792724, 0.2337791988515,
        0.5624176219185]),
    ("Adam", dict(learning_rate=0.1, amsgrad=True, beta_2=0.5), [0.07912896537324,
        -0.5429624991861, 1.024279848038, 1.510587603016, -0.3871185103766, 0.4364456453741,
        0.4144288046292, 0.1774198464402, 0.5395302852233]),
    ("Adam", dict(learning_rate=0.1, weight_decay=0.2, beta_1=0.5), [0.04248472588193,
        -0.464494479021, 0.9045471595962, 1.353873237797, -0.3408764593227, 0.3565502376305,
        0.3830586515654, 0.1908334451888, 0.4701003093396]),
    ("Adam", dict(learning_rate=0.1, global_clipnorm=1.0, epsilon=0.1), [0.4354315510126,
        -0.905563916635, 1.3796741211, 1.892795052465, -0.4897993581486, 0.2601180338426,
        0.1186590658335, -0.1689160345532, 0.3100161707905]),
    ("Adam", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.9), [0.3150968375065,
        -0.8119176591607, 1.310871030594, 1.811981907136, -0.4036742158635, 0.3827667089575,
        0.2651676566252, -0.02142248462056, 0.4457222030567]),
    ("Adam", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2), [
        0.1899004686841, -0.6815792005603, 1.178816554439, 1.680270007365, -0.3936344364899,
        0.4133006159314, 0.3549553732087, 0.09248180374459, 0.4993336930569]),
    ("AdamW", dict(learning_rate=0.1), [0.03193352863605, -0.5126931007229, 1.005677106831,
        1.506699066704, -0.3863741877888, 0.4447693956896, 0.4608155913681, 0.2337904763332,
        0.5616719325676]),
    ("AdamW", dict(learning_rate=0.1, weight_decay=0.3, amsgrad=True, beta_2=0.5), [
        0.03884880418979, -0.4349501173129, 0.8470798730749, 1.261949723208, -0.346081019492,
        0.3944235352781, 0.3802849264243, 0.1795752713845, 0.4852694151437]),
    ("RMSprop", dict(learning_rate=0.1), [-0.163679583072, -0.1620833330734, 0.5872618118663,
        1.076342695043, -0.2677075045993, 0.3746152647151, 0.4361325789396, 0.3466071845514,
        0.5031838529904]),
    ("RMSprop", dict(learning_rate=0.1, momentum=0.9), [-1.160463785679, 1.188478225089,
        -0.9767251430996, -0.3320599361971, -0.3320236987302, 1.167869535661, 1.253016942039,
        1.307323719372, 1.324321986051]),
    ("RMSprop", dict(learning_rate=0.1, centered=True), [-0.1881182395457, -0.09565979718234,
        0.4913833713524, 0.9700949282658, -0.2670717782004, 0.3772340714101, 0.4520876674273,
        0.3653872093957, 0.5152316508237]),
    ("RMSprop", dict(learning_rate=0.1, centered=True, momentum=0.5, rho=0.5), [-0.4304826072911,
        0.2932851959741, -0.05111319983745, 0.3952810082232, -0.2951359541375, 0.4310221662678,
        0.6336879050402, 0.5831820777231, 0.6506980099987]),
    ("RMSprop", dict(learning_rate=0.1, clipvalue=0.5, epsilon=0.01), [-0.1470331539512,
        -0.07116626574216, 0.5343602806965, 1.034360280697, -0.2670163457137, 0.2790821772828,
        0.3770939618355, 0.3015668877998, 0.4046834441335]),
    ("Adagrad", dict(learning_rate=0.1), [0.2254018025988, -0.7035157168278, 1.194713810586,
        1.691744604861, -0.4022406085236, 0.3080429637301, 0.2665249376649, 0.03425886178889,
        0.3882290283468]),
    ("Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=0.001), [
        0.2409998964092, -0.7110284147912, 1.198970744621, 1.696906142368, -0.4199573143821,
        0.2988598585638, 0.2280120741886, -0.005362890924118, 0.3671198670528]),
    ("Adagrad", dict(learning_rate=0.1, clipnorm=1.0), [0.2671018579929, -0.7208171688941,
        1.200218917698, 1.704767473999, -0.4285817331915, 0.2776225844304, 0.2643854649812,
        0.03912714619841, 0.3787922772238]),
    ("Adadelta", dict(learning_rate=1.0), [0.493365958458, -0.9930736929666, 1.492963719833,
        1.992930720946, -0.496581739915, 0.2531167431625, 0.1049644057934, -0.1940083619083,
        0.3036079098397]),
    ("Adadelta", dict(learning_rate=1.0, rho=0.5, epsilon=0.001), [0.2695681192663,
        -0.7454132103157, 1.236181237246, 1.733135191151, -0.4061274859792, 0.2822383460118,
        0.2280474370332, -0.00975575441273, 0.3652674013469]),
    ("Adadelta", dict(learning_rate=1.0, weight_decay=0.1), [0.2903834552147, -0.5854754580445,
        0.8806700208078, 1.176140129643, -0.2937858888952, 0.1505002937111, 0.06297623468046,
        -0.1135933615539, 0.1803103894094]),
    ("Adamax", dict(learning_rate=0.1), [0.1299908829392, -0.5926296272891, 1.07188523463,
        1.565576932031, -0.3931247140766, 0.4242250205761, 0.3716647379292, 0.1254931143634,
        0.5127302079563]),
    ("Adamax", dict(learning_rate=0.1, beta_1=0.5, beta_2=0.9, epsilon=0.1), [0.1380463878121,
        -0.5814359285336, 1.048874184729, 1.561641329778, -0.3899101072178, 0.3406344318794,
        0.3169657070604, 0.09305371774845, 0.4314598309915]),
    ("Adamax", dict(learning_rate=0.1, weight_decay=0.1, clipvalue=0.5), [-0.0004970804843859,
        -0.4608906469199, 0.9363856718699, 1.41188069682, -0.355355297125, 0.394784844265,
        0.3794538256913, 0.2064906869395, 0.4917237329545]),
    ("Nadam", dict(learning_rate=0.1), [0.1598871646411, -0.6350090871647, 1.124964779802,
        1.619931113496, -0.3714755043208, 0.3671471151373, 0.3417192261636, 0.107223773736,
        0.4671536494832]),
    ("Nadam", dict(learning_rate=0.1, beta_1=0.5, epsilon=0.01), [0.09361016301394,
        -0.5484919269565, 1.029466823573, 1.515789683456, -0.339407860975, 0.32790822056,
        0.3535175398589, 0.1530944702721, 0.4476781591502]),
    ("Nadam", dict(learning_rate=0.1, global_clipnorm=1.0, weight_decay=0.1), [0.1282026921835,
        -0.5767959964666, 1.04246028166, 1.520882258156, -0.3323307199543, 0.3306165156273,
        0.3226584386763, 0.118505470336, 0.4283187921353]),
]
SCHEDULE_SGD = [-0.4991017459859, 0.5461216120985, -0.593141478211, 0.2640024154232,
    -0.4050620137608, 0.4285719468171, 0.4046311467385, 0.2960395682003, 0.4770255324307]
SCHEDULE_ADAMW = [0.207274896353, -0.6742408206865, 1.144893430334, 1.620157295672,
    -0.3882193040745, 0.4038607416939, 0.3233249064691, 0.06439641167451, 0.4753223856973]
LR_CHANGE_SGD = [-0.5976528907813, 0.6417178978125, -0.6857829048438, 0.377327855625,
    -0.5095228767188, 0.5315553802344, 0.4693806657075, 0.3527588887194, 0.547128517033]
# fmt: on

ALL_CLASSES = [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam]


def make_params(dtype=torch.float64) -> list[torch.nn.Parameter]:
    return [
        torch.nn.Parameter(torch.tensor(W0, dtype=dtype)),
        torch.nn.Parameter(torch.tensor(B0, dtype=dtype)),
    ]


def train(opt, params, steps=range(5), lr_change=None) -> list[torch.nn.Parameter]:
    """Run the reference problem's steps with the torch-style build / step / zero_grad loop."""
    opt.build(params)
    for t in steps:
        if lr_change is not None and t == lr_change[0]:
            opt.learning_rate = lr_change[1]
        for p, g in zip(params, gradients(*(p.detach() for p in params), t), strict=True):
            p.grad = g
        opt.step()
        opt.zero_grad()
    return params


def weights(params) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in params]).double()


def assert_weights(params, expected: list[float], rtol: float = 1e-12, atol: float = 1e-14):
    expected = torch.tensor(expected, dtype=torch.float64)
    torch.testing.assert_close(weights(params).cpu(), expected, rtol=rtol, atol=atol)


def case_id(case) -> str:
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


def tolerance(kwargs: dict) -> float:
    # Under floatx float64 Keras still computes part of its norm clipping in float32
    # (`ops.minimum(tensor, python_float)` returns float32), hence the looser tolerance there.
    return 1e-6 if "clipnorm" in kwargs or "global_clipnorm" in kwargs else 1e-12


@pytest.mark.parametrize("case", KERAS_REFERENCE, ids=case_id)
def test_step_matches_keras(case):
    name, kwargs, expected = case
    opt = getattr(optimizers, name)(**kwargs)
    params = train(opt, make_params())
    opt.finalize_variable_values(params)
    assert_weights(params, expected, rtol=tolerance(kwargs))


@pytest.mark.parametrize("case", KERAS_REFERENCE[::4], ids=case_id)
def test_float32_matches_keras_float64_to_float32_precision(case):
    name, kwargs, expected = case
    opt = getattr(optimizers, name)(**kwargs)
    params = train(opt, make_params(torch.float32))
    opt.finalize_variable_values(params)
    assert params[0].dtype == torch.float32
    assert_weights(params, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_REFERENCE[:: len(KERAS_REFERENCE) // 6], ids=case_id)
def test_apply_gradients_matches_keras(case):
    name, kwargs, expected = case
    opt = getattr(optimizers, name)(**kwargs)
    w, b = make_params()
    for t in range(5):
        opt.apply_gradients(zip(gradients(w.detach(), b.detach(), t), [w, b], strict=True))
    opt.finalize_variable_values([w, b])
    assert_weights([w, b], expected, rtol=tolerance(kwargs))
    assert opt.iterations == 5


@pytest.mark.parametrize(
    ("opt", "expected"),
    [
        (SGD(lambda step: 0.1 * 0.5 ** (step / 2), momentum=0.9), SCHEDULE_SGD),
        (AdamW(lambda step: 0.1 * 0.5 ** (step / 2), weight_decay=0.2), SCHEDULE_ADAMW),
    ],
    ids=["sgd-momentum", "adamw"],
)
def test_schedule_learning_rate_matches_keras(opt, expected):
    params = train(opt, make_params())
    assert_weights(params, expected)
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** (5 / 2))


def test_learning_rate_setter_takes_effect_on_next_step():
    opt = SGD(learning_rate=0.1, momentum=0.9)
    params = train(opt, make_params(), lr_change=(2, 0.01))
    assert opt.learning_rate == 0.01
    assert isinstance(opt.learning_rate, float)
    assert_weights(params, LR_CHANGE_SGD)


def test_learning_rate_of_a_schedule_cannot_be_set_to_a_number():
    opt = Adam(learning_rate=lambda step: 0.1)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.01


def test_learning_rate_callable_without_arguments_is_called_without_arguments():
    assert Adam(learning_rate=lambda: 0.25).learning_rate == 0.25


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_get_by_name_is_case_insensitive(cls):
    for name in (cls.__name__.lower(), cls.__name__.upper()):
        assert type(optimizers.get(name)) is cls


def test_get_unknown_name_lists_valid_names():
    valid = (
        "adadelta, adafactor, adagrad, adam, adamax, adamw, ftrl, lamb, lion, "
        "lossscaleoptimizer, multioptimizer, muon, nadam, rmsprop, schedulefreeadamw, sgd"
    )
    with pytest.raises(ValueError, match=f"Unknown optimizer 'adamm'. Valid names: {valid}"):
        optimizers.get("adamm")


def test_get_instance_dict_and_none():
    opt = Adam()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    rebuilt = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert isinstance(rebuilt, Adam)
    assert rebuilt.learning_rate == 0.5
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier 42"):
        optimizers.get(42)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.5, clipnorm=2.0, name="my_opt")
    config = opt.get_config()
    assert json.loads(json.dumps(config)) == config
    assert cls.from_config(config).get_config() == config
    restored = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(restored) is cls
    assert restored.get_config() == config


def test_config_learning_rate_is_keras_float32_value():
    # Keras 3.15.1: Adam(0.01).get_config()["learning_rate"] is 0.009999999776482582 (its
    # float32 variable), also after `learning_rate = 0.05` and through serialize.
    opt = Adam(learning_rate=0.01)
    assert opt.get_config()["learning_rate"] == 0.009999999776482582
    opt.learning_rate = 0.05
    assert opt.get_config()["learning_rate"] == 0.05000000074505806
    assert optimizers.serialize(SGD(0.2))["config"]["learning_rate"] == 0.20000000298023224
    assert optimizers.get("adam").get_config()["learning_rate"] == 0.0010000000474974513


# Keras 3.15.1 signature defaults; the common arguments follow the specific ones.
COMMON = dict(weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
              use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
              loss_scale_factor=None, gradient_accumulation_steps=None, name=None)  # fmt: skip
ADAM_LIKE = dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
KERAS_DEFAULTS = {
    SGD: dict(learning_rate=0.01, momentum=0.0, nesterov=False, **COMMON),
    Adam: dict(**ADAM_LIKE, amsgrad=False, **COMMON),
    AdamW: dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, amsgrad=False, **{k: v for k, v in COMMON.items()
                                                if k != "weight_decay"}),
    RMSprop: dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                  **COMMON),
    Adagrad: dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **COMMON),
    Adadelta: dict(learning_rate=0.001, rho=0.95, epsilon=1e-7, **COMMON),
    Adamax: dict(**ADAM_LIKE, **COMMON),
    Nadam: dict(**ADAM_LIKE, **COMMON),
}  # fmt: skip


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_signature_matches_keras(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    # Keras' **kwargs (its retired `decay`) is left out: the named parameters are compared.
    named = [p for p in parameters if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    signature = {p.name: p.default for p in named}
    assert list(signature.items()) == list(KERAS_DEFAULTS[cls].items())


STATEFUL = [
    SGD(0.1, momentum=0.9),
    Adam(0.1, amsgrad=True, use_ema=True),
    RMSprop(0.1, momentum=0.5, centered=True),
    Adagrad(0.1),
    Adadelta(1.0),
    Adamax(0.1),
    Nadam(0.1),
]


@pytest.mark.parametrize("opt", STATEFUL, ids=lambda o: type(o).__name__)
def test_state_dict_round_trip_resumes_identically(opt):
    params = train(opt, make_params(), steps=range(3))
    state = copy.deepcopy(opt.state_dict())
    without_tensors = {k: v for k, v in state.items() if k != "state"}
    assert json.loads(json.dumps(without_tensors)) == without_tensors
    resumed = type(opt).from_config(opt.get_config())
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    resumed.build(resumed_params)
    resumed.load_state_dict(state)
    assert resumed.iterations == 3
    train(opt, params, steps=range(3, 5))
    train(resumed, resumed_params, steps=range(3, 5))
    torch.testing.assert_close(weights(resumed_params), weights(params), rtol=0, atol=0)


def test_load_state_dict_before_build_is_applied_by_build():
    opt = Nadam(0.1)
    params = train(opt, make_params(), steps=range(2))
    resumed = Nadam(0.1)
    resumed.load_state_dict(copy.deepcopy(opt.state_dict()))
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    resumed.build(resumed_params)
    train(opt, params, steps=range(2, 4))
    train(resumed, resumed_params, steps=range(2, 4))
    torch.testing.assert_close(weights(resumed_params), weights(params), rtol=0, atol=0)


def test_load_state_dict_of_another_optimizer_names_the_slots():
    adam = Adam()
    train(adam, make_params(), steps=range(1))
    sgd = SGD(momentum=0.9)
    sgd.build(make_params())
    with pytest.raises(ValueError, match=r"expects slots \['momentum'\].*has \['momentum', 've"):
        sgd.load_state_dict(adam.state_dict())


def test_step_skips_params_without_grad():
    opt = Adam(0.1)
    w, b = make_params()
    opt.build([w, b])
    w.grad = torch.ones_like(w)
    opt.step()
    assert torch.equal(b.detach(), torch.tensor(B0, dtype=torch.float64))
    assert not opt.state_dict()["state"][1]["momentum"].any()
    assert opt.state_dict()["state"][0]["momentum"].all()
    expected = torch.tensor(W0, dtype=torch.float64) - 0.1  # Adam's first step: lr * sign(g)
    torch.testing.assert_close(w.detach(), expected, rtol=0, atol=1e-6)
    assert opt.iterations == 1


def test_zero_grad_sets_grads_to_none():
    opt, params = SGD(), make_params()
    opt.build(params)
    params[0].grad = torch.ones_like(params[0])
    opt.zero_grad()
    assert params[0].grad is None


def test_build_again_is_a_no_op_and_other_params_keep_known_slots():
    opt = Adam(0.1)
    w, b = train(opt, make_params(), steps=range(1))
    momentum = opt.state_dict()["state"][0]["momentum"]
    opt.build([w, b])
    assert opt.state_dict()["state"][0]["momentum"] is momentum
    extra = torch.nn.Parameter(torch.zeros(4))
    opt.build([extra, w])
    assert opt.state_dict()["state"][1]["momentum"] is momentum
    assert opt.state_dict()["state"][0]["momentum"].shape == (4,)


def test_variables_follow_keras_order_and_count():
    opt = Adam(use_ema=True)
    opt.build(make_params())
    # Keras: iteration, learning_rate, 2 averages, then momentum/velocity interleaved per variable
    shapes = [(), (), (2, 3), (3,), (2, 3), (2, 3), (3,), (3,)]
    assert [tuple(v.shape) for v in opt.variables] == shapes


def test_constraint_attribute_is_applied_after_the_update():
    opt = SGD(1.0)
    w, b = make_params()
    w.constraint = lambda x: x.clamp(-0.1, 0.1)
    opt.build([w, b])
    w.grad, b.grad = torch.ones_like(w), torch.ones_like(b)
    opt.step()
    assert w.detach().abs().max() == 0.1
    torch.testing.assert_close(b.detach(), torch.tensor(B0, dtype=torch.float64) - 1.0)


def test_exclude_from_weight_decay():
    opt = SGD(0.5, weight_decay=0.2)
    w, b = make_params()
    opt.exclude_from_weight_decay(var_list=[b])
    opt.build([w, b])
    w.grad, b.grad = torch.zeros_like(w), torch.zeros_like(b)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor(W0, dtype=torch.float64) * 0.9)
    assert torch.equal(b.detach(), torch.tensor(B0, dtype=torch.float64))


def test_loss_scale_factor_unscales_gradients():
    opt = SGD(0.5, loss_scale_factor=4.0)
    w = torch.nn.Parameter(torch.zeros(2))
    opt.build([w])
    opt.scale_loss(w.sum()).backward()
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2,), -0.5))


def test_params_of_several_dtypes_in_one_optimizer():
    w32, b64 = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2).double())
    opt = Adam(0.1, epsilon=0.0)
    opt.build([w32, b64])
    w32.grad, b64.grad = torch.ones(3), torch.ones(2).double()
    opt.step()
    torch.testing.assert_close(w32.detach(), torch.full((3,), 0.9))
    torch.testing.assert_close(b64.detach(), torch.full((2,), 0.9).double())


def test_works_with_grad_scaler():
    layer = torch.nn.Linear(3, 2)
    opt = SGD(0.1)
    opt.build(list(layer.parameters()))
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    scaler.scale(layer(torch.ones(4, 3)).sum()).backward()
    before = layer.bias.detach().clone()
    scaler.step(opt)
    torch.testing.assert_close(layer.bias.detach(), before - 0.4)


def test_step_before_build_raises():
    with pytest.raises(ValueError, match=r"not built: call `optimizer.build"):
        Adam().step()


def test_apply_gradients_to_unknown_param_raises():
    opt = SGD()
    opt.build(make_params())
    stranger = torch.nn.Parameter(torch.zeros(5))
    with pytest.raises(ValueError, match=r"does not know \(first: shape \(5,\)\)"):
        opt.apply_gradients([(torch.ones(5), stranger)])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: SGD(clipnorm=1.0, clipvalue=1.0), ValueError, "only one of `clipnorm`"),
        (lambda: SGD(momentum=1.5), ValueError, r"`momentum` must be a float in \[0, 1\]"),
        (lambda: AdamW(weight_decay=None), ValueError, "`weight_decay` must be a float"),
        # Keras 3.15.1: "ValueError: Argument `learning_rate` should be float, or an instance
        # of LearningRateSchedule, or a callable ..."
        (lambda: Adam(learning_rate="fast"), ValueError, "`learning_rate` should be float"),
        (lambda: Adam(gradient_accumulation_steps=1), ValueError, "integer >= 2"),
        (lambda: Adam(use_ema=True, ema_momentum=2.0), ValueError, r"`ema_momentum` must be"),
    ],
    ids=["clip", "momentum", "adamw-decay", "lr", "accumulation-1", "ema"],
)
def test_invalid_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_step_on_gpu_matches_keras_without_host_synchronisation():
    for name, kwargs, expected in KERAS_REFERENCE:
        opt = getattr(optimizers, name)(**kwargs)
        params = [torch.nn.Parameter(p.detach().cuda()) for p in make_params()]
        opt.build(params)
        for t in range(5):
            for p, g in zip(params, gradients(*(p.detach() for p in params), t), strict=True):
                p.grad = g
            torch.cuda.set_sync_debug_mode("error")
            try:
                opt.step()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        opt.finalize_variable_values(params)
        assert_weights(params, expected, rtol=tolerance(kwargs))


def test_variables_without_gradients_warn_as_keras():
    # Keras 3.15.1, a two-output model compiled with a loss for one output only, and
    # optimizer.apply with a None gradient: "Gradients do not exist for variables
    # ['b/kernel', 'b/bias'] when minimizing the loss. ..."; the others are updated.
    inputs = lamina.Input((3,))
    a = lamina.layers.Dense(1, name="a")(inputs)
    b = lamina.layers.Dense(1, name="b")(inputs)
    model = lamina.Model(inputs, [a, b])
    model.compile("sgd", loss=["mse", None])
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    with pytest.warns(UserWarning, match=r"variables \['b/kernel', 'b/bias'\] when minimizing"):
        model.fit(x, [y, y], verbose=0)
    dense = model.get_layer("a")
    optimizer = lamina.optimizers.SGD(0.5)
    kernel = dense.kernel.numpy()
    with pytest.warns(UserWarning, match=r"variables \['a/bias'\]"):
        optimizer.apply([torch.ones_like(dense.kernel), None], [dense.kernel, dense.bias])
    np.testing.assert_allclose(dense.kernel.numpy(), kernel - 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile("sgd", loss=["mse", "mse"])
        model.fit(x, [y, y], verbose=0)
