"""scikit-learn wrappers, as `keras.wrappers`: a compiled model (or a function that builds
one) as a scikit-learn classifier, regressor or transformer, for pipelines, grid searches and
cross-validation.

scikit-learn is an optional dependency (`pip install lamina[sklearn]`); the classes are
loaded on first use, so `import lamina` does not import scikit-learn.

>>> import lamina
>>> sorted(lamina.wrappers.__all__)
['SKLearnClassifier', 'SKLearnRegressor', 'SKLearnTransformer']
"""

from __future__ import annotations

from typing import Any

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import _sklearn

        return getattr(_sklearn, name)
    raise AttributeError(f"module 'lamina.wrappers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
