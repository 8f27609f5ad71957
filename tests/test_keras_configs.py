"""Configs in Keras 3's full form: nested entries carry 'module' and 'registered_name', layer
dtypes are DTypePolicy entries, Sequential writes its dtype, build_input_shape and each
layer's build_config. The literals were printed by Keras 3.15.1 (torch backend)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np

import lamina
from lamina import layers


def _policy(name: str) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}  # fmt: skip


def _entry(module: str, class_name: str, config: dict) -> dict:
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": None}  # fmt: skip


GLOROT = _entry(
    "keras.initializers",
    "GlorotUniform",
    {"seed": None, "input_axes": None, "output_axes": None},
)
ZEROS = _entry("keras.initializers", "Zeros", {})

KERAS_DENSE = {
    "name": "dense",
    "trainable": True,
    "dtype": _policy("float32"),
    "units": 2,
    "activation": "relu",
    "use_bias": True,
    "kernel_initializer": GLOROT,
    "bias_initializer": ZEROS,
    "kernel_regularizer": _entry("keras.regularizers", "L2", {"l2": 0.01}),
    "bias_regularizer": None,
    "kernel_constraint": _entry("keras.constraints", "MaxNorm", {"max_value": 2, "axis": 0}),
    "bias_constraint": None,
    "quantization_config": None,
}


def test_dense_config_is_keras_full_form() -> None:
    layer = layers.Dense(
        2,
        kernel_regularizer="l2",
        kernel_constraint=lamina.constraints.MaxNorm(2),
        activation="relu",
        name="dense",
    )
    assert layer.get_config() == KERAS_DENSE
    again = layers.Dense.from_config(layer.get_config())
    assert again.get_config() == KERAS_DENSE


def test_sequential_config_is_keras_full_form() -> None:
    model = lamina.Sequential(
        [lamina.Input((3,), name="input_layer"), layers.Dense(2, name="dense_1")],
        name="sequential",
    )
    dense = {
        **KERAS_DENSE,
        "name": "dense_1",
        "activation": "linear",
        "kernel_regularizer": None,
        "kernel_constraint": None,
    }
    assert model.get_config() == {
        "name": "sequential",
        "trainable": True,
        "dtype": _policy("float32"),
        "layers": [
            _entry(
                "keras.layers",
                "InputLayer",
                {
                    "batch_shape": (None, 3),  # tuples, as Keras 3.15.1 keeps them
                    "dtype": "float32",
                    "sparse": False,
                    "ragged": False,
                    "name": "input_layer",
                    "optional": False,
                },  # fmt: skip
            ),
            {**_entry("keras.layers", "Dense", dense), "build_config": {"input_shape": (None, 3)}},
        ],
        "build_input_shape": (None, 3),
    }
    clone = lamina.Sequential.from_config(model.get_config())
    assert clone.count_params() == 8 and clone.get_config() == model.get_config()


def test_mixed_policy_and_schedule_entries() -> None:
    assert layers.Dense(2, dtype="mixed_float16").get_config()["dtype"] == _policy("mixed_float16")
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    expected = _entry(
        "keras.optimizers.schedules",
        "ExponentialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 10,
            "decay_rate": 0.9,
            "staircase": False,
            "name": "ExponentialDecay",
        },  # fmt: skip
    )
    assert lamina.optimizers.Adam(schedule).get_config()["learning_rate"] == expected
    assert lamina.optimizers.schedules.serialize(schedule) == expected


def test_optimizer_iteration_is_int32_and_summary_bytes_match_keras() -> None:
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    assert [str(v.dtype) for v in model.optimizer.variables[:2]] == [
        "torch.int32",
        "torch.float32",
    ]
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    text = out.getvalue()
    # Keras 3.15.1 prints these four lines for this model after one epoch of Adam.
    for line in (
        "Total params: 26 (104.00 B)",
        "Trainable params: 8 (32.00 B)",
        "Non-trainable params: 0 (0.00 B)",
        "Optimizer params: 18 (72.00 B)",
    ):
        assert line in text, text


def test_config_keys_keras_writes_or_omits() -> None:
    # Keras 3.15.1: Embedding and EinsumDense write activity_regularizer (None); Lambda
    # writes output_shape only when it was given.
    assert layers.Embedding(3, 2).get_config()["activity_regularizer"] is None
    assert layers.EinsumDense("ab,bc->ac", 2).get_config()["activity_regularizer"] is None
    assert "output_shape" not in layers.Lambda(lambda x: x).get_config()
    assert layers.Lambda(lambda x: x, output_shape=(3,)).get_config()["output_shape"] == (3,)
