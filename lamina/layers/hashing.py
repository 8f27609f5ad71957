"""Hashing (values to hash bins) and HashedCrossing (crossed features to hash bins) with
Keras' bin numbers, and the hash functions the lookup layers share (their host-side base
class is in `_host_preprocessing`).

Keras hashes through TensorFlow: FarmHash Fingerprint64 (`tf.strings.to_hash_bucket_fast`),
SipHash-2-4 keyed by `salt` (`to_hash_bucket_strong`) and `tf.sparse.cross_hashed`; the same
functions are written here in Python, so no TensorFlow is needed.

>>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
[[1], [0], [1], [1], [2]]
>>> hex(fingerprint64(b"hi"))
'0x6a5d2fba44f012f8'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._host_preprocessing import HostPreprocessingLayer, as_host_array
from .categorical import encode_categorical
from .layer import Shape

__all__ = ["HashedCrossing", "Hashing", "fingerprint64", "siphash64"]

_MASK = (1 << 64) - 1
# FarmHash's primes (farmhashna): k0, k1, k2.
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


# ---------------------------------------------------------------------- FarmHash Fingerprint64


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 8], "little")


def _rotate(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _MASK


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _mix16(u: int, v: int, mul: int) -> int:
    a = _shift_mix(((u ^ v) * mul) & _MASK)
    b = _shift_mix(((v ^ a) * mul) & _MASK)
    return (b * mul) & _MASK


def _short(data: bytes, n: int) -> int:
    """0 to 16 bytes."""
    if n >= 8:
        mul = _K2 + 2 * n
        a = (_u64(data, 0) + _K2) & _MASK
        b = _u64(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _mix16(c, d, mul)
    if n >= 4:
        first, last = (int.from_bytes(data[i : i + 4], "little") for i in (0, n - 4))
        return _mix16(n + (first << 3), last, _K2 + 2 * n)
    if n:
        y = data[0] + (data[n >> 1] << 8)
        z = n + (data[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _medium(data: bytes, n: int) -> int:
    """17 to 64 bytes."""
    mul = _K2 + 2 * n
    a = (_u64(data, 0) * (_K1 if n <= 32 else _K2)) & _MASK
    b = _u64(data, 8)
    c = (_u64(data, n - 8) * mul) & _MASK
    d = (_u64(data, n - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK
    if n <= 32:
        return _mix16(y, z, mul)
    z = _mix16(y, z, mul)
    e = (_u64(data, 16) * mul) & _MASK
    f = _u64(data, 24)
    g = ((y + _u64(data, n - 32)) * mul) & _MASK
    h = ((z + _u64(data, n - 24)) * mul) & _MASK
    return _mix16(
        (_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
        (e + _rotate((f + a) & _MASK, 18) + g) & _MASK,
        mul,
    )


def _weak32(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = (_u64(data, at + 8 * i) for i in range(4))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def _long(data: bytes, n: int) -> int:
    """More than 64 bytes: 64-byte blocks, then the last 64 bytes with a length-mixed mul."""
    x = (81 * _K2 + _u64(data, 0)) & _MASK  # seed 81
    y = (81 * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v = w = (0, 0)
    blocks_end = ((n - 1) // 64) * 64
    for at in range(0, blocks_end, 64):
        x = (_rotate((x + y + v[0] + _u64(data, at + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _u64(data, at + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _u64(data, at + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak32(data, at, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak32(data, at + 32, (z + w[1]) & _MASK, (y + _u64(data, at + 16)) & _MASK)
        x, z = z, x
    mul = _K1 + ((z & 0xFF) << 1)
    at = n - 64
    w0 = (w[0] + ((n - 1) & 63)) & _MASK
    v0 = (v[0] + w0) & _MASK
    w0 = (w0 + v0) & _MASK
    x = (_rotate((x + y + v0 + _u64(data, at + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _u64(data, at + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v0 * 9 + _u64(data, at + 40)) & _MASK
    z = (_rotate((z + w0) & _MASK, 33) * mul) & _MASK
    v = _weak32(data, at, (v[1] * mul) & _MASK, (x + w0) & _MASK)
    w = _weak32(data, at + 32, (z + w[1]) & _MASK, (y + _u64(data, at + 16)) & _MASK)
    x, z = z, x
    return _mix16(
        (_mix16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
        (_mix16(v[1], w[1], mul) + x) & _MASK,
        mul,
    )


@functools.lru_cache(maxsize=1 << 16)
def fingerprint64(data: bytes) -> int:
    """FarmHash Fingerprint64 (farmhashna::Hash64) of `data`, unsigned: TensorFlow's
    `Fingerprint64`, which Keras' Hashing and lookup layers use."""
    n = len(data)
    if n <= 16:
        return _short(data, n)
    if n <= 64:
        return _medium(data, n)
    return _long(data, n)


# ---------------------------------------------------------------------- SipHash-2-4


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK


def _sip_rounds(v: list[int], rounds: int) -> None:
    for _ in range(rounds):
        v[0] = (v[0] + v[1]) & _MASK
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & _MASK
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & _MASK
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & _MASK
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)


def siphash64(key: Sequence[int], data: bytes) -> int:
    """SipHash-2-4 of `data` with the 128-bit key (k0, k1): TensorFlow's `StrongKeyedHash`,
    used by Keras when a `salt` is given.

    >>> hex(siphash64([0x0706050403020100, 0x0F0E0D0C0B0A0908], bytes(range(15))))
    '0xa129ca6149be45e5'
    """
    k0, k1 = (int(k) & _MASK for k in key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261]
    v.append(k1 ^ 0x7465646279746573)
    n, end = len(data), len(data) - len(data) % 8
    for at in range(0, end, 8):
        m = _u64(data, at)
        v[3] ^= m
        _sip_rounds(v, 2)
        v[0] ^= m
    last = ((n & 0xFF) << 56) | int.from_bytes(data[end:], "little")
    v[3] ^= last
    _sip_rounds(v, 2)
    v[0] ^= last
    v[2] ^= 0xFF
    _sip_rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fingerprint_cat64(first: int, second: int) -> int:
    """TensorFlow's FingerprintCat64: two fingerprints combined (the feature-cross hash)."""
    mul = 0xC6A4A7935BD1E995
    result = first ^ mul
    result ^= (_shift_mix((second * mul) & _MASK) * mul) & _MASK
    result = (result * mul) & _MASK
    return _shift_mix((_shift_mix(result) * mul) & _MASK)


