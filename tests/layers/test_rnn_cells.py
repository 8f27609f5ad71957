"""SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells and RNN against Keras 3.15.1.

Reference values come from Keras 3.15.1 (torch backend), made by
/work/scratch/s17/rnncells/make_refs.py: each Keras layer gets the weights of `keras_weights`
(a formula, so only outputs are pasted) and runs on `X`; each entry is one output, written
"shape: values" to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina import ops
from lamina.layers.core import Dense, Input
from lamina.layers.layer import Layer
from lamina.layers.recurrent import GRU, LSTM, SimpleRNN
from lamina.layers.rnn import RNN
from lamina.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from lamina.testing import check_layer

X = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
MASK = np.array([[True, True, True, False], [False, True, False, True]])


def keras_weights(shapes):
    return [
        (0.5 * np.sin(0.7 * np.arange(int(np.prod(s))) + 1.3 * i)).astype("float32").reshape(s)
        for i, s in enumerate(shapes)
    ]


def parse(entry):
    shape, values = entry.split(":")
    return np.array(values.split(), "float32").reshape([int(d) for d in shape.split(",") if d])


@lamina.saving.register_keras_serializable(package="test_rnn_cells")
class MinimalRNNCell(Layer):
    """Keras' guide cell ('uniform' there is random_uniform)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="random_uniform", name="recurrent_kernel"
        )

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


CASES = {  # as make_refs.py
    "simple_cell": (lambda: RNN(SimpleRNNCell(4), return_sequences=True, return_state=True), {}),
    "lstm_cell": (lambda: RNN(LSTMCell(4), return_sequences=True, return_state=True), {}),
    "gru_cell": (lambda: RNN(GRUCell(4), return_sequences=True, return_state=True), {}),
    "gru_cell_reset_before": (
        lambda: RNN(GRUCell(4, reset_after=False), return_sequences=True, return_state=True),
        {},
    ),
    "lstm_cell_relu": (lambda: RNN(LSTMCell(4, activation="relu"), return_state=True), {}),
    "lstm_cell_mask_backwards": (
        lambda: RNN(LSTMCell(4), go_backwards=True, return_sequences=True, return_state=True),
        {"mask": True},
    ),
    "gru_cell_mask_zero_output": (
        lambda: RNN(GRUCell(4), return_sequences=True, zero_output_for_mask=True),
        {"mask": True},
    ),
    "lstm_cell_initial_state": (
        lambda: RNN(LSTMCell(4), return_sequences=True),
        {"initial_state": 2},
    ),
    "stacked": (
        lambda: RNN(
            StackedRNNCells([LSTMCell(4), GRUCell(3)]), return_sequences=True, return_state=True
        ),
        {},
    ),
    "cell_list_mask": (
        lambda: RNN([SimpleRNNCell(3), LSTMCell(2)], return_state=True),
        {"mask": True},
    ),
    "minimal_cell": (lambda: RNN(MinimalRNNCell(4), return_sequences=True, return_state=True), {}),
    "minimal_cell_mask": (lambda: RNN(MinimalRNNCell(4)), {"mask": True}),
}
GRADIENT_CASES = {
    "lstm_cell": lambda: RNN(LSTMCell(3), return_sequences=True),
    "stacked_mask": lambda: RNN([GRUCell(3), SimpleRNNCell(2)]),
    "minimal_cell": lambda: RNN(MinimalRNNCell(3), return_sequences=True),
}

