"""Connectionist temporal classification: the CTC loss (torch's) and greedy or beam-search
decoding, on Keras' layouts (batch, time, classes)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ._dtypes import TensorLike, tensor, to_float


def ctc_loss(
    target: TensorLike,
    output: TensorLike,
    target_length: TensorLike,
    output_length: TensorLike,
    mask_index: int = 0,
) -> Tensor:
    """The CTC loss per sequence of logits `output` (batch, time, classes) against padded
    labels `target` (batch, max_label_length); `mask_index` is the blank class."""
    output = to_float(output).float()  # Keras computes the loss in float32 for every input
    device = output.device
    log_probs = F.log_softmax(output.transpose(0, 1), dim=-1)
    return F.ctc_loss(
        log_probs,
        tensor(target).to(device).long(),
        tensor(output_length).to(device).long(),
        tensor(target_length).to(device).long(),
        blank=mask_index,
        reduction="none",
    )


def _greedy(
    inputs: Tensor, lengths: Tensor, merge_repeated: bool, mask_index: int
) -> tuple[Tensor, Tensor]:
    batch, steps, _ = inputs.shape
    scores, best = inputs.max(dim=-1)
    padding = torch.arange(steps, device=inputs.device)[None, :] >= lengths[:, None]
    best = torch.where(padding, mask_index, best)
    scores = torch.where(padding, 0.0, scores)
    if merge_repeated:
        repeat = F.pad(best[:, 1:] == best[:, :-1], (1, 0))
        best = torch.where(repeat, mask_index, best)
    blank = best == mask_index
    # Kept labels move to the front, in order; -1 fills the rest.
    order = torch.where(blank, steps, torch.arange(steps, device=inputs.device))
    order = torch.argsort(order, dim=-1, stable=True)
    decoded = torch.take_along_dim(torch.where(blank, -1, best), order, dim=-1)
    return decoded.to(torch.int32)[None], -scores.sum(dim=1, keepdim=True)


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _accumulator(
    grown: dict[tuple[int, ...], list[float]],
) -> Callable[[tuple[int, ...], float, float], None]:
    def add(prefix: tuple[int, ...], blank: float, label: float) -> None:
        entry = grown.setdefault(prefix, [-math.inf, -math.inf])
        entry[0] = _logaddexp(entry[0], blank)
        entry[1] = _logaddexp(entry[1], label)

    return add


def _beam_search_one(
    log_probs: list[list[float]], beam_width: int, mask_index: int
) -> list[tuple[tuple[int, ...], float]]:
    # Prefix beam search: each prefix keeps (log p ending in blank, log p ending in a label).
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for step in log_probs:
        grown: dict[tuple[int, ...], list[float]] = {}
        add = _accumulator(grown)
        for prefix, (p_blank, p_label) in beams.items():
            total = _logaddexp(p_blank, p_label)
            for label, p in enumerate(step):
                if label == mask_index:
                    add(prefix, total + p, -math.inf)
                elif prefix and prefix[-1] == label:
                    # A repeat merges unless a blank separates it.
                    add(prefix, -math.inf, p_label + p)
                    add(prefix + (label,), -math.inf, p_blank + p)
                else:
                    add(prefix + (label,), -math.inf, total + p)
        ranked = sorted(grown.items(), key=lambda item: -_logaddexp(*item[1]))
        beams = {prefix: (b, n) for prefix, (b, n) in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda item: -_logaddexp(*item[1]))
    return [(prefix, _logaddexp(*scores)) for prefix, scores in ranked]


def _beam_search(
    inputs: Tensor, lengths: Tensor, beam_width: int, top_paths: int, mask_index: int
) -> tuple[Tensor, Tensor]:
    batch, steps, _ = inputs.shape
    log_probs = F.log_softmax(inputs, dim=-1).detach().cpu().double().tolist()
    decoded = torch.full((top_paths, batch, steps), -1, dtype=torch.int32)
    scores = torch.full((batch, top_paths), -math.inf, dtype=inputs.dtype)
    for b, length in enumerate(lengths.tolist()):
        paths = _beam_search_one(log_probs[b][: int(length)], beam_width, mask_index)
        for rank, (prefix, score) in enumerate(paths[:top_paths]):
            decoded[rank, b, : len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
            scores[b, rank] = score
    return decoded.to(inputs.device), scores.to(inputs.device)


def ctc_decode(
    inputs: TensorLike,
    sequence_lengths: TensorLike,
    strategy: str = "greedy",
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    mask_index: int | None = 0,
) -> tuple[Tensor, Tensor]:
    """Decode CTC logits (batch, time, classes) into label paths (top_paths, batch, time),
    padded with -1, and their scores (batch, top_paths).

    'greedy' takes the best class per step (score: minus the sum of the best logits);
    'beam_search' keeps `beam_width` prefixes (score: the path's log-probability).
    """
    inputs = to_float(inputs).float()  # float32 for every input, as Keras
    if inputs.dim() != 3:
        raise ValueError(
            f"ctc_decode expects inputs of shape (batch, time, classes); got {tuple(inputs.shape)}"
        )
    lengths = tensor(sequence_lengths).to(inputs.device).long()
    mask_index = inputs.shape[-1] - 1 if mask_index is None else mask_index
    if strategy == "greedy":
        return _greedy(inputs, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return _beam_search(inputs, lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"ctc_decode strategy must be 'greedy' or 'beam_search'; got {strategy!r}")
