"""Categorical preprocessing layers: CategoryEncoding (integer ids to one-hot, multi-hot or
count vectors) and Discretization (floats to bin indices, with bins adapted to quantiles).

>>> import torch
>>> CategoryEncoding(num_tokens=4, output_mode="one_hot")(torch.tensor([3, 0])).tolist()
[[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]
>>> Discretization(bin_boundaries=[0.0, 1.0])(torch.tensor([[-0.5, 0.5, 2.0]])).tolist()
[[0, 1, 2]]
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config as lamina_config
from ._shape_inference import inferring_shapes
from .layer import Layer, Shape

__all__ = ["CategoryEncoding", "Discretization"]

_ENCODINGS = ("one_hot", "multi_hot", "count")


def _as_tensor(inputs: Any, owner: str = "input") -> torch.Tensor:
    if isinstance(inputs, torch.Tensor):
        return inputs
    array = np.asarray(inputs)
    if array.dtype.kind not in "biuf":  # strings: Keras' ValueError "Invalid dtype"
        raise ValueError(f"{owner} expects numbers; got an array of dtype {array.dtype}")
    return torch.as_tensor(array)


def encode_categorical(
    indices: torch.Tensor,
    output_mode: str,
    depth: int,
    dtype: torch.dtype,
    count_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integer ids in [0, depth) as one-hot, multi-hot or count vectors of size `depth`.

    'one_hot' adds an axis (or replaces a last axis of size 1); 'multi_hot' and 'count' reduce
    axis 1 of inputs of rank 2 or more (axis 0 of a vector), as Keras' torch backend does.

    >>> encode_categorical(torch.tensor([[0, 2, 2]]), "count", 4, torch.float32).tolist()
    [[1.0, 0.0, 2.0, 0.0]]
    """
    if indices.ndim == 0:
        indices = indices.reshape(1)
    indices = indices.long()
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        return F.one_hot(indices, depth).to(dtype)
    reduce_axis = 1 if indices.ndim > 1 else 0
    one_hot = F.one_hot(indices, depth)
    if output_mode == "multi_hot":
        return one_hot.amax(dim=reduce_axis).to(dtype)
    if count_weights is not None:
        dtype = count_weights.dtype
        return (one_hot.to(dtype) * count_weights.unsqueeze(-1)).sum(dim=reduce_axis)
    return one_hot.to(dtype).sum(dim=reduce_axis, dtype=dtype)  # int32 stays int32


def _check_output_mode(owner: str, output_mode: Any, allowed: Sequence[str]) -> None:
    if output_mode not in allowed:
        raise ValueError(
            f"{owner}: output_mode must be one of {tuple(allowed)}; got {output_mode!r}"
        )


def _refuse_sparse(owner: str, sparse: bool) -> None:
    if sparse:
        raise ValueError(
            f"{owner}: sparse=True is not supported (PyTorch's sparse tensors are not used by "
            "lamina, as Keras' torch backend refuses them); leave sparse=False"
        )


