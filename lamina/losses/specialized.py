"""Losses for special targets: CTC for unaligned label sequences, Circle for metric learning on
embeddings, and the generalized crossentropy for noisy labels, as Keras 3 computes them.

>>> import torch
>>> from lamina.losses.specialized import CategoricalGeneralizedCrossEntropy
>>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
>>> round(float(loss(torch.tensor([0, 1]), torch.tensor([[0.25, 0.75], [0.0, 1.0]]))), 4)
0.5
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..ops._ctc import ctc_loss
from .loss import Loss, LossFunctionWrapper, Tensor, _as_tensor, reduce_weighted_values

__all__ = [
    "CTC",
    "CategoricalGeneralizedCrossEntropy",
    "Circle",
    "categorical_generalized_cross_entropy",
    "circle",
    "ctc",
]


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """The CTC loss of each sequence: `y_true` (batch, max_label_length) holds integer labels
    padded with 0, which is also the blank class; `y_pred` (batch, time, classes) holds logits
    (not softmax-normalized). Every sequence uses all `time` steps.

    >>> y_pred = torch.zeros(1, 3, 3)  # uniform over {blank, 1, 2}
    >>> round(float(ctc(torch.tensor([[1, 0]]), y_pred)[0]), 4)  # -log(6 paths / 27)
    1.5041
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_true.ndim != 2:
        raise ValueError(
            "ctc: `y_true` must be (batch_size, max_length) integer labels (0 pads and is the "
            f"blank class); got shape {tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "ctc: `y_pred` must be (batch_size, max_length, num_classes) logits; got shape "
            f"{tuple(y_pred.shape)}"
        )
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    output_length = torch.full((batch,), steps, dtype=torch.long, device=y_pred.device)
    label_length = (y_true != 0).sum(dim=-1)
    return ctc_loss(y_true, y_pred, label_length, output_length, mask_index=0)


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    """Circle loss (Sun et al., 2020) of L2-normalized embeddings `y_pred` (batch, dim) with
    integer labels `y_true` (batch,), against reference embeddings and labels (by default the
    batch itself); one loss per embedding, 0 where it has no positive or no negative pair.

    Args:
        y_true: integer labels, (batch,).
        y_pred: L2-normalized embeddings, (batch, dim).
        ref_labels: labels of the references; default `y_true`.
        ref_embeddings: L2-normalized references, (refs, dim); default `y_pred`.
        remove_diagonal: leave each embedding's pair with itself out of its positives.
        gamma: the scale of the similarity scores.
        margin: the relaxation margin.

    >>> emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> [round(v, 4) for v in circle(torch.tensor([0, 1, 0]), emb, gamma=1.0).tolist()]
    [0.5459, 0.0, 0.5459]
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    labels = _as_tensor(y_true, device=y_pred.device).long().reshape(-1, 1)
    references = y_pred if ref_embeddings is None else _as_tensor(ref_embeddings, y_pred.dtype)
    references = references.to(y_pred.device)
    if ref_labels is None:
        keys = labels
    else:
        keys = _as_tensor(ref_labels, device=y_pred.device).long().reshape(-1, 1)
    positive = labels == keys.T
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(labels.shape[0], keys.shape[0], dtype=torch.bool, device=y_pred.device)
        positive = positive & ~eye
    distances = (1.0 - y_pred @ references.T).clamp_min(0.0)
    # Keras' weights: positives far from `margin`, negatives close to `1 + margin` weigh more.
    positive_weights = ((margin + distances) * positive).clamp_min(0.0)
    negative_weights = ((1.0 + margin - distances) * negative).clamp_min(0.0)
    positive_terms = -gamma * positive_weights * (margin - distances)
    negative_terms = gamma * negative_weights * (1.0 - margin - distances)
    # Rows without positives (or negatives) give log(sum(empty)) = -inf and a loss of 0;
    # `where` keeps their gradient at 0 rather than NaN.
    p_loss = torch.logsumexp(positive_terms.masked_fill(~positive, -torch.inf), dim=1)
    n_loss = torch.logsumexp(negative_terms.masked_fill(~negative, -torch.inf), dim=1)
    return F.softplus(p_loss + n_loss)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Generalized crossentropy (Zhang and Sabuncu, 2018): `(1 - p ** q) / q` with `p` the
    predicted probability of the true class; towards crossentropy as q -> 0, towards the mean
    absolute error as q -> 1.

    Args:
        y_true: integer class indices, (batch,) or (batch, 1).
        y_pred: class probabilities, (batch, num_classes).
        q: the noise parameter, in (0, 1).

    >>> y_pred = torch.tensor([[0.75, 0.25], [0.36, 0.64]])
    >>> categorical_generalized_cross_entropy(torch.tensor([0, 1]), y_pred, q=0.5)
    tensor([0.2679, 0.4000])
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        # (batch, 1) indices: Keras would broadcast them against every row; this takes them
        # as the (batch,) indices they are.
        y_true = y_true.squeeze(-1)
    p = torch.gather(y_pred, -1, y_true.long().unsqueeze(-1)).squeeze(-1)
    return (1.0 - p.pow(q)) / q


class CTC(LossFunctionWrapper):
    """Connectionist temporal classification loss; see `ctc` for the target layout.

    Args:
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight',
            'none' or None.
        name: the loss' name.
        dtype: the float type of the computation (floatx by default).

    >>> CTC().get_config()
    {'name': 'ctc', 'reduction': 'sum_over_batch_size'}
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ctc",
        dtype: str | None = None,
    ) -> None:
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return ctc(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        return Loss.get_config(self)


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings; see `circle`.

    Embeddings without a positive or a negative pair get a loss of 0 and, as in Keras, are left
    out of the mean (of 'sum_over_batch_size' and 'mean').

    Args:
        gamma: the scale of the similarity scores.
        margin: the relaxation margin.
        remove_diagonal: leave each embedding's pair with itself out of its positives.
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight',
            'none' or None.
        name: the loss' name.
        dtype: the float type of the computation (floatx by default).

    >>> Circle().get_config()["gamma"]
    80.0
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "circle",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            circle,
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return circle(y_true, y_pred, **self._fn_kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        y_true, y_pred = self._convert(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, losses > 0, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {
            **Loss.get_config(self),
            "gamma": self.gamma,
            "margin": self.margin,
            "remove_diagonal": self.remove_diagonal,
        }


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized crossentropy, robust to noisy labels; see
    `categorical_generalized_cross_entropy`.

    Args:
        q: the noise parameter, in (0, 1). Default 0.5.
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight',
            'none' or None.
        name: the loss' name.
        dtype: the float type of the computation (floatx by default).

    >>> CategoricalGeneralizedCrossEntropy(q=0.7).get_config()["q"]
    0.7
    """

    def __init__(
        self,
        q: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_generalized_cross_entropy",
        dtype: str | None = None,
    ) -> None:
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in (0, 1); got {q!r}")
        super().__init__(
            categorical_generalized_cross_entropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            q=q,
        )
        self.q = q

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return categorical_generalized_cross_entropy(y_true, y_pred, self.q)

    def get_config(self) -> dict[str, Any]:
        return {**Loss.get_config(self), "q": self.q}
