"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot and their functions.

Reference values are Keras 3.15 (torch backend) on the same inputs, pasted as literals.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from lamina.layers.core import Dense, Input


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def tensor(values):
    return torch.tensor(values, dtype=torch.float32)


A = [[1.0, -2.0, 3.0, 0.5], [0.0, 4.0, -1.0, 2.0]]
B = [[0.5, 1.0, -1.0, 2.0], [3.0, -2.0, 0.25, 1.0]]
C = [[2.0, 0.0, 1.0, -3.0], [-1.0, 1.0, 1.0, 1.0]]
# Per-sample shapes (3, 2), (2,) and (3, 1): they broadcast to (3, 2).
X32 = (np.arange(12, dtype="float32").reshape(2, 3, 2) - 5).tolist()
Y2 = [[1.0, -1.0], [2.0, 0.5]]
Z31 = [[[2.0], [0.0], [-1.0]], [[1.0], [3.0], [0.5]]]

# ----------------------------------------------------------------------------- contract

CONTRACT_CASES = [
    (Add, {}, [(2, 4), (2, 4)], (2, 4)),
    (Add, {}, [(2, 3, 4), (2, 4), (2, 1)], (2, 3, 4)),
    (Subtract, {}, [(2, 3, 4), (2, 3, 1)], (2, 3, 4)),
    (Multiply, {}, [(2, 4), (2, 4), (2, 4)], (2, 4)),
    (Average, {}, [(2, 5, 4), (2, 4)], (2, 5, 4)),
    (Maximum, {}, [(2, 4), (2, 1, 4)], (2, 1, 4)),
    (Minimum, {}, [(2, 6), (2, 6)], (2, 6)),
    (Concatenate, {}, [(2, 3, 4), (2, 3, 5)], (2, 3, 9)),
    (Concatenate, {"axis": 1}, [(2, 3, 4), (2, 2, 4), (2, 1, 4)], (2, 6, 4)),
    (Dot, {"axes": 1}, [(2, 4), (2, 4)], (2, 1)),
    (Dot, {"axes": [1, 2], "normalize": True}, [(2, 3, 4), (2, 5, 3)], (2, 4, 5)),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "input_shapes", "output_shape"),
    CONTRACT_CASES,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(CONTRACT_CASES)],
)
def test_merging_layer_contract(cls, kwargs, input_shapes, output_shape):
    layer = cls(**kwargs)
    config = layer.get_config()
    clone = cls.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == {**config, "name": clone.name}
    assert layer.weights == []

    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randn(shape, generator=generator, requires_grad=True) for shape in input_shapes]
    output = layer(inputs)
    assert tuple(output.shape) == output_shape
    torch.testing.assert_close(clone(inputs), output)

    symbolic = layer([Input(shape[1:]) for shape in input_shapes])
    assert symbolic.shape == (None, *output_shape[1:])
    assert layer.compute_output_shape([(None, *s[1:]) for s in input_shapes]) == symbolic.shape

    (output**2).sum().backward()
    for x in inputs:
        assert x.grad is not None
        assert torch.isfinite(x.grad).all()


def test_a_tuple_of_tensors_and_numpy_arrays_are_accepted():
    a, b = np.array(A, dtype="float32"), np.array(B, dtype="float32")
    torch.testing.assert_close(Add()((a, b)), tensor(A) + tensor(B))


def test_elementwise_merges_accept_a_list_of_one_tensor_as_keras_does():
    x = tensor(A)
    for cls in (Add, Multiply, Average, Maximum, Minimum, Concatenate):
        torch.testing.assert_close(cls()([x]), x)
        assert cls()([Input((4,))]).shape == (None, 4)


