"""lamina.initializers.STFT against Keras 3.15.1's STFT initializer (torch backend, float32
values recorded as literals) and its windows against scipy.signal.get_window."""

import numpy as np
import pytest
import torch

import lamina
from lamina import initializers
from lamina.initializers._stft import get_window

# keras.initializers.STFT(side, window, scaling, periodic)(shape=(5, 1, 4)), flattened.
STFT_KERAS = [
    (
        ("real", "hann", "density", False),
        [
            0.0,
            0.0,
            0.0,
            0.0,
            0.40824827551841736,
            0.20412412285804749,
            -0.20412416756153107,
            -0.40824827551841736,
            0.8164965510368347,
            -0.40824833512306213,
            -0.4082482159137726,
            0.8164965510368347,
            0.40824827551841736,
            -0.40824827551841736,
            0.40824827551841736,
            -0.40824827551841736,
            0.0,
            -0.0,
            -0.0,
            0.0,
        ],
    ),
    (
        ("imag", "hamming", "spectrum", True),
        [
            -0.0,
            -0.0,
            -0.0,
            -0.0,
            -0.0,
            -0.12761114537715912,
            -0.12761114537715912,
            1.288197903903665e-08,
            -0.0,
            -0.2925715446472168,
            0.2925715446472168,
            -5.90685118595502e-08,
            -0.0,
            2.95342559297751e-08,
            -5.90685118595502e-08,
            8.057225109325827e-09,
            -0.0,
            0.12761114537715912,
            -0.12761113047599792,
            -5.15279161561466e-08,
        ],
    ),
    (
        ("imag", None, None, False),
        [
            -0.0,
            -0.0,
            -0.0,
            -0.0,
            -0.0,
            -0.8660253882408142,
            -0.8660253882408142,
            8.742277657347586e-08,
            -0.0,
            -0.8660253882408142,
            0.866025447845459,
            -1.7484555314695172e-07,
            -0.0,
            8.742277657347586e-08,
            -1.7484555314695172e-07,
            2.384976127700611e-08,
            -0.0,
            0.866025447845459,
            -0.8660252690315247,
            -3.4969110629390343e-07,
        ],
    ),
    (
        ("real", [0.5, 1.0, 1.0, 0.5, 0.25], "density", False),
        [
            0.31234753131866455,
            0.31234753131866455,
            0.31234753131866455,
            0.31234753131866455,
            0.6246950626373291,
            0.31234750151634216,
            -0.31234756112098694,
            -0.6246950626373291,
            0.6246950626373291,
            -0.31234756112098694,
            -0.3123474717140198,
            0.6246950626373291,
            0.31234753131866455,
            -0.31234753131866455,
            0.31234753131866455,
            -0.31234753131866455,
            0.15617376565933228,
            -0.07808686792850494,
            -0.07808690518140793,
            0.15617376565933228,
        ],
    ),
    (
        ("real", "blackman", None, True),
        [
            -1.3877787807814457e-17,
            -1.3877787807814457e-17,
            -1.3877787807814457e-17,
            -1.3877787807814457e-17,
            0.20077013969421387,
            0.10038506239652634,
            -0.10038508474826813,
            -0.20077013969421387,
            0.8492298722267151,
            -0.4246149957180023,
            -0.4246148467063904,
            0.8492298722267151,
            0.8492298722267151,
            -0.8492298722267151,
            0.8492298722267151,
            -0.8492298722267151,
            0.20077013969421387,
            -0.10038505494594574,
            -0.10038510710000992,
            0.20077013969421387,
        ],
    ),
]

