"""`FeatureSpace`: Keras' one-stop preprocessing of structured (tabular) data, built on
lamina's preprocessing layers (Normalization, Discretization, StringLookup, IntegerLookup,
Hashing, HashedCrossing, CategoryEncoding), without TensorFlow: it adapts on a dict of
columns or a `lamina.data.Dataset` of dicts, and encodes dicts of lists, arrays or tensors.

>>> import numpy as np
>>> space = FeatureSpace(
...     {"size": "float_normalized", "color": "string_categorical"}, output_mode="concat")
>>> space.adapt({"size": np.array([1.0, 2.0, 3.0]), "color": ["red", "blue", "red"]})
>>> space({"size": [1.0, 3.0], "color": ["red", "green"]})  # [UNK], red, blue, size
tensor([[ 0.0000,  1.0000,  0.0000, -1.2247],
        [ 1.0000,  0.0000,  0.0000,  1.2247]])
"""

from __future__ import annotations

from typing import Any

import torch

from .. import layers
from ..layers._naming import unique_name
from ..layers.layer import Layer
from ..saving.registry import register_serializable
from ._feature_space_specs import (
    Cross,
    Feature,
    adapt_batches,
    as_feature_column,
    deserialize_spec,
    serialize_spec,
)

__all__ = ["FeatureSpace"]

_NAMED_TYPES = (
    "float",
    "float_normalized",
    "float_rescaled",
    "float_discretized",
    "integer_categorical",
    "string_categorical",
    "integer_hashed",
    "string_hashed",
)


