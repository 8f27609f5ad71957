"""The activation/max-pooling reordering (lamina/models/_fusion.py): exact, and only where
nothing can observe it."""

import pytest
import torch

import lamina
from lamina import Input, Model, Sequential, layers
from lamina.models import _fusion


@pytest.fixture
def fused_calls(monkeypatch):
    calls = []
    original = _fusion.run_pooling

    def spy(*args, **kwargs):
        calls.append(type(args[0]).__name__)
        return original(*args, **kwargs)

    monkeypatch.setattr(_fusion, "run_pooling", spy)
    return calls


def _chain(stack, x):
    """The layers called one by one (a layer alone never reorders anything)."""
    for layer in stack:
        x = layer(x, training=True)
    return x


def _inputs(shape, ties):
    torch.manual_seed(0)
    if ties:  # small integers: many equal maxima and exact zeros in each window
        return torch.randint(-2, 3, shape).float().requires_grad_()
    return torch.randn(shape, requires_grad=True)


def _grads(model, output):
    weights = torch.linspace(-1, 1, output.numel()).reshape(output.shape)
    params = list(model.parameters())
    return torch.autograd.grad((output * weights).sum(), params, allow_unused=True)


STACKS = {
    "conv relu, pool": lambda: [
        layers.Conv2D(6, 3, activation="relu"),
        layers.MaxPooling2D(2),
    ],
    "conv relu6, same pool": lambda: [
        layers.Conv2D(5, 3, padding="same", activation="relu6"),
        layers.MaxPooling2D(3, strides=2, padding="same"),
    ],
    "bn, Activation relu, pool": lambda: [
        layers.Conv2D(4, 1, use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
    ],
    "ReLU(max_value, threshold), pool": lambda: [
        layers.Conv2D(4, 3),
        layers.ReLU(max_value=1.0, threshold=0.25),
        layers.MaxPooling2D(2),
    ],
}


@pytest.mark.parametrize("ties", [False, True], ids=["normal", "ties"])
@pytest.mark.parametrize("kind", ["sequential", "functional"])
@pytest.mark.parametrize("name", list(STACKS))
def test_reordering_is_bit_identical(name, kind, ties, fused_calls):
    stack = STACKS[name]()
    if kind == "sequential":
        model = Sequential([Input((9, 9, 2)), *stack])
    else:
        inputs = Input((9, 9, 2))
        x = inputs
        for layer in stack:
            x = layer(x)
        model = Model(inputs, x)
    x = _inputs((3, 9, 9, 2), ties)
    lamina.config.set_random_seed(1)
    out = model(x, training=True)
    grads = _grads(model, out)
    x_grad = torch.autograd.grad(model(x, training=True).sum(), x)[0]
    assert fused_calls  # the reordering ran
    lamina.config.set_random_seed(1)
    expected = _chain(stack, x)
    assert torch.equal(out, expected)
    for got, want in zip(grads, _grads(model, expected), strict=True):
        assert torch.equal(got, want)
    assert torch.equal(x_grad, torch.autograd.grad(_chain(stack, x).sum(), x)[0])


def test_pooling_1d_after_conv1d():
    model = Sequential(
        [Input((12, 3)), layers.Conv1D(4, 3, activation="relu"), layers.MaxPooling1D(2)]
    )
    x = torch.randn(2, 12, 3)
    assert torch.equal(model(x), model.layers[1](model.layers[0](x)))


def _conv_pool_model(**conv_kwargs):
    inputs = Input((8, 8, 1))
    conv = layers.Conv2D(3, 3, activation="relu", **conv_kwargs)
    hidden = conv(inputs)
    return inputs, conv, hidden


def test_no_reordering_when_the_activation_is_observed(fused_calls):
    x = torch.randn(2, 8, 8, 1)
    # A model output.
    inputs, conv, hidden = _conv_pool_model()
    model = Model(inputs, [hidden, layers.MaxPooling2D(2)(hidden)])
    first, second = model(x)
    assert first.min() >= 0 and torch.equal(second, model.layers[2](first))
    # Read by two layers.
    inputs, conv, hidden = _conv_pool_model()
    both = layers.Add()(
        [
            layers.Flatten()(layers.MaxPooling2D(2)(hidden)),
            layers.Flatten()(layers.MaxPooling2D(2)(hidden)),
        ]
    )
    Model(inputs, both)(x)
    # A forward hook on the producer sees the activated output.
    seen = []
    inputs, conv, hidden = _conv_pool_model()
    model = Model(inputs, layers.MaxPooling2D(2)(hidden))
    conv.register_forward_hook(lambda module, args, output: seen.append(output))
    model(x)
    assert seen and seen[0].min() >= 0
    # An activity regularizer reads the activated output.
    inputs, conv, hidden = _conv_pool_model(activity_regularizer="l2")
    Model(inputs, layers.MaxPooling2D(2)(hidden))(x, training=True)
    assert not fused_calls


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv2D(3, 3, activation="gelu"),
        layers.Conv2D(3, 3, activation="sigmoid"),
        layers.LeakyReLU(0.1),
        layers.ReLU(negative_slope=0.2),
    ],
    ids=["gelu", "sigmoid", "LeakyReLU", "ReLU slope"],
)
def test_no_reordering_for_other_activations(layer, fused_calls):
    model = Sequential([Input((8, 8, 3)), layer, layers.MaxPooling2D(2)])
    x = torch.randn(2, 8, 8, 3)
    assert torch.equal(model(x), model.layers[1](model.layers[0](x)))
    assert not fused_calls


def test_no_reordering_across_dtype_policies(fused_calls):
    model = Sequential(
        [
            Input((8, 8, 1)),
            layers.Conv2D(3, 3, activation="relu", dtype="mixed_bfloat16"),
            layers.MaxPooling2D(2),
        ]
    )
    model(torch.randn(2, 8, 8, 1))
    assert not fused_calls


def test_sequential_logits_path_of_fit_reorders_too(fused_calls):
    # fit() reads the logits of a softmax output through call_with_logits.
    model = Sequential(
        [
            Input((8, 8, 1)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(4, activation="softmax"),
        ]
    )
    x = torch.randn(2, 8, 8, 1)
    predictions, logits = model.call_with_logits(x)
    assert fused_calls == ["MaxPooling2D"]
    assert torch.equal(predictions, _chain(model.layers, x))
    assert torch.equal(logits, model.layers[-1].call_pre_activation(_chain(model.layers[:-1], x)))


def test_only_nodes_read_by_a_max_pooling_are_planned_for_reordering():
    # Other single readers (batch norm after a convolution: every ResNet block) take the
    # graph's fast path, with no per-call fusion checks.
    inputs = Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    model = Model(inputs, layers.Flatten()(x))
    planned = [
        (type(node.layer).__name__, type(after.layer).__name__)
        for node, after in zip(model._nodes, model._pooling_after, strict=True)
        if after is not None
    ]
    assert planned == [("Conv2D", "MaxPooling2D")]
