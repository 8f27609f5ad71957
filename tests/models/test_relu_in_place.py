"""A plain ReLU after a batch norm or an addition runs in place (lamina/models/_fusion.py):
bit-identical outputs, gradients and moving statistics, and only where nothing else can see
the tensor it overwrites."""

import copy

import numpy as np
import pytest
import torch

from lamina import Input, Model, Sequential, layers
from lamina.models import _fusion


@pytest.fixture
def in_place(monkeypatch):
    """Counts the ReLUs computed in place; `in_place.off()` makes every one out of place."""
    original = _fusion.in_place_relu

    class Spy:
        count = 0
        enabled = True

        def off(self):
            self.enabled = False

    spy = Spy()

    def counting(*args):
        result = original(*args) if spy.enabled else None
        spy.count += result is not None
        return result

    monkeypatch.setattr(_fusion, "in_place_relu", counting)
    return spy


def resnet_block():
    torch.manual_seed(0)
    inputs = Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    y = layers.Conv2D(4, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    x = layers.ReLU()(layers.Add()([y, x]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(6)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))  # 2-D: no view
    return Model(inputs, layers.Dense(3)(x))


def dense_stack():
    torch.manual_seed(0)
    return Sequential(
        [
            Input((5,)),
            layers.Dense(7, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dense(4),
            layers.BatchNormalization(momentum=0.5),
            layers.Activation("relu"),
            layers.Dense(2),
        ]
    )


def conv_stack():
    torch.manual_seed(0)
    return Sequential(
        [
            Input((6, 6, 2)),
            layers.Conv2D(3, 3),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )


def _run(model, x, training):
    x = x.clone().requires_grad_()
    out = model(x, training=training)
    weights = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * weights).sum().backward()
    grads = [p.grad for p in model.parameters()] + [x.grad]
    return out.detach(), grads, [b.clone() for b in model.buffers()]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "make, shape, expected",
    [(resnet_block, (4, 8, 8, 3), 3), (dense_stack, (6, 5), 2), (conv_stack, (4, 6, 6, 2), 1)],
    ids=["functional resnet block", "sequential dense", "sequential conv"],
)
def test_in_place_relu_is_bit_identical(in_place, make, shape, expected, training):
    model = make()
    torch.manual_seed(1)
    x = torch.randn(shape)
    reference = copy.deepcopy(model)
    fast = _run(model, x, training)
    assert in_place.count == expected
    in_place.off()
    slow = _run(reference, x, training)
    assert torch.equal(fast[0], slow[0])
    for a, b in zip(fast[1] + fast[2], slow[1] + slow[2], strict=True):
        assert torch.equal(a, b)
    with torch.no_grad():  # and without autograd
        assert torch.equal(model(x, training=training), reference(x, training=training))


def test_fit_with_in_place_relu_matches_out_of_place(in_place):
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 3)).astype("float32")
    y = np.arange(32) % 3
    histories = []
    for enabled in (True, False):
        in_place.enabled = enabled
        model = resnet_block()
        model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        histories.append((history.history["loss"], model.get_weights()))
        assert (in_place.count > 0) == enabled  # 3 per step, 4 steps per epoch
        in_place.count = 0
    assert histories[0][0] == histories[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(histories[0][1], histories[1][1], strict=True))


def _bn_relu(bn_output_also_out=False, read_twice=False, relu=None):
    inputs = Input((4,))
    h = layers.BatchNormalization()(layers.Dense(4)(inputs))
    r = (relu or layers.ReLU())(h)
    if bn_output_also_out:
        return Model(inputs, [h, r])
    if read_twice:
        return Model(inputs, layers.Add()([r, layers.Dense(4)(h)]))
    return Model(inputs, r)


def test_not_in_place_where_the_tensor_is_seen_elsewhere(in_place):
    x = torch.randn(8, 4)
    h, r = _bn_relu(bn_output_also_out=True)(x, training=True)
    assert (h < 0).any() and torch.equal(r, torch.relu(h))
    _bn_relu(read_twice=True)(x, training=True)
    _bn_relu(relu=layers.ReLU(negative_slope=0.1))(x, training=True)
    _bn_relu(relu=layers.Activation("relu6"))(x, training=True)
    assert in_place.count == 0


def test_not_in_place_with_hooks_or_a_cast(in_place):
    model = _bn_relu()
    bn = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    seen = []
    handle = bn.register_forward_hook(lambda m, i, out: seen.append(out.clone()))
    kept = []
    hook = bn.register_forward_hook(lambda m, i, out: kept.append(out))
    out = model(torch.randn(8, 4), training=True)
    handle.remove()
    hook.remove()
    assert in_place.count == 0 and torch.equal(kept[0], seen[0]) and (kept[0] < 0).any()
    assert torch.equal(out, torch.relu(kept[0]))
    model(torch.randn(8, 4), training=True)
    assert in_place.count == 1  # hooks gone
    mixed = _bn_relu(relu=layers.ReLU(dtype="float64"))  # the ReLU casts: a new tensor anyway
    assert mixed(torch.randn(8, 4), training=True).dtype == torch.float64
    assert in_place.count == 1


def test_add_of_one_tensor_keeps_the_input(in_place):
    inputs = Input((3,))
    model = Model(inputs, layers.ReLU()(layers.Add()([inputs])))
    x = torch.tensor([[-1.0, 0.5, 2.0]])
    assert model(x).tolist() == [[0.0, 0.5, 2.0]]
    assert x.tolist() == [[-1.0, 0.5, 2.0]] and in_place.count == 0


def test_the_plan_marks_only_relus_after_batch_norm_or_addition():
    model = resnet_block()
    planned = [
        (type(node.layer).__name__, type(keys[2]).__name__)
        for node, keys in zip(model._nodes, model._single_keys, strict=True)
        if keys is not None and keys[2] is not None
    ]
    assert planned == [
        ("Activation", "BatchNormalization"),
        ("ReLU", "Add"),
        ("Activation", "BatchNormalization"),
    ]
