"""lamina.optimizers.legacy: as Keras 3.15.1, every name exists and refuses with ImportError."""

import pytest

from lamina.optimizers import legacy


@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"])
def test_legacy_optimizers_raise_import_error(name):
    cls = getattr(legacy, name)
    assert cls is legacy.LegacyOptimizerWarning  # Keras binds all six to one class
    with pytest.raises(ImportError, match="`keras.optimizers.legacy` is not supported"):
        cls(learning_rate=0.1)
    assert sorted(legacy.__all__) == ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]