def test_merges_train_inside_a_functional_model():
    a, b = Input((4,)), Input((4,))
    h = concatenate([add([Dense(3)(a), Dense(3)(b)]), multiply([a, b])])
    model = lamina.Model([a, b], Dense(1)(h))
    model.compile(optimizer="sgd", loss="mse")
    x = [np.array(A * 4, dtype="float32"), np.array(B * 4, dtype="float32")]
    history = model.fit(x, np.ones((8, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(x, verbose=0).shape == (8, 1)


# ----------------------------------------------------------------------------- numerics

ELEMENTWISE = {
    "Add": (Add, lambda xs: sum(xs)),
    "Multiply": (Multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0)),
    "Average": (Average, lambda xs: sum(xs) / len(xs)),
    "Maximum": (Maximum, lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs))),
    "Minimum": (Minimum, lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs))),
}
KERAS_ABC = {
    "Add": [[3.5, -1.0, 3.0, -0.5], [2.0, 3.0, 0.25, 4.0]],
    "Multiply": [[1.0, -0.0, -3.0, -3.0], [-0.0, -8.0, -0.25, 2.0]],
    "Average": [
        [1.1666666269302368, -0.3333333432674408, 1.0, -0.1666666716337204],
        [0.6666666865348816, 1.0, 0.0833333358168602, 1.3333333730697632],
    ],
    "Maximum": [[2.0, 1.0, 3.0, 2.0], [3.0, 4.0, 1.0, 2.0]],
    "Minimum": [[0.5, -2.0, -1.0, -3.0], [-1.0, -2.0, -1.0, 1.0]],
}
KERAS_BROADCAST = {
    "Add": [[[-2.0, -3.0], [-2.0, -3.0], [-1.0, -2.0]], [[4.0, 3.5], [8.0, 7.5], [7.5, 7.0]]],
    "Multiply": [
        [[-10.0, 8.0], [-0.0, 0.0], [1.0, 0.0]],
        [[2.0, 1.0], [18.0, 6.0], [5.0, 1.5]],
    ],
    "Average": [
        [
            [-0.6666666865348816, -1.0],
            [-0.6666666865348816, -1.0],
            [-0.3333333432674408, -0.6666666865348816],
        ],
        [
            [1.3333333730697632, 1.1666666269302368],
            [2.6666667461395264, 2.5],
            [2.5, 2.3333332538604736],
        ],
    ],  # fmt: skip
    "Maximum": [[[2.0, 2.0], [1.0, 0.0], [1.0, 0.0]], [[2.0, 2.0], [3.0, 4.0], [5.0, 6.0]]],
    "Minimum": [[[-5.0, -4.0], [-3.0, -2.0], [-1.0, -1.0]], [[1.0, 0.5], [2.0, 0.5], [0.5, 0.5]]],
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_merge_of_three_inputs_equals_keras_and_numpy(name):
    cls, reference = ELEMENTWISE[name]
    output = cls()([tensor(A), tensor(B), tensor(C)])
    torch.testing.assert_close(output, tensor(KERAS_ABC[name]))
    expected = reference([np.array(v, dtype="float32") for v in (A, B, C)])
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_merge_broadcasts_per_sample_shapes_aligned_from_the_right(name):
    cls, reference = ELEMENTWISE[name]
    output = cls()([tensor(X32), tensor(Y2), tensor(Z31)])
    torch.testing.assert_close(output, tensor(KERAS_BROADCAST[name]))
    # NumPy's broadcasting once the (2, 2) input gains its size-1 axis after the batch axis.
    arrays = [np.array(X32, "float32"), np.array(Y2, "float32")[:, None], np.array(Z31, "float32")]
    np.testing.assert_allclose(output.numpy(), reference(arrays), rtol=1e-6)


def test_subtract_equals_keras_and_numpy():
    torch.testing.assert_close(
        Subtract()([tensor(A), tensor(B)]),
        tensor([[0.5, -3.0, 4.0, -1.5], [-3.0, 6.0, -1.25, 1.0]]),
    )
    broadcast = Subtract()([tensor(X32), tensor(Y2)])
    keras = [[[-6.0, -3.0], [-4.0, -1.0], [-2.0, 1.0]], [[-1.0, 1.5], [1.0, 3.5], [3.0, 5.5]]]
    torch.testing.assert_close(broadcast, tensor(keras))
    np.testing.assert_array_equal(
        broadcast.numpy(), np.array(X32, "float32") - np.array(Y2, "float32")[:, None]
    )


def test_concatenate_equals_keras_and_torch_cat():
    output = Concatenate()([tensor(A), tensor(B)])
    keras = [
        [1.0, -2.0, 3.0, 0.5, 0.5, 1.0, -1.0, 2.0],
        [0.0, 4.0, -1.0, 2.0, 3.0, -2.0, 0.25, 1.0],
    ]
    torch.testing.assert_close(output, tensor(keras))
    second = [[[2.0, 2.0], [0.0, 0.0]], [[1.0, 1.0], [3.0, 3.0]]]
    keras_axis1 = [
        [[-5.0, -4.0], [-3.0, -2.0], [-1.0, 0.0], [2.0, 2.0], [0.0, 0.0]],
        [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [1.0, 1.0], [3.0, 3.0]],
    ]
    for axis in (1, -2):
        output = Concatenate(axis=axis)([tensor(X32), tensor(second)])
        torch.testing.assert_close(output, tensor(keras_axis1))
        torch.testing.assert_close(output, torch.cat([tensor(X32), tensor(second)], dim=1))


P = ((np.arange(12, dtype="float32").reshape(2, 2, 3) - 4) / 2).tolist()  # (2, 2, 3)
Q = ((np.arange(24, dtype="float32").reshape(2, 4, 3) % 5) - 2).tolist()  # (2, 4, 3)
R = [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]  # (2, 3)
S = ((np.arange(24, dtype="float32").reshape(2, 3, 4) % 7) - 3).tolist()  # (2, 3, 4)
KERAS_DOT_PQ = [
    [[5.5, -3.0, 1.0, 0.0], [1.0, -1.5, 1.0, -1.5]],
    [[5.5, -3.5, 0.0, 1.0], [10.0, -8.0, 1.5, 1.0]],
]
# Dot(axes, normalize)([x, y]) -> Keras' output and the same product written with einsum.
DOT_CASES = {
    "vectors-axes-1": (1, False, A, B, [[-3.5], [-6.25]], "bi,bi->b"),
    "axes-2": (2, False, P, Q, KERAS_DOT_PQ, "bik,bjk->bij"),
    "axes-minus-1": (-1, False, P, Q, KERAS_DOT_PQ, "bik,bjk->bij"),
    "axes-pair": ((1, 2), False, X32, P, [[[15.5, 2.0], [11.0, 2.0]], [[15.5, 29.0], [20.0, 38.0]]],
                  "bki,bjk->bij"),
    "negative-pair-mixed-ranks": ((-1, -2), False, R, S,
                                  [[1.0, 3.0, 5.0, -7.0], [10.0, -7.5, -7.5, -4.0]], "bk,bkj->bj"),
    "normalize-vectors": (1, True, A, B, [[-0.3708690404891968], [-0.36369648575782776]],
                          "bi,bi->b"),
    "normalize-axes-2": (2, True, P, Q, [
        [[0.9135002493858337, -0.3713906705379486, 0.26261284947395325, -1.4901161193847656e-08],
         [0.6324555277824402, -0.7071067690849304, 0.9999999403953552, -0.7071067690849304]],
        [[0.9135002493858337, -0.5813183188438416, 0.0, 0.26261284947395325],
         [0.8528028130531311, -0.6822422742843628, 0.09534627199172974, 0.13483992218971252]],
    ], "bik,bjk->bij"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(DOT_CASES))
def test_dot_equals_keras_and_einsum(case):
    axes, normalize, x, y, keras, equation = DOT_CASES[case]
    output = Dot(axes=axes, normalize=normalize)([tensor(x), tensor(y)])
    torch.testing.assert_close(output, tensor(keras), atol=1e-6, rtol=1e-6)
    x, y = np.array(x, "float64"), np.array(y, "float64")
    if normalize:
        x_axis, y_axis = (axes, axes) if isinstance(axes, int) else axes
        x = x / np.linalg.norm(x, axis=x_axis, keepdims=True)
        y = y / np.linalg.norm(y, axis=y_axis, keepdims=True)
    expected = np.einsum(equation, x, y).reshape(output.shape)
    np.testing.assert_allclose(output.numpy(), expected, atol=1e-6)


def test_dot_of_higher_rank_inputs_keeps_the_rest_of_x_then_the_rest_of_y():
    x, y = torch.randn(2, 2, 3, 4), torch.randn(2, 5, 4)
    output = Dot(axes=(3, 2))([x, y])
    torch.testing.assert_close(output, torch.einsum("bpqk,bjk->bpqj", x, y))
    assert Dot(axes=(3, 2))([Input((2, 3, 4)), Input((5, 4))]).shape == (None, 2, 3, 5)
    assert Dot(axes=1)([Input((2, 3, 4)), Input((2, 3, 5))]).shape == (None, 3, 4, 3, 5)


def test_dot_normalize_of_a_zero_sample_gives_zero_not_nan():
    output = Dot(axes=1, normalize=True)([torch.zeros(2, 4), tensor(B)])
    torch.testing.assert_close(output, torch.zeros(2, 1))


def test_functions_build_the_layer_and_call_it():
    x, y = tensor(A), tensor(B)
    pairs = [
        (add, Add()),
        (subtract, Subtract()),
        (multiply, Multiply()),
        (average, Average()),
        (maximum, Maximum()),
        (minimum, Minimum()),
        (concatenate, Concatenate()),
    ]
    for function, layer in pairs:
        torch.testing.assert_close(function([x, y]), layer([x, y]))
    torch.testing.assert_close(concatenate([x, y], axis=0), torch.cat([x, y]))
    torch.testing.assert_close(dot([x, y], axes=1), Dot(1)([x, y]))
    assert dot([Input((2, 3)), Input((4, 3))]).shape == (None, 2, 4)  # axes=-1 by default
    assert add([Input((4,)), Input((4,))], name="total").node.layer.name == "total"


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([(None, 4), (None, 1)], (None, 4)),
        ([(None, 3, 4), (None, 4)], (None, 3, 4)),
        ([(None, 3, 4), (None, 1, 4), (None,)], (None, 3, 4)),
        ([(None, None, 4), (None, 3, 4)], (None, None, 4)),  # Keras 3.15.1: None wins
        ([(None, None, 4), (None, 1, 4)], (None, None, 4)),
        ([(None, 5), (None, 5)], (None, 5)),
    ],
)
def test_elementwise_output_shape_is_computed_with_unknown_sizes(shapes, expected):
    assert Add().compute_output_shape(shapes) == expected
    assert Add()([Input(shape[1:]) for shape in shapes]).shape == expected


