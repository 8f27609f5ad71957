"""Receptive fields: size, jump and start of every spatial layer."""

import pytest

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.inspect.receptive_field import receptive_field

# Keras' VGG16 feature extractor (keras.applications.VGG16, include_top=False): filters per
# block and convolutions per block; 3x3 'same' convolutions, 2x2 max pooling with stride 2.
VGG16_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def vgg16_features():
    stack = [Input((224, 224, 3))]
    for block, (filters, convolutions) in enumerate(VGG16_BLOCKS, start=1):
        for number in range(1, convolutions + 1):
            stack.append(
                layers.Conv2D(
                    filters,
                    3,
                    padding="same",
                    activation="relu",
                    name=f"block{block}_conv{number}",
                )
            )
        stack.append(layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool"))
    return Sequential(stack, name="vgg16")


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_stacked_stride_one_convolutions_see_one_plus_l_times_k_minus_one(kernel, depth):
    model = Sequential([Input((32, 32, 1))] + [layers.Conv2D(2, kernel) for _ in range(depth)])
    last = receptive_field(model)[-1]
    assert last.size == (1 + depth * (kernel - 1),) * 2
    assert last.jump == (1, 1)


def test_vgg16_receptive_fields_match_the_published_values():
    model = vgg16_features()
    assert model.count_params() == 14_714_688  # keras.applications.VGG16(include_top=False)
    fields = {record.name: record for record in receptive_field(model)}
    assert fields["block5_conv3"].size == (196, 196)
    assert fields["block5_conv3"].jump == (16, 16)
    assert fields["block5_pool"].size == (212, 212)
    assert fields["block5_pool"].jump == (32, 32)
    # Each 2x2 pooling moves the first centre half a step: 0.5 + 1 + 2 + 4 + 8.
    assert fields["block5_pool"].start == (15.5, 15.5)
    assert str(fields["block1_pool"]) == "block1_pool (MaxPooling2D): size 6, jump 2, start 0.5"


def test_non_square_kernels_and_strides_give_per_axis_values():
    model = Sequential([Input((21, 21, 1)), layers.Conv2D(2, (3, 5), strides=(1, 2))])
    (record,) = receptive_field(model)
    assert record.size == (3, 5)
    assert record.jump == (1, 2)
    assert record.start == (1.0, 2.0)
    assert "size 3x5, jump 1x2" in str(record)


def test_padding_and_cropping_move_only_the_start():
    model = Sequential(
        [
            Input((10, 10, 1)),
            layers.ZeroPadding2D(1),
            layers.Conv2D(2, 3),
            layers.Cropping2D(((2, 0), (0, 0))),
        ]
    )
    padding, conv, cropping = receptive_field(model)
    assert padding.size == (1, 1) and padding.start == (-1.0, -1.0)
    assert conv.size == (3, 3) and conv.start == (0.0, 0.0)
    assert cropping.size == (3, 3) and cropping.start == (2.0, 0.0)


def test_same_padding_uses_the_input_size():
    # same_padding(8, 4, s=2) = (1, 1): the first window covers pixels -1..2, centred at 0.5.
    model = Sequential([Input((8, 8, 1)), layers.Conv2D(2, 4, strides=2, padding="same")])
    assert receptive_field(model)[0].start == (0.5, 0.5)


def test_dilation_and_depthwise_separable_layers():
    model = Sequential(
        [
            Input((33, 33, 4)),
            layers.Conv2D(4, 3, dilation_rate=2),  # spans 5
            layers.DepthwiseConv2D(3, strides=2),  # + 2
            layers.SeparableConv2D(8, 3),  # + 2 * 2, the pointwise stage adds nothing
        ]
    )
    assert [r.size[0] for r in receptive_field(model)] == [5, 7, 11]
    assert [r.jump[0] for r in receptive_field(model)] == [1, 2, 2]


def test_upsampling_and_transposed_convolutions_have_fractional_jumps():
    model = Sequential(
        [
            Input((16, 16, 1)),
            layers.Conv2D(2, 3, strides=2, padding="same"),
            layers.UpSampling2D(2),
            layers.Conv2DTranspose(2, 3, strides=2, padding="same"),
        ]
    )
    conv, upsampling, transposed = receptive_field(model)
    assert (conv.size, conv.jump) == ((3, 3), (2, 2))
    assert (upsampling.size, upsampling.jump) == ((3, 3), (1, 1))
    # A 3-tap transposed convolution at stride 2 mixes up to ceil(3 / 2) = 2 input units.
    assert (transposed.size, transposed.jump) == ((4, 4), (0.5, 0.5))


def test_flatten_and_dense_end_the_spatial_records():
    model = Sequential([Input((8, 8, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3)])
    assert [r.name for r in receptive_field(model)] == ["conv2d"]


def test_branches_take_the_largest_field_over_the_paths():
    x = Input((16, 16, 3))
    left = layers.Conv2D(4, 3, padding="same", name="left")(x)
    right = layers.Conv2D(4, 5, padding="same", name="right")(x)
    right = layers.Conv2D(4, 3, padding="same", name="right2")(right)
    merged = layers.Concatenate(name="merge")([left, right])
    pooled = layers.MaxPooling2D(2, name="pool")(merged)
    fields = {r.name: r for r in receptive_field(Model(x, pooled))}
    assert fields["left"].size == (3, 3)
    assert fields["right2"].size == (7, 7)
    assert fields["merge"].size == (7, 7)
    assert (fields["pool"].size, fields["pool"].jump) == ((8, 8), (2, 2))


def test_nested_models_are_walked_through():
    inner = Sequential(
        [Input((16, 16, 3)), layers.Conv2D(4, 3, name="a"), layers.Conv2D(4, 3, name="b")],
        name="inner",
    )
    x = Input((16, 16, 3))
    y = layers.MaxPooling2D(2, name="pool")(inner(x))
    records = receptive_field(Model(x, y))
    assert [(r.name, r.size[0], r.jump[0]) for r in records] == [
        ("a", 3, 1),
        ("b", 5, 1),
        ("pool", 6, 2),
    ]


def test_unbuilt_model_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="needs a built model.*Input\\(shape\\)"):
        receptive_field(Sequential([layers.Conv2D(2, 3)]))