# scipy.signal.get_window(name, 7, fftbins=False) and (name, 6, fftbins=True).
WINDOWS_SCIPY = {
    "barthann": (
        [0.0, 0.2699999999999999, 0.73, 1.0, 0.7300000000000002, 0.2699999999999999, 0.0],
        [0.0, 0.2699999999999999, 0.73, 1.0, 0.7300000000000002, 0.2699999999999999],
    ),
    "bartlett": (
        [
            0.0,
            0.3333333333333333,
            0.6666666666666666,
            1.0,
            0.6666666666666667,
            0.33333333333333326,
            0.0,
        ],
        [0.0, 0.3333333333333333, 0.6666666666666666, 1.0, 0.6666666666666667, 0.33333333333333326],
    ),
    "blackman": (
        [
            -1.3877787807814457e-17,
            0.1299999999999999,
            0.6299999999999999,
            0.9999999999999999,
            0.6300000000000002,
            0.1300000000000002,
            -1.3877787807814457e-17,
        ],
        [
            -1.3877787807814457e-17,
            0.1299999999999999,
            0.6299999999999999,
            0.9999999999999999,
            0.6300000000000002,
            0.1300000000000002,
        ],
    ),
    "blackmanharris": (
        [
            6.0000000000001025e-05,
            0.05564499999999996,
            0.5205749999999999,
            1.0,
            0.5205750000000002,
            0.05564500000000015,
            6.0000000000001025e-05,
        ],
        [
            6.0000000000001025e-05,
            0.05564499999999996,
            0.5205749999999999,
            1.0,
            0.5205750000000002,
            0.05564500000000015,
        ],
    ),
    "bohman": (
        [
            0.0,
            0.10899778104422927,
            0.6089977810442293,
            1.0,
            0.6089977810442295,
            0.10899778104422961,
            0.0,
        ],
        [
            0.0,
            0.10899778104422927,
            0.6089977810442293,
            1.0,
            0.6089977810442295,
            0.10899778104422961,
        ],
    ),
    "boxcar": ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    "cosine": (
        [
            0.2225209339563144,
            0.6234898018587335,
            0.9009688679024191,
            1.0,
            0.9009688679024191,
            0.6234898018587336,
            0.2225209339563145,
        ],
        [
            0.2225209339563144,
            0.6234898018587335,
            0.9009688679024191,
            1.0,
            0.9009688679024191,
            0.6234898018587336,
        ],
    ),
    "flattop": (
        [
            -0.0004210510000000013,
            -0.05126315599999999,
            0.19821052999999986,
            1.000000003,
            0.1982105300000003,
            -0.05126315600000008,
            -0.0004210510000000013,
        ],
        [
            -0.0004210510000000013,
            -0.05126315599999999,
            0.19821052999999986,
            1.000000003,
            0.1982105300000003,
            -0.05126315600000008,
        ],
    ),
    "hamming": (
        [
            0.08000000000000007,
            0.30999999999999994,
            0.77,
            1.0,
            0.7700000000000002,
            0.31000000000000033,
            0.08000000000000007,
        ],
        [
            0.08000000000000007,
            0.30999999999999994,
            0.77,
            1.0,
            0.7700000000000002,
            0.31000000000000033,
        ],
    ),
    "hann": (
        [0.0, 0.2499999999999999, 0.75, 1.0, 0.7500000000000002, 0.25000000000000033, 0.0],
        [0.0, 0.2499999999999999, 0.75, 1.0, 0.7500000000000002, 0.25000000000000033],
    ),
    "lanczos": (
        [
            3.8981718325193755e-17,
            0.4134966715663439,
            0.8269933431326882,
            1.0,
            0.8269933431326882,
            0.4134966715663439,
            3.8981718325193755e-17,
        ],
        [
            3.8981718325193755e-17,
            0.4134966715663439,
            0.8269933431326882,
            1.0,
            0.8269933431326882,
            0.4134966715663439,
        ],
    ),
    "nuttall": (
        [
            0.0003628000000000381,
            0.06133449999999996,
            0.5292298,
            1.0,
            0.5292298000000003,
            0.06133450000000015,
            0.0003628000000000381,
        ],
        [
            0.0003628000000000381,
            0.06133449999999996,
            0.5292298,
            1.0,
            0.5292298000000003,
            0.06133450000000015,
        ],
    ),
    "parzen": (
        [
            0.0058309037900874695,
            0.15743440233236156,
            0.6501457725947521,
            1.0,
            0.6501457725947521,
            0.15743440233236156,
            0.0058309037900874695,
        ],
        [
            0.0058309037900874695,
            0.15743440233236156,
            0.6501457725947521,
            1.0,
            0.6501457725947521,
            0.15743440233236156,
        ],
    ),
    "triang": ([0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25], [0.25, 0.5, 0.75, 1.0, 0.75, 0.5]),
    "tukey": (
        [0.0, 0.75, 1.0, 1.0, 1.0, 0.7499999999999999, 0.0],
        [0.0, 0.75, 1.0, 1.0, 1.0, 0.7499999999999999],
    ),
}