@register_serializable(package="lamina")
class FeatureSpace(Layer):
    """Preprocesses and encodes a dict of features (Keras' `keras.utils.FeatureSpace`).

    Each feature is preprocessed by its layer (adapted on data by `adapt()`), crossed
    features are hashed together, and the results are encoded (one-hot vectors for indices)
    and concatenated in the order of the sorted feature names, then the sorted cross names.

    Args:
        features: feature name -> a type name (one of 'float', 'float_normalized',
            'float_rescaled', 'float_discretized', 'integer_categorical',
            'string_categorical', 'integer_hashed', 'string_hashed', with default arguments)
            or a spec such as `FeatureSpace.integer_categorical(num_oov_indices=0)`.
        output_mode: 'concat' (one float vector per example) or 'dict' (the encoded features
            by name).
        crosses: features to cross: tuples of names, or `FeatureSpace.cross(...)` specs.
        crossing_dim: the hash bins of crosses given as tuples.
        hashing_dim: the hash bins of 'integer_hashed' and 'string_hashed' given by name.
        num_discretization_bins: the bins of 'float_discretized' given by name.

    Calling it on a dict of lists, arrays or tensors (a batch, or one example of scalars)
    gives torch tensors. `get_inputs()` and `get_encoded_features()` give the symbolic
    inputs and encoded features, to build a functional model that takes raw dicts.
    """

    # ------------------------------------------------------------ feature specs (Keras')

    @classmethod
    def cross(cls, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot") -> Cross:
        """Features hashed together into `crossing_dim` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor: Any, output_mode: str) -> Feature:
        """A feature with your own preprocessing layer."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        """Float values used as they are."""
        name = name or unique_name("float")
        return Feature("float32", layers.Identity(name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(
        cls, scale: float = 1.0, offset: float = 0.0, name: str | None = None
    ) -> Feature:
        """Float values times `scale` plus `offset` (a Rescaling layer)."""
        name = name or unique_name("float_rescaled")
        preprocessor = layers.Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", preprocessor, "float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        """Float values standardized with the mean and variance `adapt()` measures."""
        name = name or unique_name("float_normalized")
        preprocessor = layers.Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature("float32", preprocessor, "float")

    @classmethod
    def float_discretized(
        cls,
        num_bins: int,
        bin_boundaries: Any = None,
        output_mode: str = "one_hot",
        name: str | None = None,
    ) -> Feature:
        """Float values put in bins (quantiles found by `adapt()`, or `bin_boundaries`)."""
        name = name or unique_name("float_discretized")
        preprocessor = layers.Discretization(
            num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor"
        )
        return Feature("float32", preprocessor, output_mode)

    @classmethod
    def integer_categorical(
        cls,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        output_mode: str = "one_hot",
        name: str | None = None,
    ) -> Feature:
        """Integer categories indexed by a vocabulary `adapt()` learns (IntegerLookup)."""
        name = name or unique_name("integer_categorical")
        preprocessor = layers.IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("int32", preprocessor, output_mode)

    @classmethod
    def string_categorical(
        cls,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        output_mode: str = "one_hot",
        name: str | None = None,
    ) -> Feature:
        """String categories indexed by a vocabulary `adapt()` learns (StringLookup)."""
        name = name or unique_name("string_categorical")
        preprocessor = layers.StringLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("string", preprocessor, output_mode)

    @classmethod
    def string_hashed(
        cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None
    ) -> Feature:
        """Strings hashed into `num_bins` bins."""
        name = name or unique_name("string_hashed")
        preprocessor = layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("string", preprocessor, output_mode)

    @classmethod
    def integer_hashed(
        cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None
    ) -> Feature:
        """Integers hashed into `num_bins` bins."""
        name = name or unique_name("integer_hashed")
        preprocessor = layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("int32", preprocessor, output_mode)

    # ------------------------------------------------------------ construction

    def __init__(
        self,
        features: dict[str, Any],
        output_mode: str = "concat",
        crosses: Any = None,
        crossing_dim: int = 32,
        hashing_dim: int = 32,
        num_discretization_bins: int = 32,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if not features or not isinstance(features, dict):
            raise ValueError(
                f"FeatureSpace: features must be a non-empty dict of name -> type; got {features!r}"
            )
        if output_mode not in ("dict", "concat"):
            raise ValueError(
                f"FeatureSpace: output_mode must be 'dict' or 'concat'; got {output_mode!r}"
            )
        bad = sorted(str(n) for n in features if not isinstance(n, str) or not n)
        if bad:
            raise ValueError(f"FeatureSpace: feature names must be non-empty strings; got {bad}")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.output_mode = output_mode
        self.features = {key: self._standardize_feature(key, v) for key, v in features.items()}
        self.crosses = [self._standardize_cross(cross) for cross in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        self.inputs = {
            key: layers.Input(shape=(1,), dtype=feature.dtype, name=key)
            for key, feature in self.features.items()
        }
        self.preprocessors = {key: feature.preprocessor for key, feature in self.features.items()}
        for preprocessor in self.preprocessors.values():
            if isinstance(preprocessor, layers.Normalization) and not preprocessor.built:
                preprocessor.build((None, 1))  # one value per example: weights exist to load
        self.crossers = {
            cross.name: layers.HashedCrossing(cross.crossing_dim, name=cross.name)
            for cross in self.crosses
        }
        # Registered as sub-modules, so state_dict(), .to(device) and saving see them.
        self.preprocessor_layers = _module_dict(self.preprocessors)
        self.crosser_layers = _module_dict(self.crossers)
        self.one_hot_encoders: dict[str, Any] = {}
        self.encoder_layers = torch.nn.ModuleDict()
        self.concat: Any = None
        self.encoded_features: Any = None
        self._sublayers_built = False
        # Whether adapt() ran: a buffer, so a saved and reloaded FeatureSpace knows it.
        self.register_buffer("adapted", torch.tensor(False))
        self.built = True

    def _standardize_feature(self, name: str, feature: Any) -> Feature:
        feature = deserialize_spec(feature, Feature)
        if isinstance(feature, Feature):
            return feature
        if feature == "float_discretized":
            return self.float_discretized(num_bins=self.num_discretization_bins, name=name)
        if feature in ("integer_hashed", "string_hashed"):
            return getattr(self, feature)(self.hashing_dim, name=name)
        if feature in _NAMED_TYPES:
            return getattr(self, feature)(name=name)
        raise ValueError(
            f"FeatureSpace: feature {name!r} has an invalid type {feature!r}; use one of "
            f"{list(_NAMED_TYPES)} or a FeatureSpace.<type>(...) spec"
        )

    def _standardize_cross(self, cross: Any) -> Cross:
        cross = deserialize_spec(cross, Cross)
        if not isinstance(cross, Cross):
            if not self.crossing_dim:
                raise ValueError(
                    "FeatureSpace: crosses given as names need crossing_dim (the number of "
                    f"hash bins); got crossing_dim={self.crossing_dim!r}"
                )
            cross = Cross(cross, crossing_dim=self.crossing_dim)
        unknown = [key for key in cross.feature_names if key not in self.features]
        if unknown:
            raise ValueError(
                f"FeatureSpace: the cross {cross.feature_names} names features that are not "
                f"in features: {unknown}; features are {list(self.features)}"
            )
        return cross

    # ------------------------------------------------------------ adapt

    def _list_adaptable_preprocessors(self) -> list[str]:
        """The features whose preprocessor learns from data (and was not given its state)."""
        names = []
        for key, preprocessor in self.preprocessors.items():
            if isinstance(preprocessor, layers.Normalization):
                if preprocessor.input_mean is not None:
                    continue
            elif isinstance(preprocessor, layers.Discretization):
                if preprocessor.num_bins is None:
                    continue
            elif getattr(preprocessor, "_has_input_vocabulary", False):
                continue  # lookups and TextVectorization given a vocabulary
            if hasattr(preprocessor, "adapt"):
                names.append(key)
        return names

    def adapt(self, dataset: Any) -> None:
        """Learn each feature's preprocessing state (vocabularies, means and variances, bin
        boundaries) from `dataset`: a dict of columns (lists or arrays), or a
        `lamina.data.Dataset` (or another iterable) of dicts, batched or not."""
        names = self._list_adaptable_preprocessors()
        batches = adapt_batches(dataset, names)
        for key in names:
            feature = self.features[key]
            columns = [as_feature_column(batch, feature.dtype, key) for batch in batches[key]]
            if not columns:
                raise ValueError(f"FeatureSpace.adapt(): the data has no rows for {key!r}")
            self.preprocessors[key].adapt(iter(columns))
        with torch.no_grad():
            self.adapted.fill_(True)
        self._build_encoders()

    @property
    def _is_adapted(self) -> bool:
        return bool(self.adapted)

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can "
                    f"start using it: features {self._list_adaptable_preprocessors()} learn "
                    "from data"
                )
            with torch.no_grad():
                self.adapted.fill_(True)

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self._build_encoders()

    # ------------------------------------------------------------ encoders

    def _merge_order(self) -> list[tuple[str, Any]]:
        """(name, spec) of every output: sorted feature names, then sorted cross names."""
        return [(key, self.features[key]) for key in sorted(self.features)] + [
            (key, self.crosses_by_name[key]) for key in sorted(self.crosses_by_name)
        ]

    def _cardinality(self, name: str) -> int:
        layer = self.preprocessors.get(name) or self.crossers.get(name)
        if isinstance(layer, (layers.IntegerLookup, layers.StringLookup)):
            return layer.vocabulary_size()
        if isinstance(layer, layers.CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, layers.Discretization):
            return layer.num_bins if layer.num_bins is not None else layer._depth
        if isinstance(layer, (layers.HashedCrossing, layers.Hashing)):
            return layer.num_bins
        raise ValueError(
            f"FeatureSpace: feature {name!r} has output_mode='one_hot', but its preprocessor "
            f"{type(layer).__name__} has no known number of values to one-hot encode. Use "
            "output_mode='int'."
        )

    def _build_encoders(self) -> None:
        """The one-hot encoders (CategoryEncoding, multi-hot of one index) and the checks
        Keras makes when it first builds; then the symbolic encoded features."""
        self.one_hot_encoders = {}
        for key, spec in self._merge_order():
            if spec.output_mode == "one_hot":
                encoder = layers.CategoryEncoding(
                    num_tokens=self._cardinality(key), output_mode="multi_hot"
                )
                self.one_hot_encoders[key] = encoder
            elif self.output_mode == "concat" and spec.output_mode == "int":
                raise ValueError(
                    f"FeatureSpace: cannot concatenate features because feature '{key}' has "
                    "not been encoded (output_mode='int' gives indices). Consider using "
                    "output_mode='dict', or output_mode='one_hot' for the feature."
                )
        self.encoder_layers = _module_dict(self.one_hot_encoders)
        if self.output_mode == "concat":
            self.concat = layers.Concatenate(axis=-1)
        self._sublayers_built = True
        self.encoded_features = None

    # ------------------------------------------------------------ symbolic use

    def get_inputs(self) -> dict[str, Any]:
        """The symbolic inputs, one `Input(shape=(1,), dtype=...)` per feature, by name."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self) -> Any:
        """The encoded features of `get_inputs()`: one symbolic tensor ('concat') or a dict
        of them ('dict'), to continue a functional model from."""
        self._check_if_built()
        if self.encoded_features is None:
            preprocessed = {key: self.preprocessors[key](x) for key, x in self.inputs.items()}
            self.encoded_features = self._merge(preprocessed, self._cross(preprocessed))
        return self.encoded_features

    # ------------------------------------------------------------ eager use

    def _cross(self, preprocessed: dict[str, Any]) -> dict[str, Any]:
        return {
            cross.name: self.crossers[cross.name]([preprocessed[k] for k in cross.feature_names])
            for cross in self.crosses
        }

    def _merge(self, preprocessed: dict[str, Any], crossed: dict[str, Any]) -> Any:
        values = {**preprocessed, **crossed}
        encoded = {}
        for key, _ in self._merge_order():
            encoder = self.one_hot_encoders.get(key)
            encoded[key] = values[key] if encoder is None else encoder(values[key])
        if self.output_mode == "dict":
            return encoded
        return self.concat(list(encoded.values()))

    def __call__(self, data: dict[str, Any]) -> Any:
        """Encode `data`: a dict of lists, arrays or tensors, one value per example (a batch
        of shape (batch,) or (batch, 1)), or scalars (one example: the batch axis is then
        left out of the result)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                f"FeatureSpace can only be called with a dict of features; got "
                f"{type(data).__name__}"
            )
        missing = [key for key in self.features if key not in data]
        if missing:
            raise ValueError(
                f"FeatureSpace: the data has no {missing}; it needs every feature of "
                f"{list(self.features)} (got {list(data)})"
            )
        columns, single = {}, False
        device = self.adapted.device  # where `.to(device)` put the space
        for key, feature in self.features.items():
            column = as_feature_column(data[key], feature.dtype, key)
            if isinstance(column, torch.Tensor):
                column = column.to(device)
            if column.ndim == 0:
                column, single = column.reshape(1, 1), True
            elif column.ndim == 1:
                column = column.reshape(-1, 1)
            columns[key] = column
        preprocessed = {key: self.preprocessors[key](x) for key, x in columns.items()}
        merged = self._merge(preprocessed, self._cross(preprocessed))
        if not single:
            return merged
        if self.output_mode == "concat":
            return merged.squeeze(0)
        return {
            key: x.squeeze(0) if x.ndim == 2 and x.shape[0] == 1 else x for key, x in merged.items()
        }

    # ------------------------------------------------------------ config and saving

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the features and crosses serialized (adapted vocabularies and bin
        boundaries included; Normalization's statistics are weights, saved by `save`)."""
        return {
            "features": {key: serialize_spec(f) for key, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [serialize_spec(cross) for cross in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FeatureSpace:
        return cls(**config)

    def save(self, filepath: str) -> None:
        """Write the FeatureSpace, adapted state included, to a '.lamina' (or '.keras') file;
        `lamina.models.load_model(filepath)` reads it back."""
        from ..saving.model_file import save_model

        save_model(self, filepath)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        if self._is_adapted:
            self._build_encoders()
        return result


def _module_dict(named_layers: dict[str, Any]) -> torch.nn.ModuleDict:
    """Layers by feature name as sub-modules. Keys get a suffix, since torch refuses keys that
    are attributes of ModuleDict (a column named 'type' or 'values'), and '.' becomes '_'."""
    modules = {f"{name.replace('.', '_')}_layer": layer for name, layer in named_layers.items()}
    if len(modules) != len(named_layers):
        raise ValueError(
            f"FeatureSpace: the names {sorted(named_layers)} collide once '.' is written '_'; "
            "rename the features"
        )
    return torch.nn.ModuleDict(modules)
