"""Label and vector helpers: `to_categorical` (one-hot) and `normalize` (unit norm)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["normalize", "to_categorical"]


def _integer_labels(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind in "iub":
        return x.astype(np.int64)
    if x.dtype.kind == "f":
        if x.size and not np.all(np.isfinite(x) & (x == np.round(x))):
            raise ValueError(
                "to_categorical expects integer class indices; got non-integer values such as "
                f"{x[~(np.isfinite(x) & (x == np.round(x)))].flat[0]!r}."
            )
        return x.astype(np.int64)
    raise TypeError(f"to_categorical expects integer class indices; got dtype {x.dtype}.")


def to_categorical(
    x: np.ndarray | torch.Tensor | list | int, num_classes: int | None = None
) -> np.ndarray | torch.Tensor:
    """Convert class indices to one-hot vectors, class axis last: float64 NumPy, as Keras'
    (`fit` casts it to float32), or a float32 torch tensor on the device of a tensor `x`.

    A trailing axis of size 1, as in CIFAR's (N, 1) labels, is dropped first, as Keras does,
    so (N, 1) labels give (N, num_classes).

    Args:
        x: integer class indices from 0 to num_classes - 1, any shape.
        num_classes: number of classes; default `max(x) + 1`.

    Returns:
        An array of shape `x.shape + (num_classes,)` (after dropping a trailing 1).

    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    is_tensor = isinstance(x, torch.Tensor)
    labels = _integer_labels(x.detach().cpu().numpy() if is_tensor else np.asarray(x))
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("to_categorical cannot infer num_classes from empty labels; pass it.")
        num_classes = int(labels.max()) + 1
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1; got {num_classes}.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)].flat[0]
        raise ValueError(
            f"to_categorical got class index {bad}, outside 0..{num_classes - 1} for "
            f"num_classes={num_classes}. Pass a larger num_classes, or fix the labels."
        )
    one_hot = np.zeros((labels.size, num_classes), dtype=np.float32 if is_tensor else np.float64)
    one_hot[np.arange(labels.size), labels.reshape(-1)] = 1.0
    one_hot = one_hot.reshape(labels.shape + (num_classes,))
    if is_tensor:
        return torch.from_numpy(one_hot).to(x.device)
    return one_hot


def normalize(
    x: np.ndarray | torch.Tensor, axis: int = -1, order: int | float = 2
) -> np.ndarray | torch.Tensor:
    """Divide `x` by its `order`-norm along `axis`; vectors of norm 0 are left as they are.

    NumPy in, NumPy out; a torch tensor gives a torch tensor.

    Args:
        x: array to normalize.
        axis: the axis along which vectors are normalized.
        order: order of the norm (2: Euclidean, 1: sum of absolute values, np.inf: maximum).

    Returns:
        A normalized copy of `x`.

    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
