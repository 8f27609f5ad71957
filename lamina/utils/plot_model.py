"""`lamina.utils.plot_model` (see `lamina.inspect.plot`) and `model_to_dot`, as
`keras.utils.plot_model` and `keras.utils.model_to_dot`.

`plot_model` needs neither Graphviz nor pydot; `model_to_dot` returns a `pydot.Dot`, so it
needs pydot (`pip install pydot`), as in Keras. Its boxes and arrows are `plot_model`'s.

>>> from lamina import Input, Sequential, layers
>>> model = Sequential([Input((4,)), layers.Dense(2, name="out")])
>>> _graph_parts(model, dict(show_shapes=True))[0][0].lines[1]
('text', 'Input shape: (None, 4)')
"""

from __future__ import annotations

from typing import Any

from lamina.inspect.plot import _Box, _collect, _label, plot_model
from lamina.models.sequential import Sequential

__all__ = ["model_to_dot", "plot_model"]


def _import_pydot() -> Any:
    try:
        import pydot
    except ImportError as error:
        raise ImportError(
            "model_to_dot needs pydot (`pip install pydot`); plot_model draws models without it"
        ) from error
    return pydot


def _graph_parts(
    model: Any, options: dict[str, bool], expand_nested: bool = False
) -> tuple[list[_Box], list[tuple[_Box, _Box]]]:
    """The boxes and arrows `plot_model` draws for `model`."""
    flags = {
        "show_shapes": False,
        "show_dtype": False,
        "show_layer_names": True,
        "show_layer_activations": False,
        "show_trainable": False,
        **options,
    }

    def label(layer: Any, call: Any) -> list[tuple[str, str]]:
        return _label(layer, call, **flags)

    if isinstance(model, Sequential) or getattr(model, "_nodes", None):
        boxes, edges, _ = _collect(model, expand_nested, label)
        return boxes, edges
    return [_Box(model.name, label(model, None))], []


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs: Any,
) -> Any:
    """The graph of `model` as a `pydot.Dot` (a `pydot.Cluster` with `subgraph=True`).

    Keras' arguments, with `plot_model`'s meanings; each layer is a node labelled with its
    lines (name and class, shapes, ...), nested models expanded into clusters with
    `expand_nested`.

    Returns:
        A pydot graph: `.to_string()` gives its DOT source, `.write_png(path)` renders it
        with Graphviz.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("model_to_dot: layer_range is not supported (nor in Keras 3)")
    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments {sorted(kwargs)}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"model_to_dot: rankdir must be 'TB' or 'LR'; got {rankdir!r}")
    if not getattr(model, "built", False):
        raise ValueError(
            f"model_to_dot: model '{model.name}' is not built yet. Build it first: start it "
            "with Input(shape), call model.build(input_shape), or call it on a batch of data"
        )
    pydot = _import_pydot()
    options = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    boxes, edges = _graph_parts(model, options, expand_nested)
    if subgraph:
        dot = pydot.Cluster(graph_name=model.name, style="dashed", label=model.name)
    else:
        dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=dpi, concentrate=True)
        dot.set_node_defaults(shape="box", style="rounded")
    clusters: dict[tuple[str, ...], Any] = {(): dot}

    def cluster(path: tuple[str, ...]) -> Any:
        if path not in clusters:
            parent = cluster(path[:-1])
            made = pydot.Cluster(
                graph_name=f"cluster_{len(clusters)}", label=path[-1], style="dashed"
            )
            parent.add_subgraph(made)
            clusters[path] = made
        return clusters[path]

    for box in boxes:
        text = "\n".join(line for _, line in box.lines)
        cluster(tuple(box.clusters)).add_node(pydot.Node(f"n{box.index}", label=text))
    for source, target in edges:
        dot.add_edge(pydot.Edge(f"n{source.index}", f"n{target.index}"))
    return dot