class CategoryEncoding(Layer):
    """Encodes integer ids (0 <= id < num_tokens) as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of distinct ids; the size of the output's last axis.
        output_mode: 'multi_hot' (default; 'binary' is accepted as its old name): one vector
            per sample with a 1 for each id present along the sample's axis; 'one_hot': one
            vector per id (a last axis of size 1 is replaced, otherwise an axis is added);
            'count': like multi_hot, with how many times each id occurs.
        sparse: must be False (sparse outputs are not supported).

    Call arguments:
        inputs: integer ids, a tensor, array or list; rank 1 or 2 (higher ranks reduce axis 1
            in the multi_hot and count modes, as Keras' torch backend does).
        count_weights: in 'count' mode, a weight per id of the inputs' shape, summed instead
            of 1s.

    Ids outside [0, num_tokens), and float ids with a fraction, raise a ValueError (Keras'
    torch backend raises for ids too large, encodes negative ids as zeros and truncates
    fractions). The check costs one host synchronisation per call; it is skipped inside
    `torch.compile`.

    Input shape:
        (batch,) or (batch, sample_length).
    Output shape:
        (batch, num_tokens); (batch, sample_length, num_tokens) for one_hot of a 2-D input.

    >>> import torch
    >>> layer = CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    >>> layer(torch.tensor([[0, 1], [3, 3]])).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """

    _convert_input_args = False  # as Keras: float ids are not cast to the compute dtype

    def __init__(
        self,
        num_tokens: int | None = None,
        output_mode: str = "multi_hot",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = self._describe()
        if output_mode == "binary":
            output_mode = "multi_hot"
        _check_output_mode(owner, output_mode, _ENCODINGS)
        if num_tokens is None:
            raise ValueError(
                f"{owner}: num_tokens must be set. If the number of tokens is not known "
                "beforehand, map the values to ids first (IntegerLookup in Keras)."
            )
        if not isinstance(num_tokens, (int, np.integer)) or isinstance(num_tokens, bool):
            raise TypeError(f"{owner}: num_tokens must be an int; got {num_tokens!r}")
        if num_tokens < 1:
            raise ValueError(f"{owner}: num_tokens must be >= 1; got {num_tokens}")
        _refuse_sparse(owner, sparse)
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = sparse

    def _check_ids(self, ids: torch.Tensor) -> None:
        bad = (ids < 0) | (ids >= self.num_tokens)
        if ids.is_floating_point():
            bad |= ids != ids.round()
        if bool(bad.any()):  # the one host synchronisation; the message is built only then
            raise ValueError(
                f"{self._describe()} expects integer ids in [0, {self.num_tokens}); got "
                f"{ids[bad].flatten()[:5].tolist()} among them. Raise num_tokens or map the "
                "ids first."
            )

    def call(self, inputs: Any, count_weights: Any = None) -> torch.Tensor:
        ids = _as_tensor(inputs, self._describe())
        checkable = ids.device.type != "meta" and not torch.compiler.is_compiling()
        if checkable and not inferring_shapes() and ids.numel():
            self._check_ids(ids)
        weights = None
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"{self._describe()}: count_weights is only used when output_mode is "
                    f"'count'; got output_mode={self.output_mode!r}"
                )
            weights = _as_tensor(count_weights).to(device=ids.device, dtype=self._compute_dtype)
            if weights.shape != ids.shape:
                raise ValueError(
                    f"{self._describe()}: count_weights must have the inputs' shape "
                    f"{tuple(ids.shape)}; got {tuple(weights.shape)}"
                )
        dtype = lamina_config.torch_dtype(self.dtype)
        return encode_categorical(ids, self.output_mode, self.num_tokens, dtype, weights)

    @property
    def _output_dtype(self) -> str:  # type: ignore[override]
        """Vectors of the layer's dtype from integer ids, as eagerly (Keras' float32)."""
        return self.dtype

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """As Keras: one vector for ids of rank 0 or, in multi_hot and count modes, 1."""
        shape = tuple(input_shape)
        if len(shape) == 0 or (len(shape) == 1 and self.output_mode != "one_hot"):
            return (self.num_tokens,)
        return super().compute_output_shape(input_shape)

    compute_output_shape._numbers_only = True  # type: ignore[attr-defined]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # As Keras: no sparse entry (sparse output is refused here, so it is always False).
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode)
        return config


# ---------------------------------------------------------------------- quantile summaries
# Discretization.adapt follows Keras' approximation: each batch is reduced to about
# 1/epsilon (value, weight) pairs taken at even steps of its sorted values; summaries are
# merged by sorting and compressed back by interpolating the cumulative weights.


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """NumPy's `interp` (float64): `fp` linearly interpolated at `x` over increasing `xp`,
    clamped to fp[0] and fp[-1] outside, fp[j] where x equals xp[j] (the last such j)."""
    j = torch.searchsorted(xp, x, right=True) - 1
    last = xp.numel() - 1
    low = j.clamp(0, max(last - 1, 0))
    high = (low + 1).clamp(max=last)
    slope = (fp[high] - fp[low]) / (xp[high] - xp[low])
    between = slope * (x - xp[low]) + fp[low]
    out = torch.where(xp[j.clamp(min=0)] == x, fp[j.clamp(min=0)], between)
    out = torch.where(j < 0, fp[0], out)
    return torch.where(j >= last, fp[last], out)


def _running_sum(weights: torch.Tensor) -> torch.Tensor:
    """float32 running sums, added one value at a time as NumPy's float32 cumsum does (torch's
    cumsum accumulates in float64, which changes the last bits and so the boundaries).

    Each sum is taken in float64 and stored into a float32 array: for two float32 operands
    that double rounding is exact float32 addition (53 >= 2 * 24 + 2 bits), and a plain
    Python loop over floats is ~20x faster than one over 0-d tensors.
    """
    sums = array("f", bytes(4 * weights.numel()))
    total = 0.0
    for index, weight in enumerate(weights.tolist()):
        sums[index] = total + weight
        total = sums[index]
    return torch.frombuffer(sums, dtype=torch.float32).clone() if sums else weights.clone()