REFERENCE = {
    "simple_cell": [
        "2,4,4: 0.03347268 -0.009819639 -0.04846858 -0.06429102 0.06865148 0.07503032 "
        "0.04619625 -0.004455485 0.5749238 0.1850175 -0.3527061 -0.635691 0.3148939 -0.1146458 "
        "-0.4637789 -0.5736361 0.5471857 -0.663973 -0.9505959 -0.9648356 0.5769481 0.2884321 "
        "-0.2010065 -0.543124 0.570695 0.1154442 -0.4391433 -0.6840577 0.2251205 0.6372203 "
        "0.727569 0.5778634",
        "2,4: 0.3148939 -0.1146458 -0.4637789 -0.5736361 0.2251205 0.6372203 0.727569 0.5778634",
    ],
    "lstm_cell": [
        "2,4,4: 0.09360369 0.03126441 -0.05126218 -0.1161495 0.1497038 0.0934617 -0.01209306 "
        "-0.1371106 0.03630097 0.08197968 0.1318423 0.109944 0.1068309 0.07498035 0.06083247 "
        "0.05954601 0.111036 0.06739574 -0.02817993 -0.1087893 0.165993 0.1160189 0.002533953 "
        "-0.1355228 0.1406674 0.07896956 -0.0093817 -0.04122776 0.1462137 0.136526 0.08833835 "
        "0.01765721",
        "2,4: 0.1068309 0.07498035 0.06083247 0.05954601 0.1462137 0.136526 0.08833835 0.01765721",
        "2,4: 0.5115293 0.251084 0.1244067 0.08727758 0.3407382 0.3857331 0.2524428 0.04328013",
    ],
    "gru_cell": [
        "2,4,4: 0.003803984 -0.2734922 -0.3554448 -0.2567716 -0.07055951 -0.3698063 -0.4412121 "
        "-0.3131226 0.1390712 0.03145754 0.0205438 -0.01906204 0.2663181 -0.2344717 -0.4998501 "
        "-0.4709467 0.3727595 0.2579438 -0.3846893 -0.6337173 0.3622802 -0.05830771 -0.5301124 "
        "-0.6499314 0.4885073 0.2382392 -0.19595 -0.5277979 -0.1612092 -0.1766405 -0.1834763 "
        "-0.2485777",
        "2,4: 0.2663181 -0.2344717 -0.4998501 -0.4709467 -0.1612092 -0.1766405 -0.1834763 "
        "-0.2485777",
    ],
    "gru_cell_reset_before": [
        "2,4,4: 0.1216158 -0.05368333 -0.2229882 -0.2668532 0.1245888 -0.101315 -0.2834239 "
        "-0.3202536 0.2495608 0.1593688 0.1303035 0.02179955 0.3769431 0.04099787 -0.3434012 "
        "-0.4856822 0.2861977 0.3390971 -0.2042042 -0.6533899 0.3711603 0.1309179 -0.3720549 "
        "-0.6376423 0.4808198 0.3371484 -0.06966124 -0.5030133 0.05259012 0.07709786 "
        "-0.01865287 -0.1851637",
        "2,4: 0.3769431 0.04099787 -0.3434012 -0.4856822 0.05259012 0.07709786 -0.01865287 "
        "-0.1851637",
    ],
    "lstm_cell_relu": [
        "2,4: 0.1811601 0.08514632 0.1040695 0.2405248 0.1891998 0.1739055 0.1074682 0.04042837",
        "2,4: 0.1811601 0.08514632 0.1040695 0.2405248 0.1891998 0.1739055 0.1074682 0.04042837",
        "2,4: 0.8226163 0.2925469 0.2187957 0.3551503 0.4248965 0.474305 0.3065228 0.1005161",
    ],
    "lstm_cell_mask_backwards": [
        "2,4,4: 0 0 0 0 -0.1308121 -0.01843067 0.1039292 0.1264494 0.08231858 0.04338228 "
        "0.03352887 0.0378412 0.1260265 0.05736718 -0.0261811 -0.0882047 0.09841157 0.1059266 "
        "0.07605693 0.01989194 0.09841157 0.1059266 0.07605693 0.01989194 0.1427267 0.1166004 "
        "0.05178579 -0.06664898 0.1427267 0.1166004 0.05178579 -0.06664898",
        "2,4: 0.1260265 0.05736718 -0.0261811 -0.0882047 0.1427267 0.1166004 0.05178579 "
        "-0.06664898",
        "2,4: 0.3909863 0.1446905 -0.0512666 -0.1439485 0.5211372 0.3849397 0.123249 -0.1173082",
    ],
    "gru_cell_mask_zero_output": [
        "2,4,4: 0.003803984 -0.2734922 -0.3554448 -0.2567716 -0.07055951 -0.3698063 -0.4412121 "
        "-0.3131226 0.1390712 0.03145754 0.0205438 -0.01906204 0 0 0 0 0 0 0 0 0.1635834 "
        "-0.1017123 -0.3035865 -0.3102345 0 0 0 0 -0.2791807 -0.2916539 -0.2152168 -0.1056799",
    ],
    "lstm_cell_initial_state": [
        "2,4,4: 0.1160231 0.06969049 0.01162813 -0.03454193 0.1535531 0.1025496 0.01058157 "
        "-0.09589864 0.04134424 0.08272311 0.1354013 0.1170899 0.1071365 0.07495854 0.06255307 "
        "0.06972888 0.1219712 0.09119282 0.02987813 -0.01298671 0.1670296 0.1224412 0.02408745 "
        "-0.08808945 0.1426538 0.0806757 -0.002317111 -0.02552165 0.1465396 0.1360655 "
        "0.08921432 0.02317056",
    ],
    "stacked": [
        "2,4,3: -0.2977496 -0.1865522 -0.07708029 -0.4253592 -0.2822809 -0.1143562 -0.4654869 "
        "-0.3256437 -0.1352978 -0.495155 -0.3536494 -0.1433117 -0.2922786 -0.1876445 "
        "-0.08053062 -0.4168311 -0.2815451 -0.1180449 -0.4823188 -0.3342242 -0.1340916 "
        "-0.4939404 -0.3528008 -0.1419327",
        "2,4: 0.1068309 0.07498035 0.06083247 0.05954601 0.1462137 0.136526 0.08833835 0.01765721",
        "2,4: 0.5115293 0.251084 0.1244067 0.08727758 0.3407382 0.3857331 0.2524428 0.04328013",
        "2,3: -0.495155 -0.3536494 -0.1433117 -0.4939404 -0.3528008 -0.1419327",
    ],
    "cell_list_mask": [
        "2,2: 0.04644775 -0.02961 0.0218499 -0.07922442",
        "2,3: 0.8087418 0.7396328 0.3179021 0.1001954 0.2642162 0.3035766",
        "2,2: 0.04644775 -0.02961 0.0218499 -0.07922442",
        "2,2: 0.0814494 -0.0525499 0.0500906 -0.1759496",
    ],
    "minimal_cell": [
        "2,4,4: -0.2242655 0.06905289 0.3298947 0.4355818 -0.3039264 -0.02621226 0.2638299 "
        "0.4297888 0.2629568 0.07266754 -0.1517984 -0.3048712 -0.02295977 -0.1618544 -0.2246265 "
        "-0.1817532 0.3566047 -0.7210131 -1.459527 -1.511603 0.2587464 0.2975032 0.1963395 "
        "0.00283426 0.2745234 0.01196611 -0.256219 -0.4039004 -0.1142221 0.7218062 1.218358 "
        "1.141897",
        "2,4: -0.02295977 -0.1618544 -0.2246265 -0.1817532 -0.1142221 0.7218062 1.218358 1.141897",
    ],
    "minimal_cell_mask": [
        "2,4: 0.2629568 0.07266754 -0.1517984 -0.3048712 -0.197603 0.609707 1.130262 1.119237",
    ],
}

