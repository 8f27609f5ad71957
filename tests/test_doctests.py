"""Every `>>>` example in the package's docstrings runs and gives what it shows."""

import doctest
import importlib
import pkgutil
from pathlib import Path

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


def test_every_module_of_the_package_has_its_examples_run():
    # A folder without __init__.py is a namespace package, which walk_packages does not
    # enter: lamina/training's examples were skipped that way until it got one.
    root = Path(lamina.__file__).parent
    on_disk = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] != "__main__" and "__pycache__" not in parts:
            on_disk.add(".".join(parts))
    assert on_disk - {"lamina"} == set(MODULES)
