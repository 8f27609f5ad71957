"""Every `>>>` example in the package's docstrings runs and gives what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import lamina

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(lamina.__path__, prefix="lamina.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    lamina.clear_session()
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
