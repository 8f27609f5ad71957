"""lamina.random: Keras' keras.random semantics (shapes, dtypes, ranges, seeding rules) and a
VAE sampling layer holding a SeedGenerator through fit, save and load."""

from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
import lamina.random as random
from lamina import config

SHAPE_FUNCTIONS = {
    "normal": lambda seed: random.normal((4, 5), seed=seed),
    "uniform": lambda seed: random.uniform((4, 5), seed=seed),
    "randint": lambda seed: random.randint((4, 5), 0, 100, seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((4, 5), seed=seed),
    "gamma": lambda seed: random.gamma((4, 5), alpha=2.0, seed=seed),
    "binomial": lambda seed: random.binomial((4, 5), counts=20, probabilities=0.5, seed=seed),
    "beta": lambda seed: random.beta((4, 5), alpha=2.0, beta=3.0, seed=seed),
    "categorical": lambda seed: random.categorical(torch.zeros(4, 50), 5, seed=seed),
    "dropout": lambda seed: random.dropout(torch.ones(4, 5), 0.5, seed=seed),
    "shuffle": lambda seed: random.shuffle(torch.arange(20.0), seed=seed),
}


@pytest.mark.parametrize("name", sorted(SHAPE_FUNCTIONS))
def test_same_int_seed_gives_same_values(name: str) -> None:
    draw = SHAPE_FUNCTIONS[name]
    assert torch.equal(draw(7), draw(7))


@pytest.mark.parametrize("name", sorted(SHAPE_FUNCTIONS))
def test_seed_generator_advances_and_replays(name: str) -> None:
    draw = SHAPE_FUNCTIONS[name]
    gen = random.SeedGenerator(1337)
    first = [draw(gen) for _ in range(3)]
    assert not all(torch.equal(first[0], other) for other in first[1:])
    gen = random.SeedGenerator(1337)
    assert all(torch.equal(a, draw(gen)) for a in first)


@pytest.mark.parametrize("name", sorted(SHAPE_FUNCTIONS))
def test_seed_none_reproducible_after_set_random_seed(name: str) -> None:
    draw = SHAPE_FUNCTIONS[name]
    lamina.utils.set_random_seed(3)
    a = draw(None)
    lamina.utils.set_random_seed(3)
    assert torch.equal(a, draw(None))


@pytest.mark.parametrize("name", sorted(SHAPE_FUNCTIONS))
def test_results_on_default_device(name: str) -> None:
    assert SHAPE_FUNCTIONS[name](0).device.type == config.device().type


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("normal", torch.float32),
        ("uniform", torch.float32),
        ("truncated_normal", torch.float32),
        ("gamma", torch.float32),
        ("binomial", torch.float32),
        ("beta", torch.float32),
        ("randint", torch.int32),
        ("categorical", torch.int32),
    ],
)
def test_default_dtypes_are_keras(name: str, dtype: torch.dtype) -> None:
    assert SHAPE_FUNCTIONS[name](0).dtype == dtype


def test_dtype_argument_and_shapes() -> None:
    assert random.normal((2, 3), dtype="float64").dtype == torch.float64
    assert random.uniform([5], dtype="float16").shape == (5,)
    assert random.randint((2, 2), 0, 5, dtype="int64").dtype == torch.int64
    assert random.normal(torch.Size([3, 1])).shape == (3, 1)
    assert random.categorical(torch.zeros(3, 4), 7, dtype="int64").shape == (3, 7)


def test_different_int_seeds_differ() -> None:
    assert not torch.equal(random.normal((10,), seed=1), random.normal((10,), seed=2))


def test_normal_moments() -> None:
    x = random.normal((20000,), mean=3.0, stddev=2.0, seed=0)
    assert abs(float(x.mean()) - 3.0) < 0.1
    assert abs(float(x.std()) - 2.0) < 0.1


def test_uniform_range() -> None:
    x = random.uniform((10000,), minval=-2.0, maxval=5.0, seed=0)
    assert float(x.min()) >= -2.0 and float(x.max()) < 5.0
    assert abs(float(x.mean()) - 1.5) < 0.1


def test_randint_range_covers_all_values() -> None:
    x = random.randint((5000,), minval=-3, maxval=4, seed=0)
    assert sorted(set(x.tolist())) == list(range(-3, 4))


def test_randint_rejects_empty_range() -> None:
    with pytest.raises(ValueError, match="maxval must exceed minval"):
        random.randint((3,), 5, 5)


def test_truncated_normal_within_two_stddev() -> None:
    x = random.truncated_normal((50000,), mean=1.0, stddev=0.5, seed=0)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 2.0
    # The standard normal cut at +-2 has stddev 0.8796.
    assert abs(float(x.std()) - 0.5 * 0.8796) < 0.01
    assert abs(float(x.mean()) - 1.0) < 0.01


def test_categorical_frequencies_follow_softmax() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
    samples = random.categorical(logits, 20000, seed=0)
    assert samples.shape == (2, 20000)
    for row in range(2):
        counts = torch.bincount(samples[row].long(), minlength=3).float() / 20000
        assert torch.allclose(counts, torch.softmax(logits[row], -1), atol=0.02)


def test_categorical_needs_2d_logits() -> None:
    with pytest.raises(ValueError, match="2-D"):
        random.categorical(torch.zeros(3), 2)


def test_dropout_scales_kept_values() -> None:
    y = random.dropout(torch.ones(20000), 0.25, seed=0)
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert abs(kept.numel() / 20000 - 0.75) < 0.02


def test_dropout_noise_shape_broadcasts() -> None:
    y = random.dropout(torch.ones(3, 100), 0.5, noise_shape=(1, None), seed=0)
    assert torch.equal(y[0], y[1]) and torch.equal(y[1], y[2])


