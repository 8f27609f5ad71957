"""`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer`: Keras' scikit-learn
wrappers (`keras.wrappers`) around lamina models.

`model` is a compiled `Model` (cloned and recompiled for each `fit`, unless `warm_start`)
or a function `model(X=..., y=..., **model_kwargs)` that returns one. Classifiers one-hot
encode their labels for the model (sorted classes, `classes_`) and map its outputs back with
an argmax, as Keras' wrapper does.

>>> import numpy as np, lamina
>>> def build(X, y):
...     model = lamina.Sequential([lamina.Input((X.shape[1],)),
...                                lamina.layers.Dense(y.shape[1], activation="softmax")])
...     model.compile(loss="categorical_crossentropy", optimizer="sgd")
...     return model
>>> clf = SKLearnClassifier(build, fit_kwargs={"epochs": 1, "verbose": 0})
>>> X, y = np.random.rand(12, 3), np.array(["cat", "dog", "eel"] * 4)
>>> clf.fit(X, y).classes_.tolist(), clf.model_.output_shape
(['cat', 'dog', 'eel'], (None, 3))
"""

from __future__ import annotations

import copy
import os
import tempfile
from typing import Any

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # the classes exist without scikit-learn; creating one explains
    sklearn = None

    class BaseEstimator:  # type: ignore[no-redef]
        pass

    class ClassifierMixin:  # type: ignore[no-redef]
        pass

    class RegressorMixin:  # type: ignore[no-redef]
        pass

    class TransformerMixin:  # type: ignore[no-redef]
        pass


__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def _require_sklearn(owner: str) -> None:
    if sklearn is None:
        raise ImportError(
            f"{owner} needs scikit-learn, which is not installed. Install it with "
            "`pip install scikit-learn` (or `pip install lamina[sklearn]`)."
        )


def _validate_data(estimator: Any, X: Any, y: Any = "no_validation", reset: bool = True) -> Any:
    """scikit-learn's checks and conversions; read-only arrays (memory maps) are copied, as
    torch does not take them without a warning."""
    from sklearn.utils.validation import validate_data

    checked = validate_data(estimator, X, y, reset=reset)
    arrays = checked if isinstance(checked, tuple) else (checked,)
    arrays = tuple(a if a.flags.writeable else a.copy() for a in arrays)
    return arrays if isinstance(checked, tuple) else arrays[0]


def _recompiled_clone(model: Any) -> Any:
    """A clone of `model` with new weights, compiled as `model` was (fresh optimizer state),
    also with a loss or metric function that is not registered (which `clone_model`, as
    Keras', refuses)."""
    from ..models.cloning import clone_architecture
    from ..saving.model_file import _compile, _compile_config

    clone = clone_architecture(model)
    state = model._compile_state
    if state is None:
        return clone
    try:  # through the saved form, as a model file would, so metrics start afresh
        _compile(clone, _compile_config(model))
    except (TypeError, ValueError):  # an unregistered loss or metric function: used as it is
        optimizer = type(state.optimizer).from_config(state.optimizer.get_config())
        clone.compile(optimizer=optimizer, **state.compile_arguments)
    return clone


def _copied_model(model: Any) -> Any:
    """A clone of `model` with a copy of its weights, compiled as it is."""
    clone = _recompiled_clone(model)
    clone.load_state_dict(model.state_dict())
    return clone


def _model_to_bytes(model: Any) -> Any:
    """A model as the bytes of a lamina model file, for pickling (functional graphs do not
    pickle); a model that cannot be saved so is returned as it is."""
    from ..models import Model

    if not isinstance(model, Model) or not model.built:
        return model
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.lamina")
        try:
            model.save(path)
        except (TypeError, ValueError):
            return model
        with open(path, "rb") as file:
            return _SavedModel(file.read())


class _SavedModel:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def load(self) -> Any:
        from ..models import load_model

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.lamina")
            with open(path, "wb") as file:
                file.write(self.data)
            try:
                return load_model(path)
            except ValueError:  # compiled with an unregistered function: predicts, uncompiled
                return load_model(path, compile=False)


