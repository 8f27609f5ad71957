"""The serialization registry: registration names, scopes, safe mode switches."""

import pytest

import lamina
from lamina import layers
from lamina.saving import registry


def test_register_names_and_lookup():
    @lamina.saving.register_serializable(package="RegistryTest", name="scaled")
    def scale(x):
        return 3 * x

    assert lamina.saving.get_registered_name(scale) == "RegistryTest>scaled"
    assert lamina.saving.get_registered_object("RegistryTest>scaled") is scale
    assert lamina.saving.get_registered_object("scaled") is scale  # unique bare name
    assert lamina.saving.get_custom_objects()["RegistryTest>scaled"] is scale
    assert lamina.saving.get_registered_object("nothing_like_it") is None
    assert lamina.saving.register_keras_serializable is lamina.saving.register_serializable


def test_registration_errors():
    with pytest.raises(ValueError, match="without '>'"):
        lamina.saving.register_serializable(package="a>b")
    with pytest.raises(ValueError, match="no get_config"):
        lamina.saving.register_serializable()(type("NoConfig", (), {}))


def test_custom_object_scope_resolves_names_inside_only():
    def doubled(x):
        return 2 * x

    with pytest.raises(ValueError, match="Unknown activation 'doubled'"):
        lamina.activations.get("doubled")
    with lamina.saving.custom_object_scope({"doubled": doubled}):
        assert lamina.activations.get("doubled") is doubled
        layer = layers.Dense.from_config({**layers.Dense(2).get_config(), "activation": "doubled"})
        assert layer.activation is doubled
    with pytest.raises(ValueError, match="Unknown activation"):
        lamina.activations.get("doubled")
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        lamina.saving.CustomObjectScope(["doubled"])


def test_safe_mode_switches(tmp_path, monkeypatch):
    def add_one(x):
        return x + 1

    model = lamina.Sequential([lamina.Input((2,)), layers.Lambda(add_one)])
    model.save(tmp_path / "m.lamina")
    assert registry.in_safe_mode()
    with lamina.saving.SafeModeScope(False):
        assert not registry.in_safe_mode()
    monkeypatch.setattr(registry, "_UNSAFE_GLOBALLY", [False])
    config = model.layers[0].get_config()
    with pytest.raises(ValueError, match="safe mode"):
        layers.Lambda.from_config(config)
    lamina.config.enable_unsafe_deserialization()
    assert not registry.in_safe_mode()
    with lamina.saving.custom_object_scope({"add_one": add_one}):
        assert layers.Lambda.from_config(config).function is add_one
    # As in Keras, load_model's own safe_mode (True by default) applies while it loads.
    with pytest.raises(ValueError, match="safe mode"):
        lamina.models.load_model(tmp_path / "m.lamina", custom_objects={"add_one": add_one})


def test_unknown_class_or_function_is_catchable_as_keras_type_error(tmp_path):
    # Keras 3.15.1 raises TypeError ("Could not locate class" / "function")
    # when load_model meets an unregistered class or compiled function; lamina's ValueError
    # is also a TypeError.
    class SquareUnregistered(layers.Layer):
        def call(self, x):
            return x * x

    def cubed_gap_loss(y_true, y_pred):
        return lamina.ops.mean(lamina.ops.abs(y_true - y_pred) ** 3, axis=-1)

    path = tmp_path / "m.keras"
    lamina.Sequential([layers.Input((3,)), SquareUnregistered(), layers.Dense(1)]).save(path)
    for error in (TypeError, ValueError):
        with pytest.raises(error, match="Unknown layer class 'SquareUnregistered'"):
            lamina.models.load_model(path)
    model = lamina.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile("sgd", loss=cubed_gap_loss)
    model.save(path)
    with pytest.raises(TypeError, match="function 'cubed_gap_loss'"):
        lamina.models.load_model(path)
    assert (
        lamina.models.load_model(path, custom_objects={"cubed_gap_loss": cubed_gap_loss}).loss
        is cubed_gap_loss
    )