# loss = mean(output ** 2), then the gradient of each weight (Keras' layout)
GRADIENTS = {
    "lstm_cell": [
        ": 0.01747469",
        "3,12: -0.005074597 -0.005257014 0.0005804767 -0.0009950553 0.000256063 6.120119e-05 "
        "-0.02462614 0.003270171 0.003569937 -0.004740957 -0.003486066 0.001135623 "
        "-0.0004457502 0.0001230763 0.001678784 -0.0005849847 0.0004234038 0.0002222963 "
        "-0.006562685 0.004305558 0.002366566 -0.0008444593 0.0006061152 0.001982978 "
        "-0.003392287 -0.002672343 -0.001647952 0.0001101356 -0.0004003164 -0.0001967239 "
        "-0.00480435 -0.003278935 -0.002018382 -0.003030415 -0.00211761 -0.001368132",
        "3,12: 0.0002594199 0.0005585159 0.0004216168 0.0003072511 0.000430718 0.0001166436 "
        "0.001240236 0.002086848 0.0008922268 0.000508062 0.0007379345 0.0004140781 "
        "0.0002965924 0.0004551421 0.0003540018 0.0001494653 0.000357351 0.0001354058 "
        "0.0009928865 0.001793001 0.0008072403 0.0004271347 0.0006540144 0.0004521886 "
        "0.0002202027 0.0002683176 0.0002005999 2.257646e-05 0.0001904404 9.853997e-05 "
        "0.0005823736 0.0009875327 0.0004720194 0.0002474042 0.0003974968 0.0003209459",
        "12: 0.005495355 0.005579895 0.003450193 0.0005892908 0.002318164 0.001019006 "
        "0.01300702 0.01562274 0.008267581 0.006226478 0.005956554 0.003785975",
    ],
    "stacked_mask": [
        ": 0.2128573",
        "3,9: -0.04524793 -0.01907923 0.02635026 0.002747933 -0.003588978 0.0175726 -0.0600367 "
        "-0.04289572 0.1056085 -0.0185178 -0.007112412 0.009742377 0.000381255 -0.0003427158 "
        "-0.001512884 0.01706203 -0.002313719 -0.01042365 0.001944112 0.003327833 -0.00458061 "
        "-0.0008347939 0.0002690479 -0.0002334977 -0.01021904 0.002804284 -0.0007742485",
        "3,9: -0.004461219 -0.002184554 0.003090958 0.0004404231 -0.0004879959 0.002779092 "
        "-0.00330938 -0.001508756 0.004347017 -0.01020307 -0.005131484 0.006811475 0.0009079109 "
        "-0.001315792 0.007017359 -0.008996054 -0.004078544 0.01175846 -0.01270805 -0.006483382 "
        "0.008306305 0.001067936 -0.001784151 0.009259615 -0.01226593 -0.005534962 0.0160174",
        "2,9: 0.001403917 -0.004120825 -0.0009348486 -0.000697042 -0.004515189 0.02147743 "
        "-0.1219349 -0.05106596 0.1451233 0.001403917 -0.004120825 -0.0009348486 -0.000697042 "
        "-0.004515189 0.02147743 -0.03612875 -0.01399583 0.04937015",
        "3,2: -0.01958377 0.04996915 -0.01889681 0.1809423 -0.0134509 0.2508303",
        "2,2: -0.006261555 -0.002173795 0.04084163 0.2247489",
        "2: 0.02674578 0.5179574",
    ],
    "minimal_cell": [
        ": 0.2163029",
        "3,3: -0.1620628 0.2644423 0.4774285 0.03892767 0.2027069 0.1086994 -0.1375418 "
        "-0.1102111 0.1063911",
        "3,3: 0.03660958 -0.03482458 -0.03457585 -0.04176586 -0.03163992 -0.03033523 -0.1004982 "
        "-0.01357452 -0.01182748",
    ],
}

