"""GroupQueryAttention: numbers against Keras 3.15.1, masks, shapes, config, contract.

The reference arrays are Keras 3.15.1 outputs (torch backend) of
/work/scratch/s18/layers2/gen_gqa.py: the same seeded inputs and weights (NumPy's
default_rng, copied with set_weights in Keras' layout), rounded to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.group_query_attention import GroupedQueryAttention, GroupQueryAttention

OUT_PLAIN = np.array(
    [
        [
            [0.4761104, -3.347625, 0.7339483, 0.9292718, 3.386047],
            [0.7037293, -3.825921, 0.5581365, 1.051251, 3.488108],
            [0.963093, -4.474942, 1.497731, 0.9031932, 4.942934],
            [0.5259567, -3.657643, 1.017015, 0.9314073, 4.037296],
        ],
        [
            [0.7369901, -2.562971, 0.2709253, 0.651104, 4.059324],
            [0.7379167, -3.284456, -0.3124577, 0.8665383, 3.512508],
            [0.7765328, -2.965413, 0.3318888, 0.6868134, 4.233707],
            [0.9245924, -3.407455, 0.1210539, 0.8590917, 4.409236],
        ],
    ]
)
OUT_SCORES_OUT = np.array(
    [
        [
            [0.3425841, -2.655838, 0.9649915, 0.7510379, 3.451885],
            [0.1292134, -2.175656, 1.071078, 0.581723, 3.077617],
            [0.9119622, -4.60859, 1.270618, 1.000048, 4.209564],
            [0.7347425, -3.782145, 0.8387814, 1.02232, 4.271197],
        ],
        [
            [0.8319894, -3.960523, -0.179324, 0.8951397, 4.045857],
            [0.4234061, -2.511732, 1.083495, 0.4076817, 3.78745],
            [0.1663057, -2.777052, 0.5035845, 0.5393934, 2.713457],
            [0.2441499, -2.368779, 1.080306, 0.4822552, 3.505047],
        ],
    ]
)
OUT_SCORES_FIRST = np.array(
    [
        [
            [0.344266, 0.2942019, 0.3615321],
            [0.2868213, 0.2823759, 0.4308029],
            [0.1796164, 0.7667837, 0.0535998],
            [0.3221057, 0.4662149, 0.2116794],
        ],
        [
            [0.3028668, 0.2750506, 0.4220826],
            [0.2954646, 0.2861873, 0.4183481],
            [0.4271991, 0.4033523, 0.1694487],
            [0.3070073, 0.3900976, 0.302895],
        ],
        [
            [0.1710915, 0.4730237, 0.3558848],
            [0.1277343, 0.396753, 0.4755127],
            [0.0622356, 0.083902, 0.8538625],
            [0.2983169, 0.4626428, 0.2390404],
        ],
        [
            [0.1593463, 0.2132114, 0.6274423],
            [0.0519811, 0.0368681, 0.9111508],
            [0.2490056, 0.2576137, 0.4933807],
            [0.2884135, 0.5151705, 0.1964159],
        ],
    ]
)
OUT_ATT_CAUSAL = np.array(
    [
        [
            [0.2964178, -3.651161, 0.5620451, 1.22441, 3.601286],
            [0.2964178, -3.651161, 0.5620451, 1.22441, 3.601286],
            [0.9516789, -4.55904, 1.535616, 0.8230084, 4.543469],
            [0.7347424, -3.782145, 0.8387816, 1.02232, 4.271197],
        ],
        [
            [0.1480221, -1.865672, -0.4305038, 0.8457347, 2.129647],
            [2.318812, -4.763818, -0.1918716, 1.187793, 8.163822],
            [-0.066565, -3.043951, 1.493928, 0.2508363, 2.638323],
            [0.7701348, -2.664281, -0.0572506, 0.8904635, 4.155431],
        ],
    ]
)
OUT_CAUSAL = np.array(
    [
        [
            [0.2964178, -3.651161, 0.5620451, 1.22441, 3.601286],
            [1.010392, -4.386395, 0.978851, 1.187762, 5.132708],
            [0.9119625, -4.608591, 1.270618, 1.000048, 4.209565],
            [0.7347424, -3.782145, 0.8387816, 1.02232, 4.271197],
        ],
        [
            [0.1480221, -1.865672, -0.4305038, 0.8457347, 2.129647],
            [1.388625, -2.803663, 0.3337426, 0.7817827, 6.027782],
            [0.1663058, -2.777052, 0.5035847, 0.5393937, 2.713457],
            [0.2441499, -2.368779, 1.080306, 0.4822553, 3.505047],
        ],
    ]
)
OUT_QV_MASK = np.array(
    [
        [
            [0.9881506, -4.392998, 0.9101601, 1.170606, 5.168567],
            [1.010392, -4.386395, 0.978851, 1.187762, 5.132708],
            [1.058538, -4.861618, 1.202499, 1.164944, 5.667348],
            [0.478829, -3.192145, 0.6550827, 0.9528136, 3.477238],
        ],
        [
            [1.012884, -4.475048, -0.1696851, 0.8887594, 4.554685],
            [0.8000898, -3.22448, 0.2905177, 0.7614545, 4.310597],
            [0.202038, -3.162029, 0.7614187, 0.4757641, 3.010704],
            [0.383643, -2.526619, 1.476732, 0.2835962, 4.283996],
        ],
    ]
)
OUT_QV_MASK_SCORES_OUT = np.array(
    [
        [
            [0.9881506, -4.392998, 0.9101599, 1.170606, 5.168567],
            [1.010391, -4.386395, 0.978851, 1.187762, 5.132708],
            [1.058537, -4.861618, 1.202499, 1.164944, 5.667347],
            [-0.3366512, -0.011785, -0.6328185, 0.9335728, -0.4845898],
        ],
        [
            [1.012884, -4.475048, -0.1696853, 0.8887594, 4.554684],
            [-0.3366512, -0.011785, -0.6328185, 0.9335728, -0.4845898],
            [0.2020382, -3.16203, 0.7614193, 0.4757645, 3.010704],
            [0.3836433, -2.526619, 1.476732, 0.283596, 4.283996],
        ],
    ]
)
OUT_GATE_WINDOW = np.array(
    [
        [
            [-0.2940281, 0.1733096, 0.1310306, -0.2961052, 0.3863789],
            [-0.3550336, 0.4590611, 0.1725936, -0.6526759, 0.7525096],
            [-0.3270613, 0.1334734, -0.1343811, -0.166446, 0.0953205],
            [0.4245802, 0.1572438, -0.2959874, 0.3502771, -0.2491305],
        ],
        [
            [0.6128695, -0.1212434, -0.3761731, 0.3403445, -0.5644412],
            [0.4517725, -0.0748773, -0.1190833, 0.3957862, -0.3182977],
            [0.0517983, 0.0463277, -0.1431177, 0.1462522, -0.1307672],
            [0.5870368, 0.0777549, -0.1859033, 0.5937084, -0.3228568],
        ],
    ]
)
OUT_GATE_WINDOW_NOCAUSAL = np.array(
    [
        [
            [-0.5955133, 0.3157068, 0.2151187, -0.6234499, 0.7145519],
            [-0.3517177, 0.1153648, -0.0607258, -0.5057113, 0.2408798],
            [-0.1790268, 0.0910212, -0.2065447, -0.139211, -0.0305657],
            [0.4245802, 0.1572438, -0.2959874, 0.3502771, -0.2491305],
        ],
        [
            [0.0342491, -0.1840721, -0.066117, 0.2878283, -0.2275924],
            [0.3964659, 0.0577769, -0.2160884, 0.4399546, -0.2611522],
            [0.1835511, -0.0675297, -0.1182392, 0.226461, -0.2533715],
            [0.5870368, 0.0777549, -0.1859033, 0.5937084, -0.3228568],
        ],
    ]
)
ATTENTION_MASK = [
    [[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]],
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]],
]


def _inputs():
    rng = np.random.default_rng(0)
    query = torch.tensor(rng.normal(size=(2, 4, 5)).astype("float32"))
    value = torch.tensor(rng.normal(size=(2, 3, 5)).astype("float32"))
    key = torch.tensor(rng.normal(size=(2, 3, 5)).astype("float32"))
    return query, value, key


def _set_seeded_weights(layer, seed):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


def _layer():
    query, value, _ = _inputs()
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    layer(query, value)
    _set_seeded_weights(layer, 1)
    return layer


def _close(output, expected):
    np.testing.assert_allclose(output.detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_weights_in_keras_layout_order_and_count():
    layer = _layer()
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(5, 4, 3), (4, 3), (5, 2, 3), (2, 3), (5, 2, 3), (2, 3), (4, 3, 5), (5,)]
    assert layer.count_params() == 209
    assert layer.name.startswith("grouped_query_attention")


def test_output_with_key_matches_keras():
    query, value, key = _inputs()
    with torch.no_grad():
        _close(_layer()(query, value, key), OUT_PLAIN)


def test_attention_scores_match_keras():
    query, value, _ = _inputs()
    with torch.no_grad():
        output, scores = _layer()(query, value, return_attention_scores=True)
    _close(output, OUT_SCORES_OUT)
    _close(scores[0], OUT_SCORES_FIRST)
    assert tuple(scores.shape) == (2, 4, 4, 3)


def test_attention_mask_and_causal_mask_match_keras():
    query, value, _ = _inputs()
    mask = torch.tensor(ATTENTION_MASK, dtype=torch.bool)
    with torch.no_grad():
        layer = _layer()
        _close(layer(query, value, attention_mask=mask, use_causal_mask=True), OUT_ATT_CAUSAL)
        _close(layer(query, value, use_causal_mask=True), OUT_CAUSAL)


def test_query_and_value_masks_match_keras_on_both_paths():
    query, value, _ = _inputs()
    query_mask = torch.tensor([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=torch.bool)
    value_mask = torch.tensor([[1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    with torch.no_grad():
        layer = _layer()
        _close(layer(query, value, query_mask=query_mask, value_mask=value_mask), OUT_QV_MASK)
        # The explicit path zeroes fully masked rows; the fused one averages the values.
        output, _ = layer(
            query, value, query_mask=query_mask, value_mask=value_mask, return_attention_scores=True
        )
        _close(output, OUT_QV_MASK_SCORES_OUT)


def test_gate_no_bias_sliding_window_multi_query_match_keras():
    query, _, _ = _inputs()
    layer = GroupQueryAttention(
        head_dim=2,
        num_query_heads=3,
        num_key_value_heads=1,
        use_gate=True,
        use_bias=False,
        sliding_window=2,
    )
    layer(query, query)
    assert [w.shape for w in layer.get_weights()] == [
        (5, 3, 2),
        (5, 1, 2),
        (5, 3, 2),
        (5, 1, 2),
        (3, 2, 5),
    ]
    assert layer.count_params() == 110
    _set_seeded_weights(layer, 2)
    with torch.no_grad():
        _close(layer(query, query, use_causal_mask=True), OUT_GATE_WINDOW)
        _close(layer(query, query), OUT_GATE_WINDOW_NOCAUSAL)


def test_equal_heads_is_multi_head_attention():
    query, value, _ = _inputs()
    gqa = GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=2)
    mha = lamina.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    gqa(query, value)
    mha(query, value)
    mha.set_weights(gqa.get_weights())
    with torch.no_grad():
        torch.testing.assert_close(gqa(query, value), mha(query, value))


def test_symbolic_call_shapes_and_model():
    query, value = lamina.Input((4, 5)), lamina.Input((3, 5))
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    output, scores = layer(query, value, return_attention_scores=True)
    assert output.shape == (None, 4, 5)
    assert scores.shape == (None, 4, 4, 3)
    model = lamina.Model([query, value], output)
    q, v, _ = _inputs()
    assert model.predict([q.numpy(), v.numpy()], verbose=0).shape == (2, 4, 5)


def test_mismatched_feature_sizes_raise_in_symbolic_call():
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    with pytest.raises(ValueError, match="last axes of query and value must be equal"):
        layer(lamina.Input((4, 5)), lamina.Input((3, 6)))


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="divisible by num_key_value_heads"):
        GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="head_dim must be a positive int"):
        GroupQueryAttention(head_dim=0, num_query_heads=2, num_key_value_heads=1)
    with pytest.raises(ValueError, match="sliding_window"):
        GroupQueryAttention(2, 2, 1, sliding_window=0)
    with pytest.raises(ValueError, match="dropout is not supported with flash_attention"):
        GroupQueryAttention(2, 2, 1, dropout=0.1, flash_attention=True)
    with pytest.raises(ValueError, match="expects 3-D query"):
        GroupQueryAttention(2, 2, 1)(torch.zeros(2, 3, 4, 5), torch.zeros(2, 3, 4, 5))


def test_dropout_only_in_training_and_gradients_reach_every_weight():
    query, value, _ = _inputs()
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2, dropout=0.5)
    with torch.no_grad():
        torch.testing.assert_close(layer(query, value), layer(query, value))
    output = layer(query, value, training=True)
    output.square().mean().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)


def test_config_round_trip_and_keras_names():
    layer = _layer()
    config = json.loads(json.dumps(layer.get_config()))
    assert config["num_query_heads"] == 4 and config["num_key_value_heads"] == 2
    clone = GroupQueryAttention.from_config(config)
    query, value, _ = _inputs()
    clone(query, value)
    clone.set_weights(layer.get_weights())
    with torch.no_grad():
        torch.testing.assert_close(clone(query, value), layer(query, value))
    assert GroupedQueryAttention is GroupQueryAttention
