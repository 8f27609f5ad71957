"""model.summary(): Keras' table to the character, plus the convolution arithmetic columns."""

import pytest

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.inspect import print_summary, summary_text

# Keras 3.15.1 (torch backend), `model.summary(print_fn=...)` in an 80-column terminal, for the
# models built by the functions below with the same layers and names.
KERAS_MNIST = """\
Model: "mnist_convnet"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 11, 11, 64)     │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 64)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 1600)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 1600)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │        16,010 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 34,826 (136.04 KB)
 Trainable params: 34,826 (136.04 KB)
 Non-trainable params: 0 (0.00 B)"""

KERAS_MNIST_TRAINABLE = """\
Model: "mnist_convnet"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ conv2d (Conv2D)             │ (None, 26, 26, 32)    │        320 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ max_pooling2d               │ (None, 13, 13, 32)    │          0 │   -   │
│ (MaxPooling2D)              │                       │            │       │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ conv2d_1 (Conv2D)           │ (None, 11, 11, 64)    │     18,496 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ max_pooling2d_1             │ (None, 5, 5, 64)      │          0 │   -   │
│ (MaxPooling2D)              │                       │            │       │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ flatten (Flatten)           │ (None, 1600)          │          0 │   -   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ dropout (Dropout)           │ (None, 1600)          │          0 │   -   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ dense (Dense)               │ (None, 10)            │     16,010 │   Y   │
└─────────────────────────────┴───────────────────────┴────────────┴───────┘
 Total params: 34,826 (136.04 KB)
 Trainable params: 34,826 (136.04 KB)
 Non-trainable params: 0 (0.00 B)"""

# summary(layer_range=["conv2d_1", "flatten"], line_length=60)
KERAS_MNIST_RANGE = """\
Model: "mnist_convnet"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ Layer (type)             ┃ Output Shape      ┃   Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
│ conv2d_1 (Conv2D)        │ (None, 11, 11,    │    18,496 │
│                          │ 64)               │           │
├──────────────────────────┼───────────────────┼───────────┤
│ max_pooling2d_1          │ (None, 5, 5, 64)  │         0 │
│ (MaxPooling2D)           │                   │           │
├──────────────────────────┼───────────────────┼───────────┤
│ flatten (Flatten)        │ (None, 1600)      │         0 │
└──────────────────────────┴───────────────────┴───────────┘
 Total params: 34,826 (136.04 KB)
 Trainable params: 34,826 (136.04 KB)
 Non-trainable params: 0 (0.00 B)"""

