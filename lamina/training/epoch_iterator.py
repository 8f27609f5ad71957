"""Keras 3's epoch bookkeeping: which batches of a source each epoch of fit, evaluate, predict
and each validation run reads, and when the source is said to have run out of data.

A source gives passes over its batches (`new_pass()`), its batches per pass (`num_batches`,
None when unknown, as for a generator) and epoch hooks (`on_epoch_begin`, `on_epoch_end`; a
PyDataset's). The rules, as Keras 3.15's `EpochIterator`:

* Without `steps`, an epoch is a new pass, read to its end. A source of unknown length that
  ends warns "Your input ran out of data" every time (as Keras does even for a finite
  generator), and its length is then known to be the batches read plus one.
* With `steps`, a pass runs on across epochs: an epoch reads `steps` batches from where the
  last one stopped. When the pass ends (its known length is reached, or it stops) the epoch
  ends early with the warning; the next epoch starts a new pass. Training never stops for
  it: fit goes on, and an epoch that read nothing logs nothing.
* A new pass over a generator is the two batches read when it was given (Keras peeks them)
  followed by what the generator still yields: an exhausted generator gives those two again.
* `reset()` (fit and evaluate call it before reading, and before each validation run) ends
  any pass and calls the source's `on_epoch_end`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from .. import config
from .custom_steps import batches_collate_lists

__all__ = ["RAN_OUT_OF_DATA", "EpochIterator", "capped_count", "validates"]

RAN_OUT_OF_DATA = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches. You may need to "
    "use the `.repeat()` function when building your dataset."
)


def _ran_out_warning() -> None:
    warnings.warn(RAN_OUT_OF_DATA, UserWarning, stacklevel=2)


class EpochIterator:
    """The (step, batch) pairs of each epoch over `source`, `steps` batches an epoch or whole
    passes (None). Iterate it once per epoch; `steps` is what callbacks see as
    `params["steps"]`."""

    def __init__(self, source: Any, steps: int | None) -> None:
        if steps is not None and (not isinstance(steps, int) or steps <= 0):
            raise ValueError(f"steps must be a positive int or None; got {steps!r}")
        self.source = source
        self.steps_per_epoch = steps
        self._num_batches: int | None = source.num_batches
        self._current: Iterator[Any] | None = None
        self._seen = 0

    @property
    def steps(self) -> int | None:
        """Batches an epoch is meant to have (None while unknown)."""
        return self.steps_per_epoch or self._num_batches

    def reset(self) -> None:
        """End any pass (the next epoch starts a new one) and call `on_epoch_end`."""
        self._current = None
        self._num_batches = self.source.num_batches
        self._seen = 0
        self.source.on_epoch_end()

    def first_batch(self) -> Any:
        """The first batch of an epoch, read to build the model (Keras' symbolic build); call
        `reset()` after it, so that the first epoch reads it again."""
        self.source.on_epoch_begin()
        try:
            return self.source.first_batch()
        except StopIteration:
            raise ValueError("The input data yielded no batches") from None

    def _ran_out(self) -> None:
        if self._num_batches is None:
            self._num_batches = self._seen
        _ran_out_warning()
        self._current = None
        self.source.on_epoch_end()

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        source = self.source
        lists = getattr(source, "collates_lists", False)
        source.on_epoch_begin()
        count = self.steps_per_epoch or self._num_batches
        if not count:  # unknown length, no steps: read the pass to its end
            iterator = source.new_pass()
            step = 0
            while True:
                self._seen = step + 1
                try:
                    batch = next(iterator)
                except StopIteration:
                    self._ran_out()
                    return
                batches_collate_lists(lists)  # before every batch: validation runs between
                yield step, batch
                step += 1
        if self._current is None or self.steps_per_epoch is None:
            self._current = source.new_pass()
            self._seen = 0
        current = self._current
        for step in range(count):
            if self._num_batches and self._seen >= self._num_batches:
                if self.steps_per_epoch:
                    _ran_out_warning()
                break
            self._seen += 1
            try:
                batch = next(current)
            except StopIteration:
                self._ran_out()
                return
            batches_collate_lists(lists)
            yield step, batch
        if self._num_batches and self._seen >= self._num_batches:
            self._current = source.new_pass()
            self._seen = 0
        source.on_epoch_end()


def capped_count(count: int | None, steps: bool = True) -> int | None:
    """`count` (steps, or epochs) limited by `lamina.config.set_max_steps_per_epoch` /
    `set_max_epochs`, with Keras' warning; unset steps (None) take the cap, as in Keras."""
    cap = config.max_steps_per_epoch() if steps else config.max_epochs()
    if cap and ((steps and not count) or (count and cap < count)):
        warnings.warn(f"Limiting {'steps_per_epoch' if steps else 'epochs'} to {cap}", stacklevel=4)
        return cap
    return count


def validates(epoch: int, validation_freq: Any) -> bool:
    """Whether fit validates after 0-based `epoch`: every n epochs, or at listed 1-based ones."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq
