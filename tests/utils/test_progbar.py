"""Progbar's output against Keras 3.15.1, byte for byte.

KERAS_OUTPUT holds what Keras 3.15.1's `keras.utils.Progbar` wrote to a captured stdout (not a
terminal, on Linux) for each scenario below, with `time.time` replaced by the same clock: it
starts at 100 s and moves 0.37 s at each call (once when the bar is made, once per update).
"""

import contextlib
import io
import types

import pytest
import torch

import lamina.utils.progbar as progbar_module
from lamina.utils.progbar import Progbar

STEPS = [
    ("update", 1, [("loss", 0.5), ("acc", 0.0)]),
    ("update", 3, [("loss", 0.25), ("acc", 0.5)]),
    ("add", 2, [("loss", 0.125), ("acc", 1.0)]),
    ("update", 6, [("loss", 0.0001), ("acc", 0.75)]),
]
SCENARIOS = {  # name: (calls, constructor arguments)
    "v1": (STEPS, {"target": 6}),
    "v2": (STEPS, {"target": 6, "verbose": 2}),
    "v1-stateful": (
        STEPS,
        {"target": 6, "stateful_metrics": ["acc"], "width": 10, "unit_name": "sample"},
    ),
    "v2-stateful": (STEPS, {"target": 6, "verbose": 2, "stateful_metrics": ["acc"]}),
    "v1-unknown": (
        [
            ("update", 1, [("loss", 2.0)]),
            ("update", 5, [("loss", -1.0)]),
            ("update", 9, None, True),
        ],
        {"target": None},
    ),
    "v2-unknown": (
        [("update", 1, [("loss", 2.0)]), ("update", 9, [("loss", -1.0)], True)],
        {"target": None, "verbose": 2},
    ),
    "v2-neg": ([("update", 4, [("loss", -2.0), ("z", 0.0)])], {"target": 4, "verbose": 2}),
    "v1-long": (
        [("update", 0), ("update", 1), ("update", 200), ("update", 1000)],
        {"target": 1000},
    ),
    "v1-interval": (
        [("update", 1), ("update", 2), ("update", 3)],
        {"target": 100, "interval": 0.5},
    ),
    "v0": (STEPS, {"target": 6, "verbose": 0}),
    "v1-slow": ([("update", 1), ("update", 2)], {"target": 400000}),
    "v1-target0": (
        [("update", 1, [("a", 1.0)]), ("update", 2, [("a", 3.0)])],
        {"target": 0},
    ),
    "v1-ints": (
        [
            ("update", 2, [("n", 3)]),
            ("update", 4, [("n", 4)]),
            ("update", 5, [("n", 1)], False),
            ("update", 7, [("n", 2)]),
        ],
        {"target": 7, "width": 7},
    ),
    "v1-over": (
        [("update", 3, [("x", 1.0)]), ("update", 5, [("x", 1.0)])],
        {"target": 4, "width": 8},
    ),
}

B = "\b"
KERAS_OUTPUT = {  # Keras 3.15.1: stdout captured (not a terminal), with the clock below
    "v1": (
        "\r\x1b[1m1/6\x1b[0m \x1b[32m━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m1s\x1b["
        "0m 370ms/step - loss: 0.5000 - acc: 0.0000e+00"
        + B
        * 71
        + "\r\x1b[1m3/6\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b["
        "0m 185ms/step - loss: 0.3333 - acc: 0.3333    "
        + B
        * 67
        + "\r\x1b[1m5/6\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m━━━━\x1b[0m \x1b[1m0s\x1b["
        "0m 185ms/step - loss: 0.2500 - acc: 0.6000"
        + B
        * 67
        + "\r\x1b[1m6/6\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b["
        "0m 222ms/step - loss: 1.0000e-04 - acc: 0.7500\n"
    ),
    "v2": ("6/6 - 1s - 222ms/step - loss: 1.0000e-04 - acc: 0.7500\n"),
    "v1-stateful": (
        "\r\x1b[1m1/6\x1b[0m \x1b[32m━\x1b[0m\x1b[37m━━━━━━━━━\x1b[0m \x1b[1m1s\x1b[0m 370ms/s"
        "ample - loss: 0.5000 - acc: 0.0000e+00"
        + B
        * 63
        + "\r\x1b[1m3/6\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━\x1b[0m \x1b[1m0s\x1b[0m 185ms/s"
        "ample - loss: 0.3333 - acc: 0.5000    "
        + B
        * 59
        + "\r\x1b[1m5/6\x1b[0m \x1b[32m━━━━━━━━\x1b[0m\x1b[37m━━\x1b[0m \x1b[1m0s\x1b[0m 185ms/s"
        "ample - loss: 0.2500 - acc: 1.0000"
        + B
        * 59
        + "\r\x1b[1m6/6\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 222ms/s"
        "ample - loss: 1.0000e-04 - acc: 0.7500\n"
    ),
    "v2-stateful": ("6/6 - 1s - 222ms/step - loss: 1.0000e-04 - acc: 0.7500\n"),
    "v1-unknown": (
        "\r      1/Unknown \x1b[1m0s\x1b[0m 370ms/step - loss: 2.0000"
        + B * 44
        + "\r      5/Unknown \x1b[1m1s\x1b[0m 92ms/step - loss: -0.4000"
        + B * 44
        + "\r      9/Unknown \x1b[1m1s\x1b[0m 92ms/step - loss: -0.4000\n"
    ),
    "v2-unknown": "",
    "v2-neg": ("4/4 - 0s - 93ms/step - loss: -2.0000e+00 - z: 0.0000e+00\n"),
    "v1-long": (
        "\r\x1b[1m   0/1000\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b[0m "
        "0s/step"
        + B
        * 41
        + "\r\x1b[1m   1/1000\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m12:19\x1b["
        "0m 740ms/step"
        + B
        * 47
        + "\r\x1b[1m 200/1000\x1b[0m \x1b[32m━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━━\x1b[0m \x1b["
        "1m1s\x1b[0m 2ms/step     "
        + B
        * 42
        + "\r\x1b[1m1000/1000\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b["
        "1m1s\x1b[0m 741us/step\n"
    ),
    "v1-interval": (
        "\r\x1b[1m  1/100\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m36s\x1b[0m 3"
        "70ms/step"
        + B
        * 43
        + "\r\x1b[1m  3/100\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m35s\x1b[0m 3"
        "70ms/step"
    ),
    "v0": "",
    "v1-slow": (
        "\r\x1b[1m     1/400000\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m41:"
        "06:39\x1b[0m 370ms/step"
        + B
        * 54
        + "\r\x1b[1m     2/400000\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m41:"
        "06:39\x1b[0m 370ms/step"
    ),
    "v1-target0": (
        "\r      1/Unknown \x1b[1m0s\x1b[0m 370ms/step - a: 1.0000\n"
        + B * 41
        + "\r      2/Unknown \x1b[1m1s\x1b[0m 370ms/step - a: 3.0000\n"
    ),
    "v1-ints": (
        "\r\x1b[1m2/7\x1b[0m \x1b[32m━━\x1b[0m\x1b[37m━━━━━\x1b[0m \x1b[1m0s\x1b[0m 185ms/step"
        " - n: 3.0000"
        + B
        * 37
        + "\r\x1b[1m4/7\x1b[0m \x1b[32m━━━━\x1b[0m\x1b[37m━━━\x1b[0m \x1b[1m0s\x1b[0m 185ms/step"
        " - n: 3.5000"
        + B
        * 37
        + "\r\x1b[1m5/7\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m━━\x1b[0m \x1b[1m0s\x1b[0m 222ms/step"
        " - n: 3.0000"
        + B
        * 37
        + "\r\x1b[1m7/7\x1b[0m \x1b[32m━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 211ms/step"
        " - n: 2.0000\n"
    ),
    "v1-over": (
        "\r\x1b[1m3/4\x1b[0m \x1b[32m━━━━━━\x1b[0m\x1b[37m━━\x1b[0m \x1b[1m0s\x1b[0m 123ms/ste"
        "p - x: 1.0000"
        + B
        * 38
        + "\r\x1b[1m5/4\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 148ms/s"
        "tep - x: 1.0000\n"
    ),
}


def _run(monkeypatch, calls, kwargs, dynamic=None):
    ticks = iter([100.0 + 0.37 * i for i in range(1000)])
    monkeypatch.setattr(progbar_module, "time", types.SimpleNamespace(time=lambda: next(ticks)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bar = Progbar(**kwargs)
        if dynamic is not None:
            bar._dynamic_display = dynamic
        for method, *args in calls:
            getattr(bar, method)(*args)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_output_is_keras_byte_for_byte(monkeypatch, name):
    calls, kwargs = SCENARIOS[name]
    assert _run(monkeypatch, calls, kwargs) == KERAS_OUTPUT[name]


def test_without_dynamic_display_each_redraw_is_a_new_line_as_keras(monkeypatch):
    calls = [("update", 1, [("loss", 1.5)]), ("update", 3, [("loss", 0.5)])]
    assert _run(monkeypatch, calls, {"target": 3}, dynamic=False) == (  # Keras 3.15.1
        "\n\x1b[1m1/3\x1b[0m \x1b[32m━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b[0m "
        "370ms/step - loss: 1.5000\n"
        "\x1b[1m3/3\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m "
        "185ms/step - loss: 0.5000\n"
    )


def test_torch_tensor_values_are_averaged_like_floats(monkeypatch):
    as_floats = [("update", 1, [("loss", 1.5)]), ("update", 2, [("loss", 0.5)])]
    as_tensors = [(m, i, [(k, torch.tensor(v))]) for m, i, [(k, v)] in as_floats]
    kwargs = {"target": 3, "verbose": 1}
    assert _run(monkeypatch, as_tensors, kwargs) == _run(monkeypatch, as_floats, kwargs)
    assert "loss: 1.0000" in _run(monkeypatch, as_tensors, kwargs)


def test_dict_values_and_add_accumulate_weighted_by_steps():
    bar = Progbar(20, verbose=0)
    bar.add(4, {"loss": 2.0})
    bar.add(6, {"loss": 1.0})
    assert (bar._seen_so_far, bar._values["loss"]) == (10, [14.0, 10])  # average 1.4
    bar.add(10, {"loss": 5.0})  # the last update (20 >= target) shows its value as it is
    assert bar._values["loss"] == [5.0, 1]


def test_the_fit_bar_formats_numbers_and_times_as_keras():
    from lamina.training.progbar import _format_per_step, format_logs

    logs = {"loss": 0.0, "accuracy": 0.5, "delta": -0.5, "tiny": 0.001}
    # Keras 3.15.1: 4 decimals above 1e-3 (abs at verbose=1, signed in verbose=2's summary)
    expected = " - accuracy: 0.5000 - delta: -0.5000 - loss: 0.0000e+00 - tiny: 1.0000e-03"
    assert format_logs(logs) == expected
    assert " - delta: -5.0000e-01" in format_logs(logs, signed=True)
    assert [_format_per_step(s) for s in (0.0, 2.0, 0.0123, 4e-5)] == [
        "0s/step",
        "2s/step",
        "12ms/step",
        "40us/step",
    ]