def _summarize(values: torch.Tensor, epsilon: float) -> torch.Tensor:
    """(2, k) float32: every step-th sorted value (step = max(n * epsilon, 1)) and its weight."""
    values = values.reshape(-1).sort().values
    step = max(values.numel() / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1) :: int(step)]
    return torch.stack([boundaries, torch.full_like(boundaries, step)])


def _compress_summary(summary: torch.Tensor, epsilon: float) -> torch.Tensor:
    """About 1/epsilon pairs at even cumulative-weight percents, interpolated."""
    if summary.shape[1] * epsilon < 1:
        return summary
    count = math.ceil(1.0 / epsilon)  # np.arange(0.0, 1.0, epsilon)'s length
    percents = epsilon + torch.arange(count, dtype=torch.float64) * epsilon
    cumulative = _running_sum(summary[1])
    fractions = (cumulative / cumulative[-1]).to(torch.float64)
    bins = _interp(percents, fractions, summary[0].to(torch.float64))
    weights = _interp(percents, fractions, cumulative.to(torch.float64))
    weights = weights - torch.cat([weights.new_zeros(1), weights[:-1]])
    return torch.stack([bins, weights]).to(torch.float32)


def _merge_summaries(first: torch.Tensor, second: torch.Tensor, epsilon: float) -> torch.Tensor:
    merged = torch.cat([first, second], dim=1)
    order = merged[0].argsort(stable=True)
    return _compress_summary(merged[:, order], epsilon)


