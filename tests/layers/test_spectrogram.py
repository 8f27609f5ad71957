"""STFTSpectrogram and MelSpectrogram against Keras 3.15.1, shapes, errors, config.

The reference arrays are Keras 3.15.1 outputs (torch backend) of
/work/scratch/s18/layers2/gen3.py on signals from NumPy's default_rng(0), rounded to 7
significant digits. Keras asks scipy.signal.get_window for STFT windows; scipy is not in the
reference environment, so that script ran with a stand-in returning NumPy's hanning/hamming
(symmetric; periodic = N + 1 points, last dropped), which is scipy's definition.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.spectrogram import MelSpectrogram, STFTSpectrogram
from lamina.testing import check_layer

STFT_LOG = np.array(
    [
        [
            [
                -1.269976,
                -0.1829047,
                -0.07511956,
                0.009215321,
                0.3983441,
                -3.037071,
                -0.4272288,
                0.003401686,
                0.1487526,
                0.1945372,
            ],
            [
                0.6202785,
                0.5197304,
                -0.004826731,
                -1.671457,
                -0.5738158,
                -1.960446,
                -0.1655505,
                -0.1414279,
                -0.9896054,
                -2.55281,
            ],
            [
                -1.63696,
                -3.105422,
                -0.4291633,
                0.03850918,
                0.04998853,
                -0.5518648,
                -0.02420132,
                -0.4295938,
                -1.42207,
                -0.4834147,
            ],
            [
                -0.06212223,
                -0.2926414,
                -0.4990984,
                -0.7201305,
                -1.364034,
                -1.239375,
                -0.8405263,
                -1.235241,
                -0.8549822,
                -0.7318051,
            ],
        ],
        [
            [
                0.834105,
                0.5862301,
                0.1056948,
                -0.3581311,
                -4.643516,
                0.4149202,
                0.4471302,
                0.5421743,
                0.3621685,
                -2.890467,
            ],
            [
                -0.03952379,
                -0.4416364,
                -0.7669649,
                0.1455527,
                0.308091,
                -1.016556,
                -0.2268026,
                -0.3725867,
                -1.044682,
                -0.3881205,
            ],
            [
                0.458785,
                0.3609615,
                -0.4645129,
                0.1282941,
                0.3208518,
                -0.3302618,
                -0.2242114,
                -0.1084714,
                -0.5910123,
                -0.0208179,
            ],
            [
                0.5025784,
                -0.03386119,
                -0.0586599,
                -0.3802189,
                -1.891425,
                0.02844384,
                -0.5551361,
                -0.188429,
                0.5273901,
                0.1323598,
            ],
        ],
    ]
)
STFT_REAL_KERNEL = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.1161936, 0.08216126, -5.078982e-09, -0.08216126, -0.1161936],
        [0.3772781, -1.649135e-08, -0.3772781, 4.498997e-09, 0.3772781],
        [0.5866517, -0.4148254, 6.995751e-09, 0.4148254, -0.5866517],
        [0.5866517, -0.5866517, 0.5866517, -0.5866517, 0.5866517],
        [0.3772781, -0.2667759, -1.274318e-07, 0.2667759, -0.3772781],
        [0.1161936, 1.385594e-09, -0.1161936, -4.156783e-09, 0.1161936],
        [0.0, 0.0, 0.0, -0.0, -0.0],
    ]
)
STFT_MAGNITUDE = np.array(
    [
        [
            [
                0.2250029,
                0.1294905,
                0.1732651,
                0.3559542,
                0.4198506,
                0.1775317,
                0.1875178,
                0.130989,
                0.0098405,
                0.068453,
            ],
            [
                0.3133209,
                0.5189328,
                0.4458078,
                0.3598782,
                0.6685014,
                0.1394096,
                0.308431,
                0.4567551,
                0.5635068,
                0.6143882,
            ],
            [
                1.104066,
                0.9479492,
                0.5453505,
                0.229019,
                0.294485,
                0.2807196,
                0.3108723,
                0.3341698,
                0.1820349,
                0.0361041,
            ],
            [
                0.0963261,
                0.0639665,
                0.2960823,
                0.2983155,
                0.0857216,
                0.7136947,
                0.6718571,
                0.4790584,
                0.2255078,
                0.0872647,
            ],
            [
                0.2869602,
                0.3008649,
                0.3339232,
                0.3626008,
                0.4924789,
                0.1624521,
                0.2616674,
                0.3048373,
                0.3175481,
                0.3792773,
            ],
            [
                0.3627794,
                0.2622932,
                0.2785352,
                0.2480003,
                0.0517875,
                0.1875801,
                0.2215813,
                0.1935417,
                0.1918441,
                0.1636087,
            ],
            [
                0.1031894,
                0.1633285,
                0.2682707,
                0.3736097,
                0.4218228,
                0.4774882,
                0.4302572,
                0.4292113,
                0.4943363,
                0.5123863,
            ],
        ],
        [
            [
                0.3185223,
                0.4669789,
                0.4552052,
                0.594074,
                0.7912689,
                0.7138865,
                0.4586717,
                0.4376888,
                0.4962932,
                0.1435157,
            ],
            [
                1.045606,
                0.8697557,
                0.5781827,
                0.3297455,
                0.1162675,
                0.6366647,
                0.6887752,
                0.8231559,
                0.7030073,
                0.2406779,
            ],
            [
                0.3311586,
                0.3729766,
                0.3511187,
                0.4767477,
                0.6223291,
                0.2969328,
                0.3282555,
                0.3037731,
                0.1072056,
                0.4108739,
            ],
            [
                0.0380483,
                0.5044777,
                0.6946238,
                0.580286,
                0.162244,
                0.584549,
                0.5668673,
                0.4058943,
                0.1951638,
                0.0538376,
            ],
            [
                0.8780491,
                0.6660229,
                0.3232434,
                0.3879491,
                0.4422014,
                0.1885235,
                0.1940741,
                0.626847,
                0.9039581,
                1.039493,
            ],
            [
                0.7916408,
                0.6147106,
                0.5559288,
                0.3943338,
                0.177303,
                0.4308007,
                0.3262476,
                0.4490723,
                0.6629137,
                0.1933534,
            ],
            [
                0.0570427,
                0.1393044,
                0.2417981,
                0.3041308,
                0.3218944,
                0.6986465,
                0.7861976,
                0.7813235,
                0.5262573,
                0.2847231,
            ],
        ],
    ]
)
STFT_PSD = np.array(
    [
        [
            [
                [0.6901426, 0.0002575943],
                [1.668218, 3.022543],
                [0.8842546, 7.607554],
                [10.67383, 6.269953],
                [9.351959, 4.359378],
            ],
            [
                [18.72158, 0.03367953],
                [31.9745, 4.205155],
                [8.481712, 6.615504],
                [1.326738, 2.540874],
                [1.992995, 0.7861727],
            ],
            [
                [1.191338, 1.233111],
                [0.3129335, 8.568193],
                [4.450858, 7.698243],
                [7.366668, 0.6154339],
                [2.978744, 5.066489],
            ],
            [
                [0.6790373, 4.206028],
                [4.429011, 3.853563],
                [0.876997, 2.624678],
                [10.43459, 9.484327],
                [0.6433163, 1.508957],
            ],
        ],
        [
            [
                [13.03875, 27.63263],
                [29.81819, 6.085033],
                [0.1798475, 22.5361],
                [23.68193, 12.27951],
                [3.987494, 0.05128639],
            ],
            [
                [2.85505, 0.01497722],
                [4.997949, 4.313404],
                [0.8034574, 10.26488],
                [11.88563, 1.167978],
                [6.454184, 7.994287],
            ],
            [
                [14.8127, 7.881686],
                [16.19099, 0.3360643],
                [0.08348218, 26.00089],
                [10.95083, 12.1627],
                [7.82295, 19.85892],
            ],
            [
                [5.132619, 2.831785],
                [11.3093, 14.08518],
                [11.4709, 36.92759],
                [7.751867, 4.869432],
                [2.498491, 1.099362],
            ],
        ],
    ]
)
STFT_ANGLE = np.array(
    [
        [
            [
                [0.0, -0.8742328, 3.141592],
                [0.0, -1.075915, 3.141592],
                [3.141593, 0.2619134, 3.141592],
                [3.141593, 1.158943, -1.961047e-08],
                [0.0, -1.268133, 3.141592],
                [0.0, 2.506939, -1.377738e-07],
                [3.141593, 1.018958, 5.260304e-08],
                [3.141593, 1.414376, -7.1054e-08],
                [3.141593, -0.3172238, 3.141592],
            ],
            [
                [0.0, -2.85924, -2.105715e-07],
                [3.141593, -0.6424964, 3.141592],
                [3.141593, -0.1866835, 3.141592],
                [3.141593, 1.163057, -2.094678e-08],
                [0.0, -2.489869, -4.561834e-07],
                [0.0, -1.832132, 3.141592],
                [3.141593, 1.805296, -1.042804e-07],
                [0.0, 2.772555, -1.504639e-07],
                [0.0, -1.221063, 3.141592],
            ],
        ],
        [
            [
                [0.0, -1.764818, 3.141592],
                [0.0, -2.461221, -5.457971e-07],
                [0.0, -1.558334, 3.141592],
                [3.141593, 1.892833, -1.092941e-07],
                [3.141593, 1.217671, -3.639259e-08],
                [0.0, -1.75772, 3.141592],
                [0.0, -1.951283, 3.141593],
                [0.0, -3.089815, -1.796237e-07],
                [0.0, -1.222521, 3.141592],
            ],
            [
                [0.0, -1.188748, 3.141592],
                [0.0, -2.161712, -3.141592],
                [3.141593, 2.068478, -1.181988e-07],
                [0.0, -2.625285, -2.896355e-07],
                [3.141593, 0.5147817, 3.141592],
                [3.141593, 1.090168, 7.821605e-09],
                [3.141593, -0.5398371, 3.141592],
                [0.0, -0.8358927, 3.141592],
                [3.141593, 2.186965, -1.236654e-07],
            ],
        ],
    ]
)
STFT_STFT = np.array(
    [
        [
            [
                0.4669844,
                -0.5511881,
                0.6353916,
                0.0,
                -0.1924149,
                -9.494136e-08,
                0.1267982,
                -0.09028364,
                0.05376907,
                0.0,
                0.1502123,
                -1.852888e-08,
            ],
            [
                -0.2515584,
                0.5595757,
                -1.052005,
                0.0,
                -0.7220811,
                1.511196e-07,
                -0.6397512,
                1.120223,
                -1.476209,
                0.0,
                -0.3968885,
                2.263089e-07,
            ],
            [
                -2.267013,
                1.018666,
                0.01510866,
                0.0,
                0.8600068,
                9.666755e-08,
                -0.8024999,
                0.6337922,
                -0.4508573,
                0.0,
                0.01248453,
                1.00015e-07,
            ],
            [
                -0.1520823,
                0.06378265,
                -0.1628524,
                0.0,
                -0.3488901,
                3.073189e-08,
                1.688227,
                -1.203287,
                0.6094558,
                0.0,
                -0.3578667,
                -1.642449e-07,
            ],
            [
                -0.4265458,
                0.5826514,
                -0.9677605,
                0.0,
                -0.506976,
                1.430547e-07,
                -0.6657311,
                0.8235481,
                -0.8603523,
                0.0,
                0.01639762,
                1.435968e-07,
            ],
            [
                -0.5554796,
                0.09764432,
                0.2026119,
                0.0,
                0.4898952,
                -1.270008e-08,
                0.4861791,
                -0.4465344,
                0.4826951,
                0.0,
                0.1817717,
                -8.706908e-08,
            ],
            [
                0.4118505,
                -0.6562637,
                0.9745766,
                0.0,
                0.2813631,
                -1.425726e-07,
                1.26015,
                -1.254755,
                1.371703,
                0.0,
                0.05577694,
                -2.296123e-07,
            ],
        ],
        [
            [
                0.6848116,
                -1.158345,
                1.631879,
                0.0,
                0.6100978,
                -2.4827e-07,
                1.24288,
                -0.6724458,
                0.1020113,
                0.0,
                -0.7325435,
                -6.25523e-08,
            ],
            [
                2.293068,
                -1.52784,
                0.8536537,
                0.0,
                -0.5351569,
                -2.14063e-07,
                1.636417,
                -1.158879,
                0.5732685,
                0.0,
                -1.155547,
                -1.315952e-07,
            ],
            [
                -0.9690129,
                1.139603,
                -1.18716,
                0.0,
                0.112907,
                1.963561e-07,
                0.6982907,
                -0.4440624,
                -0.2261479,
                0.0,
                -0.1027843,
                -3.047587e-08,
            ],
            [
                -0.3990872,
                0.4126205,
                -0.2781665,
                0.0,
                0.958666,
                3.183969e-08,
                -1.359695,
                1.066711,
                -0.5341044,
                0.0,
                0.1567078,
                1.480878e-07,
            ],
            [
                1.817634,
                -1.213135,
                1.20744,
                0.0,
                0.02196509,
                -2.220096e-07,
                0.4134889,
                -1.179067,
                1.77392,
                0.0,
                -0.4576718,
                -2.219889e-07,
            ],
            [
                1.411414,
                -0.8095622,
                0.4257518,
                0.0,
                0.4480517,
                -1.37902e-07,
                -0.7681798,
                0.3421617,
                -0.6747355,
                0.0,
                -0.6351455,
                1.105742e-07,
            ],
            [
                -0.08564308,
                0.1145943,
                0.4837096,
                0.0,
                0.2846763,
                -3.226908e-08,
                2.012122,
                -1.83703,
                1.207359,
                0.0,
                -0.4023813,
                -2.661489e-07,
            ],
        ],
    ]
)
MEL = np.array(
    [
        [
            [6.264781, 9.963103, 7.98378, 3.703799, 7.995095, 10.44218],
            [5.675159, 9.418587, 5.464205, 7.360435, 11.54574, 11.01527],
            [2.442829, 7.369143, 6.321946, 8.640524, 9.15446, 8.564626],
            [0.1220841, 3.165843, 4.411537, 7.013581, 4.219714, 8.693069],
            [4.759313, 6.668106, 11.29427, 9.743334, -1.517345, 3.516484],
        ],
        [
            [0.7409385, 6.365145, 5.027757, 7.145628, 11.32169, 10.22801],
            [0.3997149, -0.6779439, -1.406611, -0.0235605, 5.381925, 6.832133],
            [3.902568, 3.028111, 0.7692801, 1.994068, 2.282715, 5.908842],
            [8.838562, 11.13417, 6.412863, 6.687979, 3.042358, 3.565621],
            [14.2132, 14.17175, 10.37051, 8.877682, 5.396841, 5.686243],
        ],
    ]
)
MEL_LINEAR = np.array(
    [
        [1.229234, 2.461272, 2.018219, 1.322094, 2.498931],
        [0.7415966, 2.995007, 1.644416, 2.431882, 3.071882],
        [0.6524502, 2.589065, 1.305124, 2.627298, 2.790715],
        [0.4519725, 1.656106, 1.604261, 1.678694, 2.899323],
    ]
)
MEL_TOPDB = np.array(
    [
        [
            [3.254481, 6.952803, 4.97348, 0.6934986, 4.984795, 7.431877],
            [2.664858, 6.408287, 2.453905, 4.350135, 8.535439, 8.004974],
            [-0.5674715, 4.358843, 3.311646, 5.630224, 6.14416, 5.554326],
            [-2.888216, 0.1555424, 1.401237, 4.003281, 1.209414, 5.682769],
            [1.749013, 3.657805, 8.283966, 6.733034, -4.527646, 0.5061843],
        ],
        [
            [-2.269362, 3.354845, 2.017457, 4.135328, 8.311392, 7.217712],
            [-2.610585, -3.688244, -4.416911, -3.033861, 2.371625, 3.821833],
            [0.8922682, 0.0178111, -2.24102, -1.016232, -0.7275848, 2.898541],
            [5.828262, 8.123871, 3.402563, 3.677679, 0.032058, 0.5553212],
            [11.2029, 11.16145, 7.360206, 5.867382, 2.386541, 2.675943],
        ],
    ]
)
MEL_MATRIX = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.5779217, 0.0, 0.0, 0.0, 0.0],
        [0.5083959, 0.4916041, 0.0, 0.0, 0.0],
        [0.0, 0.6501246, 0.3498754, 0.0, 0.0],
        [0.0, 0.0, 0.840925, 0.1590749, 0.0],
        [0.0, 0.0, 0.07548617, 0.9245138, 0.0],
        [0.0, 0.0, 0.0, 0.3493201, 0.6506798],
        [0.0, 0.0, 0.0, 0.0, 0.6585908],
        [0.0, 0.0, 0.0, 0.0, 3.833556e-07],
    ]
)


def _signals():
    rng = np.random.default_rng(0)
    stereo = rng.normal(size=(2, 20, 2)).astype("float32")
    audio = rng.normal(size=(2, 23)).astype("float32")
    return torch.tensor(stereo), torch.tensor(audio)


def _close(output, expected, tolerance=1e-5):
    np.testing.assert_allclose(output.detach().numpy(), expected, rtol=tolerance, atol=tolerance)


def test_stft_log_and_kernel_match_keras():
    stereo, _ = _signals()
    layer = STFTSpectrogram(mode="log", frame_length=8, frame_step=4, fft_length=8)
    output = layer(stereo)
    assert [w.shape for w in layer.get_weights()] == [(8, 1, 5), (8, 1, 5)]
    assert layer.count_params() == 80
    _close(output, STFT_LOG)
    _close(torch.tensor(layer.get_weights()[0][:, 0, :]), STFT_REAL_KERNEL)


def test_stft_magnitude_same_padding_periodic_hamming_matches_keras():
    stereo, _ = _signals()
    layer = STFTSpectrogram(
        mode="magnitude",
        frame_length=6,
        frame_step=3,
        window="hamming",
        periodic=True,
        scaling="spectrum",
        padding="same",
    )
    _close(layer(stereo), STFT_MAGNITUDE)


def test_stft_psd_without_window_expanded_matches_keras():
    stereo, _ = _signals()
    layer = STFTSpectrogram(
        mode="psd",
        frame_length=5,
        frame_step=5,
        fft_length=8,
        window=None,
        scaling=None,
        expand_dims=True,
    )
    _close(layer(stereo), STFT_PSD)


def test_stft_angle_channels_first_matches_keras_modulo_two_pi():
    stereo, _ = _signals()
    layer = STFTSpectrogram(
        mode="angle", frame_length=4, frame_step=2, data_format="channels_first", expand_dims=True
    )
    output = layer(stereo.transpose(1, 2)).detach().numpy()
    assert output.shape == (2, 2, 9, 3)
    # atan2 of a zero imaginary part is 0 or pi by its sign bit: compare the angles' distance.
    distance = np.abs(np.angle(np.exp(1j * (output - STFT_ANGLE))))
    assert distance.max() < 1e-5


def test_stft_real_and_imaginary_parts_with_array_window_match_keras():
    stereo, _ = _signals()
    layer = STFTSpectrogram(
        mode="stft", frame_length=4, frame_step=3, padding="same", window=[0.1, 0.5, 1.0, 0.3]
    )
    _close(layer(stereo), STFT_STFT)
    assert layer.get_config()["window"] == [0.1, 0.5, 1.0, 0.3]


def test_stft_real_mode_has_only_the_real_kernel():
    layer = STFTSpectrogram(mode="real", frame_length=8)
    layer(torch.zeros(1, 16, 1))
    assert [name for name in layer.state_dict()] == ["real_kernel"]


@pytest.mark.parametrize(
    ("kwargs", "shape", "expected"),
    [
        ({"frame_length": 8, "frame_step": 4}, (2, 20, 2), (2, 4, 10)),
        ({"frame_length": 6, "frame_step": 3, "padding": "same"}, (2, 20, 2), (2, 7, 10)),
        ({"frame_length": 8, "expand_dims": True}, (2, 20, 3), (2, 4, 5, 3)),
        (
            {"frame_length": 8, "mode": "stft", "data_format": "channels_first"},
            (2, 3, 20),
            (2, 30, 4),
        ),
    ],
)
def test_stft_inferred_shape_equals_eager_shape(kwargs, shape, expected):
    layer = STFTSpectrogram(**kwargs)
    assert tuple(layer(torch.zeros(shape)).shape) == expected
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *expected[1:])


def test_stft_invalid_arguments_and_inputs_raise():
    with pytest.raises(ValueError, match="frame_step"):
        STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="fft_length"):
        STFTSpectrogram(frame_length=8, fft_length=4)
    with pytest.raises(ValueError, match="mode"):
        STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="window"):
        STFTSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match="expects 3-D input"):
        STFTSpectrogram(frame_length=4)(torch.zeros(2, 20))
    with pytest.raises(TypeError, match="float signal"):
        STFTSpectrogram(frame_length=4)(torch.zeros(2, 20, 1, dtype=torch.int64))
    with pytest.warns(UserWarning, match="power of two"):
        STFTSpectrogram(frame_length=4, fft_length=6)


def test_stft_contract():
    check_layer(
        STFTSpectrogram,
        {"frame_length": 8, "frame_step": 4},
        (2, 20, 2),
        expected_output_shape=(2, 4, 10),
    )


def test_mel_spectrogram_in_decibels_matches_keras():
    _, audio = _signals()
    layer = MelSpectrogram(
        fft_length=16, sequence_stride=4, num_mel_bins=5, sampling_rate=800, min_freq=20.0
    )
    _close(layer(audio), MEL, tolerance=2e-5)


def test_mel_magnitude_hamming_short_window_unbatched_matches_keras():
    _, audio = _signals()
    layer = MelSpectrogram(
        fft_length=16,
        sequence_stride=5,
        sequence_length=10,
        window="hamming",
        num_mel_bins=4,
        sampling_rate=1000,
        max_freq=400,
        power_to_db=False,
        mag_exp=1.0,
    )
    _close(layer(audio[0]), MEL_LINEAR)


def test_mel_top_db_and_reference_power_match_keras():
    _, audio = _signals()
    layer = MelSpectrogram(
        fft_length=16,
        sequence_stride=4,
        num_mel_bins=5,
        sampling_rate=800,
        top_db=20.0,
        ref_power=2.0,
    )
    _close(layer(audio), MEL_TOPDB, tolerance=2e-5)


def test_mel_weight_matrix_matches_keras():
    matrix = MelSpectrogram().linear_to_mel_weight_matrix(5, 9, 800, 20.0, 400.0)
    _close(matrix, MEL_MATRIX)


def test_mel_frames_are_centred_and_shape_inferred():
    # Keras' compute_output_shape says (23 + 4 + 1) // 4 = 7 frames; its call returns 6.
    layer = MelSpectrogram(fft_length=16, sequence_stride=4, num_mel_bins=5)
    assert tuple(layer(torch.zeros(2, 23)).shape) == (2, 5, 6)
    assert layer.compute_output_shape((None, 23)) == [None, 5, 6]  # lists, as Keras 3.15.1
    assert layer.compute_output_shape((23,)) == [5, 6]
    model = lamina.Sequential([lamina.Input((23,)), layer])
    assert model.output_shape == (None, 5, 6)


def test_mel_invalid_arguments_and_short_signals_raise():
    with pytest.raises(ValueError, match="fft_length must be at least sequence_length"):
        MelSpectrogram(fft_length=8, sequence_length=16)
    with pytest.raises(ValueError, match="window"):
        MelSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match="more than fft_length // 2"):
        MelSpectrogram(fft_length=16)(torch.zeros(2, 8))


def test_mel_contract_and_config():
    layer = check_layer(
        MelSpectrogram,
        {"fft_length": 16, "sequence_stride": 4, "num_mel_bins": 5},
        (2, 30),
        expected_output_shape=(2, 5, 8),
    )
    config = json.loads(json.dumps(layer.get_config()))
    assert config["max_freq"] == 8000 and config["sequence_length"] == 16
