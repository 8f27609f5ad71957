"""Transfer learning helpers: features from a trained network, and nearest-neighbour search
on them (the classic "pretrained features + k-NN" baseline).

`extract_features` runs a feature sub-model, `Model(model.inputs, layer.output)`, and pools
4-D feature maps globally. `NearestNeighbors` follows scikit-learn's interface (`fit`,
`kneighbors` -> (distances, indices), `predict` by majority vote) and computes in torch, a
chunk of queries at a time, so 50,000 x 50,000 searches need only a chunk's distance matrix.

>>> index = NearestNeighbors(n_neighbors=1, metric="euclidean").fit([[0.0], [10.0]], [0, 1])
>>> index.predict([[1.0], [9.0]]).tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from . import config
from .layers import Dense, Layer
from .models import Model

__all__ = ["NearestNeighbors", "extract_features"]

ArrayLike = np.ndarray | torch.Tensor | Sequence[Any]


def _feature_layer(model: Model, layer: str | Layer | None) -> Layer | None:
    """The layer whose output `extract_features` returns; None means the model's output."""
    if isinstance(layer, str):
        return model.get_layer(layer)
    if isinstance(layer, Layer):
        if not any(candidate is layer for candidate in model.layers):
            raise ValueError(
                f"extract_features: layer {layer.name!r} is not a layer of model {model.name!r}"
            )
        return layer
    if layer is not None:
        raise TypeError(
            f"extract_features: layer must be a layer name, a Layer or None; got "
            f"{type(layer).__name__}"
        )
    # Default: the input of the classifier, when the model ends with a Dense layer (the
    # classifier of every zoo model and of most fine-tuned ones); else the model's output.
    if len(model.layers) >= 2 and isinstance(model.layers[-1], Dense):
        return model.layers[-2]
    return None


def extract_features(
    model: Model,
    x: ArrayLike,
    layer: str | Layer | None = None,
    pooling: str | None = "avg",
    batch_size: int = 32,
) -> np.ndarray:
    """The outputs of `layer` for the images `x`, as a NumPy array, pooled globally when 4-D.

    Args:
        model: a built functional or Sequential model.
        x: inputs (NumPy array or tensor), as `model.predict` takes them.
        layer: a layer name or Layer of `model`; default the layer before the final Dense
            classifier, or the model's output when the model does not end with a Dense.
        pooling: for 4-D feature maps (batch, height, width, channels), "avg" or "max"
            global pooling over height and width, or None to keep them.
        batch_size: batch size of the forward passes.

    Returns:
        (samples, features) for pooled or 2-D outputs; the layer's output shape otherwise.

    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((8, 8, 1)), lamina.layers.Conv2D(4, 3),
    ...                            lamina.layers.Flatten(), lamina.layers.Dense(2)])
    >>> extract_features(model, np.zeros((3, 8, 8, 1), "float32"), layer=model.layers[0]).shape
    (3, 4)
    """
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"extract_features: pooling must be None, 'avg' or 'max'; got {pooling!r}")
    target = _feature_layer(model, layer)
    if target is None:
        features = model.predict(x, batch_size=batch_size, verbose=0)
    else:
        if not model.inputs:
            raise ValueError(
                f"extract_features: model {model.name!r} has no symbolic inputs yet; build it "
                "with lamina.Input (Sequential([lamina.Input(shape), ...])) first"
            )
        feature_model = Model(model.inputs, target.output, name=f"{model.name}_features")
        features = feature_model.predict(x, batch_size=batch_size, verbose=0)
    features = np.asarray(features)
    if features.ndim == 4 and pooling is not None:
        axes = (1, 2) if config.image_data_format() == "channels_last" else (2, 3)
        features = features.mean(axis=axes) if pooling == "avg" else features.max(axis=axes)
    return features