@pytest.mark.parametrize(
    ("axis", "shapes", "expected"),
    [
        (-1, [(None, 3, 4), (None, None, 5)], (None, 3, 9)),
        (-1, [(None, 3, 4), (None, 3, None)], (None, 3, None)),
        (1, [(None, 3, 4), (None, 2, 4)], (None, 5, 4)),
        (-2, [(None, 3, 4), (None, 3, 4)], (None, 6, 4)),
        (-1, [(None, None), (None, None)], (None, None)),
    ],
)
def test_concatenate_output_shape(axis, shapes, expected):
    assert Concatenate(axis=axis).compute_output_shape(shapes) == expected


# ----------------------------------------------------------------------------- errors

ELEMENTWISE_CLASSES = [Add, Subtract, Multiply, Average, Maximum, Minimum]


@pytest.mark.parametrize("cls", ELEMENTWISE_CLASSES, ids=lambda c: c.__name__)
def test_incompatible_shapes_fail_naming_the_layer_and_every_shape(cls):
    lamina.clear_session()
    name = cls.__name__.lower()
    message = rf"{cls.__name__} '{name}' cannot merge inputs of shapes \(None, 4\) and \(None, 5\)"
    with pytest.raises(ValueError, match=message + ": axis -1 has sizes 4, 5"):
        cls()([Input((4,)), Input((5,))])
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 5\): axis -1"):
        cls()([torch.zeros(2, 3, 4), torch.zeros(2, 5)])
    with pytest.raises(ValueError, match=r"shapes \(2, 4\) and \(3, 4\): their batch sizes differ"):
        cls()([torch.zeros(2, 4), torch.zeros(3, 4)])