@pytest.mark.parametrize("arguments, expected", STFT_KERAS)
def test_stft_values_equal_keras(arguments, expected):
    values = initializers.STFT(*arguments)((5, 1, 4))
    assert values.dtype == torch.float32
    np.testing.assert_array_equal(values.reshape(-1).numpy(), np.float32(expected))


@pytest.mark.parametrize("name", sorted(WINDOWS_SCIPY))
def test_windows_equal_scipy(name):
    symmetric, periodic = WINDOWS_SCIPY[name]
    np.testing.assert_allclose(get_window(name, 7), symmetric, rtol=0, atol=1e-14)
    np.testing.assert_allclose(get_window(name, 6, periodic=True), periodic, rtol=0, atol=1e-14)


def test_window_aliases_and_suffixes():
    np.testing.assert_array_equal(get_window("han", 5), get_window("hann", 5))
    np.testing.assert_array_equal(get_window("hann_periodic", 6), WINDOWS_SCIPY["hann"][1])
    np.testing.assert_array_equal(get_window("hann_symmetric", 7, True), WINDOWS_SCIPY["hann"][0])
    assert get_window("hamming", 1).tolist() == [1.0]


def test_stft_names_config_and_serialization_round_trip():
    assert initializers.get("stft").get_config() == {
        "side": "real",
        "window": "hann",
        "periodic": False,
        "scaling": "density",
    }
    assert initializers.STFTInitializer is initializers.STFT is initializers.stft
    assert isinstance(initializers.get("STFTInitializer"), initializers.STFT)
    # keras.initializers.serialize(STFT("imag", "hamming", None, True))
    keras_form = {
        "module": "keras.initializers",
        "class_name": "STFT",
        "config": {"side": "imag", "window": "hamming", "periodic": True, "scaling": None},
        "registered_name": None,
    }
    rebuilt = initializers.deserialize(keras_form)
    assert initializers.serialize(rebuilt) == keras_form
    assert lamina.saving.serialize_keras_object(rebuilt) == keras_form
    array_window = initializers.STFT(window=np.array([0.5, 1.0, 0.5]))
    assert array_window.get_config()["window"] == [0.5, 1.0, 0.5]


def test_stft_dtype_and_channels():
    values = initializers.STFT("real", "hann")((8, 1, 5), dtype="float64")
    assert values.dtype == torch.float64
    expected = np.cos(-2 * np.pi * np.arange(8)[:, None] * np.arange(5)[None] / 8)
    window = get_window("hann", 8)
    expected = expected * window[:, None] / np.sqrt(np.sum(window**2))
    np.testing.assert_allclose(values[:, 0].numpy(), expected, rtol=0, atol=1e-12)
    repeated = initializers.STFT("imag")((8, 3, 5))
    assert repeated.shape == (8, 3, 5)
    assert torch.equal(repeated[:, 2], repeated[:, 0])


def test_stft_rejects_bad_arguments():
    with pytest.raises(ValueError, match="side must be 'real' or 'imag'; got 'x'"):
        initializers.STFT(side="x")
    with pytest.raises(ValueError, match="unknown window 'kaiser'"):
        initializers.STFT(window="kaiser")
    with pytest.raises(ValueError, match="scaling must be None, 'density' or 'spectrum'"):
        initializers.STFT(scaling="l2")
    with pytest.raises(ValueError, match=r"window must have shape \(5,\) \(frame_length\); got"):
        initializers.STFT(window=[1.0, 2.0])((5, 1, 4))
    with pytest.raises(ValueError, match=r"shape must be \(frame_length, channels, bins\)"):
        initializers.STFT()((5, 4))
    with pytest.raises(ValueError, match="bins >= 2"):
        initializers.STFT()((5, 1, 1))