def _as_matrix(values: ArrayLike, what: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        matrix = values.detach()
    else:
        matrix = torch.from_numpy(np.asarray(values))
    if matrix.ndim != 2:
        raise ValueError(
            f"NearestNeighbors: {what} must be 2-D (samples, features); got shape "
            f"{tuple(matrix.shape)}. Flatten or pool the features first."
        )
    return matrix


class NearestNeighbors:
    """Exact k-nearest-neighbour search with scikit-learn's interface, in torch.

    Args:
        n_neighbors: neighbours returned by default.
        metric: "cosine" (1 - cosine similarity; zero vectors are at distance 1 from all)
            or "euclidean".
        device: where to search (default `lamina.config.device()`).
        max_chunk_bytes: memory of one chunk's (queries x fitted points) distance matrix;
            the queries are split so that no chunk exceeds it.

    >>> index = NearestNeighbors(n_neighbors=2, metric="euclidean").fit([[0.0], [1.0], [5.0]])
    >>> distances, indices = index.kneighbors([[0.9]])
    >>> indices.tolist(), [round(float(d), 3) for d in distances[0]]
    ([[1, 0]], [0.1, 0.9])
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        metric: str = "cosine",
        device: str | torch.device | None = None,
        max_chunk_bytes: int = 2**28,
    ) -> None:
        if metric not in ("cosine", "euclidean"):
            raise ValueError(
                f"NearestNeighbors: metric must be 'cosine' or 'euclidean'; got {metric!r}"
            )
        if not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise ValueError(
                f"NearestNeighbors: n_neighbors must be a positive integer; got {n_neighbors!r}"
            )
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.device = torch.device(device) if device is not None else config.device()
        self.max_chunk_bytes = max_chunk_bytes
        self._points: torch.Tensor | None = None
        self._labels: np.ndarray | None = None

    def _prepare(self, matrix: torch.Tensor) -> torch.Tensor:
        matrix = matrix.to(self.device, torch.float32)
        if self.metric == "cosine":
            matrix = torch.nn.functional.normalize(matrix, dim=1)
        return matrix

    def fit(self, features: ArrayLike, labels: ArrayLike | None = None) -> NearestNeighbors:
        """Index `features` (samples, dimensions), with optional `labels` for `predict`."""
        points = _as_matrix(features, "features")
        if labels is not None:
            labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
            if labels.shape[:1] != (points.shape[0],):
                raise ValueError(
                    f"NearestNeighbors: got {points.shape[0]} feature rows but labels of shape "
                    f"{labels.shape}"
                )
        self._points = self._prepare(points)
        self._squared_norms = (self._points * self._points).sum(dim=1)
        self._labels = labels
        return self

    def _distances(self, queries: torch.Tensor, points: torch.Tensor | None = None) -> torch.Tensor:
        """(queries, points) distances, with the fitted points by default."""
        points = self._points if points is None else points
        if self.metric == "cosine":
            return 1.0 - queries @ points.T
        squared = (queries * queries).sum(dim=1, keepdim=True) - 2.0 * queries @ points.T
        return (squared + self._squared_norms).clamp_min_(0.0).sqrt_()

    def kneighbors(
        self, queries: ArrayLike, n_neighbors: int | None = None, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """The `n_neighbors` nearest fitted points of each query, nearest first.

        Returns:
            (distances, indices), both (queries, n_neighbors) NumPy arrays (float32,
            int64), or only indices with `return_distance=False`.
        """
        if self._points is None:
            raise ValueError("NearestNeighbors: call fit(features) before kneighbors")
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        fitted = self._points.shape[0]
        if not isinstance(k, int) or not 1 <= k <= fitted:
            raise ValueError(
                f"NearestNeighbors: n_neighbors must be between 1 and the {fitted} fitted "
                f"points; got {k!r}"
            )
        query_matrix = _as_matrix(queries, "queries")
        if query_matrix.shape[1] != self._points.shape[1]:
            raise ValueError(
                f"NearestNeighbors: queries have {query_matrix.shape[1]} features, the fitted "
                f"points {self._points.shape[1]}"
            )
        rows = max(1, self.max_chunk_bytes // (4 * fitted))
        all_distances, all_indices = [], []
        with torch.no_grad():
            for start in range(0, query_matrix.shape[0], rows):
                chunk = self._prepare(query_matrix[start : start + rows])
                distances, indices = torch.topk(self._distances(chunk), k, dim=1, largest=False)
                if self.metric == "euclidean":
                    # The matrix-product form loses precision to cancellation (a point is not
                    # exactly at 0 from itself): recompute the k winners directly and reorder.
                    difference = chunk[:, None, :] - self._points[indices]
                    distances = difference.square().sum(dim=2).sqrt()
                    distances, order = distances.sort(dim=1, stable=True)
                    indices = indices.gather(1, order)
                all_distances.append(distances.cpu())
                all_indices.append(indices.cpu())
        indices_array = torch.cat(all_indices).numpy().astype(np.int64)
        if not return_distance:
            return indices_array
        return torch.cat(all_distances).numpy(), indices_array

    def predict(self, queries: ArrayLike) -> np.ndarray:
        """The majority label among each query's `n_neighbors` nearest points (a tie goes to
        the smallest label, as scikit-learn's KNeighborsClassifier does)."""
        if self._labels is None:
            raise ValueError("NearestNeighbors: predict needs labels; call fit(features, labels)")
        indices = self.kneighbors(queries, return_distance=False)
        classes, codes = np.unique(self._labels, return_inverse=True)
        neighbour_codes = codes.reshape(-1)[indices]
        counts = np.zeros((indices.shape[0], classes.shape[0]), dtype=np.int64)
        np.add.at(counts, (np.arange(indices.shape[0])[:, None], neighbour_codes), 1)
        return classes[counts.argmax(axis=1)]
