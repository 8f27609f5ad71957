"""ConvLSTM1D, ConvLSTM2D and ConvLSTM3D against Keras 3.15.1.

Reference values come from Keras 3.15.1 (torch backend), made by
/work/scratch/s17/rnncells/make_refs.py: each Keras layer gets the weights of `keras_weights`
(a formula, so only outputs are pasted) and runs on the inputs below; each entry is one output,
written "shape: values" to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from lamina.layers.core import Dense, Input
from lamina.layers.reshaping import Flatten
from lamina.testing import check_layer

X2 = np.random.default_rng(1).normal(size=(2, 3, 4, 4, 2)).astype("float32")
INPUTS = {
    "2d": X2,
    "2d1": X2[:1],
    "2d_cf": np.random.default_rng(1).normal(size=(1, 3, 2, 4, 4)).astype("float32"),
    "1d": np.random.default_rng(2).normal(size=(1, 4, 6, 2)).astype("float32"),
    "3d": np.random.default_rng(3).normal(size=(1, 2, 3, 3, 3, 1)).astype("float32"),
}
MASK = np.array([[True, False, True], [True, True, False]])


def keras_weights(shapes):
    return [
        (0.5 * np.sin(0.7 * np.arange(int(np.prod(s))) + 1.3 * i)).astype("float32").reshape(s)
        for i, s in enumerate(shapes)
    ]


def parse(entry):
    shape, values = entry.split(":")
    return np.array(values.split(), "float32").reshape([int(d) for d in shape.split(",") if d])


CASES = {  # as make_refs.py: (layer, input, call options)
    "conv2d_same": (
        lambda: ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True),
        "2d1",
        {},
    ),
    "conv2d_valid_strides": (lambda: ConvLSTM2D(2, 2, strides=2), "2d1", {}),
    "conv2d_even_same": (lambda: ConvLSTM2D(2, (2, 3), padding="same"), "2d1", {}),
    "conv2d_dilation": (lambda: ConvLSTM2D(2, 2, dilation_rate=2, padding="same"), "2d1", {}),
    "conv2d_channels_first": (
        lambda: ConvLSTM2D(2, 3, padding="same", data_format="channels_first"),
        "2d_cf",
        {},
    ),
    "conv2d_backwards_mask": (
        lambda: ConvLSTM2D(2, 3, padding="same", go_backwards=True, return_sequences=True),
        "2d",
        {"mask": True},
    ),
    "conv2d_initial_state": (lambda: ConvLSTM2D(2, 3), "2d1", {"initial_state": (1, 2, 2, 2)}),
    "conv2d_relu_no_bias": (
        lambda: ConvLSTM2D(
            2, 3, padding="same", activation="relu", use_bias=False, unit_forget_bias=False
        ),
        "2d1",
        {},
    ),
    "conv1d": (lambda: ConvLSTM1D(3, 3, padding="same", return_sequences=True), "1d", {}),
    "conv1d_strides": (lambda: ConvLSTM1D(2, 3, strides=2, return_state=True), "1d", {}),
    "conv3d": (lambda: ConvLSTM3D(2, 2, return_state=True), "3d", {}),
}
GRADIENT_INPUTS = {
    "conv2d": (
        lambda: ConvLSTM2D(2, 2, padding="same", return_sequences=True),
        X2[:, :, :3, :3, :1],
        MASK,
    ),
    "conv1d_valid": (
        lambda: ConvLSTM1D(2, 3),
        np.random.default_rng(2).normal(size=(2, 4, 6, 1)).astype("float32"),
        None,
    ),
}

REFERENCE = {
    "conv2d_same": [
        "1,3,4,4,2: -0.2144097 -0.3174679 -0.08305949 0.09518699 0.06904141 0.0419161 "
        "-0.2464934 -0.3130215 0.1112226 0.09147201 -0.1378673 -0.1889406 -0.2944853 -0.3516303 "
        "-0.09083138 0.01669901 0.1049818 0.06825642 -0.07648821 -0.1909214 -0.05983277 "
        "-0.08954819 -0.1850988 0.0205752 -0.09186518 0.1187683 0.105131 0.08803284 -0.1512041 "
        "0.0624849 -0.0980047 0.008931619 -0.1149665 -0.032144 -0.05613398 -0.1988608 "
        "-0.3472212 -0.1256159 -0.05710075 -0.04052525 -0.2843148 0.07047835 -0.0865465 "
        "-0.08384614 -0.2120931 -0.2637313 -0.2957123 0.05076586 -0.1466966 -0.2429945 "
        "-0.3783223 -0.4364323 -0.236837 -0.07096049 -0.06231403 0.0455095 -0.1554094 "
        "-0.02898169 -0.01601758 0.1046842 -0.1611791 0.03894471 -0.1694003 0.05287946 "
        "-0.1930697 -0.1981959 -0.3399786 -0.02526286 -0.05241215 0.05528665 -0.04580307 "
        "-0.1468713 0.05059605 0.1126255 -0.06000314 -0.1639759 -0.4989198 -0.4775653 "
        "0.02759363 0.07964059 -0.5526664 -0.4127688 -0.02900916 -0.1619486 -0.01357919 "
        "0.04214329 -0.3569855 -0.06472414 -0.00658873 -0.07832386 -0.2632899 -0.4961873 "
        "-0.4863801 -0.01256879 -0.1792105 -0.004430778",
        "1,4,4,2: -0.1930697 -0.1981959 -0.3399786 -0.02526286 -0.05241215 0.05528665 "
        "-0.04580307 -0.1468713 0.05059605 0.1126255 -0.06000314 -0.1639759 -0.4989198 "
        "-0.4775653 0.02759363 0.07964059 -0.5526664 -0.4127688 -0.02900916 -0.1619486 "
        "-0.01357919 0.04214329 -0.3569855 -0.06472414 -0.00658873 -0.07832386 -0.2632899 "
        "-0.4961873 -0.4863801 -0.01256879 -0.1792105 -0.004430778",
        "1,4,4,2: -0.492891 -0.4030001 -0.4452086 -0.02985971 -0.08367878 0.1320503 -0.279223 "
        "-0.7469004 0.06321777 0.1890264 -0.6926683 -1.04166 -1.033069 -0.5837807 0.03100792 "
        "0.1145003 -0.9528399 -0.4667903 -0.03175835 -0.2179382 -0.03169166 0.1586681 -0.575789 "
        "-0.08039068 -0.03936212 -0.5452271 -0.9270267 -0.7625682 -0.6847473 -0.01375934 "
        "-0.3225335 -0.007028721",
    ],
    "conv2d_valid_strides": [
        "1,2,2,2: -0.2971774 -0.1476246 0.01003929 0.1075889 -0.2428154 -0.4502136 0.1024774 "
        "0.1126709",
    ],
    "conv2d_even_same": [
        "1,4,4,2: 0.05918214 0.161145 -0.1556372 -0.2329726 -0.4360896 -0.06879922 0.04834801 "
        "0.1050406 -0.4827678 -0.501117 -0.001916611 -0.02173143 -0.03557469 -0.08723633 "
        "-0.4930405 -0.2624216 0.07120816 0.0434416 -0.1306915 -0.3475913 -0.4860892 -0.2847887 "
        "-0.171228 0.04916888 -0.2732496 -0.03920539 -0.1038106 0.03155462 0.07022305 "
        "0.02937221 -0.2685854 -0.3216899",
    ],
    "conv2d_dilation": [
        "1,4,4,2: -0.2166476 -0.1726673 -0.004857644 -0.007044489 -0.1958996 0.01887838 "
        "-0.08271825 -0.1033139 0.1544976 0.1390614 -0.4663048 -0.3922307 0.02778347 "
        "-0.02394983 -0.2928171 0.1061529 -0.2537817 -0.01904449 -0.2873025 -0.07862832 "
        "0.03572643 0.1239078 -0.3501142 -0.1115873 -0.3024808 -0.3700673 0.08231816 0.08889288 "
        "-0.465373 -0.05878635 -0.05788004 -0.03654013",
    ],
    "conv2d_channels_first": [
        "1,2,4,4: -0.1424129 -0.4740144 -0.1572424 0.0243278 -0.06527551 -0.03556108 -0.4015565 "
        "-0.3856435 0.0686707 -0.1252164 -0.03730655 -0.09465583 -0.4798445 0.06465193 "
        "-0.1165366 -0.03287825 -0.2381184 -0.5067241 -0.09209421 0.08705021 0.05712588 "
        "-0.1230781 -0.4802952 0.0386502 0.05657208 -0.01558758 -0.1316398 -0.231271 "
        "-0.03424647 -0.006802318 -0.0315881 0.112054",
    ],
    "conv2d_backwards_mask": [
        "2,3,4,4,2: -0.1302992 -0.1583702 -0.3069795 0.07697558 0.1245197 0.1071328 "
        "-0.009460301 -0.1244973 0.1194633 0.08726276 -0.04275559 -0.1380679 -0.4091998 "
        "-0.4462333 0.1018868 0.06523389 -0.4736934 -0.4745261 0.1063232 0.06367278 0.1064954 "
        "0.07583853 -0.3325327 -0.1202515 0.05553675 -0.04171422 -0.2157746 -0.4565597 "
        "-0.452825 -0.1899916 -0.170538 -0.06682938 -0.1302992 -0.1583702 -0.3069795 0.07697558 "
        "0.1245197 0.1071328 -0.009460301 -0.1244973 0.1194633 0.08726276 -0.04275559 "
        "-0.1380679 -0.4091998 -0.4462333 0.1018868 0.06523389 -0.4736934 -0.4745261 0.1063232 "
        "0.06367278 0.1064954 0.07583853 -0.3325327 -0.1202515 0.05553675 -0.04171422 "
        "-0.2157746 -0.4565597 -0.452825 -0.1899916 -0.170538 -0.06682938 -0.2512024 -0.2973238 "
        "-0.03688873 0.1063069 0.01404047 -0.0479776 -0.3100881 -0.4135749 0.1418827 0.1079345 "
        "-0.313785 -0.2038599 -0.3032313 -0.2953667 -0.07489289 -0.1008548 -0.1795986 "
        "-0.03498895 -0.02382247 -0.09267734 -0.1892662 -0.1408264 -0.2417881 0.06390548 "
        "-0.1632789 0.06661825 -0.1771255 -0.2003115 -0.2101384 -0.001604068 -0.162093 "
        "-0.05059602 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0.1218626 "
        "0.113286 0.07981581 0.0007984528 -0.2032195 -0.3205982 -0.2081949 0.05480791 "
        "-0.3792278 -0.2868898 0.04027797 0.08796823 0.1178895 0.09707177 -0.1504904 -0.2272436 "
        "-0.02037719 -0.1222978 -0.2442344 -0.5142806 0.02962041 0.1226089 0.03706803 -0.049152 "
        "0.09296855 0.1213865 0.1010085 0.06225301 -0.3680196 -0.1950996 0.08599251 0.1243599 "
        "-0.2294733 0.1362534 0.1344652 0.1239478 -0.08838415 -0.08917163 0.009540529 "
        "0.04515051 -0.1902222 -0.3530717 -0.3262274 -0.3243771 -0.2099187 0.1082671 -0.2586031 "
        "-0.003474068 0.02377809 -0.1180809 -0.1614341 -0.2389613 -0.3229442 -0.04501203 "
        "0.1052753 -0.007605887 -0.4366023 -0.2012686 0.1577429 0.1625222 -0.2037931 -0.1597415 "
        "-0.332925 -0.001547246",
    ],
    "conv2d_initial_state": [
        "1,2,2,2: -0.04241089 -0.1313187 -0.4340631 -0.5125182 -0.007467978 -0.1523855 "
        "-0.02438645 0.04676016",
    ],
    "conv2d_relu_no_bias": [
        "1,4,4,2: 0.08950029 0.07369456 0.007505752 0.1368158 0.1956038 0.1439231 0.06136017 "
        "0.04737784 0.1746035 0.2161765 0.01279303 0.04058376 0 0 0.1606403 0.2017993 "
        "0.02861694 0.009318097 0.1523666 0.1384087 0.1528831 0.07368185 0.02579541 0.008377665 "
        "0.06573554 0.008133754 0.03585936 0.05142708 0.0006055556 0.0102683 0.00300703 "
        "0.02408812",
    ],
    "conv1d": [
        "1,4,6,3: -0.2231316 0.1453255 0.1849291 0.2858964 0.06094845 0.01334956 0.009685223 "
        "-0.01500955 -0.1712372 -0.4518456 -0.2448524 0.246753 0.2981698 0.1870328 0.05066165 "
        "0.0889879 0.04718813 0.0003431916 0.131962 0.1786002 0.120799 0.2216663 0.1478656 "
        "0.08200728 0.05623742 0.08012635 0.005772191 0.01856309 0.04296116 0.1152573 0.1300883 "
        "0.1039886 0.009778962 -0.002399801 0.04534843 0.06564092 -0.5387968 0.3694541 "
        "0.2982254 0.1840024 0.06793354 0.0400253 -0.1962674 -0.07822931 0.08367062 0.1102235 "
        "0.04075119 0.05505978 0.1203414 0.08212379 -0.02326668 -0.0903341 0.05351242 0.1230257 "
        "-0.1951209 0.04615323 0.05057338 0.2263462 0.1137896 0.06978863 -0.2254063 -0.1772594 "
        "-0.0174315 0.2800165 0.1733235 0.09347136 0.0969888 0.04172564 -0.09164846 -0.1054171 "
        "0.1539252 0.1716514",
    ],
    "conv1d_strides": [
        "1,2,2: -0.3895929 -0.2361523 -0.1964867 -0.17296",
        "1,2,2: -0.3895929 -0.2361523 -0.1964867 -0.17296",
        "1,2,2: -0.7050485 -0.3007911 -0.5879947 -0.3720964",
    ],
    "conv3d": [
        "1,2,2,2,2: -0.1585284 -0.2160467 -0.06781925 0.07423899 -0.0664759 -0.04272464 "
        "0.01495879 -0.03850128 -0.5571585 -0.2519921 -0.4048977 0.004950396 -0.4421997 "
        "-0.07464747 -0.3638867 -0.1525938",
        "1,2,2,2,2: -0.1585284 -0.2160467 -0.06781925 0.07423899 -0.0664759 -0.04272464 "
        "0.01495879 -0.03850128 -0.5571585 -0.2519921 -0.4048977 0.004950396 -0.4421997 "
        "-0.07464747 -0.3638867 -0.1525938",
        "1,2,2,2,2: -0.8804588 -0.6673273 -0.1129076 0.1194023 -0.09028429 -0.06553036 "
        "0.01995872 -0.06614189 -0.880133 -0.2764308 -0.5545205 0.005697824 -0.7054532 "
        "-0.0878511 -0.6719033 -0.2137892",
    ],
}

# loss = mean(output ** 2), then the gradient of each weight (Keras' layout)
GRADIENTS = {
    "conv2d": [
        ": 0.02689403",
        "2,2,1,8: -0.003480494 0.0009057451 -0.00106462 -2.348145e-05 0.008736537 -0.004076184 "
        "-0.002622247 0.001226969 -0.005733638 -0.002199706 -0.0006608384 -0.0002061378 "
        "0.009171356 0.008732165 -0.007795718 -0.001379935 -0.002944686 -0.001930523 "
        "-0.0002545877 0.000217078 0.004736805 0.006296447 -0.004196698 -0.00142179 "
        "0.0001989506 -0.001193878 -0.0003217364 -9.320998e-05 0.002236405 0.004901156 "
        "-0.001655638 -0.001137415",
        "2,2,2,8: -0.0008526654 -0.0002068365 -0.0005734589 -6.983551e-05 0.002789303 "
        "0.0009825046 -0.001444404 -0.0001833971 -0.0003590699 2.292034e-05 -0.0002579191 "
        "-9.927917e-05 0.001129359 0.0002444527 -0.0004551533 -5.212285e-06 -0.000709864 "
        "-0.0002153784 -0.00033325 -8.930355e-05 0.001784528 0.0009476005 -0.001136069 "
        "-0.0001670748 -0.0001233319 -0.0001521478 3.913429e-05 -4.896276e-05 0.0001995537 "
        "0.0004966469 -0.0002416358 -0.0001112114 -0.0008752883 -0.0003845256 -0.0002833597 "
        "-7.662284e-05 0.001928164 0.001428596 -0.001399734 -0.0002925266 -0.0004209292 "
        "-0.0002803931 -6.962106e-05 -1.144406e-06 0.0007509738 0.0008674866 -0.0007349889 "
        "-0.000205196 -0.0004308941 -0.0002808003 -0.0001523207 -5.289456e-05 0.001081729 "
        "0.001140387 -0.0008470717 -0.0002366841 -0.0001123744 -9.186811e-05 -6.779172e-05 "
        "1.359243e-05 0.0004013499 0.0003706701 -0.0002721906 -9.07768e-05",
        "8: 0.0133616 0.005255626 0.002881457 0.0002316538 -0.04188874 -0.0223972 0.01705583 "
        "0.004560414",
    ],
    "conv1d_valid": [
        ": 0.03066738",
        "3,1,8: -0.006074728 -0.001491378 -0.004761843 0.0003316137 0.01891017 0.005880937 "
        "-0.008040962 0.00152292 -0.009688198 -0.002999078 -0.002386145 -0.0009621545 "
        "0.002692173 0.01028599 -0.01385308 -0.002103535 0.0036718 -0.002853123 0.004172416 "
        "0.0008008556 -0.007546735 0.0112107 0.002077044 -0.0004938698",
        "3,2,8: -0.0008616184 -0.0009250396 -0.001022484 -0.0001943458 0.002025397 -0.002914185 "
        "-0.0009897877 -0.0006707957 -0.0006336694 -0.0005039906 -0.0009326752 -6.515761e-05 "
        "0.002278442 -0.001327153 -0.0007709212 -0.0001926565 -0.002859048 -0.0009779891 "
        "-0.002976803 -0.0003244539 0.01036252 0.000814082 -0.003693006 -0.0005468406 "
        "-0.002304718 -0.0003608206 -0.002019421 -0.0003600518 0.007166516 0.002584896 "
        "-0.002710169 -0.0003599063 -0.00372138 -0.001069594 -0.002409211 -0.0006214745 "
        "0.008694779 0.004784984 -0.004586695 -0.0009308167 -0.001689479 -0.001112117 "
        "-0.0003593413 -0.0003756694 0.002305778 0.005062794 -0.002647985 -0.0007660384",
        "8: 0.01624632 0.008876448 0.01078116 0.002228541 -0.04376306 -0.01430473 0.01985447 "
        "0.006217093",
    ],
}


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def with_keras_weights(layer, shape):
    layer.build((None, *shape[1:]))
    layer.set_weights(keras_weights([w.shape for w in layer.get_weights()]))
    return layer


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_outputs_and_states_match_keras(name):
    make, key, options = CASES[name]
    x = INPUTS[key]
    layer = with_keras_weights(make(), x.shape)
    kwargs = {}
    if options.get("mask"):
        kwargs["mask"] = torch.from_numpy(MASK)
    if options.get("initial_state"):
        shape = options["initial_state"]
        kwargs["initial_state"] = [torch.full(shape, 0.1), torch.full(shape, 0.2)]
    with torch.no_grad():
        result = layer(torch.from_numpy(x), **kwargs)
    result = list(result) if isinstance(result, tuple) else [result]  # a tuple, as Keras
    assert len(result) == len(REFERENCE[name])
    for got, want in zip(result, REFERENCE[name], strict=True):
        np.testing.assert_allclose(got.numpy(), parse(want), atol=1e-5)


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_training_step_loss_and_gradients_match_keras(name):
    make, x, mask = GRADIENT_INPUTS[name]
    layer = with_keras_weights(make(), x.shape)
    kwargs = {} if mask is None else {"mask": torch.from_numpy(mask)}
    loss = (layer(torch.from_numpy(x), **kwargs) ** 2).mean()
    loss.backward()
    want = [parse(entry) for entry in GRADIENTS[name]]
    np.testing.assert_allclose(loss.item(), want[0], rtol=1e-5)
    grads = [info.to_keras(t.grad).numpy() for t, info, _, _ in layer._keras_ordered_weights()]
    assert len(grads) == len(want) - 1
    for got, expected in zip(grads, want[1:], strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("make", "shape", "count", "weight_shapes"),
    [  # Keras 3.15.1's count_params() and get_weights() shapes
        (
            lambda: ConvLSTM2D(4, 3),
            (None, 3, 4, 4, 2),
            880,
            [(3, 3, 2, 16), (3, 3, 4, 16), (16,)],
        ),
        (lambda: ConvLSTM1D(3, 2, use_bias=False), (None, 4, 6, 2), 120, [(2, 2, 12), (2, 3, 12)]),
        (
            lambda: ConvLSTM3D(2, 2),
            (None, 2, 3, 3, 3, 1),
            200,
            [(2, 2, 2, 1, 8), (2, 2, 2, 2, 8), (8,)],
        ),
    ],
)
def test_weights_and_counts_match_keras(make, shape, count, weight_shapes):
    layer = make()
    layer.build(shape)
    assert layer.count_params() == count
    assert [w.shape for w in layer.get_weights()] == weight_shapes
    keys = ["cell.bias_ih", "cell.weight_hh", "cell.weight_ih"]
    assert sorted(layer.state_dict()) == (keys if layer.use_bias else keys[1:])
    if layer.use_bias:  # unit_forget_bias: the forget gate's bias starts at 1
        filters = layer.filters
        assert layer.get_weights()[2].tolist() == [0] * filters + [1] * filters + [0] * 2 * filters


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape", "expected"),
    [
        (ConvLSTM1D, {"filters": 2, "kernel_size": 3}, (2, 3, 6, 2), (2, 4, 2)),
        (
            ConvLSTM2D,
            {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": True},
            (2, 3, 4, 4, 1),
            (2, 3, 4, 4, 2),
        ),
        (
            ConvLSTM2D,
            {"filters": 2, "kernel_size": 2, "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 1},
            (2, 3, 4, 4, 1),
            (2, 3, 3, 2),
        ),
        (
            ConvLSTM3D,
            {"filters": 1, "kernel_size": 2, "strides": 2},
            (1, 2, 4, 4, 4, 1),
            (1, 2, 2, 2, 1),
        ),
    ],
)
def test_layer_contract_and_config_round_trip(cls, kwargs, shape, expected):
    layer = check_layer(cls, kwargs, shape, expected_output_shape=expected)
    config = json.loads(json.dumps(layer.get_config()))
    assert json.loads(json.dumps(cls.from_config(config).get_config())) == config
    assert config["filters"] == kwargs["filters"] and "cell" not in config


def test_dropout_uses_one_mask_per_gate_for_the_whole_sequence():
    layer = ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=4)
    x = torch.from_numpy(X2)
    with torch.no_grad():
        inference = layer(x)
        torch.testing.assert_close(layer(x), inference)
        trained = layer(x, training=True)
    assert not torch.equal(trained, inference)
    assert layer.cell.__dict__["_input_dropout_mask"] is None  # cleared after the call
    masks = layer.cell.get_dropout_mask(x[:, 0])
    assert len(masks) == 4 and not torch.equal(masks[0], masks[1])


def test_stateful_conv_lstm_and_channels_first_states():
    layer = ConvLSTM2D(2, 3, padding="same", data_format="channels_first", stateful=True)
    x = torch.from_numpy(INPUTS["2d_cf"])
    stateless = ConvLSTM2D.from_config({**layer.get_config(), "stateful": False, "name": "s"})
    with torch.no_grad():
        first = layer(x)
        kept = list(layer.states)
        second = layer(x)
        stateless.build((None, *x.shape[1:]))
        stateless.set_weights(layer.get_weights())
        torch.testing.assert_close(second, stateless(x, initial_state=kept))
        layer.reset_state()
        torch.testing.assert_close(layer(x), first)
    assert first.shape == kept[1].shape == (1, 2, 4, 4)
    assert not torch.equal(first, second)


def test_model_with_conv_lstm_trains_and_saves(tmp_path, monkeypatch):
    monkeypatch.setattr(lamina.layers, "ConvLSTM2D", ConvLSTM2D, raising=False)
    torch.manual_seed(0)
    model = lamina.Sequential(
        [Input((3, 4, 4, 1)), ConvLSTM2D(2, 3, padding="same"), Flatten(), Dense(1)]
    )
    assert model.layers[0].output.shape == (None, 4, 4, 2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3, 4, 4, 1)).astype("float32")
    y = x.mean(axis=(1, 2, 3, 4))[:, None]
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    path = tmp_path / "model.lamina"
    model.save(path)
    loaded = lamina.models.load_model(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded(torch.from_numpy(x)), model(torch.from_numpy(x)))


def test_invalid_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="strides > 1 cannot be combined with dilation_rate"):
        ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding must be one of"):
        ConvLSTM2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="filters must be a positive int"):
        ConvLSTM1D(0, 3)
    with pytest.raises(ValueError, match="expects 5-D input"):
        ConvLSTM2D(2, 3)(torch.zeros(2, 3, 4, 1))
    with pytest.raises(ValueError, match="does not fit"):
        ConvLSTM2D(2, 5)(torch.zeros(1, 2, 3, 3, 1))
