"""TextVectorization: raw strings to token indices (or multi-hot, count, tf-idf vectors),
as Keras' layer: standardize, split, n-grams, then a `StringLookup` with the mask token ''.

The steps follow TensorFlow's string ops as Keras uses them: lower-casing is ASCII-only
(`tf.strings.lower`), punctuation is ASCII's 32 marks, 'whitespace' splits on ASCII
whitespace runs, 'character' on Unicode code points.

>>> layer = TextVectorization(max_tokens=5000, output_sequence_length=4)
>>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
>>> layer([["foo qux bar"], ["qux baz"]]).tolist()
[[4, 1, 3, 0], [1, 2, 0, 0]]
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
import torch

from ..saving.registry import get_registered_name, get_registered_object
from ._host_preprocessing import AdaptMixin, HostPreprocessingLayer, as_host_array
from .layer import Shape
from .lookup import StringLookup

__all__ = ["TextVectorization"]

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ASCII_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _ngrams(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    """Every n-gram of each width in turn, joined by spaces (`tf.strings.ngrams`)."""
    out = []
    for width in widths:
        out += [" ".join(tokens[i : i + width]) for i in range(len(tokens) - width + 1)]
    return out


def _resolve(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    """A standardize/split argument: None, one of `allowed`, a callable, or a registered
    callable's name (from a saved config)."""
    if value is None or callable(value) or value in allowed:
        return value
    found = get_registered_object(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(
            f"TextVectorization: {what} must be None, one of {allowed}, a callable or a "
            f"registered callable's name; got {value!r}"
        )
    return found


class TextVectorization(AdaptMixin, HostPreprocessingLayer):
    """Maps strings to sequences of token indices, or to multi-hot/count/tf-idf vectors.

    Args:
        max_tokens: the largest vocabulary, the mask ('') and OOV ('[UNK]') tokens included.
        standardize: None, 'lower_and_strip_punctuation' (default), 'lower',
            'strip_punctuation', or a callable taking a NumPy array of strings (as Keras'
            non-TensorFlow backends) and returning one of the same shape.
        split: None, 'whitespace' (default), 'character', or a callable taking one string
            and returning its list of tokens.
        ngrams: None, an int n (all n-grams of 1..n tokens) or a tuple of widths.
        output_mode: 'int' (default), 'multi_hot', 'count' or 'tf_idf' ('one_hot' too,
            with split=None).
        output_sequence_length: in 'int' mode, pad with 0 or truncate every sequence to this
            length (otherwise pad to the batch's longest).
        pad_to_max_tokens: make the encoded vectors `max_tokens` long.
        vocabulary: a list of strings or a text file with one per line (no adapt needed).
        idf_weights: for 'tf_idf' with a vocabulary: one weight per entry.
        sparse, ragged: must be False.
        encoding: the encoding of byte-string inputs.

    Input shape:
        (batch,) or (batch, 1) strings: a list, nested lists or a NumPy array.
    Output shape:
        (batch, output_sequence_length) int64 for 'int'; (batch, vocabulary size) floats
        for the others.

    >>> layer = TextVectorization(vocabulary=["earth", "wind", "and", "fire"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'earth', 'wind', 'and', 'fire']
    >>> layer(["Earth, wind and FIRE!", "wind"]).tolist()
    [[2, 3, 4, 5], [3, 0, 0, 0]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: Any = "lower_and_strip_punctuation",
        split: Any = "whitespace",
        ngrams: int | tuple[int, ...] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Any = None,
        idf_weights: Any = None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        vocabulary_size: int | None = None,
        has_input_vocabulary: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        owner = self._describe()
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        self._standardize = _resolve(standardize, _STANDARDIZE, "standardize")
        self._split = _resolve(split, _SPLIT, "split")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and ngrams >= 1)
            or (isinstance(ngrams, tuple) and all(isinstance(n, int) and n >= 1 for n in ngrams))
        ):
            raise ValueError(
                f"{owner}: ngrams must be None, an int or a tuple of ints; got {ngrams!r}"
            )
        if output_sequence_length is not None and (
            output_mode != "int" or not isinstance(output_sequence_length, int)
        ):
            raise ValueError(
                f"{owner}: output_sequence_length must be None or an int, and is only used "
                f"with output_mode='int'; got {output_sequence_length!r} with {output_mode!r}"
            )
        if output_mode == "one_hot" and self._split is not None:
            raise ValueError(
                f"{owner}: output_mode='one_hot' encodes single tokens; use it with split=None "
                "(or output_mode='int' followed by CategoryEncoding)"
            )
        if sparse or ragged:
            raise ValueError(f"{owner}: sparse and ragged outputs are not supported")
        self.ngrams = ngrams
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.sparse, self.ragged, self.encoding = sparse, ragged, encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            mask_token="",
            output_mode=output_mode,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
            has_input_vocabulary=has_input_vocabulary,
            dtype=kwargs.get("dtype"),
        )

    # ---------------------------------------------------------------- the text steps

    def _standardized(self, texts: np.ndarray) -> np.ndarray:
        if callable(self._standardize):
            result = np.asarray(self._standardize(texts.astype(str)))
            return as_host_array(result, self._describe(), self.encoding)
        lower = self._standardize in ("lower", "lower_and_strip_punctuation")
        strip = self._standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        out = np.empty(texts.shape, dtype=object)
        flat = out.reshape(-1)
        for i, text in enumerate(texts.reshape(-1).tolist()):
            if lower:
                text = text.translate(_ASCII_LOWER)
            if strip:
                text = text.translate(_NO_PUNCTUATION)
            flat[i] = text
        return out

    def _split_text(self, text: str) -> list[str]:
        if self._split == "whitespace":
            return [token for token in _ASCII_WHITESPACE.split(text) if token]
        if self._split == "character":
            return list(text)
        return [str(token) for token in self._split(text)]

    def _tokens(self, inputs: Any) -> tuple[list[list[str]], tuple[int, ...]]:
        """Rows of tokens, and the batch shape they came from."""
        texts = as_host_array(inputs, self._describe(), self.encoding)
        if texts.dtype != object:
            raise TypeError(f"{self._describe()} expects strings; got dtype {texts.dtype}")
        texts = self._standardized(texts)
        if self._split is None:
            rows = texts.reshape(-1, texts.shape[-1]) if texts.ndim > 1 else texts.reshape(-1, 1)
            batch = texts.shape[:-1] if texts.ndim > 1 else texts.shape
            rows = [list(row) for row in rows.tolist()]
        else:
            if texts.ndim > 1 and texts.shape[-1] != 1:
                raise ValueError(
                    f"{self._describe()}: to split strings the input must be (batch,) or "
                    f"(batch, 1); got shape {texts.shape}"
                )
            batch = texts.shape[:1] if texts.ndim > 1 else texts.shape
            rows = [self._split_text(text) for text in texts.reshape(-1).tolist()]
        if self._widths:
            rows = [_ngrams(row, self._widths) for row in rows]
        return rows, tuple(batch)

    # ---------------------------------------------------------------- vocabulary

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and idf weights) from strings: a list or array (one batch)
        or an iterable of batches (a generator, a DataLoader of strings)."""
        super().adapt(data, steps)

    def update_state(self, data: Any) -> None:
        """Count the tokens of one batch of strings (each string is a document)."""
        rows, _ = self._tokens(data)
        width = max((len(row) for row in rows), default=0)
        padded = np.full((len(rows), width), "", dtype=object)  # '' is the mask: not counted
        for i, row in enumerate(rows):
            padded[i, : len(row)] = row
        self._lookup_layer.update_state(padded)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary; with the special tokens ('' and '[UNK]' in 'int' mode), a token's
        position is its index."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary's size, mask and OOV indices included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (and idf weights in 'tf_idf' mode) instead of adapting."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    # ---------------------------------------------------------------- call

    def call(self, inputs: Any) -> torch.Tensor:
        rows, batch = self._tokens(inputs)
        lookup = self._lookup_layer
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is None:
                length = max((len(row) for row in rows), default=0)
            flat = lookup._lookup([token for row in rows for token in row[:length]])
            ids = torch.zeros(len(rows), length, dtype=torch.int64)
            at = 0
            for i, row in enumerate(rows):
                count = min(len(row), length)
                ids[i, :count] = torch.tensor(flat[at : at + count], dtype=torch.int64)
                at += count
            return ids.reshape(*batch, length).to(self._output_device(inputs))
        width = max((len(row) for row in rows), default=0)
        padded = np.full((len(rows), max(width, 1)), "", dtype=object)  # '' adds nothing
        for i, row in enumerate(rows):
            padded[i, : len(row)] = row
        if self.output_mode == "one_hot":
            return lookup(padded.reshape(*batch, -1)).to(self._output_device(inputs))
        out = lookup(padded)
        return out.reshape(*batch, out.shape[-1]).to(self._output_device(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        batch = tuple(input_shape)[:1]
        if self.output_mode == "int":
            return (*batch, self.output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        return (*batch, depth)

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """Keras' arguments; callables are written as their registered names, and the
        vocabulary is the current one (see `StringLookup.get_config`)."""
        config = super().get_config()
        lookup = self._lookup_layer.get_config()

        def name_of(value: Any) -> Any:
            return get_registered_name(value) if callable(value) else value

        config.update(
            max_tokens=lookup["max_tokens"],
            standardize=name_of(self._standardize),
            split=name_of(self._split),
            ngrams=self.ngrams,
            output_mode=self.output_mode,
            output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=lookup["pad_to_max_tokens"],
            sparse=self.sparse,
            ragged=self.ragged,
            vocabulary=lookup["vocabulary"],
            idf_weights=lookup["idf_weights"],
            encoding=self.encoding,
            vocabulary_size=lookup["vocabulary_size"],
        )
        if "has_input_vocabulary" in lookup:
            config["has_input_vocabulary"] = False
        return config
