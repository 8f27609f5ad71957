"""Dtype policies: names and errors as Keras, autocast per layer, float32 weights and losses,
loss scaling for float16."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.mixed_precision import DTypePolicy, global_policy, set_global_policy


@pytest.fixture(autouse=True)
def reset_policy():
    yield
    set_global_policy(None)


def test_policy_names_and_dtypes_follow_keras():
    policy = DTypePolicy("mixed_float16")
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        "mixed_float16",
        "float16",
        "float32",
    )
    assert DTypePolicy("bfloat16").variable_dtype == "bfloat16"
    assert global_policy().name == "float32"
    with pytest.raises(ValueError, match="Cannot convert 'mixed_int8' to a mixed precision"):
        DTypePolicy("mixed_int8")
    assert lamina.mixed_precision.Policy is DTypePolicy


def test_layers_take_the_global_policy_when_created():
    before = layers.Dense(2)
    set_global_policy("mixed_bfloat16")
    after = layers.Dense(2)
    own = layers.Dense(2, dtype="float32")
    assert before.dtype_policy.name == "float32"
    assert (after.dtype, after.compute_dtype) == ("float32", "bfloat16")
    assert after.get_config()["dtype"]["config"] == {"name": "mixed_bfloat16"}
    assert layers.Dense.from_config(after.get_config()).dtype_policy == after.dtype_policy
    assert own.compute_dtype == "float32"


def mixed_model(output_dtype=None):
    set_global_policy("mixed_bfloat16")
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((10, 10, 3)),
            layers.Conv2D(6, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(4, activation="softmax", dtype=output_dtype),
        ]
    )
    set_global_policy(None)
    return model


def test_mixed_layers_compute_in_low_precision_and_float32_layers_step_out():
    x = torch.rand(2, 10, 10, 3)
    model = mixed_model()
    assert model(x).dtype == torch.bfloat16
    assert model.layers[0](x).dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in model.parameters())
    head_in_float32 = mixed_model(output_dtype="float32")
    assert head_in_float32(x).dtype == torch.float32
    torch.testing.assert_close(head_in_float32(x), model(x).float(), atol=2e-2, rtol=0)


def test_fit_under_mixed_bfloat16_tracks_float32():
    rng = np.random.RandomState(0)
    x, y = rng.rand(64, 10, 10, 3).astype("float32"), rng.randint(0, 4, 64)
    histories = {}
    for policy in ("float32", "mixed_bfloat16"):
        set_global_policy(policy)
        lamina.utils.set_random_seed(0)
        model = lamina.Sequential(
            [
                lamina.Input((10, 10, 3)),
                layers.Conv2D(6, 3, activation="relu"),
                layers.Flatten(),
                layers.Dense(4, activation="softmax", dtype="float32"),
            ]
        )
        set_global_policy(None)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[policy] = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
        assert all(p.dtype == torch.float32 for p in model.parameters())
    np.testing.assert_allclose(
        histories["mixed_bfloat16"]["loss"], histories["float32"]["loss"], rtol=2e-2
    )


def test_float16_scales_the_loss_unless_disabled():
    set_global_policy("mixed_float16")
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3), layers.Dense(1)])
    set_global_policy(None)
    x, y = np.random.rand(32, 4).astype("float32"), np.random.rand(32, 1).astype("float32")
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, verbose=0)
    assert isinstance(model._trainer._scaler, torch.amp.GradScaler)
    assert np.isfinite(history.history["loss"]).all()
    model.compile("sgd", "mse", auto_scale_loss=False)
    model.fit(x, y, epochs=1, verbose=0)
    assert model._trainer._scaler is None