class _SKLBase(BaseEstimator):
    """What the three wrappers share: the constructor, `fit`, `predict` and cloning."""

    def __init__(
        self,
        model: Any,
        warm_start: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        fit_kwargs: dict[str, Any] | None = None,
    ) -> None:
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self) -> Any:
        """An unfitted copy with the same parameters (a `Model` is deep-copied, so clones
        never share weights; a building function is shared)."""
        from ..models import Model

        model = _copied_model(self.model) if isinstance(self.model, Model) else self.model
        return type(self)(
            model=model,
            warm_start=self.warm_start,
            model_kwargs=copy.deepcopy(self.model_kwargs),
            fit_kwargs=copy.deepcopy(self.fit_kwargs),
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("model", "model_"):
            if key in state:
                state[key] = _model_to_bytes(state[key])
        if "history_" in state:  # History keeps the model it trained; the copy does not
            history = copy.copy(state["history_"])
            history.model = None
            state["history_"] = history
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key in ("model", "model_"):
            if isinstance(state.get(key), _SavedModel):
                state[key] = state[key].load()
        self.__dict__.update(state)

    @property
    def epoch_(self) -> int:
        """The number of epochs the last `fit` ran (0 before any)."""
        history = getattr(self, "history_", None)
        return 0 if history is None else len(history.epoch)

    def _get_model(self, X: np.ndarray, y: np.ndarray) -> Any:
        from ..models import Model

        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            return self.model if self.warm_start else _recompiled_clone(self.model)
        if not callable(self.model):
            raise TypeError(
                f"{type(self).__name__}: model must be a compiled lamina Model or a function "
                f"model(X=..., y=..., **model_kwargs) returning one; got {self.model!r}"
            )
        model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(
                f"{type(self).__name__}: the model function must return a lamina Model; got "
                f"{type(model).__name__}"
            )
        return model

    def fit(self, X: Any, y: Any, **kwargs: Any) -> Any:
        """Build (or reuse, with `warm_start`) the model and train it on `X`, `y`.

        Args:
            X: array-like of shape (n_samples, n_features).
            y: array-like of shape (n_samples,) or (n_samples, n_outputs).
            **kwargs: `model.fit` arguments; they take precedence over `fit_kwargs`.
        """
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        if not model.compiled or not model.loss or model.optimizer is None:
            raise RuntimeError(
                f"{type(self).__name__}: the model '{model.name}' must be compiled with a loss "
                "and an optimizer, e.g. model.compile(optimizer='adam', loss='mse')"
            )
        self.history_ = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def _model_outputs(self, X: Any) -> Any:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X)

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions for `X` (labels, for a classifier)."""
        return self._reverse_process_target(self._model_outputs(X))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        """Regression targets: as given, made 2-D (n_samples, n_outputs) for the model."""
        from sklearn.utils.multiclass import type_of_target

        if type_of_target(y) == "unknown":
            raise ValueError(f"{type(self).__name__}: Unknown label type for y: {y!r}")
        if reset:
            self._target_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _reverse_process_target(self, outputs: np.ndarray) -> np.ndarray:
        if self._target_ndim == 1 and outputs.ndim == 2 and outputs.shape[1] == 1:
            return outputs[:, 0]
        return outputs


class SKLearnClassifier(ClassifierMixin, _SKLBase):
    """A lamina model as a scikit-learn classifier (Keras' `keras.wrappers.SKLearnClassifier`).

    Labels (numbers or strings; binary or multiclass) are one-hot encoded over the sorted
    classes (`classes_`) for the model, which should output one score per class;
    `predict` returns the class of the highest score, `decision_function` the scores.

    Args:
        model: a compiled `Model` (cloned and recompiled before each fit unless
            `warm_start`), or a function called as `model(X=X, y=y_one_hot, **model_kwargs)`
            that returns a compiled model.
        warm_start: reuse the weights of the previous fit (a given `Model` is then trained
            as it is, not cloned).
        model_kwargs: keyword arguments for the `model` function.
        fit_kwargs: keyword arguments for `model.fit` (`epochs`, `batch_size`, ...);
            arguments given to `fit` take precedence.

    Attributes:
        model_: the fitted model. history_: `model.fit`'s History. classes_: the labels.

    >>> import lamina
    >>> SKLearnClassifier(lambda X, y: None, fit_kwargs={"epochs": 3}).get_params()["fit_kwargs"]
    {'epochs': 3}
    """

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's raw outputs for `X` (one score per class)."""
        return self._model_outputs(X)

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        from sklearn.preprocessing import OneHotEncoder
        from sklearn.utils.multiclass import type_of_target

        target_type = type_of_target(y)
        if target_type == "unknown":
            raise ValueError(f"{type(self).__name__}: Unknown label type for y: {y!r}")
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__}: only binary and multiclass targets are supported; got "
                f"a {target_type!r} target"
            )
        column = y.reshape(-1, 1) if y.ndim == 1 else y
        if reset:
            self._target_ndim = y.ndim
            self._encoder = OneHotEncoder(sparse_output=False).fit(column)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError(
                    f"{type(self).__name__}: y has one class only ({self.classes_[0]!r}); a "
                    "classifier needs two or more to train"
                )
        return self._encoder.transform(column)

    def _reverse_process_target(self, outputs: np.ndarray) -> np.ndarray:
        labels = self._encoder.inverse_transform(outputs)  # the argmax of each row
        return labels[:, 0] if self._target_ndim == 1 else labels

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, _SKLBase):
    """A lamina model as a scikit-learn regressor (Keras' `keras.wrappers.SKLearnRegressor`).

    Arguments as `SKLearnClassifier`'s; targets are given to the model as
    (n_samples, n_outputs) and `predict` returns the shape `y` had.

    >>> import lamina
    >>> SKLearnRegressor(lambda X, y: None, warm_start=True).get_params()["warm_start"]
    True
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, _SKLBase):
    """A lamina model as a scikit-learn transformer (Keras' `keras.wrappers.SKLearnTransformer`):
    `transform(X)` returns the model's outputs, e.g. embeddings for the next pipeline step.

    Arguments as `SKLearnClassifier`'s; `fit` trains the model on `X`, `y` as a regressor.

    >>> import lamina
    >>> sorted(SKLearnTransformer(lambda X, y: None).get_params())
    ['fit_kwargs', 'model', 'model_kwargs', 'warm_start']
    """

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for `X`."""
        return self._model_outputs(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
