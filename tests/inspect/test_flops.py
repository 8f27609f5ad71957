"""Operation counts (MACs and other operations) and activation memory per sample."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.inspect.flops import flops


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def small_net():
    return Sequential(
        [
            Input((8, 8, 3)),
            layers.Conv2D(4, 3, activation="relu", name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(5, activation="softmax", name="dense"),
        ]
    )


def test_small_net_matches_a_count_by_hand():
    report = flops(small_net())
    by_name = {r.name: r for r in report.layers}
    # conv: 6x6 outputs * 4 filters * 3 channels * 3x3 taps; relu once per output element
    assert (by_name["conv"].macs, by_name["conv"].other_ops) == (6 * 6 * 4 * 3 * 9, 6 * 6 * 4)
    # batch normalization: one multiply-add (scale and shift) per element
    assert (by_name["bn"].macs, by_name["bn"].other_ops) == (144, 0)
    # 2x2 max pooling: 4 comparisons per output element, 3x3x4 outputs
    assert (by_name["pool"].macs, by_name["pool"].other_ops) == (0, 3 * 3 * 4 * 4)
    assert (by_name["flatten"].macs, by_name["flatten"].other_ops) == (0, 0)
    # dense: 36 inputs * 5 units; softmax once per output
    assert (by_name["dense"].macs, by_name["dense"].other_ops) == (36 * 5, 5)
    assert report.total_macs == 3888 + 144 + 180
    assert report.total_other_ops == 144 + 144 + 5
    assert report.total_flops == 2 * 4212 + 293
    assert by_name["dense"].flops == 2 * 180 + 5


def test_activation_memory_is_the_bytes_of_each_output():
    report = flops(small_net())
    assert [r.output_bytes for r in report.layers] == [576, 576, 144, 144, 20]
    assert report.activation_bytes == 1460


@pytest.mark.parametrize(
    ("layer", "input_shape", "macs"),
    [
        (layers.Conv2D(4, 3, groups=2), (8, 8, 4), 36 * 4 * 2 * 9),
        (layers.DepthwiseConv2D(3, depth_multiplier=2), (8, 8, 4), 36 * 4 * 2 * 9),
        (layers.SeparableConv2D(6, 3), (8, 8, 4), 36 * 4 * 9 + 36 * 4 * 6),
        (layers.Conv2DTranspose(2, 3, strides=2), (4, 4, 3), 16 * 3 * 2 * 9),
        (layers.Conv1D(3, 5), (20, 2), 16 * 3 * 2 * 5),
        (layers.Dense(3), (5, 5, 2), 25 * 2 * 3),
        (layers.LayerNormalization(), (5, 7), 35),
    ],
    ids=["grouped", "depthwise", "separable", "transposed", "conv1d", "dense-4d", "layernorm"],
)
def test_macs_of_each_family(layer, input_shape, macs):
    report = flops(Sequential([Input(input_shape), layer]))
    assert report.layers[0].macs == macs


def test_other_operations_of_pooling_activations_and_merges():
    x = Input((4, 4, 3))
    a = layers.Activation("relu", name="act")(x)
    b = layers.ReLU(name="relu")(x)
    total = layers.Add(name="add")([x, a, b])
    pooled = layers.GlobalAveragePooling2D(name="gap")(total)
    by_name = {r.name: r for r in flops(Model(x, pooled)).layers}
    assert by_name["act"].other_ops == 48
    assert by_name["relu"].other_ops == 48
    assert by_name["add"].other_ops == 2 * 48  # three inputs: two additions per element
    assert by_name["gap"].other_ops == 48  # one addition per input element
    assert all(r.macs == 0 for r in by_name.values())


def test_counts_agree_with_torch_flop_counter():
    # torch counts 2 FLOPs per multiply-add of convolutions and matrix products.
    model = Sequential(
        [
            Input((12, 12, 3)),
            layers.Conv2D(6, 3, strides=3),
            layers.SeparableConv2D(8, 3),
            layers.Flatten(),
            layers.Dense(4),
        ]
    )
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 12, 12, 3))
    assert 2 * flops(model).total_macs == counter.get_total_flops()


def test_unknown_sizes_give_none_and_are_listed():
    model = Sequential(
        [
            Input((None, None, 3)),
            layers.Conv2D(4, 3, name="conv"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(2, name="head"),
        ]
    )
    report = flops(model)
    assert report.layers[0].macs is None
    assert report.unknown == ("conv", "gap")
    assert report.total_macs == 4 * 2


def test_nested_models_are_opened():
    inner = Sequential([Input((6,)), layers.Dense(4, name="a")], name="inner")
    x = Input((6,))
    model = Model(x, layers.Dense(2, name="b")(inner(x)))
    report = flops(model)
    assert [(r.name, r.macs) for r in report.layers] == [("a", 24), ("b", 8)]
    assert "Total: 32 MACs" in str(report)


def test_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="needs a built model"):
        flops(Sequential([layers.Dense(2)]))