class Discretization(Layer):
    """Maps floats to the index of the bin they fall in (bins given, or adapted to data).

    A value x goes to bin i when bin_boundaries[i - 1] <= x < bin_boundaries[i]: values below
    the first boundary go to bin 0, values from the last boundary on to the last bin.

    Args:
        bin_boundaries: increasing boundaries; n boundaries make n + 1 bins.
        num_bins: the number of bins to find with `adapt()` (instead of bin_boundaries).
        epsilon: the error tolerance of adapt's quantile approximation (about 1/epsilon values
            are kept per batch).
        output_mode: 'int' (bin indices, int32), 'one_hot', 'multi_hot' or 'count' (the
            indices encoded as `CategoryEncoding` does, with len(bin_boundaries) + 1 tokens).
        sparse: must be False (sparse outputs are not supported).

    Input shape:
        any; the inputs are cast to the layer's float type.
    Output shape:
        the input's for 'int'; see `CategoryEncoding` for the others.

    >>> import numpy as np
    >>> layer = Discretization(num_bins=4, epsilon=0.01)
    >>> layer.adapt(np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]]))
    >>> [round(b, 4) for b in layer.bin_boundaries]
    [0.0, 0.5, 1.3]
    >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]])).tolist()
    [[0, 2, 3, 2]]
    """

    # Keras 3.15.1's order of the get_config() keys
    _config_order = "bin_boundaries num_bins epsilon output_mode sparse name dtype"
    _convert_input_args = False  # call casts the inputs to floatx (Keras' input_dtype)

    def __init__(
        self,
        bin_boundaries: Sequence[float] | None = None,
        num_bins: int | None = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        sparse: bool = False,
        dtype: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=dtype, name=name, **kwargs)
        owner = self._describe()
        _refuse_sparse(owner, sparse)
        _check_output_mode(owner, output_mode, ("int", *_ENCODINGS))
        if num_bins is not None and (not isinstance(num_bins, (int, np.integer)) or num_bins < 1):
            raise ValueError(f"{owner}: num_bins must be an int >= 1; got {num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                f"{owner}: set either num_bins or bin_boundaries, not both; got "
                f"num_bins={num_bins} and bin_boundaries={list(bin_boundaries)}"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError(f"{owner}: set num_bins (then call adapt()) or bin_boundaries")
        if not 0 < epsilon <= 1:
            raise ValueError(f"{owner}: epsilon must be in (0, 1]; got {epsilon!r}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = epsilon
        self.output_mode = output_mode
        # As Keras: int32 bin indices, or encoded in the compute dtype (an int policy too).
        self._output_dtype = "int32" if output_mode == "int" else self.compute_dtype
        self.sparse = sparse
        self.summary = torch.zeros(2, 0) if bin_boundaries is None else None

    @property
    def bin_boundaries(self) -> list[float] | None:
        return self._bin_boundaries

    @bin_boundaries.setter
    def bin_boundaries(self, value: Sequence[float] | None) -> None:
        if value is not None:
            floats = [float(b) for b in np.asarray(value, dtype=np.float64).reshape(-1)]
            if any(later < earlier for earlier, later in zip(floats, floats[1:], strict=False)):
                raise ValueError(
                    f"{self._describe()}: bin_boundaries must be increasing; got {floats}"
                )
            # A list or tuple stays as given (Keras' attribute and config: [1, 3] keeps ints).
            flat = isinstance(value, (list, tuple)) and len(value) == len(floats)
            value = value if flat else floats
        self.__dict__["_bin_boundaries"] = value
        self.__dict__["_boundary_tensors"] = {}

    def _boundaries_on(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (device, dtype)
        cache = self.__dict__["_boundary_tensors"]
        if key not in cache:
            cache[key] = torch.tensor(self._bin_boundaries, dtype=dtype, device=device)
        return cache[key]

    @property
    def _depth(self) -> int:
        if self._bin_boundaries is not None:
            return len(self._bin_boundaries) + 1
        return int(self.num_bins or 0)

    # ---------------------------------------------------------------- adapt

    def reset_state(self) -> None:
        """Forget what `update_state` has seen (adapted layers only)."""
        if self.num_bins is not None:
            self.summary = torch.zeros(2, 0)

    def update_state(self, data: Any) -> None:
        """Add one batch of values to the quantile summary."""
        values = _as_tensor(data, self._describe()).detach().to("cpu", torch.float32)
        batch = _summarize(values, self.epsilon)
        self.summary = _merge_summaries(batch, self.summary, self.epsilon)

    def finalize_state(self) -> None:
        """Set bin_boundaries from the summary: num_bins - 1 quantile boundaries."""
        if self.num_bins is None:
            return
        if self.summary is None or self.summary.shape[1] == 0:
            raise ValueError(f"{self._describe()}.adapt() got no values")
        summary = _compress_summary(self.summary, 1.0 / self.num_bins)
        self.bin_boundaries = summary[0, :-1].tolist()

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Find `num_bins - 1` boundaries at the data's quantiles (approximately, as Keras).

        Args:
            data: a NumPy array or tensor (one batch), or an iterable of batches (arrays,
                tensors, or (x, y) tuples whose x is used), e.g. a list or a DataLoader.
            steps: the number of batches to read from an iterable (default: all).
        """
        if self.num_bins is None:
            raise ValueError(
                f"{self._describe()} was given bin_boundaries, so it cannot be adapted; create "
                "it with num_bins to adapt it"
            )
        if isinstance(data, (np.ndarray, torch.Tensor)):
            batches: Iterable[Any] = [data]
        elif isinstance(data, Iterable) and not isinstance(data, (str, bytes, dict)):
            batches = data
        else:
            raise TypeError(
                f"{self._describe()}.adapt() expects a NumPy array, a tensor or an iterable of "
                f"batches; got {type(data).__name__}"
            )
        self.reset_state()
        for index, batch in enumerate(batches):
            if steps is not None and index >= steps:
                break
            if isinstance(batch, (tuple, list)) and not isinstance(data, list):
                batch = batch[0]
            self.update_state(batch)
        self.finalize_state()

    # ---------------------------------------------------------------- call

    def call(self, inputs: Any) -> torch.Tensor:
        if self._bin_boundaries is None:
            raise ValueError(
                f"{self._describe()} has no bins yet: pass bin_boundaries when creating it, or "
                "call adapt(data) first"
            )
        values = _as_tensor(inputs, self._describe())
        floatx = lamina_config.torch_dtype(lamina_config.floatx())  # Keras' input dtype
        if values.dtype != floatx:
            values = values.to(floatx)
        boundaries = self._boundaries_on(values.device, values.dtype)
        indices = torch.bucketize(values, boundaries, right=True).to(torch.int32)
        if self.output_mode == "int":
            return indices
        dtype = lamina_config.torch_dtype(self.compute_dtype)
        return encode_categorical(indices, self.output_mode, self._depth, dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Keras' rule, which needs no bins (so a model can be built before adapt)."""
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            if len(shape) > 1 and shape[-1] == 1:
                return (*shape[:-1], self._depth)
            return (*shape, self._depth)
        if len(shape) >= 2:
            return (shape[0], *shape[2:], self._depth)
        return (self._depth,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            bin_boundaries=self._bin_boundaries,
            num_bins=self.num_bins,
            epsilon=self.epsilon,
            output_mode=self.output_mode,
            sparse=self.sparse,
        )
        config["dtype"] = self.dtype  # the variable dtype's name, as Keras writes it
        if self.trainable:  # Keras' config has no trainable entry (nothing to train)
            del config["trainable"]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Discretization:
        """Rebuild from `get_config()`; an adapted layer's config has both num_bins and
        bin_boundaries, which the constructor refuses together, so the boundaries are set after."""
        config = dict(config)
        boundaries = config.get("bin_boundaries")
        if boundaries is not None and config.get("num_bins") is not None:
            del config["bin_boundaries"]
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)
