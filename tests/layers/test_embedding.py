"""Embedding: lookup, masks, errors, config, against Keras 3.15 numbers.

The reference arrays were computed by Keras 3.15.1 (torch backend) in
/work/scratch/attn/gen.py and pasted here, rounded to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.embedding import Embedding

IDS = np.array([[1, 0, 9, 3], [5, 5, 0, 2]])

EMBEDDING_WEIGHTS = [
    np.array(
        [
            [0.02851792, -0.02172135, 0.03739428],
            [-0.04784913, 0.02686415, 0.00772801],
            [-0.0498437, -0.005098838, -0.03542935],
            [0.004351575, -0.04858428, -0.00570374],
            [-0.01158793, -0.01808142, -0.01087888],
            [0.02665138, 0.02990494, 0.009230137],
            [-0.01089302, 0.004380308, -0.001341593],
            [-0.006635703, -0.04884633, 0.0477129],
            [0.04845793, 0.04361821, 0.03457567],
            [-0.04705944, 0.03264672, 0.01760973],
        ]
    ),
]
EMBEDDING_OUTPUT = np.array(
    [
        [
            [-0.04784913, 0.02686415, 0.00772801],
            [0.02851792, -0.02172135, 0.03739428],
            [-0.04705944, 0.03264672, 0.01760973],
            [0.004351575, -0.04858428, -0.00570374],
        ],
        [
            [0.02665138, 0.02990494, 0.009230137],
            [0.02665138, 0.02990494, 0.009230137],
            [0.02851792, -0.02172135, 0.03739428],
            [-0.0498437, -0.005098838, -0.03542935],
        ],
    ]
)
EMBEDDING_MASK = [[True, False, True, True], [True, True, False, True]]


def test_lookup_matches_keras() -> None:
    layer = Embedding(10, 3)
    layer.build()
    layer.set_weights(EMBEDDING_WEIGHTS)
    output = layer(torch.as_tensor(IDS))
    np.testing.assert_allclose(output.detach().numpy(), EMBEDDING_OUTPUT, atol=1e-6)


def test_weight_is_stored_like_torch_embedding() -> None:
    layer = Embedding(10, 3)
    layer.build()
    assert list(layer.state_dict()) == ["weight"]
    assert tuple(layer.weight.shape) == (10, 3)
    assert layer.embeddings is layer.weight
    assert layer.get_weights()[0].shape == (10, 3)
    assert layer.count_params() == 30


def test_default_initializer_is_uniform_005() -> None:
    layer = Embedding(200, 50)
    layer.build()
    values = layer.weight.detach()
    assert float(values.abs().max()) <= 0.05
    assert float(values.std()) > 0.02  # spread over the interval, not constant
    assert layer.get_config()["embeddings_initializer"]["class_name"] == "RandomUniform"


def test_any_input_rank() -> None:
    layer = Embedding(10, 3)
    assert tuple(layer(torch.zeros(4, dtype=torch.int64)).shape) == (4, 3)
    assert tuple(layer(torch.zeros(2, 3, 5, dtype=torch.int32)).shape) == (2, 3, 5, 3)


def test_float_inputs_are_truncated_like_keras() -> None:
    layer = Embedding(10, 3)
    output = layer(torch.tensor([[1.7, 2.2]]))
    torch.testing.assert_close(output[0], layer.weight[[1, 2]])


def test_negative_indices_count_from_the_end_like_keras() -> None:
    layer = Embedding(10, 3)
    output = layer(torch.tensor([[-1]]))
    torch.testing.assert_close(output[0, 0], layer.weight[9])


def test_out_of_range_index_names_the_layer() -> None:
    layer = Embedding(10, 3, name="tokens")
    with pytest.raises(IndexError, match=r"Embedding 'tokens' has input_dim=10.*from 3 to 12"):
        layer(torch.tensor([[3, 12]]))


def test_mask_zero_compute_mask() -> None:
    layer = Embedding(10, 3, mask_zero=True)
    assert layer.compute_mask(torch.as_tensor(IDS)).tolist() == EMBEDDING_MASK
    assert Embedding(10, 3).compute_mask(torch.as_tensor(IDS)) is None


def test_weights_argument_sets_the_table() -> None:
    table = np.arange(6, dtype="float32").reshape(3, 2)
    layer = Embedding(3, 2, weights=table)
    np.testing.assert_array_equal(layer.get_weights()[0], table)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="input_dim must be a positive int"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim must be a positive int"):
        Embedding(3, 2.5)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="LoRA"):
        Embedding(3, 2, lora_rank=4)


def test_symbolic_call_and_gradient() -> None:
    inputs = lamina.Input((5,))
    layer = Embedding(10, 4)
    assert layer(inputs).shape == (None, 5, 4)
    output = layer(torch.as_tensor(IDS))
    output.square().sum().backward()
    assert layer.weight.grad is not None
    assert bool(torch.isfinite(layer.weight.grad).all())
    # Only the looked-up rows receive a gradient.
    assert float(layer.weight.grad[[4, 6, 7, 8]].abs().sum()) == 0.0


def test_config_round_trip() -> None:
    layer = Embedding(10, 3, mask_zero=True, embeddings_regularizer="l2", name="emb")
    config = json.loads(json.dumps(layer.get_config()))
    clone = Embedding.from_config(config)
    assert clone.get_config() == layer.get_config()
    assert clone.mask_zero and clone.input_dim == 10 and clone.output_dim == 3
