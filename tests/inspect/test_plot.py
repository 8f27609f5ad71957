"""plot_model: SVG written by lamina, PNG drawn with Pillow, Keras' arguments."""

import sys
import xml.etree.ElementTree as ET

import pytest

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.inspect import _render as render_module
from lamina.inspect.plot import plot_model

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


def convnet():
    return Sequential(
        [
            Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ],
        name="convnet",
    )


def residual():
    """A stem, two branches side by side (one with a skip over two layers), a merge."""
    x = Input((16, 16, 3), name="image")
    stem = layers.Conv2D(8, 3, padding="same", name="stem")(x)
    a = layers.Conv2D(8, 3, padding="same", name="branch_a")(stem)
    a = layers.BatchNormalization(name="bn")(a)
    b = layers.Conv2D(8, 1, name="branch_b")(stem)
    merged = layers.Add(name="add")([a, b, stem])
    return Model(x, layers.GlobalAveragePooling2D(name="gap")(merged), name="residual")


def boxes(root):
    """{layer name: (x, y, width, height)} of the boxes in an SVG."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "layer":
            rect = group.find(f"{SVG}rect")
            found[group.get("data-name")] = tuple(
                float(rect.get(k)) for k in ("x", "y", "width", "height")
            )
    return found


def edges(root):
    return [
        (path.get("data-source"), path.get("data-target"))
        for path in root.iter(f"{SVG}path")
        if path.get("class") == "edge"
    ]


def test_svg_has_one_box_per_layer_and_one_edge_per_connection(tmp_path):
    model = convnet()
    path = plot_model(model, tmp_path / "model.svg", show_shapes=True)
    assert path == str(tmp_path / "model.svg")
    root = ET.parse(path).getroot()
    # A Sequential's input is not drawn, as in Keras.
    assert list(boxes(root)) == [layer.name for layer in model.layers]
    assert edges(root) == [
        ("conv2d", "max_pooling2d"),
        ("max_pooling2d", "flatten"),
        ("flatten", "dense"),
    ]
    text = "".join(root.itertext())
    assert "conv2d (Conv2D)" in text
    assert "Input shape: (None, 28, 28, 1)" in text and "Output shape: (None, 26, 26, 8)" in text


def test_functional_graph_draws_inputs_and_every_connection(tmp_path):
    root = ET.parse(plot_model(residual(), tmp_path / "m.svg")).getroot()
    assert set(boxes(root)) == {"image", "stem", "branch_a", "bn", "branch_b", "add", "gap"}
    assert sorted(edges(root)) == sorted(
        [
            ("image", "stem"),
            ("stem", "branch_a"),
            ("stem", "branch_b"),
            ("stem", "add"),
            ("branch_a", "bn"),
            ("bn", "add"),
            ("branch_b", "add"),
            ("add", "gap"),
        ]
    )


def test_branches_sit_side_by_side(tmp_path):
    top_down = boxes(ET.parse(plot_model(residual(), tmp_path / "tb.svg")).getroot())
    a, b = top_down["branch_a"], top_down["branch_b"]
    assert a[1] == b[1]  # same rank: same y
    assert a[0] + a[2] <= b[0]  # a left of b, not overlapping
    assert top_down["stem"][1] < a[1] < top_down["bn"][1] < top_down["add"][1]
    left_right = boxes(
        ET.parse(plot_model(residual(), tmp_path / "lr.svg", rankdir="LR")).getroot()
    )
    a, b = left_right["branch_a"], left_right["branch_b"]
    assert a[0] == b[0]  # same rank: same x
    assert a[1] + a[3] <= b[1]


def test_rankdir_lr_swaps_the_axes(tmp_path):
    model = convnet()
    tb = boxes(ET.parse(plot_model(model, tmp_path / "tb.svg")).getroot())
    lr = boxes(ET.parse(plot_model(model, tmp_path / "lr.svg", rankdir="LR")).getroot())
    names = [layer.name for layer in model.layers]
    assert [tb[n][1] for n in names] == sorted(tb[n][1] for n in names)
    assert len({tb[n][0] + tb[n][2] / 2 for n in names}) == 1  # a chain: one column
    assert [lr[n][0] for n in names] == sorted(lr[n][0] for n in names)
    assert len({lr[n][1] + lr[n][3] / 2 for n in names}) == 1  # one row


def test_png_has_the_svg_size_at_the_dpi_and_is_not_blank(tmp_path):
    from PIL import Image

    model = residual()
    root = ET.parse(plot_model(model, tmp_path / "m.svg", show_shapes=True)).getroot()
    width, height = float(root.get("width")), float(root.get("height"))
    for dpi in (96, 192):
        path = plot_model(model, tmp_path / f"m{dpi}.png", show_shapes=True, dpi=dpi)
        with Image.open(path) as image:
            assert image.size == (round(width * dpi / 96), round(height * dpi / 96))
            colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert len(colors) > 20  # boxes, arrows and anti-aliased text
        white = max(colors)  # the most frequent colour is the background
        assert white[1] == (255, 255, 255)
        assert white[0] < 0.95 * image.size[0] * image.size[1]


def test_labels_follow_the_show_arguments(tmp_path):
    model = convnet()
    model.layers[0].trainable = False
    root = ET.parse(
        plot_model(
            model,
            tmp_path / "m.svg",
            show_layer_names=False,
            show_dtype=True,
            show_layer_activations=True,
            show_trainable=True,
        )
    ).getroot()
    text = "\n".join(root.itertext())
    assert "conv2d (Conv2D)" not in text and "Conv2D" in text
    assert "Activation: relu" in text and "Activation: softmax" in text
    assert "Output dtype: float32" in text
    assert "Non-trainable" in text and "Trainable" in text


def test_expand_nested_frames_the_inner_layers(tmp_path):
    inner = Sequential(
        [Input((6,)), layers.Dense(4, name="a"), layers.Dense(3, name="b")], name="inner"
    )
    x = Input((6,), name="x")
    model = Model(x, layers.Dense(2, name="head")(inner(x)))
    collapsed = ET.parse(plot_model(model, tmp_path / "c.svg")).getroot()
    assert set(boxes(collapsed)) == {"x", "inner", "head"}
    root = ET.parse(plot_model(model, tmp_path / "e.svg", expand_nested=True)).getroot()
    assert set(boxes(root)) == {"x", "a", "b", "head"}
    assert sorted(edges(root)) == [("a", "b"), ("b", "head"), ("x", "a")]
    clusters = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]
    assert len(clusters) == 1 and "inner (Sequential)" in "".join(clusters[0].itertext())
    frame = clusters[0].find(f"{SVG}rect")
    x, y, w, h = (float(frame.get(k)) for k in ("x", "y", "width", "height"))
    assert x >= 0 and y >= 0  # the frame and its label stay on the canvas
    assert x + w <= float(root.get("width")) and y + h <= float(root.get("height"))
    a_box, b_box = boxes(root)["a"], boxes(root)["b"]
    assert x < a_box[0] and b_box[1] + b_box[3] < y + h


def test_subclassed_model_is_one_box(tmp_path):
    class Tiny(lamina.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model.build((None, 3))
    assert list(boxes(ET.parse(plot_model(model, tmp_path / "t.svg")).getroot())) == ["tiny"]


def test_png_without_pillow_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install pillow.*\.svg"):
        plot_model(convnet(), tmp_path / "m.png")


def test_graphviz_engine_needs_dot_on_path(tmp_path, monkeypatch):
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="Graphviz' `dot` on PATH"):
        plot_model(convnet(), tmp_path / "m.png", engine="graphviz")


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in for dot")
def test_graphviz_engine_hands_dot_the_same_graph(tmp_path, monkeypatch):
    fake_dot = tmp_path / "dot"
    fake_dot.write_text(
        '#!/bin/sh\n# dot -Tformat -o file: keep the graph it was given\ncat > "$3"\n'
    )
    fake_dot.chmod(0o755)
    monkeypatch.setattr(render_module.shutil, "which", lambda name: str(fake_dot))
    path = plot_model(residual(), tmp_path / "m.png", engine="graphviz", rankdir="LR")
    source = (tmp_path / "m.png").read_text()
    assert path == str(tmp_path / "m.png")
    assert source.startswith("digraph model {") and "rankdir=LR" in source
    assert source.count("->") == 8
    assert 'label="branch_a (Conv2D)"' in source


def test_bad_arguments_and_unbuilt_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="rankdir must be 'TB' or 'LR'"):
        plot_model(convnet(), tmp_path / "m.svg", rankdir="BT")
    with pytest.raises(ValueError, match="not built yet"):
        plot_model(Sequential([layers.Dense(2)]), tmp_path / "m.svg")
    with pytest.raises(ValueError, match=r"cannot write '\.xyz' files"):
        plot_model(convnet(), tmp_path / "m.xyz")


def test_lamina_utils_offers_plot_model_as_keras_utils_does():
    from lamina.utils.plot_model import plot_model as utils_plot_model

    assert utils_plot_model is plot_model