STEP = {
    "lstm_cell": [
        "2,3: 0.1680095 0.1424342 0.1156788 0.3065925 0.1937175 0.09224951",
        "2,3: 0.1680095 0.1424342 0.1156788 0.3065925 0.1937175 0.09224951",
        "2,3: 0.3675088 0.3647982 0.3128211 0.4963811 0.4832852 0.3937422",
    ],
    "gru_cell": [
        "2,3: 0.1323029 0.2340169 0.3555778 0.4387103 0.7928127 0.906929",
        "2,3: 0.1323029 0.2340169 0.3555778 0.4387103 0.7928127 0.906929",
    ],
}


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def with_keras_weights(layer, shape=(None, 4, 3)):
    layer.build(shape)
    layer.set_weights(keras_weights([w.shape for w in layer.get_weights()]))
    return layer


def run_case(name):
    make, options = CASES[name]
    layer = with_keras_weights(make())
    kwargs = {}
    if options.get("mask"):
        kwargs["mask"] = torch.from_numpy(MASK)
    if options.get("initial_state"):
        count = options["initial_state"]
        kwargs["initial_state"] = [torch.full((2, 4), 0.1 * (k + 1)) for k in range(count)]
    with torch.no_grad():
        return layer(torch.from_numpy(X), **kwargs)


