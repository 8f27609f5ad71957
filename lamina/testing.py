"""The layer contract harness, public so that custom layers can be checked the same way.

>>> from lamina.layers import Dense
>>> _ = check_layer(Dense, {"units": 3}, (2, 4), expected_output_shape=(2, 3))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import torch

from .layers._symbolic import flatten_structure
from .layers.layer import Layer

__all__ = ["check_layer"]


def _random_input(shape: Sequence[int], dtype: torch.dtype, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if dtype.is_floating_point:
        return torch.randn(tuple(shape), generator=generator, dtype=dtype)
    return torch.randint(0, 10, tuple(shape), generator=generator, dtype=dtype)


def _fail(layer: Layer, message: str) -> None:
    raise AssertionError(f"{type(layer).__name__} '{layer.name}': {message}")


def check_layer(
    layer_cls: type[Layer],
    init_kwargs: dict[str, Any],
    input_shape: Sequence[int],
    expected_output_shape: Sequence[int] | None = None,
    expected_num_trainable_weights: int | None = None,
    expected_num_non_trainable_weights: int | None = None,
    input_dtype: torch.dtype = torch.float32,
    input_data: torch.Tensor | None = None,
    run_training: bool = True,
    seed: int = 0,
) -> Layer:
    """Check a layer's contract and return the built layer.

    Checks: the config is JSON and rebuilds an equal layer; the output shape equals
    `expected_output_shape` and the shape inferred on the `meta` device; the weight counts; a
    backward pass reaches every trainable weight; `set_weights(get_weights())` and a state_dict
    round trip into the rebuilt layer give identical outputs; one optimizer step changes the
    trainable weights and keeps the output finite.

    Raises:
        AssertionError: naming the layer and the broken promise.
    """
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    try:
        json.dumps(config)
    except TypeError as error:
        _fail(layer, f"get_config() is not JSON-serialisable: {error}")
    x = input_data if input_data is not None else _random_input(input_shape, input_dtype, seed)

    with torch.no_grad():  # inference: the same outputs at every call, random layers too
        output = layer(x, training=False)
    outputs = flatten_structure(output)
    if expected_output_shape is not None and tuple(outputs[0].shape) != tuple(
        expected_output_shape
    ):
        _fail(layer, f"output shape {tuple(outputs[0].shape)} != {tuple(expected_output_shape)}")

    inferred = layer.compute_output_shape((None, *tuple(x.shape)[1:]))
    eager = tuple(outputs[0].shape)[1:]
    if len(tuple(inferred)) != len(eager) + 1 or any(
        d is not None and d != e for d, e in zip(tuple(inferred)[1:], eager, strict=True)
    ):  # an unknown (None) inferred size matches any
        _fail(layer, f"inferred shape {inferred} disagrees with the eager {tuple(output.shape)}")

    if expected_num_trainable_weights is not None:
        got = len(layer.trainable_weights)
        if got != expected_num_trainable_weights:
            _fail(layer, f"{got} trainable weights, expected {expected_num_trainable_weights}")
    if expected_num_non_trainable_weights is not None:
        got = len(layer.non_trainable_weights)
        if got != expected_num_non_trainable_weights:
            _fail(
                layer, f"{got} non-trainable weights, expected {expected_num_non_trainable_weights}"
            )

    # Config round trip: same config (name aside), same outputs once weights are copied.
    clone = layer_cls.from_config(json.loads(json.dumps(config)))
    clone_config = clone.get_config()

    def as_json(entries: dict[str, Any]) -> Any:  # tuples, as Keras keeps them, become lists
        return json.loads(json.dumps({k: v for k, v in entries.items() if k != "name"}))

    if as_json(clone_config) != as_json(config):
        _fail(layer, f"from_config(get_config()) changed the config: {config} -> {clone_config}")
    with torch.no_grad():
        clone(x, training=False)
    clone.set_weights(layer.get_weights())
    with torch.no_grad():
        if not torch.equal(flatten_structure(clone(x, training=False))[0], outputs[0]):
            _fail(layer, "set_weights(get_weights()) does not reproduce the outputs")
    rebuilt = layer_cls.from_config(config)
    with torch.no_grad():
        rebuilt(x, training=False)
    rebuilt.load_state_dict(layer.state_dict())
    with torch.no_grad():
        if not torch.equal(flatten_structure(rebuilt(x, training=False))[0], outputs[0]):
            _fail(layer, "a state_dict round trip does not reproduce the outputs")

    # Backward reaches every trainable weight; one SGD step changes them.
    x_grad = x.clone().requires_grad_(x.is_floating_point())
    train_output = flatten_structure(layer(x_grad, training=True))[0]
    if train_output.requires_grad:
        (train_output.float() ** 2).mean().backward()
        for weight in layer.trainable_weights:
            if weight.grad is None:
                _fail(layer, f"no gradient reached a weight of shape {tuple(weight.shape)}")
        if x.is_floating_point() and x_grad.grad is None:
            _fail(layer, "no gradient reached the input")
    if run_training and layer.trainable_weights:
        before = [w.detach().clone() for w in layer.trainable_weights]
        with torch.no_grad():
            for weight in layer.trainable_weights:
                if weight.grad is not None:
                    weight -= 0.1 * weight.grad
        changed = any(
            not torch.equal(b, w) for b, w in zip(before, layer.trainable_weights, strict=True)
        )
        if not changed:
            _fail(layer, "a gradient step changed no trainable weight")
        with torch.no_grad():
            after = flatten_structure(layer(x, training=False))[0]
        if after.is_floating_point() and not bool(torch.isfinite(after).all()):
            _fail(layer, "the output is not finite after a training step")
    layer.zero_grad(set_to_none=True)
    return layer
