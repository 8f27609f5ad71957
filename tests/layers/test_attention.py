"""MultiHeadAttention, Attention and AdditiveAttention against Keras 3.15 numbers.

The reference arrays were computed by Keras 3.15.1 (torch backend) in
/work/scratch/attn/gen.py and pasted here, rounded to 7 significant digits. Inputs come from
np.random.default_rng(0), drawn in the same order as there.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from lamina.layers.embedding import Embedding

_rng = np.random.default_rng(0)
Q = torch.as_tensor(_rng.normal(size=(2, 3, 4)).astype("float32"))
V = torch.as_tensor(_rng.normal(size=(2, 4, 4)).astype("float32"))
K = torch.as_tensor(_rng.normal(size=(2, 4, 6)).astype("float32"))
_attention_mask = _rng.random((2, 3, 4)) > 0.4
_attention_mask[:, :, 0] = True
ATTENTION_MASK = torch.as_tensor(_attention_mask)
QUERY_MASK = torch.tensor([[True, True, False], [True, False, True]])
VALUE_MASK = torch.tensor([[True, True, True, False], [True, False, True, True]])
ATOL = 1e-5

MHA_WEIGHTS = [
    np.array(
        [
            [[0.1727921, 0.4108091], [0.1652185, -0.6515786]],
            [[0.4526779, 0.2231873], [-0.2684766, 0.2905591]],
            [[0.1822862, 0.1470663], [0.01421112, 0.2733565]],
            [[-0.368227, -0.08145498], [-0.2410597, 0.2994231]],
        ]
    ),
    np.array([[0.01986105, -0.1462284], [-0.3909542, -0.1285961]]),
    np.array(
        [
            [[0.00407109, -0.1378015], [0.6470319, 0.5033622]],
            [[-1.355581, -0.9445066], [-0.08738605, -0.2110952]],
            [[0.1068215, 0.108661], [1.058919, -0.5560104]],
            [[-0.1888025, 1.021386], [0.3233515, 0.3315317]],
        ]
    ),
    np.array([[-0.2570032, -0.8240376], [0.08373237, 0.05450704]]),
    np.array(
        [
            [[-0.613676, -0.3416133], [-0.03602184, -0.4723758]],
            [[-0.04913498, 0.04774151], [0.01779312, -0.2531458]],
            [[0.296874, 0.4455835], [0.1604242, -0.4091151]],
            [[0.3658261, -0.25072], [0.4395803, -0.5358937]],
        ]
    ),
    np.array([[0.4572336, -0.01003173], [-0.6243744, -0.1569497]]),
    np.array(
        [
            [
                [0.02705114, 0.1363957, -0.4910941, -0.5536865],
                [0.09979226, -0.2333748, 0.1177528, 0.3797598],
            ],
            [
                [-0.8243937, 0.1271941, 0.6123235, -0.1487634],
                [-0.4054073, 0.3761219, 0.1267233, 0.4479415],
            ],
        ]
    ),
    np.array([-0.1726079, -0.7409092, -0.05500538, -0.2229141]),
]
MHA_CROSS = np.array(
    [
        [
            [0.390314, -0.7551185, -0.7131352, -0.4650342],
            [0.4359155, -0.7026628, -0.7509047, -0.3107843],
            [0.3585735, -0.8002788, -0.5427777, -0.3599586],
        ],
        [
            [0.4403654, -1.045925, -0.1570044, -0.006544307],
            [0.4638398, -0.9701831, -0.4891664, -0.3533063],
            [0.4522912, -0.8570132, -0.7613765, -0.6515775],
        ],
    ]
)
MHA_SELF = np.array(
    [
        [
            [0.2790621, -0.7473291, -0.7872185, -0.6511325],
            [0.2294991, -0.6120077, -0.8234987, -0.4421255],
            [0.3075891, -0.8049035, -0.8072065, -0.7179899],
        ],
        [
            [0.1293139, -0.4391041, -0.7240604, -0.1692694],
            [0.1122368, -0.3849029, -0.7726305, -0.1278208],
            [0.09567834, -0.2772165, -0.9535028, -0.104481],
        ],
    ]
)
MHA_ATTENTION_MASK = np.array(
    [
        [
            [0.3863147, -0.7130413, -0.7076288, -0.3799116],
            [0.60264, -0.8249037, -0.6587821, -0.1474451],
            [0.4441979, -0.7490355, -0.605376, -0.1773444],
        ],
        [
            [0.3933953, -0.7560571, -0.9402954, -0.7282158],
            [0.3213589, -1.155586, -0.880222, -1.552784],
            [0.3314717, -1.042099, -0.9649921, -1.3127],
        ],
    ]
)
MHA_CAUSAL_SELF = np.array(
    [
        [
            [0.4648142, -0.9534799, -0.6924278, -0.6403126],
            [0.4226424, -0.9797508, -0.8006463, -0.9261738],
            [0.3075891, -0.8049035, -0.8072065, -0.7179899],
        ],
        [
            [0.0107566, -0.08474326, -1.037245, 0.2430314],
            [0.03766148, -0.2191436, -1.000229, -0.06561226],
            [0.09567834, -0.2772165, -0.9535028, -0.104481],
        ],
    ]
)
MHA_VALUE_MASK_OUTPUT = np.array(
    [
        [
            [0.4468641, -0.7322336, -0.6354242, -0.1785799],
            [0.4566597, -0.6991177, -0.6558331, -0.1097913],
            [0.4441979, -0.7490355, -0.605376, -0.1773444],
        ],
        [
            [0.470045, -1.000099, -0.2032685, 0.09005055],
            [0.4876996, -0.9382309, -0.4998179, -0.2347135],
            [0.4545478, -0.8794607, -0.5927869, -0.3808001],
        ],
    ]
)
MHA_VALUE_MASK_SCORES = np.array(
    [
        [
            [
                [0.3442573, 0.3323413, 0.3234014, 0.0],
                [0.3575077, 0.3274132, 0.3150791, 0.0],
                [0.3878619, 0.3026502, 0.3094879, 0.0],
            ],
            [
                [0.3189436, 0.4070205, 0.2740359, 0.0],
                [0.3623365, 0.4894585, 0.1482049, 0.0],
                [0.3130122, 0.3708649, 0.3161229, 0.0],
            ],
        ],
        [
            [
                [0.1121058, 0.0, 0.8012738, 0.08662037],
                [0.2868128, 0.0, 0.5095432, 0.203644],
                [0.2876985, 0.0, 0.3434445, 0.3688571],
            ],
            [
                [0.09949151, 0.0, 0.1950421, 0.7054663],
                [0.1187607, 0.0, 0.1848314, 0.6964079],
                [0.134798, 0.0, 0.1485308, 0.7166712],
            ],
        ],
    ]
)
MHA_VALUE_MASK_FAST = np.array(
    [
        [
            [0.4468641, -0.7322336, -0.6354241, -0.1785798],
            [0.4566597, -0.6991177, -0.655833, -0.1097913],
            [0.4441979, -0.7490355, -0.605376, -0.1773444],
        ],
        [
            [0.470045, -1.000099, -0.2032686, 0.09005055],
            [0.4876996, -0.9382309, -0.4998178, -0.2347135],
            [0.4545477, -0.8794607, -0.5927869, -0.3808],
        ],
    ]
)
MHA_QUERY_MASK_FAST = np.array(
    [
        [
            [0.390314, -0.7551185, -0.7131352, -0.4650342],
            [0.4359155, -0.7026628, -0.7509047, -0.3107843],
            [0.3730337, -0.7871763, -0.6904126, -0.5405877],
        ],
        [
            [0.4403654, -1.045925, -0.1570044, -0.006544307],
            [0.486853, -1.050046, -0.6659827, -0.8981236],
            [0.4522912, -0.8570132, -0.7613765, -0.6515775],
        ],
    ]
)
MHA_QUERY_MASK_CAUSAL_OUTPUT = np.array(
    [
        [
            [0.6634564, -0.8125519, -0.4780059, 0.2458836],
            [0.4536166, -0.6694477, -0.5676686, 0.0694074],
            [-0.1726079, -0.7409092, -0.05500538, -0.2229141],
        ],
        [
            [0.3314717, -1.042099, -0.9649921, -1.3127],
            [-0.1726079, -0.7409092, -0.05500538, -0.2229141],
            [0.6270582, -1.131512, -0.7968765, -0.9946514],
        ],
    ]
)
MHA_QUERY_MASK_CAUSAL_SCORES = np.array(
    [
        [
            [[1.0, 0.0, 0.0, 0.0], [0.5219694, 0.4780306, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
            [[1.0, 0.0, 0.0, 0.0], [0.42538, 0.5746201, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        ],
        [
            [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.254876, 0.4408619, 0.3042621, 0.0]],
            [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.3868386, 0.1869132, 0.4262483, 0.0]],
        ],
    ]
)
MHA2_COUNT = 113
MHA2_WEIGHTS = [
    np.array(
        [
            [[0.3876619, 0.09681642], [-0.8154246, -0.5975816]],
            [[0.4418945, 0.3398825], [-0.3201217, -0.0005243983]],
            [[0.2227868, 0.2342022], [0.4381211, 0.1282428]],
            [[-0.04741417, -0.129424], [0.5278714, -1.125427]],
        ]
    ),
    np.array([[-0.06932766, 0.01650005], [-0.7126745, 0.1664068]]),
    np.array(
        [
            [[-0.3256405, 0.4312224], [-0.06279604, 0.3345766]],
            [[0.6094218, 0.1914648], [-0.4378606, -0.7571593]],
            [[0.8766921, -0.0556461], [-0.3442825, 0.07212854]],
            [[-0.09570567, 0.4260711], [0.01696409, 0.006874792]],
            [[-0.3572899, 0.2347841], [-0.5169334, 0.3329447]],
            [[0.7619687, -0.762343], [-1.233115, 0.3084394]],
        ]
    ),
    np.array([[1.273949, -0.5004624], [-0.6253479, 0.2944845]]),
    np.array(
        [
            [[-0.4203608, -0.2530127, -0.1740587], [0.266001, -0.2026512, 0.1389414]],
            [[-0.08826663, -0.4223356, -0.1599131], [-0.4751998, 0.003257493, -0.5619331]],
            [[-0.5464472, 0.7284809, -0.02659211], [-0.02695101, 0.2557682, -0.2104285]],
            [[-0.1142677, 0.2125744, 0.1412079], [-0.5796484, 0.4166713, -0.2952175]],
        ]
    ),
    np.array([[-0.5280395, -0.4502375, -0.1952727], [0.8136501, -0.587768, 0.08003794]]),
    np.array(
        [
            [
                [-1.068912, -0.0007834666, 0.4497832, -0.1183317, -0.3146774],
                [0.1157555, 0.3500759, 0.3318288, 0.9862369, 0.1045837],
                [-0.296205, -0.06298959, -0.03624927, 0.05436869, -0.01501391],
            ],
            [
                [0.08698297, -0.835425, 0.4148145, -0.2873696, -0.5865793],
                [0.3188756, 0.658663, 0.2465141, 0.08057965, -0.4661101],
                [1.435784, 0.4401293, -0.5696473, -0.389819, 0.04348962],
            ],
        ]
    ),
    np.array([-0.7773656, 0.0843152, -0.2295358, 0.6131353, 0.4810773]),
]
MHA2_OUTPUT = np.array(
    [
        [
            [-0.6392207, -0.8455653, -0.4770203, -0.1900674, 0.4337715],
            [0.03612244, -1.85753, -0.7195033, -0.8734494, 0.3438873],
            [-0.4890695, -1.228023, -0.5814686, -0.4073203, 0.4714931],
        ],
        [
            [-1.552411, -0.594694, -0.3813643, 0.09474093, 0.6788763],
            [-0.9393797, 0.524875, -0.01615964, 2.048714, 1.004149],
            [-1.718159, 0.4182452, 0.0827397, 1.895121, 1.028871],
        ],
    ]
)
MHA2_SCORES = np.array(
    [
        [
            [
                [0.346349, 0.3359303, 0.0, 0.3177208],
                [0.5242314, 0.0, 0.4757686, 0.0],
                [0.2713573, 0.1616039, 0.5670388, 0.0],
            ],
            [
                [0.1183773, 0.4837619, 0.0, 0.3978607],
                [0.7599697, 0.0, 0.2400303, 0.0],
                [0.1636371, 0.4020776, 0.4342853, 0.0],
            ],
        ],
        [
            [
                [0.3837781, 0.0, 0.0, 0.6162218],
                [0.5938449, 0.4061551, 0.0, 0.0],
                [1.0, 0.0, 0.0, 0.0],
            ],
            [[0.40803, 0.0, 0.0, 0.59197], [0.651269, 0.348731, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
        ],
    ]
)
MHA2_FAST = np.array(
    [
        [
            [-0.6392207, -0.8455653, -0.4770203, -0.1900674, 0.4337715],
            [0.03612244, -1.85753, -0.7195033, -0.8734494, 0.3438873],
            [-0.4890695, -1.228023, -0.5814686, -0.4073203, 0.4714931],
        ],
        [
            [-1.552411, -0.594694, -0.3813643, 0.09474093, 0.6788763],
            [-0.9393797, 0.524875, -0.01615964, 2.048714, 1.004149],
            [-1.718159, 0.4182452, 0.0827397, 1.895121, 1.028871],
        ],
    ]
)
ATTENTION_DOT_MASKED = np.array(
    [
        [
            [0.08051147, 0.3438987, -0.3233141, -0.1316898],
            [-0.1534426, 0.4909206, 0.05047253, 0.2501419],
            [0.0, 0.0, 0.0, 0.0],
        ],
        [
            [-0.3757613, 0.9173558, -0.4883083, 0.5054789],
            [0.0, 0.0, 0.0, 0.0],
            [-0.1334549, 1.075558, -0.06688672, 0.2517132],
        ],
    ]
)
ATTENTION_SCALED_CAUSAL_OUTPUT = np.array(
    [
        [
            [0.9034702, 0.0940123, -0.7434993, -0.9217254],
            [-0.0517585, 0.182562, -0.93025, -0.4216887],
            [-0.0667116, 0.4626135, -0.000410676, 0.1628002],
        ],
        [
            [-1.259066, 1.513924, 1.345875, 0.7813114],
            [-0.05072442, 0.06421489, 1.434821, 1.716362],
            [0.2844296, -0.08565962, 1.371346, 1.659232],
        ],
    ]
)
ATTENTION_SCALED_CAUSAL_SCORES = np.array(
    [
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.2982431, 0.7017569, 0.0, 0.0],
            [0.1118183, 0.08815829, 0.8000234, 0.0],
        ],
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.2068761, 0.793124, 0.0, 0.0],
            [0.0601603, 0.86722, 0.0726197, 0.0],
        ],
    ]
)
ATTENTION_CONCAT_OUTPUT = np.array(
    [
        [
            [-0.0005813614, 0.4330357, -0.06596673, 0.07966121],
            [0.07248512, 0.3828672, -0.1969368, -0.04838794],
            [0.03889601, 0.3981959, -0.1626167, -0.005527511],
        ],
        [
            [-0.53484, 1.401349, 0.9237324, 0.3467849],
            [0.397404, 1.356507, 0.6677961, -0.2679231],
            [-0.01205691, 1.315164, 0.6048654, 0.03584577],
        ],
    ]
)
ATTENTION_CONCAT_SCORES = np.array(
    [
        [
            [0.1751626, 0.09212973, 0.7327077, 0.0],
            [0.2561612, 0.1357151, 0.6081238, 0.0],
            [0.2237947, 0.1330132, 0.643192, 0.0],
        ],
        [
            [0.7135456, 0.0, 0.2020036, 0.0844508],
            [0.4209114, 0.0, 0.5148907, 0.06419785],
            [0.5030242, 0.0, 0.3452194, 0.1517564],
        ],
    ]
)
ATTENTION_CONCAT_UNSCALED = np.array(
    [
        [
            [0.9034702, 0.0940123, -0.7434993, -0.9217254],
            [0.4313852, 0.1377746, -0.8357937, -0.6746016],
            [0.05823196, 0.3812022, -0.209719, -0.04710642],
        ],
        [
            [-1.259066, 1.513924, 1.345875, 0.7813114],
            [-0.7397723, 0.890901, 1.3841, 1.183156],
            [0.1125968, 0.3082625, 1.293079, 1.290662],
        ],
    ]
)
ADDITIVE_WEIGHTS = [
    np.array([-0.6426495, 0.04446608, -0.2330987, 0.2702518]),
]
ADDITIVE_OUTPUT = np.array(
    [
        [
            [0.1958505, 0.2864515, -0.4572665, -0.2888206],
            [0.2438535, 0.2788705, -0.4583625, -0.3204285],
            [0.0, 0.0, 0.0, 0.0],
        ],
        [
            [0.3235056, 1.135414, 0.04274932, -0.09488495],
            [0.0, 0.0, 0.0, 0.0],
            [0.4310432, 1.062809, -0.1804844, -0.1284793],
        ],
    ]
)
ADDITIVE_SCORES = np.array(
    [
        [
            [0.4002919, 0.2355532, 0.3641548, 0.0],
            [0.4375286, 0.2073059, 0.3551655, 0.0],
            [0.3934658, 0.1853908, 0.4211434, 0.0],
        ],
        [
            [0.2732702, 0.0, 0.3714145, 0.3553153],
            [0.2407581, 0.0, 0.3626585, 0.3965834],
            [0.1882332, 0.0, 0.3718847, 0.4398821],
        ],
    ]
)
ADDITIVE_UNSCALED = np.array(
    [
        [
            [0.9034702, 0.0940123, -0.7434993, -0.9217254],
            [0.4313852, 0.1377746, -0.8357937, -0.6746016],
            [0.05823196, 0.3812022, -0.209719, -0.04710642],
        ],
        [
            [-1.259066, 1.513924, 1.345875, 0.7813114],
            [-0.7397723, 0.890901, 1.3841, 1.183156],
            [0.1125968, 0.3082625, 1.293079, 1.290662],
        ],
    ]
)


def close(actual: torch.Tensor, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual.detach().numpy(), expected, atol=ATOL, rtol=0)


def mha_like_keras() -> MultiHeadAttention:
    layer = MultiHeadAttention(2, 2)
    layer.build(Q.shape, V.shape)
    layer.set_weights(MHA_WEIGHTS)
    return layer


# ---------------------------------------------------------------- MultiHeadAttention


def test_mha_weights_in_keras_layout_and_count() -> None:
    layer = mha_like_keras()
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(4, 2, 2), (2, 2), (4, 2, 2), (2, 2), (4, 2, 2), (2, 2), (2, 2, 4), (4,)]
    assert layer.count_params() == 80
    # PyTorch's layout: Linear-like (out..., in...) kernels.
    assert tuple(layer.query_dense.weight.shape) == (2, 2, 4)
    assert tuple(layer.output_dense.weight.shape) == (4, 2, 2)
    assert "query_dense.weight" in layer.state_dict()
    for got, expected in zip(layer.get_weights(), MHA_WEIGHTS, strict=True):
        np.testing.assert_array_equal(got, expected.astype("float32"))


def test_mha_cross_attention() -> None:
    close(mha_like_keras()(Q, V), MHA_CROSS)


def test_mha_self_attention() -> None:
    close(mha_like_keras()(Q, Q), MHA_SELF)


def test_mha_attention_mask() -> None:
    close(mha_like_keras()(Q, V, attention_mask=ATTENTION_MASK), MHA_ATTENTION_MASK)


def test_mha_causal_mask() -> None:
    close(mha_like_keras()(Q, Q, use_causal_mask=True), MHA_CAUSAL_SELF)


def test_mha_value_mask_with_scores_and_fast_path() -> None:
    layer = mha_like_keras()
    output, scores = layer(Q, V, value_mask=VALUE_MASK, return_attention_scores=True)
    close(output, MHA_VALUE_MASK_OUTPUT)
    close(scores, MHA_VALUE_MASK_SCORES)
    close(layer(Q, V, value_mask=VALUE_MASK), MHA_VALUE_MASK_FAST)


def test_mha_query_mask_as_keras_propagated_mask() -> None:
    # Keras reads the query's propagated mask; lamina takes it as `query_mask`.
    layer = mha_like_keras()
    close(layer(Q, V, query_mask=QUERY_MASK), MHA_QUERY_MASK_FAST)
    output, scores = layer(
        Q, V, query_mask=QUERY_MASK, use_causal_mask=True, return_attention_scores=True
    )
    close(output, MHA_QUERY_MASK_CAUSAL_OUTPUT)
    close(scores, MHA_QUERY_MASK_CAUSAL_SCORES)


def test_mha_value_dim_output_shape_and_key() -> None:
    layer = MultiHeadAttention(2, 2, value_dim=3, output_shape=5)
    output = layer(Q, V, K)
    assert tuple(output.shape) == (2, 3, 5)
    assert layer.count_params() == MHA2_COUNT
    layer.set_weights(MHA2_WEIGHTS)
    output, scores = layer(Q, V, key=K, attention_mask=ATTENTION_MASK, return_attention_scores=True)
    close(output, MHA2_OUTPUT)
    close(scores, MHA2_SCORES)
    close(layer(Q, V, K, attention_mask=ATTENTION_MASK), MHA2_FAST)


def test_mha_multi_axis_output_shape_and_attention_over_two_axes() -> None:
    layer = MultiHeadAttention(2, 3, output_shape=(2, 3))
    x = torch.randn(2, 3, 4, 5)
    output, scores = layer(x, x, return_attention_scores=True)
    assert tuple(output.shape) == (2, 3, 4, 2, 3)
    assert tuple(scores.shape) == (2, 2, 3, 4, 3, 4)
    torch.testing.assert_close(scores.sum((-2, -1)), torch.ones(2, 2, 3, 4))
    with pytest.raises(NotImplementedError, match="attention_axes=\\(2,\\) is not supported"):
        MultiHeadAttention(2, 3, attention_axes=2)(x, x)


def test_mha_symbolic_call_and_summary() -> None:
    query, value = lamina.Input((6, 16)), lamina.Input((4, 16))
    layer = MultiHeadAttention(2, 8)
    output = layer(query, value)
    assert output.shape == (None, 6, 16)
    output, scores = MultiHeadAttention(2, 8)(query, value, return_attention_scores=True)
    assert scores.shape == (None, 2, 6, 4)
    model = lamina.Model([query, value], output)
    assert model.count_params() == 1088
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 6, 16)" in text and "1,088" in text
    result = model([torch.randn(3, 6, 16), torch.randn(3, 4, 16)])
    assert tuple(result.shape) == (3, 6, 16)


def test_mha_gradients_finite_and_dropout_only_in_training() -> None:
    layer = MultiHeadAttention(2, 4, dropout=0.5, seed=1)
    x = torch.randn(2, 5, 8, requires_grad=True)
    inference = layer(x, x)
    torch.testing.assert_close(layer(x, x), inference)
    training = layer(x, x, training=True)
    assert not torch.allclose(training, inference)
    training.square().mean().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    for weight in layer.trainable_weights:
        assert weight.grad is not None and bool(torch.isfinite(weight.grad).all())


def test_mha_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="value and key but the last"):
        MultiHeadAttention(2, 4)(torch.zeros(1, 3, 4), torch.zeros(1, 5, 4), torch.zeros(1, 6, 4))
    with pytest.raises(TypeError, match="needs a query and a value"):
        MultiHeadAttention(2, 4)(torch.zeros(1, 3, 4))


def test_mha_config_round_trip() -> None:
    layer = MultiHeadAttention(2, 4, value_dim=3, output_shape=(5,), dropout=0.1, name="mha")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["value_dim"] == 3 and config["output_shape"] == [5]
    clone = MultiHeadAttention.from_config(config)
    assert clone.get_config() == layer.get_config()
    x = torch.randn(2, 3, 4)
    layer(x, x)
    clone(x, x)
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(x, x), layer(x, x))
    clone.load_state_dict(layer.state_dict())


# ---------------------------------------------------------------- Attention


def test_attention_dot_with_masks() -> None:
    layer = Attention()
    close(layer([Q, V], mask=[QUERY_MASK, VALUE_MASK]), ATTENTION_DOT_MASKED)
    assert layer.get_weights() == []


def test_attention_scaled_causal_with_key() -> None:
    layer = Attention(use_scale=True)
    layer.build([Q.shape, V.shape])
    layer.set_weights([np.array(0.7, "float32")])
    output, scores = layer([Q, V, K[..., :4]], use_causal_mask=True, return_attention_scores=True)
    close(output, ATTENTION_SCALED_CAUSAL_OUTPUT)
    close(scores, ATTENTION_SCALED_CAUSAL_SCORES)


def test_attention_concat() -> None:
    layer = Attention(use_scale=True, score_mode="concat")
    layer([Q, V])
    assert [w.shape for w in layer.get_weights()] == [(), ()]
    layer.set_weights([np.array(0.7, "float32"), np.array(1.3, "float32")])
    output, scores = layer([Q, V], mask=[None, VALUE_MASK], return_attention_scores=True)
    close(output, ATTENTION_CONCAT_OUTPUT)
    close(scores, ATTENTION_CONCAT_SCORES)
    unscaled = Attention(score_mode="concat")
    close(unscaled([Q, V], use_causal_mask=True), ATTENTION_CONCAT_UNSCALED)
    assert unscaled.count_params() == 1


def test_attention_symbolic_and_errors() -> None:
    query, value = lamina.Input((6, 16)), lamina.Input((4, 8))
    output, scores = Attention()([query, value], return_attention_scores=True)
    assert output.shape == (None, 6, 8) and scores.shape == (None, 6, 4)
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        Attention()(Q)
    with pytest.raises(ValueError, match="score_mode must be one of"):
        Attention(score_mode="add")


def test_additive_attention() -> None:
    layer = AdditiveAttention()
    layer([Q, V])
    assert layer.count_params() == 4
    layer.set_weights(ADDITIVE_WEIGHTS)
    output, scores = layer(
        [Q, V, K[..., :4]], mask=[QUERY_MASK, VALUE_MASK], return_attention_scores=True
    )
    close(output, ADDITIVE_OUTPUT)
    close(scores, ADDITIVE_SCORES)
    unscaled = AdditiveAttention(use_scale=False)
    close(unscaled([Q, V], use_causal_mask=True), ADDITIVE_UNSCALED)


def test_attention_gradients_finite() -> None:
    for layer in (Attention(use_scale=True, score_mode="concat"), AdditiveAttention()):
        query = Q.clone().requires_grad_(True)
        layer([query, V], mask=[QUERY_MASK, VALUE_MASK]).sum().backward()
        assert query.grad is not None and bool(torch.isfinite(query.grad).all())
        assert all(bool(torch.isfinite(w.grad).all()) for w in layer.trainable_weights)


def test_attention_config_round_trip() -> None:
    for layer in (
        Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=3),
        AdditiveAttention(use_scale=False),
    ):
        config = json.loads(json.dumps(layer.get_config()))
        assert type(layer).from_config(config).get_config() == layer.get_config()
    assert "score_mode" not in AdditiveAttention().get_config()


# ---------------------------------------------------------------- in a model


def test_embedding_self_attention_model_trains() -> None:
    torch.manual_seed(0)
    tokens = lamina.Input((8,))
    x = Embedding(20, 16)(tokens)
    x = MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = lamina.layers.GlobalAveragePooling1D()(x)
    outputs = lamina.layers.Dense(1, activation="sigmoid")(x)
    model = lamina.Model(tokens, outputs)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 20, size=(64, 8))
    labels = (ids < 10).mean(axis=1, keepdims=True).round().astype("float32")
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(ids.astype("float32"), labels, epochs=2, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[1] < losses[0]


def test_attention_axes_and_output_shape_in_the_config_as_keras():
    # Keras 3.15.1: the argument until built ((1,) for an int), then a tuple of the axes;
    # output_shape a tuple; the build shapes keep the batch size.
    x = np.ones((2, 5, 6), "float32")
    for given, before, built, output_shape in [
        (None, None, (1,), None),
        (1, (1,), (1,), (4,)),
        ([1], [1], (1,), None),
    ]:
        layer = MultiHeadAttention(2, 3, attention_axes=given, output_shape=output_shape)
        assert layer.get_config()["attention_axes"] == before
        layer(x, x)
        config = layer.get_config()
        assert config["attention_axes"] == built and config["output_shape"] == output_shape
        assert layer.get_build_config() == {
            "shapes_dict": {"query_shape": (2, 5, 6), "value_shape": (2, 5, 6)}
        }
        assert MultiHeadAttention.from_config(config).get_config()["attention_axes"] == built