def test_dropout_edge_rates_and_errors() -> None:
    x = torch.ones(4, 4)
    assert torch.equal(random.dropout(x, 0.0), x)
    assert torch.equal(random.dropout(x, 1.0), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="rate must be"):
        random.dropout(x, 1.5)


def test_shuffle_permutes_along_axis() -> None:
    x = torch.arange(24.0).reshape(4, 6)
    y = random.shuffle(x, axis=1, seed=0)
    assert torch.equal(y.sort(dim=1).values, x)
    # One permutation for every row, as Keras' TF and JAX backends.
    order = (y[0] - x[0, 0]).long()
    assert torch.equal(y, x[:, order])
    assert sorted(random.shuffle(np.arange(5), seed=1).tolist()) == [0, 1, 2, 3, 4]


def test_gamma_binomial_beta_statistics() -> None:
    g = random.gamma((20000,), alpha=3.0, seed=0)
    assert float(g.min()) > 0 and abs(float(g.mean()) - 3.0) < 0.1
    b = random.binomial((20000,), counts=10, probabilities=0.3, seed=0)
    assert set(b.unique().tolist()) <= set(range(11)) and abs(float(b.mean()) - 3.0) < 0.1
    be = random.beta((20000,), alpha=2.0, beta=6.0, seed=0)
    assert float(be.min()) >= 0 and float(be.max()) <= 1 and abs(float(be.mean()) - 0.25) < 0.01


def test_distribution_parameters_broadcast() -> None:
    g = random.gamma((2, 3), alpha=torch.tensor([1.0, 2.0, 3.0]), seed=0)
    assert g.shape == (2, 3)
    b = random.binomial((2, 2), counts=np.array([0, 5]), probabilities=1.0, seed=0)
    assert b.tolist() == [[0.0, 5.0], [0.0, 5.0]]


def test_bad_seed_raises() -> None:
    with pytest.raises(ValueError, match="seed must be None, an int or"):
        random.normal((2,), seed="1")
    with pytest.raises(ValueError, match="seed must be an int or None"):
        random.SeedGenerator(seed=1.5)


def test_seed_generator_config_copy_and_pickle() -> None:
    gen = random.SeedGenerator(5, name="noise")
    assert gen.get_config() == {"seed": 5, "name": "noise"}
    gen.next()
    for clone in (copy.deepcopy(gen), pickle.loads(pickle.dumps(gen))):
        assert clone.next() == copy.deepcopy(gen).next()
    fresh = random.SeedGenerator.from_config(gen.get_config())
    assert fresh.next() == random.SeedGenerator(5).next()


def test_seed_generator_without_seed_follows_set_random_seed() -> None:
    lamina.utils.set_random_seed(11)
    a = random.SeedGenerator().next()
    lamina.utils.set_random_seed(11)
    assert random.SeedGenerator().next() == a


class Sampling(lamina.layers.Layer):
    """Keras' VAE sampling layer: z = mean + exp(log_var / 2) * epsilon, with the KL term."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch, dim = lamina.ops.shape(z_mean)
        epsilon = random.normal(shape=(batch, dim), seed=self.seed_generator)
        kl = -0.5 * torch.mean(1 + z_log_var - z_mean**2 - torch.exp(z_log_var))
        self.add_loss(kl)
        return z_mean + torch.exp(0.5 * z_log_var) * epsilon


def _vae() -> lamina.Model:
    inputs = lamina.Input(shape=(8,))
    h = lamina.layers.Dense(16, activation="relu")(inputs)
    z_mean = lamina.layers.Dense(2, name="z_mean")(h)
    z_log_var = lamina.layers.Dense(2, name="z_log_var")(h)
    z = Sampling(name="sampling")([z_mean, z_log_var])
    outputs = lamina.layers.Dense(8)(z)
    return lamina.Model(inputs, outputs)


def test_sampling_layer_is_not_a_weight() -> None:
    layer = Sampling()
    assert layer.get_weights() == [] and list(layer.state_dict()) == []
    model = _vae()
    assert len(model.get_weights()) == 8
    assert not any("seed" in key for key in model.state_dict())


def test_vae_sampling_trains_saves_and_loads(tmp_path: Path) -> None:
    lamina.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    model = _vae()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x, epochs=2, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(math.isfinite(v) for v in history.history["loss"])
    sampling = model.get_layer("sampling")
    first = sampling([torch.zeros(4, 2), torch.zeros(4, 2)])
    second = sampling([torch.zeros(4, 2), torch.zeros(4, 2)])
    assert not torch.equal(first, second)  # the generator advances at each call

    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = lamina.models.load_model(path, custom_objects={"Sampling": Sampling})
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert isinstance(loaded.get_layer("sampling").seed_generator, random.SeedGenerator)
    assert loaded.predict(x[:4], verbose=0).shape == (4, 8)
    loaded.fit(x, x, epochs=1, batch_size=16, verbose=0)


def test_sampling_layer_draws_during_shape_inference_on_meta() -> None:
    inputs = lamina.Input(shape=(3,))
    z = Sampling()([inputs, inputs])
    assert tuple(z.shape) == (None, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_draws_on_cuda() -> None:
    gen = random.SeedGenerator(1)
    x = random.dropout(torch.ones(10, device="cuda"), 0.5, seed=gen)
    assert x.device.type == "cuda"
    assert random.normal((3,), seed=gen).device.type == config.device().type


@pytest.mark.parametrize("seed", ["a", 1.5, np.int64(3)])
def test_set_random_seed_refuses_non_int_with_keras_value_error(seed) -> None:
    # Keras 3.15.1: ValueError "Expected `seed` argument to be an integer. Received: ..."
    with pytest.raises(ValueError, match="expected `seed` argument to be an integer"):
        lamina.utils.set_random_seed(seed)
