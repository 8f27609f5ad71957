"""StringLookup and IntegerLookup: tokens to indices (or back with `invert=True`), with a
vocabulary given or learned by `adapt()`, as Keras'.

In 'int' mode the mask token (if any) is index 0, then `num_oov_indices` OOV indices, then
the vocabulary; in the other modes the mask token takes no index and adds nothing. `adapt()`
orders tokens by count, ties by the tokens themselves, both from high to low.

>>> layer = StringLookup()
>>> layer.adapt([["a", "c", "d"], ["d", "z", "b"]])
>>> layer.get_vocabulary(), layer([["a", "d", "q"]]).tolist()
(['[UNK]', 'd', 'z', 'c', 'b', 'a'], [[5, 1, 0]])
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import torch

from ._host_preprocessing import (
    AdaptMixin,
    HostPreprocessingLayer,
    as_host_array,
    encode_ids,
    encoded_shape,
    listify,
)
from .hashing import _salt_pair, hash_bucket
from .layer import Shape

__all__ = ["IntegerLookup", "StringLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(AdaptMixin, HostPreprocessingLayer):
    """The shared base of StringLookup and IntegerLookup (arguments: see StringLookup)."""

    _is_string = True

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: Any = None,
        oov_token: Any = None,
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        vocabulary_size: int | None = None,
        has_input_vocabulary: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = self._describe()
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        checks = (
            (output_mode in _MODES, f"output_mode must be one of {_MODES}; got {output_mode!r}"),
            (max_tokens is None or max_tokens > 1, f"max_tokens must be > 1; got {max_tokens}"),
            (max_tokens is not None or not pad_to_max_tokens, "pad_to_max_tokens needs max_tokens"),
            (num_oov_indices >= 0, f"num_oov_indices must be >= 0; got {num_oov_indices}"),
            (oov_method in ("floormod", "farmhash"), f"unknown oov_method {oov_method!r}"),
            (
                salt is None or self._is_string or oov_method == "farmhash",
                "salt is only used with oov_method='farmhash'",
            ),
            (not invert or output_mode == "int", "invert=True needs output_mode='int'"),
            (not sparse, "sparse=True is not supported (dense outputs only)"),
            (
                idf_weights is None or output_mode == "tf_idf",
                "idf_weights is only used with output_mode='tf_idf'",
            ),
        )
        for passed, message in checks:
            if not passed:
                raise ValueError(f"{owner}: {message}")
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = _salt_pair(owner, salt)
        self._frozen_vocab_size = vocabulary_size
        self._has_input_vocabulary = (
            vocabulary is not None if has_input_vocabulary is None else has_input_vocabulary
        )
        # Keras' config repeats a vocabulary given here (not a file) as given; an adapted or
        # file vocabulary goes into the config whole, special tokens first.
        given = has_input_vocabulary is not False and not isinstance(vocabulary, (str, type(None)))
        self._input_vocabulary = listify(vocabulary) if given else None
        self._input_idf_weights = listify(idf_weights) if given else None
        self._tokens: list[Any] = []
        self._index: dict[Any, int] = {}
        self.register_buffer("idf_weights", None, persistent=False)
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ---------------------------------------------------------------- vocabulary

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The vocabulary's size, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The vocabulary; with the special tokens, a token's position is its index."""
        if not include_special_tokens:
            return list(self._tokens)
        specials = [self.mask_token] * self._oov_start_index()
        return specials + [self.oov_token] * self.num_oov_indices + list(self._tokens)

    def _token(self, value: Any) -> Any:
        return str(value) if self._is_string else int(value)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (a list, array or text file path, with or without the leading
        special tokens) and, in 'tf_idf' mode, the idf weights (one per token)."""
        owner = self._describe()
        if (self.output_mode == "tf_idf") != (idf_weights is not None):
            raise ValueError(f"{owner}: idf_weights is needed with output_mode='tf_idf' only")
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding="utf-8") as file:
                vocabulary = file.read().splitlines()
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        values = [self._token(v) for v in as_host_array(vocabulary, owner).reshape(-1).tolist()]
        if not values:
            raise ValueError(f"{owner}: cannot set an empty vocabulary")
        start = self._token_start_index()
        specials = self.get_vocabulary()[:start]
        found_specials = values[:start] == specials
        tokens = values[start:] if found_specials else values
        repeated = sorted({t for t, n in Counter(tokens).items() if n > 1}, key=str)
        if repeated:
            raise ValueError(f"{owner}: the vocabulary repeats {repeated}; make it unique")
        for special, name in ((self.mask_token, "mask"), (self.oov_token, "OOV")):
            if special is None or special not in tokens or (name == "OOV" and not self.invert):
                continue
            raise ValueError(
                f"{owner}: the {name} token {special!r} is inside the vocabulary; leave the "
                f"special tokens out, or put them first in this order: {specials}"
            )
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{owner}: the vocabulary has {start + len(tokens)} entries with the special "
                f"tokens; max_tokens is {self.max_tokens}"
            )
        self._set_tokens(tokens)
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if len(weights) != len(values):
                raise ValueError(
                    f"{owner}: idf_weights has {len(weights)} values for a vocabulary of "
                    f"{len(values)}"
                )
            if not found_specials:  # the special tokens get the mean weight
                weights = np.concatenate([np.full(start, weights.mean()), weights])
            self._set_idf(weights)

    def _set_tokens(self, tokens: list[Any]) -> None:
        self._tokens = tokens
        start = self._token_start_index()
        self._index = {token: start + i for i, token in enumerate(tokens)}
        size, frozen = self.vocabulary_size(), self._frozen_vocab_size
        if self.output_mode != "int" and not self.pad_to_max_tokens and frozen not in (None, size):
            raise RuntimeError(
                f"{self._describe()}: with output_mode={self.output_mode!r} and "
                "pad_to_max_tokens=False the vocabulary size cannot change; it was "
                f"{self._frozen_vocab_size}, now {size}"
            )
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf(self, weights: np.ndarray) -> None:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.pad(weights, (0, max(self.max_tokens - len(weights), 0)))
        device = self._device_anchor.device
        self.idf_weights = torch.tensor(weights, dtype=self._float_dtype, device=device)

    # ---------------------------------------------------------------- adapt

    def reset_state(self) -> None:
        """Forget the counts `update_state` gathered."""
        self._counts: Counter[Any] = Counter()
        self._document_counts: Counter[Any] = Counter()
        self._num_documents = 0

    def update_state(self, data: Any) -> None:
        """Count the tokens of one batch (each row is a document for 'tf_idf')."""
        if self._has_input_vocabulary:
            raise ValueError(f"{self._describe()} was given a vocabulary: it cannot be adapted")
        values = as_host_array(data, self._describe())
        values = values.reshape(1, -1) if values.ndim < 2 else values.reshape(len(values), -1)
        documents = [[self._token(v) for v in row] for row in values.tolist()]
        for document in documents:
            self._counts.update(document)
            self._document_counts.update(set(document))
        self._num_documents += len(documents)

    def finalize_state(self) -> None:
        """Build the vocabulary from the counts: most frequent first, ties high to low."""
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        order = sorted(self._counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens:
            order = order[: self.max_tokens - self._token_start_index()]
        tokens = [token for token, _ in order]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            n = self._num_documents
            weights = [math.log(1 + n / (1 + self._document_counts[t])) for t in tokens]
            weights32 = np.asarray(weights, dtype=np.float32)  # float64 math, float32 kept
            mean = np.float32(weights32.mean(dtype=np.float64)) if len(tokens) else 0.0
            start = np.full(self._token_start_index(), mean, dtype=np.float32)
            self._set_idf(np.concatenate([start, weights32]))
        self.reset_state()

    def _one_batch(self, data: Any) -> np.ndarray:
        values = as_host_array(data, self._describe())  # a 1-D batch: one token per row
        return values.reshape(-1, 1) if values.ndim == 1 else values

    # ---------------------------------------------------------------- call

    def _oov_bins(self, values: list[Any]) -> list[int]:
        count, start = self.num_oov_indices, self._oov_start_index()
        if not self._is_string and self.oov_method == "floormod":
            return [start + v % count for v in values]
        return [start + hash_bucket(str(v), count, self.salt) for v in values]

    def _lookup(self, values: list[Any]) -> list[int]:
        """Indices of host values (-1 for masked ones outside 'int' mode)."""
        mask_index = 0 if self.output_mode == "int" else -1
        default = self._oov_start_index() if self.num_oov_indices == 1 else -2
        ids = [mask_index if v == self.mask_token else self._index.get(v, default) for v in values]
        missing = [i for i, position in enumerate(ids) if position == -2]
        if missing and self.num_oov_indices == 0:
            raise ValueError(
                f"{self._describe()}: with num_oov_indices=0 every input must be in the "
                f"vocabulary; found {[values[i] for i in missing[:5]]}. Set num_oov_indices=1."
            )
        for i, position in zip(missing, self._oov_bins([values[i] for i in missing]), strict=True):
            ids[i] = position
        return ids

    def _invert(self, indices: torch.Tensor) -> Any:
        vocabulary = self.get_vocabulary()
        size = len(vocabulary)
        values = indices.detach().cpu().reshape(-1).tolist()
        tokens = [vocabulary[i] if 0 <= i < size else self.oov_token for i in values]
        if self._is_string:
            return np.array(tokens, dtype=object).reshape(tuple(indices.shape))
        return torch.tensor(tokens, dtype=torch.int64, device=indices.device).reshape(indices.shape)

    def call(self, inputs: Any) -> Any:
        if self.invert:
            indices = inputs if isinstance(inputs, torch.Tensor) else as_host_array(inputs, "")
            return self._invert(torch.as_tensor(indices).long())
        fixed = self.output_mode != "int" and not self.pad_to_max_tokens
        if fixed and self._frozen_vocab_size is None:
            raise RuntimeError(f"{self._describe()}: set a vocabulary or adapt() before the call")
        ids = self._ids(inputs)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encode_ids(
            ids, self.output_mode, int(depth or 0), self._float_dtype, self.idf_weights
        )

    def _ids(self, inputs: Any) -> torch.Tensor:
        values = as_host_array(inputs, self._describe())
        if (values.dtype == object) != self._is_string or values.dtype.kind == "f":
            kind = "strings" if self._is_string else "integers"
            raise TypeError(f"{self._describe()} expects {kind}; got dtype {values.dtype}")
        flat = [self._token(v) for v in values.reshape(-1).tolist()]
        ids = torch.tensor(self._lookup(flat), dtype=torch.int64).reshape(values.shape)
        return ids.to(self._output_device(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encoded_shape(tuple(input_shape), self.output_mode, depth)

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """Keras' arguments; `vocabulary` is the current one with its special tokens (so an
        adapted layer rebuilds from its config), `idf_weights` likewise."""
        config = super().get_config()
        vocabulary = self.get_vocabulary() if self._tokens else None
        weights = self.idf_weights
        idf = None if weights is None or not vocabulary else weights[: len(vocabulary)].tolist()
        if self._input_vocabulary is not None:
            vocabulary, idf = self._input_vocabulary, self._input_idf_weights
        config.update(
            invert=self.invert,
            max_tokens=self.max_tokens,
            num_oov_indices=self.num_oov_indices,
            oov_token=self.oov_token,
            mask_token=self.mask_token,
            output_mode=self.output_mode,
            sparse=self.sparse,
            pad_to_max_tokens=self.pad_to_max_tokens,
            idf_weights=idf,
            vocabulary=vocabulary,
            vocabulary_size=self._frozen_vocab_size,
            oov_method=self.oov_method,
            salt=self.salt,
        )
        if vocabulary is not None and not self._has_input_vocabulary:
            config["has_input_vocabulary"] = False  # adapted: it may be adapted again
        return config


class StringLookup(IndexLookup):
    """Maps strings to indices in a vocabulary (given, or learned by `adapt()`).

    Args:
        max_tokens: the largest vocabulary size, special tokens included (None: no limit).
        num_oov_indices: out-of-vocabulary indices; with more than 1, OOV strings are hashed
            (FarmHash, or SipHash with `salt`) to one of them; with 0 they raise an error.
        mask_token: a token for masked inputs: index 0 in 'int' mode, dropped otherwise.
        oov_token: the token `invert=True` returns for OOV indices.
        vocabulary: a list or array of strings, or a text file with one per line.
        idf_weights: for 'tf_idf', one weight per vocabulary entry.
        invert: map indices back to strings (a NumPy object array of `str`).
        output_mode: 'int' (int64 indices), 'one_hot', 'multi_hot', 'count' or 'tf_idf'
            (float vectors of the vocabulary's size, on the last axis).
        pad_to_max_tokens: make the encoded vectors `max_tokens` long.
        sparse: must be False. encoding: the encoding of byte-string inputs.
        salt: an int or a pair of ints: hash OOV strings with SipHash keyed by it.

    Input shape:
        strings of any shape (a string, nested lists, a NumPy array).
    Output shape:
        the input's for 'int'; for the others as `CategoryEncoding`'s, on the last axis.

    >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=2)
    >>> layer([["a", "c", "d"], ["m", "z", "b"]]).tolist()
    [[2, 4, 5], [0, 1, 3]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        salt: Any = None,
        **kwargs: Any,
    ) -> None:
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            **kwargs,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Maps integers to indices in a vocabulary (given, or learned by `adapt()`).

    Arguments as `StringLookup`'s, with integer tokens (`oov_token` -1 by default), plus
    `vocabulary_dtype` ('int64' only, as Keras) and `oov_method`: how OOV integers pick one of
    several OOV indices, 'floormod' (`value % num_oov_indices`) or 'farmhash' (the FarmHash of
    the decimal string, or SipHash with `salt`).

    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    _is_string = False
    # Keras 3.15.1's order of the get_config() keys (IndexLookup's)
    _config_order = (
        "invert max_tokens num_oov_indices oov_token mask_token output_mode sparse "
        "pad_to_max_tokens vocabulary_dtype idf_weights vocabulary vocabulary_size oov_method salt"
    )

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Any = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if vocabulary_dtype != "int64":
            raise ValueError(
                f"IntegerLookup: only vocabulary_dtype='int64' is supported; got "
                f"{vocabulary_dtype!r}"
            )
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=None if mask_token is None else int(mask_token),
            oov_token=None if oov_token is None else int(oov_token),
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}
        if config["vocabulary"] is not None:  # Keras writes ints
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
