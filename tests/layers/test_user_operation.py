"""keras.Operation subclasses and keras.Function, against Keras 3.15.1's outputs for the same
program (recorded by hand: shapes, names, predictions, config, summary rows)."""

import numpy as np
import pytest
import torch

import lamina


class ScaleShift(lamina.Operation):
    def __init__(self, scale, name=None):
        super().__init__(name=name)
        self.scale = scale

    def call(self, x, y):
        return x * self.scale + y

    def compute_output_spec(self, x, y):
        return lamina.KerasTensor(x.shape, x.dtype)


class Twice(lamina.Operation):
    def call(self, x):
        return lamina.ops.concatenate([x, x], axis=-1)


def graph():
    lamina.clear_session()
    a, b = lamina.Input((3,)), lamina.Input((3,))
    op = ScaleShift(2.0)
    out = Twice()(op(a, b))
    return a, b, op, out


def test_operations_record_nodes_and_run_in_the_model():
    a, b, op, out = graph()
    assert op.name == "scale_shift" and out.shape == (None, 6)
    model = lamina.Model([a, b], out)
    assert [layer.name for layer in model.layers] == ["input_layer", "input_layer_1"]
    assert [type(o).__name__ for o in model.operations] == [
        "InputLayer",
        "InputLayer",
        "ScaleShift",
        "Twice",
    ]
    got = model.predict([np.ones((2, 3)), np.arange(6.0).reshape(2, 3)], verbose=0)
    assert got.tolist() == [[2.0, 3.0, 4.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 5.0, 6.0, 7.0]]
    assert op.get_config() == {"name": "scale_shift", "scale": 2.0}
    assert ScaleShift(3.0)(torch.ones(1, 2), torch.ones(1, 2)).tolist() == [[4.0, 4.0]]


def test_summary_rows_name_the_operations(capsys):
    a, b, _, out = graph()
    lamina.Model([a, b], out).summary()
    text = capsys.readouterr().out
    assert "│ scale_shift         │ (None, 3)" in text and "│ (ScaleShift)" in text
    assert "Twice)" in text and "(None, 6)" in text


def test_layers_are_operations_and_names_are_checked():
    assert isinstance(lamina.layers.Dense(1), lamina.Operation)
    assert issubclass(lamina.layers.Dense, lamina.Operation)
    assert not isinstance(torch.nn.Linear(1, 1), lamina.Operation)
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        lamina.Operation(name="a/b")
    with pytest.raises(NotImplementedError, match="must implement call"):
        lamina.Operation()(torch.ones(1))


def test_function_runs_the_graph():
    a, b, _, out = graph()
    fn = lamina.Function([a, b], out, name="fn")
    assert fn.name == "fn" and len(fn.inputs) == 2 and fn.outputs[0].shape == (None, 6)
    assert [type(o).__name__ for o in fn.operations][2:] == ["ScaleShift", "Twice"]
    assert tuple(fn([torch.ones(2, 3), torch.zeros(2, 3)]).shape) == (2, 6)
    spec = fn.compute_output_spec([lamina.KerasTensor((5, 3)), lamina.KerasTensor((5, 3))])
    assert spec.shape == (5, 6)


def test_a_model_with_operations_saves_and_loads(tmp_path):
    a, b, _, out = graph()
    model = lamina.Model([a, b], out)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = lamina.saving.load_model(
        path, custom_objects={"ScaleShift": ScaleShift, "Twice": Twice}
    )
    x = [torch.ones(2, 3), torch.arange(6.0).reshape(2, 3)]
    torch.testing.assert_close(loaded(x), model(x))
    assert [type(o).__name__ for o in loaded.operations][2:] == ["ScaleShift", "Twice"]