def flat(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flat(item)]
    return [structure]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_outputs_and_states_match_keras(name):
    got = flat(run_case(name))
    assert len(got) == len(REFERENCE[name])
    for tensor, want in zip(got, REFERENCE[name], strict=True):
        np.testing.assert_allclose(tensor.numpy(), parse(want), atol=1e-5)


def test_stacked_states_are_one_list_per_cell_as_keras():
    output, lstm_states, gru_states = run_case("stacked")
    assert isinstance(lstm_states, list) and len(lstm_states) == 2
    assert isinstance(gru_states, list) and len(gru_states) == 1
    layer = RNN([LSTMCell(4), GRUCell(3)], return_state=True)
    assert layer.compute_output_shape((None, 4, 3)) == (  # a tuple, as Keras' eager call
        (None, 3),
        [(None, 4), (None, 4)],
        [(None, 3)],
    )


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_training_step_loss_and_gradients_match_keras(name):
    layer = with_keras_weights(GRADIENT_CASES[name]())
    kwargs = {"mask": torch.from_numpy(MASK)} if "mask" in name else {}
    loss = (layer(torch.from_numpy(X), **kwargs) ** 2).mean()
    loss.backward()
    want = [parse(entry) for entry in GRADIENTS[name]]
    np.testing.assert_allclose(loss.item(), want[0], rtol=1e-5)
    grads = [info.to_keras(t.grad).numpy() for t, info, _, _ in layer._keras_ordered_weights()]
    assert len(grads) == len(want) - 1
    for got, expected in zip(grads, want[1:], strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_cells_called_alone_match_keras():
    h0 = torch.full((2, 3), 0.2)
    x = torch.from_numpy(X[:, 0])
    lstm = with_keras_weights(LSTMCell(3), (None, 3))
    gru = with_keras_weights(GRUCell(3), (None, 3))
    with torch.no_grad():
        output, (h, c) = lstm(x, [h0, h0 * 2])
        gru_output, gru_state = gru(x, h0)  # a lone state tensor comes back alone
    assert isinstance(gru_state, torch.Tensor)
    for got, want in zip(
        [output, h, c, gru_output, gru_state], STEP["lstm_cell"] + STEP["gru_cell"], strict=True
    ):
        np.testing.assert_allclose(got.numpy(), parse(want), atol=1e-6)


@pytest.mark.parametrize(
    ("cell", "layer"),
    [
        (lambda: LSTMCell(4), lambda: LSTM(4, return_sequences=True, return_state=True)),
        (lambda: GRUCell(4), lambda: GRU(4, return_sequences=True, return_state=True)),
        (
            lambda: GRUCell(4, reset_after=False),
            lambda: GRU(4, reset_after=False, return_sequences=True, return_state=True),
        ),
        (lambda: SimpleRNNCell(4), lambda: SimpleRNN(4, return_sequences=True, return_state=True)),
    ],
)
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_of_a_cell_equals_the_layer(cell, layer, masked):
    torch.manual_seed(0)
    generic = RNN(cell(), return_sequences=True, return_state=True)
    generic.build((None, 4, 3))
    reference = layer()
    reference.build((None, 4, 3))
    reference.set_weights(generic.get_weights())
    assert sorted(reference.state_dict()) == sorted(
        k.removeprefix("cell.") for k in generic.state_dict()
    )
    kwargs = {"mask": torch.from_numpy(MASK)} if masked else {}
    x = torch.from_numpy(X)
    for a, b in zip(generic(x, **kwargs), reference(x, **kwargs), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6 if masked else 0)


def test_cell_state_dict_loads_into_torch_nn_lstm():
    cell = with_keras_weights(LSTMCell(5), (None, 3))
    reference = torch.nn.LSTM(3, 5, batch_first=True)
    reference.load_state_dict(cell.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(
            RNN(cell, return_sequences=True)(torch.from_numpy(X)), reference(torch.from_numpy(X))[0]
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimpleRNNCell(3, activation="relu", dropout=0.1, seed=2),
        lambda: LSTMCell(3, unit_forget_bias=False, kernel_regularizer="l2"),
        lambda: GRUCell(3, reset_after=False, recurrent_dropout=0.2),
    ],
)
def test_cell_config_round_trip(make):
    cell = make()
    config = json.loads(json.dumps(cell.get_config()))
    assert "return_sequences" not in config
    clone = type(cell).from_config(config)
    assert clone.get_config() == config
    assert clone.state_size == cell.state_size


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cell": LSTMCell(3)}, (2, 3)),
        ({"cell": [GRUCell(2), SimpleRNNCell(3)], "return_sequences": True}, (2, 4, 3)),
        ({"cell": GRUCell(3, dropout=0.2, recurrent_dropout=0.2), "go_backwards": True}, (2, 3)),
    ],
)
def test_rnn_layer_contract(kwargs, expected, monkeypatch):
    for cls in (GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells):
        monkeypatch.setattr(lamina.layers, cls.__name__, cls, raising=False)
    check_layer(RNN, kwargs, (2, 4, 3), expected_output_shape=expected)