KERAS_NESTED = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ inner (Sequential)              │ (None, 2)              │            46 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│    └ a (Dense)                  │ (None, 4)              │            36 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│    └ b (Dense)                  │ (None, 2)              │            10 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ c (Dense)                       │ (None, 1)              │             3 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 49 (196.00 B)
 Trainable params: 49 (196.00 B)
 Non-trainable params: 0 (0.00 B)"""

KERAS_BRANCHES = """\
Model: "branches"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ image (InputLayer)  │ (None, 16, 16, 3) │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ left (Conv2D)       │ (None, 16, 16, 8) │        224 │ image[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ right (Conv2D)      │ (None, 16, 16, 8) │        608 │ image[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concat              │ (None, 16, 16,    │          0 │ left[0][0],       │
│ (Concatenate)       │ 16)               │            │ right[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ pool (MaxPooling2D) │ (None, 8, 8, 16)  │          0 │ concat[0][0]      │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 832 (3.25 KB)
 Trainable params: 832 (3.25 KB)
 Non-trainable params: 0 (0.00 B)"""


@pytest.fixture(autouse=True)
def fresh_names(monkeypatch):
    lamina.clear_session()
    # Keras caps the default width at the terminal's; tests see an 80-column terminal.
    monkeypatch.setenv("COLUMNS", "80")


def mnist_convnet():
    return Sequential(
        [
            Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_convnet",
    )


def branches():
    x = Input((16, 16, 3), name="image")
    left = layers.Conv2D(8, 3, padding="same", name="left")(x)
    right = layers.Conv2D(8, 5, padding="same", name="right")(x)
    merged = layers.Concatenate(name="concat")([left, right])
    return Model(x, layers.MaxPooling2D(2, name="pool")(merged), name="branches")


def test_plain_table_is_keras_to_the_character():
    assert summary_text(mnist_convnet(), show_arithmetic=False) == KERAS_MNIST


def test_show_trainable_is_keras_to_the_character():
    text = summary_text(mnist_convnet(), show_trainable=True, show_arithmetic=False)
    assert text == KERAS_MNIST_TRAINABLE


def test_layer_range_and_line_length_are_keras_to_the_character():
    text = summary_text(
        mnist_convnet(), layer_range=["conv2d_1", "flatten"], line_length=60, show_arithmetic=False
    )
    assert text == KERAS_MNIST_RANGE


def test_expand_nested_indents_the_inner_layers_as_keras():
    inner = Sequential(
        [Input((8,)), layers.Dense(4, name="a"), layers.Dense(2, name="b")], name="inner"
    )
    outer = Sequential([Input((8,)), inner, layers.Dense(1, name="c")], name="outer")
    # A dense network gets no arithmetic columns by default.
    assert summary_text(outer, expand_nested=True) == KERAS_NESTED


def test_functional_branches_get_keras_connected_to_column():
    assert summary_text(branches(), show_arithmetic=False) == KERAS_BRANCHES


def test_shared_layer_lists_its_calls_in_call_order():
    # Keras 3.15.1 prints "proj[0][0], meta[0][0]" for `shared`: its first call read `proj`,
    # though `meta` comes first in the model's layers.
    img = Input((4,), name="img")
    meta = Input((4,), name="meta")
    shared = layers.Dense(6, name="shared")
    a = shared(layers.Dense(4, name="proj")(img))
    b = shared(meta)
    model = Model([img, meta], layers.Concatenate(name="merge")([a, b]))
    rows = [line for line in summary_text(model).splitlines() if line.startswith("│")]
    at = next(i for i, line in enumerate(rows) if "shared (Dense)" in line)
    assert [rows[i].split("│")[4].strip() for i in (at, at + 1)] == ["proj[0][0],", "meta[0][0]"]


def test_functional_chain_has_no_connected_to_column():
    x = Input((8,), name="inp")
    text = summary_text(Model(x, layers.Dense(4, name="h")(x)))
    assert "Connected to" not in text
    assert "│ inp (InputLayer)" in text


def test_convnet_adds_arithmetic_columns_after_keras_columns():
    # With 22 characters for the two extra columns, the Keras part is 76 wide, as above.
    lines = summary_text(mnist_convnet(), line_length=98).splitlines()
    assert lines[2].rstrip("┃ ").endswith("Receptive")
    del lines[2]  # the extra first header line ("Receptive" over "field")
    keras_lines = KERAS_MNIST.splitlines()
    table_end = keras_lines.index(" Total params: 34,826 (136.04 KB)")
    for ours, theirs in zip(lines[:table_end], keras_lines[:table_end], strict=True):
        assert ours.startswith(theirs[:-1])
    assert lines[table_end : table_end + 3] == keras_lines[table_end:]


def test_arithmetic_columns_hold_receptive_field_and_macs():
    text = summary_text(mnist_convnet(), line_length=98)
    rows = {
        line.split("│")[1].strip(): line.split("│")[4:6]
        for line in text.splitlines()
        if line.startswith("│ ") and "(" in line.split("│")[1]
    }
    assert [cell.strip() for cell in rows["conv2d (Conv2D)"]] == ["3 / 1", "194.69K"]
    assert [cell.strip() for cell in rows["max_pooling2d_1 (MaxPooling2D)"]] == ["10 / 4", "0"]
    assert [cell.strip() for cell in rows["conv2d_1 (Conv2D)"]] == ["8 / 2", "2.23M"]
    assert [cell.strip() for cell in rows["flatten (Flatten)"]] == ["-", "0"]
    assert " Total MACs: 2,440,960 (2.44 M) per sample" in text
    assert " Activation memory: 154.66 KB per sample (layer outputs)" in text


def test_dropped_rows_are_noted_under_the_table():
    text = summary_text(mnist_convnet(), line_length=98)
    note = text[text.index(" Note: ") :]
    assert note.startswith(" Note: MaxPooling2D 'max_pooling2d_1' leaves input unused")
    assert "(N - F + 2P) / S = (11 - 2 + 0) / 2 is not whole" in note
    assert "the last row and column of 11 are dropped" in note.replace("\n      ", "")
    assert all(len(line) <= 98 for line in note.splitlines())


def test_functional_arithmetic_takes_the_largest_field_of_the_branches():
    text = summary_text(branches(), line_length=98)
    concat = next(line for line in text.splitlines() if line.startswith("│ concat"))
    assert "│ 5 / 1     │" in concat


def test_nested_rows_carry_their_own_arithmetic():
    inner = Sequential([Input((8, 8, 1)), layers.Conv2D(2, 3, name="c")], name="inner")
    outer = Sequential([Input((8, 8, 1)), inner, layers.MaxPooling2D(2, name="p")], name="outer")
    text = summary_text(outer, expand_nested=True, line_length=120)
    rows = [line for line in text.splitlines() if line.startswith("│ ") and "(" in line]
    assert [row.split("│")[4].strip() for row in rows] == ["3 / 1", "3 / 1", "4 / 2"]
    assert [row.split("│")[5].strip() for row in rows] == ["648", "648", "0"]


def test_print_fn_gets_one_string_and_print_is_the_default(capsys):
    model = mnist_convnet()
    received = []
    print_summary(model, print_fn=received.append, show_arithmetic=False)
    assert received == [KERAS_MNIST]
    print_summary(model, show_arithmetic=False)
    assert capsys.readouterr().out == KERAS_MNIST + "\n"


def test_model_summary_calls_print_summary():
    lines = []
    branches().summary(print_fn=lines.append)
    assert lines[0].startswith('Model: "branches"')
    assert "Connected to" in lines[0] and "Receptive" in lines[0]


def test_unbuilt_model_shows_unknown_shapes():
    text = summary_text(Sequential([layers.Dense(2, name="d")], name="later"))
    assert "│ d (Dense)" in text and "│ ?" in text and "0 (unbuilt)" in text
    assert " Total params: 0 (0.00 B)" in text  # as Keras prints for an unbuilt model


def test_errors_name_the_problem():
    model = mnist_convnet()
    with pytest.raises(ValueError, match="too narrow"):
        summary_text(model, line_length=8, show_arithmetic=False)
    with pytest.raises(ValueError, match="matches no layer names.*conv2d, max_pooling2d"):
        summary_text(model, layer_range=["nope", "dense"])
    with pytest.raises(ValueError, match="positions must give 3 column ends"):
        summary_text(model, positions=[0.5, 1.0])


def test_padding_rows_left_over_get_no_note():
    model = Sequential(
        [
            Input((224, 224, 3)),
            layers.ZeroPadding2D(3),
            layers.Conv2D(8, 7, strides=2),
            layers.ZeroPadding2D(1),
            layers.MaxPooling2D(3, strides=2),
        ]
    )
    text = summary_text(model, line_length=98)
    assert "Note:" not in text
    assert "│ 11 / 4" in text  # 7 + (3 - 1) * 2 pixels, two strides of 2


def test_subclassed_model_rows_use_the_shapes_layers_were_built_with():
    class Net(lamina.Model):
        def __init__(self):
            super().__init__(name="net")
            self.conv = layers.Conv2D(4, 3, strides=2, name="conv")
            self.pool = layers.MaxPooling2D(2, name="pool")
            self.flat = layers.Flatten(name="flat")

        def call(self, x):
            return self.flat(self.pool(self.conv(x)))

    model = Net()
    model.build((None, 9, 9, 1))
    text = summary_text(model, line_length=98)
    assert "│ conv (Conv2D)" in text and "(None, 4, 4, 4)" in text
    # A layer built at construction (the pooling) records no shape: '?', as Keras shows it.
    assert "│ pool (MaxPooling2D)             │ ?" in text and "(None, 16)" in text
    assert " Total MACs: 576 per sample" in text


def test_optimizer_params_appear_once_the_optimizer_is_built(capsys):
    # Keras 3.15.1: no "Optimizer params" line after compile, one after the first update
    import numpy as np

    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.compile("sgd", "mse")
    model.summary()
    assert "Optimizer params" not in capsys.readouterr().out
    model.fit(np.ones((2, 3)), np.ones((2, 2)), verbose=0)
    model.summary()
    assert "Optimizer params: 2" in capsys.readouterr().out


def test_connected_to_column_follows_keras_depth_rule():
    # Keras 3.15.1 drops "Connected to" when each depth (counted back from the outputs) has one
    # call reading at most one tensor and no layer is called twice: also with two outputs.
    def connected(model):
        return "Connected to" in summary_text(model)

    i = lamina.Input((6, 8, 3))
    r = layers.Conv2D(2, 1)(layers.Conv2D(2, 3)(i))
    f = layers.Flatten()(r)
    assert not connected(lamina.Model(i, [r, f]))
    assert connected(lamina.Model(i, [layers.Dense(2)(f), layers.Dense(3)(f)]))
    assert not connected(lamina.Model(i, f))
    shared = layers.Dense(4)
    x = lamina.Input((4,))
    assert connected(lamina.Model(x, shared(shared(x))))
    a, b = lamina.Input((4,)), lamina.Input((4,))
    assert connected(lamina.Model([a, b], layers.Dense(1)(a)))  # b, unread, at depth 0 too


def test_subclassed_rows_are_unknown_where_keras_shows_a_question_mark():
    # Keras 3.15.1: '?' for layers built at construction (ReLU, Dropout) and for a user's
    # layer without compute_output_shape; the shapes layers were built with otherwise.
    class Scale(layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],))

        def call(self, x):
            return x * self.w

    class Net(lamina.Model):
        def __init__(self):
            super().__init__()
            self.c, self.r, self.f = layers.Conv2D(2, 3), layers.ReLU(), layers.Flatten()
            self.d, self.s, self.dr = layers.Dense(3), Scale(), layers.Dropout(0.1)

        def call(self, x):
            return self.dr(self.s(self.d(self.f(self.r(self.c(x))))))

    import numpy as np

    net = Net()
    net(np.ones((2, 6, 6, 1), "float32"))
    rows = [line for line in summary_text(net).splitlines() if line.startswith("│")]
    shapes = [row.split("│")[2].strip() for row in rows]
    assert shapes == ["(2, 4, 4, 2)", "?", "(2, 32)", "(2, 3)", "?", "?"]
