"""The pieces of `FeatureSpace`: `Feature` (a dtype, a preprocessing layer, an encoding) and
`Cross` (features hashed together), their configs, and the conversion of raw columns (lists,
NumPy arrays, tensors, `lamina.data.Dataset` elements) into the batches the layers take.

>>> cross = Cross(("sex", "age"), crossing_dim=64)
>>> cross.name, Cross.from_config(cross.get_config()).crossing_dim
('sex_X_age', 64)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["Cross", "Feature", "adapt_batches", "as_feature_column"]

_MODULE = "keras.src.layers.preprocessing.feature_space"  # where Keras' configs name them
_ADAPT_BATCH_SIZE = 32  # Keras batches unbatched data by 32 for adapt()


def _check_mode(owner: str, output_mode: Any, allowed: tuple[str, ...]) -> str:
    if output_mode not in allowed:
        raise ValueError(f"{owner}: output_mode must be one of {allowed}; got {output_mode!r}")
    return output_mode


class Cross:
    """Features crossed by hashing their values together into `crossing_dim` bins.

    Args:
        feature_names: the names of the features to cross (two or more).
        crossing_dim: the number of hash bins.
        output_mode: 'one_hot' (a vector of `crossing_dim`) or 'int' (the bin index).
    """

    def __init__(self, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot") -> None:
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = _check_mode(
            f"FeatureSpace.cross{self.feature_names}", output_mode, ("int", "one_hot")
        )

    @property
    def name(self) -> str:
        """The crossed feature's name: the feature names joined by '_X_'."""
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict[str, Any]:
        return {
            "feature_names": list(self.feature_names),
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Cross:
        return cls(**config)


class Feature:
    """One feature: its input dtype ('float32', 'int32' or 'string'), the layer that
    preprocesses it, and how the result is encoded ('float' as it is, 'int' as an index,
    'one_hot' as a vector).

    Args:
        dtype: the dtype of the raw values.
        preprocessor: a lamina layer (or its serialized dict).
        output_mode: 'float', 'int' or 'one_hot'.
    """

    def __init__(self, dtype: str, preprocessor: Any, output_mode: str) -> None:
        from ..saving.registry import deserialize_layer

        _check_mode("FeatureSpace.feature", output_mode, ("int", "one_hot", "float"))
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = deserialize_layer(_from_keras_entry(preprocessor))
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict[str, Any]:
        from ..saving.registry import serialize_layer

        return {
            "dtype": self.dtype,
            "preprocessor": serialize_layer(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Feature:
        return cls(**config)


def _from_keras_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A preprocessor entry of a Keras config as lamina reads it: Keras' 'float' features
    use an internal identity layer (TFDIdentity), and its dtypes are policy dicts."""
    config = dict(entry.get("config") or {})
    if entry.get("class_name") == "TFDIdentity":
        return {"class_name": "Identity", "config": {"name": config.get("name")}}
    dtype = config.get("dtype")
    if isinstance(dtype, dict) and isinstance(dtype.get("config"), dict):
        config["dtype"] = dtype["config"].get("name")
    return {**entry, "config": config}


def serialize_spec(spec: Feature | Cross) -> dict[str, Any]:
    """A Feature or Cross as Keras writes it (`serialize_keras_object`)."""
    name = type(spec).__name__
    return {
        "module": _MODULE,
        "class_name": name,
        "config": spec.get_config(),
        "registered_name": name,
    }


def deserialize_spec(entry: Any, expected: type) -> Any:
    """Inverse of `serialize_spec` (also for Keras' entries); other values pass through."""
    if not isinstance(entry, dict):
        return entry
    if entry.get("class_name") != expected.__name__ or not isinstance(entry.get("config"), dict):
        raise ValueError(
            f"FeatureSpace: expected a serialized {expected.__name__} "
            f"({{'class_name': {expected.__name__!r}, 'config': {{...}}}}); got {entry!r}"
        )
    return expected.from_config(entry["config"])


# ---------------------------------------------------------------------- raw columns


def _to_array(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    array = np.asarray(value)
    if array.dtype.kind in "US":  # Python strings: an object array, as the lookup layers keep
        array = array.astype(object)
    return array


def as_feature_column(value: Any, dtype: str, name: str) -> Any:
    """Raw values of feature `name` as the preprocessor takes them: float32 tensors for
    float features, int64 arrays for integer ones (whole floats, e.g. from a CSV, are
    accepted), object arrays of `str` for strings. The shape is kept."""
    array = _to_array(value)
    kind = array.dtype.kind
    if dtype == "string":
        if kind not in "OSU":
            raise TypeError(
                f"FeatureSpace: feature {name!r} holds strings; got dtype {array.dtype}"
            )
        return array.astype(object)
    if kind not in "iufb":
        raise TypeError(
            f"FeatureSpace: feature {name!r} holds numbers ({dtype}); got dtype {array.dtype}"
        )
    if dtype.startswith("int"):
        whole = np.isfinite(array) & (array == np.round(array)) if kind == "f" else True
        if not np.all(whole):
            raise TypeError(
                f"FeatureSpace: feature {name!r} is an integer feature; got float values that "
                f"are not whole numbers, such as {array[~whole][:3].tolist()}"
            )
        return array.astype(np.int64)
    return torch.as_tensor(np.asarray(array, dtype=np.float32))


def _rows(array: np.ndarray) -> np.ndarray:
    """A batch as (batch, 1) for scalars, as Keras' FeatureSpace adapts it."""
    return array.reshape(-1, 1) if array.ndim <= 1 else array


def adapt_batches(data: Any, names: list[str]) -> dict[str, list[np.ndarray]]:
    """The batches `adapt()` reads for each of `names`: a dict of columns is cut into batches
    of 32 rows (as Keras' `Dataset.from_tensor_slices(data).batch(32)`); a
    `lamina.data.Dataset` (or another iterable) of dicts gives its own batches, and single
    examples are grouped by 32."""
    from ..data import Dataset

    if isinstance(data, dict):
        columns = {name: _to_array(_column(data, name)) for name in names}
        sizes = {len(column) for column in columns.values()}
        if len(sizes) > 1:
            raise ValueError(
                "FeatureSpace.adapt(): the columns have different lengths "
                f"{ {name: len(column) for name, column in columns.items()} }"
            )
        size = sizes.pop() if sizes else 0
        return {
            name: [
                _rows(column[start : start + _ADAPT_BATCH_SIZE])
                for start in range(0, size, _ADAPT_BATCH_SIZE)
            ]
            for name, column in columns.items()
        }
    if not isinstance(data, Dataset) and (
        isinstance(data, (str, bytes, np.ndarray, torch.Tensor)) or not hasattr(data, "__iter__")
    ):
        raise ValueError(
            "FeatureSpace.adapt() takes a lamina.data.Dataset of dicts or a dict of arrays or "
            f"lists; got {type(data).__name__}"
        )
    return _batches_of_elements(iter(data), names)


def _column(element: Any, name: str) -> Any:
    if isinstance(element, tuple) and element and isinstance(element[0], dict):
        element = element[0]  # (features, labels): the features
    if not isinstance(element, dict):
        raise ValueError(
            f"FeatureSpace.adapt(): the dataset must yield dicts of features; got an element "
            f"of type {type(element).__name__}"
        )
    if name not in element:
        raise ValueError(
            f"FeatureSpace.adapt(): the data has no feature {name!r}; it has {sorted(element)}"
        )
    return element[name]


def _batches_of_elements(elements: Iterator[Any], names: list[str]) -> dict[str, list[Any]]:
    batches: dict[str, list[Any]] = {name: [] for name in names}
    pending: dict[str, list[Any]] = {name: [] for name in names}
    for element in elements:
        for name in names:
            array = _to_array(_column(element, name))
            if array.ndim == 0:  # one example: grouped by 32 as Keras batches them
                pending[name].append(array)
                if len(pending[name]) == _ADAPT_BATCH_SIZE:
                    batches[name].append(_rows(np.stack(pending[name])))
                    pending[name] = []
            else:
                batches[name].append(_rows(array))
    for name in names:
        if pending[name]:
            batches[name].append(_rows(np.stack(pending[name])))
    return batches