def test_error_lists_every_input_shape():
    with pytest.raises(
        ValueError,
        match=r"Add 'add' cannot merge inputs of shapes \(None, 3, 4\), \(None, 4\) and "
        r"\(None, 2, 1\): axis -2 has sizes 3, 2",
    ):
        Add()([Input((3, 4)), Input((4,)), Input((2, 1))])


def test_a_layer_built_on_inputs_still_checks_later_eager_calls():
    layer = Add()
    layer([Input((4,)), Input((4,))])
    with pytest.raises(ValueError, match=r"Add 'add' cannot merge inputs of shapes \(2, 4\)"):
        layer([torch.zeros(2, 4), torch.zeros(2, 5)])


@pytest.mark.parametrize("cls", [*ELEMENTWISE_CLASSES, Concatenate], ids=lambda c: c.__name__)
def test_a_single_tensor_or_an_empty_list_is_refused(cls):
    with pytest.raises(
        ValueError, match=r"must be called on a list .*got a single tensor of shape"
    ):
        cls()(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"must be called on a list .*got a single input of shape"):
        cls()(Input((4,)))
    with pytest.raises(ValueError, match=r"must be called on a list .*got an empty list"):
        cls()([])


@pytest.mark.parametrize("cls", [Subtract, Dot], ids=lambda c: c.__name__)
def test_two_input_layers_refuse_other_counts(cls):
    layer = cls(axes=1) if cls is Dot else cls()
    prefix = rf"{cls.__name__} '{layer.name}' must be called on a list of exactly 2 tensors"
    with pytest.raises(ValueError, match=prefix + r".*got 1: \(None, 4\)"):
        layer([Input((4,))])
    with pytest.raises(ValueError, match=prefix + r".*got 3: \(2, 4\), \(2, 4\) and \(2, 4\)"):
        layer([torch.zeros(2, 4)] * 3)


def test_a_non_tensor_item_is_a_type_error():
    with pytest.raises(TypeError, match=r"Add 'add' expects a list of tensors; item 1 is float"):
        Add()([torch.zeros(2, 4), 3.0])


