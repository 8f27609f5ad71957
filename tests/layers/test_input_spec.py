"""InputSpec and assert_input_compatibility: Keras 3.15.1's rules and messages.

The messages are those Keras 3.15.1 printed for the same specs and inputs
(/work/scratch/s18/layers2/gen6.py).
"""

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.input_spec import InputSpec, assert_input_compatibility
from lamina.layers.layer import Layer

X = torch.zeros(2, 5, 4)
PREFIX = "Input 0 with name 'None' of layer 'lyr' is incompatible with the layer: "


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (InputSpec(ndim=2), "expected ndim=2, found ndim=3. Full shape received: (2, 5, 4)"),
        (InputSpec(max_ndim=2), "expected max_ndim=2, found ndim=3"),
        (
            InputSpec(min_ndim=4),
            "expected min_ndim=4, found ndim=3. Full shape received: (2, 5, 4)",
        ),
        (InputSpec(dtype="int32"), "expected dtype=int32, found dtype=float32"),
        (
            InputSpec(axes={-1: 3}),
            "expected axis -1 of input shape to have value 3, but received input with shape "
            "(2, 5, 4)",
        ),
        (InputSpec(shape=(None, 5, 3)), "expected shape=(None, 5, 3), found shape=(2, 5, 4)"),
    ],
)
def test_broken_rule_raises_keras_message(spec, message):
    with pytest.raises(ValueError) as error:
        assert_input_compatibility(spec, X, "lyr")
    assert str(error.value) == PREFIX + message


def test_compatible_inputs_pass():
    for spec in (
        InputSpec(ndim=3, axes={-1: 4}, dtype="float32"),
        InputSpec(shape=(None, 5, None)),
        InputSpec(min_ndim=2, max_ndim=3),
        InputSpec(shape=(None, 5, 4, 1), allow_last_axis_squeeze=True),
        None,
    ):
        assert_input_compatibility(spec, X, "lyr")
    assert_input_compatibility(InputSpec(ndim=2), lamina.Input((3,)), "lyr")  # KerasTensors


def test_number_of_inputs_and_dict_inputs():
    with pytest.raises(ValueError, match='Layer "lyr" expects 2 input\\(s\\), but it received 1'):
        assert_input_compatibility([InputSpec(), InputSpec()], X, "lyr")
    named = [InputSpec(name="a", ndim=3), InputSpec(name="b", ndim=2)]
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        assert_input_compatibility(named, {"a": X}, "lyr")
    with pytest.raises(ValueError, match="Pass inputs as a dict"):
        assert_input_compatibility(named, [X], "lyr")
    assert_input_compatibility(named, {"b": torch.zeros(2, 3), "a": X}, "lyr")
    with pytest.raises(ValueError, match="Inputs to a layer should be tensors"):
        assert_input_compatibility(InputSpec(), [3], "lyr")


def test_optional_input_accepts_none():
    assert_input_compatibility([InputSpec(), InputSpec(optional=True)], [X, None], "lyr")


def test_repr_config_and_dtype_names():
    assert repr(InputSpec(shape=(None, 28, 28, 1))) == "InputSpec(shape=(None, 28, 28, 1), ndim=4)"
    spec = InputSpec(min_ndim=2, axes={-1: 8}, dtype=torch.float16)
    assert repr(spec) == "InputSpec(dtype=float16, min_ndim=2, axes={-1: 8})"
    assert spec.get_config() == {
        "dtype": "float16",
        "shape": None,
        "ndim": None,
        "max_ndim": None,
        "min_ndim": 2,
        "axes": {-1: 8},
        "optional": False,
    }
    assert InputSpec.from_config(spec.get_config()).axes == {-1: 8}
    assert InputSpec(dtype=np.int64).dtype == "int64"


def test_invalid_specs_raise():
    with pytest.raises(ValueError, match="axis 3 is greater than the largest axis"):
        InputSpec(ndim=2, axes={3: 1})
    with pytest.raises(TypeError, match="axes must be a dict with integer keys"):
        InputSpec(axes={"x": 1})


class _Spec(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = InputSpec(ndim=3, axes={-1: 4})

    def call(self, inputs):
        return inputs


def test_layer_checks_its_input_spec_on_tensors_and_symbolic_inputs():
    layer = _Spec(name="spec")
    assert layer(X) is X
    with pytest.raises(ValueError, match="of layer 'spec' is incompatible with the layer"):
        layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(lamina.Input((5, 3)))
