"""ReversibleEmbedding: reverse projection against Keras 3.15.1, weights, masks, config.

The reference arrays are Keras 3.15.1 outputs (torch backend) of
/work/scratch/s18/layers2/gen2.py: weights drawn from NumPy's default_rng(5) in Keras'
layout, hidden states from default_rng(6), rounded to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.reversible_embedding import ReversibleEmbedding
from lamina.testing import check_layer

IDS = torch.tensor([[1, 0, 6], [3, 3, 2]])

REVERSE_TIED = np.array(
    [
        [
            [-2.563099, 2.180842, -3.887924, 5.355235, 1.315238, 0.9972314, 0.2916461],
            [-1.56771, 1.241964, 0.2931094, -1.616667, 2.028503, -1.418717, -1.372382],
            [-2.579029, 2.007488, -1.319119, 1.119556, 1.827742, -1.595039, -1.348854],
        ],
        [
            [-0.412086, 0.3170228, -1.248973, 2.274377, -0.4601435, 0.2793117, 0.3318669],
            [0.3203308, 0.0116131, -0.2644218, -0.5649445, 1.300926, 2.109604, 0.7613952],
            [-3.17803, 2.200167, -0.3701254, 0.2127385, 1.214302, -4.403061, -2.713963],
        ],
    ]
)
REVERSE_UNTIED_CAPPED = np.array(
    [
        [
            [-0.1476588, 1.671083, 0.5354872, -0.1056927, 1.89759, -1.979307, -1.925296],
            [-1.331563, -1.351477, -1.820545, 0.266801, -1.357128, 1.27064, -0.0579393],
            [-1.089225, -0.5980688, -1.750159, 0.3600052, 0.1637982, -1.06731, -1.287403],
        ],
        [
            [0.541379, 1.005685, 0.8437166, -0.0118699, 1.35122, -1.607018, -0.9997994],
            [-0.5925978, 0.601663, 0.7563632, -0.4609452, -0.073288, 0.579429, -0.5791293],
            [-1.127426, -1.624451, -1.969042, 0.8860344, -0.9157534, -0.3729815, -0.3868481],
        ],
    ]
)


def _layer(**kwargs):
    layer = ReversibleEmbedding(7, 3, **kwargs)
    layer(IDS)
    rng = np.random.default_rng(5)
    layer.set_weights([rng.normal(0, 1, w.shape).astype("float32") for w in layer.get_weights()])
    return layer


def _hidden():
    return torch.tensor(np.random.default_rng(6).normal(size=(2, 3, 3)).astype("float32"))


def test_tied_reverse_projection_matches_keras():
    layer = _layer()
    assert [w.shape for w in layer.get_weights()] == [(7, 3)]
    with torch.no_grad():
        logits = layer(_hidden(), reverse=True)
    np.testing.assert_allclose(logits.numpy(), REVERSE_TIED, rtol=1e-5, atol=1e-5)


def test_untied_soft_capped_projection_matches_keras():
    layer = _layer(tie_weights=False, logit_soft_cap=2.0)
    assert [w.shape for w in layer.get_weights()] == [(7, 3), (3, 7)]
    assert layer.count_params() == 42
    with torch.no_grad():
        logits = layer(_hidden(), reverse=True)
    np.testing.assert_allclose(logits.numpy(), REVERSE_UNTIED_CAPPED, rtol=1e-5, atol=1e-5)


def test_untied_weight_is_stored_like_a_linear_weight():
    layer = _layer(tie_weights=False)
    assert list(layer.state_dict()) == ["weight", "reverse_weight"]
    assert tuple(layer.reverse_weight.shape) == (7, 3)
    assert layer.reverse_embeddings is layer.reverse_weight
    np.testing.assert_array_equal(layer.get_weights()[1], layer.reverse_weight.detach().numpy().T)


def test_forward_lookup_is_the_embedding():
    layer = _layer()
    with torch.no_grad():
        torch.testing.assert_close(layer(IDS), layer.weight[IDS])


def test_reverse_dtype_casts_the_projection():
    layer = _layer(reverse_dtype="float64")
    with torch.no_grad():
        logits = layer(_hidden(), reverse=True)
    assert logits.dtype == torch.float64
    np.testing.assert_allclose(logits.numpy(), REVERSE_TIED, rtol=1e-5, atol=1e-5)


def test_mask_on_lookup_not_on_logits():
    layer = ReversibleEmbedding(7, 3, mask_zero=True)
    assert layer.compute_mask(IDS).tolist() == [[True, False, True], [True, True, True]]
    assert layer.compute_mask(torch.zeros(2, 3, 3)) is None


def test_symbolic_reverse_call_shape_and_model():
    ids = lamina.Input((4,), dtype="int32")
    layer = ReversibleEmbedding(7, 3)
    hidden = layer(ids)
    logits = layer(hidden, reverse=True)
    assert hidden.shape == (None, 4, 3)
    assert logits.shape == (None, 4, 7)
    model = lamina.Model(ids, logits)
    assert model.predict(np.array([[1, 2, 3, 4]]), verbose=0).shape == (1, 4, 7)


def test_reverse_call_on_wrong_size_raises():
    layer = _layer()
    with pytest.raises(ValueError, match="output_dim=3"):
        layer(torch.zeros(2, 4), reverse=True)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="logit_soft_cap"):
        ReversibleEmbedding(7, 3, logit_soft_cap=-1.0)
    with pytest.raises(ValueError, match="reverse_dtype"):
        ReversibleEmbedding(7, 3, reverse_dtype="float99")


def test_contract_on_integer_ids():
    check_layer(
        ReversibleEmbedding,
        {"input_dim": 10, "output_dim": 3},
        (2, 5),
        expected_output_shape=(2, 5, 3),
        input_dtype=torch.int64,
    )


def test_untied_reverse_weight_trains_through_reverse_calls_only():
    layer = _layer(tie_weights=False)
    layer(_hidden(), reverse=True).square().mean().backward()
    assert layer.reverse_weight.grad is not None
    assert layer.weight.grad is None


def test_config_round_trip():
    layer = _layer(tie_weights=False, logit_soft_cap=2.0)
    config = json.loads(json.dumps(layer.get_config()))
    assert (config["tie_weights"], config["logit_soft_cap"], config["reverse_dtype"]) == (
        False,
        2.0,
        None,
    )
    clone = ReversibleEmbedding.from_config(config)
    clone(IDS)
    clone.set_weights(layer.get_weights())
    with torch.no_grad():
        torch.testing.assert_close(clone(_hidden(), reverse=True), layer(_hidden(), reverse=True))