def test_dropout_masks_stay_for_a_sequence_and_change_between_calls():
    layer = RNN(LSTMCell(6, dropout=0.5, recurrent_dropout=0.5, seed=3), return_sequences=True)
    x = torch.from_numpy(X)
    with torch.no_grad():
        assert torch.equal(layer(x), layer(x))
        first, second = layer(x, training=True), layer(x, training=True)
    assert not torch.equal(first, layer(x)) and not torch.equal(first, second)
    assert layer.cell.__dict__["_input_dropout_mask"] is None


def test_stateful_rnn_carries_states_between_calls():
    layer = with_keras_weights(RNN(GRUCell(4), stateful=True))
    x = torch.from_numpy(X)
    with torch.no_grad():
        first = layer(x)
        second = layer(x)
        layer.reset_state()
        again = layer(x)
        expected = RNN(layer.cell)(x, initial_state=[first])
    torch.testing.assert_close(again, first)
    torch.testing.assert_close(second, expected)
    with pytest.raises(ValueError, match="stateful with states for batches of 2"):
        layer(x[:1])


def test_user_cell_trains_in_a_sequential_model_and_saves(tmp_path, monkeypatch):
    monkeypatch.setattr(lamina.layers, "RNN", RNN, raising=False)
    torch.manual_seed(0)
    model = lamina.Sequential([Input((6, 3)), RNN(MinimalRNNCell(8)), Dense(1)])
    assert model.count_params() == 3 * 8 + 8 * 8 + 9
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 6, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 4
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    path = tmp_path / "model.lamina"
    model.save(path)
    loaded = lamina.models.load_model(path)
    assert isinstance(loaded.layers[0].cell, MinimalRNNCell)
    with torch.no_grad():
        torch.testing.assert_close(loaded(torch.from_numpy(x)), model(torch.from_numpy(x)))


def test_symbolic_call_and_functional_model():
    inputs = Input((None, 3))
    output, h, c = RNN(LSTMCell(5), return_state=True)(inputs)
    assert (output.shape, h.shape, c.shape) == ((None, 5), (None, 5), (None, 5))
    sequence = RNN(MinimalRNNCell(2), return_sequences=True)(inputs)
    assert sequence.shape == (None, None, 2)
    model = lamina.Model(inputs, Dense(1)(output))
    assert model(torch.from_numpy(X)).shape == (2, 1)


def test_invalid_cells_and_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="needs a `state_size`"):
        RNN(Dense(3))
    # Keras 3.15.1: "ValueError: Unrecognized keyword arguments passed to LSTMCell: ..."
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to LSTMCell"):
        LSTMCell(3, return_sequences=True)
    with pytest.raises(ValueError, match="units must be a positive int"):
        GRUCell(0)
    with pytest.raises(ValueError, match="initial_state with 1 entries"):
        RNN(GRUCell(3))(torch.from_numpy(X), initial_state=[torch.zeros(2, 3)] * 2)
    with pytest.raises(ValueError, match="states: 2 tensor"):
        LSTMCell(3)(torch.zeros(2, 3), [torch.zeros(2, 3)])
    with pytest.raises(ValueError, match="mask of shape"):
        RNN(LSTMCell(3))(torch.from_numpy(X), mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="non-empty list of cells"):
        StackedRNNCells([])