def test_concatenate_mismatch_names_the_axis():
    message = (
        r"Concatenate 'concatenate' cannot concatenate inputs of shapes \(None, 3, 4\) and "
        r"\(None, 2, 5\): axis 1 has sizes 3, 2; every axis other than the concatenation axis "
        r"\(-1\) must match"
    )
    with pytest.raises(ValueError, match=message):
        Concatenate()([Input((3, 4)), Input((2, 5))])
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 2, 4\): axis 1 has sizes"):
        Concatenate()([torch.zeros(2, 3, 4), torch.zeros(2, 2, 4)])
    with pytest.raises(ValueError, match=r"their ranks differ"):
        Concatenate()([Input((3, 4)), Input((4,))])
    with pytest.raises(ValueError, match=r"axis 3 is out of range for rank-3 inputs"):
        Concatenate(axis=3)([torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)])
    with pytest.raises(TypeError, match=r"axis must be an int; got 1.5"):
        Concatenate(axis=1.5)


def test_dot_mismatch_names_both_axes():
    message = (
        r"Dot 'dot' cannot take the dot product of inputs of shapes \(None, 3, 4\) and "
        r"\(None, 5, 3\): the first has size 4 on axis 2 and the second size 5 on axis 1"
    )
    with pytest.raises(ValueError, match=message):
        Dot(axes=(2, 1))([Input((3, 4)), Input((5, 3))])
    with pytest.raises(ValueError, match=r"shapes \(2, 4\) and \(2, 5\): the first has size 4"):
        Dot(axes=1)([torch.zeros(2, 4), torch.zeros(2, 5)])
    with pytest.raises(ValueError, match=r"their batch sizes differ"):
        Dot(axes=1)([torch.zeros(2, 4), torch.zeros(3, 4)])
    with pytest.raises(ValueError, match=r"axes=\[3, 1\] is out of range for a rank-3 input"):
        Dot(axes=(3, 1))([Input((3, 4)), Input((5, 3))])


@pytest.mark.parametrize(
    ("axes", "error", "message"),
    [
        ("a", TypeError, r"axes must be an int or a pair of ints"),
        ((1, 2, 3), ValueError, r"axes must be an int or a pair of ints"),
        (0, ValueError, r"names the batch axis \(0\)"),
        ((1, 0), ValueError, r"names the batch axis \(0\)"),
    ],
)
def test_dot_refuses_bad_axes(axes, error, message):
    with pytest.raises(error, match=rf"Dot 'dot': .*{message}"):
        Dot(axes=axes)


def test_merging_layers_pass_keras_masks_on():
    # Keras 3.15.1: Add & co. OR the masks (None unless every input has one); Concatenate
    # widens and joins them, then any() over the last axis; Dot gives none.
    layers = lamina.layers
    tok = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    embedding = layers.Embedding(5, 2, mask_zero=True, embeddings_initializer="ones")
    e, m = embedding(tok), embedding.compute_mask(tok)
    dense = torch.ones(2, 4, 2)
    joined = layers.Concatenate(axis=1).compute_mask([e, dense], [m, None])
    assert joined.int().tolist() == [[1, 1, 0, 0, 1, 1, 1, 1], [1, 0, 0, 0, 1, 1, 1, 1]]
    assert layers.Add().compute_mask([e, e], [m, m]).int().tolist() == [[1, 1, 0, 0], [1, 0, 0, 0]]
    assert layers.Multiply().compute_mask([e, e], [m, None]) is None
    assert layers.Dot(axes=2).compute_mask([e, e], [m, m]) is None
    # A mask through Add reaches the pooling (Keras: [[6, 8]], the mean over two tokens).
    inp = lamina.Input((4,), dtype="int32")
    x = layers.Embedding(5, 2, mask_zero=True)(inp)
    model = lamina.Model(inp, layers.GlobalAveragePooling1D()(layers.Add()([x, x])))
    model.layers[1].set_weights([np.arange(10, dtype="float32").reshape(5, 2)])
    np.testing.assert_allclose(model.predict(np.array([[1, 2, 0, 0]]), verbose=0), [[6.0, 8.0]])
    # Through Concatenate into an LSTM: Keras' outputs for these weights (seed 0 normals).
    inp = lamina.Input((4,), dtype="int32")
    x = layers.Embedding(5, 3, mask_zero=True)(inp)
    model = lamina.Model(inp, layers.LSTM(2)(layers.Concatenate()([x, layers.Dense(3)(x)])))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    np.testing.assert_allclose(
        model.predict(tok, verbose=0),
        [[0.21419000625610352, 0.06977999955415726], [0.10555999726057053, 0.004730000160634518]],
        atol=1e-5,
    )