def hash_bucket(text: str | bytes, num_bins: int, salt: Sequence[int] | None = None) -> int:
    """A string's bin: `to_hash_bucket_fast`, or `to_hash_bucket_strong` with a salt."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    value = fingerprint64(data) if salt is None else siphash64(salt, data)
    return value % num_bins


# ---------------------------------------------------------------------- shared helpers


def _check_num_bins(owner: str, num_bins: Any) -> int:
    if not isinstance(num_bins, (int, np.integer)) or isinstance(num_bins, bool) or num_bins < 1:
        raise ValueError(f"{owner}: num_bins must be an int >= 1; got {num_bins!r}")
    return int(num_bins)


def _salt_pair(owner: str, salt: Any) -> list[int] | None:
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(f"{owner}: salt must be an int or a pair of ints; got {salt!r}")


def _output_dtypes(
    owner: str, output_mode: str, modes: tuple[str, ...], kwargs: dict[str, Any]
) -> tuple[torch.dtype, Any]:
    """Checks output_mode; Keras gives the layer dtype='int64' in 'int' mode: returns the int
    output dtype and the (float) dtype left for the base layer."""
    if output_mode not in modes:
        raise ValueError(f"{owner}: output_mode must be one of {modes}; got {output_mode!r}")
    dtype = kwargs.get("dtype")
    if isinstance(dtype, dict) and isinstance(dtype.get("config"), dict):  # a Keras policy entry
        dtype = dtype["config"].get("name", dtype)
    if output_mode != "int":
        return torch.int64, dtype
    if dtype not in (None, "int32", "int64", torch.int32, torch.int64):
        raise ValueError(f"{owner}: with output_mode='int', dtype must be 'int32' or 'int64'")
    return (torch.int32 if dtype in ("int32", torch.int32) else torch.int64), None


class Hashing(HostPreprocessingLayer):
    """Hashes strings or integers to `num_bins` bins, with Keras' (TensorFlow's) bin numbers.

    Strings are hashed with FarmHash Fingerprint64, or with SipHash-2-4 keyed by `salt`;
    integers as their decimal strings, floats after truncation to integers.

    Args:
        num_bins: the number of bins, the mask bin included when `mask_value` is set.
        mask_value: a value sent to bin 0 (the others then share bins 1 to num_bins - 1).
        salt: an int or a pair of ints: hash with SipHash keyed by it instead of FarmHash.
        output_mode: 'int' (bin numbers), 'one_hot', 'multi_hot' or 'count' (encoded as
            `CategoryEncoding` does, on the last axis).
        sparse: must be False.

    Input shape:
        any: a string, a (nested) list, a NumPy array or an integer tensor.
    Output shape:
        the input's for 'int' (int64); (..., num_bins) floats for the others.

    >>> Hashing(num_bins=3, salt=133)([["A"], ["B"], ["C"]]).tolist()
    [[0], [0], [2]]
    """

    def __init__(
        self,
        num_bins: int,
        mask_value: Any = None,
        salt: int | Sequence[int] | None = None,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        modes = ("int", "one_hot", "multi_hot", "count")
        self._int_dtype, kwargs["dtype"] = _output_dtypes("Hashing", output_mode, modes, kwargs)
        super().__init__(**kwargs)
        if sparse:
            raise ValueError(f"{self._describe()}: sparse=True is not supported")
        self.num_bins = _check_num_bins(self._describe(), num_bins)
        self.mask_value = mask_value
        self.salt = _salt_pair(self._describe(), salt)
        self.output_mode = output_mode
        self.sparse = sparse

    def _bins(self, values: np.ndarray) -> list[int]:
        bins = self.num_bins
        masked = self.mask_value is not None and bins > 1
        if masked:
            bins -= 1
        out = []
        for value in values.reshape(-1).tolist():
            if masked and value == self.mask_value:
                out.append(0)
                continue
            text = value if isinstance(value, str) else str(int(value))
            out.append(hash_bucket(text, bins, self.salt) + masked)
        return out

    def call(self, inputs: Any) -> torch.Tensor:
        values = as_host_array(inputs, self._describe())
        bins = torch.tensor(self._bins(values), dtype=torch.int64).reshape(values.shape)
        bins = bins.to(self._output_device(inputs))
        if self.output_mode == "int":
            return bins.to(self._int_dtype)
        return encode_categorical(bins, self.output_mode, self.num_bins, self._float_dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.output_mode == "int":
            return tuple(input_shape)
        return (*tuple(input_shape)[:-1], self.num_bins)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.output_mode == "int":  # Keras' int policy, serialized as its float ones
            name = str(self._int_dtype).replace("torch.", "")
            config["dtype"] = {**config["dtype"], "config": {"name": name}}
        config.update(
            num_bins=self.num_bins,
            salt=self.salt,
            mask_value=self.mask_value,
            output_mode=self.output_mode,
            sparse=self.sparse,
        )
        return config


# tf.sparse.cross_hashed's default hash key.
_CROSS_HASH_KEY = 0xDECAFCAFFE


class HashedCrossing(HostPreprocessingLayer):
    """Crosses two or more categorical features into `num_bins` bins (Keras' bin numbers:
    `tf.sparse.cross_hashed`, where strings count by their FarmHash and integers by value).

    Args:
        num_bins: the number of bins.
        output_mode: 'int' (bin numbers) or 'one_hot'.
        sparse: must be False.

    Call arguments:
        inputs: a tuple or list of 2 or more features of one shape: (), (batch,) or
            (batch, 1); strings or integers.

    Output shape:
        the features' shape for 'int' (int64); with a last axis of num_bins for 'one_hot'.

    >>> layer = HashedCrossing(num_bins=5)
    >>> layer((["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])).tolist()
    [1, 4, 1, 1, 3]
    """

    def __init__(
        self,
        num_bins: int,
        output_mode: str = "int",
        sparse: bool = False,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.update(name=name, dtype=dtype)
        modes = ("int", "one_hot")
        self._int_dtype, kwargs["dtype"] = _output_dtypes(
            "HashedCrossing", output_mode, modes, kwargs
        )
        super().__init__(**kwargs)
        if sparse:
            raise ValueError(f"{self._describe()}: sparse=True is not supported")
        self.num_bins = _check_num_bins(self._describe(), num_bins)
        self.output_mode = output_mode
        self.sparse = sparse

    def _features(self, inputs: Any) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"{self._describe()} expects a list or tuple of at least 2 features; got "
                f"{type(inputs).__name__}"
            )
        features = [as_host_array(feature, self._describe()) for feature in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                f"{self._describe()}: each feature must have shape (), (batch,) or (batch, 1); "
                f"got {shape}"
            )
        for feature in features:
            if feature.shape != shape:
                raise ValueError(
                    f"{self._describe()}: all features must have one shape; got "
                    f"{[f.shape for f in features]}"
                )
            if feature.dtype.kind not in "iuO":
                raise ValueError(
                    f"{self._describe()}: features must be integers or strings; got dtype "
                    f"{feature.dtype}"
                )
        return features

    def call(self, inputs: Any) -> torch.Tensor:
        features = self._features(inputs)
        shape = features[0].shape
        columns = [feature.reshape(-1).tolist() for feature in features]
        bins = []
        for row in zip(*columns, strict=True):
            hashed = _CROSS_HASH_KEY
            for value in row:
                part = fingerprint64(value.encode("utf-8")) if isinstance(value, str) else value
                hashed = fingerprint_cat64(hashed, int(part) & _MASK)
            bins.append(hashed % self.num_bins)
        out = torch.tensor(bins, dtype=torch.int64).reshape(shape)
        out = out.to(self._output_device(inputs[0]))
        if self.output_mode == "int":
            return out.to(self._int_dtype)
        return encode_categorical(out, "one_hot", self.num_bins, self._float_dtype)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        return (*(shape[:-1] if shape and shape[-1] == 1 else shape or (1,)), self.num_bins)

    def get_config(self) -> dict[str, Any]:
        # Keras' own dict: no trainable entry, the dtype as a name ('int64' in 'int' mode).
        int_name = str(self._int_dtype).replace("torch.", "")
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": int_name if self.output_mode == "int" else self.dtype_policy.name,
        }
